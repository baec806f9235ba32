"""Fixtures: the portal over a fresh in-memory ZODB for every test."""
import pytest
import webtest

import occi_site


def portal_settings(tmp_path, **overrides):
    settings = {
        'zodbconn.uri': 'memory://',
        'occi.dev_tools': 'true',
        'occi.sample_data': 'true',
        'occi.outbox_path': str(tmp_path / 'outbox.jsonl'),
        'occi.mail': 'outbox',
        'occi.sms': 'outbox',
        'occi.session.secret': 'test-secret',
        'occi.public_url': 'http://localhost',
        'retry.attempts': '3',
    }
    settings.update(overrides)
    return settings


@pytest.fixture
def make_app(tmp_path):
    def make(**overrides):
        return occi_site.main({}, **portal_settings(tmp_path, **overrides))
    return make


@pytest.fixture
def wsgi_app(make_app):
    return make_app()


@pytest.fixture
def app(wsgi_app):
    return webtest.TestApp(wsgi_app, extra_environ={'HTTP_ACCEPT_LANGUAGE': 'en'})


@pytest.fixture
def outbox(wsgi_app):
    return wsgi_app.registry.occi_outbox


@pytest.fixture
def site(wsgi_app):
    """A connection to the app's database; the test reads the committed state."""
    from occi_site.resources import ROOT_KEY, database
    conn = database(wsgi_app.registry).open()
    yield conn.root()[ROOT_KEY]
    conn.transaction_manager.abort()
    conn.close()
