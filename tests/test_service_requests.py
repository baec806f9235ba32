"""Service requests, orders, certificates and counters on a real ZODB: the
flow of each service from draft to fulfilment, exactly once, and numbers that
concurrent transactions never share."""

import contextlib
import re
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import transaction
from pyramid.authorization import ACLHelper, Authenticated, Everyone
from ZODB import DB
from ZODB.FileStorage import FileStorage
from ZODB.MappingStorage import MappingStorage
from ZODB.POSException import ConflictError

from occi_site.events import (
    GatewayAnswerRecorded,
    MembershipChanged,
    OrderStateChanged,
    PaymentReceived,
    RefundDue,
    RefundMade,
    RequestFulfilled,
    RequestStateChanged,
)
from occi_site.integrations.commercial_registry import SampleRegistry
from occi_site.integrations.payment import GatewayResult
from occi_site.resources import ROOT_KEY, bootstrap_database
from occi_site.resources.certificate import Certificates, issue_certificate, new_certificate_serial
from occi_site.resources.company import ServiceRefused
from occi_site.resources.counters import Counters, next_occi_number
from occi_site.resources.order import (
    ORDER_STATES,
    ORDER_TRANSITIONS,
    PAYMENT_WINDOW,
    REVIEW_WINDOW,
    Orders,
    Outcome,
)
from occi_site.resources.sample import seed_sample_memberships
from occi_site.resources.search import find_companies
from occi_site.resources.service_request import (
    PAID_WAIT,
    REQUEST_STATES,
    REQUEST_TRANSITIONS,
    ServiceRequests,
)
from occi_site.resources.services import get_service
from tests.conftest import shows

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
MEMBER = '90000001'
REGISTRY = SampleRegistry()


def open_database(storage):
    db = DB(storage)
    bootstrap_database(db, after=[seed_sample_memberships])
    return db


@pytest.fixture
def site():
    db = open_database(MappingStorage())
    conn = db.open()
    yield conn.root()[ROOT_KEY]
    transaction.abort()
    conn.close()
    db.close()


@pytest.fixture
def script(announced):
    """The request the changes happen in, as a script's; ``script.events``
    lists what was announced."""
    request, events = announced
    request.events = events
    return request


def start(site, request, service, cr, civil_id=MEMBER, occi_number=None):
    """A request through steps 1-3: opened, verified and priced."""
    service_request = site['requests'].open_request(
        service, civil_id, cr, NOW, request, occi_number=occi_number
    )
    service_request.record_step_up('assertion-1', NOW, 'smartcard', NOW, request)
    company = site['companies'].get(cr)
    listed = REGISTRY.company(cr)
    choices = get_service(service).read_choices({'years': '1'})
    service_request.set_quote(
        get_service(service).quote(company, listed, TODAY, site['settings'].fees, choices), choices
    )
    return service_request


def order_for(service_request, request, when=NOW):
    """The order of ``service_request``'s quote, taken to the gateway once (attempt ``uuid-1``)."""
    order = service_request.await_payment(
        [(str(label), 'ar', amount) for label, amount in service_request.quote.lines], when, request
    )
    order.begin_checkout('uuid-1', {'checkout': 'signed fields'}, when, request)
    return order


def answer(order, decision='ACCEPT', attempt='uuid-1', transaction='T-1', **changes):
    """A verified answer of the gateway about ``order``."""
    values = {
        'decision': decision,
        'reason_code': {'ACCEPT': '100', 'DECLINE': '203'}.get(decision),
        'message': '',
        'transaction_id': transaction,
        'reference_number': order.id,
        'transaction_uuid': attempt,
        'amount_baisa': order.amount_baisa,
        'currency': 'OMR',
        'card_type': 'Visa' if decision == 'ACCEPT' else None,
        'card_last4': '1111' if decision == 'ACCEPT' else None,
        'signed_date_time': None,
    }
    values.update(changes)
    return GatewayResult(fields={'decision': decision, 'transaction_id': transaction}, **values)


def pay(site, request, service_request):
    order = order_for(service_request, request)
    assert order.record_gateway_result(answer(order), NOW, request) == Outcome.PAID
    return order


# The tree


def test_the_tree_has_the_typed_containers(site):
    assert isinstance(site['requests'], ServiceRequests)
    assert isinstance(site['orders'], Orders)
    assert isinstance(site['certificates'], Certificates)
    assert isinstance(site['counters'], Counters)


# Service requests


def test_a_request_moves_through_its_states(site, script):
    service_request = start(site, script, 'renewal', '1229237')
    assert service_request.state == 'verified'
    assert service_request.step_up == {
        'assertion_id': 'assertion-1',
        'at': NOW,
        'method': 'smartcard',
    }
    pay(site, script, service_request)
    assert [state for _when, state, _note in service_request.history] == [
        'draft',
        'verified',
        'awaiting_payment',
        'paid',
    ]
    assert isinstance(service_request.history, tuple)
    changes = [
        (event.old_state, event.new_state, event.service)
        for event in script.events
        if isinstance(event, RequestStateChanged)
    ]
    assert changes == [
        (None, 'draft', 'renewal'),
        ('draft', 'verified', 'renewal'),
        ('verified', 'awaiting_payment', 'renewal'),
        ('awaiting_payment', 'paid', 'renewal'),
    ]
    assert all(event.when == NOW and event.request is script for event in script.events)


def in_state(record, state):
    """``record`` put straight into ``state``, as the flow would have left it."""
    record.state = state
    return record


def a_request(site, script):
    return site['requests'].open_request('certificate', MEMBER, '1229237', NOW, script)


def an_order(site, script):
    return site['orders'].new_order('request-1', MEMBER, [('Fee', 'رسوم', 4_000)], NOW, script)


TABLES = [
    (a_request, REQUEST_STATES, REQUEST_TRANSITIONS, RequestStateChanged),
    (an_order, ORDER_STATES, ORDER_TRANSITIONS, OrderStateChanged),
]


@pytest.mark.parametrize(
    'make, old_state, new_state, table, event_class',
    [
        (make, old_state, new_state, table, event_class)
        for make, states, table, event_class in TABLES
        for old_state in states
        for new_state in states
    ],
)
def test_every_transition_is_checked_against_its_table(
    site, script, make, old_state, new_state, table, event_class
):
    record = in_state(make(site, script), old_state)
    allowed = new_state in table.get(old_state, ())
    if (event_class, old_state, new_state) == (RequestStateChanged, 'verified', 'fulfilled'):
        allowed = False  # a request with no free quote is never fulfilled unpaid
    if not allowed:
        with pytest.raises(ValueError):
            record.transition(new_state, NOW, script)
        assert record.state == old_state
        return
    record.transition(new_state, NOW, script, note='why')
    assert record.state == new_state
    event = script.events[-1]
    assert (type(event), event.subject, event.old_state, event.new_state, event.note) == (
        event_class,
        record,
        old_state,
        new_state,
        'why',
    )


def test_a_free_request_is_fulfilled_from_verified(site, script):
    service_request = start(site, script, 'new_membership', '1445820')
    service_request.transition('fulfilled', NOW, script)
    assert service_request.state == 'fulfilled'


def test_a_priced_request_is_never_fulfilled_unpaid(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    with pytest.raises(ValueError):
        service_request.transition('fulfilled', NOW, script)
    with pytest.raises(ValueError):
        service_request.fulfil(TODAY, NOW, script)


def test_the_personal_verification_is_fresh_for_ten_minutes(site, script):
    service_request = site['requests'].open_request('renewal', MEMBER, '1229237', NOW, script)
    assert not service_request.step_up_is_fresh(NOW)
    service_request.record_step_up('assertion-1', NOW, 'card', NOW, script)
    assert service_request.step_up_is_fresh(NOW + timedelta(minutes=10))
    assert not service_request.step_up_is_fresh(NOW + timedelta(minutes=10, seconds=1))


def test_reloading_resumes_the_open_request(site, script):
    requests = site['requests']
    first = requests.open_request('renewal', MEMBER, '1229237', NOW, script)
    assert requests.open_request('renewal', MEMBER, '1229237', NOW, script) is first
    assert requests.find_open_draft(MEMBER, 'renewal', '1229237') is first
    assert requests.open_request('certificate', MEMBER, '1229237', NOW, script) is not first
    first.cancel(NOW, script)
    assert requests.find_open_draft(MEMBER, 'renewal', '1229237') is None
    second = requests.open_request('renewal', MEMBER, '1229237', NOW, script)
    assert second is not first
    assert {r.id for r in requests.for_member(MEMBER)} == {
        first.id,
        second.id,
        requests.find_open_draft(MEMBER, 'certificate', '1229237').id,
    }
    with pytest.raises(ValueError):
        first.cancel(NOW, script)


def test_request_ids_are_unguessable(site, script):
    ids = {
        site['requests'].open_request('renewal', str(n), '1229237', NOW, script).id
        for n in range(50)
    }
    assert len(ids) == 50
    assert all(len(name) == 16 and '/' not in name for name in ids)


def test_abandoned_requests_expire_after_24_hours(site, script):
    requests = site['requests']
    service_request = requests.open_request('renewal', MEMBER, '1229237', NOW, script)
    assert not service_request.expire_if_stale(NOW + timedelta(hours=24), script)
    later = NOW + timedelta(hours=24, seconds=1)
    again = requests.open_request('renewal', MEMBER, '1229237', later, script)
    assert service_request.state == 'expired'
    assert again is not service_request and again.state == 'draft'


def test_expire_stale_reads_only_the_stale_requests(site, script):
    requests = site['requests']
    old = requests.open_request('renewal', MEMBER, '1229237', NOW, script)
    paying = start(site, script, 'certificate', '1229237')
    pay(site, script, paying)
    fresh = requests.open_request('renewal', MEMBER, '1445820', NOW + timedelta(hours=20), script)
    assert requests.expire_stale(NOW + timedelta(hours=25), script) == 1
    assert (old.state, paying.state, fresh.state) == ('expired', 'paid', 'draft')
    assert list(requests.open_by_created) == [(fresh.created, fresh.id)]


def test_expire_stale_takes_the_oldest_first_a_batch_at_a_time(site, script):
    requests = site['requests']
    made = [
        requests.open_request('renewal', MEMBER, cr, NOW + timedelta(minutes=minute), script)
        for minute, cr in ((2, '1229237'), (1, '1445820'), (3, '1000001'))
    ]
    later = NOW + timedelta(hours=25)
    assert requests.expire_stale(later, script, limit=2) == 2
    assert [r.state for r in made] == ['expired', 'expired', 'draft']
    assert requests.expire_stale(later, script, limit=2) == 1
    assert requests.expire_stale(later, script, limit=2) == 0


def test_a_request_given_back_by_its_expired_order_is_open_again(site, script):
    requests = site['requests']
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    assert list(requests.open_by_created) == []
    assert order.expire_if_stale(NOW + timedelta(minutes=91), script)
    assert requests.find_open_draft(MEMBER, 'certificate', '1229237') is service_request
    assert list(requests.open_by_created) == [(service_request.created, service_request.id)]
    assert requests.expire_stale(NOW + timedelta(hours=25), script) == 1
    assert service_request.state == 'expired'
    assert requests.find_open_draft(MEMBER, 'certificate', '1229237') is None


def test_a_request_given_back_leaves_a_newer_open_draft_in_place(site, script):
    requests = site['requests']
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    newer = requests.open_request('certificate', MEMBER, '1229237', NOW, script)
    assert newer is not service_request
    order.expire_if_stale(NOW + timedelta(minutes=91), script)
    assert requests.find_open_draft(MEMBER, 'certificate', '1229237') is newer


def test_only_the_member_and_admins_see_a_request_and_only_the_member_takes_its_steps(site, script):
    service_request = site['requests'].open_request('renewal', MEMBER, '1229237', NOW, script)
    acl = ACLHelper()
    member = [Everyone, Authenticated, MEMBER, 'role:member']
    other = [Everyone, Authenticated, '90000002', 'role:member']
    admin = [Everyone, Authenticated, '90000009', 'role:admin']
    assert acl.permits(service_request, member, 'view') and acl.permits(
        service_request, member, 'edit'
    )
    assert not acl.permits(service_request, other, 'view')
    assert not acl.permits(service_request, [Everyone], 'view')
    assert acl.permits(service_request, admin, 'view') and acl.permits(
        service_request, admin, 'manage'
    )
    assert not acl.permits(service_request, admin, 'edit')
    assert not acl.permits(site['requests'], [Everyone], 'view')
    order = order_for(start(site, script, 'certificate', '1229237'), script)
    assert acl.permits(order, member, 'pay') and acl.permits(order, admin, 'view')
    assert not acl.permits(order, admin, 'pay') and not acl.permits(order, other, 'pay')


def test_times_must_be_aware(site, script):
    with pytest.raises(ValueError):
        site['requests'].open_request('renewal', MEMBER, '1229237', datetime(2026, 11, 24), script)


# Fulfilment of each service


def test_new_membership_is_fulfilled_once(site, script):
    service_request = start(site, script, 'new_membership', '1445820')
    assert not service_request.needs_payment
    listed = REGISTRY.company('1445820')
    certificate = service_request.fulfil(TODAY, NOW, script, registry_company=listed)
    company = site['companies']['1445820']
    assert company.membership.occi_number == '100000'
    assert company.membership.grade == 'Fourth'
    assert company.membership.expires_on == date(2027, 11, 24)
    assert site['companies'].find_by_occi_number('100000') is company
    assert find_companies(site['companies'], 'al noor') == [company]
    assert re.fullmatch(r'OCCI-2026-\d{6}', certificate.serial)
    assert (
        service_request.state,
        service_request.occi_number,
        service_request.certificate_serial,
    ) == (
        'fulfilled',
        '100000',
        certificate.serial,
    )
    [admitted] = [event for event in script.events if isinstance(event, MembershipChanged)]
    assert admitted.changes == {
        'occi_number': (None, '100000'),
        'grade': (None, 'Fourth'),
        'expires_on': (None, date(2027, 11, 24)),
    }
    [fulfilled] = [event for event in script.events if isinstance(event, RequestFulfilled)]
    assert (fulfilled.subject, fulfilled.certificate) == (service_request, certificate)

    assert service_request.fulfil(TODAY, NOW, script, registry_company=listed) is certificate
    assert len(site['certificates']) == 1
    assert site['counters'].last('occi_number') == 100000
    assert len(service_request.history) == 3
    assert len([event for event in script.events if isinstance(event, RequestFulfilled)]) == 1


def test_a_second_new_membership_of_the_same_cr_is_refused(site, script):
    listed = REGISTRY.company('1445820')
    first = start(site, script, 'new_membership', '1445820')
    second = start(site, script, 'new_membership', '1445820', civil_id='90000002')
    first.fulfil(TODAY, NOW, script, registry_company=listed)
    with pytest.raises(ServiceRefused) as refused:
        second.fulfil(TODAY, NOW, script, registry_company=listed)
    assert refused.value.reason == 'already_member'
    assert second.state == 'refused'


def test_renewal_is_fulfilled_once(site, script):
    companies = site['companies']
    company = companies['1279531']  # expired 2024-05-02, Third
    companies.change_membership(company, NOW, script, debit_baisa=3_000)
    service_request = start(site, script, 'renewal', '1279531')
    assert service_request.total_baisa == 50_000 + 100_000 + 3_000
    pay(site, script, service_request)
    certificate = service_request.fulfil(TODAY, NOW, script)
    assert company.membership.expires_on == date(2027, 5, 2)
    assert company.membership.debit_baisa == 0
    assert list(companies.expiring_between(date(2027, 5, 2), date(2027, 5, 2))) == [company]
    assert list(companies.expiring_between(date(2024, 5, 2), date(2024, 5, 2))) == []
    assert certificate.expires_on == date(2027, 5, 2)

    service_request.fulfil(TODAY, NOW, script)
    assert company.membership.expires_on == date(2027, 5, 2)
    assert len(site['certificates']) == 1


def test_change_name_is_fulfilled(site, script):
    companies = site['companies']
    service_request = start(site, script, 'change_name', '1304464')
    pay(site, script, service_request)
    service_request.fulfil(TODAY, NOW, script)
    company = companies['1304464']
    assert company.name_en == 'Nizwa Date Company'
    assert find_companies(companies, 'nizwa date company') == [company]
    assert find_companies(companies, 'dates') == []


def test_change_grade_is_fulfilled(site, script):
    service_request = start(
        site, script, 'change_grade', '1020446'
    )  # chamber Third, registry Second
    pay(site, script, service_request)
    certificate = service_request.fulfil(TODAY, NOW, script)
    membership = site['companies']['1020446'].membership
    assert membership.grade == 'Second'
    assert membership.expires_on == date(2027, 11, 24)  # max(2027-01-15, today + 1 year)
    assert certificate.grade == 'Second'


def test_a_new_certificate_supersedes_the_previous_one(site, script):
    first = pay_for(site, script, 'certificate', '1229237').fulfil(TODAY, NOW, script)
    second = pay_for(site, script, 'certificate', '1229237').fulfil(TODAY, NOW, script)
    certificates = site['certificates']
    assert (first.status, first.superseded_by) == ('superseded', second.serial)
    assert certificates.current_for('1229237') is second
    assert certificates.issued_for('1229237') == [second, first]
    assert first.verification_status(TODAY) == 'superseded'
    assert second.verification_status(TODAY) == 'valid'
    assert second.verification_status(date(2027, 3, 20)) == 'expired'


def pay_for(site, script, service, cr):
    service_request = start(site, script, service, cr)
    pay(site, script, service_request)
    return service_request


@pytest.mark.parametrize(
    'service, cr, reason',
    [('renewal', '1229237', 'membership_changed'), ('change_name', '1304464', 'same_name')],
)
def test_the_second_of_two_paid_requests_for_one_change_fails_and_owes_its_payment_back(
    site, script, service, cr, reason
):
    """Two people listed for the CR both pay for the same change: it is made
    once, and the second payment is money to give back."""
    first = start(site, script, service, cr)
    second = start(site, script, service, cr, civil_id='90000002')
    pay(site, script, first)
    pay(site, script, second)
    first.fulfil(TODAY, NOW, script)
    with pytest.raises(ServiceRefused) as refused:
        second.fulfil(TODAY, NOW, script)
    assert refused.value.reason == reason
    assert second.state == 'failed'
    assert len(site['certificates'].issued_for(cr)) == 1
    assert_payment_owed_back(second, script)


def assert_payment_owed_back(service_request, script):
    """``service_request`` was paid and not completed: its payment is a refund due."""
    order = service_request.order
    [refund] = order.refunds_due
    assert (refund.transaction_id, refund.amount_baisa, refund.why, refund.card_last4) == (
        order.transaction_id,
        order.amount_baisa,
        'not_fulfilled',
        '1111',
    )
    assert (order.state, order.refund_state, order.refund_due_baisa) == (
        'paid',
        'due',
        order.amount_baisa,
    )
    assert [e.refund for e in script.events if isinstance(e, RefundDue)] == [refund]
    # Its answer again (the gateway's notification after the browser's) changes nothing.
    assert order.record_gateway_result(answer(order), NOW, script) == Outcome.REPEAT
    # Owed once, however often asked.
    assert order.refund_payment(NOW, script) is refund
    assert (
        order.refunds_due == [refund]
        and len([e for e in script.events if isinstance(e, RefundDue)]) == 1
    )


def test_only_a_paid_order_has_a_payment_to_give_back(site, script):
    order = order_for(start(site, script, 'renewal', '1229237'), script)
    with pytest.raises(ValueError, match='is pending: no payment to give back'):
        order.refund_payment(NOW, script)
    assert not order.refunds


def test_a_debit_recorded_since_a_renewal_was_priced_fails_the_paid_renewal(site, script):
    """The renewal's price counted the debit recorded then: one recorded
    since is not paid by it, and is not wiped by its completion."""
    companies = site['companies']
    company = companies['1229237']
    renewal = start(site, script, 'renewal', '1229237')
    companies.record_debit(company, 7_000, 'unpaid 2019 fee', NOW, script)
    pay(site, script, renewal)
    with pytest.raises(ServiceRefused) as refused:
        renewal.fulfil(TODAY, NOW, script)
    assert refused.value.reason == 'membership_changed'
    assert renewal.state == 'failed'
    assert company.membership.debit_baisa == 7_000
    assert_payment_owed_back(renewal, script)


def test_a_payment_under_way_for_the_same_change_is_found(site, script):
    requests = site['requests']
    waiting = start(site, script, 'renewal', '1229237')
    order_for(waiting, script)
    second = start(site, script, 'renewal', '1229237', civil_id='90000002')
    other_service = start(site, script, 'certificate', '1229237', civil_id='90000002')
    assert requests.payment_under_way(second, NOW) is waiting
    assert requests.payment_under_way(other_service, NOW) is None
    # Its order no longer payable: nothing under way.
    assert requests.payment_under_way(second, NOW + PAYMENT_WINDOW + timedelta(minutes=1)) is None
    paid = start(site, script, 'change_grade', '1020446')
    pay(site, script, paid)
    again = start(site, script, 'change_grade', '1020446', civil_id='90000002')
    assert requests.payment_under_way(again, NOW) is paid
    # Paid a day ago and still not completed: the chamber's to sort out.
    assert requests.payment_under_way(again, NOW + PAID_WAIT + timedelta(seconds=1)) is None
    paid.fulfil(TODAY, NOW, script)
    assert requests.payment_under_way(again, NOW) is None


def test_a_renewal_priced_before_quotes_kept_the_debit_is_completed_as_priced(site, script):
    """A quote stored before it kept the recorded debit (None) is not held
    back by the debit: it is completed as it was priced."""
    company = site['companies']['1229237']
    renewal = start(site, script, 'renewal', '1229237')
    renewal.quote = replace(renewal.quote, old_recorded_debit_baisa=None)
    site['companies'].record_debit(company, 7_000, 'unpaid 2019 fee', NOW, script)
    pay(site, script, renewal)
    renewal.fulfil(TODAY, NOW, script)
    assert renewal.state == 'fulfilled' and company.membership.debit_baisa == 0


# Orders and the gateway's answers


def outcomes(order, script, *answers):
    return [order.record_gateway_result(result, NOW, script) for result in answers]


def test_declined_then_approved_in_another_attempt_pays_once(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    order.begin_checkout('uuid-2', {'checkout': 'second tab'}, NOW, script)
    assert outcomes(
        order,
        script,
        answer(order, 'DECLINE', 'uuid-2', 'T-1'),
        answer(order, 'ACCEPT', 'uuid-1', 'T-2'),
        answer(order, 'ACCEPT', 'uuid-1', 'T-2'),
        answer(order, 'DECLINE', 'uuid-2', 'T-1'),
    ) == [Outcome.DECLINED, Outcome.PAID, Outcome.REPEAT, Outcome.RECORDED]
    assert (order.state, order.transaction_id, service_request.state) == ('paid', 'T-2', 'paid')
    assert not order.refunds and not order.flagged
    assert [type(e) for e in script.events if isinstance(e, PaymentReceived)] == [PaymentReceived]
    assert len(order.gateway_messages) == 6  # two checkouts, four answers


def test_a_declined_attempt_may_be_tried_again(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    assert outcomes(order, script, answer(order, 'DECLINE')) == [Outcome.DECLINED]
    assert (order.state, service_request.state, order.is_payable(NOW)) == (
        'declined',
        'awaiting_payment',
        True,
    )
    order.begin_checkout('uuid-2', {}, NOW, script)
    assert outcomes(order, script, answer(order, 'CANCEL', 'uuid-2', 'T-2')) == [Outcome.CANCELLED]
    order.begin_checkout('uuid-3', {}, NOW, script)
    assert outcomes(order, script, answer(order, 'ERROR', 'uuid-3', 'T-3')) == [Outcome.FAILED]
    order.begin_checkout('uuid-4', {}, NOW, script)
    assert outcomes(
        order,
        script,
        answer(order, 'REVIEW', 'uuid-4', 'T-4'),
        answer(order, 'ACCEPT', 'uuid-4', 'T-4'),
    ) == [Outcome.IN_REVIEW, Outcome.PAID]
    with pytest.raises(ValueError):
        order.begin_checkout('uuid-5', {}, NOW, script)


def test_a_payment_held_for_review_holds_the_order_until_it_is_decided(site, script):
    """The gateway holds the payment for the chamber's review: the member
    can neither pay again nor withdraw the order, which waits for the
    decision rather than expiring at its payment window."""
    requests, orders = site['requests'], site['orders']
    service_request = start(site, script, 'renewal', '1229237')
    order = order_for(service_request, script)
    assert outcomes(order, script, answer(order, 'REVIEW')) == [Outcome.IN_REVIEW]
    later = NOW + PAYMENT_WINDOW + timedelta(minutes=1)
    assert (order.state, order.is_payable(later), order.is_expired(later)) == (
        'pending',
        False,
        False,
    )
    assert not service_request.may_change
    with pytest.raises(ValueError):
        order.begin_checkout('uuid-2', {}, NOW, script)
    with pytest.raises(ValueError):
        service_request.change_before_payment(NOW, script)
    # Nor can another member of the company pay for the same renewal meanwhile.
    second = start(site, script, 'renewal', '1229237', civil_id='90000002')
    assert requests.payment_held_for_review(second, later) is order
    assert requests.payment_held_for_review(second, NOW + REVIEW_WINDOW * 2) is None
    other = start(site, script, 'certificate', '1229237', civil_id='90000002')
    assert requests.payment_held_for_review(other, later) is None
    assert list(orders.in_review) == [(NOW, order.id)]
    assert order.is_expired(NOW + REVIEW_WINDOW + timedelta(minutes=1))
    # The chamber declines it at the gateway two days later: no money taken,
    # and the member has a payment window from then to try again.
    decided = NOW + timedelta(days=2)
    assert order.record_gateway_result(answer(order, 'DECLINE'), decided, script) == (
        Outcome.DECLINED
    )
    assert (order.state, order.is_payable(decided), service_request.may_change) == (
        'declined',
        True,
        True,
    )
    assert order.is_expired(decided + PAYMENT_WINDOW + timedelta(minutes=1))
    assert not order.under_review and not list(orders.in_review)
    assert requests.payment_held_for_review(second, decided) is None


def test_a_payment_held_for_review_after_its_order_expired_holds_the_next_payment(site, script):
    """The order expired while its payment was at the gateway, and the
    gateway then says it holds that payment for review: the request, back
    at its price, may not be paid again while the review is undecided."""
    requests = site['requests']
    service_request = start(site, script, 'renewal', '1229237')
    order = order_for(service_request, script)
    later = NOW + PAYMENT_WINDOW + timedelta(minutes=1)
    assert order.expire_if_stale(later, script) and service_request.state == 'verified'
    assert order.record_gateway_result(answer(order, 'REVIEW'), later, script) == (
        Outcome.IN_REVIEW
    )
    assert requests.payment_held_for_review(service_request, later) is order


def test_a_second_review_is_given_the_whole_review_window(site, script):
    service_request = start(site, script, 'renewal', '1229237')
    order = order_for(service_request, script)
    order.record_gateway_result(answer(order, 'REVIEW'), NOW, script)
    declined = NOW + timedelta(days=5)
    order.record_gateway_result(answer(order, 'DECLINE'), declined, script)
    order.begin_checkout('uuid-2', {}, declined, script)
    order.record_gateway_result(answer(order, 'REVIEW', 'uuid-2', 'T-2'), declined, script)
    assert not order.is_expired(declined + REVIEW_WINDOW - timedelta(minutes=1))
    assert order.is_expired(declined + REVIEW_WINDOW + timedelta(minutes=1))


def test_two_payments_held_at_once_are_each_followed_for_the_whole_review_window(site, script):
    """A second tab's payment is held five days after the first's: the order
    is followed, and waits, for the review window from the second hold."""
    orders = site['orders']
    order = order_for(start(site, script, 'renewal', '1229237'), script)
    order.begin_checkout('uuid-2', {'checkout': 'second tab'}, NOW, script)
    order.record_gateway_result(answer(order, 'REVIEW'), NOW, script)
    second_held = NOW + timedelta(days=5)
    order.record_gateway_result(answer(order, 'REVIEW', 'uuid-2', 'T-2'), second_held, script)
    assert list(orders.in_review) == [(second_held, order.id)]
    assert not order.is_expired(NOW + REVIEW_WINDOW + timedelta(days=1))
    assert order.is_expired(second_held + REVIEW_WINDOW + timedelta(minutes=1))


def test_what_a_payment_held_for_review_holds_back(site, script):
    """Not a paid order's second payment (it can only be money to give
    back), and of a service bought more than once, only its own request."""
    requests = site['requests']
    paid = order_for(start(site, script, 'renewal', '1229237'), script)
    paid.begin_checkout('uuid-2', {}, NOW, script)  # two tabs
    assert outcomes(paid, script, answer(paid), answer(paid, 'REVIEW', 'uuid-2', 'T-2')) == [
        Outcome.PAID,
        Outcome.IN_REVIEW,
    ]
    again = start(site, script, 'renewal', '1229237', civil_id='90000002')
    assert requests.payment_held_for_review(again, NOW) is None
    certificate = start(site, script, 'certificate', '1229237')
    held = order_for(certificate, script)
    held.record_gateway_result(answer(held, 'REVIEW'), NOW, script)
    another = start(site, script, 'certificate', '1229237', civil_id='90000002')
    assert requests.payment_held_for_review(another, NOW) is None
    assert requests.payment_held_for_review(certificate, NOW) is held
    assert requests.payment_held_for_review(certificate, NOW, besides=held) is None


def test_the_note_of_a_review_left_to_the_chamber_goes_only_with_its_decision(site, script):
    """A payment held for review longer than the review window is left to
    the chamber, which the order says; another attempt's answer does not
    take that note away, the held attempt's decision does."""
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    order.begin_checkout('uuid-2', {'checkout': 'second tab'}, NOW, script)
    order.record_gateway_result(answer(order, 'REVIEW'), NOW, script)
    order.review_left_to_the_chamber()
    assert order.review_left_since == NOW
    later = NOW + REVIEW_WINDOW * 2
    order.record_gateway_result(answer(order, 'DECLINE', 'uuid-2', 'T-2'), later, script)
    assert order.review_left_since == NOW
    order.record_gateway_result(answer(order, 'DECLINE'), later, script)
    assert (order.review_left_since, order.left_to_the_chamber) == (None, ())
    # Left twice: the note stays, from the first, until both held attempts are decided.
    twice = order_for(start(site, script, 'certificate', '1229237', civil_id='90000002'), script)
    twice.begin_checkout('uuid-2', {'checkout': 'second tab'}, NOW, script)
    twice.record_gateway_result(answer(twice, 'REVIEW'), NOW, script)
    twice.review_left_to_the_chamber()
    twice.record_gateway_result(answer(twice, 'REVIEW', 'uuid-2', 'T-2'), later, script)
    twice.review_left_to_the_chamber()
    twice.record_gateway_result(answer(twice, 'DECLINE', 'uuid-2', 'T-2'), later, script)
    assert (twice.review_left_since, twice.left_to_the_chamber) == (NOW, ('uuid-1',))
    # Left to the chamber before the attempts held were kept: any decision ends the note.
    legacy = order_for(start(site, script, 'renewal', '1229237'), script)
    legacy.review_left_since = NOW
    legacy.record_gateway_result(answer(legacy, 'DECLINE'), later, script)
    assert legacy.review_left_since is None


def test_a_review_answer_after_the_decision_holds_nothing(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    assert outcomes(order, script, answer(order, 'ACCEPT'), answer(order, 'REVIEW')) == [
        Outcome.PAID,
        Outcome.RECORDED,
    ]
    assert not order.under_review and not list(site['orders'].in_review)


def test_an_older_attempts_decline_leaves_the_newer_attempt_pending(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    order.begin_checkout('uuid-2', {}, NOW, script)
    assert outcomes(order, script, answer(order, 'DECLINE', 'uuid-1')) == [Outcome.RECORDED]
    assert order.state == 'pending'


def test_approved_twice_is_a_refund_due_until_refunded(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    order.begin_checkout('uuid-2', {}, NOW, script)
    assert outcomes(
        order,
        script,
        answer(order, 'ACCEPT', 'uuid-1', 'T-1'),
        answer(order, 'ACCEPT', 'uuid-2', 'T-2'),
        answer(order, 'ACCEPT', 'uuid-2', 'T-2'),
    ) == [Outcome.PAID, Outcome.REFUND_DUE, Outcome.REPEAT]
    [refund] = order.refunds_due
    assert (refund.transaction_id, refund.amount_baisa, refund.why, refund.card_last4) == (
        'T-2',
        4_000,
        'paid_twice',
        '1111',
    )
    assert (order.refund_state, order.refund_due_baisa, order.transaction_id) == (
        'due',
        4_000,
        'T-1',
    )
    [due] = [e for e in script.events if isinstance(e, RefundDue)]
    assert (due.subject, due.refund) == (order, refund)
    orders = site['orders']
    assert orders.find(['certificate'], ['paid'], refund_states=['due']) == [order]
    later = NOW + timedelta(days=2)
    order.mark_refunded('T-2', 'RF-1', later, script)
    assert (refund.is_due, refund.refunded_at, refund.note) == (False, later, 'RF-1')
    assert (order.refund_state, order.refund_due_baisa, order.refunded_baisa) == (
        'refunded',
        0,
        4_000,
    )
    assert orders.find(['certificate'], ['paid'], refund_states=['due']) == []
    assert orders.find(['certificate'], ['paid'], refund_states=['refunded']) == [order]
    assert isinstance(script.events[-1], RefundMade)
    with pytest.raises(ValueError):
        order.mark_refunded('T-2', 'again', later, script)
    with pytest.raises(ValueError):
        order.mark_refunded('T-1', 'the payment itself', later, script)


def test_an_answer_that_is_not_the_orders_is_kept_and_flagged(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    assert (
        outcomes(
            order,
            script,
            answer(order, amount_baisa=1_000),
            answer(order, attempt='uuid-of-another-order'),
            answer(order, currency='USD'),
        )
        == [Outcome.FLAGGED] * 3
    )
    assert (order.flagged, order.state, service_request.state) == (
        True,
        'pending',
        'awaiting_payment',
    )
    assert outcomes(order, script, answer(order)) == [Outcome.PAID]
    recorded = [e for e in script.events if isinstance(e, GatewayAnswerRecorded)]
    assert [e.outcome for e in recorded] == ['flagged', 'flagged', 'flagged', 'paid']
    assert 'amount' not in recorded[0].why and shows(recorded[0].why, '1000')


def test_a_late_approval_of_an_expired_order_still_pays_its_request(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    later = NOW + timedelta(minutes=91)
    assert order.expire_if_stale(later, script)
    assert (order.state, service_request.state) == ('expired', 'verified')
    assert outcomes(order, script, answer(order)) == [Outcome.PAID]
    assert (order.state, service_request.state) == ('paid', 'paid')


def test_an_approval_for_a_withdrawn_order_after_another_is_money_to_give_back(site, script):
    service_request = start(site, script, 'certificate', '1229237')
    first = order_for(service_request, script)
    service_request.change_before_payment(NOW, script)
    assert (first.state, service_request.state) == ('withdrawn', 'verified')
    second = order_for(service_request, script)
    assert outcomes(second, script, answer(second, transaction='T-2')) == [Outcome.PAID]
    assert outcomes(first, script, answer(first, transaction='T-1')) == [Outcome.REFUND_DUE]
    assert (first.state, first.refunds['T-1'].why) == ('paid', 'request_not_waiting')
    assert (service_request.state, service_request.order_id) == ('paid', second.id)


def test_a_request_refused_before_payment_withdraws_its_order_and_owes_a_late_approval_back(
    site, script
):
    service_request = start(site, script, 'certificate', '1229237')
    order = order_for(service_request, script)
    service_request.refuse_before_payment('not_listed', NOW, script)
    assert (order.state, service_request.state) == ('withdrawn', 'refused')
    assert service_request.history[-1][1:] == ('refused', 'not_listed')
    assert outcomes(order, script, answer(order)) == [Outcome.REFUND_DUE]
    assert service_request.state == 'refused'


def test_orders(site, script):
    orders = site['orders']
    order = orders.new_order(
        'request-1',
        MEMBER,
        [('First year fees', 'رسوم السنة الأولى', 25_000), ('Old Debit', 'مديونية سابقة', 0)],
        NOW,
        script,
    )
    assert order.id.startswith('OCCI-ORD-') and len(order.id) == 25
    assert (order.amount_baisa, order.currency, order.state) == (25_000, 'OMR', 'created')
    assert orders.for_request('request-1') == [order]
    order.keep_gateway_message({'decision': 'REVIEW'}, NOW)
    order.transition('pending', NOW, script)
    assert not order.is_expired(NOW + timedelta(minutes=90))
    assert order.is_expired(NOW + timedelta(minutes=91))
    assert order.gateway_messages[0][1] == {'decision': 'REVIEW'}


@pytest.mark.parametrize('amount', [25.0, '25000', -1, True])
def test_order_amounts_are_baisa(site, script, amount):
    with pytest.raises((TypeError, ValueError)):
        site['orders'].new_order('request-1', MEMBER, [('Fee', 'رسوم', amount)], NOW, script)


def test_an_order_has_something_to_pay(site, script):
    with pytest.raises(ValueError):
        site['orders'].new_order('request-1', MEMBER, [('Fee', 'رسوم', 0)], NOW, script)


# Certificates


def test_a_certificate_is_a_record(site):
    certificate = issue_certificate(site, site['companies']['1229237'], TODAY)
    for field in ('serial', 'name_en', 'expires_on'):
        with pytest.raises(AttributeError):
            setattr(certificate, field, 'changed')
    transaction.commit()
    certificate._p_invalidate()  # a ghost, as after a restart
    with pytest.raises(AttributeError):
        certificate.grade = 'First'
    assert certificate.grade == 'Fourth'


# Counters


def test_occi_numbers_continue_after_the_chambers_and_skip_taken_ones(site, script):
    companies = site['companies']
    companies.change_membership(companies['1229237'], NOW, script, occi_number='100001')
    assert next_occi_number(site) == '100000'
    assert next_occi_number(site) == '100002'


def test_certificate_serials_are_the_year_and_six_digits_never_taken(site, monkeypatch):
    company = site['companies']['1229237']
    taken = issue_certificate(site, company, TODAY).serial
    assert re.fullmatch(r'OCCI-2026-\d{6}', taken)
    assert re.fullmatch(r'OCCI-2027-\d{6}', new_certificate_serial(site, date(2027, 1, 1)))
    draws = iter([int(taken[-6:]) - 1, 41])
    monkeypatch.setattr('secrets.randbelow', lambda _n: next(draws))
    assert new_certificate_serial(site, TODAY) == 'OCCI-2026-000042'


@pytest.fixture
def file_db(tmp_path):
    db = open_database(FileStorage(str(tmp_path / 'Data.fs')))
    yield db
    db.close()


def connect(db):
    tm = transaction.TransactionManager()
    return tm, db.open(transaction_manager=tm)


def test_two_allocations_at_once_conflict_and_the_retry_takes_the_next(file_db):
    (tm1, conn1), (tm2, conn2) = connect(file_db), connect(file_db)
    first = next_occi_number(conn1.root()[ROOT_KEY])
    second = next_occi_number(conn2.root()[ROOT_KEY])
    assert first == second  # both read the same counter ...
    tm1.commit()
    with pytest.raises(ConflictError):  # ... so the second commit is refused
        tm2.commit()
    tm2.abort()
    assert next_occi_number(conn2.root()[ROOT_KEY]) == '100001'
    tm2.commit()


def test_two_confirms_of_one_change_at_once_conflict_and_the_retry_sees_the_first(
    file_db, announced
):
    """Two members listed for one company confirm a renewal at the same moment
    (two app servers): each sees the other's request unpaid; the second to
    commit conflicts, and its retry finds the first being paid."""
    request, _events = announced
    tm, conn = connect(file_db)
    site = conn.root()[ROOT_KEY]
    first = start(site, request, 'renewal', '1229237').__name__
    second = start(site, request, 'renewal', '1229237', civil_id='90000002').__name__
    # Other members' requests under way, as there always are.
    for civil_id in ('90000000', '90000003'):
        start(site, request, 'certificate', '1229237', civil_id=civil_id)
    tm.commit()
    (tm1, conn1), (tm2, conn2) = connect(file_db), connect(file_db)
    requests1, requests2 = conn1.root()[ROOT_KEY]['requests'], conn2.root()[ROOT_KEY]['requests']
    for requests, name in ((requests1, first), (requests2, second)):
        assert requests.payment_under_way(requests[name], NOW) is None
        order_for(requests[name], request)
    tm1.commit()
    with pytest.raises(ConflictError):
        tm2.commit()
    tm2.abort()
    assert requests2.payment_under_way(requests2[second], NOW) is requests2[first]


def test_certificates_issued_at_once_do_not_conflict(file_db):
    """No counter between them: two payments issuing certificates both commit."""
    (tm1, conn1), (tm2, conn2) = connect(file_db), connect(file_db)
    site1, site2 = conn1.root()[ROOT_KEY], conn2.root()[ROOT_KEY]
    first = issue_certificate(site1, site1['companies']['1229237'], TODAY).serial
    second = issue_certificate(site2, site2['companies']['1304464'], TODAY).serial
    next_occi_number(site1)
    tm1.commit()
    tm2.commit()
    tm1.begin()
    assert {first, second} <= set(site1['certificates'])


def test_requests_of_different_members_do_not_conflict(file_db, script):
    (tm1, conn1), (tm2, conn2) = connect(file_db), connect(file_db)
    conn1.root()[ROOT_KEY]['requests'].open_request('renewal', '90000001', '1229237', NOW, script)
    conn2.root()[ROOT_KEY]['requests'].open_request('renewal', '90000002', '1279531', NOW, script)
    tm1.commit()
    tm2.commit()
    tm1.begin()
    assert len(conn1.root()[ROOT_KEY]['requests']) == 2


def test_a_quoted_request_is_read_back_as_it_was(file_db, script):
    tm, conn = connect(file_db)
    record_id = start(conn.root()[ROOT_KEY], script, 'renewal', '1279531').id
    tm.commit()
    conn.close()
    tm, conn = connect(file_db)
    quote = conn.root()[ROOT_KEY]['requests'][record_id].quote
    assert quote.total_baisa == 150_000
    assert quote.new_expiry == date(2027, 5, 2)
    assert next((label, label.domain) for label, _amount in quote.lines) == (
        'First year fees',
        'occi_site',
    )


def test_answers_of_the_gateway_kept_at_once_do_not_conflict(file_db, script):
    tm, conn = connect(file_db)
    order = conn.root()[ROOT_KEY]['orders'].new_order(
        'request-1', MEMBER, [('Fee', 'رسوم', 4_000)], NOW, script
    )
    order.keep_gateway_message({'checkout': 'signed fields'}, NOW)
    order_id = order.id
    tm.commit()
    (tm1, conn1), (tm2, conn2) = connect(file_db), connect(file_db)
    for number, connection in enumerate((conn1, conn2)):
        connection.root()[ROOT_KEY]['orders'][order_id].keep_gateway_message(
            {'answer': number}, NOW + timedelta(seconds=number + 1)
        )
    tm1.commit()
    tm2.commit()
    tm.begin()
    assert [
        fields for _when, fields in conn.root()[ROOT_KEY]['orders'][order_id].gateway_messages
    ] == [{'checkout': 'signed fields'}, {'answer': 0}, {'answer': 1}]


def test_concurrent_new_memberships_never_share_a_number(file_db):
    """Two threads, each on its own connection, allocate in lockstep: both
    read the counter before either commits, so every round conflicts and
    the loser retries, as pyramid_retry would."""
    rounds = 20
    barrier = threading.Barrier(2)
    numbers, conflicts, errors = [], [], []

    def allocate(tm, conn):
        while True:
            tm.begin()
            number = next_occi_number(conn.root()[ROOT_KEY])
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)  # broken: the other thread is done
            try:
                tm.commit()
                return number
            except ConflictError:
                tm.abort()
                conflicts.append(number)

    def worker():
        tm, conn = connect(file_db)
        try:
            for _ in range(rounds):
                numbers.append(allocate(tm, conn))
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            barrier.abort()
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(numbers) == 2 * rounds
    assert len(set(numbers)) == 2 * rounds
    assert sorted(numbers, key=int) == [str(n) for n in range(100000, 100000 + 2 * rounds)]
    assert conflicts


def test_repeats_of_an_approval_at_once_do_not_conflict(file_db, script):
    """Once an order is paid, copies of its approval (the browser return, the
    notification, its retries) write only the gateway log: they all commit."""
    tm, conn = connect(file_db)
    service_request = start(conn.root()[ROOT_KEY], script, 'certificate', '1229237')
    order = pay(conn.root()[ROOT_KEY], script, service_request)
    tm.commit()
    connections = [connect(file_db) for _ in range(3)]
    for number, (_tm, connection) in enumerate(connections):
        repeated = connection.root()[ROOT_KEY]['orders'][order.id]
        later = NOW + timedelta(seconds=number + 1)
        assert repeated.record_gateway_result(answer(repeated), later, script) == Outcome.REPEAT
    for other_tm, _connection in connections:
        other_tm.commit()
    tm.begin()
    assert len(conn.root()[ROOT_KEY]['orders'][order.id].gateway_messages) == 5


def test_evolve_step_3_gives_stored_orders_their_refunds_and_index(site, script):
    from occi_site.resources.evolve import step_3_order_refunds
    from occi_site.resources.record_index import RecordIndex

    orders = site['orders']
    order = orders.new_order('request-1', MEMBER, [('Fee', 'رسوم', 4_000)], NOW, script)
    # As an order was stored before refunds: no refunds, indexed by (service, state).
    del order.refunds
    orders.filter_index = RecordIndex()
    orders.filter_index.add((order.service, order.state), order.created, order.__name__)
    step_3_order_refunds(site)
    assert (len(order.refunds), order.refund_state) == (0, '')
    assert orders.find([''], ['created']) == [order]
    assert orders.find([''], ['created'], refund_states=['due']) == []


def test_orders_closed_unpaid_after_the_gateway_wait_to_be_asked_about_once(site, script):
    """Withdrawn or expired after a checkout, an order waits to be asked
    about until its payment window has ended, or its closing if later; one
    never taken to the gateway, or still open, does not."""
    orders = site['orders']
    withdrawn = order_for(start(site, script, 'renewal', '1229237'), script)
    withdrawn.withdraw(NOW, script)
    expired = order_for(start(site, script, 'certificate', '1229237'), script)
    later = NOW + PAYMENT_WINDOW + timedelta(minutes=1)
    assert expired.expire_if_stale(later, script)
    never_checked_out = start(site, script, 'change_grade', '1020446').await_payment(
        [('Fee', 'رسوم', 4_000)], NOW, script
    )
    never_checked_out.withdraw(NOW, script)
    order_for(start(site, script, 'renewal', '1279531'), script)  # still open
    ended = NOW + PAYMENT_WINDOW
    assert orders.closed_unpaid_to_ask(ended, limit=10) == []
    # The one expired a minute after its window waits from then.
    assert orders.closed_unpaid_to_ask(later, limit=10) == [(ended, withdrawn.id)]
    after_both = later + timedelta(seconds=1)
    due = orders.closed_unpaid_to_ask(after_both, limit=10)
    assert due == [(ended, withdrawn.id), (later, expired.id)]
    orders.asked_after_closing(due[0])
    assert orders.closed_unpaid_to_ask(after_both, limit=10) == due[1:]


def test_evolve_step_16_queues_the_orders_closed_unpaid_in_the_last_day(site, script):
    from occi_site.resources.evolve import step_16_orders_closed_unpaid

    now = datetime.now(UTC)
    orders = site['orders']
    recent = order_for(start(site, script, 'renewal', '1229237'), script, when=now)
    recent.withdraw(now, script)
    old = order_for(start(site, script, 'certificate', '1229237'), script)
    old.withdraw(NOW, script)
    del orders.closed_unpaid
    step_16_orders_closed_unpaid(site)
    assert list(orders.closed_unpaid) == [(recent.created + PAYMENT_WINDOW, recent.id)]


def test_evolve_step_17_follows_the_payments_held_for_review_in_the_review_window(site, script):
    from occi_site.resources.evolve import step_17_orders_in_review

    now = datetime.now(UTC)
    orders = site['orders']
    held, decided, old = (
        order_for(start(site, script, service, cr), script, when=when)
        for service, cr, when in (
            ('renewal', '1229237', now),
            ('certificate', '1229237', now),
            ('change_grade', '1020446', NOW),
        )
    )
    for order in (held, decided, old):
        order.keep_gateway_message({'decision': 'REVIEW', 'req_transaction_uuid': 'uuid-1'}, now)
    decided.keep_gateway_message({'decision': 'DECLINE', 'req_transaction_uuid': 'uuid-1'}, now)
    del orders.in_review  # as orders were stored before reviews were followed
    step_17_orders_in_review(site)
    assert list(orders.in_review) == [(now, held.id)]
    assert (held.under_review, held.is_payable(now), decided.decided) == (
        ('uuid-1',),
        False,
        ('uuid-1',),
    )
    assert not decided.under_review and not old.under_review


def test_first_entries_about_a_new_path_at_once_do_not_conflict(file_db):
    (tm1, conn1), (tm2, conn2) = connect(file_db), connect(file_db)
    for number, connection in enumerate((conn1, conn2)):
        connection.root()[ROOT_KEY]['audit'].record(
            'payment.accept', user='90000001', path='/orders/OCCI-ORD-NEW', details={'n': number}
        )
    tm1.commit()
    tm2.commit()
    tm1.begin()
    found = conn1.root()[ROOT_KEY]['audit'].latest(path='/orders/OCCI-ORD-NEW')
    assert sorted(entry['details']['n'] for _key, entry in found) == [0, 1]


def test_evolve_step_2_rebuilds_the_audit_indexes(site):
    from BTrees.OOBTree import OOBTree

    from occi_site.resources.evolve import step_2_audit_pair_indexes

    audit = site['audit']
    first = audit.record('login', user='90000001', path='/accounts/90000001')
    audit.record('login', user='90000002', path='/accounts/90000002')
    audit.by_path, audit.by_user = OOBTree(), OOBTree()  # as a log was stored before
    step_2_audit_pair_indexes(site)
    [(_key, entry)] = audit.latest(path='/accounts/90000001')
    assert entry == first
    assert [e['user'] for _k, e in audit.latest(user='90000002')] == ['90000002']
