"""Fixtures: one headless Chromium for the session, one whole development stack
(portal, IdP, gateway on a loopback port, fresh database, and the card agent
before the session's card reader stack) per test module and language, and the
journeys a test opens, each in a fresh browser context.

Accounts are registered once per module and language (``members``), through
the registration pages like anyone else; the tests of a module share them and
nothing more, so each test can also run alone.
"""

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from ..stack import Stack
from .journey import AXE_SCRIPT, Journey
from .steps import log_out, register

CHROMIUM = Path('/usr/bin/chromium')
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-quic',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
]
PORTAL_OVERRIDES = {
    # The portal's real image captcha; the journeys read its answer from /_dev/captcha.json.
    'occi.captcha': 'image',
    'occi.initial_admins': '90000009',
    'occi.initial_editors': '90000008',
}


@pytest.fixture(scope='session')
def browser():
    if not CHROMIUM.exists():
        pytest.skip('Chromium is not installed at %s (make test installs it)' % CHROMIUM)
    if not AXE_SCRIPT.exists():
        pytest.fail('axe-core is missing: npm install --prefix .make/axe axe-core@4')
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope='module', params=['en', 'ar'])
def language(request):
    return request.param


@pytest.fixture(scope='module')
def stack(language, tmp_path_factory, card_stack):
    stack = Stack(tmp_path_factory.mktemp('stack-%s' % language), card_stack, **PORTAL_OVERRIDES)
    yield stack
    stack.close()


@pytest.fixture(scope='session')
def checked_pages():
    """The shared pages (IdP, gateway) already checked for accessibility, by language."""
    return set()


class Members:
    """The test people registered on this module's portal so far."""

    def __init__(self, browser, stack, language, checked_pages, module):
        self.browser, self.stack, self.language = browser, stack, language
        self.checked_pages = checked_pages
        # The set-up's screenshots, one folder per module: two test processes may register
        # members for two modules at once.
        self.journey_name = 'setup-registration-%s' % module
        self.registered = set()

    def register(self, *civil_ids):
        for civil_id in civil_ids:
            if civil_id not in self.registered:
                journey = Journey(
                    self.browser,
                    self.stack.base,
                    self.language,
                    self.journey_name,
                    self.checked_pages,
                )
                try:
                    register(journey, civil_id, snap=False)
                    # The PKI login that ends a registration starts a session: the tests
                    # start their own.
                    log_out(journey)
                finally:
                    journey.close()
                self.registered.add(civil_id)


@pytest.fixture(scope='module')
def members(request, browser, stack, language, checked_pages):
    module = request.module.__name__.rsplit('.', 1)[-1]
    return Members(browser, stack, language, checked_pages, module)


class Journeys:
    def __init__(self, browser, stack, language, checked_pages):
        self.browser, self.stack, self.language = browser, stack, language
        self.checked_pages = checked_pages
        self.opened = []

    def open(self, name, language=None):
        journey = Journey(
            self.browser, self.stack.base, language or self.language, name, self.checked_pages
        )
        self.opened.append(journey)
        return journey

    def close(self):
        for journey in self.opened:
            journey.close()

    @property
    def findings(self):
        return [finding for journey in self.opened for finding in journey.findings]


@pytest.fixture
def journeys(browser, stack, language, checked_pages):
    opened = Journeys(browser, stack, language, checked_pages)
    yield opened
    opened.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A journey that went through but met serious accessibility problems or script
    errors fails with every one of them listed, page by page."""
    result = yield
    journeys = item.funcargs.get('journeys')
    if journeys is not None and journeys.findings:
        pytest.fail(
            'Problems found in the browser:\n' + '\n'.join(journeys.findings), pytrace=False
        )
    return result
