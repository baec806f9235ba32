"""Security headers on the portal, the development IdP and the sandbox gateway:
no page can be framed, no inline script runs, and the templates carry none."""

import re
from pathlib import Path

import pytest
import webtest

import pki_idp
from occi_site.headers import content_security_policy

from .stack import Stack
from .test_payment_sandbox import make_sandbox

ROOT = Path(__file__).resolve().parents[1]


def directives(response):
    csp = response.headers['Content-Security-Policy']
    return {
        name: values for name, *values in (part.split() for part in csp.split(';') if part.strip())
    }


def assert_protected(response):
    csp = directives(response)
    assert csp['frame-ancestors'] == ["'none'"]
    assert csp['script-src'] == ["'self'"]
    assert csp['object-src'] == ["'none'"]
    assert "'unsafe-inline'" not in csp.get('default-src', [])
    assert response.headers['X-Frame-Options'] == 'DENY'
    assert response.headers['X-Content-Type-Options'] == 'nosniff'
    assert response.headers['Referrer-Policy'] == 'same-origin'
    assert 'camera=()' in response.headers['Permissions-Policy']
    return csp


@pytest.fixture(scope='module')
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp('headers'))
    yield stack
    stack.close()


@pytest.mark.parametrize(
    'path', ['/', '/register', '/no-such-page', '/static/site.css', '/idp/', '/gateway/switches']
)
def test_every_app_sends_the_headers(stack, path):
    response = stack.browser.get(path, status='*')
    assert_protected(response)
    assert 'Strict-Transport-Security' not in response.headers


def test_error_pages_carry_them_too(stack):
    assert_protected(stack.new_browser().get('/%ff', status='*'))


def test_hsts_when_the_session_cookie_is_secure(make_app):
    app = webtest.TestApp(make_app(**{'occi.session.secure': 'true'}))
    hsts = app.get('/').headers['Strict-Transport-Security']
    assert hsts.startswith('max-age=31536000')


def test_the_idp_lets_its_pin_pad_reach_the_card_agent(tmp_path):
    app = pki_idp.main(
        {},
        **{
            'pki_idp.key_file': str(tmp_path / 'idp.key'),
            'pki_idp.cert_file': str(tmp_path / 'idp.crt'),
            'pki_idp.metadata_file': str(tmp_path / 'idp-metadata.xml'),
            'pki_idp.sp_metadata_file': str(tmp_path / 'sp-metadata.xml'),
            'pki_idp.national_ca_file': str(tmp_path / 'national-ca.pem'),
            'pki_idp.card_agent_url': 'http://127.0.0.1:8765/agent/',
        },
    )
    csp = assert_protected(webtest.TestApp(app).get('/metadata', status='*'))
    assert csp['connect-src'] == ["'self'", 'http://127.0.0.1:8765']


def test_the_sandbox_alone_sends_them():
    assert_protected(make_sandbox().get('/switches', status='*'))


def test_the_policy_names_no_inline_script():
    policy = content_security_policy().header_value
    assert "'unsafe-inline'" not in policy.split('script-src')[1].split(';')[0]
    assert "'unsafe-eval'" not in policy


INLINE_SCRIPT = re.compile(r'<script(?![^>]*\bsrc=)[^>]*>', re.I)
HANDLER = re.compile(r'\son[a-z]+\s*=\s*["\']', re.I)


@pytest.mark.parametrize('package', ['occi_site', 'pki_idp', 'payment_sandbox'])
def test_templates_carry_no_inline_script_or_handler(package):
    found = []
    for template in sorted((ROOT / package / 'templates').rglob('*')):
        if template.suffix not in ('.jinja2', '.pt'):
            continue
        text = template.read_text(encoding='utf-8')
        for pattern in (INLINE_SCRIPT, HANDLER):
            found += ['%s: %s' % (template.relative_to(ROOT), m) for m in pattern.findall(text)]
    assert not found


def test_pages_in_a_session_are_not_kept_by_the_browser(portal):
    # A shared computer: after the logout, Back or the disk cache would show them.
    from tests.conftest import login, visitor

    member = login(portal, '90000001')
    for path in ('/dashboard', '/dashboard', '/account', '/no-such-page'):
        response = member.get(path, status='*')
        kept_for = {part.strip() for part in response.headers['Cache-Control'].split(',')}
        assert kept_for == {'private', 'no-store'}, path
    # What says how long it may be kept keeps saying so.
    assert 'no-store' not in member.get('/static/site.css').headers['Cache-Control']
    # A visitor without a session gets the public pages as they are...
    assert 'Cache-Control' not in visitor(portal).get('/').headers
    # ...and the page that starts one (a form's CSRF token) is theirs alone.
    first = visitor(portal).get('/register')
    assert 'occi_session=' in first.headers['Set-Cookie']
    assert 'no-store' in first.headers['Cache-Control']
