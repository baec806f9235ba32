"""The five e-services end to end for the test people 90000001 and 90000002, in
English and in Arabic: the company, the personal verification (step-up by card
or Mobile ID), the company's data and price, payment at the sandbox gateway,
and the fulfilled request with its certificate."""

import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from .steps import DECLINED_CARD, confirm, login_with_card, pay, rial, start_service, step_up

pytestmark = pytest.mark.browser

SERIAL = re.compile(r'OCCI-\d{4}-\d{6}')


@pytest.fixture(scope='module', autouse=True)
def registered(members):
    members.register('90000001', '90000002')


def assert_complete(journey):
    expect(journey.page.get_by_role('status')).to_contain_text(
        journey._('Your request is complete.')
    )
    journey.snap('request-complete')
    return SERIAL.search(journey.page.locator('dl.facts').inner_text()).group(0)


def test_new_membership(journeys):
    journey = journeys.open('new-membership')
    login_with_card(journey, '90000001')
    start_service(journey, 'New Membership Registration', '1445820')
    step_up(journey, '90000001', 'mobile')
    expect(journey.page.locator('dl.facts')).to_contain_text('1445820')
    confirm(journey, 'Register')
    assert_complete(journey)


def test_renewal_for_two_years_declined_card_then_paid(journeys):
    journey = journeys.open('renewal')
    page, _ = journey.page, journey._
    login_with_card(journey, '90000001')
    start_service(journey, 'Membership Renewal', '1229237', '91868')
    step_up(journey, '90000001', 'card', phone=True)
    page.get_by_label(_('Renewal Period')).select_option('2')
    page.wait_for_url('**years=2')
    facts = page.locator('dl.facts')
    expect(facts).to_contain_text(_('Second year fees'))
    expect(facts.locator('strong')).to_have_text(rial(journey, 50))
    new_expiry = facts.locator('dt', has_text=_('New expiry date')).locator('+ dd').inner_text()
    journey.snap('two-years')
    confirm(journey, 'Renew Membership')
    pay(journey, DECLINED_CARD)
    # Back at the same request, nothing renewed: it says why, and the member tries again.
    expect(page.get_by_role('alert')).to_contain_text(
        _(
            'Your card was declined by the card issuer. No money was taken. '
            'Please try again, or use another card.'
        )
    )
    journey.snap('after-declined-card')
    pay(journey, again=True)
    assert_complete(journey)
    expect(page.locator('dl.facts')).to_contain_text(new_expiry)
    page.get_by_role('link', name=_('Receipt'), exact=True).click()
    page.wait_for_url('**/receipt')
    expect(page.locator('dl.facts')).to_contain_text(rial(journey, 50))
    journey.snap('receipt')


def test_get_your_certificate_download_and_verify(journeys, tmp_path):
    journey = journeys.open('certificate')
    page, _ = journey.page, journey._
    login_with_card(journey, '90000001')
    start_service(journey, 'Get your Certificate', '1229237', '91868')
    step_up(journey, '90000001', 'card')
    expect(page.locator('dl.facts')).to_contain_text('promising projects')
    confirm(journey, 'Get Your Certificate')
    pay(journey)
    serial = assert_complete(journey)
    with page.expect_download() as download:
        page.get_by_role('link', name=_('Download the Membership Certificate')).click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    assert download.value.suggested_filename == '%s.pdf' % serial
    text = ''.join(pdf_page.extract_text() for pdf_page in PdfReader(pdf).pages)
    assert serial in text
    page.get_by_role('link', name=_('Verification page')).click()
    page.wait_for_url('**/verify/%s/*' % serial)
    expect(page.get_by_role('status')).to_have_text(_('This certificate is valid.'))
    journey.snap('verify-certificate', phone=True)


def test_change_name(journeys):
    journey = journeys.open('change-name')
    login_with_card(journey, '90000002')
    start_service(journey, 'Change Name', '1304464', '88231')
    step_up(journey, '90000002', 'mobile')
    facts = journey.page.locator('dl.facts')
    expect(facts).to_contain_text('Nizwa Dates')
    expect(facts).to_contain_text('Nizwa Date Company')
    confirm(journey, 'Change Name')
    pay(journey)
    assert_complete(journey)


def test_change_grade(journeys):
    journey = journeys.open('change-grade')
    page, _ = journey.page, journey._
    login_with_card(journey, '90000002')
    start_service(journey, 'Change Grade', '1020446', '77105')
    step_up(journey, '90000002', 'card')
    facts = page.locator('dl.facts')
    expect(facts.locator('dt', has_text=_('New Grade')).locator('+ dd')).to_have_text(_('Second'))
    expect(facts).to_contain_text(rial(journey, 4))
    confirm(journey, 'Change Grade')
    pay(journey)
    assert_complete(journey)
    page.goto('/dashboard')
    request_row = page.locator('tr', has=page.get_by_role('link', name=_('Change Grade')))
    expect(request_row).to_contain_text(_('Completed'))
    journey.snap('dashboard-with-documents')
