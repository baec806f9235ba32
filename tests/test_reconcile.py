"""Reconciliation: orders whose gateway answers never arrived are settled by
asking the gateway, through the path a notification takes."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

from persistent.mapping import PersistentMapping

from occi_site.integrations.commercial_registry import RegistryRecordError
from occi_site.reconciliation import Reconciler
from occi_site.scripts.housekeeping import housekeep

from . import test_payment_portal
from .conftest import add_account, silence_registry
from .stack import Stack
from .test_payment_portal import (
    DECLINED_CARD,
    admin_of,
    answer_of,
    back_to_portal,
    fulfilments,
    in_db,
    membership,
    pay,
    pay_at_gateway,
    renewal_order,
    signed_answer,
    switch,
    to_gateway,
    verified_renewal,
    verified_request,
)

# The payment tests' own: a member logged in, the gateway beside the portal.
stack = test_payment_portal.stack


def run_reconcile(stack, after=timedelta(0)):
    return Reconciler(stack.portal.registry, after).run_once()


def order_states(stack, request_id):
    return in_db(stack, lambda site: [o.state for o in site['orders'].for_request(request_id)])


def test_a_payment_whose_answers_were_both_lost_is_settled(stack):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page)  # and the browser never comes back
    assert order_states(stack, request_id) == ['pending']
    assert run_reconcile(stack, after=timedelta(minutes=15)) == {}  # too recent to ask
    [(name, state)] = run_reconcile(stack).items()
    assert state == 'paid'
    assert order_states(stack, request_id) == ['paid']
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'fulfilled'
    assert membership(stack)[0] == date(2029, 3, 19)
    assert len(fulfilments(stack)) == 1
    audit = in_db(stack, lambda site: site['audit'].latest(path='/orders/' + name))
    accepted = [entry for _key, entry in audit if entry['action'] == 'payment.accept']
    assert [entry['details']['channel'] for entry in accepted] == ['reconciliation']
    assert run_reconcile(stack) == {}


def test_a_payment_on_a_withdrawn_order_whose_answers_were_lost_is_found(stack):
    """A tab is left at the gateway while the member goes back to change the
    request (the order is withdrawn); the member pays in that tab and neither
    answer arrives.  Once the order's payment window has closed, a pass asks
    the gateway about it, once, and records the payment."""
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    left_open = to_gateway(stack, order_page)
    page = stack.browser.get('/requests/%s/' % request_id)
    next(f for f in page.forms.values() if f.action.endswith('/change')).submit()
    assert order_states(stack, request_id) == ['withdrawn']
    pay_at_gateway(left_open)  # and the browser never comes back
    assert run_reconcile(stack) == {}  # the window is still open: not asked yet
    later = datetime.now(UTC) + timedelta(minutes=91)
    stack.portal.registry.occi_clock = lambda: later
    [(name, state)] = run_reconcile(stack).items()
    assert state == 'paid' and order_states(stack, request_id) == ['paid']
    settled = in_db(
        stack,
        lambda site: (
            site['requests'][request_id].state,
            [r.why for r in site['orders'][name].refunds_due],
        ),
    )
    # The request had been given back to the member with the same price: paid by it.
    assert settled == ('fulfilled', [])
    assert len(fulfilments(stack)) == 1
    assert run_reconcile(stack) == {}  # asked once


def test_a_closed_order_the_gateway_cannot_be_asked_about_is_left_to_the_chamber(stack, caplog):
    """The gateway's status query fails for a day after a withdrawn order's
    window: the order is asked about on every pass until then, then no
    more, and the chamber reads why in the log."""
    request_id, order_page = renewal_order(stack)
    to_gateway(stack, order_page)
    page = stack.browser.get('/requests/%s/' % request_id)
    next(f for f in page.forms.values() if f.action.endswith('/change')).submit()
    gateway = stack.portal.registry.occi_payment
    asked_at, gateway.query_url = gateway.query_url, 'http://127.0.0.1:9/query'

    def closed_unpaid():
        return in_db(stack, lambda site: len(site['orders'].closed_unpaid))

    for minutes in (91, 24 * 60 + 89):
        later = datetime.now(UTC) + timedelta(minutes=minutes)
        stack.portal.registry.occi_clock = lambda later=later: later
        assert run_reconcile(stack) == {} and closed_unpaid() == 1
    later = datetime.now(UTC) + timedelta(minutes=24 * 60 + 92)
    stack.portal.registry.occi_clock = lambda: later
    assert run_reconcile(stack) == {} and closed_unpaid() == 0
    assert 'could not say for a day whether a tab left at it paid it' in caplog.text
    gateway.query_url = asked_at
    assert order_states(stack, request_id) == ['withdrawn']


HELD = 'A card payment for this service and company is being checked by the bank'


def held_for_review(stack, monkeypatch):
    """A renewal paid at the gateway, which holds the payment for the
    chamber's review and says so by the browser's return (its notification
    lost); the gateway's status query patched to tell what ``said`` holds:
    ``(request id, said, the approval the chamber's review will give)``."""
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    approval = answer_of(pay(stack, order_page))
    held = signed_answer(approval, decision='REVIEW', reason_code='480')
    stack.browser.post('/payment/return', held)
    gateway = stack.portal.registry.occi_payment
    said = [gateway.read_result(held)]
    monkeypatch.setattr(gateway, 'transactions', lambda reference, timeout=10.0: list(said))
    return request_id, said, gateway.read_result(approval)


def at(stack, later):
    moment = datetime.now(UTC) + later
    stack.portal.registry.occi_clock = lambda: moment


def test_a_payment_held_for_review_is_followed_until_the_chamber_decides_it(stack, monkeypatch):
    """The chamber accepts the held payment at the gateway's back office two
    days later, which notifies nobody: meanwhile the member is not offered to
    pay again and the order does not expire; a pass then finds the approval."""
    request_id, said, approval = held_for_review(stack, monkeypatch)
    page = stack.browser.get('/requests/%s/' % request_id)
    assert 'The bank is checking your card payment' in page
    assert not [f for f in page.forms.values() if f.action.endswith(('/checkout', '/change'))]
    for later in (timedelta(minutes=91), timedelta(minutes=107), timedelta(days=1)):
        at(stack, later)
        assert set(run_reconcile(stack).values()) == {'pending'}
        assert order_states(stack, request_id) == ['pending']
    said.append(approval)
    at(stack, timedelta(days=2))
    assert list(run_reconcile(stack).values()) == ['paid']
    settled = in_db(
        stack,
        lambda site: (site['requests'][request_id].state, list(site['orders'].in_review)),
    )
    assert settled == ('fulfilled', [])
    assert len(fulfilments(stack)) == 1


def test_no_second_payment_is_taken_while_one_is_held_for_review(stack, monkeypatch):
    """Step 3 of another renewal of the company says a payment is held and
    offers no confirmation; a confirmation posted all the same is refused."""
    request_id, _said, _approval = held_for_review(stack, monkeypatch)
    _second, url = verified_renewal(stack)
    page = stack.browser.get(url, {'years': '2'})
    assert HELD in page
    assert not page.html.find('button', attrs={'name': 'confirm'})
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    form['years'] = '2'
    refused = form.submit().follow()
    assert HELD in refused
    assert not any(f.action.endswith('/checkout') for f in refused.forms.values())
    [order] = in_db(stack, lambda site: [o.id for o in site['orders'].for_request(request_id)])
    tab = admin_of(stack).get('/orders/%s/@@manage-payment' % order)
    assert 'The gateway holds a payment of this order for the chamber to review' in tab


def test_a_review_for_an_expired_order_holds_back_the_new_orders_payment(stack, monkeypatch):
    """The order expired while its payment was at the gateway and the
    member made a new one; the gateway then says it holds the first payment
    for review: the new order is not paid meanwhile, and the first order's
    page says the bank is checking the payment."""
    switch(stack, 'drop_notification')
    first_request, first_page = renewal_order(stack)
    approval = answer_of(pay(stack, first_page))  # and the browser never comes back
    gateway = stack.portal.registry.occi_payment
    monkeypatch.setattr(gateway, 'transactions', lambda reference, timeout=10.0: [])
    at(stack, timedelta(minutes=91))
    run_reconcile(stack)
    assert order_states(stack, first_request) == ['expired']
    stack.portal.registry.occi_clock = lambda: datetime.now(UTC)
    _second_request, second_page = renewal_order(stack)
    stack.browser.post('/payment/return', signed_answer(approval, decision='REVIEW'))
    refused = second_page.forms[1].submit().follow()
    assert HELD in refused
    assert 'gateway-checkout' not in refused.forms
    first_order = stack.browser.get(first_page.request.url)
    assert 'The bank is checking your card payment' in first_order
    assert 'You can confirm your request again' not in first_order
    # The request waits for the new order: neither its page nor the order's offers to pay.
    for page in (
        stack.browser.get('/requests/%s/' % first_request),
        stack.browser.get(second_page.request.url),
    ):
        assert HELD in page and 'Go to payment' not in page
        assert not any(f.action.endswith('/checkout') for f in page.forms.values())


def test_a_request_back_at_step_3_says_that_its_expired_orders_payment_is_held(stack, monkeypatch):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    approval = answer_of(pay(stack, order_page))
    gateway = stack.portal.registry.occi_payment
    monkeypatch.setattr(gateway, 'transactions', lambda reference, timeout=10.0: [])
    at(stack, timedelta(minutes=91))
    run_reconcile(stack)
    stack.portal.registry.occi_clock = lambda: datetime.now(UTC)
    stack.browser.post('/payment/return', signed_answer(approval, decision='REVIEW'))
    page = stack.browser.get('/requests/%s/' % request_id)
    assert 'Total Amount' in page and HELD in page
    assert not page.html.find('button', attrs={'name': 'confirm'})


def test_a_payment_held_for_review_never_decided_is_left_to_the_chamber(stack, monkeypatch, caplog):
    request_id, _said, approval = held_for_review(stack, monkeypatch)
    at(stack, timedelta(days=8))
    run_reconcile(stack)
    assert order_states(stack, request_id) == ['expired']
    followed = in_db(
        stack,
        lambda site: (
            list(site['orders'].in_review),
            [order.under_review for order in site['orders'].for_request(request_id)],
        ),
    )
    assert followed == ([], [()])
    [order] = in_db(stack, lambda site: [o.id for o in site['orders'].for_request(request_id)])
    admin = admin_of(stack)
    tab = admin.get('/orders/%s/@@manage-payment' % order)
    assert 'undecided after seven days; the portal no longer asks about it on its own' in tab
    assert 'Ask the gateway now' in tab
    # The approval comes after all, by notification: the order is paid, the note gone.
    stack.browser.post('/payment/notify', dict(approval.fields))
    assert order_states(stack, request_id) == ['paid']
    assert 'undecided after' not in admin.get('/orders/%s/@@manage-payment' % order)
    assert 'held a payment of it for review' in caplog.text
    assert run_reconcile(stack) == {}


def test_a_declined_payment_is_recorded_once(stack):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page, number=DECLINED_CARD)
    assert list(run_reconcile(stack).values()) == ['declined']
    kept = in_db(stack, lambda site: len(site['orders'].for_request(request_id)[0].gateway_log))
    # The declined order is asked about again on the next pass: the answer is
    # already kept, so nothing more is.
    assert list(run_reconcile(stack).values()) == ['declined']
    again = in_db(stack, lambda site: len(site['orders'].for_request(request_id)[0].gateway_log))
    assert again == kept
    assert membership(stack)[0] == date(2027, 3, 19)


def test_a_member_still_at_the_gateway_is_left_alone_until_the_window_closes(stack):
    request_id, order_page = renewal_order(stack)
    to_gateway(stack, order_page)
    assert list(run_reconcile(stack).values()) == ['pending']
    later = datetime.now(UTC) + timedelta(minutes=91)
    stack.portal.registry.occi_clock = lambda: later
    assert list(run_reconcile(stack).values()) == ['expired']
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'verified'


def test_an_unreachable_gateway_leaves_the_order_for_the_next_pass(stack):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page)
    gateway = stack.portal.registry.occi_payment
    # Nothing listens on the discard port.
    asked_at, gateway.query_url = gateway.query_url, 'http://127.0.0.1:9/query'
    assert run_reconcile(stack) == {}
    assert order_states(stack, request_id) == ['pending']
    gateway.query_url = asked_at
    assert list(run_reconcile(stack).values()) == ['paid']
    assert order_states(stack, request_id) == ['paid']


def test_an_order_past_its_window_expires_though_the_gateway_cannot_be_asked(stack):
    """As the member's own page would: the request goes back to the member,
    and the closed order is asked about once the gateway answers again."""
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page)
    gateway = stack.portal.registry.occi_payment
    asked_at, gateway.query_url = gateway.query_url, 'http://127.0.0.1:9/query'
    later = datetime.now(UTC) + timedelta(minutes=91)
    stack.portal.registry.occi_clock = lambda: later
    assert run_reconcile(stack) == {}
    assert order_states(stack, request_id) == ['expired']
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'verified'
    gateway.query_url = asked_at
    next_pass = later + timedelta(minutes=1)
    stack.portal.registry.occi_clock = lambda: next_pass
    assert list(run_reconcile(stack).values()) == ['paid']
    assert order_states(stack, request_id) == ['paid']


def test_an_order_expired_long_after_its_window_gets_its_day_of_asking_from_then(stack):
    """Expired by a pass a day after its window, the gateway still silent:
    the day of asking about it as a closed order starts at its closing, so
    the payment is found when the gateway answers again."""
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page)
    gateway = stack.portal.registry.occi_payment
    asked_at, gateway.query_url = gateway.query_url, 'http://127.0.0.1:9/query'
    for minutes in (24 * 60 + 95, 24 * 60 + 100):
        later = datetime.now(UTC) + timedelta(minutes=minutes)
        stack.portal.registry.occi_clock = lambda later=later: later
        assert run_reconcile(stack) == {}
    assert order_states(stack, request_id) == ['expired']
    gateway.query_url = asked_at
    assert list(run_reconcile(stack).values()) == ['paid']


def new_membership_order(stack, fee_baisa=10_000):
    """A New Membership of CR 1445820 at a fee the chamber set, verified and
    confirmed: ``(request id, the order page)``."""

    def set_fee(site):
        fees = site['settings'].fees
        fees.service_fees = PersistentMapping({**fees.service_fees, 'new_membership': fee_baisa})

    in_db(stack, set_fee)
    request_id, url = verified_request(
        stack, 'new_membership', cr_number='1445820', captcha='TEST5'
    )
    page = stack.browser.get(url)
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    return request_id, form.submit('confirm').follow()


def test_a_payment_the_registry_cannot_complete_is_kept_and_completed_later(stack, monkeypatch):
    """The commercial registry stops answering while the member pays for a New
    Membership, whose completion reads the company's record there again: the
    payment is recorded (not rolled back with the failed completion), the
    member reads that it was received, and a reconciliation pass completes
    the request once the registry answers again."""
    request_id, order_page = new_membership_order(stack)

    def state():
        return in_db(stack, lambda site: site['requests'][request_id].state)

    def members():
        return in_db(stack, lambda site: site['companies'].get('1445820') is not None)

    silence_registry(monkeypatch)
    page = back_to_portal(pay(stack, order_page)).follow()
    assert 'Your payment was received. Your request is being completed.' in page
    assert state() == 'paid' and order_states(stack, request_id) == ['paid']
    assert not members() and not fulfilments(stack)
    # Still unanswered: the request waits for the next pass.
    run_reconcile(stack)
    assert state() == 'paid'
    monkeypatch.undo()
    run_reconcile(stack)
    assert state() == 'fulfilled' and members() and len(fulfilments(stack)) == 1
    assert 'Your request is complete.' in stack.browser.get(page.request.url)
    run_reconcile(stack)
    assert len(fulfilments(stack)) == 1


def test_a_paid_renewal_is_completed_while_the_registry_is_silent(stack, monkeypatch):
    """A renewal's completion needs nothing from the commercial registry (its
    price was given at step 3): a registry outage does not hold it back."""
    request_id, order_page = renewal_order(stack)
    silence_registry(monkeypatch)
    page = back_to_portal(pay(stack, order_page)).follow()
    assert 'Your request is complete.' in page
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'fulfilled'
    assert membership(stack)[0] == date(2029, 3, 19) and len(fulfilments(stack)) == 1


def test_the_portal_reconciles_in_a_thread_of_its_own(tmp_path):
    stack = Stack(
        tmp_path,
        **{
            'pyramid.includes': 'tests.probe_views',
            'occi.reconcile.mode': 'thread',
            'occi.reconcile.after': '0',
            'occi.reconcile.every': '0.2',
        },
    )
    try:
        in_db(stack, lambda site: add_account(site, '90000001'))
        stack.browser.get('/_probe/login/90000001')
        switch(stack, 'drop_notification')
        request_id, order_page = renewal_order(stack)
        pay(stack, order_page)
        deadline = time.monotonic() + 20
        while order_states(stack, request_id) != ['paid'] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert order_states(stack, request_id) == ['paid']
        assert in_db(stack, lambda site: site['requests'][request_id].state) == 'fulfilled'
        assert [t for t in threading.enumerate() if t.name == 'occi-reconcile']
    finally:
        stack.portal.registry.occi_reconcile_thread.stop_and_join(10)
        stack.close()


def test_housekeeping_expires_what_was_abandoned(stack):
    request_id, order_page = renewal_order(stack)
    to_gateway(stack, order_page)  # and the member never pays
    assert housekeep(stack.portal.registry) == (0, 0, 0)  # the window is still open
    stack.portal.registry.occi_clock = lambda: datetime.now(UTC) + timedelta(hours=25)
    assert housekeep(stack.portal.registry) == (1, 0, 1)
    assert order_states(stack, request_id) == ['expired']
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'expired'
    assert housekeep(stack.portal.registry) == (0, 0, 0)


def test_a_pass_of_paid_requests_goes_on_past_a_failure_and_stops_where_the_registry_is_silent(
    monkeypatch,
):
    """A branch with stand-ins: ``complete_paid_requests`` over three waiting
    requests, the first failing, the second finding the registry silent."""
    from types import SimpleNamespace

    import transaction

    from occi_site import reconciliation

    class Requests(dict):
        def find(self, services, states, limit):
            return list(self.values())

    requests = Requests((name, SimpleNamespace(__name__=name, state='paid')) for name in 'abc')
    tried = []

    def complete(request, service_request):
        tried.append(service_request.__name__)
        if service_request.__name__ == 'a':
            raise RuntimeError('a record that does not load')
        return False

    monkeypatch.setattr(reconciliation, 'complete_paid_request', complete)
    request = SimpleNamespace(
        tm=transaction.TransactionManager(explicit=True), root={'requests': requests}
    )
    assert reconciliation.complete_paid_requests(request) == {'b': 'paid'}
    assert tried == ['a', 'b']


def test_a_pass_of_paid_requests_goes_on_past_a_company_record_the_registry_got_wrong(caplog):
    """A branch with stand-ins for the requests and the registry: the
    registry answers for the first waiting New Membership with a record the
    portal cannot use (that company's trouble, not the registry's), so the
    pass leaves it paid, says so, and completes the next one."""
    from types import SimpleNamespace

    import transaction

    from occi_site import reconciliation

    class Requests(dict):
        def find(self, services, states, limit):
            return list(self.values())

    fulfilled = []

    def waiting(name, cr_number):
        def fulfil(today, now, request, registry_company):
            fulfilled.append((name, registry_company))
            paid.state = 'fulfilled'

        paid = SimpleNamespace(
            __name__=name, id=name, service='new_membership', cr_number=cr_number, state='paid'
        )
        paid.fulfil = fulfil
        return paid

    class Registry:
        def company(self, cr_number):
            if cr_number == '666':
                raise RegistryRecordError("malformed company record: 'name_en'")
            return 'the record of %s' % cr_number

    requests = Requests(a=waiting('a', '666'), b=waiting('b', '1445820'))
    request = SimpleNamespace(
        tm=transaction.TransactionManager(explicit=True),
        root={'requests': requests},
        commercial_registry=Registry(),
        today=date(2026, 12, 1),
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert reconciliation.complete_paid_requests(request) == {'a': 'paid', 'b': 'fulfilled'}
    assert fulfilled == [('b', 'the record of 1445820')]
    assert "paid request a: the commercial registry's record of CR 666" in caplog.text


def test_a_pass_goes_on_past_an_order_that_fails_to_settle(caplog):
    """A branch with stand-ins: the first of two stale orders raises while it
    is settled; the pass settles the second and still completes the paid
    requests, and says what failed."""
    from types import SimpleNamespace

    import transaction

    from occi_site import reconciliation

    class Order(SimpleNamespace):
        def expire_if_stale(self, now, request):
            if self.id == 'a':
                raise RuntimeError('an order that does not load')
            self.state = 'expired'

    class Folder(dict):
        def find(self, *args, **kwargs):
            return list(self.values())

        def closed_unpaid_to_ask(self, before, limit):
            return []

        def in_review_to_ask(self, limit):
            return []

    orders = Folder((name, Order(id=name, transaction_uuids=(), state='created')) for name in 'ab')
    site = {'orders': orders, 'requests': Folder()}
    request = SimpleNamespace(
        tm=transaction.TransactionManager(explicit=True),
        root=site,
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert reconciliation.reconcile(request, timedelta(0)) == {'b': 'expired'}
    assert 'order a: its settlement failed' in caplog.text
