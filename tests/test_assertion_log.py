"""The replay log of accepted SAML assertions, by hour of expiry."""

from datetime import UTC, datetime, timedelta

from BTrees.OOBTree import OOBTree

from occi_site.resources.assertions import AssertionLog, hour_of

T0 = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def test_an_assertion_is_accepted_once():
    log = AssertionLog()
    assert not log.seen_before('id-1', T0)
    assert log.seen_before('id-1', T0)
    assert not log.seen_before('id-2', T0 + timedelta(minutes=5))
    assert set(log.ids_by_hour[hour_of(T0)]) == {'id-1', 'id-2'}


def test_hours_a_day_old_are_pruned_whole():
    log = AssertionLog()
    for n in range(5):
        log.seen_before('old-%d' % n, T0 + timedelta(minutes=n))
    log.seen_before('recent', T0 + timedelta(hours=20))
    assert not log.seen_before('new', T0 + timedelta(hours=25))
    assert list(log.ids_by_hour.keys()) == [hour_of(T0) + 20, hour_of(T0) + 25]
    assert set(log.expiry_by_id) == {'recent', 'new'}
    # Long gone, an old assertion would be accepted again: its own expiry refuses it.
    assert not log.seen_before('old-1', T0 + timedelta(hours=26))


def test_a_log_indexed_by_exact_expiry_is_indexed_by_hour():
    """The evolve step on a log made before the hourly sets."""
    old = AssertionLog.__new__(AssertionLog)
    old.expiry_by_id = OOBTree()
    old.ids_by_expiry = OOBTree()
    for n in range(3):
        until = T0 + timedelta(minutes=40 * n)
        old.expiry_by_id['id-%d' % n] = until
        old.ids_by_expiry[(until.timestamp(), 'id-%d' % n)] = True
    old.index_by_hour()
    assert 'ids_by_expiry' not in old.__dict__
    assert {hour: set(ids) for hour, ids in old.ids_by_hour.items()} == {
        hour_of(T0): {'id-0', 'id-1'},  # 9:15 and 9:55
        hour_of(T0) + 1: {'id-2'},  # 10:35
    }
    assert old.seen_before('id-2', T0)
