"""The people the settings name as the first editors and administrators.

``occi.initial_admins`` and ``occi.initial_editors`` list civil IDs (spaces
or commas between them).  An account with such a civil ID gets the role when
it logs in (``apply_initial_roles``).  Removing a civil ID from
the settings does not take the role away: that is done in /manage.
"""

import re

INITIAL_ROLE_SETTINGS = (
    ('admin', 'occi.initial_admins'),
    ('editor', 'occi.initial_editors'),
)


def _civil_ids(value):
    return {civil_id for civil_id in re.split(r'[\s,]+', value or '') if civil_id}


def initial_roles(settings, civil_id):
    """The roles the settings give ``civil_id``."""
    return [
        role for role, key in INITIAL_ROLE_SETTINGS if civil_id in _civil_ids(settings.get(key))
    ]


def apply_initial_roles(settings, account):
    """Grant ``account`` the roles the settings name it for; returns those it
    did not have yet."""
    granted = [
        role for role in initial_roles(settings, account.civil_id) if role not in account.roles
    ]
    for role in granted:
        account.grant(role)
    return granted
