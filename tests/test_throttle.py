"""Rate limits: what they count, what they forget, and many addresses at once."""

import http.client
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import waitress

from occi_site.resources import database
from occi_site.resources.evolve import step_9_throttle_slots
from occi_site.resources.throttle import Throttle

from .conftest import edit, login, visitor
from .test_documents import AUTHENTIC, MEMBER, changed_byte, download, issue, upload

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def last_write(wsgi):
    return database(wsgi.registry).lastTransaction()


def test_a_genuine_lookup_writes_nothing(portal):
    serial, code = issue(portal)
    app = visitor(portal)
    before = last_write(portal)
    for _ in range(3):
        assert serial in app.get('/verify/%s/%s' % (serial, code))
        assert app.get('/verify/%s/%s.json' % (serial, code)).json['serial'] == serial
    assert last_write(portal) == before
    app.get('/verify/%s/%s' % (serial, 'WRONGCODE123'), status=404)
    assert last_write(portal) != before


def test_only_failed_lookups_count_towards_the_limit(portal):
    serial, code = issue(portal)
    app = visitor(portal, 'ar')
    for _ in range(100):
        app.get('/verify/%s/%s.json' % (serial, code))
    for _ in range(60):
        app.get('/verify/OCCI-2026-999999/%s.json' % code, status=404)
    page = app.get('/verify/%s/%s' % (serial, code), status=429)
    assert 'promising projects' not in page
    assert 'تجاوزت عدد المحاولات المسموح به' in page.text


def test_only_refused_uploads_count_towards_the_limit(portal):
    serial, _code = issue(portal)
    pdf = download(login(portal, MEMBER), serial).body
    before = last_write(portal)
    assert AUTHENTIC in upload(portal, pdf)
    assert last_write(portal) == before
    for _ in range(30):
        assert AUTHENTIC not in upload(portal, changed_byte(pdf))
    page = upload(portal, pdf, lang='ar')
    assert 'تجاوزت عدد المحاولات المسموح به' in page.text and AUTHENTIC not in page


def test_a_code_that_was_never_given_is_not_found(portal):
    serial, _code = issue(portal)

    def forget(site):
        # As it was pickled before certificates had codes.
        del site['certificates'][serial].verification_code

    edit(portal, forget)
    app = visitor(portal)
    page = app.get('/verify/%s/None' % serial, status=404)
    assert serial in page and 'promising projects' not in page
    assert app.get('/verify/%s/None.json' % serial, status=404).json == {'status': 'unknown'}
    app.get('/verify/%s/%%C3%%A9%%00--' % serial, status=404)


def test_limits_count_the_last_hour_and_say_when_to_try_again():
    throttle = Throttle()
    for minute in range(0, 30, 3):
        assert throttle.hit('k', T0 + timedelta(minutes=minute), limit=10) is None
    # Hits at 8:00-8:27; the eleventh waits until the first ten minutes' hits leave the hour.
    assert throttle.hit('k', T0 + timedelta(minutes=40), limit=10) == T0 + timedelta(hours=1)
    assert throttle.hit('other', T0 + timedelta(minutes=40), limit=10) is None
    assert throttle.hit('k', T0 + timedelta(minutes=61), limit=10) is None


def test_hours_old_counts_are_dropped_whole():
    throttle = Throttle()
    for number in range(500):
        throttle.count('lookup:ip:10.0.%d.%d' % (number // 250, number % 250), T0)
    later = T0 + timedelta(hours=3)
    throttle.count('lookup:ip:10.9.9.9', later)
    assert len(throttle.slots) == 2
    assert throttle.refused('lookup:ip:10.0.0.1', later, limit=1) is None


def test_evolve_turns_old_hit_lists_into_slots():
    throttle = Throttle()
    del throttle.slots
    throttle.hits = {'register:ip:10.0.0.1': (T0,)}
    step_9_throttle_slots({'throttle': throttle})
    assert not hasattr(throttle, 'hits')
    assert throttle.hit('register:ip:10.0.0.1', T0, limit=1) is None


CONNECTIONS = 16
REQUESTS_EACH = 24


def test_lookups_from_many_addresses_at_once_never_fail(portal):
    """16 connections through the trusted proxy, every request from another
    address, half of them failed lookups (counted), half genuine ones."""
    serial, code = issue(portal)
    server = waitress.create_server(
        portal,
        host='127.0.0.1',
        port=0,
        threads=CONNECTIONS,
        trusted_proxy='127.0.0.1',
        trusted_proxy_headers={'x-forwarded-for'},
        clear_untrusted_proxy_headers=True,
    )
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    port = server.effective_port
    start = threading.Barrier(CONNECTIONS)
    statuses = Counter()
    lock = threading.Lock()

    def visitor_stream(number):
        start.wait()
        for each in range(REQUESTS_EACH):
            address = '198.51.%d.%d' % (number, each)
            wanted = code if each % 2 else 'WRONGCODE%03d' % each
            connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
            connection.request(
                'GET',
                '/verify/%s/%s.json' % (serial, wanted),
                headers={'X-Forwarded-For': address},
            )
            status = connection.getresponse().status
            connection.close()
            with lock:
                statuses[status] += 1

    try:
        threads = [threading.Thread(target=visitor_stream, args=(n,)) for n in range(CONNECTIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.close()
    half = CONNECTIONS * REQUESTS_EACH // 2
    assert statuses == {200: half, 404: half}
