"""Registration, PKI login with the smart card and with Mobile ID, and logout
through the Single Log-Out page, in English and in Arabic."""

from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from .journey import DIRECTIONS
from .steps import PEOPLE, log_out, login_with_card, login_with_mobile_id, register

pytestmark = pytest.mark.browser


def test_registration(journeys, stack):
    journey = journeys.open('registration')
    # Someone whom no other test registers, so the journey starts from scratch.
    register(journey, '90000002')
    page = journey.page
    # The PKI login that ended the registration logged the person in.
    expect(page.locator('details.user-menu summary')).to_have_text(
        journey._('Welcome, ${name}', name=PEOPLE.by_civil_id('90000002').name_en)
    )
    page.get_by_role('link', name=journey._('Go to the dashboard')).click()
    expect(page.get_by_role('heading', level=1)).to_have_text(journey._('E-services Dashboard'))


def test_login_with_smart_card_and_logout(journeys, members):
    members.register('90000001')
    journey = journeys.open('login-smart-card')
    login_with_card(journey, '90000001')
    page = journey.page
    expect(page.locator('details.user-menu summary')).to_have_text(
        journey._('Welcome, ${name}', name=PEOPLE.by_civil_id('90000001').name_en)
    )
    journey.snap('dashboard', phone=True)
    log_out(journey)
    response = page.goto('/dashboard')
    assert response.status == 403


def test_login_with_smart_card_after_a_wrong_pin(journeys, members):
    """The card answers a wrong PIN with the tries left, shown on the PIN pad; the PIN
    never goes to the identity provider."""
    members.register('90000008')
    journey = journeys.open('login-smart-card-wrong-pin')
    posted = []
    journey.page.on(
        'request',
        lambda request: (
            posted.append(request.post_data or '') if request.method == 'POST' else None
        ),
    )
    login_with_card(journey, '90000008', wrong_pin='1111')
    expect(journey.page.get_by_role('heading', level=1)).to_have_text(
        journey._('E-services Dashboard')
    )
    card_answers = [parse_qs(data) for data in posted if 'signature=' in data]
    assert [set(fields) for fields in card_answers] == [{'challenge', 'certificate', 'signature'}]


def test_login_with_mobile_id(journeys, members):
    members.register('90000001')
    journey = journeys.open('login-mobile-id')
    login_with_mobile_id(journey, '90000001')
    expect(journey.page.get_by_role('heading', level=1)).to_have_text(
        journey._('E-services Dashboard')
    )
    journey.snap('dashboard')


def test_browser_language_is_followed(browser, stack, language):
    """A browser that asks for Arabic gets it without choosing, one that asks for English
    gets English; the header's link switches to the other language."""
    context = browser.new_context(
        base_url=stack.base, locale={'en': 'en-US', 'ar': 'ar-OM'}[language]
    )
    try:
        page = context.new_page()
        page.goto('/')
        html = page.locator('html')
        assert (html.get_attribute('lang'), html.get_attribute('dir')) == (
            language,
            DIRECTIONS[language],
        )
        other = 'ar' if language == 'en' else 'en'
        page.get_by_role('link', name={'en': 'English', 'ar': 'العربية'}[other]).click()
        page.wait_for_load_state()
        assert (html.get_attribute('lang'), html.get_attribute('dir')) == (other, DIRECTIONS[other])
    finally:
        context.close()
