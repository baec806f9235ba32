"""The audit log: who did what, when, to which object, with what outcome.

Entries are keyed by a time-ordered integer with random low digits, so
concurrent writers add different keys and BTree conflict resolution merges
them instead of raising ConflictError.
"""

import secrets
from datetime import UTC, datetime

from BTrees.LOBTree import LOBTree, LOTreeSet
from BTrees.OOBTree import OOBTree
from persistent import Persistent


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


class AuditLog(Persistent):
    __name__ = None
    __parent__ = None
    title = 'Audit log'

    def __init__(self):
        self.entries = LOBTree()
        self.by_path = OOBTree()
        self.by_user = OOBTree()

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
        for index, value in ((self.by_path, path), (self.by_user, user or '')):
            keys = index.get(value)
            if keys is None:
                keys = index[value] = LOTreeSet()
            keys.add(key)
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
            keys = self.by_path.get(path)
        elif user is not None:
            keys = self.by_user.get(user)
        else:
            keys = self.entries
        found = []
        if not keys:
            return found
        key = before - 1 if before is not None else None
        while len(found) < limit:
            try:
                key = keys.maxKey() if key is None else keys.maxKey(key)
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
