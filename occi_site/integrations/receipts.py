"""Providers' delivery reports, signed with a secret shared with the provider.

The SMS gateway and the mail provider each POST a report to the portal when
a message reached its recipient or could not (a bounce)::

    POST /notifications/receipts/sms        (or /notifications/receipts/email)
    X-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>
    Content-Type: application/json

    {"reference": "...", "status": "delivered", "detail": "...", "at": 1767225600}

``reference`` is the provider's id of the message (the gateway's message id,
or the e-mail's Message-ID) or the portal's own reference sent with it;
``status`` is ``delivered``, one of ``NOT_DELIVERED``, or anything else for an
interim report that is kept without changing the status; ``at`` (seconds
since the epoch) must be within ``MAX_AGE``, so an old report cannot be
played again later.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import timedelta

SIGNATURE_HEADER = 'X-Signature'
NOT_DELIVERED = ('failed', 'bounced', 'rejected', 'expired', 'undeliverable')
MAX_AGE = timedelta(days=1)
# A provider's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)


class InvalidReport(Exception):
    """Not a report this provider signed, or not one we can read."""


@dataclass(frozen=True)
class Report:
    reference: str
    # True delivered, False not deliverable, None an interim report.
    delivered: bool | None
    answer: str


class SignedReports:
    """Reads (and, for tests and the provider's side, signs) one channel's reports."""

    def __init__(self, secret):
        self.secret = secret.encode('utf-8')

    @classmethod
    def from_settings(cls, settings, prefix):
        """From ``<prefix>.report_secret``; None when the channel takes no reports."""
        secret = settings.get('%s.report_secret' % prefix)
        return cls(secret) if secret else None

    def sign(self, body):
        return 'sha256=' + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def read(self, body, signature, now):
        if not hmac.compare_digest(self.sign(body), signature or ''):
            raise InvalidReport('the signature does not match')
        try:
            fields = json.loads(body)
            reference = str(fields['reference'])
            status = str(fields['status'])
            at = float(fields['at'])
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidReport('unreadable report: %s' % error) from error
        age = timedelta(seconds=now.timestamp() - at)
        if age > MAX_AGE or age < -CLOCK_SKEW:
            raise InvalidReport('the report is out of date')
        delivered = True if status == 'delivered' else False if status in NOT_DELIVERED else None
        detail = str(fields.get('detail') or '')
        return Report(reference, delivered, ('%s %s' % (status, detail)).strip()[:500])
