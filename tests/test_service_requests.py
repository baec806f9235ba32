"""Service requests, orders, certificates and counters on a real ZODB: the
flow of each service from draft to fulfilment, exactly once, and numbers that
concurrent transactions never share."""

import contextlib
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import transaction
from pyramid.authorization import ACLHelper, Authenticated, Everyone
from ZODB import DB
from ZODB.FileStorage import FileStorage
from ZODB.MappingStorage import MappingStorage
from ZODB.POSException import ConflictError

from occi_site.integrations.commercial_registry import SampleRegistry
from occi_site.resources import ROOT_KEY, bootstrap_database
from occi_site.resources.certificate import Certificates, issue_certificate
from occi_site.resources.company import ServiceRefused
from occi_site.resources.counters import Counters, next_certificate_serial, next_occi_number
from occi_site.resources.order import Orders
from occi_site.resources.sample import seed_sample_memberships
from occi_site.resources.search import find_companies
from occi_site.resources.service_request import ServiceRequests
from occi_site.resources.services import fulfil, get_service

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


def start(site, service, cr, civil_id=MEMBER, occi_number=None):
    """A request through steps 1-3: opened, verified and priced."""
    record = site['requests'].open_request(service, civil_id, cr, NOW, occi_number=occi_number)
    record.record_step_up('assertion-1', NOW, 'smartcard', NOW)
    company = site['companies'].get(cr)
    listed = REGISTRY.company(cr)
    choices = get_service(service).read_choices({'years': '1'})
    record.set_quote(
        get_service(service).quote(company, listed, TODAY, site['settings'].fees, choices), choices
    )
    return record


def pay(site, record):
    order = site['orders'].new_order(
        record.id,
        record.civil_id,
        [(str(label), 'ar', amount) for label, amount in record.quote.lines],
        NOW,
    )
    record.await_payment(order.id, NOW)
    order.transition('pending', NOW)
    order.transition('paid', NOW)
    record.transition('paid', NOW, note=order.id)
    return order


# The tree


def test_the_tree_has_the_typed_containers(site):
    assert isinstance(site['requests'], ServiceRequests)
    assert isinstance(site['orders'], Orders)
    assert isinstance(site['certificates'], Certificates)
    assert isinstance(site['counters'], Counters)


# Service requests


def test_a_request_moves_through_its_states(site):
    record = start(site, 'renewal', '1229237')
    assert record.state == 'verified'
    assert record.step_up == {'assertion_id': 'assertion-1', 'at': NOW, 'method': 'smartcard'}
    pay(site, record)
    assert [state for _when, state, _note in record.history] == [
        'draft',
        'verified',
        'awaiting_payment',
        'paid',
    ]
    assert isinstance(record.history, tuple)


@pytest.mark.parametrize(
    'path, illegal',
    [
        ((), 'paid'),
        ((), 'fulfilled'),
        (('verified',), 'paid'),
        (('cancelled',), 'verified'),
        (('expired',), 'draft'),
    ],
)
def test_illegal_transitions_are_refused(site, path, illegal):
    record = site['requests'].open_request('renewal', MEMBER, '1229237', NOW)
    for state in path:
        record.transition(state, NOW)
    with pytest.raises(ValueError):
        record.transition(illegal, NOW)


def test_a_priced_request_is_never_fulfilled_unpaid(site):
    record = start(site, 'certificate', '1229237')
    with pytest.raises(ValueError):
        record.transition('fulfilled', NOW)
    with pytest.raises(ValueError):
        fulfil(site, record, TODAY, NOW)


def test_reloading_resumes_the_open_request(site):
    requests = site['requests']
    first = requests.open_request('renewal', MEMBER, '1229237', NOW)
    assert requests.open_request('renewal', MEMBER, '1229237', NOW) is first
    assert requests.find_open_draft(MEMBER, 'renewal', '1229237') is first
    assert requests.open_request('certificate', MEMBER, '1229237', NOW) is not first
    first.transition('cancelled', NOW)
    assert requests.find_open_draft(MEMBER, 'renewal', '1229237') is None
    second = requests.open_request('renewal', MEMBER, '1229237', NOW)
    assert second is not first
    assert {r.id for r in requests.for_member(MEMBER)} == {
        first.id,
        second.id,
        requests.find_open_draft(MEMBER, 'certificate', '1229237').id,
    }


def test_request_ids_are_unguessable(site):
    ids = {site['requests'].open_request('renewal', str(n), '1229237', NOW).id for n in range(50)}
    assert len(ids) == 50
    assert all(len(name) == 16 and '/' not in name for name in ids)


def test_abandoned_requests_expire_after_24_hours(site):
    requests = site['requests']
    record = requests.open_request('renewal', MEMBER, '1229237', NOW)
    assert not record.expire_if_stale(NOW + timedelta(hours=24))
    later = NOW + timedelta(hours=24, seconds=1)
    assert requests.find_open_draft(MEMBER, 'renewal', '1229237', now=later) is None
    assert record.state == 'expired'
    assert requests.open_request('renewal', MEMBER, '1229237', later) is not record


def test_expire_stale_reads_only_the_stale_requests(site):
    requests = site['requests']
    old = requests.open_request('renewal', MEMBER, '1229237', NOW)
    paying = start(site, 'certificate', '1229237')
    pay(site, paying)
    fresh = requests.open_request('renewal', MEMBER, '1445820', NOW + timedelta(hours=20))
    assert requests.expire_stale(NOW + timedelta(hours=25)) == 1
    assert (old.state, paying.state, fresh.state) == ('expired', 'paid', 'draft')
    assert list(requests.open_by_created) == [(fresh.created, fresh.id)]


def test_only_the_member_and_admins_see_a_request(site):
    record = site['requests'].open_request('renewal', MEMBER, '1229237', NOW)
    acl = ACLHelper()
    member = [Everyone, Authenticated, MEMBER, 'role:member']
    other = [Everyone, Authenticated, '90000002', 'role:member']
    admin = [Everyone, Authenticated, '90000009', 'role:admin']
    assert acl.permits(record, member, 'view') and acl.permits(record, member, 'edit')
    assert not acl.permits(record, other, 'view')
    assert not acl.permits(record, [Everyone], 'view')
    assert acl.permits(record, admin, 'edit')
    assert not acl.permits(site['requests'], [Everyone], 'view')


def test_times_must_be_aware(site):
    with pytest.raises(ValueError):
        site['requests'].open_request('renewal', MEMBER, '1229237', datetime(2026, 11, 24))


# Fulfilment of each service


def test_new_membership_is_fulfilled_once(site):
    record = start(site, 'new_membership', '1445820')
    assert not record.needs_payment
    listed = REGISTRY.company('1445820')
    certificate = fulfil(site, record, TODAY, NOW, registry_company=listed)
    company = site['companies']['1445820']
    assert company.membership.occi_number == '100000'
    assert company.membership.grade == 'Fourth'
    assert company.membership.expires_on == date(2027, 11, 24)
    assert site['companies'].find_by_occi_number('100000') is company
    assert find_companies(site['companies'], 'al noor') == [company]
    assert certificate.serial == 'OCCI-2026-000001'
    assert (record.state, record.occi_number, record.certificate_serial) == (
        'fulfilled',
        '100000',
        'OCCI-2026-000001',
    )

    assert fulfil(site, record, TODAY, NOW, registry_company=listed) is certificate
    assert len(site['certificates']) == 1
    assert site['counters'].last('occi_number') == 100000
    assert len(record.history) == 3


def test_a_second_new_membership_of_the_same_cr_is_refused(site):
    listed = REGISTRY.company('1445820')
    first = start(site, 'new_membership', '1445820')
    second = start(site, 'new_membership', '1445820', civil_id='90000002')
    fulfil(site, first, TODAY, NOW, registry_company=listed)
    with pytest.raises(ServiceRefused) as refused:
        fulfil(site, second, TODAY, NOW, registry_company=listed)
    assert refused.value.reason == 'already_member'
    assert second.state == 'refused'


def test_renewal_is_fulfilled_once(site):
    companies = site['companies']
    company = companies['1279531']  # expired 2024-05-02, Third
    companies.change_membership(company, debit_baisa=3_000)
    record = start(site, 'renewal', '1279531')
    assert record.total_baisa == 50_000 + 100_000 + 3_000
    pay(site, record)
    certificate = fulfil(site, record, TODAY, NOW)
    assert company.membership.expires_on == date(2027, 5, 2)
    assert company.membership.debit_baisa == 0
    assert list(companies.expiring_between(date(2027, 5, 2), date(2027, 5, 2))) == [company]
    assert list(companies.expiring_between(date(2024, 5, 2), date(2024, 5, 2))) == []
    assert certificate.expires_on == date(2027, 5, 2)

    fulfil(site, record, TODAY, NOW)
    assert company.membership.expires_on == date(2027, 5, 2)
    assert len(site['certificates']) == 1


def test_change_name_is_fulfilled(site):
    companies = site['companies']
    record = start(site, 'change_name', '1304464')
    pay(site, record)
    fulfil(site, record, TODAY, NOW)
    company = companies['1304464']
    assert company.name_en == 'Nizwa Date Company'
    assert find_companies(companies, 'nizwa date company') == [company]
    assert find_companies(companies, 'dates') == []


def test_change_grade_is_fulfilled(site):
    record = start(site, 'change_grade', '1020446')  # chamber Third, registry Second
    pay(site, record)
    certificate = fulfil(site, record, TODAY, NOW)
    membership = site['companies']['1020446'].membership
    assert membership.grade == 'Second'
    assert membership.expires_on == date(2027, 11, 24)  # max(2027-01-15, today + 1 year)
    assert certificate.grade == 'Second'


def test_a_new_certificate_supersedes_the_previous_one(site):
    first = fulfil(site, pay_for(site, 'certificate', '1229237'), TODAY, NOW)
    second = fulfil(site, pay_for(site, 'certificate', '1229237'), TODAY, NOW)
    certificates = site['certificates']
    assert (first.status, first.superseded_by) == ('superseded', second.serial)
    assert certificates.current_for('1229237') is second
    assert certificates.issued_for('1229237') == [second, first]
    assert first.verification_status(TODAY) == 'superseded'
    assert second.verification_status(TODAY) == 'valid'
    assert second.verification_status(date(2027, 3, 20)) == 'expired'


def pay_for(site, service, cr):
    record = start(site, service, cr)
    pay(site, record)
    return record


def test_a_membership_changed_since_the_quote_fails_the_paid_request(site):
    first = start(site, 'renewal', '1229237')
    second = start(site, 'renewal', '1229237', civil_id='90000002')
    pay(site, first)
    pay(site, second)
    fulfil(site, first, TODAY, NOW)
    with pytest.raises(ServiceRefused) as refused:
        fulfil(site, second, TODAY, NOW)
    assert refused.value.reason == 'membership_changed'
    assert second.state == 'failed'
    assert site['companies']['1229237'].membership.expires_on == date(2028, 3, 19)


# Certificates and orders


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


def test_orders(site):
    orders = site['orders']
    order = orders.new_order(
        'request-1',
        MEMBER,
        [('First year fees', 'رسوم السنة الأولى', 25_000), ('Old Debit', 'مديونية سابقة', 0)],
        NOW,
    )
    assert order.id.startswith('OCCI-ORD-') and len(order.id) == 25
    assert (order.amount_baisa, order.currency, order.state) == (25_000, 'OMR', 'created')
    assert orders.for_request('request-1') == [order]
    order.keep_gateway_message({'decision': 'REVIEW'}, NOW)
    order.transition('pending', NOW)
    assert not order.is_expired(NOW + timedelta(minutes=90))
    assert order.is_expired(NOW + timedelta(minutes=91))
    assert order.expire_if_stale(NOW + timedelta(minutes=91))
    # A late approval from the gateway is still recorded.
    order.transition('paid', NOW + timedelta(minutes=95), note='late approval')
    assert [state for _when, state, _note in order.history] == [
        'created',
        'pending',
        'expired',
        'paid',
    ]
    assert order.gateway_messages[0][1] == {'decision': 'REVIEW'}
    with pytest.raises(ValueError):
        order.transition('declined', NOW)


@pytest.mark.parametrize('amount', [25.0, '25000', -1, True])
def test_order_amounts_are_baisa(site, amount):
    with pytest.raises(ValueError):
        site['orders'].new_order('request-1', MEMBER, [('Fee', 'رسوم', amount)], NOW)


def test_an_order_has_something_to_pay(site):
    with pytest.raises(ValueError):
        site['orders'].new_order('request-1', MEMBER, [('Fee', 'رسوم', 0)], NOW)


# Counters


def test_occi_numbers_continue_after_the_chambers_and_skip_taken_ones(site):
    companies = site['companies']
    companies.change_membership(companies['1229237'], occi_number='100001')
    assert next_occi_number(site) == '100000'
    assert next_occi_number(site) == '100002'


def test_certificate_serials_count_per_year(site):
    assert next_certificate_serial(site, TODAY) == 'OCCI-2026-000001'
    assert next_certificate_serial(site, TODAY) == 'OCCI-2026-000002'
    assert next_certificate_serial(site, date(2027, 1, 1)) == 'OCCI-2027-000001'


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


def test_allocations_from_different_sequences_do_not_conflict(file_db):
    tm1, conn1 = connect(file_db)
    next_certificate_serial(conn1.root()[ROOT_KEY], TODAY)
    next_occi_number(conn1.root()[ROOT_KEY])
    tm1.commit()
    tm2, conn2 = connect(file_db)
    assert next_occi_number(conn1.root()[ROOT_KEY]) == '100001'
    assert next_certificate_serial(conn2.root()[ROOT_KEY], TODAY) == 'OCCI-2026-000002'
    tm1.commit()
    tm2.commit()


def test_requests_of_different_members_do_not_conflict(file_db):
    (tm1, conn1), (tm2, conn2) = connect(file_db), connect(file_db)
    conn1.root()[ROOT_KEY]['requests'].open_request('renewal', '90000001', '1229237', NOW)
    conn2.root()[ROOT_KEY]['requests'].open_request('renewal', '90000002', '1279531', NOW)
    tm1.commit()
    tm2.commit()
    tm1.begin()
    assert len(conn1.root()[ROOT_KEY]['requests']) == 2


def test_a_quoted_request_is_read_back_as_it_was(file_db):
    tm, conn = connect(file_db)
    record_id = start(conn.root()[ROOT_KEY], 'renewal', '1279531').id
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


def test_answers_of_the_gateway_kept_at_once_do_not_conflict(file_db):
    tm, conn = connect(file_db)
    order = conn.root()[ROOT_KEY]['orders'].new_order(
        'request-1', MEMBER, [('Fee', 'رسوم', 4_000)], NOW
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
