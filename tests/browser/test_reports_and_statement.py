"""Money, in English and in Arabic: a member pays for a certificate at the
sandbox gateway and reads the company's statement of account (its page and its
PDF); an administrator then finds the payment in /manage → Reports, the
revenue chart's total that of the orders CSV, and looks at the other reports."""

import csv
import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from .steps import confirm, login_with_card, pay, start_service, step_up

pytestmark = pytest.mark.browser

MEMBER = '90000001'
ADMIN = '90000009'


@pytest.fixture(scope='module', autouse=True)
def registered(members):
    members.register(MEMBER, ADMIN)


def baisa(text):
    return round(float(text.replace(',', '')) * 1000)


def net_total_of(page):
    """The revenue table's total of the period: after the services' columns,
    the net total, then what was received and what is owed back."""
    totals = page.locator('table.figures tfoot td')
    return totals.nth(totals.count() - 3)


def statement_of_the_payment(journeys, tmp_path):
    """The member pays for a certificate and reads the statement: ``(order
    reference, amount)`` of its order line."""
    journey = journeys.open('statement')
    page, _ = journey.page, journey._
    login_with_card(journey, MEMBER)
    start_service(journey, 'Get your Certificate', '1229237', '91868')
    step_up(journey, MEMBER, 'card')
    confirm(journey, 'Get Your Certificate')
    pay(journey)
    expect(page.get_by_role('status')).to_contain_text(_('Your request is complete.'))
    page.goto('/dashboard')
    page.get_by_role('link', name='%s 1229237' % _('Statement of account')).click()
    page.wait_for_url('**/account/companies/1229237/statement')
    expect(page.get_by_role('heading', level=1)).to_have_text(_('Statement of account'))
    rows = page.locator('table.statement tbody tr')
    order = rows.filter(has_text=_('Get your Certificate'))
    expect(order).to_have_count(1)
    reference = order.locator('td').nth(2).inner_text()
    amount = order.locator('td').nth(3).inner_text()
    payment = rows.filter(has_text=_('Card payment (${card})', card='Visa 1111'))
    expect(payment.locator('td').nth(4)).to_have_text(amount)
    journey.snap('statement', phone=True)
    with page.expect_download() as download:
        page.get_by_role('link', name=_('Download this statement (PDF)')).click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    text = ''.join(pdf_page.extract_text() for pdf_page in PdfReader(pdf).pages)
    assert '1229237' in text and reference in text and amount in text
    return reference, amount


def test_a_payment_in_the_statement_and_the_revenue_report(journeys, tmp_path):
    reference, amount = statement_of_the_payment(journeys, tmp_path)
    journey = journeys.open('reports')
    page, _ = journey.page, journey._
    login_with_card(journey, ADMIN)
    page.get_by_role('link', name=_('Reports'), exact=True).click()
    expect(page.get_by_role('heading', level=2)).to_have_text(_('Revenue by month and service'))
    chart = page.locator('figure.report-chart svg')
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute('direction', 'rtl' if journey.language == 'ar' else 'ltr')
    net_total = net_total_of(page).inner_text()
    assert baisa(net_total) == baisa(amount)
    journey.snap('reports-revenue')
    with page.expect_download() as download:
        page.get_by_role('button', name=_('The orders made in this period, as CSV')).click()
    orders = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding='utf-8'))))
    assert [row['reference'] for row in orders if row['state'] == 'paid'] == [reference]
    assert sum(baisa(row['amount']) for row in orders if row['state'] == 'paid') == baisa(net_total)
    page.get_by_label(_('Service'), exact=True).select_option('renewal')
    page.get_by_role('button', name=_('Show')).click()
    expect(net_total_of(page)).to_have_text('0.000')
    journey.snap('reports-revenue-renewals')
    for title, label in (
        ('E-service funnel', 'reports-funnel'),
        ('Memberships by grade and status', 'reports-memberships'),
        ('Expiries per week', 'reports-expiries'),
        ('New members by month', 'reports-new-members'),
    ):
        page.get_by_role('link', name=_(title), exact=True).click()
        expect(page.get_by_role('heading', level=2)).to_have_text(_(title))
        expect(page.locator('figure.report-chart svg')).to_be_visible()
        journey.snap(label)
