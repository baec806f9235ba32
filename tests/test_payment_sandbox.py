"""The sandbox card gateway, end to end through WebTest.

The checkout fields come from the portal's own adapter; the signed responses,
from the browser's return form and from the server notification (really posted
to a small HTTP server started here), are read back with the adapter too.
"""

import json
import logging
import re
import socket
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import webtest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from webtest.http import StopableWSGIServer

import payment_sandbox
from occi_site.integrations.payment import (
    PaymentQueryError,
    SecureAcceptanceGateway,
    sign_fields,
)
from tests.conftest import shows

PROFILE = {
    'sandbox.profile_id': 'OCCI-PORTAL',
    'sandbox.access_key': 'ak-0123',
    'sandbox.secret_key': 'sk-for-the-sandbox-tests',
}
NEXT_YEAR = str(date.today().year + 1)
PACKAGE = Path(payment_sandbox.__file__).parent


class MerchantServer:
    """The merchant's notification endpoint: records every form posted to it."""

    def __init__(self):
        self.posts = []
        self.arrived = threading.Condition()
        self.server = StopableWSGIServer.create(self.app)
        self.url = self.server.application_url + 'notify'

    def app(self, environ, start_response):
        request = webtest.TestRequest(environ)
        with self.arrived:
            self.posts.append(dict(request.POST))
            self.arrived.notify_all()
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'OK']

    def wait_for(self, count, timeout=5.0):
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.posts) >= count, timeout)
        return self.posts


@pytest.fixture
def merchant():
    server = MerchantServer()
    yield server
    server.server.shutdown()


def make_sandbox(**settings):
    wsgi = payment_sandbox.main({}, **{**PROFILE, **settings})
    return webtest.TestApp(wsgi, extra_environ={'SCRIPT_NAME': '/gateway'})


@pytest.fixture
def sandbox():
    return make_sandbox(**{'sandbox.test_switches': 'true', 'sandbox.browser_first_delay': '0.5'})


@pytest.fixture
def portal_gateway():
    return SecureAcceptanceGateway(
        endpoint_url='http://localhost/gateway/pay',
        profile_id='OCCI-PORTAL',
        access_key='ak-0123',
        secret_key='sk-for-the-sandbox-tests',
    )


_counter = iter(range(1, 10**6))


def checkout_fields(portal_gateway, notify_url='http://127.0.0.1:9/unused', **overrides):
    number = next(_counter)
    arguments = {
        'reference_number': f'OCCI-{number:06d}',
        'transaction_uuid': f'uuid-{number}',
        'amount_baisa': 50000,
        'locale': 'en',
        'bill_to': {
            'forename': 'Ali',
            'surname': 'Said',
            'email': 'ali@chamberoman.com',
            'phone': '99416689',
            'address_line1': 'Ruwi',
            'address_city': 'Muscat',
        },
        'return_url': 'http://localhost/payment/return',
        'notify_url': notify_url,
    }
    arguments.update(overrides)
    url, fields = portal_gateway.checkout(**arguments)
    assert url == 'http://localhost/gateway/pay'
    return fields


def start(sandbox, fields):
    response = sandbox.post('/pay', fields, status=303)
    return response.follow()


def submit(page, button, **values):
    form = page.forms[0]
    for name, value in values.items():
        form[name] = value
    return form.submit(button)


def pay_details(
    page, number='4111111111111111', card_type='001', cvn='123', month='12', year=NEXT_YEAR
):
    return submit(
        page,
        'next',
        card_type=card_type,
        card_number=number,
        card_cvn=cvn,
        card_expiry_month=month,
        card_expiry_year=year,
    )


def through_to_review(sandbox, fields, **card):
    payment = submit(start(sandbox, fields), 'next').follow()
    return pay_details(payment, **card).follow()


def return_form_fields(receipt):
    form = receipt.forms['return-to-merchant']
    assert form.action == 'http://localhost/payment/return'
    assert form.method.upper() == 'POST'
    return {name: field.value for name, (field,) in form.fields.items() if name}


# -- the journey ----------------------------------------------------------------


@pytest.mark.parametrize(
    'number, card_type, name, last4',
    [
        ('4111111111111111', '001', 'Visa', '1111'),
        ('5555 5555 5555 4444', '002', 'Mastercard', '4444'),
    ],
)
def test_approved_payment_end_to_end(
    sandbox, portal_gateway, merchant, number, card_type, name, last4
):
    fields = checkout_fields(portal_gateway, notify_url=merchant.url)
    billing = start(sandbox, fields)
    assert 'Billing Information' in billing
    assert billing.forms[0]['forename'].value == 'Ali'
    assert billing.forms[0]['address_country'].value == 'OM'

    payment = submit(billing, 'next').follow()
    assert 'Payment Details' in payment
    assert (
        'This code is a three or four digit number printed on the back or front of credit cards.'
    ) in payment
    review = pay_details(payment, number=number, card_type=card_type).follow()
    assert 'x' * 12 + last4 in review
    assert number.replace(' ', '') not in review

    decided = submit(review, 'pay')
    # The server notification is in before the browser is sent to the receipt.
    assert len(merchant.posts) == 1
    receipt = decided.follow()
    assert 'Your payment was approved.' in receipt
    for page in (billing, payment, review, receipt):
        assert 'Your Order' in page and shows(page.text, '50.000 OMR')

    browser = portal_gateway.read_result(return_form_fields(receipt))
    server = portal_gateway.read_result(merchant.posts[0])
    for result in (browser, server):
        assert (result.decision, result.reason_code, result.amount_baisa, result.currency) == (
            'ACCEPT',
            '100',
            50000,
            'OMR',
        )
        assert (result.reference_number, result.transaction_uuid) == (
            fields['reference_number'],
            fields['transaction_uuid'],
        )
        assert (result.card_type, result.card_last4) == (name, last4)
    assert browser.fields == server.fields
    assert browser.transaction_id in receipt
    assert fields['reference_number'] in receipt


def test_declined_card(sandbox, portal_gateway, merchant):
    fields = checkout_fields(portal_gateway, notify_url=merchant.url)
    review = through_to_review(sandbox, fields, number='4000000000000002')
    receipt = submit(review, 'pay').follow()
    assert 'declined' in receipt
    result = portal_gateway.read_result(return_form_fields(receipt))
    assert (result.decision, result.reason_code, result.card_last4) == ('DECLINE', '203', '0002')
    assert portal_gateway.read_result(merchant.wait_for(1)[0]).decision == 'DECLINE'


@pytest.mark.parametrize('step', ['billing', 'payment', 'review'])
def test_cancel_from_any_step(sandbox, portal_gateway, merchant, step):
    fields = checkout_fields(portal_gateway, notify_url=merchant.url)
    page = start(sandbox, fields)
    if step in ('payment', 'review'):
        page = submit(page, 'next').follow()
    if step == 'review':
        page = pay_details(page).follow()
    receipt = submit(page, 'cancel').follow()
    assert 'You cancelled the payment.' in receipt
    result = portal_gateway.read_result(return_form_fields(receipt))
    assert (result.decision, result.card_type, result.card_last4) == ('CANCEL', None, None)
    assert portal_gateway.read_result(merchant.wait_for(1)[0]).decision == 'CANCEL'


def test_arabic_checkout(sandbox, portal_gateway):
    billing = start(sandbox, checkout_fields(portal_gateway, locale='ar'))
    assert '<html lang="ar" dir="rtl">' in billing
    assert 'معلومات الفاتورة' in billing
    english = billing.click(href='/language/en').follow()
    assert '<html lang="en" dir="ltr">' in english
    assert 'Billing Information' in english


def test_the_language_cookie_follows_the_payer(sandbox, portal_gateway):
    start(sandbox, checkout_fields(portal_gateway, locale='ar'))
    english = start(sandbox, checkout_fields(portal_gateway, locale='en'))
    assert '<html lang="en" dir="ltr">' in english


def test_back_keeps_what_was_entered(sandbox, portal_gateway):
    review = through_to_review(sandbox, checkout_fields(portal_gateway), cvn='4321')
    payment = submit(review, 'back').follow()
    assert payment.forms[0]['card_number'].value == '4111111111111111'
    assert payment.forms[0]['card_cvn'].value == '4321'
    billing = submit(payment, 'back').follow()
    assert billing.forms[0]['surname'].value == 'Said'


# -- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    'card, field, message',
    [
        ({'number': '4111111111111112'}, 'card_number', 'This card number is not valid'),
        ({'number': '4111 1111 abcd 1111'}, 'card_number', 'This card number is not valid'),
        (
            {'number': '4111111111111111', 'card_type': '002'},
            'card_number',
            'This number is not a Mastercard card number.',
        ),
        (
            {'number': '5555555555554444', 'card_type': '001'},
            'card_number',
            'This number is not a Visa card number.',
        ),
        ({'cvn': '12'}, 'card_cvn', 'The CVN is the three or four digit number on the card.'),
        ({'cvn': ''}, 'card_cvn', 'Enter the CVN.'),
        ({'year': str(date.today().year - 1)}, 'card_expiry', 'This card has expired.'),
        ({'month': ''}, 'card_expiry', 'Choose the expiration month and year.'),
    ],
)
def test_card_errors_keep_typed_values(sandbox, portal_gateway, card, field, message):
    payment = submit(start(sandbox, checkout_fields(portal_gateway)), 'next').follow()
    typed = {
        'number': '4111111111111111',
        'card_type': '001',
        'cvn': '123',
        'month': '12',
        'year': NEXT_YEAR,
        **card,
    }
    form = payment.forms[0]
    form['card_type'] = typed['card_type']
    form['card_number'] = typed['number']
    form['card_cvn'] = typed['cvn']
    form['card_expiry_month'] = typed['month']
    # A year in the past is not offered; post it as a crafted form would.
    form['card_expiry_year'].force_value(typed['year'])
    again = form.submit('next', status=200)
    error = again.html.find(id=f'{field}-error')
    assert error is not None and message in error.text
    assert again.forms[0]['card_number'].value == typed['number']
    assert again.forms[0]['card_cvn'].value == typed['cvn']
    assert again.forms[0]['card_type'].value == typed['card_type']


def test_billing_errors_keep_typed_values(sandbox, portal_gateway):
    billing = start(sandbox, checkout_fields(portal_gateway, bill_to={}))
    again = submit(
        billing,
        'next',
        forename='  ',
        surname='Al Balushi',
        email='not-an-email',
        phone='99 41 66 89',
    )
    assert 'Enter the first name.' in again.html.find(id='forename-error').text
    assert 'Enter a valid email address' in again.html.find(id='email-error').text
    assert again.html.find(id='phone-error') is None
    assert again.forms[0]['surname'].value == 'Al Balushi'
    assert again.forms[0]['email'].value == 'not-an-email'


def test_steps_cannot_be_skipped(sandbox, portal_gateway):
    billing = start(sandbox, checkout_fields(portal_gateway))
    review_url = billing.request.url.replace('/billing', '/review')
    assert sandbox.get(review_url, status=303).location == billing.request.url


def test_a_decided_checkout_shows_only_its_receipt(sandbox, portal_gateway, merchant):
    review = through_to_review(sandbox, checkout_fields(portal_gateway, notify_url=merchant.url))
    receipt_url = submit(review, 'pay').location
    assert sandbox.post(review.request.url, {'pay': ''}, status=303).location == receipt_url
    assert (
        sandbox.get(review.request.url.replace('/review', '/billing'), status=303).location
        == receipt_url
    )
    assert len(merchant.wait_for(1)) == 1


def test_no_full_card_number_is_kept_after_the_decision(sandbox, portal_gateway):
    review = through_to_review(sandbox, checkout_fields(portal_gateway), cvn='987')
    receipt = submit(review, 'pay').follow()
    store = sandbox.app.registry.payment_sandbox.checkouts
    checkout = store.get(receipt.request.url.split('/')[-2])
    assert checkout.card is None
    assert '4111111111111111' not in repr(vars(checkout))
    assert not [name for name in checkout.response if 'cvn' in name]
    assert checkout.response['req_card_number'] == 'xxxxxxxxxxxx1111'


# -- refused checkout requests --------------------------------------------------------


def resigned(fields, **changes):
    changed = {**fields, **changes}
    changed['signature'] = sign_fields(changed, PROFILE['sandbox.secret_key'])
    return changed


@pytest.mark.parametrize(
    'tamper, message',
    [
        (lambda f: {**f, 'amount': '0.050'}, 'The signature of the payment request is not valid.'),
        (lambda f: {**f, 'access_key': 'someone-else'}, 'not known to this gateway'),
        (
            lambda f: {k: v for k, v in f.items() if k != 'reference_number'},
            'The payment request has no reference_number field.',
        ),
        (lambda f: resigned(f, amount='50.0000'), 'The amount 50.0000 is not valid.'),
        (lambda f: resigned(f, amount='0.000'), 'The amount 0.000 is not valid.'),
        (lambda f: resigned(f, currency='USD'), 'The currency USD is not accepted'),
        (
            lambda f: resigned(f, override_custom_receipt_page='javascript:alert(1)'),
            'must be an http or https address',
        ),
        (
            lambda f: resigned(
                f, signed_field_names=f['signed_field_names'].replace('amount,', '')
            ),
            'The field amount must be signed.',
        ),
    ],
)
def test_refused_checkout_requests(sandbox, portal_gateway, tamper, message):
    page = sandbox.post('/pay', tamper(checkout_fields(portal_gateway)), status=400)
    assert 'The payment cannot be started' in page
    assert message in page
    assert '<form' not in page


def test_a_field_sent_twice_is_refused(sandbox, portal_gateway):
    fields = [*list(checkout_fields(portal_gateway).items()), ('amount', '0.001')]
    assert 'The field amount was sent more than once.' in sandbox.post('/pay', fields, status=400)


def test_a_transaction_uuid_is_accepted_once(sandbox, portal_gateway):
    fields = checkout_fields(portal_gateway)
    start(sandbox, fields)
    assert 'already been sent' in sandbox.post('/pay', fields, status=400)


def test_refusal_speaks_the_requested_language(sandbox, portal_gateway):
    fields = {**checkout_fields(portal_gateway, locale='ar'), 'amount': '1.000'}
    page = sandbox.post('/pay', fields, status=400)
    assert 'dir="rtl"' in page and 'توقيع طلب الدفع غير صالح.' in page


def test_unknown_checkout_is_not_found(sandbox):
    assert 'does not exist or has expired' in sandbox.get('/t/no-such-id/billing', status=404)


# -- server notification and test switches ----------------------------------------------


def pay_with_switch(sandbox, portal_gateway, merchant, delivery):
    sandbox.post('/_switch', {'delivery': delivery}, status=303)
    review = through_to_review(sandbox, checkout_fields(portal_gateway, notify_url=merchant.url))
    decided = submit(review, 'pay')
    notified_before_browser = len(merchant.posts)
    return notified_before_browser, decided.follow()


def test_switch_normal(sandbox, portal_gateway, merchant):
    before, receipt = pay_with_switch(sandbox, portal_gateway, merchant, 'normal')
    assert before == 1
    assert receipt.forms['return-to-merchant']


def test_switch_drop_notification(sandbox, portal_gateway, merchant):
    before, receipt = pay_with_switch(sandbox, portal_gateway, merchant, 'drop_notification')
    assert before == 0
    assert return_form_fields(receipt)['decision'] == 'ACCEPT'
    assert merchant.posts == []


def test_switch_drop_browser_return(sandbox, portal_gateway, merchant):
    before, receipt = pay_with_switch(sandbox, portal_gateway, merchant, 'drop_browser_return')
    assert before == 1
    assert 'return-to-merchant' not in receipt
    assert 'the return to the merchant’s site has been dropped' in receipt


def test_switch_notify_twice(sandbox, portal_gateway, merchant):
    before, receipt = pay_with_switch(sandbox, portal_gateway, merchant, 'notify_twice')
    assert before == 2
    first, second = merchant.posts
    assert first == second == return_form_fields(receipt)


def test_switch_browser_first(sandbox, portal_gateway, merchant):
    before, receipt = pay_with_switch(sandbox, portal_gateway, merchant, 'browser_first')
    assert before == 0
    assert merchant.posts == []
    assert portal_gateway.read_result(return_form_fields(receipt)).accepted
    # A reloaded receipt does not send the notification again.
    receipt.request.get_response(sandbox.app)
    posts = merchant.wait_for(1)
    assert portal_gateway.read_result(posts[0]).accepted
    time.sleep(0.7)
    assert len(merchant.posts) == 1


def test_switch_lasts_for_the_next_payments(sandbox, portal_gateway, merchant):
    pay_with_switch(sandbox, portal_gateway, merchant, 'notify_twice')
    review = through_to_review(sandbox, checkout_fields(portal_gateway, notify_url=merchant.url))
    submit(review, 'pay')
    assert len(merchant.posts) == 4


def test_switch_refuses_an_unknown_mode(sandbox):
    page = sandbox.post('/_switch', {'delivery': 'sometimes'}, status=400)
    assert 'Choose one of the delivery modes.' in page
    assert 'value="normal" checked' in sandbox.get('/_switch')


def test_switches_need_the_setting(portal_gateway):
    plain = make_sandbox()
    plain.post('/_switch', {'delivery': 'drop_notification'}, status=404)


def test_a_failed_notification_is_logged_not_raised(sandbox, portal_gateway, caplog):
    unreachable = 'http://127.0.0.1:9/notify'
    review = through_to_review(sandbox, checkout_fields(portal_gateway, notify_url=unreachable))
    with caplog.at_level(logging.WARNING, logger='payment_sandbox'):
        receipt = submit(review, 'pay').follow()
    assert 'Your payment was approved.' in receipt
    assert unreachable in caplog.text


# -- the Arabic catalog ---------------------------------------------------------------------


def source_messages():
    method_map = [('**.py', 'python'), ('templates/**.jinja2', 'jinja2.ext:babel_extract')]
    options = {'templates/**.jinja2': {'extensions': 'jinja2.ext.i18n'}}
    return {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(PACKAGE), method_map=method_map, options_map=options
        )
    }


def test_the_arabic_catalog_is_complete():
    with open(PACKAGE / 'locale' / 'ar' / 'LC_MESSAGES' / 'payment_sandbox.po', 'rb') as po:
        catalog = read_po(po)
    assert not catalog.fuzzy
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    assert source_messages() - set(translated) == set()
    placeholder = re.compile(r'\$\{[^}]*\}')
    assert [
        msgid
        for msgid, text in translated.items()
        if set(placeholder.findall(msgid)) != set(placeholder.findall(text))
    ] == []


# -- the status query -----------------------------------------------------------


def query(sandbox, portal_gateway, reference, status=200):
    answer = sandbox.post('/query', portal_gateway.query_fields(reference), status=status)
    return answer if status != 200 else portal_gateway.read_transactions(reference, answer.body)


def test_status_query_answers_what_the_notification_said(sandbox, portal_gateway, merchant):
    fields = checkout_fields(portal_gateway, notify_url=merchant.url)
    reference = fields['reference_number']
    review = through_to_review(sandbox, fields)
    assert query(sandbox, portal_gateway, reference) == []  # not decided yet
    submit(review, 'pay')
    (result,) = query(sandbox, portal_gateway, reference)
    assert result.decision == 'ACCEPT' and result.transaction_uuid == fields['transaction_uuid']
    assert result.fields == portal_gateway.read_result(merchant.wait_for(1)[0]).fields


def test_status_query_lists_every_decided_checkout_of_a_reference(sandbox, portal_gateway):
    first = checkout_fields(portal_gateway)
    submit(through_to_review(sandbox, first, number='4000000000000002'), 'pay')
    second = checkout_fields(
        portal_gateway, reference_number=first['reference_number'], transaction_uuid='again-1'
    )
    submit(through_to_review(sandbox, second), 'pay')
    results = query(sandbox, portal_gateway, first['reference_number'])
    assert [(r.decision, r.transaction_uuid) for r in results] == [
        ('DECLINE', first['transaction_uuid']),
        ('ACCEPT', 'again-1'),
    ]
    assert query(sandbox, portal_gateway, 'OCCI-NEVER-SEEN') == []


def test_status_query_must_be_signed(sandbox, portal_gateway):
    fields = portal_gateway.query_fields('OCCI-000001')
    fields['reference_number'] = 'OCCI-000002'
    assert sandbox.post('/query', fields, status=400).json == {'error': 'bad signature'}
    stranger = SecureAcceptanceGateway(
        endpoint_url='http://localhost/gateway/pay',
        profile_id='OCCI-PORTAL',
        access_key='ak-0123',
        secret_key='not-the-secret',
    )
    sandbox.post('/query', stranger.query_fields('OCCI-000001'), status=400)


def test_an_answer_about_another_reference_is_refused(sandbox, portal_gateway):
    fields = checkout_fields(portal_gateway)
    submit(through_to_review(sandbox, fields), 'pay')
    answer = sandbox.post('/query', portal_gateway.query_fields(fields['reference_number']))
    with pytest.raises(PaymentQueryError, match='told about'):
        portal_gateway.read_transactions('OCCI-SOMETHING-ELSE', answer.body)
    with pytest.raises(PaymentQueryError):
        portal_gateway.read_transactions('OCCI-SOMETHING-ELSE', b'<html>')


def test_status_query_over_http(sandbox, portal_gateway):
    """The adapter's own client, against the sandbox on a real port."""
    server = StopableWSGIServer.create(payment_sandbox.main({}, **PROFILE))
    try:
        gateway = SecureAcceptanceGateway(
            endpoint_url='http://localhost/gateway/pay',
            query_url=server.application_url + 'query',
            profile_id='OCCI-PORTAL',
            access_key='ak-0123',
            secret_key='sk-for-the-sandbox-tests',
        )
        assert gateway.transactions('OCCI-NOTHING') == []
    finally:
        server.shutdown()
    with pytest.raises(PaymentQueryError, match='could not be asked'):
        gateway.transactions('OCCI-NOTHING', timeout=2)


@pytest.mark.parametrize(
    'answer',
    [b'not an answer in HTTP\r\n\r\n', b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"tr'],
)
def test_a_broken_answer_to_the_status_query_is_a_query_error(answer):
    """Something answering in place of the gateway with no HTTP, or dropping
    the connection mid-answer: the order is asked about again later (by
    reconciliation's next pass, or the administrator's next question)."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def answer_once():
        connection, _address = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(answer)

    thread = threading.Thread(target=answer_once)
    thread.start()
    gateway = SecureAcceptanceGateway(
        endpoint_url='http://localhost/gateway/pay',
        query_url='http://127.0.0.1:%d/query' % listener.getsockname()[1],
        profile_id='OCCI-PORTAL',
        access_key='ak-0123',
        secret_key='sk-for-the-sandbox-tests',
    )
    try:
        with pytest.raises(PaymentQueryError, match='could not be asked'):
            gateway.transactions('OCCI-NOTHING', timeout=5)
    finally:
        thread.join()
        listener.close()


@pytest.mark.parametrize(
    'transaction',
    [
        {'signature': 'x', 'signed_field_names': ['a'], 'a': 'b'},
        {'signature': 123, 'signed_field_names': 'a', 'a': 'b'},
        {'signature': 'x', 'signed_field_names': 'a', 'a': None},
    ],
)
def test_a_transaction_of_other_than_texts_is_an_unusable_answer(portal_gateway, transaction):
    """Reconciliation goes on past an order whose answer it cannot use; an
    answer it cannot even read must say so the same way."""
    body = json.dumps({'transactions': [transaction]}).encode()
    with pytest.raises(PaymentQueryError, match='not an object of texts'):
        portal_gateway.read_transactions('OCCI-000001', body)
