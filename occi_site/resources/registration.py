"""Registrations on their way: the form's details, the e-mail and SMS codes,
then the PKI login of the civil ID that ends them.

A registration binds nothing until the person proves its civil ID at the
national PKI in the browser that filled the form: until then it is a record
of its own, under a random key, that blocks no other registration of the
same civil ID, e-mail or mobile, receives no member's messages and expires
after 24 hours.  ``Accounts.register`` turns a proven one into an account.
"""

import secrets
from datetime import timedelta

from persistent import Persistent

from ..i18n import _
from .expiring import ExpiringStore
from .types import content_type, portal_title

# VerificationCode: codes stored before they moved to ``verification.py`` are
# unpickled by this module's name.
from .verification import AddressCheck, VerificationCode

__all__ = ['PENDING_LIFETIME', 'Registration', 'Registrations', 'VerificationCode']

PENDING_LIFETIME = timedelta(hours=24)


class Registration(Persistent):
    """One person's registration, from the form until the PKI login."""

    def __init__(self, key, civil_id, full_name, email, mobile, language, now):
        self.key = key
        self.civil_id = civil_id
        self.full_name = full_name
        self.language = language
        self.started_at = now
        self.expires_at = now + PENDING_LIFETIME
        self.email_check = AddressCheck('email', email)
        self.mobile_check = AddressCheck('mobile', mobile)

    @property
    def email(self):
        return self.email_check.address

    @property
    def mobile(self):
        return self.mobile_check.address

    def check_of(self, channel):
        return self.email_check if channel == 'email' else self.mobile_check

    @property
    def step(self):
        """What is left to do: 'email', 'mobile', then 'pki'."""
        if not self.email_check.is_verified:
            return 'email'
        if not self.mobile_check.is_verified:
            return 'mobile'
        return 'pki'


@content_type('registrations', _('Registrations in progress'), label=portal_title)
class Registrations(ExpiringStore):
    """``/registrations``: the registrations not yet proven, by random key."""

    title = 'Registrations in progress'

    def start(self, civil_id, full_name, email, mobile, language, now):
        key = secrets.token_urlsafe(24)
        registration = Registration(key, civil_id, full_name, email, mobile, language, now)
        return self.add(key, registration, registration.expires_at, now)
