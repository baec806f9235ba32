"""The status query: the merchant's server asks, by reference number, what
the gateway decided, as the production gateway's transaction search lets it.

The query is signed like a checkout request (``access_key``, ``profile_id``,
``reference_number``, ``signed_date_time``, all named in
``signed_field_names``); the answer is JSON, ``{"transactions": [...]}``,
each item the very signed response the notification carried, oldest first.
An undecided checkout is not in it.
"""

from datetime import datetime

from .checkout import SIGNED_DATE_TIME_FORMAT
from .signing import is_signed

QUERY_FIELDS = ('access_key', 'profile_id', 'reference_number', 'signed_date_time')


class QueryRefused(Exception):
    """A status query the gateway does not answer; for the merchant's server, in English."""


def read_query(post, profile):
    """The reference number a signed status query asks about, or QueryRefused."""
    fields = {}
    for name, value in post.items():
        if name in fields:
            raise QueryRefused('field %s sent more than once' % name)
        fields[name] = value
    for name in (*QUERY_FIELDS, 'signed_field_names', 'signature'):
        if not fields.get(name):
            raise QueryRefused('no %s field' % name)
    if (fields['profile_id'], fields['access_key']) != (profile.profile_id, profile.access_key):
        raise QueryRefused('unknown profile or access key')
    if not is_signed(fields, profile.secret_key):
        raise QueryRefused('bad signature')
    signed = fields['signed_field_names'].split(',')
    if any(name not in signed for name in QUERY_FIELDS):
        raise QueryRefused('the fields %s must be signed' % ', '.join(QUERY_FIELDS))
    try:
        datetime.strptime(fields['signed_date_time'], SIGNED_DATE_TIME_FORMAT)
    except ValueError:
        raise QueryRefused('bad signed_date_time') from None
    return fields['reference_number']
