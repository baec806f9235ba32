"""Fixtures: the portal over a fresh in-memory ZODB for every test."""

import pathlib
import re
import socket
import tempfile
from datetime import UTC, datetime, timedelta

import pytest
import transaction
import webtest
from aiosmtpd.controller import Controller
from pyramid.config import Configurator
from pyramid.request import Request, apply_request_extensions

import occi_site
from occi_site.documents.development import CA_FILE, create_development_keys
from occi_site.events import DomainEvent
from occi_site.integrations.commercial_registry import RegistryError, SampleRegistry
from occi_site.resources import ROOT_KEY, database

# The PKI tests' fixtures (key pairs made once, the IdP-and-SP world) and the card reader stack.
pytest_plugins = ['tests.card_stack', 'tests.pki_helpers']


# A secret that passes the start-up checks, for tests that turn development tools off.
SOUND_SECRET = 'q8Vn3LsZ0pXw7RkT2mYc5HbJ9dGf4NaE'


class Clock:
    """The application's clock in a test (see the ``clock`` fixture): ``advance`` moves it."""

    def __init__(self, now=datetime(2026, 3, 1, 8, 0, tzinfo=UTC)):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


# The settings of the test run's document-signing key, made once (``document_keys``).
DOCUMENT_KEYS = {}

# An in-memory database with blobs (the signed documents are kept as blobs).
MEMORY_WITH_BLOBS = """<zodb>
  <blobstorage>
    blob-dir %s
    <mappingstorage>
    </mappingstorage>
  </blobstorage>
</zodb>
"""


@pytest.fixture(scope='session', autouse=True)
def document_keys(tmp_path_factory):
    """A development chamber document CA and signing key for the whole run."""
    folder = tmp_path_factory.mktemp('document-keys')
    DOCUMENT_KEYS.update(
        {
            'occi.documents.key_file': str(create_development_keys(folder)),
            'occi.documents.trust_roots': str(folder / CA_FILE),
        }
    )
    return folder


def memory_database(tmp_path):
    """The URI of a new in-memory database whose blobs live under ``tmp_path``."""
    blobs = tempfile.mkdtemp(prefix='blobs-', dir=tmp_path)
    config = pathlib.Path(blobs + '.conf')
    config.write_text(MEMORY_WITH_BLOBS % blobs, encoding='utf-8')
    return 'zconfig://%s' % config


def cells(html, selector='td, dd'):
    """The text of every ``selector`` element of ``html`` (parsed HTML), its
    spaces collapsed: an amount or a number is checked against a whole cell,
    so that 'RO 4' is not found in 'RO 40'."""
    return [' '.join(cell.get_text().split()) for cell in html.select(selector)]


def shows(text, value):
    """Whether ``value`` stands in ``text`` on its own, not as part of a longer
    number or word: 'RO 4' is not shown by 'RO 40' nor 'RO 4.500', '91868'
    not by '918680'."""
    pattern = r'(?<![\w.,])%s(?![\w@]|[.,]\d)' % re.escape(value)
    return re.search(pattern, text) is not None


def portal_settings(tmp_path, **overrides):
    settings = {
        'zodbconn.uri': memory_database(tmp_path),
        'zodbconn.uri.sessions': 'memory://',
        'occi.dev_tools': 'true',
        'occi.sample_data': 'true',
        'occi.outbox_path': str(tmp_path / 'outbox.jsonl'),
        'occi.mail': 'outbox',
        'occi.sms': 'outbox',
        # The worker's delivery step runs right after each commit, so a test
        # reads the outbox (or the SMTP server) right after the action.
        'occi.notify.delivery': 'after_commit',
        'occi.captcha': 'test',
        'occi.session.secret': 'test-secret',
        'occi.public_url': 'http://localhost',
        'retry.attempts': '3',
        **DOCUMENT_KEYS,
    }
    settings.update(overrides)
    return settings


@pytest.fixture
def unused_port():
    """A loopback port nothing listens on (for a server the test starts, or keeps down)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class ScriptedSMTP:
    """An SMTP server that answers the first messages with ``refusals``
    (DATA) or refuses recipients while ``refuse_rcpt`` is set, then accepts."""

    def __init__(self, port):
        self.port = port
        self.refusals = []
        self.refuse_rcpt = None
        self.received = []
        self.running = False
        self.controller = Controller(self, hostname='127.0.0.1', port=port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        if self.refusals:
            return self.refusals.pop(0)
        self.received.append(envelope)
        return '250 OK'

    def start(self):
        self.controller.start()
        self.running = True

    def stop(self):
        if self.running:
            self.controller.stop()
            self.running = False

    def settings(self):
        return {'occi.mail': 'smtp', 'mail.host': '127.0.0.1', 'mail.port': str(self.port)}


@pytest.fixture
def smtp(unused_port):
    server = ScriptedSMTP(unused_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock():
    """The clock of every portal this test makes (``make_app``, ``wsgi_app``,
    ``portal``...): 1 March 2026, 08:00 UTC, until the test moves it.  A
    test that does not ask for it runs on the real time."""
    return Clock()


def on_test_clock(request, wsgi):
    """``wsgi`` reads the test's clock, if the test asked for one."""
    if 'clock' in request.fixturenames:
        wsgi.registry.occi_clock = request.getfixturevalue('clock')
    return wsgi


@pytest.fixture
def make_app(request, tmp_path):
    def make(**overrides):
        return on_test_clock(request, occi_site.main({}, **portal_settings(tmp_path, **overrides)))

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


def script_request(registry):
    """A request for a change made outside any web request, as a script makes
    one: the resources announce their events through ``registry``."""
    request = Request.blank('/')
    request.registry = registry
    apply_request_extensions(request)
    return request


@pytest.fixture
def announced():
    """``(request, events)``: a request whose registry keeps every domain
    event announced through it in ``events``, and has no other subscriber."""
    events = []
    config = Configurator()
    config.add_subscriber(events.append, DomainEvent)
    config.commit()
    return script_request(config.registry), events


def silence_registry(monkeypatch):
    """From now until ``monkeypatch`` is undone, the embedded commercial
    registry does not answer."""

    def unreachable(registry, cr_number):
        raise RegistryError('registry unreachable at http://registry.test: timed out')

    monkeypatch.setattr(SampleRegistry, 'company', unreachable)


def add_account(
    site,
    civil_id,
    *,
    roles=('member',),
    full_name='Test Person',
    email=None,
    mobile=None,
    state='active',
):
    """An account straight in the database (registration is tested on its own)."""
    from occi_site.resources.account import Account

    account = Account(
        civil_id, full_name, email or '%s@example.om' % civil_id, mobile or '9%s' % civil_id[-7:]
    )
    for role in roles:
        account.grant(role)
    site['accounts'].add(civil_id, account)
    account.activate(datetime.now(UTC))
    if state == 'locked':
        account.lock()
    return account


@pytest.fixture
def login_app(make_app):
    """``login_app(civil_id, roles=...)``: a TestApp logged in as a new active account."""
    from occi_site.resources import ROOT_KEY, database

    def make(civil_id='90000001', roles=('member',), **account_fields):
        wsgi = make_app(**{'pyramid.includes': 'tests.probe_views'})
        conn = database(wsgi.registry).open()
        with conn.transaction_manager:
            add_account(conn.root()[ROOT_KEY], civil_id, roles=roles, **account_fields)
        conn.close()
        app = webtest.TestApp(wsgi, extra_environ={'HTTP_ACCEPT_LANGUAGE': 'en'})
        app.get('/_probe/login/%s' % civil_id)
        return app

    return make


@pytest.fixture
def portal(make_app, tmp_path):
    """The portal on a FileStorage with blobs (images, undo), its records
    compressed as development.ini's are, shared by every TestApp a test
    makes with ``login``."""
    uri = 'zlibfile://%s?blobstorage_dir=%s' % (tmp_path / 'Data.fs', tmp_path / 'blobs')
    wsgi = make_app(**{'zodbconn.uri': uri, 'pyramid.includes': 'tests.probe_views'})
    yield wsgi
    database(wsgi.registry).close()


def edit(wsgi, change):
    """Run ``change(site)`` in a transaction of its own, as a script would."""
    tm = transaction.TransactionManager(explicit=True)
    conn = database(wsgi.registry).open(transaction_manager=tm)
    try:
        with tm:
            result = change(conn.root()[ROOT_KEY])
    finally:
        conn.close()
    return result


def read(wsgi, look):
    """``look(site)`` on the committed state."""
    conn = database(wsgi.registry).open()
    try:
        return look(conn.root()[ROOT_KEY])
    finally:
        conn.close()


def visitor(wsgi, lang='en'):
    return webtest.TestApp(wsgi, extra_environ={'HTTP_ACCEPT_LANGUAGE': lang})


def login(wsgi, civil_id, roles=('member',), lang='en'):
    edit(wsgi, lambda site: add_account(site, civil_id, roles=roles))
    app = visitor(wsgi, lang)
    app.get('/_probe/login/%s' % civil_id)
    return app


def add_content(wsgi, container_path, name, factory, state='private', **fields):
    def change(site):
        container = site
        for part in container_path:
            container = container[part]
        item = container.add(name, factory(**fields))
        if state != 'private':
            item.transition('publish', '90000009', datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
        return item.uid

    return edit(wsgi, change)
