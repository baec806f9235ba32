"""Start-up refuses secrets that are placeholders, short or published, naming the
setting, unless development tools are on."""

import configparser
import re
from pathlib import Path

import pytest
from pyramid.exceptions import ConfigurationError

import occi_site
from occi_site import from_environment
from occi_site.startup_checks import check_settings

from .conftest import portal_settings

ROOT = Path(__file__).resolve().parents[1]
GOOD = 'k4W9pXr2vN7qLz3sT8mB1cY6hJ0dF5gA'


def shipped_environment():
    """The environment deploy/occi.env ships for production.ini (CHANGE-ME values)."""
    lines = (ROOT / 'deploy' / 'occi.env').read_text().splitlines()
    return dict(line.split('=', 1) for line in lines if line and not line.startswith('#'))


def ini_value(name, key):
    """A setting of the portal in ``name``, production.ini's with the shipped environment."""
    parser = configparser.RawConfigParser(strict=False)
    parser.read(ROOT / name)
    value = parser.get('app:portal', key)
    if name == 'production.ini':
        value = re.sub(r'\$\((\w+)\)', lambda name: shipped_environment()[name.group(1)], value)
    return value


def production(tmp_path, **overrides):
    settings = {
        'occi.dev_tools': 'false',
        'occi.session.secret': GOOD,
        'occi.payment.endpoint_url': 'https://gateway.example/pay',
        'occi.payment.profile_id': 'OCCI',
        'occi.payment.access_key': 'access',
        'occi.payment.secret_key': GOOD[::-1],
    }
    settings.update(overrides)
    return portal_settings(tmp_path, **settings)


def test_sound_secrets_start(tmp_path):
    assert occi_site.main({}, **production(tmp_path))


@pytest.mark.parametrize(
    ('setting', 'value'),
    [
        ('occi.session.secret', ini_value('production.ini', 'occi.session.secret')),
        ('occi.session.secret', ini_value('development.ini', 'occi.session.secret')),
        ('occi.session.secret', 'short-but-random-8f2k'),
        ('occi.session.secret', 'x' * 40),
        ('occi.session.secret', ''),
        ('occi.payment.secret_key', ini_value('production.ini', 'occi.payment.secret_key')),
        ('occi.payment.secret_key', ini_value('development.ini', 'occi.payment.secret_key')),
        ('occi.payment.secret_key', 'test-secret-key-for-the-sandbox'),
        ('occi.sms.report_secret', ini_value('production.ini', 'occi.sms.report_secret')),
        ('occi.mail.report_secret', ini_value('production.ini', 'occi.mail.report_secret')),
        ('occi.mail.report_secret', 'test-report-secret'),
        ('occi.sms.report_secret', ''),
    ],
)
def test_a_weak_secret_stops_the_start_naming_the_setting(tmp_path, setting, value):
    with pytest.raises(ConfigurationError, match=setting.replace('.', r'\.')):
        occi_site.main({}, **production(tmp_path, **{setting: value}))


def test_every_weak_secret_is_named_at_once(tmp_path):
    settings = production(
        tmp_path, **{'occi.session.secret': 'CHANGE-ME', 'occi.payment.secret_key': 'CHANGE-ME'}
    )
    with pytest.raises(ConfigurationError) as raised:
        occi_site.main({}, **settings)
    assert 'occi.session.secret' in str(raised.value)
    assert 'occi.payment.secret_key' in str(raised.value)


def test_a_left_over_change_me_stops_the_start(tmp_path):
    with pytest.raises(ConfigurationError, match=r'occi\.payment\.profile_id'):
        occi_site.main({}, **production(tmp_path, **{'occi.payment.profile_id': 'CHANGE-ME'}))


def test_the_public_url_is_required(tmp_path):
    settings = production(tmp_path)
    del settings['occi.public_url']
    with pytest.raises(ConfigurationError, match=r'occi\.public_url'):
        occi_site.main({}, **settings)
    with pytest.raises(ConfigurationError, match=r'occi\.public_url'):
        occi_site.main({}, **production(tmp_path, **{'occi.public_url': 'eservices.example'}))


def test_development_tools_allow_the_shipped_development_secrets(tmp_path):
    settings = portal_settings(
        tmp_path,
        **{
            'occi.session.secret': ini_value('development.ini', 'occi.session.secret'),
            'occi.payment.endpoint_url': 'http://127.0.0.1/gateway/pay',
            'occi.payment.profile_id': 'OCCI-SANDBOX',
            'occi.payment.access_key': 'sandbox-access-key-0001',
            'occi.payment.secret_key': ini_value('development.ini', 'occi.payment.secret_key'),
        },
    )
    assert occi_site.main({}, **settings)


def test_production_ini_as_shipped_does_not_start(monkeypatch):
    """production.ini with the environment deploy/occi.env ships (its CHANGE-ME values)."""
    for name, value in shipped_environment().items():
        monkeypatch.setenv(name, value)
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(ROOT / 'production.ini')
    settings = from_environment(dict(parser.items('app:portal')))
    with pytest.raises(ConfigurationError) as raised:
        check_settings(settings)
    for name in ('occi.session.secret', 'occi.payment.secret_key', 'occi.payment.profile_id'):
        assert name in str(raised.value)
