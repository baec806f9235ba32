"""The audit log: who did what, when, to which object, with what outcome.

Entries are keyed by a time-ordered integer with random low digits, so
concurrent writers add different keys and BTree conflict resolution merges
them instead of raising ConflictError.  The indexes by path and by user are
sets of ``(path, key)`` and ``(user, key)`` pairs for the same reason: the
first two entries about a new path (an order's first answers, a change and
its audit written apart) add two pairs, where a mapping from the path to
its own set would have both writers create that set and conflict.

The subscribers at the end write what the domain events (``events.py``)
tell of service requests, orders, payments, refunds and memberships, under
the object's path as ``resource_path`` spells it (the path the object's
Audit tab asks for).
"""

import secrets
from datetime import UTC, datetime

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOTreeSet
from persistent import Persistent
from pyramid.traversal import find_root, resource_path

from ..events import (
    GatewayAnswerRecorded,
    MembershipChanged,
    OrderStateChanged,
    RefundDue,
    RefundMade,
    RequestStateChanged,
)
from ..money import rials_text


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


class AuditLog(Persistent):
    __name__ = None
    __parent__ = None
    title = 'Audit log'

    def __init__(self):
        self.entries = LOBTree()
        self.by_path = OOTreeSet()
        self.by_user = OOTreeSet()

    def record(self, action, *, user=None, path='/', outcome='ok', details=None, when=None):
        when = when or _utcnow()
        key = time_ordered_key(when, self.entries)
        # Stored as a tuple: BTree conflict resolution merges concurrent
        # insertions of tuples, but not of dicts.
        self.entries[key] = (
            when.isoformat(),
            user or '',
            action,
            path,
            outcome,
            tuple(sorted((details or {}).items())),
        )
        self.by_path.add((path, key))
        self.by_user.add((user or '', key))
        return self.entry(key)

    def entry(self, key):
        when, user, action, path, outcome, details = self.entries[key]
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
            index, value = self.by_path, path
        elif user is not None:
            index, value = self.by_user, user
        else:
            index = value = None
        found = []
        key = before - 1 if before is not None else LAST_KEY
        while len(found) < limit:
            try:
                if index is None:
                    key = self.entries.maxKey(key)
                else:
                    indexed, key = index.maxKey((value, key))
                    if indexed != value:
                        break
            except ValueError:
                break
            entry = self.entry(key)
            if (action is None or entry['action'] == action) and (
                user is None or entry['user'] == user
            ):
                found.append((key, entry))
            key -= 1
        return found

    def __len__(self):
        return len(self.entries)

    def reindex(self):
        """Rebuild the indexes from the entries (for a schema step)."""
        self.by_path = OOTreeSet()
        self.by_user = OOTreeSet()
        for key, (_when, user, _action, path, _outcome, _details) in self.entries.items():
            self.by_path.add((path, key))
            self.by_user.add((user, key))


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
