"""Sample chamber records for development: the memberships of DESIGN §4."""

import json
from datetime import date
from importlib import resources

from .company import Company, Membership


def seed_sample_memberships(site):
    """Add the sample companies and memberships that are not there yet."""
    text = resources.files(__package__).joinpath('sample_memberships.json').read_text('utf-8')
    companies = site['companies']
    for record in json.loads(text)['memberships']:
        if record['cr_number'] in companies:
            continue
        company = companies.add(
            record['cr_number'],
            Company(
                record['cr_number'],
                record['name_en'],
                record['name_ar'],
                address=record['address'],
                email=record['email'],
            ),
        )
        companies.set_membership(
            company,
            Membership(
                record['occi_number'], record['grade'], date.fromisoformat(record['expires_on'])
            ),
        )
