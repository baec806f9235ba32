"""SMS to members' mobile numbers, sent only when the transaction commits.

Two gateways with one method, ``deliver(to, body)``: the dev outbox, and an
HTTP gateway that POSTs JSON to a URL with a bearer token.
"""

import json
import logging
import urllib.request

log = logging.getLogger(__name__)


class OutboxSmsGateway:
    def __init__(self, outbox):
        self.outbox = outbox

    def deliver(self, to, body):
        self.outbox.append('sms', to, '', body)


class HttpSmsGateway:
    def __init__(self, url, token, sender, timeout=10.0):
        self.url = url
        self.token = token
        self.sender = sender
        self.timeout = timeout

    def deliver(self, to, body):
        payload = json.dumps({'to': to, 'from': self.sender, 'text': body}).encode('utf-8')
        request = urllib.request.Request(
            self.url,
            data=payload,
            method='POST',
            headers={
                'Content-Type': 'application/json',
                'Authorization': 'Bearer ' + self.token,
            },
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()


def _deliver_after_commit(committed, gateway, to, body):
    if not committed:
        return
    try:
        gateway.deliver(to, body)
    except Exception:
        # The transaction has committed; a lost SMS must not turn the
        # request into an error after its data is saved.
        log.exception('SMS to %s could not be delivered', to)


def send_sms(request, to, body):
    """Queue an SMS on the current transaction."""
    request.tm.get().addAfterCommitHook(_deliver_after_commit, args=(request.sms_gateway, to, body))


def gateway_from_settings(settings, outbox):
    if settings.get('occi.sms', 'outbox') == 'outbox':
        return OutboxSmsGateway(outbox)
    return HttpSmsGateway(
        url=settings['occi.sms.url'],
        token=settings['occi.sms.token'],
        sender=settings.get('occi.sms.sender', 'OCCI'),
        timeout=float(settings.get('occi.sms.timeout', 10)),
    )
