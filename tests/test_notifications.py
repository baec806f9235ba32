"""Notifications: queued with the change that caused them, delivered by the
worker through a real SMTP server (aiosmtpd) and a real HTTP SMS gateway,
retried, followed in /manage and by the member, never sent twice."""

import contextlib
import email
import email.header
import itertools
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import transaction

import occi_site
from occi_site.delivery import Worker
from occi_site.integrations.receipts import SignedReports
from occi_site.resources import ROOT_KEY, database
from occi_site.resources.notification import CHANNELS, STATUSES
from occi_site.scripts import notify

from .conftest import ScriptedSMTP, add_account, edit, login, portal_settings, read, visitor
from .stack import Stack

REPORT_SECRET = 'test-report-secret'


@pytest.fixture
def portal(make_app, clock):
    """``portal(**settings)``: the portal with the test's clock, probe views,
    and notifications left to a worker the test runs."""

    def make(**settings):
        app = make_app(
            **{
                'pyramid.includes': 'tests.probe_views',
                'occi.notify.delivery': 'worker',
                **settings,
            }
        )
        return app

    return make


def notifications(app, channel=None):
    def look(site):
        found = site['notifications'].find(STATUSES, (channel,) if channel else CHANNELS)
        for notification in found:
            # Loaded now: the connection closes before the test reads them.
            notification._p_activate()
        return found

    return read(app, look)


def one(app, channel):
    [notification] = notifications(app, channel)
    return notification


def outcomes(notification):
    return [attempt['outcome'] for attempt in notification.attempts]


def test_smtp_refuses_then_accepts_and_the_mail_arrives_once(portal, smtp, clock):
    smtp.refusals = ['451 4.3.0 Try again later', '421 4.7.0 Too busy']
    app = portal(**smtp.settings())
    assert visitor(app).get('/_probe/mail').text == 'sent'
    assert one(app, 'email').status == 'queued'
    worker = app.registry.occi_worker
    worker.run_once()
    mail = one(app, 'email')
    assert mail.status == 'retrying' and mail.provider_answer.startswith('451')
    # Not due yet: nothing is tried before its time.
    clock.advance(seconds=20)
    assert worker.run_once() == 0
    clock.advance(minutes=1)
    worker.run_once()
    assert one(app, 'email').status == 'retrying'
    clock.advance(minutes=3)
    worker.run_once()
    clock.advance(hours=2)
    assert worker.run_once() == 0
    assert len(smtp.received) == 1
    mail = one(app, 'email')
    assert mail.status == 'sent'
    assert outcomes(mail) == ['transient', 'transient', 'accepted']
    message = email.message_from_bytes(smtp.received[0].content)
    assert message['Message-ID'] == mail.provider_reference
    assert message.get_payload(decode=True).strip() == b'Committed mail.'
    # The SMS of the same request went at the first round, through the dev outbox.
    assert one(app, 'sms').status == 'sent'
    assert [m['body'] for m in app.registry.occi_outbox.messages()] == ['Committed SMS.']


def test_retries_stop_after_a_day(portal, unused_port, clock):
    app = portal(**{'occi.mail': 'smtp', 'mail.host': '127.0.0.1', 'mail.port': str(unused_port)})
    visitor(app).get('/_probe/mail')
    start = clock.now
    worker = app.registry.occi_worker
    worker.run_once()
    while one(app, 'email').status == 'retrying':
        clock.now = one(app, 'email').due_at
        worker.run_once()
    mail = one(app, 'email')
    assert mail.status == 'failed' and mail.history[-1][2] == 'given up after a day of retries'
    started = [attempt['started'] for attempt in mail.attempts]
    waits = [later - earlier for earlier, later in itertools.pairwise(started)]
    # Exponential from 30 seconds, at most an hour (and a fifth more at random).
    assert timedelta(seconds=30) <= waits[0] <= timedelta(seconds=36)
    assert timedelta(seconds=60) <= waits[1] <= timedelta(seconds=72)
    assert max(waits) <= timedelta(hours=1.2)
    assert timedelta(hours=22) < started[-1] - start <= timedelta(hours=24)
    assert set(outcomes(mail)) == {'transient'}


class SlowThenQuickGateway(ThreadingHTTPServer):
    """An SMS gateway that keeps the first request longer than the portal
    waits, then answers at once with its id of each message."""

    daemon_threads = True

    def __init__(self):
        super().__init__(('127.0.0.1', 0), GatewayHandler)
        self.delays = [2.0]
        self.requests = []


class GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.server.requests.append((self.headers['Authorization'], payload))
        if self.server.delays:
            time.sleep(self.server.delays.pop(0))
        body = json.dumps({'id': 'gw-%d' % len(self.server.requests)}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        # The portal may have stopped waiting for a slow answer.
        with contextlib.suppress(BrokenPipeError):
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_gateway():
    server = SlowThenQuickGateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def report(clock, **fields):
    body = json.dumps(dict(fields, at=clock.now.timestamp())).encode()
    return body, {
        'X-Signature': SignedReports(REPORT_SECRET).sign(body),
        'Content-Type': 'application/json',
    }


def test_sms_gateway_times_out_then_answers_and_reports_delivery(portal, sms_gateway, clock):
    app = portal(
        **{
            'occi.sms': 'http',
            'occi.sms.url': 'http://127.0.0.1:%d/send' % sms_gateway.server_port,
            'occi.sms.token': 'gateway-token',
            'occi.sms.timeout': '0.5',
            'occi.sms.report_secret': REPORT_SECRET,
        }
    )
    browser = visitor(app)
    browser.get('/_probe/mail')
    worker = app.registry.occi_worker
    worker.run_once()
    sms = one(app, 'sms')
    assert sms.status == 'retrying' and 'timed out' in sms.provider_answer
    clock.advance(minutes=1)
    worker.run_once()
    sms = one(app, 'sms')
    assert sms.status == 'sent' and sms.provider_reference == 'gw-2'
    assert outcomes(sms) == ['transient', 'accepted']
    # Both attempts carried the portal's reference, so a gateway can tell a repeat.
    assert [payload['reference'] for _token, payload in sms_gateway.requests] == [sms.__name__] * 2
    assert sms_gateway.requests[1] == (
        'Bearer gateway-token',
        {'to': '99000001', 'from': 'OCCI', 'text': 'Committed SMS.', 'reference': sms.__name__},
    )

    body, headers = report(clock, reference='gw-2', status='delivered', detail='handset')
    forged = dict(headers, **{'X-Signature': SignedReports('guess').sign(body)})
    browser.post('/notifications/receipts/sms', body, headers=forged, status=400)
    assert one(app, 'sms').status == 'sent'
    unknown, unknown_headers = report(clock, reference='gw-999', status='delivered')
    browser.post('/notifications/receipts/sms', unknown, headers=unknown_headers, status=404)
    answer = browser.post('/notifications/receipts/sms', body, headers=headers)
    assert answer.json == {'status': 'delivered'}
    assert one(app, 'sms').provider_answer == 'delivered handset'
    # Mail takes no reports here: no secret, no endpoint.
    browser.post('/notifications/receipts/email', body, headers=headers, status=404)


def test_a_bounce_reported_by_the_mail_provider_fails_the_notification(portal, smtp, clock):
    app = portal(**smtp.settings(), **{'occi.mail.report_secret': REPORT_SECRET})
    browser = visitor(app)
    browser.get('/_probe/mail')
    app.registry.occi_worker.run_once()
    mail = one(app, 'email')
    body, headers = report(
        clock, reference=mail.provider_reference, status='bounced', detail='550 mailbox full'
    )
    clock.advance(days=2)
    # Too old to be believed.
    browser.post('/notifications/receipts/email', body, headers=headers, status=400)
    body, headers = report(
        clock, reference=mail.provider_reference, status='bounced', detail='550 mailbox full'
    )
    assert browser.post('/notifications/receipts/email', body, headers=headers).json == {
        'status': 'failed'
    }


def test_two_workers_racing_send_each_message_once(portal, clock):
    app = portal()

    def queue_twenty(site):
        now = clock.now
        return [
            site['notifications']
            .queue('email', 'person%d@example.om' % i, 'Race', 'Body %d' % i, now)
            .__name__
            for i in range(20)
        ]

    names = edit(app, queue_twenty)
    workers = [Worker(app.registry, name=name) for name in ('server-a', 'server-b')]
    real_mail = app.registry.occi_mail

    class SlowMail:
        """The real adapter, a little slower, so both workers are busy at once."""

        def deliver(self, letter):
            time.sleep(0.005)
            return real_mail.deliver(letter)

    start = threading.Barrier(2)
    handled = {}

    def run(worker):
        worker.senders = dict(worker.senders, email=SlowMail())
        start.wait()
        handled[worker.name] = [name for name in names if worker.deliver(name)]

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(handled['server-a'] + handled['server-b']) == sorted(names)
    sent = [m['to'] for m in app.registry.occi_outbox.messages()]
    assert sorted(sent) == sorted('person%d@example.om' % i for i in range(20))
    done = notifications(app)
    assert {n.status for n in done} == {'sent'}
    assert all(len(n.attempts) == 1 for n in done)


def test_a_worker_that_died_mid_send_is_replaced_after_its_lease(portal, clock):
    app = portal()
    visitor(app).get('/_probe/mail')
    name = one(app, 'email').__name__
    dead, alive = Worker(app.registry, name='dead'), Worker(app.registry, name='alive')
    number, letter = dead.claim(name)
    assert letter.recipient == 'someone@example.om'
    alive.run_once()
    assert one(app, 'email').status == 'sending'
    clock.advance(minutes=6)
    alive.run_once()
    mail = one(app, 'email')
    assert mail.status == 'sent' and outcomes(mail) == ['lapsed', 'accepted']
    # The dead worker's late answer is kept, but the later attempt owns the status.
    dead.record(name, number, failure=occi_site.delivery.DeliveryFailed('421 gone'))
    mail = one(app, 'email')
    assert mail.status == 'sent' and outcomes(mail) == ['transient', 'accepted']


def test_a_report_that_overtakes_the_record_of_the_send_is_applied(portal, clock):
    app = portal()
    visitor(app).get('/_probe/mail')
    name = one(app, 'sms').__name__
    worker = app.registry.occi_worker
    number, _letter = worker.claim(name)
    edit(app, lambda site: site['notifications'][name].receipt(clock.now, True, 'delivered'))
    worker.record(name, number, accepted=occi_site.delivery.Accepted('gw-7', '{"id": "gw-7"}'))
    assert one(app, 'sms').status == 'delivered'


def test_a_rolled_back_request_queues_nothing(portal):
    app = portal()
    visitor(app).get('/_probe/mail-then-fail', status=500)
    assert notifications(app) == []
    app.registry.occi_worker.run_once()
    assert app.registry.occi_outbox.messages() == []


def test_a_permanent_failure_shows_in_manage_and_can_be_sent_again(make_app, smtp, clock):
    app = make_app(**{'pyramid.includes': 'tests.probe_views', **smtp.settings()})
    smtp.refuse_rcpt = '550 5.1.1 No such user here'
    visitor(app).get('/_probe/mail')
    mail = one(app, 'email')
    assert mail.status == 'failed' and outcomes(mail) == ['permanent']

    admin = login(app, '90000009', roles=('member', 'admin'))
    assert 'Notifications' in admin.get('/manage').follow()
    found = admin.get(
        '/notifications/@@manage-search',
        {
            'status': 'failed',
            'channel': 'email',
            'recipient': 'SOMEONE@example.om',
            'date_from': '2026-03-01',
            'date_to': '2026-03-01',
            'search': 'search',
        },
    )
    rows = found.html.select('table.manage-table tbody tr')
    assert len(rows) == 1 and 'Failed permanently' in rows[0].text
    for other in ({'status': 'sent'}, {'channel': 'sms'}, {'recipient': 'nobody@example.om'}):
        page = admin.get('/notifications/@@manage-search', dict(other, search='search'))
        assert 'someone@example.om' not in page.html.select_one('.manage').text.replace(
            'nobody@example.om', ''
        )
    page = found.click(href='manage-notification')
    assert '550 5.1.1 No such user here' in page and 'Refused for good' in page

    smtp.refuse_rcpt = None
    # Within the administrator's session (the sessions read the same clock).
    clock.advance(minutes=10)
    resend = next(form for form in page.forms.values() if 'resend' in form.fields)
    page = resend.submit('resend').follow()
    assert 'Queued the notification to someone@example.om again' in page
    mail = one(app, 'email')
    assert mail.status == 'sent' and outcomes(mail) == ['permanent', 'accepted']
    assert len(smtp.received) == 1
    assert 'Taken by the provider' in page and 'Delivered to the provider' in page
    audit = read(app, lambda site: [entry['action'] for _k, entry in site['audit'].latest()])
    assert 'notification.resend' in audit


def test_a_member_sees_the_notifications_sent_to_them(make_app):
    app = make_app(**{'pyramid.includes': 'tests.probe_views'})
    edit(
        app,
        lambda site: add_account(site, '90000001', email='someone@example.om', mobile='99000001'),
    )
    edit(app, lambda site: add_account(site, '90000002', mobile='99000002'))
    member = visitor(app)
    member.get('/_probe/login/90000001')
    member.get('/_probe/mail')
    page = member.get('/account').click(description='Your notifications')
    assert page.request.path == '/account/notifications'
    back = page.html.select_one('nav.crumbs').find('a', string='My account')
    assert back['href'] == 'http://localhost/account'
    rows = page.html.select('tbody tr')
    assert len(rows) == 2
    text = page.html.select_one('tbody').text
    assert 'Probe' in text and 'Committed SMS.' in text
    assert 'Delivered to the provider' in text
    other = visitor(app)
    other.get('/_probe/login/90000002')
    assert 'The portal has sent you no message yet.' in other.get('/account/notifications')
    arabic = visitor(app, 'ar')
    arabic.get('/_probe/login/90000001')
    assert arabic.get('/account/notifications').html.html['lang'] == 'ar'
    visitor(app).get('/account/notifications', status=403)


def test_occi_notify_delivers_what_another_process_queued(tmp_path, capsys):
    settings = portal_settings(
        tmp_path,
        **{
            'zodbconn.uri': 'file://%s' % (tmp_path / 'Data.fs'),
            'pyramid.includes': 'tests.probe_views',
            'occi.notify.delivery': 'worker',
        },
    )
    ini = tmp_path / 'portal.ini'
    ini.write_text(
        '\n'.join(
            ['[app:portal]', 'use = egg:occi_site']
            + ['%s = %s' % item for item in settings.items()]
        )
        + '\n',
        encoding='utf-8',
    )
    app = occi_site.main({}, **settings)
    visitor(app).get('/_probe/mail')
    assert app.registry.occi_outbox.messages() == []
    database(app.registry).close()
    assert notify.main(['%s#portal' % ini, '--once']) == 0
    assert capsys.readouterr().out.strip() == '2 notifications handled'
    assert sorted(m['channel'] for m in app.registry.occi_outbox.messages()) == ['email', 'sms']


def test_two_workers_claiming_at_once_conflict_and_one_gives_way(portal):
    app = portal()
    visitor(app).get('/_probe/mail')
    name = one(app, 'email').__name__
    first = Worker(app.registry, name='server-a')
    taken = []

    class Second(Worker):
        def now(self):
            # Between this worker's read of the notification and its commit,
            # the other worker claims it and commits first.
            taken.append(first.claim(name))
            return super().now()

    assert Second(app.registry, name='server-b').claim(name) is None
    [(number, letter)] = taken
    assert number == 1 and letter.name == name
    mail = one(app, 'email')
    assert mail.status == 'sending' and [a['worker'] for a in mail.attempts] == ['server-a']


def test_done_means_the_receipt_mail_waits_for_the_smtp_server_and_arrives_once(
    tmp_path, unused_port
):
    """With the SMTP server down during a renewal, the mails are queued and
    shown in /manage; when it is back they arrive once, with nobody acting."""
    from .test_payment_portal import back_to_portal, pay, renewal_order

    stack = Stack(
        tmp_path,
        **{
            'pyramid.includes': 'tests.probe_views',
            'occi.mail': 'smtp',
            'mail.host': '127.0.0.1',
            'mail.port': str(unused_port),
            # The portal's own worker thread, as `make run` has it, retrying quickly.
            'occi.notify.delivery': 'thread',
            'occi.notify.interval': '0.2',
            'occi.notify.retry_first': '0.2',
            'occi.notify.retry_longest': '0.5',
        },
    )
    smtp = ScriptedSMTP(unused_port)
    try:
        edit(stack.portal, lambda site: add_account(site, '90000001', email='ali@example.om'))
        edit(stack.portal, lambda site: add_account(site, '90000009', roles=('member', 'admin')))
        stack.browser.get('/_probe/login/90000001')
        _request_id, order_page = renewal_order(stack)
        assert 'Your request is complete.' in back_to_portal(pay(stack, order_page)).follow()
        subjects = ['OCCI payment received', 'Your OCCI e-service request is complete']

        admin = stack.new_browser()
        admin.get('/_probe/login/90000009')
        found = admin.get(
            '/notifications/@@manage-search',
            {'channel': 'email', 'recipient': 'ali@example.om', 'search': 'search'},
        )
        rows = [row.text for row in found.html.select('table.manage-table tbody tr')]
        assert sorted(s for s in subjects if any(s in row for row in rows)) == sorted(subjects)
        assert not any('Delivered' in row for row in rows)
        time.sleep(1)
        mails = [n for n in notifications(stack.portal, 'email') if n.subject in subjects]
        assert {n.status for n in mails} <= {'retrying', 'sending'}
        assert all(len(n.attempts) >= 2 for n in mails)

        smtp.start()
        deadline = time.time() + 15
        while time.time() < deadline and len(smtp.received) < len(subjects):
            time.sleep(0.1)
        time.sleep(1)
        received = [
            str(email.header.make_header(email.header.decode_header(message['Subject'])))
            for message in (email.message_from_bytes(e.content) for e in smtp.received)
        ]
        assert sorted(received) == sorted(subjects)
        mails = [n for n in notifications(stack.portal, 'email') if n.subject in subjects]
        assert {n.status for n in mails} == {'sent'}
    finally:
        stack.portal.registry.occi_worker_thread.stop_and_join(5)
        smtp.stop()
        stack.close()


def test_requests_queueing_at_once_do_not_conflict(portal, clock, tmp_path):
    # A FileStorage: the in-memory storage does not resolve conflicts.
    app = portal(**{'zodbconn.uri': 'file://%s' % (tmp_path / 'Data.fs')})
    edit(
        app, lambda site: site['notifications'].queue('email', 'a@example.om', 'A', 'A', clock.now)
    )
    db = database(app.registry)
    managers = [transaction.TransactionManager(explicit=True) for _ in range(2)]
    connections = [db.open(transaction_manager=tm) for tm in managers]
    for number, (tm, conn) in enumerate(zip(managers, connections, strict=True)):
        tm.begin()
        conn.root()[ROOT_KEY]['notifications'].queue(
            'email', 'b%d@example.om' % number, 'B', 'B', clock.now
        )
    # Both were made from the same state; the second commit merges, no ConflictError.
    for tm in managers:
        tm.commit()
    for conn in connections:
        conn.close()
    assert len(notifications(app)) == 3
    assert len(read(app, lambda site: site['notifications'].due_names(clock.now))) == 3
    db.close()
