"""Development stand-in for the national PKI identity provider (SAML 2.0 IdP).

It reproduces the screens members know from the national IdP: the choice between Mobile ID
and the smart card, the card PIN pad, the Mobile ID confirmation on a simulated phone and the
"Single Log Out" page that ends every authentication. Test people come from people.json.

The smart card login is real: the PIN pad page reaches the card agent (card_agent, the national
PKI middleware's part) on the member's computer, whose card signs a challenge; the IdP checks
the signature and the certificate against the national CA (card_login). In development the
card is emulated in a virtual reader (dev_card).

Settings (paste ini, app section):
  pki_idp.base_url          public address where the app is mounted (default
                            http://127.0.0.1:6543/idp); our entity ID is <base_url>/metadata
  pki_idp.key_file          signing key and certificate, generated if missing
  pki_idp.cert_file
  pki_idp.metadata_file     our signed metadata is written here at start
  pki_idp.sp_metadata_file  the portal's metadata, read when first needed and when it changes
  pki_idp.xmlsec_binary     default /usr/bin/xmlsec1
  pki_idp.national_ca_file  PEM certificate(s) of the national CA that issues civil ID cards
  pki_idp.card_agent_url    where the PIN pad page reaches the card agent on the member's
                            computer (default http://127.0.0.1:24730)
  pki_idp.dev_card_reader   development only: the control socket of the emulated cards'
                            process, for the page that chooses whose card is in the reader
  pki_idp.test_switches     true to enable POST /_switch (misbehaving answers for tests)
"""

from pyramid.config import Configurator
from pyramid.settings import asbool

from occi_site.headers import add_security_headers, origin

from .card_login import CardVerifier
from .i18n import negotiate_locale
from .keys import ensure_key_pair
from .people import People
from .provider import IdentityProvider
from .state import IdpState

DEFAULT_BASE_URL = 'http://127.0.0.1:6543/idp'
DEFAULT_CARD_AGENT_URL = 'http://127.0.0.1:24730'
REQUIRED_SETTINGS = (
    'pki_idp.key_file',
    'pki_idp.cert_file',
    'pki_idp.metadata_file',
    'pki_idp.sp_metadata_file',
    'pki_idp.national_ca_file',
)


def main(global_config, **settings):
    """The paste app factory."""
    missing = [name for name in REQUIRED_SETTINGS if not settings.get(name)]
    if missing:
        raise ValueError(f'pki_idp needs the settings {", ".join(missing)}')
    settings.setdefault('pki_idp.card_agent_url', DEFAULT_CARD_AGENT_URL)
    settings.setdefault('jinja2.directories', 'pki_idp:templates')
    settings.setdefault('jinja2.i18n.domain', 'pki_idp')
    config = Configurator(settings=settings, locale_negotiator=negotiate_locale)
    config.include('pyramid_jinja2')
    config.add_translation_dirs('pki_idp:locale/')
    config.add_static_view('static', 'pki_idp:static')
    # The PIN pad page's script calls the card agent: the only other origin it may reach.
    add_security_headers(config, connect_src=[origin(settings['pki_idp.card_agent_url'])])

    keys = ensure_key_pair(
        settings['pki_idp.key_file'],
        settings['pki_idp.cert_file'],
        'PKI development identity provider',
    )
    provider = IdentityProvider(
        base_url=settings.get('pki_idp.base_url') or DEFAULT_BASE_URL,
        keys=keys,
        sp_metadata_file=settings['pki_idp.sp_metadata_file'],
        xmlsec_binary=settings.get('pki_idp.xmlsec_binary') or '/usr/bin/xmlsec1',
    )
    provider.write_metadata(settings['pki_idp.metadata_file'])
    config.add_request_method(lambda request: provider, 'idp', reify=True)
    state = IdpState()
    config.add_request_method(lambda request: state, 'idp_state', reify=True)
    people = People.bundled()
    config.add_request_method(lambda request: people, 'people', reify=True)
    verifier = CardVerifier(settings['pki_idp.national_ca_file'])
    config.add_request_method(lambda request: verifier, 'card_verifier', reify=True)

    add_routes(config)
    if asbool(settings.get('pki_idp.test_switches', False)):
        config.add_route('switch', '/_switch')
        config.add_view(
            'pki_idp.views.site.set_misbehaviour',
            route_name='switch',
            request_method='POST',
            renderer='json',
        )
    config.scan('.views')
    return config.make_wsgi_app()


def add_routes(config):
    config.add_route('home', '/')
    config.add_route('metadata', '/metadata')
    config.add_route('language', '/language')
    config.add_route('sso', '/sso')
    config.add_route('slo', '/slo')
    config.add_route('login', '/login/{login}')
    config.add_route('login_cancel', '/login/{login}/cancel')
    config.add_route('login_mobile', '/login/{login}/mobile')
    config.add_route('login_wait', '/login/{login}/wait')
    config.add_route('login_status', '/login/{login}/status')
    config.add_route('login_continue', '/login/{login}/continue')
    config.add_route('login_card', '/login/{login}/card')
    config.add_route('login_done', '/login/{login}/done')
    config.add_route('phone', '/phone/{mobile}')
    config.add_route('session_logout', '/sessions/{session_index}/logout')
    config.add_route('dev_card_reader', '/_dev/card-reader')
