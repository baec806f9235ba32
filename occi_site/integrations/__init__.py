"""Outside systems, each behind a small interface with an embedded default.

The adapters are chosen from the settings here and hung on the registry;
request methods give views one name for each.
"""

import os

from .captcha import captcha_from_settings
from .outbox import DevOutbox
from .payment import gateway_from_settings as payment_gateway_from_settings
from .registry import registry_from_settings
from .sms import gateway_from_settings


def includeme(config):
    settings = config.registry.settings
    registry = config.registry
    registry.occi_outbox = DevOutbox(
        settings.get('occi.outbox_path') or os.path.join('var', 'outbox.jsonl')
    )
    registry.occi_commercial_registry = registry_from_settings(settings)
    registry.occi_sms = gateway_from_settings(settings, registry.occi_outbox)
    registry.occi_captcha = captcha_from_settings(settings)
    registry.occi_payment = (
        payment_gateway_from_settings(settings) if 'occi.payment.endpoint_url' in settings else None
    )
    config.add_request_method(
        lambda request: request.registry.occi_commercial_registry, 'commercial_registry', reify=True
    )
    config.include('.mail')
    config.include('.pki_setup')
