"""Outside systems, each behind a small interface with an embedded default.

The adapters are chosen from the settings here and hung on the registry;
a request method gives views one name for each: ``request.commercial_registry``,
``request.pki``, ``request.payment_gateway``, ``request.sms_gateway``,
``request.mailer`` and ``request.captcha``.
"""

import os

from pyramid_mailer import get_mailer

from .captcha import captcha_from_settings
from .commercial_registry import registry_from_settings
from .outbox import DevOutbox
from .payment import gateway_from_settings as payment_gateway_from_settings
from .sms import gateway_from_settings as sms_gateway_from_settings
from .sms import reports_from_settings as sms_reports_from_settings


def _adapter(attribute):
    def adapter(request):
        return getattr(request.registry, attribute)

    return adapter


def includeme(config):
    settings = config.registry.settings
    registry = config.registry
    registry.occi_outbox = DevOutbox(
        settings.get('occi.outbox_path') or os.path.join('var', 'outbox.jsonl')
    )
    registry.occi_commercial_registry = registry_from_settings(settings)
    registry.occi_sms = sms_gateway_from_settings(settings, registry.occi_outbox)
    registry.occi_sms_reports = sms_reports_from_settings(settings)
    registry.occi_captcha = captcha_from_settings(settings)
    registry.occi_payment = (
        payment_gateway_from_settings(settings) if 'occi.payment.endpoint_url' in settings else None
    )
    for name, attribute in (
        ('commercial_registry', 'occi_commercial_registry'),
        ('pki', 'occi_pki'),
        ('payment_gateway', 'occi_payment'),
        ('sms_gateway', 'occi_sms'),
        ('captcha', 'occi_captcha'),
    ):
        config.add_request_method(_adapter(attribute), name, reify=True)
    config.add_request_method(get_mailer, 'mailer', reify=True)
    config.include('.mail')
    config.include('.pki_setup')
