"""The people the settings name as the first editors and administrators.

``occi.initial_admins`` and ``occi.initial_editors`` list civil IDs (spaces
or commas between them).  An account with such a civil ID gets the role when
it logs in (``apply_initial_roles``), once: the account remembers the roles
the settings gave it, so a role an administrator takes away in /manage stays
away.  Removing a civil ID from the settings does not take the role away:
that is done in /manage.  An account from before it remembered them gets
the roles the settings name at its next login, once more.
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
    """Grant ``account`` the roles the settings name it for that they have not
    given it before; returns those it did not have yet."""
    given = [
        role
        for role in initial_roles(settings, account.civil_id)
        if role not in account.roles_from_settings
    ]
    if not given:
        return []
    granted = [role for role in given if role not in account.roles]
    for role in granted:
        account.grant(role)
    account.roles_from_settings = (*account.roles_from_settings, *given)
    return granted
