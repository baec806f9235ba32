"""The steps people take through the portal, the development IdP and the sandbox
gateway, as a person does them: by the labels and buttons they read in their
language, typing the PIN on the keypad, confirming Mobile ID on the phone.

Each step takes a ``Journey`` (journey.py) and stops to ``snap`` the pages it
passes, unless told not to.
"""

import re

from babel.numbers import format_decimal
from playwright.sync_api import expect

from pki_idp.people import People

from ..stack import NEXT_YEAR

PEOPLE = People.bundled()
# The e-mail code is six letters and digits at the end of its line; the SMS code six digits.
EMAIL_CODE = re.compile(r':\s*([A-Za-z0-9]{6})\s*$', re.MULTILINE)
SMS_CODE = re.compile(r'\b(\d{6})\b')
APPROVED_CARD = '4111111111111111'
DECLINED_CARD = '4000000000000002'
# The phone's answer reaches the waiting page at its next poll, every two seconds.
PHONE_ANSWER_TIMEOUT_MS = 15000
# The PIN pad asks the card agent whose card is in the reader every two seconds.
CARD_READ_TIMEOUT_MS = 15000


def email_of(civil_id):
    return '%s@example.om' % civil_id


def rial(journey, amount):
    """A whole amount of rials as the portal shows it: ``RO 25``."""
    return journey._('RO ${amount}', amount=format_decimal(amount, locale=journey.language))


def latest_message(journey, channel, to):
    messages = [m for m in journey.outbox() if m['channel'] == channel and to in m['to']]
    assert messages, 'no %s to %s in the outbox' % (channel, to)
    return messages[-1]['body']


def register(journey, civil_id, snap=True):
    """From the home page to "Registration complete": the form, both codes read from the
    dev outbox, then the PKI login with the person's card, which also logs them in."""
    person = PEOPLE.by_civil_id(civil_id)
    page, _ = journey.page, journey._
    page.goto('/')
    journey.speak()
    if snap:
        journey.snap('home', phone=True)
    page.get_by_role('link', name=_('Register'), exact=True).first.click()
    if snap:
        journey.snap('registration-form', phone=True)
    page.get_by_label(_('Full name (in English)')).fill(person.name_en)
    page.get_by_label(_('Civil ID number')).fill(civil_id)
    page.get_by_label(_('E-mail')).fill(email_of(civil_id))
    page.get_by_label(_('Mobile number')).fill('+968 ' + person.mobile)
    page.get_by_label(_('I accept the terms of use')).check()
    page.get_by_role('button', name=_('Submit')).click()
    page.wait_for_url('**/register/verify-email')
    # Nobody is logged in while registering: the header offers to log in.
    expect(page.locator('details.user-menu')).to_have_count(0)
    if snap:
        journey.snap('email-verification')
    code = EMAIL_CODE.search(latest_message(journey, 'email', email_of(civil_id))).group(1)
    page.get_by_label(_('Verification code')).fill(code)
    page.get_by_role('button', name=_('Verify')).click()
    page.wait_for_url('**/register/verify-mobile')
    if snap:
        journey.snap('mobile-verification')
    code = SMS_CODE.search(latest_message(journey, 'sms', person.mobile)).group(1)
    page.get_by_label(_('Verification code')).fill(code)
    page.get_by_role('button', name=_('Verify')).click()
    page.wait_for_url('**/register/confirm')
    expect(page.get_by_role('heading', level=1)).to_have_text(_('Confirm with the PKI'))
    if snap:
        journey.snap('registration-confirm', phone=True)
    page.get_by_role('button', name=_('Log in with PKI to finish')).click()
    page.wait_for_url('**/idp/**')
    journey.speak()
    page.get_by_role('link', name=journey.idp('Login using card')).click()
    card_at_idp(journey, civil_id)
    terminate(journey, '**/register/done')
    expect(page.get_by_role('heading', level=1)).to_have_text(_('Registration complete'))
    if snap:
        journey.snap('registration-complete')


def expect_heading(journey, text):
    """Wait for the page whose main heading says ``text`` (pages of the IdP share one path)."""
    expect(journey.page.get_by_role('heading', level=1)).to_have_text(text)


def insert_card(journey, civil_id):
    """On the PIN pad: the card of `civil_id` into the virtual reader with the page's own
    development button, until the page shows it read through the card agent."""
    page = journey.page
    card = page.locator('button[name="insert"][value="%s"]' % civil_id)
    if card.get_attribute('aria-pressed') != 'true':
        card.click()
        expect_heading(journey, journey.idp('Authenticate using your smart card'))
    expect(page.locator('[data-reader-status]')).to_contain_text(
        civil_id, timeout=CARD_READ_TIMEOUT_MS
    )


def type_pin(journey, pin):
    keys = journey.page.locator('.keys')
    for digit in pin:
        keys.get_by_role('button', name=digit, exact=True).click()
    assert journey.page.get_by_label(journey.idp('Enter your PIN')).input_value() == pin
    keys.get_by_role('button', name=journey.idp('Connect')).click()


def card_at_idp(journey, civil_id, wrong_pin=None):
    """The PIN pad with the person's card in the reader, the PIN typed on the on-screen keys
    (first `wrong_pin`, if given, and the card's answer to it); the card agent, pcscd and the
    emulated card do the rest."""
    person = PEOPLE.by_civil_id(civil_id)
    journey.speak()
    expect_heading(journey, journey.idp('Authenticate using your smart card'))
    insert_card(journey, civil_id)
    journey.snap('idp-pin-pad', shared=True)
    if wrong_pin:
        type_pin(journey, wrong_pin)
        expect(journey.page.get_by_role('alert')).to_have_text(
            journey.idp('Wrong PIN.')
            + ' '
            + journey.idp_plural('${tries} try left', '${tries} tries left', 2)
        )
        journey.snap('idp-pin-pad-wrong-pin')
    type_pin(journey, person.pin)


def mobile_id_at_idp(journey, civil_id):
    """The waiting page, the PIN confirmed on the simulated phone in a second tab, then
    the waiting page goes on by itself."""
    person = PEOPLE.by_civil_id(civil_id)
    journey.speak()
    expect_heading(journey, journey.idp('Confirm on your phone'))
    journey.snap('idp-mobile-waiting', shared=True)
    phone = journey.context.new_page()
    phone.goto('/idp/phone/%s' % person.mobile)
    journey.snap('phone', page=phone, shared=True)
    phone.get_by_label(journey.idp('Mobile ID PIN')).fill(person.pin)
    phone.get_by_role('button', name=journey.idp('Confirm'), exact=True).click()
    # Closing a tab while its navigation commits can hang Chromium's close for good, so the
    # phone's answer is read first.
    expect(phone.get_by_role('status')).to_have_text(
        journey.idp('Login confirmed. You can return to your computer.')
    )
    phone.close()
    terminate_button(journey).wait_for(timeout=PHONE_ANSWER_TIMEOUT_MS)


def terminate_button(journey):
    return journey.page.get_by_role(
        'button', name=journey.idp('Terminate and return to your originating service')
    )


def terminate(journey, back_to):
    """The IdP's Single Log Out page: "Terminate and return to your originating service",
    back to the portal's page ``back_to`` (a URL or glob)."""
    expect_heading(journey, journey.idp('Single Log Out'))
    journey.snap('idp-single-log-out', shared=True)
    terminate_button(journey).click()
    journey.page.wait_for_url(back_to)


def open_login(journey):
    """From the portal's header to the IdP's choice of login methods."""
    page = journey.page
    page.goto('/')
    journey.speak()
    page.get_by_role('link', name=journey._('Log in'), exact=True).click()
    page.wait_for_url('**/idp/**')
    journey.speak()
    expect(page.get_by_role('heading', level=2).first).to_have_text(
        journey.idp('Login with Mobile ID')
    )
    journey.snap('idp-login-methods', shared=True)


def login_with_card(journey, civil_id, wrong_pin=None):
    open_login(journey)
    journey.page.get_by_role('link', name=journey.idp('Login using card')).click()
    card_at_idp(journey, civil_id, wrong_pin)
    terminate(journey, '**/dashboard')


def login_with_mobile_id(journey, civil_id):
    person = PEOPLE.by_civil_id(civil_id)
    open_login(journey)
    page = journey.page
    page.get_by_label(journey.idp('Mobile number')).fill(person.mobile)
    page.get_by_role('button', name=journey.idp('Login using mobile')).click()
    mobile_id_at_idp(journey, civil_id)
    terminate(journey, '**/dashboard')


def log_out(journey):
    """The header's menu, "Log out", the IdP's Single Log Out page, back to the portal."""
    page, _ = journey.page, journey._
    page.locator('details.user-menu summary').click()
    page.get_by_role('button', name=_('Log out')).click()
    page.wait_for_url('**/idp/**')
    assert page.get_by_text(journey.idp('You are logged out from all services.')).is_visible()
    journey.snap('idp-logout', shared=True)
    page.get_by_role(
        'link', name=journey.idp('Terminate and return to your originating service')
    ).click()
    page.wait_for_url('**/logged-out')
    expect(page.get_by_role('heading', level=1)).to_have_text(_('You are logged out'))
    journey.snap('logged-out')


def start_service(journey, title, cr_number, occi_number=None):
    """Step 1 from the dashboard's tile: the company (and the captcha where asked)."""
    page, _ = journey.page, journey._
    page.goto('/dashboard')
    page.get_by_role('link', name=_(title), exact=True).click()
    page.get_by_label(_('CR Number')).select_option(cr_number)
    if occi_number is not None:
        page.get_by_label(_('OCCI Number')).select_option(occi_number)
    captcha = page.locator('img.captcha-image')
    if captcha.count():
        answer = page.request.get('/_dev/captcha.json').json()['answer']
        page.get_by_label(_('Captcha')).fill(answer)
    journey.snap('choose-company')
    page.get_by_role('button', name=_('Next')).click()
    page.wait_for_url('**/requests/**')
    expect(page.get_by_role('heading', level=2).first).to_have_text(_('Personal verification'))
    journey.snap('personal-verification')


def step_up(journey, civil_id, method, phone=False):
    """Step 2, the personal verification, back to step 3 of the same request."""
    page, _ = journey.page, journey._
    request_url = page.url
    if method == 'card':
        page.get_by_role('button', name=_('LOGIN USING CARD')).click()
        page.wait_for_url('**/idp/**')
        card_at_idp(journey, civil_id)
    else:
        page.get_by_label(_('Enter your mobile number')).fill(PEOPLE.by_civil_id(civil_id).mobile)
        page.get_by_role('button', name=_('LOGIN USING MOBILE')).click()
        page.wait_for_url('**/idp/**')
        mobile_id_at_idp(journey, civil_id)
    terminate(journey, request_url)
    journey.snap('company-data', phone=phone)


def confirm(journey, label):
    """Step 3's own button: to the order page, or back to the request, fulfilled."""
    journey.page.get_by_role('button', name=journey._(label), exact=True).click()


def pay(journey, card_number=APPROVED_CARD, again=False):
    """The order page (``again``: the request page after a payment that did not go
    through), then Billing → Payment → Review → Receipt at the gateway, and back
    to the request page (the receipt returns by itself)."""
    page, gateway = journey.page, journey.gateway
    if again:
        page.get_by_role('button', name=journey._('Try again')).click()
    else:
        page.wait_for_url('**/orders/*/')
        journey.snap('order')
        page.get_by_role('button', name=journey._('Pay by card')).click()
    page.wait_for_url('**/gateway/**')
    expect_heading(journey, gateway('Billing Information'))
    journey.snap('gateway-billing', shared=True)
    page.get_by_role('button', name=gateway('Next'), exact=True).click()
    expect_heading(journey, gateway('Payment Details'))
    journey.snap('gateway-payment', phone=True, shared=True)
    page.get_by_label('Visa').check()
    page.get_by_label(gateway('Card Number')).fill(card_number)
    page.get_by_label(gateway('CVN')).fill('123')
    page.get_by_label(gateway('Month'), exact=True).select_option('12')
    page.get_by_label(gateway('Year'), exact=True).select_option(NEXT_YEAR)
    page.get_by_role('button', name=gateway('Next'), exact=True).click()
    expect_heading(journey, gateway('Review'))
    journey.snap('gateway-review', shared=True)
    page.get_by_role('button', name=gateway('Pay'), exact=True).click()
    expect_heading(journey, gateway('Receipt'))
    # The receipt goes back to the portal by itself after two seconds: no Tab walk here.
    outcome = 'approved' if card_number == APPROVED_CARD else 'declined'
    journey.snap('gateway-receipt-' + outcome, focus=False, shared=True)
    page.wait_for_url('**/requests/**')
    page.wait_for_load_state()
