"""The whole development stack for end-to-end tests: the portal at /, the
development PKI IdP at /idp and the sandbox gateway at /gateway, composed as
development.ini composes them, served on a real loopback port (the gateway's
server notifications travel over HTTP) and driven with WebTest like a browser.

With the session's card reader stack (tests/card_stack.py) the IdP trusts its
national CA and shows its virtual reader, and the card agent serves the stack's
pages on a loopback port of its own; without it the smart card is not offered
a way in (the tests of such a stack log in otherwise).
"""

import subprocess
from datetime import date
from urllib.parse import urlsplit

import webtest
from rutter.urlmap import URLMap
from webtest.http import StopableWSGIServer

import occi_site
import payment_sandbox
import pki_idp

from .card_stack import CardStack
from .conftest import portal_settings

GATEWAY_KEYS = {
    'profile_id': 'OCCI-TEST',
    'access_key': 'test-access-key',
    'secret_key': 'test-secret-key-for-the-sandbox',
}
NEXT_YEAR = str(date.today().year + 1)
# The development IdP and card gateway as sections of a pserve file, for the
# tests that run them as processes of their own (``folder`` holds their keys).
STAND_INS_INI = """\
[app:idp]
use = egg:occi_site#idp
pki_idp.base_url = {base}/idp
pki_idp.key_file = {folder}/idp.key
pki_idp.cert_file = {folder}/idp.crt
pki_idp.metadata_file = {folder}/idp-metadata.xml
pki_idp.sp_metadata_file = {folder}/sp-metadata.xml
# No national CA: the smart card is not offered (Mobile ID is).
pki_idp.national_ca_file = {folder}/no-national-ca.pem

[app:gateway]
use = egg:occi_site#gateway
sandbox.profile_id = {profile_id}
sandbox.access_key = {access_key}
sandbox.secret_key = {secret_key}
sandbox.test_switches = true
"""


def key_pair(directory, name):
    key, cert = directory / ('%s.key' % name), directory / ('%s.crt' % name)
    subprocess.run(
        [
            'openssl',
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-days',
            '2',
            '-subj',
            '/CN=%s' % name,
            '-keyout',
            str(key),
            '-out',
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(key), str(cert)


class StatusRecorder:
    """WSGI middleware keeping the status of every answer the portal gives
    (to browsers and to the gateway's server notifications alike), so a test
    can say that none was a server error."""

    def __init__(self, app):
        self.app = app
        self.statuses = []

    def __call__(self, environ, start_response):
        def recording_start_response(status, headers, exc_info=None):
            self.statuses.append((int(status.split()[0]), environ.get('PATH_INFO', '')))
            return start_response(status, headers, exc_info)

        return self.app(environ, recording_start_response)

    def server_errors(self):
        return [(status, path) for status, path in self.statuses if status >= 500]


class Stack:
    def __init__(self, tmp_path, cards: CardStack | None = None, **portal_overrides):
        self.composite = URLMap()
        self.server = StopableWSGIServer.create(self.composite, threads=10)
        base = self.server.application_url.rstrip('/')
        self.base = base
        self.cards = cards
        self.agent_server = None
        card_settings = {'pki_idp.national_ca_file': str(tmp_path / 'no-national-ca.pem')}
        if cards is not None:
            self.agent_server = StopableWSGIServer.create(cards.agent(base))
            card_settings = {
                'pki_idp.national_ca_file': cards.ca_file,
                'pki_idp.card_agent_url': self.agent_server.application_url.rstrip('/'),
                'pki_idp.dev_card_reader': cards.control_socket,
            }
        sp_key, sp_cert = key_pair(tmp_path, 'sp')
        settings = portal_settings(
            tmp_path,
            **{
                'occi.public_url': base,
                'occi.captcha': 'test',
                'occi.pki.key_file': sp_key,
                'occi.pki.cert_file': sp_cert,
                'occi.pki.idp_metadata': str(tmp_path / 'idp-metadata.xml'),
                'occi.pki.sp_metadata_file': str(tmp_path / 'sp-metadata.xml'),
                'occi.pki.civil_id_attribute': 'CivilNumber',
                'occi.payment.endpoint_url': base + '/gateway/pay',
                'occi.payment.query_url': base + '/gateway/query',
                **{'occi.payment.%s' % name: value for name, value in GATEWAY_KEYS.items()},
            },
        )
        settings.update(portal_overrides)
        self.portal = occi_site.main({}, **settings)
        self.idp = pki_idp.main(
            {},
            **{
                'pki_idp.base_url': base + '/idp',
                'pki_idp.key_file': str(tmp_path / 'idp.key'),
                'pki_idp.cert_file': str(tmp_path / 'idp.crt'),
                'pki_idp.metadata_file': str(tmp_path / 'idp-metadata.xml'),
                'pki_idp.sp_metadata_file': str(tmp_path / 'sp-metadata.xml'),
                'pki_idp.test_switches': 'true',
                **card_settings,
            },
        )
        self.gateway = payment_sandbox.main(
            {},
            **{
                **{'sandbox.%s' % name: value for name, value in GATEWAY_KEYS.items()},
                'sandbox.test_switches': 'true',
                'sandbox.browser_first_delay': '0.3',
            },
        )
        self.composite['/idp'] = self.idp
        self.composite['/gateway'] = self.gateway
        self.recorder = StatusRecorder(self.portal)
        self.composite['/'] = self.recorder
        host = urlsplit(base).netloc
        self.browser = self.new_browser()
        self.host = host

    def new_browser(self, language='en'):
        return webtest.TestApp(
            self.composite,
            extra_environ={
                'HTTP_HOST': urlsplit(self.base).netloc,
                'HTTP_ACCEPT_LANGUAGE': language,
            },
        )

    def close(self):
        self.server.shutdown()
        if self.agent_server is not None:
            self.agent_server.shutdown()

    def server_errors(self):
        """Every 5xx the portal answered so far, as ``(status, path)``."""
        return self.recorder.server_errors()

    def outbox(self):
        return self.portal.registry.occi_outbox.messages()
