"""Delivering the signed response to the merchant's server, and the test switches.

Normally the server notification is posted before the payer's browser is sent
back, so the merchant usually learns the outcome first from its own server.
The test switches break that on purpose, so the merchant's handling of a lost,
repeated or late message can be tried.
"""

import enum
import http.client
import logging
import threading
import time
import urllib.parse
import urllib.request

log = logging.getLogger(__name__)

NOTIFICATION_TIMEOUT = 5.0


class Delivery(enum.Enum):
    NORMAL = 'normal'
    DROP_NOTIFICATION = 'drop_notification'
    DROP_BROWSER_RETURN = 'drop_browser_return'
    NOTIFY_TWICE = 'notify_twice'
    BROWSER_FIRST = 'browser_first'

    @property
    def notifications_before_browser(self):
        return {
            Delivery.DROP_NOTIFICATION: 0,
            Delivery.BROWSER_FIRST: 0,
            Delivery.NOTIFY_TWICE: 2,
        }.get(self, 1)

    @property
    def returns_browser(self):
        return self is not Delivery.DROP_BROWSER_RETURN

    @property
    def notifies_after_browser(self):
        return self is Delivery.BROWSER_FIRST


def post_notification(url, fields, timeout=NOTIFICATION_TIMEOUT):
    """POST the fields to the merchant's server; a failure is logged, never raised,
    because the payer's checkout must end the same whether the merchant listens or not."""
    body = urllib.parse.urlencode(fields).encode('utf-8')
    request = urllib.request.Request(
        url, data=body, method='POST', headers={'Content-Type': 'application/x-www-form-urlencoded'}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    # OSError covers refused connections, timeouts and HTTP error statuses;
    # ValueError an address urllib cannot use.
    except (OSError, http.client.HTTPException, ValueError) as error:
        log.warning(
            'Notification of %s to %s failed: %s', fields.get('req_reference_number'), url, error
        )
    else:
        log.info(
            'Notified %s of %s (%s)',
            url,
            fields.get('req_reference_number'),
            fields.get('decision'),
        )


class Notifier:
    """Sends a decided checkout's response to its ``override_backoffice_post_url``."""

    def __init__(self, late_delay):
        self.late_delay = late_delay

    def before_browser(self, checkout):
        url = checkout.request.get('override_backoffice_post_url')
        if url:
            for _ in range(checkout.delivery.notifications_before_browser):
                post_notification(url, checkout.response)

    def after_browser(self, checkout):
        """Notify from a background thread, a little after the browser has its page."""
        url = checkout.request.get('override_backoffice_post_url')
        if url:
            threading.Thread(
                target=self._notify_late, args=(url, checkout.response), daemon=True
            ).start()

    def _notify_late(self, url, fields):
        time.sleep(self.late_delay)
        post_notification(url, fields)
