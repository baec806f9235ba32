"""A member's statement of account: its page and PDF, who may read them, and
what they list, from orders paid, paid twice and refunded through the sandbox
gateway, debits the chamber recorded and years left unpaid."""

from datetime import UTC, datetime

import pytest
import webtest

from .conftest import add_account, edit, login, portal_settings, script_request, visitor
from .test_payment_portal import (
    admin_of,
    answer_of,
    back_to_portal,
    in_db,
    pay_at_gateway,
    renewal_order,
    stack,  # noqa: F401 (the fixture)
    to_gateway,
)


@pytest.fixture
def wsgi(tmp_path):
    import occi_site

    return occi_site.main(
        {}, **portal_settings(tmp_path, **{'pyramid.includes': 'tests.probe_views'})
    )


def table_rows(page):
    """The statement's rows as ``[(date, description, reference, debit, credit, balance)]``."""
    return [
        tuple(cell.get_text(' ', strip=True) for cell in row.find_all('td'))
        for row in page.html.find('table', class_='statement').find('tbody').find_all('tr')
    ]


def test_the_dashboard_links_each_company_to_its_statement(wsgi):
    member = login(wsgi, '90000002')
    links = [
        a['href'] for a in member.get('/dashboard').html.find_all('a') if 'statement' in a['href']
    ]
    assert 'http://localhost/account/companies/1279531/statement' in links
    assert all(member.get(link).status_int == 200 for link in links)


def test_arrears_and_recorded_debits_with_their_running_balance(wsgi):
    wsgi.registry.occi_clock = lambda: datetime(2026, 6, 1, 8, 0, tzinfo=UTC)

    def record(site):
        companies = site['companies']
        companies.record_debit(
            companies['1279531'],
            12_500,
            'Late certificate fee',
            datetime(2026, 5, 20, 21, 30, tzinfo=UTC),
            script_request(wsgi.registry),
        )

    edit(wsgi, record)
    member = login(wsgi, '90000002')
    page = member.get('/account/companies/1279531/statement')
    assert table_rows(page) == [
        (
            '2024-05-03',
            'Membership from 3 May 2024 to 2 May 2025, unpaid (Third grade)',
            '90412',
            '50.000',
            '',
            '50.000',
        ),
        (
            '2025-05-03',
            'Membership from 3 May 2025 to 2 May 2026, unpaid (Third grade)',
            '90412',
            '50.000',
            '',
            '100.000',
        ),
        # Recorded at 21:30 UTC, the next day in Oman.
        (
            '2026-05-21',
            'Debit recorded by the chamber: Late certificate fee',
            '',
            '12.500',
            '',
            '112.500',
        ),
    ]
    assert page.html.find(class_='statement-balance').text == (
        'The company owes the chamber RO 112.500.'
    )
    arabic = member.get('/account/companies/1279531/statement', headers={'Accept-Language': 'ar'})
    assert arabic.html.html['dir'] == 'rtl'
    assert arabic.html.h1.text == 'كشف الحساب'
    assert table_rows(arabic)[0][1] == (
        'العضوية من 3 مايو 2024 إلى 2 مايو 2025، غير مسددة (الدرجة الثالثة)'
    )
    assert table_rows(arabic)[-1][-1] == '112.500'
    pdf = member.get('/account/companies/1279531/statement.pdf')
    assert pdf.content_type == 'application/pdf'
    assert pdf.body.startswith(b'%PDF')
    assert 'statement-1279531-2026-06-01.pdf' in pdf.headers['Content-Disposition']
    # The page is left uncompressed: its Latin text is in the file as written.
    for text in (b'112.500', b'Late certificate fee', b'1279531'):
        assert text in pdf.body
    assert member.get(
        '/account/companies/1279531/statement.pdf', headers={'Accept-Language': 'ar'}
    ).body.startswith(b'%PDF')


def test_a_company_with_nothing_charged_says_so(wsgi):
    member = login(wsgi, '90000002')
    page = member.get('/account/companies/1304464/statement')
    assert page.html.find('table', class_='statement') is None
    assert 'Nothing has been charged or paid for this company on the portal.' in page
    assert 'Nothing is owed either way.' in page


@pytest.mark.parametrize('suffix', ['statement', 'statement.pdf'])
def test_only_the_companys_own_people_read_its_statement(wsgi, suffix):
    # 1229237 is a company of 90000001's, not of 90000002's.
    member = login(wsgi, '90000002')
    # Not found, as a company with no record is: the address tells nothing.
    denied = member.get('/account/companies/1229237/%s' % suffix, status=404)
    assert 'Sohar' not in denied.text and '91868' not in denied.text
    member.get('/account/companies/0000000/%s' % suffix, status=404)
    visitor(wsgi).get('/account/companies/1279531/%s' % suffix, status=403)
    member.post('/account/companies/1279531/%s' % suffix, status=404)
    owner = login(wsgi, '90000001')
    assert owner.get('/account/companies/1229237/%s' % suffix).status_int == 200


def test_payments_a_second_approval_and_its_refund(stack):  # noqa: F811 (the fixture)
    _request_id, order_page = renewal_order(stack)
    order_id = order_page.request.url.rstrip('/').rsplit('/', 1)[1]
    first, second = to_gateway(stack, order_page), to_gateway(stack, order_page)
    first_receipt = pay_at_gateway(first)
    paid = answer_of(first_receipt)
    back_to_portal(first_receipt)
    receipt = pay_at_gateway(second)
    twice = answer_of(receipt)
    back_to_portal(receipt)
    page = stack.browser.get('/account/companies/1229237/statement')
    rows = table_rows(page)
    descriptions = [(row[1].split(':')[0], row[2], row[3], row[4]) for row in rows]
    assert ('Membership Renewal', order_id, '50.000', '') in descriptions
    assert ('Card payment (Visa 1111)', paid['transaction_id'], '', '50.000') in descriptions
    assert ('Card payment (Visa 1111)', twice['transaction_id'], '', '50.000') in descriptions
    due = [row for row in rows if row[1].startswith('Refund due')]
    assert [(row[2], row[3], row[4]) for row in due] == [(twice['transaction_id'], '', '')]
    assert due[0][1].endswith('(50.000)')
    assert page.html.find(class_='statement-balance').text == (
        'The chamber owes the company RO 50.000.'
    )
    admin = admin_of(stack)
    form = admin.get(order_page.request.url + '@@manage-payment').forms['deform']
    form['transaction_id'] = twice['transaction_id']
    form['note'] = 'Refunded by the bank, reference RF-1'
    form.submit('refunded').follow()
    after = stack.browser.get('/account/companies/1229237/statement')
    made = [row for row in table_rows(after) if row[1] == 'Refund made to the card']
    assert [(row[2], row[3], row[5]) for row in made] == [
        (twice['transaction_id'], '50.000', '0.000')
    ]
    assert after.html.find(class_='statement-balance').text == 'Nothing is owed either way.'
    assert stack.server_errors() == []
    # The administrator reads it too; a member of another company does not.
    assert admin.get('/account/companies/1229237/statement').status_int == 200
    in_db(stack, lambda site: add_account(site, '90000002'))
    other = webtest.TestApp(stack.composite, extra_environ={'HTTP_HOST': stack.host})
    other.get('/_probe/login/90000002')
    other.get('/account/companies/1229237/statement', status=404)
