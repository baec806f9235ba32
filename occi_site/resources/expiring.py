"""Records that live until a given time, shared by every app server.

Each record is found by its key in O(log n); an index ordered by expiry lets
the expired ones be removed from its oldest end, a few at a time, whenever a
record is added, so nothing ever walks the whole store.
"""

from itertools import islice

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow

from .folder import Located

PURGE_BATCH = 20


class ExpiringStore(Located):
    """Values by key, each with its expiry; an expired value is as good as absent."""

    title = ''
    # Records in flight are nobody's business but the administrators'.
    __acl__ = [(Allow, 'role:admin', ALL_PERMISSIONS), DENY_ALL]

    def __init__(self):
        self.records = OOBTree()  # key -> (expires_at, value)
        self.by_expiry = OOBTree()  # (expiry timestamp, key) -> True
        self._count = Length()

    def __len__(self):
        return self._count()

    def add(self, key, value, expires_at, now):
        """Keep ``value`` under a new ``key`` until ``expires_at``; purge a few expired ones."""
        if key in self.records:
            raise KeyError('%r already exists' % key)
        self.purge(now)
        self.records[key] = (expires_at, value)
        self.by_expiry[(expires_at.timestamp(), key)] = True
        self._count.change(1)
        return value

    def get(self, key, now):
        """The value kept under ``key``, or None if there is none or it has expired."""
        record = self.records.get(key) if isinstance(key, str) else None
        if record is None or record[0] <= now:
            return None
        return record[1]

    def pop(self, key, now):
        """Remove the record of ``key``; its value, or None if it was absent or expired."""
        record = self.records.get(key) if isinstance(key, str) else None
        if record is None:
            return None
        self._remove(key, record[0])
        return record[1] if record[0] > now else None

    def purge(self, now, limit=PURGE_BATCH):
        """Remove up to ``limit`` expired records, the oldest first."""
        expired = list(islice(self.by_expiry.keys(max=(now.timestamp(), '')), limit))
        for timestamp, key in expired:
            record = self.records.get(key)
            if record is not None and record[0].timestamp() == timestamp:
                self._remove(key, record[0])
            else:
                del self.by_expiry[(timestamp, key)]
        return len(expired)

    def _remove(self, key, expires_at):
        del self.records[key]
        self.by_expiry.pop((expires_at.timestamp(), key), None)
        self._count.change(-1)
