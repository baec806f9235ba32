"""SMS to members' mobile numbers: queued as a notification with the change
that caused it, sent by the delivery worker through a gateway.

Two gateways with one method, ``deliver(letter)``, answering ``Accepted``
or raising ``DeliveryFailed``: the dev outbox, and an HTTP gateway that
POSTs JSON ``{"to", "from", "text", "reference"}`` to a URL with a bearer
token and answers ``{"id": ...}``, its own id of the message.  The gateway's
delivery reports come back signed (``receipts.py``).
"""

import json
import urllib.error
import urllib.request

from ..delivery import Accepted, DeliveryFailed, queue
from .receipts import SignedReports

# The gateway's answers that say "try again later" rather than "never".
TRANSIENT_STATUSES = (408, 425, 429)


class OutboxSmsGateway:
    def __init__(self, outbox):
        self.outbox = outbox

    def deliver(self, letter):
        self.outbox.append('sms', letter.recipient, '', letter.body)
        return Accepted(letter.name, 'outbox')


class HttpSmsGateway:
    def __init__(self, url, token, sender, timeout=10.0):
        self.url = url
        self.token = token
        self.sender = sender
        self.timeout = timeout

    def deliver(self, letter):
        payload = {
            'to': letter.recipient,
            'from': self.sender,
            'text': letter.body,
            # Ours, echoed in delivery reports; the same on every attempt.
            'reference': letter.name,
        }
        request = urllib.request.Request(
            self.url,
            data=json.dumps(payload).encode('utf-8'),
            method='POST',
            headers={
                'Content-Type': 'application/json',
                'Authorization': 'Bearer ' + self.token,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read(2000).decode('utf-8', 'replace')
        except urllib.error.HTTPError as error:
            text = error.read(500).decode('utf-8', 'replace')
            permanent = error.code < 500 and error.code not in TRANSIENT_STATUSES
            raise DeliveryFailed('%d %s' % (error.code, text), permanent=permanent) from error
        except OSError as error:
            # Refused, unreachable, timed out: the gateway did not take it.
            raise DeliveryFailed('%s: %s' % (type(error).__name__, error)) from error
        try:
            reference = str(json.loads(answer)['id'])
        except (ValueError, KeyError, TypeError):
            reference = letter.name
        return Accepted(reference, answer)


def send_sms(request, to, body, **fields):
    """Queue an SMS on the current transaction; returns its Notification.

    ``fields`` (template, language, civil_id) describe it; see ``delivery.queue``.
    """
    return queue(request, 'sms', to, '', body, **fields)


def gateway_from_settings(settings, outbox):
    if settings.get('occi.sms', 'outbox') == 'outbox':
        return OutboxSmsGateway(outbox)
    return HttpSmsGateway(
        url=settings['occi.sms.url'],
        token=settings['occi.sms.token'],
        sender=settings.get('occi.sms.sender', 'OCCI'),
        timeout=float(settings.get('occi.sms.timeout', 10)),
    )


def reports_from_settings(settings):
    return SignedReports.from_settings(settings, 'occi.sms')
