"""The whole development stack for end-to-end tests: the portal at /, the
development PKI IdP at /idp and the sandbox gateway at /gateway, composed as
development.ini composes them, served on a real loopback port (the gateway's
server notifications travel over HTTP) and driven with WebTest like a browser.
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

from .conftest import portal_settings

GATEWAY_KEYS = {
    'profile_id': 'OCCI-TEST',
    'access_key': 'test-access-key',
    'secret_key': 'test-secret-key-for-the-sandbox',
}
NEXT_YEAR = str(date.today().year + 1)


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


class Stack:
    def __init__(self, tmp_path, **portal_overrides):
        self.composite = URLMap()
        self.server = StopableWSGIServer.create(self.composite)
        base = self.server.application_url.rstrip('/')
        self.base = base
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
        self.composite['/'] = self.portal
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

    def outbox(self):
        return self.portal.registry.occi_outbox.messages()
