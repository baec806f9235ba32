"""Registration of a new account: the e-mail code and link, then the SMS code.

Codes are stored only as salted hashes; they expire after 15 minutes and
lock after 5 wrong tries.  A new code may be asked for after a 60 second
cool-down, at most 5 times an hour per channel.
"""

import hashlib
import hmac
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
PENDING_LIFETIME = timedelta(hours=24)


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
        if hmac.compare_digest(_digest(secret, self.salt), self.digest):
            self.used = True
            return 'ok'
        self.tries += 1
        return 'locked' if self.tries >= MAX_TRIES else 'wrong'


class Registration(Persistent):
    """The verification state of a pending account."""

    def __init__(self, now):
        self.started_at = now
        self.email_code = None
        self.email_link = None
        self.mobile_code = None
        self.email_verified_at = None
        self.mobile_verified_at = None
        self.sends = {'email': (), 'mobile': ()}

    def is_stale(self, now):
        return now - self.started_at > PENDING_LIFETIME

    def next_send_at(self, channel, now):
        """When a code may next be sent on ``channel`` (``None``: now)."""
        recent = [t for t in self.sends[channel] if now - t < timedelta(hours=1)]
        if recent and now - recent[-1] < RESEND_COOL_DOWN:
            return recent[-1] + RESEND_COOL_DOWN
        if len(recent) >= SENDS_PER_HOUR:
            return recent[0] + timedelta(hours=1)
        return None

    def _record_send(self, channel, now):
        sends = dict(self.sends)
        sends[channel] = (*tuple(t for t in sends[channel] if now - t < timedelta(hours=1)), now)
        self.sends = sends

    def issue_email_code(self, now):
        """A new e-mail code and one-click link token; returns both in clear, once."""
        code = new_code(EMAIL_CODE_ALPHABET)
        token = secrets.token_urlsafe(24)
        self.email_code = VerificationCode(code, now)
        self.email_link = VerificationCode(token, now)
        self._record_send('email', now)
        return code, token

    def issue_mobile_code(self, now):
        code = new_code(SMS_CODE_ALPHABET)
        self.mobile_code = VerificationCode(code, now)
        self._record_send('mobile', now)
        return code

    def verify_email(self, code, now, *, link=False):
        check = (self.email_link if link else self.email_code).check(code.strip(), now)
        if check == 'ok':
            self.email_verified_at = now
            # The code and the link stand for the same proof: using one spends both.
            self.email_code.used = self.email_link.used = True
        return check

    def verify_mobile(self, code, now):
        check = self.mobile_code.check(code.strip(), now)
        if check == 'ok':
            self.mobile_verified_at = now
        return check
