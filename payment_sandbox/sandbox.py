"""The sandbox gateway's state in this process: its merchant profile, the checkouts
in progress, the delivery test switch and the notifier."""

from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool

from .checkout import MerchantProfile
from .delivery import Delivery, Notifier
from .store import CheckoutStore

# With browser_first, how long after the receipt page the notification follows;
# longer than the receipt page waits before it returns the browser by itself.
DEFAULT_BROWSER_FIRST_DELAY = 4.0


class Sandbox:
    def __init__(
        self, profile, test_switches=False, browser_first_delay=DEFAULT_BROWSER_FIRST_DELAY
    ):
        self.profile = profile
        self.test_switches = test_switches
        self.checkouts = CheckoutStore()
        self.delivery = Delivery.NORMAL
        self.notifier = Notifier(late_delay=browser_first_delay)


def sandbox_from_settings(settings):
    try:
        profile = MerchantProfile(
            profile_id=settings['sandbox.profile_id'],
            access_key=settings['sandbox.access_key'],
            secret_key=settings['sandbox.secret_key'],
        )
    except KeyError as missing:
        raise ConfigurationError(f'the payment sandbox needs the setting {missing}') from None
    return Sandbox(
        profile,
        test_switches=asbool(settings.get('sandbox.test_switches', False)),
        browser_first_delay=float(
            settings.get('sandbox.browser_first_delay', DEFAULT_BROWSER_FIRST_DELAY)
        ),
    )


def includeme(config):
    sandbox = sandbox_from_settings(config.registry.settings)
    config.registry.payment_sandbox = sandbox
    config.add_request_method(lambda request: sandbox, 'sandbox', reify=True)
