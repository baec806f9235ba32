"""The payment path end to end: the portal, the sandbox gateway over real
HTTP for its server notifications, and exactly-once fulfilment."""

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta

import pytest
import webtest

from occi_site.integrations.commercial_registry import SampleRegistry
from occi_site.integrations.payment import sign_fields
from occi_site.resources import ROOT_KEY, database

from .conftest import add_account, cells, script_request, shows
from .stack import GATEWAY_KEYS, NEXT_YEAR, Stack
from .test_document_journeys import check_at_verify_page


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


def verified_request(stack, service, **fields):
    """A request for ``service`` with the step-1 ``fields``, its personal
    verification just made: ``(id, url)``."""
    form = stack.browser.get('/services/%s' % service).forms['deform']
    for name, value in fields.items():
        form[name] = value
    url = form.submit('next').location
    request_id = url.rstrip('/').rsplit('/', 1)[1]
    now = datetime.now(UTC)
    in_db(
        stack,
        lambda site: site['requests'][request_id].record_step_up(
            'a-' + request_id, now, 'card', now, script_request(stack.portal.registry)
        ),
    )
    return request_id, url


def verified_renewal(stack):
    """A renewal of CR 1229237, its personal verification just made: ``(id, url)``."""
    return verified_request(stack, 'renewal', cr_number='1229237', occi_number='91868')


def renewal_order(stack, years='2'):
    """A verified renewal of CR 1229237 (two years), confirmed: the order page."""
    request_id, url = verified_renewal(stack)
    page = stack.browser.get(url, {'years': years})
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    form['years'] = years
    return request_id, form.submit('confirm').follow()


APPROVED_CARD = '4111111111111111'
DECLINED_CARD = '4000000000000002'


def to_gateway(stack, order_page):
    """One checkout attempt of the order (a tab of its own): the gateway's billing page."""
    checkout = order_page.forms[1].submit()
    form = checkout.forms['gateway-checkout']
    assert form.action == stack.base + '/gateway/pay'
    billing = form.submit().follow()
    assert billing.request.path.endswith('/billing')
    return billing


def pay(stack, order_page, number=APPROVED_CARD, card_type='001'):
    return pay_at_gateway(to_gateway(stack, order_page), number, card_type)


def pay_at_gateway(billing, number=APPROVED_CARD, card_type='001'):
    """From the billing page of one attempt to the gateway's receipt."""
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


def answer_of(receipt):
    """The signed answer the receipt page posts back to the portal."""
    form = receipt.forms['return-to-merchant']
    return {name: field.value for name, (field,) in form.fields.items() if name}


def fulfilments(stack):
    return [m for m in stack.outbox() if m['subject'] == 'Your OCCI e-service request is complete']


def admin_of(stack):
    in_db(stack, lambda site: add_account(site, '90000009', roles=('member', 'admin')))
    admin = webtest.TestApp(stack.composite, extra_environ={'HTTP_HOST': stack.host})
    admin.get('/_probe/login/90000009')
    return admin


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
    assert 'RO 50' in cells(order_page.html)
    receipt = pay(stack, order_page)
    assert shows(receipt.text, '50.000 OMR')
    # The server notification came first and already fulfilled the request.
    assert membership(stack)[0] == date(2029, 3, 19)
    done = back_to_portal(receipt).follow()
    assert 'Your request is complete.' in done
    assert membership(stack)[0] == date(2029, 3, 19)
    receipt_link = done.html.find('a', string='Receipt')['href']
    page = stack.browser.get(receipt_link)
    assert 'Visa' in page and '1111' in page and 'RO 50' in cells(page.html)
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


def test_after_a_declined_card_the_member_changes_the_request_and_pays(stack):
    request_id, order_page = renewal_order(stack)
    receipt = pay(stack, order_page, number=DECLINED_CARD)
    page = back_to_portal(receipt).follow()
    assert membership(stack)[0] == date(2027, 3, 19)
    state = in_db(stack, lambda site: site['requests'][request_id].state)
    assert state == 'awaiting_payment'
    change = next(f for f in page.forms.values() if f.action.endswith('/change'))
    step3 = change.submit().follow()
    assert 'Renew Membership' in step3
    form = next(f for f in step3.forms.values() if f.action.endswith('/confirm'))
    form['years'] = '1'
    back_to_portal(pay(stack, form.submit('confirm').follow()))
    assert membership(stack)[0] == date(2028, 3, 19)
    orders = in_db(stack, lambda site: [o.state for o in site['orders'].for_request(request_id)])
    assert orders == ['withdrawn', 'paid']
    assert stack.server_errors() == []


@pytest.mark.parametrize(
    'language, message',
    [
        ('en', 'The commercial registry no longer lists you for this company'),
        ('ar', 'لم يعد السجل التجاري يدرجك لهذه الشركة'),
    ],
)
def test_an_order_for_a_cr_the_registry_no_longer_lists_you_for_is_not_paid(
    stack, monkeypatch, language, message
):
    """The registry stops listing the member for the CR after the price was
    accepted, within the order's payment window: Pay goes to no gateway, the
    order is withdrawn and the request refused, as at step 3."""
    request_id, order_page = renewal_order(stack)
    monkeypatch.setattr(SampleRegistry, 'crs_for', lambda registry, civil_id: ('1445820',))
    headers = {'Accept-Language': language}
    answer = order_page.forms[1].submit(headers=headers, status=303)
    assert answer.location == stack.base + '/requests/%s/' % request_id
    page = answer.follow(headers=headers)
    assert message in page.html.find(class_='flash').text

    def states(site):
        service_request = site['requests'][request_id]
        order = site['orders'][service_request.order_id]
        return service_request.state, order.state, order.transaction_uuids

    assert in_db(stack, states) == ('refused', 'withdrawn', ())
    withdrawn = stack.browser.get(order_page.request.url)
    assert 'This order was withdrawn: the request was refused. No money was taken.' in withdrawn
    assert 'to change the request' not in withdrawn
    notes = in_db(
        stack,
        lambda site: (
            site['orders'][site['requests'][request_id].order_id].history[-1][1:],
            site['requests'][request_id].history[-1][1:],
        ),
    )
    assert notes == (('withdrawn', 'not_listed'), ('refused', 'not_listed'))


def test_only_the_requests_member_accepts_its_price_and_pays_it(stack):
    """An administrator may open a member's request and order, not accept the
    price on the member's personal verification nor pay it in the member's
    name (the gateway would be given the administrator's name and contacts)."""
    request_id, url = verified_renewal(stack)
    admin = admin_of(stack)
    page = admin.get(url, {'years': '2'})
    assert not page.html.find('button', attrs={'name': 'confirm'})
    token = next(f for f in page.forms.values() if f.action.endswith('/confirm'))['csrf_token']
    admin.post(url + 'confirm', {'csrf_token': token.value, 'years': '2'}, status=403)
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'verified'
    page = stack.browser.get(url, {'years': '2'})
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    form['years'] = '2'
    order_page = form.submit('confirm').follow()
    for page in (admin.get(order_page.request.url), admin.get(url)):
        actions = [f.action for f in page.forms.values()]
        assert not [a for a in actions if a.endswith(('/checkout', '/change', '/cancel'))]
        assert 'Go to payment' not in page
    admin.post(order_page.request.url + 'checkout', {'csrf_token': token.value}, status=403)
    for step in ('change', 'cancel', 'verify'):
        admin.post(url + step, {'csrf_token': token.value}, status=403)

    def states(site):
        service_request = site['requests'][request_id]
        order = site['orders'][service_request.order_id]
        return service_request.state, order.state, order.transaction_uuids

    assert in_db(stack, states) == ('awaiting_payment', 'created', ())


def test_an_order_the_member_withdrew_says_so_after_the_request_is_refused(stack, monkeypatch):
    request_id, order_page = renewal_order(stack)
    change = next(f for f in order_page.forms.values() if f.action.endswith('/change'))
    step_3 = change.submit().follow()
    monkeypatch.setattr(SampleRegistry, 'crs_for', lambda registry, civil_id: ('1445820',))
    next(f for f in step_3.forms.values() if f.action.endswith('/confirm')).submit('confirm')
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'refused'
    withdrawn = stack.browser.get(order_page.request.url)
    assert 'This order was withdrawn to change the request' in withdrawn
    assert 'the request was refused' not in withdrawn


def test_cancel_at_the_gateway(stack):
    request_id, order_page = renewal_order(stack)
    billing = to_gateway(stack, order_page)
    receipt = billing.forms[0].submit('cancel').follow()
    page = back_to_portal(receipt).follow()
    assert page.html.find(role='alert').text.strip() == (
        'The payment was cancelled at the payment gateway. No money was taken. You can try again.'
    )
    assert any(f.action.endswith('/checkout') for f in page.forms.values())
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
    assert len(fulfilments(stack)) == 1
    certificates = in_db(stack, lambda site: list(site['certificates'].issued_for('1229237')))
    assert len(certificates) == 1
    assert stack.server_errors() == []


def signed_answer(fields, **changes):
    answer = dict(fields, **changes)
    answer['signature'] = sign_fields(answer, GATEWAY_KEYS['secret_key'])
    return answer


def test_tampered_amount_is_refused_and_flagged(stack):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    receipt = pay(stack, order_page)
    forged = signed_answer(answer_of(receipt), req_amount='5.000', auth_amount='5.000')
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
    unknown = {
        'decision': 'ACCEPT',
        'req_reference_number': 'OCCI-ORD-NONE',
        'transaction_id': 'T-ELSEWHERE-1',
        'req_amount': '5.000',
        'req_currency': 'OMR',
        'signed_field_names': (
            'decision,req_reference_number,transaction_id,req_amount,req_currency,'
            'signed_field_names'
        ),
    }
    stranger.post('/payment/notify', signed_answer(unknown), status=404)
    refused = in_db(
        stack,
        lambda site: [
            (
                entry['action'],
                entry['outcome'],
                entry['details']['channel'],
                entry['details']['transaction'],
                entry['details']['why'],
            )
            for _key, entry in site['audit'].latest(path='/orders')
        ],
    )
    # The approval the gateway signed for a reference no order has is kept as it said it.
    assert refused == [
        (
            'payment.accept',
            'flagged',
            'server',
            'T-ELSEWHERE-1',
            "unknown reference 'OCCI-ORD-NONE', amount 5.000 OMR",
        ),
        (
            'payment.refused',
            'flagged',
            'server',
            '',
            'the payment response is not signed by the gateway',
        ),
    ]


def test_replayed_old_answer_changes_nothing(stack):
    request_id, order_page = renewal_order(stack)
    receipt = pay(stack, order_page, number=DECLINED_CARD)
    declined = answer_of(receipt)
    back_to_portal(receipt)
    page = stack.browser.get('/requests/%s/' % request_id)
    retry = next(f for f in page.forms.values() if f.action.endswith('/checkout'))
    billing = retry.submit().forms['gateway-checkout'].submit().follow()
    back_to_portal(pay_at_gateway(billing))
    assert membership(stack)[0] == date(2029, 3, 19)
    stranger = webtest.TestApp(stack.composite, extra_environ={'HTTP_HOST': stack.host})
    stranger.post('/payment/notify', declined)
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'fulfilled'
    assert membership(stack)[0] == date(2029, 3, 19)


def test_order_expires_unpaid(stack, clock):
    request_id, order_page = renewal_order(stack)
    clock.now = datetime.now(UTC) + timedelta(minutes=91)
    stack.portal.registry.occi_clock = clock
    # The member's session idled out meanwhile: they log in again.
    stack.browser.get('/_probe/login/90000001')
    page = stack.browser.get(order_page.request.url)
    assert 'expired unpaid' in page
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'verified'


class StayHere(urllib.request.HTTPRedirectHandler):
    """Takes a redirect as the answer, as a test of the answer wants it."""

    def redirect_request(self, *args, **kwargs):
        return None


def post_at_once(count, url, fields, cookie=''):
    """POST ``fields`` to ``url`` from ``count`` threads released together,
    over real HTTP; the status of each answer, sorted."""
    body = urllib.parse.urlencode(fields).encode()
    opener = urllib.request.build_opener(StayHere)
    statuses = []
    start = threading.Barrier(count)

    def post():
        request = urllib.request.Request(url, data=body, headers={'Cookie': cookie})
        start.wait()
        try:
            with opener.open(request, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as answer:
            statuses.append(answer.code)

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_twenty_concurrent_notifications_fulfil_once_on_filestorage(tmp_path):
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
        answer = answer_of(pay(stack, order_page))
        assert post_at_once(20, stack.base + '/payment/notify', answer) == [200] * 20
        assert stack.server_errors() == []
        assert membership(stack)[0] == date(2029, 3, 19)
        assert len(fulfilments(stack)) == 1
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
    admin = admin_of(stack)
    query = {'service': 'renewal', 'state': 'paid', 'search': 'search'}
    page = admin.get('/orders/@@manage-search', query)
    assert 'OCCI-ORD-' in page
    assert not admin.get('/orders/@@manage-search', dict(query, state='declined')).html.find(
        'table', class_='manage-table'
    )
    export = page.forms['export'].submit()
    assert export.content_type == 'text/csv'
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [
        (row['state'], row['amount'], row['service'], row['cr_number'], row['card_last4'])
        for row in rows
    ] == [('paid', '50.000', 'renewal', '1229237', '1111')]
    assert exports(stack) == [{'service': 'renewal', 'state': 'paid'}]
    stack.browser.post('/orders/export.csv', {'csrf_token': 'x'}, status=404)
    requests = admin.get('/requests/@@manage-search', {'state': 'fulfilled', 'search': 'search'})
    assert request_id in requests


def exports(stack):
    """The filters of each orders export the audit log holds, the newest first."""
    return in_db(
        stack,
        lambda site: [
            {name: value for name, value in entry['details'].items() if value}
            for _key, entry in site['audit'].latest(action='orders.export')
        ],
    )


def test_orders_export_is_asked_for_by_a_form_with_the_sessions_token(stack):
    # A link or an image on another site must not make an administrator's
    # browser run an export and write it to the audit log.
    admin = admin_of(stack)
    admin.get('/orders/export.csv', status=404)
    admin.get('/orders/export.csv', {'state': 'paid', 'search': 'search'}, status=404)
    admin.post('/orders/export.csv', {'state': 'paid', 'search': 'search'}, status=400)
    assert exports(stack) == []
    page = admin.get('/orders/@@manage-search', {'state': 'paid', 'search': 'search'})
    form = page.forms['export']
    assert form.method.upper() == 'POST' and form['csrf_token'].value
    assert form.submit().content_type == 'text/csv'
    assert exports(stack) == [{'state': 'paid'}]
    token = form['csrf_token'].value
    admin.post('/orders/export.csv', {'csrf_token': token}, status=400)
    tampered = {'csrf_token': token, 'date_from': 'yesterday', 'search': 'search'}
    admin.post('/orders/export.csv', tampered, status=400)
    assert len(exports(stack)) == 1
    # No export is offered before a search, nor for service requests.
    assert 'export' not in admin.get('/orders/@@manage-search').forms
    requests = admin.get('/requests/@@manage-search', {'state': 'paid', 'search': 'search'})
    assert 'export' not in requests.forms


def test_declined_then_approved_in_another_tab_pays_the_order_once(stack):
    request_id, order_page = renewal_order(stack)
    first, second = to_gateway(stack, order_page), to_gateway(stack, order_page)
    back_to_portal(pay_at_gateway(first, DECLINED_CARD))
    done = back_to_portal(pay_at_gateway(second)).follow()
    assert stack.server_errors() == []
    assert 'Your request is complete.' in done
    assert membership(stack)[0] == date(2029, 3, 19)
    assert len(fulfilments(stack)) == 1
    states = in_db(
        stack,
        lambda site: (
            site['requests'][request_id].state,
            [order.state for order in site['orders'].for_request(request_id)],
        ),
    )
    assert states == ('fulfilled', ['paid'])


def test_approved_twice_is_money_to_give_back(stack):
    import csv
    import io

    _request_id, order_page = renewal_order(stack)
    first, second = to_gateway(stack, order_page), to_gateway(stack, order_page)
    back_to_portal(pay_at_gateway(first))
    receipt = pay_at_gateway(second)
    transaction_id = answer_of(receipt)['transaction_id']
    back_to_portal(receipt)
    assert stack.server_errors() == []
    assert membership(stack)[0] == date(2029, 3, 19)
    assert len(fulfilments(stack)) == 1
    order_url = order_page.request.url
    order_id = order_url.rstrip('/').rsplit('/', 1)[1]
    # The member sees the money the chamber owes them on the order page.
    page = stack.browser.get(order_url)
    due = page.html.find(class_='refunds')
    assert 'Refund due' in due.text and 'RO 50' in cells(due) and transaction_id in due.text
    # The administrator finds it, exports it and marks it refunded.
    admin = admin_of(stack)
    found = admin.get('/orders/@@manage-search', {'refund': 'due', 'search': 'search'})
    assert order_id in found
    rows = list(csv.DictReader(io.StringIO(found.forms['export'].submit().text)))
    assert [(row['reference'], row['refund_due'], row['refund_transactions']) for row in rows] == [
        (order_id, '50.000', transaction_id)
    ]
    assert admin.get(order_url + 'manage').location.endswith('@@manage-payment')
    assert 'Refund due' in found.html.find('table', class_='manage-table').text
    tab = admin.get(order_url + '@@manage-payment')
    assert transaction_id in tab.html.find(class_='refunds').text
    form = tab.forms['deform']
    form['transaction_id'] = transaction_id
    form['note'] = 'RF'
    refused = form.submit('refunded')
    assert refused.forms['deform']['note'].value == 'RF'
    assert 'Shorter than minimum length 3' in refused.html.find(class_='invalid-feedback').text
    form = refused.forms['deform']
    form['note'] = 'Refunded by the bank, reference RF-1'
    done = form.submit('refunded').follow()
    assert 'deform' not in done.forms
    assert not admin.get(
        '/orders/@@manage-search', {'refund': 'due', 'search': 'search'}
    ).html.find('table', class_='manage-table')
    audit = admin.get(order_url + '@@manage-audit')
    assert 'payment.refunded' in audit and 'payment.refund_due' in audit
    refunded = stack.browser.get(order_url).html.find(class_='refunds').text
    assert 'Refunded' in refunded and 'Refund due' not in refunded
    everything = admin.get('/orders/@@manage-search', {'search': 'search'})
    rows = list(csv.DictReader(io.StringIO(everything.forms['export'].submit().text)))
    assert [(row['refund_due'], row['refunded']) for row in rows] == [('0.000', '50.000')]
    subjects = [m['subject'] for m in stack.outbox() if m['channel'] == 'email']
    assert subjects.count('OCCI will refund a payment') == 1
    assert subjects.count('OCCI refunded a payment') == 1
    refunded_by = in_db(
        stack,
        lambda site: [
            entry['user']
            for _key, entry in site['audit'].latest(path='/orders/' + order_id)
            if entry['action'] == 'payment.refunded'
        ],
    )
    assert refunded_by == ['90000009']


@pytest.mark.parametrize(
    'language, words',
    [
        ('en', 'declined by the card issuer'),
        ('ar', 'رفض'),
    ],
)
def test_a_declined_card_brings_the_member_back_with_a_clear_message(tmp_path, language, words):
    stack = Stack(tmp_path, **{'pyramid.includes': 'tests.probe_views'})
    try:
        in_db(stack, lambda site: add_account(site, '90000001'))
        stack.browser = stack.new_browser(language)
        stack.browser.get('/_probe/login/90000001')
        request_id, order_page = renewal_order(stack)
        page = back_to_portal(pay(stack, order_page, DECLINED_CARD)).follow()
        assert page.request.path == '/requests/%s/' % request_id
        alert = page.html.find(role='alert').text
        assert words in alert
        retry = next(f for f in page.forms.values() if f.action.endswith('/checkout'))
        billing = retry.submit().forms['gateway-checkout'].submit().follow()
        back_to_portal(pay_at_gateway(billing))
        assert membership(stack)[0] == date(2029, 3, 19)
        assert stack.server_errors() == []
    finally:
        stack.close()


def test_an_orders_audit_tab_shows_its_gateway_messages(stack):
    _request_id, order_page = renewal_order(stack)
    back_to_portal(pay(stack, order_page))
    audit = admin_of(stack).get(order_page.request.url + '@@manage-audit')
    assert 'payment.accept' in audit and 'No entries' not in audit


def test_ten_concurrent_confirms_make_one_order_and_no_error(tmp_path):
    stack = Stack(tmp_path, **{'pyramid.includes': 'tests.probe_views'})
    try:
        in_db(stack, lambda site: add_account(site, '90000001'))
        browser = stack.browser
        browser.get('/_probe/login/90000001')
        request_id, url = verified_renewal(stack)
        page = browser.get(url, {'years': '2'})
        confirm = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
        cookie = '; '.join('%s=%s' % item for item in browser.cookies.items())
        fields = [*confirm.submit_fields(), ('confirm', '')]
        assert post_at_once(10, confirm.action, fields, cookie) == [303] * 10
        assert stack.server_errors() == []
        orders = in_db(stack, lambda site: len(site['orders'].for_request(request_id)))
        assert orders == 1
    finally:
        stack.close()


def test_an_approval_for_an_order_the_request_left_is_money_to_give_back(stack):
    request_id, first_page = renewal_order(stack)
    left_open = to_gateway(stack, first_page)  # a tab still at the gateway
    page = stack.browser.get('/requests/%s/' % request_id)
    step3 = next(f for f in page.forms.values() if f.action.endswith('/change')).submit()
    form = next(f for f in step3.follow().forms.values() if f.action.endswith('/confirm'))
    form['years'] = '1'
    second_page = form.submit('confirm').follow()
    back_to_portal(pay(stack, second_page))
    receipt = pay_at_gateway(left_open)
    transaction_id = answer_of(receipt)['transaction_id']
    page = back_to_portal(receipt).follow()
    assert 'Your request is complete.' in page
    assert membership(stack)[0] == date(2028, 3, 19)
    assert len(fulfilments(stack)) == 1
    orders = in_db(
        stack,
        lambda site: [
            (order.state, [(r.transaction_id, r.amount_baisa, r.why) for r in order.refunds_due])
            for order in site['orders'].for_request(request_id)
        ],
    )
    assert orders == [('paid', [(transaction_id, 50_000, 'request_not_waiting')]), ('paid', [])]
    due = stack.browser.get(first_page.request.url).html.find(class_='refunds')
    assert 'Refund due' in due.text and 'RO 50' in cells(due)
    # Its receipt, and the check of its PDF, say the payment is to be given back.
    receipt = stack.browser.get(first_page.request.url + 'receipt')
    assert 'Refund due' in receipt.html.find(class_='refunds').text
    pdf = stack.browser.get(first_page.request.url + 'receipt.pdf').body
    checked = check_at_verify_page(stack, pdf, 'receipt.pdf')
    assert 'Refund due' in checked.html.find(class_='check-result').text
    refund_mail = [m for m in stack.outbox() if m['subject'] == 'OCCI will refund a payment']
    assert len(refund_mail) == 1 and transaction_id in refund_mail[0]['body']
    assert stack.server_errors() == []


def test_a_renewal_paid_after_a_debit_was_recorded_is_not_made_and_its_payment_owed_back(stack):
    """The chamber records a debit after the member was given the renewal's
    price: the payment does not cover it, so the renewal is not made, the
    debit stays, and the payment is a refund due that the member reads of."""
    request_id, order_page = renewal_order(stack)
    expiry, debit = membership(stack)

    def record_debit(site):
        companies = site['companies']
        companies.record_debit(
            companies['1229237'],
            7_000,
            'Unpaid fee of 2019',
            datetime.now(UTC),
            script_request(stack.portal.registry),
        )

    in_db(stack, record_debit)
    receipt = pay(stack, order_page)
    transaction_id = answer_of(receipt)['transaction_id']
    page = back_to_portal(receipt).follow()
    assert 'This request was paid but could not be completed.' in page
    due = page.html.find(class_='refunds')
    assert 'Refund due' in due.text and 'RO 50' in cells(due) and transaction_id in due.text
    assert 'The request this payment was for could not be completed.' in due.text
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'failed'
    assert membership(stack) == (expiry, debit + 7_000) and fulfilments(stack) == []
    [mail] = [m for m in stack.outbox() if m['subject'] == 'OCCI will refund a payment']
    assert transaction_id in mail['body']
    assert 'The request this payment was for could not be completed.' in mail['body']
    assert stack.server_errors() == []


def ask_the_gateway(admin, order_url, **kw):
    tab = admin.get(order_url + '@@manage-payment')
    form = next(f for f in tab.forms.values() if f.action.endswith('/ask-gateway'))
    return form.submit(**kw)


@pytest.mark.parametrize(
    'language, recorded, nothing_new',
    [
        (
            'en',
            'Answers that had not reached the portal, recorded now: 1.',
            'the portal had every answer it gave already',
        ),
        ('ar', 'وسُجّلت الآن: 1.', 'كانت كل إجاباتها قد وصلت إلى البوابة الإلكترونية'),
    ],
)
def test_an_administrator_asks_the_gateway_about_a_payment_whose_answers_were_lost(
    stack, language, recorded, nothing_new
):
    """The member paid and neither the browser's return nor the notification
    came: "Ask the gateway now" on the Payment tab records the approval
    through the usual path (the request completed), audited as the
    administrator's; asked again, nothing is recorded twice."""
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page)  # and the browser never comes back
    admin = admin_of(stack)
    headers = {'Accept-Language': language}
    order_url = order_page.request.url
    asked = ask_the_gateway(admin, order_url, headers=headers)
    assert asked.status_int == 303 and asked.location == order_url + '@@manage-payment'
    assert recorded in asked.follow(headers=headers).html.find(class_='flash').text
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'fulfilled'
    assert len(fulfilments(stack)) == 1
    answers = in_db(
        stack,
        lambda site: [
            (entry['action'], entry['user'], entry['details']['channel'])
            for _key, entry in site['audit'].latest(action='payment.accept')
        ],
    )
    assert answers == [('payment.accept', '90000009', 'administrator')]
    again = ask_the_gateway(admin, order_url, headers=headers).follow(headers=headers)
    assert nothing_new in again.html.find(class_='flash').text
    assert len(fulfilments(stack)) == 1


def test_the_gateway_that_cannot_be_asked_changes_nothing(stack):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page)
    admin = admin_of(stack)
    gateway = stack.portal.registry.occi_payment
    gateway.query_url = 'http://127.0.0.1:9/query'
    shown = ask_the_gateway(admin, order_page.request.url).follow()
    assert 'The gateway could not be asked about this order just now' in shown
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'awaiting_payment'


def test_only_an_administrator_asks_the_gateway_and_only_with_the_sessions_token(stack):
    """Asked of an order that went to the gateway; by an administrator, with the session's token."""
    _request_id, order_page = renewal_order(stack)
    order_url = order_page.request.url
    admin = admin_of(stack)
    assert 'Ask the gateway now' not in admin.get(order_url + '@@manage-payment')
    to_gateway(stack, order_page)
    token = order_page.forms[1]['csrf_token'].value
    stack.browser.post(order_url + 'ask-gateway', {'csrf_token': token}, status=403)
    admin.post(order_url + 'ask-gateway', status=400)
    ask_the_gateway(admin, order_url, status=303)
