"""Two app servers on RelStorage and PostgreSQL behind haproxy, as an operator
runs them (see tests/cluster.py): a safe first start, the member's journeys
through the balancer, payments at once and a server killed under load."""

import re
import shutil
import threading
import time

import pytest

from .cluster import BROWSER_ADDRESS, POSTGRES_BIN, Cluster
from .test_journeys import (
    approve_on_phone,
    choose_company,
    pay_at_gateway,
    register,
    step_up,
    terminate,
)


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    if POSTGRES_BIN is None or shutil.which('haproxy') is None:
        pytest.fail('PostgreSQL and haproxy are needed (make test installs them)')
    cluster = Cluster(tmp_path_factory.mktemp('cluster'))
    try:
        cluster.start_database()
        cluster.start_idp_and_gateway()
        # Both servers at the same moment on an empty database, and two
        # occi-evolve at once too (an operator's script run twice).
        for name in ('a', 'b'):
            cluster.start_portal(name)
        cluster.evolved = []
        evolving = [
            threading.Thread(
                target=lambda n=n: cluster.evolved.append(
                    cluster.script('occi-evolve', log_name='evolve-%d' % n)
                )
            )
            for n in (1, 2)
        ]
        for thread in evolving:
            thread.start()
        for thread in evolving:
            thread.join()
        for process in cluster.portals.values():
            process.wait_for(process.url + '/_health', timeout=120)
        cluster.start_notifier()
        cluster.start_balancer()
        yield cluster
    finally:
        cluster.stop()


def test_servers_started_together_on_an_empty_database_wait_for_occi_evolve(cluster):
    assert len(cluster.evolved) == 2
    for output in cluster.evolved:
        assert re.search(r'database at generation (\d+) of \1', output), output
    assert cluster.healthy('a') and cluster.healthy('b')
    for name in ('a', 'b'):
        log = cluster.portals[name].output()
        assert 'Traceback' not in log, log


def test_a_member_registers_logs_in_renews_and_joins_through_the_balancer(cluster):
    register(cluster, method='mobile')
    browser = cluster.new_browser()
    chooser = browser.get('/login').follow().follow()
    form = next(f for f in chooser.forms.values() if 'mobile' in f.fields)
    form['mobile'] = '99000001'
    waiting = form.submit().follow()
    dashboard = terminate(cluster, browser, approve_on_phone(browser, waiting, '99000001')).follow()
    assert 'Welcome, Ali Said Al Jahdhami' in dashboard

    request_page = choose_company(browser, 'renewal', '1229237', '91868')
    step3 = step_up(cluster, browser, request_page, method='mobile').follow()
    confirm = next(f for f in step3.forms.values() if f.action.endswith('/confirm'))
    confirm['years'] = '1'
    done = pay_at_gateway(confirm.submit('confirm').follow())
    assert 'Your request is complete.' in done

    request_page = choose_company(browser, 'new_membership', '1445820')
    step3 = step_up(cluster, browser, request_page, method='mobile').follow()
    confirm = next(f for f in step3.forms.values() if f.action.endswith('/confirm'))
    assert 'Your request is complete.' in confirm.submit('confirm').follow()

    # Round robin without stickiness: both servers served this member, and
    # each saw the browser's address, not the balancer's (the gateway's
    # notifications come from its own host).
    for name in ('a', 'b'):
        lines = [
            line
            for line in cluster.access_log(name)
            if '/_health' not in line and '/payment/notify' not in line
        ]
        assert len(lines) > 10
        assert all(line.startswith(BROWSER_ADDRESS + ' ') for line in lines), lines


# -- many members at once ----------------------------------------------------------

DECLINED_CARD, APPROVED_CARD = '4000000000000002', '4111111111111111'


def prepare_members(cluster, first, count, service='renewal'):
    """``count`` members, each with a company of their own and a request for
    ``service`` verified a moment ago: the state the wizard leaves a member in
    just before the confirm button.  The companies are occi-populate's for a
    renewal, new ones the registry lists for a New Membership."""
    from datetime import UTC, datetime

    from pyramid.registry import Registry
    from pyramid.request import Request

    from occi_site.resources.account import Account
    from occi_site.scripts.populate import CIVIL_ID_START, CR_START

    # The changes' events go to no subscriber: the preparation is neither
    # audited nor notified.
    script = Request.blank('/')
    script.registry = Registry('cluster-preparation')

    if service == 'renewal':
        cluster.script('occi-populate', '--companies', str(first + count))

    def prepare(site):
        now = datetime.now(UTC)
        members = []
        for index in range(first, first + count):
            civil_id = str(CIVIL_ID_START + index)
            cr = str(CR_START + index)
            if service == 'renewal':
                company = site['companies'][cr]
                listed = {
                    'cr_number': cr,
                    'name_en': company.name_en,
                    'name_ar': company.name_ar,
                    'address': company.address,
                    'grade': company.membership.grade,
                    'status': 'active',
                }
                occi_number = company.membership.occi_number
            else:
                listed = {
                    'cr_number': cr,
                    'name_en': 'Cluster Trading %d' % index,
                    'name_ar': 'التجارة %d' % index,
                    'address': 'Ruwi, Muttrah, Muscat Governorate',
                    'grade': 'Fourth',
                    'status': 'active',
                }
                occi_number = None
                account = Account(
                    civil_id, 'Member %d' % index, '%s@example.om' % civil_id, '7%07d' % index
                )
                account.state = 'active'
                site['accounts'].add(civil_id, account)
            cluster.registry.add(listed, civil_id)
            service_request = site['requests'].open_request(
                service, civil_id, cr, now, script, occi_number=occi_number
            )
            service_request.record_step_up('cluster-%d' % index, now, 'card', now, script)
            members.append((civil_id, cr, service_request.__name__))
        return members

    members = cluster.in_database(prepare)
    return members


def confirm_and_pay(cluster, civil_id, request_id, card=None):
    """One member's browser from the confirm button to the portal's last page."""
    browser = cluster.new_browser()
    browser.get('/_probe/login/%s' % civil_id)
    page = browser.get('/requests/%s/' % request_id)
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    if 'years' in form.fields:
        form['years'] = '1'
    page = form.submit('confirm').follow()
    if card is None:
        return page
    if 'gateway-checkout' not in page.text and not page.forms.get(1):
        # The confirmation was answered by the other server after this one
        # died having committed it: the request page leads to the order.
        page = browser.get('/requests/%s/' % request_id).click(description='Go to payment')
    return pay_at_gateway(page, card)


def paying(cluster, payers, declined_every):
    """The card of each payer (every ``declined_every``-th one declined) and
    the job of each: from the confirm button through the gateway."""
    cards = {
        request_id: DECLINED_CARD if index % declined_every == declined_every - 1 else APPROVED_CARD
        for index, (_civil_id, _cr, request_id) in enumerate(payers)
    }
    jobs = {
        request_id: (lambda c=civil_id, r=request_id: confirm_and_pay(cluster, c, r, cards[r]))
        for civil_id, _cr, request_id in payers
    }
    return cards, jobs


def run_members(jobs):
    """Every job at once, each in a thread; the errors they met, by job."""
    errors = {}
    start = threading.Barrier(len(jobs))

    def member(key, job):
        try:
            start.wait(timeout=60)
            job()
        except Exception as error:
            errors[key] = '%s: %s' % (type(error).__name__, str(error)[:500])

    threads = [threading.Thread(target=member, args=item) for item in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return errors


def server_errors(cluster, since):
    """Responses of 500 and above the balancer gave since its log had ``since`` lines."""
    lines = cluster.balancer.output().splitlines()[since:]
    return [line for line in lines if re.search(r'" 5\d\d |\s5\d\d\s+\d+\s', line)]


def records(cluster, request_ids):
    """(request state, [order states], certificate serial) for each request, from the database."""
    return cluster.in_database(
        lambda site: {
            request_id: (
                site['requests'][request_id].state,
                [order.state for order in site['orders'].for_request(request_id)],
                site['requests'][request_id].certificate_serial,
            )
            for request_id in request_ids
        }
    )


def test_thirty_members_pay_at_once_and_three_join(cluster):
    payers = prepare_members(cluster, 0, 30)
    joiners = prepare_members(cluster, 100, 3, service='new_membership')
    cards, jobs = paying(cluster, payers, declined_every=3)
    log_start = len(cluster.balancer.output().splitlines())
    jobs.update(
        {
            request_id: (lambda c=civil_id, r=request_id: confirm_and_pay(cluster, c, r))
            for civil_id, _cr, request_id in joiners
        }
    )
    errors = run_members(jobs)
    assert errors == {}
    assert server_errors(cluster, log_start) == []
    found = records(cluster, [request_id for _c, _cr, request_id in payers + joiners])
    serials = []
    for request_id, card in cards.items():
        state, orders, serial = found[request_id]
        if card == APPROVED_CARD:
            assert (state, orders) == ('fulfilled', ['paid']), request_id
            serials.append(serial)
        else:
            # The request waits for the member to try another card.
            assert (state, orders) == ('awaiting_payment', ['declined']), request_id
    for _civil_id, _cr, request_id in joiners:
        state, _orders, serial = found[request_id]
        assert state == 'fulfilled'
        serials.append(serial)
    assert len(set(serials)) == len(serials) == 23
    # And the renewal and the New Membership of the journey above; what a
    # server's own delivery left queued, the worker sends.
    assert completed_mail(cluster, 23 + 2) == 23 + 2


# In each member's language.
COMPLETED = ('Your OCCI e-service request is complete', 'اكتمل طلبك للخدمة الإلكترونية لدى الغرفة')


def completed_mail(cluster, expected, timeout=60):
    """How many "request complete" e-mails the outbox holds once it holds
    ``expected`` (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        count = len([message for message in cluster.outbox() if message['subject'] in COMPLETED])
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def test_a_server_killed_under_load_loses_nothing_committed(cluster):
    """``kill -9`` of one server while visitors read and members pay: the
    balancer sends what it had in flight to the other one, except what the
    server died holding unread (its connection reset: a 502 the browser
    sends again, as a person reloads); afterwards occi-reconcile asks the
    gateway about anything left unpaid, and every approval is recorded."""
    from occi_site.integrations.payment import SecureAcceptanceGateway

    from .stack import GATEWAY_KEYS

    payers = prepare_members(cluster, 30, 4)
    cards, payments = paying(cluster, payers, declined_every=4)
    paid = threading.Event()

    def pay_one_after_another():
        try:
            for job in payments.values():
                job()
        finally:
            paid.set()

    def read():
        visitor = cluster.new_browser()
        while not paid.is_set():
            visitor.get('/')
            visitor.get('/verify')

    jobs = {'payments': pay_one_after_another}
    jobs.update({'reader %d' % n: read for n in range(6)})
    log_start = len(cluster.balancer.output().splitlines())
    killer = threading.Timer(1.5, cluster.portals['a'].kill)
    cluster.reloads = reloads = []
    try:
        killer.start()
        errors = run_members(jobs)
        killer.join()
    finally:
        cluster.reloads = None
    assert not cluster.portals['a'].running
    assert errors == {}
    # At most one request per browser was in flight at the kill.  The payer's
    # browser waits at the gateway while the gateway notifies the portal, so a
    # notification cut off is no browser's (it is not sent again: the browser's
    # return and occi-reconcile record the payment).
    reset = server_errors(cluster, log_start)
    browsers = [line for line in reset if '"POST /payment/notify ' not in line]
    assert len(browsers) == len(reloads) and len(reset) <= len(jobs)
    assert all(' portals/a ' in line and ' 502 ' in line for line in reset)
    served_by_b_after_the_kill = cluster.access_log('b')[-5:]
    assert served_by_b_after_the_kill

    reconciled = cluster.script('occi-reconcile', '--after', '0')
    assert 'orders looked at' in reconciled
    gateway = SecureAcceptanceGateway(
        endpoint_url=cluster.idp_base + '/gateway/pay',
        query_url=cluster.idp_base + '/gateway/query',
        **GATEWAY_KEYS,
    )
    found = records(cluster, list(cards))
    for request_id, (state, orders, _serial) in found.items():
        assert not set(orders) & {'created', 'pending'}, (request_id, orders)
        if 'paid' in orders:
            assert state == 'fulfilled', request_id
    approved = 0
    for request_id in cards:
        for order_id in order_ids(cluster, request_id):
            for result in gateway.transactions(order_id):
                if result.accepted:
                    approved += 1
                    assert found[request_id][0] == 'fulfilled', request_id
    assert approved == len([card for card in cards.values() if card == APPROVED_CARD])


def order_ids(cluster, request_id):
    return cluster.in_database(
        lambda site: [order.id for order in site['orders'].for_request(request_id)]
    )
