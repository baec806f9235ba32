"""Member accounts, keyed by civil ID, with unique e-mail and mobile indexes."""

import secrets
from datetime import UTC, datetime

from BTrees.OOBTree import OOBTree
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow

from ..events import AccountRegistered, ContactChanged, announce
from ..i18n import _
from .compact import CompactState
from .folder import Folder, Located
from .search import NameIndex, index_account, unindex_account
from .types import Column, content_type, portal_title, titled
from .verification import AddressCheck

ROLES = ('member', 'editor', 'admin', 'finance')
# What the account may do: changing any of these renews the security stamp.
SECURITY_ATTRIBUTES = frozenset({'state', 'roles'})
CHANNELS = ('email', 'mobile')


class AccountStateError(ValueError):
    """A change of state that the account's state does not allow."""


class RegistrationRefused(ValueError):
    """A proven registration that cannot become an account; ``field`` says why:
    'civil_id' (already registered), 'email' or 'mobile' (held by another account)."""

    def __init__(self, field):
        super().__init__(field)
        self.field = field


class ContactTaken(RegistrationRefused):
    """An e-mail or mobile (``field``) that another account holds."""


ACCOUNT_STATE_TITLES = {
    'active': _('Active'),
    'locked': _('Locked'),
}
ACCOUNT_COLUMNS = (
    Column(_('Full name'), lambda account, lang: account.full_name),
    Column(_('State'), titled(ACCOUNT_STATE_TITLES, 'state')),
)


@content_type('account', _('Account'), label=lambda account, lang: account.full_name)
class Account(CompactState, Located):
    """A person registered on the portal.

    An account is made ``new`` from a registration whose civil ID was proven at
    the PKI, and at once activated; an administrator may lock and unlock it.
    ``contacts_proven_at`` is when its e-mail and mobile were last confirmed by
    the civil ID's holder (None for accounts from before registration ended
    with a PKI login, until their holder confirms or replaces them).
    ``contact_changes`` holds the new e-mail or mobile a member is proving.

    ``security_stamp`` changes whenever ``state`` or ``roles`` change, however
    they are changed; a session started under another stamp is over.
    """

    security_stamp = ''
    contacts_proven_at = None
    contact_changes = {}
    # The roles occi.initial_admins and occi.initial_editors gave (roles.py).
    roles_from_settings = ()
    # In the order their values are pickled (compact.py).
    stored = (
        'civil_id',
        'full_name',
        'email',
        'mobile',
        'language',
        'state',
        'roles',
        'created',
        'security_stamp',
        'contacts_proven_at',
        'contact_changes',
        '__name__',
        '__parent__',
        'roles_from_settings',
    )
    utc_times = frozenset({'created', 'contacts_proven_at'})

    def __init__(self, civil_id, full_name, email, mobile, language='en'):
        self.civil_id = civil_id
        self.full_name = full_name
        self.email = email
        self.mobile = mobile
        self.language = language
        self.state = 'new'
        self.roles = ('member',)
        self.created = datetime.now(UTC)

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

    def _move(self, sources, target):
        if self.state not in sources:
            raise AccountStateError('%s is not possible from %r' % (target, self.state))
        self.state = target

    def activate(self, now):
        """A new account whose civil ID was just proven at the PKI, with its contacts."""
        self._move(('new',), 'active')
        self.contacts_proven_at = now

    def lock(self):
        self._move(('active',), 'locked')

    def unlock(self):
        self._move(('locked',), 'active')

    def confirm_contacts(self, now):
        """The holder, logged in through the PKI, says the e-mail and mobile are theirs."""
        self.contacts_proven_at = now

    def grant(self, role):
        if role not in ROLES:
            raise ValueError('unknown role %r' % role)
        if role not in self.roles:
            self.roles = (*tuple(self.roles), role)

    def revoke(self, role):
        self.roles = tuple(r for r in self.roles if r != role)

    def start_contact_change(self, channel, address):
        """The check of a new e-mail or mobile, replacing any earlier one on that channel."""
        check = AddressCheck(channel, address)
        self.contact_changes = dict(self.contact_changes, **{channel: check})
        return check

    def contact_change(self, channel):
        """The new address being proven on ``channel``, or None."""
        return self.contact_changes.get(channel)

    def drop_contact_change(self, channel):
        changes = dict(self.contact_changes)
        changes.pop(channel, None)
        self.contact_changes = changes


@content_type('accounts', _('Accounts'), columns=ACCOUNT_COLUMNS, label=portal_title)
class Accounts(Folder):
    """All accounts; ``by_email`` and ``by_mobile`` keep those unique, and
    ``name_index`` holds the words of full names for the administrators'
    search (see ``search.py``)."""

    # Nothing of the site's grants (everyone's view, editors') reaches the
    # accounts: an account's own ACL lets its holder see it.
    __acl__ = [(Allow, 'role:admin', ALL_PERMISSIONS), DENY_ALL]

    def __init__(self, title=''):
        super().__init__(title)
        self.by_email = OOBTree()
        self.by_mobile = OOBTree()
        self.name_index = NameIndex()

    def _index(self, channel):
        return self.by_email if channel == 'email' else self.by_mobile

    @staticmethod
    def _key(channel, address):
        return address.lower() if channel == 'email' else address

    def add(self, name, account):
        super().add(name, account)
        self.by_email[account.email.lower()] = name
        self.by_mobile[account.mobile] = name
        index_account(self, account)
        return account

    def remove(self, name):
        account = super().remove(name)
        unindex_account(self, account)
        for channel in CHANNELS:
            self._unindex_contact(account, channel)
        return account

    def _unindex_contact(self, account, channel):
        index, key = self._index(channel), self._key(channel, getattr(account, channel))
        if index.get(key) == account.civil_id:
            del index[key]

    def holder(self, channel, address):
        """The account whose e-mail (any case) or mobile is ``address``, or None."""
        name = self._index(channel).get(self._key(channel, address))
        return None if name is None else self[name]

    def find_by_email(self, email):
        return self.holder('email', email)

    def find_by_mobile(self, mobile):
        return self.holder('mobile', mobile)

    def registered(self, civil_id):
        """The account that binds ``civil_id`` to its contacts, or None."""
        account = self.get(civil_id)
        if account is None or account.contacts_proven_at is None:
            return None
        return account

    def set_contact(self, account, channel, address):
        """Give ``account`` a new e-mail or mobile; the old one, which it no longer holds."""
        holder = self.holder(channel, address)
        if holder is not None and holder is not account:
            raise ContactTaken(channel)
        old = getattr(account, channel)
        self._unindex_contact(account, channel)
        setattr(account, channel, address)
        self._index(channel)[self._key(channel, address)] = account.civil_id
        return old

    def change_contact(self, account, channel, address, now, request):
        """``account``'s member replaces their e-mail or mobile with ``address``,
        just proven, and the replaced one hears of it (``ContactChanged``)."""
        old = self.set_contact(account, channel, address)
        announce(request, ContactChanged, subject=account, when=now, channel=channel, old=old)
        return old

    def register(self, registration, now, request):
        """The account of ``registration``, whose civil ID was just proven at the
        PKI; announced (``AccountRegistered``), so its member is welcomed.

        A civil ID already bound by such a proof stays as it is; an account from
        before registrations ended with a PKI login takes the proven details.
        """
        if registration.step != 'pki':
            raise ValueError('the e-mail and the mobile number are not both verified')
        if self.registered(registration.civil_id) is not None:
            raise RegistrationRefused('civil_id')
        account = self.get(registration.civil_id)
        for channel in CHANNELS:
            holder = self.holder(channel, getattr(registration, channel))
            if holder is not None and holder is not account:
                raise ContactTaken(channel)
        if account is None:
            account = Account(
                registration.civil_id,
                registration.full_name,
                registration.email,
                registration.mobile,
                language=registration.language,
            )
            self.add(account.civil_id, account)
            account.activate(now)
        else:
            old_name = account.full_name
            account.full_name = registration.full_name
            account.language = registration.language
            index_account(self, account, old_name)
            for channel in CHANNELS:
                self.set_contact(account, channel, getattr(registration, channel))
            account.confirm_contacts(now)
        announce(request, AccountRegistered, subject=account, when=now)
        return account
