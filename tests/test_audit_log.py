"""The audit log: entries and indexes spread over shards, read newest first across them."""

from datetime import UTC, datetime, timedelta

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOTreeSet

from occi_site.resources.audit import SHARDS, AuditLog, shard_of

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def filled(count=200):
    log = AuditLog()
    for n in range(count):
        log.record(
            'step',
            user='u%d' % (n % 3),
            path='/p/%d' % (n % 5),
            details={'n': n},
            when=T0 + timedelta(seconds=n),
        )
    return log


def test_newest_first_across_shards_page_by_page():
    log = filled()
    assert len(log) == 200
    assert len([entries for entries in log.shards if entries]) > SHARDS // 2
    page = log.latest(30)
    assert [entry['details']['n'] for _key, entry in page] == list(range(199, 169, -1))
    following = log.latest(30, before=page[-1][0])
    assert [entry['details']['n'] for _key, entry in following] == list(range(169, 139, -1))
    assert [e['details']['n'] for _k, e in log.latest(3, path='/p/2')] == [197, 192, 187]
    by_path = log.latest(3, path='/p/2')
    assert [e['details']['n'] for _k, e in log.latest(2, path='/p/2', before=by_path[0][0])] == [
        192,
        187,
    ]
    assert [e['details']['n'] for _k, e in log.latest(2, user='u1')] == [199, 196]
    assert log.latest(5, path='/nowhere') == []
    assert log.latest(5, path='/p/0', action='other') == []


def test_a_key_says_its_shard_and_its_time():
    log = AuditLog()
    entry = log.record('step', when=T0)
    ((key, found),) = log.latest(1)
    assert found == entry and key in log.shards[shard_of(key)]
    assert key // 1000 == int(T0.timestamp() * 1_000_000)


def test_a_log_of_one_tree_is_spread_over_shards():
    """The evolve step on a log stored before the shards: one tree of entries,
    one set of pairs per index."""
    source = filled(50)
    old = AuditLog.__new__(AuditLog)
    old.entries = LOBTree()
    for entries in source.shards:
        old.entries.update(entries)
    old.by_path, old.by_user = OOTreeSet(), OOTreeSet()
    old.reindex()
    assert 'entries' not in old.__dict__ and len(old) == 50
    assert [k for k, _e in old.latest(50)] == [k for k, _e in source.latest(50)]
    assert [k for k, _e in old.latest(50, path='/p/3')] == [
        k for k, _e in source.latest(50, path='/p/3')
    ]
    assert len(old.latest(50, user='u2')) == len(source.latest(50, user='u2')) > 0
    by_path = old.by_path
    old.reindex()  # the next step: nothing left to convert
    assert len(old) == 50 and old.by_path is by_path
