"""The filter index of requests and orders: facets, dates, newest first, no scan."""

from datetime import UTC, datetime, timedelta

from occi_site.resources.record_index import RecordIndex

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_find_by_facets_and_dates_newest_first():
    index = RecordIndex()
    for day in range(10):
        index.add(
            ('renewal', 'paid' if day % 2 else 'declined'), T0 + timedelta(days=day), 'r%d' % day
        )
        index.add(('certificate', 'paid'), T0 + timedelta(days=day, hours=1), 'c%d' % day)
    assert index.find((['renewal'], ['paid'])) == ['r9', 'r7', 'r5', 'r3', 'r1']
    assert index.find((['renewal', 'certificate'], ['paid']), limit=3) == ['c9', 'r9', 'c8']
    assert index.find(
        (['renewal'], ['paid', 'declined']),
        first=T0 + timedelta(days=2),
        last=T0 + timedelta(days=4),
    ) == ['r4', 'r3', 'r2']
    index.remove(('renewal', 'paid'), T0 + timedelta(days=9), 'r9')
    index.add(('renewal', 'refunded'), T0 + timedelta(days=9), 'r9')
    assert index.find((['renewal'], ['paid']), limit=1) == ['r7']
    assert index.find((['change_name'], ['paid'])) == []


def test_the_newest_come_first_from_a_large_index():
    index = RecordIndex()
    for number in range(50_000):
        index.add(('renewal', 'paid'), T0 + timedelta(seconds=number), 'r%d' % number)
    newest = index.find((['renewal'], ['paid']), limit=20)
    assert newest[0] == 'r49999' and len(newest) == 20


def test_an_index_of_one_set_is_spread_over_shards():
    """The evolve step on an index made before the shards."""
    from BTrees.OOBTree import OOTreeSet

    from occi_site.resources import record_index

    old = RecordIndex.__new__(RecordIndex)
    old.keys = OOTreeSet()
    for day in range(40):
        old.keys.add(('renewal', 'paid', -(T0 + timedelta(days=day)).timestamp(), 'r%d' % day))
    old.spread_over_shards()
    assert 'keys' not in old.__dict__
    assert len(old.shards) == record_index.SHARDS
    assert sum(len(shard) for shard in old.shards) == 40
    assert len([shard for shard in old.shards if shard]) > 1
    assert old.find((['renewal'], ['paid']), limit=3) == ['r39', 'r38', 'r37']
    old.spread_over_shards()  # a second run changes nothing
    assert sum(len(shard) for shard in old.shards) == 40


def test_notifications_made_before_the_shards_are_spread_over_them():
    """The evolve step on /notifications: its due set and its indexes."""
    from BTrees.OOBTree import OOTreeSet

    from occi_site.resources.notification import Notifications

    notifications = Notifications()
    for minute in range(30):
        notifications.queue(
            'email', 'm%d@example.om' % minute, 'Hello', 'Body', T0 + timedelta(minutes=minute)
        )
    due = list(notifications.due.keys())
    notifications.due = OOTreeSet(due)
    for index in (notifications.filter_index, notifications.recipient_index):
        keys = OOTreeSet(index.keys())
        del index.shards
        index.keys = keys
    notifications.spread_over_shards()
    assert list(notifications.due.keys()) == due
    assert len([shard for shard in notifications.due.shards if shard]) > 1
    assert notifications.next_due_at() == T0.timestamp()
    oldest = notifications.due_names(T0 + timedelta(minutes=2))
    assert oldest == [name for _when, name in due[:3]]
    assert len(notifications.find(('queued',), ('email',))) == 30
