"""The audit log: who did what, when, to which object, with what outcome.

Entries are keyed by a time-ordered integer with random low digits, so
concurrent writers add different keys and BTree conflict resolution merges
them instead of raising ConflictError.  Being time-ordered, every new entry
lands at the end of its tree, where a bucket split conflicts with every
writer at that end: the entries are spread over SHARDS trees, the shard
chosen at random by each writer and written in the key's low digits, so
that concurrent writers (payments settling at once on several servers)
seldom touch the same tree at all.

The indexes by path and by user are sets of ``(path, key)`` and ``(user,
key)`` pairs: the first two entries about a new path (an order's first
answers, a change and its audit written apart) add two pairs, where a
mapping from the path to its own set would have both writers create that
set and conflict.  Each index is spread over SHARDS sets by the path's or
user's own hash, so a path's entries stay in one set and a split of one set
(which changes its inner nodes) concerns only the writers of that set.

The subscribers at the end write what the domain events (``events.py``)
tell of service requests, orders, payments, refunds and memberships, under
the object's path as ``resource_path`` spells it (the path the object's
Audit tab asks for).
"""

import heapq
import secrets
import zlib
from datetime import UTC, datetime

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOTreeSet
from pyramid.traversal import find_root, resource_path

from ..events import (
    GatewayAnswerRecorded,
    MembershipChanged,
    OrderStateChanged,
    RefundDue,
    RefundMade,
    RequestStateChanged,
)
from ..i18n import _
from ..money import rials_text
from .folder import Located
from .types import content_type, portal_title


def _utcnow():
    return datetime.now(UTC)


def time_ordered_key(when, taken=()):
    """An integer key that sorts by ``when`` and, with its random low digits,
    rarely equals a concurrent writer's, so BTree conflict resolution can
    merge both insertions."""
    key = int(when.timestamp() * 1_000_000) * 1000 + secrets.randbelow(1000)
    while key in taken:
        key += 1
    return key


# Above every key of the log (LOBTree keys are signed 64-bit integers).
LAST_KEY = 2**63 - 1
SHARDS = 16
# The low digits of a key: the shard it is in, and a random part.
LOW_DIGITS = 1000


def shard_of(key):
    return key % LOW_DIGITS % SHARDS


def index_shard(value):
    """The shard of a path or user in the indexes: the same in every process."""
    return zlib.crc32(value.encode('utf-8')) % SHARDS


def _below(tree, bound):
    try:
        return tree.maxKey() if bound is None else tree.maxKey(bound)
    except ValueError:
        return None


def newest_first(trees, before=None):
    """The keys of ``trees`` (each sorted), newest first, from below ``before``.

    One ``maxKey`` step per key and tree: O(log n) a key, however long the log.
    """
    bound = None if before is None else before - 1
    heap = [(-key, n) for n, tree in enumerate(trees) if (key := _below(tree, bound)) is not None]
    heapq.heapify(heap)
    while heap:
        key, n = heapq.heappop(heap)
        key = -key
        yield key
        following = _below(trees[n], key - 1)
        if following is not None:
            heapq.heappush(heap, (-following, n))


def newest_of(pairs, value, before=None):
    """The keys paired with ``value`` in a set of ``(value, key)`` pairs,
    newest first, from below ``before``."""
    key = LAST_KEY if before is None else before - 1
    while True:
        pair = _below(pairs, (value, key))
        if pair is None or pair[0] != value:
            return
        key = pair[1]
        yield key
        key -= 1


def _shards(kind):
    return tuple(kind() for _ in range(SHARDS))


@content_type('audit_log', _('Audit log'), label=portal_title)
class AuditLog(Located):
    title = 'Audit log'

    def __init__(self):
        self.shards = _shards(LOBTree)
        self.by_path = _shards(OOTreeSet)
        self.by_user = _shards(OOTreeSet)

    def _new_key(self, when):
        shard = secrets.randbelow(SHARDS)
        entries = self.shards[shard]
        while True:
            low = shard + SHARDS * secrets.randbelow(LOW_DIGITS // SHARDS)
            key = int(when.timestamp() * 1_000_000) * LOW_DIGITS + low
            if key not in entries:
                return key

    def record(self, action, *, user=None, path='/', outcome='ok', details=None, when=None):
        when = when or _utcnow()
        key = self._new_key(when)
        # Stored as a tuple: BTree conflict resolution merges concurrent
        # insertions of tuples, but not of dicts.
        self.shards[shard_of(key)][key] = (
            when.isoformat(),
            user or '',
            action,
            path,
            outcome,
            tuple(sorted((details or {}).items())),
        )
        self._index(key, path, user or '')
        return self.entry(key)

    def _index(self, key, path, user):
        self.by_path[index_shard(path)].add((path, key))
        self.by_user[index_shard(user)].add((user, key))

    def entry(self, key):
        when, user, action, path, outcome, details = self.shards[shard_of(key)][key]
        return {
            'when': when,
            'user': user,
            'action': action,
            'path': path,
            'outcome': outcome,
            'details': dict(details),
        }

    def latest(self, limit=50, *, path=None, user=None, action=None, before=None):
        """The newest entries first, filtered by path, user or action.

        Walks backwards with ``maxKey`` (O(log n) a step) from ``before``, so
        a page costs the same on a log of any length.
        """
        if path is not None:
            keys = newest_of(self.by_path[index_shard(path)], path, before)
        elif user is not None:
            keys = newest_of(self.by_user[index_shard(user)], user, before)
        else:
            keys = newest_first(self.shards, before)
        found = []
        for key in keys:
            entry = self.entry(key)
            if (action is None or entry['action'] == action) and (
                user is None or entry['user'] == user
            ):
                found.append((key, entry))
                if len(found) >= limit:
                    break
        return found

    def __len__(self):
        return sum(len(entries) for entries in self.shards)

    def reindex(self):
        """Bring a log stored in an earlier layout to this one, the only one
        (schema steps 2 and 9 both come here): entries kept in one tree move
        into the shards, and the indexes are rebuilt from the entries.  A log
        already in this layout is left as it is, so a database older than
        both steps is converted once."""
        self._p_activate()
        entries = self.__dict__.pop('entries', None)
        if entries is None and isinstance(self.by_path, tuple):
            return
        if entries is not None:
            self.shards = _shards(LOBTree)
            for key, value in entries.items():
                self.shards[shard_of(key)][key] = value
        self.by_path = _shards(OOTreeSet)
        self.by_user = _shards(OOTreeSet)
        for entries in self.shards:
            for key, (_when, user, _action, path, _outcome, _details) in entries.items():
                self._index(key, path, user)


def _audit(event, action, outcome='ok', **details):
    """One entry for ``event``: by whoever acted, else the record's owner."""
    subject = event.subject
    find_root(subject)['audit'].record(
        action,
        user=event.by or getattr(subject, 'civil_id', ''),
        path=resource_path(subject),
        outcome=outcome,
        details={name: str(value) for name, value in details.items()},
        when=event.when,
    )


def audit_request_state(event):
    _audit(
        event,
        'request.%s' % event.new_state,
        service=event.service,
        old_state=event.old_state or '',
        note=event.note,
    )


def audit_order_state(event):
    _audit(event, 'order.%s' % event.new_state, old_state=event.old_state or '', note=event.note)


def audit_gateway_answer(event):
    _audit(
        event,
        'payment.%s' % (event.decision.lower() or 'refused'),
        outcome=event.outcome,
        channel=event.channel,
        transaction=event.transaction_id,
        **({'why': event.why} if event.why else {}),
    )


def audit_refund_due(event):
    refund = event.refund
    _audit(
        event,
        'payment.refund_due',
        outcome='flagged',
        transaction=refund.transaction_id,
        amount=rials_text(refund.amount_baisa),
        why=refund.why,
    )


def audit_refund_made(event):
    refund = event.refund
    _audit(
        event,
        'payment.refunded',
        transaction=refund.transaction_id,
        amount=rials_text(refund.amount_baisa),
        note=refund.note,
    )


def audit_membership(event):
    _audit(
        event,
        'membership.changed',
        **{name: '%s -> %s' % (old, new) for name, (old, new) in event.changes.items()},
    )


def includeme(config):
    for subscriber, event in (
        (audit_request_state, RequestStateChanged),
        (audit_order_state, OrderStateChanged),
        (audit_gateway_answer, GatewayAnswerRecorded),
        (audit_refund_due, RefundDue),
        (audit_refund_made, RefundMade),
        (audit_membership, MembershipChanged),
    ):
        config.add_subscriber(subscriber, event)
