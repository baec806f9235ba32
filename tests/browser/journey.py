"""One person's way through the portal, in one language, in its own browser context.

Every page the journey stops at (``Journey.snap``) is checked the same way: it speaks the
journey's language in the right direction, axe-core finds nothing serious or critical on it, the
keyboard focus is visible, and a full-page screenshot is kept under
``test-output/screenshots/<language>/<journey>/`` (also at phone width where asked). Script
errors and Content-Security-Policy violations on any page of the journey are noted too.
These findings are collected rather than raised at once, so one journey reports every page
that has them; ``conftest.py`` fails the test with the list.
"""

import shutil
from functools import cache
from pathlib import Path

from playwright.sync_api import expect
from pyramid.i18n import TranslationString, make_localizer

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / 'test-output' / 'screenshots'
AXE_SCRIPT = ROOT / '.make' / 'axe' / 'node_modules' / 'axe-core' / 'axe.min.js'
# The portal's catalogs and those of the development IdP and the sandbox gateway, so
# journeys find buttons and links by the words a person reads in either language.
CATALOG_DIRS = [
    str(ROOT / package / 'locale') for package in ('occi_site', 'pki_idp', 'payment_sandbox')
]
DESKTOP = {'width': 1280, 'height': 800}
PHONE = {'width': 375, 'height': 812}
BLOCKING_IMPACTS = ('serious', 'critical')
DIRECTIONS = {'en': 'ltr', 'ar': 'rtl'}
FOCUS_STEPS = 3

# TinyMCE, the rich text editor deform's widget brings, draws its own toolbar (.tox) with ARIA
# problems of its own (aria-allowed-attr, aria-prohibited-attr, label-content-name-mismatch)
# that the portal cannot change; the field it edits keeps its label and is checked.
AXE_RUN = "axe.run({exclude: ['.tox']}, {resultTypes: ['violations']})"
# What a sighted keyboard user sees of the focused element: an outline or a focus shadow.
FOCUS_STYLE = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return {element: element.outerHTML.slice(0, 120), visible: outline || style.boxShadow !== 'none'};
}"""


@cache
def axe_source():
    return AXE_SCRIPT.read_text(encoding='utf-8')


@cache
def localizer(language):
    return make_localizer(language, CATALOG_DIRS)


def translate(language, msgid, domain='occi_site', **mapping):
    """``msgid`` as the pages of ``domain`` show it in ``language``."""
    return localizer(language).translate(TranslationString(msgid, domain=domain, mapping=mapping))


class Journey:
    def __init__(self, browser, base_url, language, name, checked_pages):
        self.browser = browser
        self.checked_pages = checked_pages
        self.base_url = base_url
        self.language = language
        self.name = name
        self.findings = []
        self.shots = 0
        self.folder = SCREENSHOTS / language / name
        self.context = self.new_context(DESKTOP)
        self.page = self.context.new_page()

    def new_context(self, viewport, **options):
        # Every journey starts in an English browser; the Arabic ones switch with the
        # pages' own language links, as a person does.
        context = self.browser.new_context(
            base_url=self.base_url, locale='en-US', viewport=viewport, **options
        )
        context.on('page', self.watch)
        return context

    def watch(self, page):
        page.on('pageerror', self.script_error)
        page.on('console', self.console_message)

    def script_error(self, error):
        self.findings.append('%s %s: script error: %s' % (self.language, self.name, error))

    def console_message(self, message):
        # Chromium reports what the Content-Security-Policy blocked on the console.
        if 'Content Security Policy' in message.text:
            self.findings.append('%s %s: %s' % (self.language, self.name, message.text))

    def close(self):
        self.context.close()

    def _(self, msgid, **mapping):
        """A text of the portal in the journey's language."""
        return translate(self.language, msgid, **mapping)

    def idp(self, msgid, **mapping):
        """A text of the development IdP's pages."""
        return translate(self.language, msgid, domain='pki_idp', **mapping)

    def idp_plural(self, singular, plural, n):
        """A text of the IdP's pages with plural forms, for the number `n`."""
        return localizer(self.language).pluralize(
            singular, plural, n, domain='pki_idp', mapping={'tries': n}
        )

    def gateway(self, msgid, **mapping):
        """A text of the sandbox gateway's pages."""
        return translate(self.language, msgid, domain='payment_sandbox', **mapping)

    def speak(self, page=None):
        """Switch a page to the journey's language with its own header link ("العربية")."""
        page = page or self.page
        html = page.locator('html')
        if html.get_attribute('lang') != self.language:
            page.locator(
                'header a[hreflang="%s"], header a[lang="%s"]' % (self.language, self.language)
            ).first.click()
            expect(html).to_have_attribute('lang', self.language)
        self.assert_language(page)

    def assert_language(self, page):
        html = page.locator('html')
        assert (html.get_attribute('lang'), html.get_attribute('dir')) == (
            self.language,
            DIRECTIONS[self.language],
        ), page.url

    def snap(self, label, page=None, phone=False, focus=True, shared=False):
        """Check and photograph the page the journey stands on; ``phone`` also renders it
        at phone width in a second context that shares this one's cookies.

        A ``shared`` page is one every journey passes the same way (the IdP's and the
        gateway's): it is checked once per language and test session, photographed always.
        """
        page = page or self.page
        check = not shared or (self.language, label) not in self.checked_pages
        self.checked_pages.add((self.language, label))
        page.wait_for_load_state()
        self.assert_language(page)
        if not self.shots:
            # A journey's screenshots are those of its latest run only.
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        stem = '%02d-%s' % (self.shots, label)
        page.screenshot(path=self.folder / (stem + '.png'), full_page=True)
        if check:
            self.check_accessibility(page, stem)
        if check and focus:
            self.check_focus(page, stem)
        if phone:
            self.snap_phone(page.url, stem, check)

    def snap_phone(self, url, stem, check):
        context = self.new_context(
            PHONE, is_mobile=True, has_touch=True, storage_state=self.context.storage_state()
        )
        try:
            page = context.new_page()
            page.goto(url)
            self.assert_language(page)
            page.screenshot(path=self.folder / (stem + '-phone.png'), full_page=True)
            if check:
                self.check_accessibility(page, stem + '-phone')
        finally:
            context.close()

    def check_accessibility(self, page, stem):
        # Evaluated through the DevTools protocol: the pages' policy allows no inline script.
        page.evaluate(axe_source())
        for violation in page.evaluate(AXE_RUN)['violations']:
            if violation['impact'] in BLOCKING_IMPACTS:
                targets = '; '.join(
                    ' '.join(map(str, node['target'])) for node in violation['nodes']
                )
                self.findings.append(
                    '%s %s (%s): %s [%s] %s -> %s'
                    % (
                        self.language,
                        stem,
                        page.url,
                        violation['id'],
                        violation['impact'],
                        violation['help'],
                        targets,
                    )
                )

    def check_focus(self, page, stem):
        """The first few Tab stops show where the focus is."""
        for _step in range(FOCUS_STEPS):
            page.keyboard.press('Tab')
            focused = page.evaluate(FOCUS_STYLE)
            if focused is not None and not focused['visible']:
                self.findings.append(
                    '%s %s (%s): focus not visible on %s'
                    % (self.language, stem, page.url, focused['element'])
                )
        page.evaluate('() => document.activeElement && document.activeElement.blur()')

    def outbox(self):
        """The portal's dev outbox, read through this browser's own cookies."""
        return self.page.request.get('/_dev/outbox.json').json()['messages']
