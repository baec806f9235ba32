"""The payment path end to end: the portal, the sandbox gateway over real
HTTP for its server notifications, and exactly-once fulfilment."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import webtest

from occi_site.integrations.payment import sign_fields
from occi_site.resources import ROOT_KEY, database

from .conftest import add_account
from .stack import GATEWAY_KEYS, NEXT_YEAR, Stack


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, **{'pyramid.includes': 'tests.probe_views'})
    conn = database(stack.portal.registry).open()
    with conn.transaction_manager:
        add_account(conn.root()[ROOT_KEY], '90000001', full_name='Ali Said Al Jahdhami')
    conn.close()
    stack.browser.get('/_probe/login/90000001')
    yield stack
    stack.close()


def in_db(stack, action):
    conn = database(stack.portal.registry).open()
    try:
        with conn.transaction_manager:
            return action(conn.root()[ROOT_KEY])
    finally:
        conn.close()


def renewal_order(stack, years='2'):
    """A verified two-year renewal of CR 1229237, confirmed: the order page."""
    browser = stack.browser
    form = browser.get('/services/renewal').forms['deform']
    form['cr_number'] = '1229237'
    form['occi_number'] = '91868'
    url = form.submit('next').location
    request_id = url.rstrip('/').rsplit('/', 1)[1]
    now = datetime.now(UTC)
    in_db(
        stack,
        lambda site: site['requests'][request_id].record_step_up(
            'a-' + request_id, now, 'card', now
        ),
    )
    page = browser.get(url, {'years': years})
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    form['years'] = years
    return request_id, form.submit('confirm').follow()


def to_gateway(stack, order_page):
    checkout = order_page.forms[1].submit()
    form = checkout.forms['gateway-checkout']
    assert form.action == stack.base + '/gateway/pay'
    billing = form.submit().follow()
    assert 'Billing Information' in billing
    return billing


def pay(stack, order_page, number='4111111111111111', card_type='001'):
    billing = to_gateway(stack, order_page)
    payment = billing.forms[0].submit('next').follow()
    form = payment.forms[0]
    form['card_type'] = card_type
    form['card_number'] = number
    form['card_cvn'] = '123'
    form['card_expiry_month'] = '12'
    form['card_expiry_year'] = NEXT_YEAR
    review = form.submit('next').follow()
    return review.forms[0].submit('pay').follow()


def back_to_portal(receipt):
    return receipt.forms['return-to-merchant'].submit()


def membership(stack):
    return in_db(
        stack,
        lambda site: (
            site['companies']['1229237'].membership.expires_on,
            site['companies']['1229237'].membership.debit_baisa,
        ),
    )


def switch(stack, delivery):
    stack.browser.post('/gateway/_switch', {'delivery': delivery})


def test_two_year_renewal_paid_once(stack):
    _request_id, order_page = renewal_order(stack)
    assert 'RO 50' in order_page
    receipt = pay(stack, order_page)
    assert '50.000 OMR' in receipt
    # The server notification came first and already fulfilled the request.
    assert membership(stack)[0] == date(2029, 3, 19)
    done = back_to_portal(receipt).follow()
    assert 'Your request is complete.' in done
    assert membership(stack)[0] == date(2029, 3, 19)
    receipt_link = done.html.find('a', string='Receipt')['href']
    page = stack.browser.get(receipt_link)
    assert 'Visa' in page and '1111' in page and 'RO 50' in page
    pdf = stack.browser.get(receipt_link + '.pdf')
    assert pdf.body.startswith(b'%PDF')
    dashboard = stack.browser.get('/dashboard')
    [row] = [
        link.find_parent('tr')
        for link in dashboard.html.find_all('a', string='Membership Renewal')
        if link.find_parent('tr')
    ]
    assert 'Completed' in row.text
    documents = dashboard.html.find('ul', class_='documents').text
    assert 'Membership certificate OCCI-' in documents and 'Receipt OCCI-ORD-' in documents
    channels = [(m['channel'], m['subject']) for m in stack.outbox()]
    assert channels.count(('email', 'OCCI payment received')) == 1
    assert channels.count(('email', 'Your OCCI e-service request is complete')) == 1


def test_declined_card_changes_nothing_and_the_member_retries(stack):
    request_id, order_page = renewal_order(stack)
    receipt = pay(stack, order_page, number='4000000000000002')
    page = back_to_portal(receipt).follow()
    assert membership(stack)[0] == date(2027, 3, 19)
    assert 'Renew Membership' in page
    state = in_db(stack, lambda site: site['requests'][request_id].state)
    assert state == 'verified'
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    form['years'] = '2'
    retry = form.submit('confirm').follow()
    back_to_portal(pay(stack, retry))
    assert membership(stack)[0] == date(2029, 3, 19)


def test_cancel_at_the_gateway(stack):
    request_id, order_page = renewal_order(stack)
    billing = to_gateway(stack, order_page)
    receipt = billing.forms[0].submit('cancel').follow()
    back_to_portal(receipt).follow()
    orders = in_db(stack, lambda site: [o.state for o in site['orders'].for_request(request_id)])
    assert orders == ['cancelled']
    assert membership(stack)[0] == date(2027, 3, 19)


@pytest.mark.parametrize(
    'delivery', ['browser_first', 'notify_twice', 'drop_browser_return', 'drop_notification']
)
def test_fulfilled_exactly_once_however_the_answers_arrive(stack, delivery):
    switch(stack, delivery)
    _request_id, order_page = renewal_order(stack)
    receipt = pay(stack, order_page)
    if delivery != 'drop_browser_return':
        back_to_portal(receipt)
    deadline = time.time() + 5
    while time.time() < deadline and membership(stack)[0] != date(2029, 3, 19):
        time.sleep(0.1)
    time.sleep(0.5)
    assert membership(stack)[0] == date(2029, 3, 19)
    fulfilled = [
        m for m in stack.outbox() if m['subject'] == 'Your OCCI e-service request is complete'
    ]
    assert len(fulfilled) == 1
    certificates = in_db(stack, lambda site: list(site['certificates'].issued_for('1229237')))
    assert len(certificates) == 1


def signed_answer(fields, **changes):
    answer = dict(fields, **changes)
    answer['signature'] = sign_fields(answer, GATEWAY_KEYS['secret_key'])
    return answer


def test_tampered_amount_is_refused_and_flagged(stack):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    receipt = pay(stack, order_page)
    form = receipt.forms['return-to-merchant']
    fields = {name: field.value for name, (field,) in form.fields.items() if name}
    forged = signed_answer(fields, req_amount='5.000', auth_amount='5.000')
    webtest.TestApp(stack.composite, extra_environ={'HTTP_HOST': stack.host}).post(
        '/payment/notify', forged
    )
    assert membership(stack)[0] == date(2027, 3, 19)
    assert in_db(stack, lambda site: site['orders'].for_request(request_id)[0].flagged)


def test_bad_signature_is_refused(stack):
    _request_id, _order_page = renewal_order(stack)
    stranger = webtest.TestApp(stack.composite, extra_environ={'HTTP_HOST': stack.host})
    stranger.post(
        '/payment/notify',
        {'decision': 'ACCEPT', 'signature': 'forged', 'signed_field_names': 'decision'},
        status=400,
    )
    assert membership(stack)[0] == date(2027, 3, 19)


def test_replayed_old_answer_changes_nothing(stack):
    request_id, order_page = renewal_order(stack)
    receipt = pay(stack, order_page, number='4000000000000002')
    form = receipt.forms['return-to-merchant']
    declined = {name: field.value for name, (field,) in form.fields.items() if name}
    back_to_portal(receipt)
    page = stack.browser.get('/requests/%s/' % request_id)
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    form['years'] = '2'
    back_to_portal(pay(stack, form.submit('confirm').follow()))
    assert membership(stack)[0] == date(2029, 3, 19)
    stranger = webtest.TestApp(stack.composite, extra_environ={'HTTP_HOST': stack.host})
    stranger.post('/payment/notify', declined)
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'fulfilled'
    assert membership(stack)[0] == date(2029, 3, 19)


def test_order_expires_unpaid(stack):
    request_id, order_page = renewal_order(stack)
    later = datetime.now(UTC) + timedelta(minutes=91)
    stack.portal.registry.occi_clock = lambda: later
    # The member's session idled out meanwhile: they log in again.
    stack.browser.get('/_probe/login/90000001')
    page = stack.browser.get(order_page.request.url)
    assert 'expired unpaid' in page
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'verified'


def test_twenty_concurrent_notifications_fulfil_once_on_filestorage(tmp_path):
    import urllib.parse
    import urllib.request

    stack = Stack(
        tmp_path,
        **{
            'pyramid.includes': 'tests.probe_views',
            'zodbconn.uri': 'file://%s' % (tmp_path / 'Data.fs'),
        },
    )
    try:
        in_db(stack, lambda site: add_account(site, '90000001'))
        stack.browser.get('/_probe/login/90000001')
        switch(stack, 'drop_notification')
        request_id, order_page = renewal_order(stack)
        receipt = pay(stack, order_page)
        form = receipt.forms['return-to-merchant']
        answer = urllib.parse.urlencode(
            {name: field.value for name, (field,) in form.fields.items() if name}
        ).encode()
        statuses = []
        start = threading.Barrier(20)

        def notify():
            start.wait()
            with urllib.request.urlopen(
                stack.base + '/payment/notify', data=answer, timeout=30
            ) as response:
                statuses.append(response.status)

        threads = [threading.Thread(target=notify) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 20
        assert membership(stack)[0] == date(2029, 3, 19)
        fulfilled = [
            m for m in stack.outbox() if m['subject'] == 'Your OCCI e-service request is complete'
        ]
        assert len(fulfilled) == 1
        messages = in_db(
            stack, lambda site: len(site['orders'].for_request(request_id)[0].gateway_messages)
        )
        assert messages == 21  # the checkout and twenty answers, each kept once
    finally:
        stack.close()


def test_admin_filters_orders_and_exports_them_as_csv(stack):
    import csv
    import io

    request_id, order_page = renewal_order(stack)
    back_to_portal(pay(stack, order_page))
    in_db(stack, lambda site: add_account(site, '90000009', roles=('member', 'admin')))
    admin = webtest.TestApp(stack.composite, extra_environ={'HTTP_HOST': stack.host})
    admin.get('/_probe/login/90000009')
    query = {'service': 'renewal', 'state': 'paid', 'search': 'search'}
    page = admin.get('/orders/@@manage-search', query)
    assert 'OCCI-ORD-' in page
    assert not admin.get('/orders/@@manage-search', dict(query, state='declined')).html.find(
        'table', class_='manage-table'
    )
    export = admin.get('/orders/export.csv', query)
    assert export.content_type == 'text/csv'
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [
        (row['state'], row['amount'], row['service'], row['cr_number'], row['card_last4'])
        for row in rows
    ] == [('paid', '50.000', 'renewal', '1229237', '1111')]
    stack.browser.get('/orders/export.csv', status=403)
    requests = admin.get('/requests/@@manage-search', {'state': 'fulfilled', 'search': 'search'})
    assert request_id in requests
