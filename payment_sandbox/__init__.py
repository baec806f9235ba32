"""payment_sandbox: a development stand-in for the card gateway.

It speaks the hosted checkout's signed-field protocol: the merchant posts signed
fields to /pay, the payer goes through Billing, Payment, Review and Receipt, and
the signed decision goes back to the merchant's server and through the browser.
"""

from pyramid.config import Configurator

from occi_site.headers import add_security_headers


def main(global_config, **settings):
    """The sandbox gateway's WSGI application (mounted under /gateway in development)."""
    settings.setdefault('jinja2.directories', 'payment_sandbox:templates')
    settings.setdefault('jinja2.i18n.domain', 'payment_sandbox')
    settings.setdefault('jinja2.trim_blocks', 'true')
    settings.setdefault('jinja2.lstrip_blocks', 'true')
    with Configurator(settings=settings) as config:
        config.include('pyramid_jinja2')
        add_security_headers(config)
        config.include('.i18n')
        config.include('.sandbox')
        config.include('.views')
    return config.make_wsgi_app()
