"""Proving an e-mail address or a mobile number with a code sent to it.

Codes are stored only as salted hashes; they expire after 15 minutes and
lock after 5 wrong tries.  A new code may be asked for after a 60 second
cool-down, at most 5 times an hour for one address being proven.
Registration proves both addresses this way, and so does a member who
changes one of them.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from persistent import Persistent

# Mixed case letters and digits without look-alikes (0/O/o, 1/l/I).
EMAIL_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789'
SMS_CODE_ALPHABET = '0123456789'
CODE_LENGTH = 6
CODE_LIFETIME = timedelta(minutes=15)
MAX_TRIES = 5
RESEND_COOL_DOWN = timedelta(seconds=60)
SENDS_PER_HOUR = 5
ALPHABETS = {'email': EMAIL_CODE_ALPHABET, 'mobile': SMS_CODE_ALPHABET}
# Digits as an Arabic keyboard types them, read as the code's digits.
ARABIC_DIGITS = str.maketrans('٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹', '01234567890123456789')


def normalise_mobile(value):
    """An Omani mobile number as typed -> its 8 digits: Western digits, without
    spaces or dashes, and without +968, 00968 or 968 before them."""
    if not isinstance(value, str):
        return value
    digits = re.sub(r'[\s\-()]', '', value.translate(ARABIC_DIGITS))
    for prefix in ('+968', '00968', '968'):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 8:
            return digits[len(prefix) :]
    return digits


def typed(value):
    """A number or code as typed, trimmed, its digits Western (an Arabic keyboard types
    ٠١٢…). Anything but text, such as colander's null for an empty field, is left as it is."""
    return value.strip().translate(ARABIC_DIGITS) if isinstance(value, str) else value


def _digest(secret, salt):
    return hashlib.pbkdf2_hmac('sha256', secret.encode('utf-8'), salt, 20_000)


def new_code(alphabet):
    return ''.join(secrets.choice(alphabet) for _ in range(CODE_LENGTH))


class VerificationCode(Persistent):
    """One code sent to the person; only its hash is kept."""

    def __init__(self, secret, now):
        self.salt = secrets.token_bytes(16)
        self.digest = _digest(secret, self.salt)
        self.issued_at = now
        self.tries = 0
        self.used = False

    def expires_at(self):
        return self.issued_at + CODE_LIFETIME

    @property
    def tries_left(self):
        return max(0, MAX_TRIES - self.tries)

    def check(self, secret, now):
        """'ok', 'wrong', 'locked', 'expired' or 'used'; a wrong try counts."""
        if self.used:
            return 'used'
        if now >= self.expires_at():
            return 'expired'
        if self.tries >= MAX_TRIES:
            return 'locked'
        if hmac.compare_digest(_digest(typed(secret), self.salt), self.digest):
            self.used = True
            return 'ok'
        self.tries += 1
        return 'locked' if self.tries >= MAX_TRIES else 'wrong'


class AddressCheck(Persistent):
    """One address (``channel`` 'email' or 'mobile') being proven by the codes sent to it.

    An e-mail may also carry a one-click link, which stands for the same
    proof as its code: using one spends both.  ``notification`` names the
    Notification (in ``/notifications``) that carries the latest code, so the
    page asking for it can tell the person when it could not be sent.
    """

    notification = None

    def __init__(self, channel, address):
        if channel not in ALPHABETS:
            raise ValueError('unknown channel %r' % channel)
        self.channel = channel
        self.address = address
        self.code = None
        self.link = None
        self.sends = ()
        self.verified_at = None

    @property
    def is_verified(self):
        return self.verified_at is not None

    @property
    def tries_left(self):
        return self.code.tries_left if self.code is not None else MAX_TRIES

    def next_send_at(self, now):
        """When a code may next be sent (``None``: now)."""
        recent = [t for t in self.sends if now - t < timedelta(hours=1)]
        if recent and now - recent[-1] < RESEND_COOL_DOWN:
            return recent[-1] + RESEND_COOL_DOWN
        if len(recent) >= SENDS_PER_HOUR:
            return recent[0] + timedelta(hours=1)
        return None

    def issue(self, now, *, with_link=False):
        """A new code (and link token, if asked) in clear, once: ``(code, token or None)``."""
        code = new_code(ALPHABETS[self.channel])
        self.code = VerificationCode(code, now)
        token = None
        if with_link:
            token = secrets.token_urlsafe(24)
            self.link = VerificationCode(token, now)
        self.sends = (*tuple(t for t in self.sends if now - t < timedelta(hours=1)), now)
        self.notification = None
        return code, token

    def carried_by(self, notification):
        """The latest code left in ``notification``."""
        self.notification = notification.__name__

    def verify(self, secret, now, *, link=False):
        """'ok' once the address is proven; else 'wrong', 'locked', 'expired' or 'used'."""
        check = self.link if link else self.code
        if check is None or self.is_verified:
            return 'used'
        outcome = check.check(secret, now)
        if outcome == 'ok':
            self.verified_at = now
            for spent in (self.code, self.link):
                if spent is not None:
                    spent.used = True
        return outcome
