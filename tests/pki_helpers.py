"""Shared set-up of the PKI tests: real key pairs, the development IdP mounted at /idp and a
portal service provider that trusts it, all in a temporary directory, with the session's card
reader stack (tests/card_stack.py) for the smart card.

The IdP is driven through its pages with WebTest; its final page carries the signed SAMLResponse
that a browser would post to the portal, which the tests hand to the SP adapter directly. On the
PIN pad page the tests do what its script does: ask the card agent, then post its answer.
"""

import base64
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import webtest

import pki_idp
from occi_site.integrations.pki import MemoryReplayCache, PkiServiceProvider

from .card_stack import AGENT_HOST, CardStack

SP_BASE = 'http://localhost/saml'
IDP_MOUNT = '/idp'
IDP_BASE = f'http://localhost{IDP_MOUNT}'
IDP_ORIGIN = 'http://localhost'
CONTEXTS = {
    'card': 'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
    'mobile': 'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
}


def write_key_pair(directory: Path, name):
    """A fresh RSA 2048 key and self-signed certificate, made the way the Makefile makes them."""
    key, cert = directory / f'{name}.key', directory / f'{name}.crt'
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
            f'/CN={name}',
            '-keyout',
            str(key),
            '-out',
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(key), str(cert)


def mounted(prefix, app):
    """A composite serving `app` under `prefix`, as the portal's paste composite does."""

    def composite(environ, start_response):
        path = environ.get('PATH_INFO', '')
        if path != prefix and not path.startswith(prefix + '/'):
            start_response('404 Not Found', [('Content-Type', 'text/plain')])
            return [b'not mounted here']
        environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME', '') + prefix
        environ['PATH_INFO'] = path[len(prefix) :]
        return app(environ, start_response)

    return composite


@dataclass
class PkiWorld:
    directory: Path
    sp: PkiServiceProvider
    idp: webtest.TestApp
    replay_cache: MemoryReplayCache
    cards: CardStack
    agent: webtest.TestApp

    def make_sp(self, **changes):
        """Another SP with the same keys and metadata, some arguments changed."""
        arguments = {
            'entity_id': self.sp.entity_id,
            'acs_url': self.sp.acs_url,
            'sls_url': self.sp.sls_url,
            'key_file': self.sp.key_file,
            'cert_file': self.sp.cert_file,
            'idp_metadata_file': self.sp.idp_metadata_file,
            'civil_id_attribute': self.sp.civil_id_attribute,
            'accepted_contexts': self.sp.accepted_contexts,
        }
        arguments.update(changes)
        return PkiServiceProvider(**arguments)

    def misbehave(self, how):
        self.idp.post(f'{IDP_MOUNT}/_switch', {'respond_with': how})

    def complete(self, login, answer, **overrides):
        """Hand the IdP's answer to the SP as the portal's ACS would."""
        arguments = {
            'expected_request_ids': {login.request_id: login.method},
            'replay_cache': self.replay_cache,
        }
        arguments.update(overrides)
        return self.sp.complete_login(answer['SAMLResponse'], **arguments)


def make_world(
    directory: Path, cards: CardStack, key_material=None, test_switches=True, reader_socket=None
):
    """SP and IdP in `directory`; with `key_material` (from the fixture) their keys are copies
    of keys made once per test session, otherwise fresh ones (the IdP then makes its own).
    The IdP trusts the national CA of `cards` and its card page shows their virtual reader
    (or the one at `reader_socket`; none if it is empty)."""
    (directory / 'idp').mkdir()
    if key_material is None:
        sp_key, sp_cert = write_key_pair(directory, 'sp')
    else:
        sp_key, sp_cert = (shutil.copy(path, directory) for path in key_material['sp'])
        for path, name in zip(key_material['idp'], ('idp.key', 'idp.crt'), strict=True):
            shutil.copy(path, directory / 'idp' / name)
    sp = PkiServiceProvider(
        entity_id=f'{SP_BASE}/metadata',
        acs_url=f'{SP_BASE}/acs',
        sls_url=f'{SP_BASE}/sls',
        key_file=sp_key,
        cert_file=sp_cert,
        idp_metadata_file=str(directory / 'idp-metadata.xml'),
        civil_id_attribute='CivilNumber',
        accepted_contexts=CONTEXTS,
    )
    (directory / 'sp-metadata.xml').write_text(sp.metadata_xml(), encoding='utf-8')
    app = pki_idp.main(
        {},
        **{
            'pki_idp.base_url': IDP_BASE,
            'pki_idp.key_file': str(directory / 'idp' / 'idp.key'),
            'pki_idp.cert_file': str(directory / 'idp' / 'idp.crt'),
            'pki_idp.metadata_file': str(directory / 'idp-metadata.xml'),
            'pki_idp.sp_metadata_file': str(directory / 'sp-metadata.xml'),
            'pki_idp.test_switches': 'true' if test_switches else 'false',
            'pki_idp.national_ca_file': cards.ca_file,
            'pki_idp.dev_card_reader': (
                cards.control_socket if reader_socket is None else reader_socket
            ),
        },
    )
    idp = webtest.TestApp(mounted(IDP_MOUNT, app), extra_environ={'HTTP_HOST': 'localhost'})
    return PkiWorld(
        directory, sp, idp, MemoryReplayCache(), cards, agent_client(cards.agent(IDP_ORIGIN))
    )


def agent_client(agent):
    """The card agent as the PIN pad page's script reaches it: at 127.0.0.1, from the IdP."""
    return webtest.TestApp(agent, extra_environ={'HTTP_HOST': AGENT_HOST})


@pytest.fixture(scope='session')
def key_material(tmp_path_factory):
    """Key pairs for the SP and the IdP, made once: RSA key generation is the slow part."""
    directory = tmp_path_factory.mktemp('pki-keys')
    return {'sp': write_key_pair(directory, 'sp'), 'idp': write_key_pair(directory, 'idp')}


@pytest.fixture
def world(tmp_path, key_material, card_stack):
    return make_world(tmp_path, card_stack, key_material)


def answer_fields(page):
    """The hidden fields of the IdP's final page (SAMLResponse and RelayState)."""
    form = page.forms[0]
    assert form.action == f'{SP_BASE}/acs'
    return {
        name: form[name].value for name in ('SAMLResponse', 'RelayState') if name in form.fields
    }


def answer_xml(answer):
    return base64.b64decode(answer['SAMLResponse']).decode('utf-8')


def encode_answer(xml):
    return {'SAMLResponse': base64.b64encode(xml.encode('utf-8')).decode('ascii')}


def ask_agent(agent, origin, challenge, pin, status='*'):
    """What the PIN pad's script asks the card agent: the card's answer, or why there is none."""
    return agent.post_json(
        '/sign', {'challenge': challenge, 'pin': pin}, headers={'Origin': origin}, status=status
    ).json


def post_card_answer(pad, answer, status=303):
    """Post the card's certificate and signature from the PIN pad, as its script does."""
    form = pad.forms['pin-pad']
    form['certificate'].force_value(answer['certificate'])
    form['signature'].force_value(answer['signature'])
    return form.submit(status=status)


def enter_pin(pad, agent, pin, origin=IDP_ORIGIN, status=303):
    """Connect on the PIN pad: the agent has the card sign the page's challenge, and the
    answer goes to the IdP; the agent's refusal (a dict) when the card says no."""
    answer = ask_agent(agent, origin, pad.forms['pin-pad']['challenge'].value, pin)
    if 'error' in answer:
        return answer
    return post_card_answer(pad, answer, status)


def card_login(world, civil_id='90000001', pin='1234', **login_options):
    """A whole smart card login through the card agent and the card of `civil_id` in the
    virtual reader; (LoginRequest, answer fields)."""
    login = world.sp.begin_login(**login_options)
    pad = world.idp.get(login.redirect_url).follow()
    if login.method is None:
        pad = pad.click(description='Login using card')
    world.cards.insert(civil_id)
    done = enter_pin(pad, world.agent, pin).follow()
    return login, answer_fields(done)


def confirm_on_phone(world, mobile, pin, status=200):
    phone = world.idp.get(f'{IDP_MOUNT}/phone/{mobile}')
    form = phone.forms[0]
    form['pin'] = pin
    return form.submit('confirm', status=status)


def mobile_login(world, mobile='99000001', pin='1234', **login_options):
    """A whole Mobile ID login with the number as login hint; (LoginRequest, answer fields)."""
    login = world.sp.begin_login(method='mobile', login_hint=mobile, **login_options)
    wait = world.idp.get(login.redirect_url).follow()
    confirm_on_phone(world, mobile, pin)
    done = wait.forms[0].submit().follow()
    return login, answer_fields(done)


def query_of(url):
    """The raw query string of a redirect URL, as the receiving view sees it."""
    return urlsplit(url).query


def query_values(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
