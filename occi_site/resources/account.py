"""Member accounts, keyed by civil ID, with unique e-mail and mobile indexes."""

import secrets
from datetime import UTC, datetime

from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.authorization import Allow

from .folder import Folder
from .search import NameIndex, index_account, unindex_account

ROLES = ('member', 'editor', 'admin')
# What the account may do: changing any of these renews the security stamp.
SECURITY_ATTRIBUTES = frozenset({'state', 'roles'})


class Account(Persistent):
    """A person registered on the portal.

    ``state`` is ``pending`` until both e-mail and mobile are verified, then
    ``active``; an administrator may set it to ``locked``.

    ``security_stamp`` changes whenever ``state`` or ``roles`` change, however
    they are changed; a session started under another stamp is over.
    """

    __name__ = None
    __parent__ = None
    security_stamp = ''

    def __init__(self, civil_id, full_name, email, mobile, language='en'):
        self.civil_id = civil_id
        self.full_name = full_name
        self.email = email
        self.mobile = mobile
        self.language = language
        self.state = 'pending'
        self.roles = ('member',)
        self.created = datetime.now(UTC)
        self.registration = None

    def __setattr__(self, name, value):
        if name in SECURITY_ATTRIBUTES and getattr(self, name, None) != value:
            super().__setattr__('security_stamp', secrets.token_hex(8))
        super().__setattr__(name, value)

    @property
    def __acl__(self):
        return [(Allow, self.civil_id, 'view')]

    @property
    def is_active(self):
        return self.state == 'active'

    def grant(self, role):
        if role not in ROLES:
            raise ValueError('unknown role %r' % role)
        if role not in self.roles:
            self.roles = (*tuple(self.roles), role)

    def revoke(self, role):
        self.roles = tuple(r for r in self.roles if r != role)


class Accounts(Folder):
    """All accounts; ``by_email`` and ``by_mobile`` keep those unique, and
    ``name_index`` holds the words of full names for the administrators'
    search (see ``search.py``)."""

    def __init__(self, title=''):
        super().__init__(title)
        self.by_email = OOBTree()
        self.by_mobile = OOBTree()
        self.name_index = NameIndex()

    def add(self, name, account):
        super().add(name, account)
        self.by_email[account.email.lower()] = name
        self.by_mobile[account.mobile] = name
        index_account(self, account)
        return account

    def remove(self, name):
        account = super().remove(name)
        unindex_account(self, account)
        for index, value in (
            (self.by_email, account.email.lower()),
            (self.by_mobile, account.mobile),
        ):
            if index.get(value) == name:
                del index[value]
        return account

    def find_by_email(self, email):
        name = self.by_email.get(email.lower())
        return None if name is None else self[name]

    def find_by_mobile(self, mobile):
        name = self.by_mobile.get(mobile)
        return None if name is None else self[name]
