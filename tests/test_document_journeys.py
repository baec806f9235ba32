"""Signed documents through the whole stack: a New Membership's certificate and a
paid renewal's receipt, downloaded by the member, read by pdfsig and uploaded
to the public verify page; an edited copy is called out."""

import pytest

from .conftest import DOCUMENT_KEYS, shows
from .stack import Stack
from .test_documents import NEEDS, assert_pdfsig_valid, changed_byte, pdfsig
from .test_journeys import choose_company, login_with_card, pay_at_gateway, register, step_up

AUTHENTIC = (
    'This document was issued by the Oman Chamber of Commerce and Industry '
    'and has not been changed.'
)


@pytest.fixture
def stack(tmp_path, card_stack):
    stack = Stack(tmp_path, card_stack)
    yield stack
    stack.close()


def check_at_verify_page(stack, pdf, name='certificate.pdf'):
    """Upload ``pdf`` as a visitor would: a fresh browser, the verify page's form."""
    page = stack.new_browser().get('/verify')
    form = page.forms['upload']
    form['upload'] = (name, pdf, 'application/pdf')
    return form.submit('check')


@NEEDS
def test_a_new_membership_certificate_proves_itself(stack, tmp_path):
    browser = stack.browser
    register(stack)
    login_with_card(stack, browser)
    request_page = choose_company(browser, 'new_membership', '1445820')
    step3 = step_up(stack, browser, request_page).follow()
    confirm = next(f for f in step3.forms.values() if f.action.endswith('/confirm'))
    done = confirm.submit('confirm').follow()
    pdf = done.click(description='Download the Membership Certificate').body
    assert_pdfsig_valid(pdfsig(pdf, tmp_path, DOCUMENT_KEYS['occi.documents.trust_roots']))
    checked = check_at_verify_page(stack, pdf)
    assert AUTHENTIC in checked and 'This certificate is valid.' in checked
    assert 'Al Noor Trading' in checked
    edited = check_at_verify_page(stack, changed_byte(pdf, b'Al Noor'))
    assert 'This document has been changed since the chamber signed it.' in edited
    assert AUTHENTIC not in edited
    facts = done.click(description='Verification page')
    assert facts.html.find('code', class_='fingerprint').text in checked


def test_a_paid_renewal_receipt_proves_itself(stack):
    browser = stack.browser
    register(stack)
    login_with_card(stack, browser)
    request_page = choose_company(browser, 'renewal', '1229237', '91868')
    step3 = step_up(stack, browser, request_page).follow()
    confirm = next(f for f in step3.forms.values() if f.action.endswith('/confirm'))
    done = pay_at_gateway(confirm.submit('confirm').follow())
    receipt_url = done.html.find('a', string='Receipt')['href'] + '.pdf'
    pdf = browser.get(receipt_url).body
    assert browser.get(receipt_url).body == pdf
    checked = check_at_verify_page(stack, pdf, 'receipt.pdf')
    assert AUTHENTIC in checked
    reference = receipt_url.split('/')[-2]
    assert reference in checked and shows(checked.text, 'RO 25')
