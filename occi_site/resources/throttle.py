"""Rate limits on abuse-prone actions (registrations, code checks, lookups), by key.

A key is e.g. ``register:ip:203.0.113.9``; a limit is "``limit`` hits in the
last hour".  Hits are counted in ten-minute slots: each slot keeps its counts
in ``Tally`` shards (chosen by a stable hash of the key), which add concurrent
hits up instead of conflicting, so many addresses counted at once by several
app servers all commit.  The next slot is made with the current one, so the
requests that cross into it find it already there.  A slot older than the hour
is dropped whole, whatever the number of addresses it counted, by the next
hit: nothing walks the counts and nothing outlives its hour.
"""

from datetime import UTC, datetime, timedelta
from itertools import islice
from zlib import crc32

from BTrees.LOBTree import LOBTree
from persistent import Persistent

from ..i18n import _
from .folder import Located
from .tally import Tally
from .types import content_type, portal_title

SLOT = timedelta(minutes=10)
WINDOW = timedelta(hours=1)
SLOTS_PER_WINDOW = WINDOW // SLOT
SHARDS = 32
DROP_BATCH = 3


def slot_number(when):
    return int(when.timestamp() // SLOT.total_seconds())


def slot_start(number):
    return datetime.fromtimestamp(number * SLOT.total_seconds(), UTC)


class Slot(Persistent):
    """The hits of ten minutes, by key."""

    def __init__(self):
        self.shards = tuple(Tally() for _ in range(SHARDS))

    def _shard(self, key):
        return self.shards[crc32(key.encode()) % SHARDS]

    def hits(self, key):
        return self._shard(key).get(key)

    def add(self, key):
        self._shard(key).add({key: 1})


@content_type('rate_limits', _('Rate limits'), label=portal_title)
class Throttle(Located):
    title = 'Rate limits'

    def __init__(self):
        self.slots = LOBTree()  # slot number -> Slot

    def refused(self, key, now, *, limit):
        """``None`` if ``key`` may be tried now, else the time it may; writes nothing."""
        current = slot_number(now)
        counts = [
            (number, slot.hits(key))
            for number, slot in self.slots.items(current - SLOTS_PER_WINDOW + 1, current)
        ]
        total = sum(hits for _number, hits in counts)
        for number, hits in counts:
            if total < limit:
                return None
            # Allowed again once this slot's hits leave the hour.
            total -= hits
            if total < limit:
                return slot_start(number) + WINDOW
        return None

    def count(self, key, now):
        """Count a hit on ``key``; drops a few slots that have left the hour."""
        current = slot_number(now)
        self.drop_before(current - SLOTS_PER_WINDOW + 1)
        slot = self.slots.get(current)
        if slot is None:
            slot = self.slots[current] = Slot()
        if current + 1 not in self.slots:
            self.slots[current + 1] = Slot()
        slot.add(key)

    def hit(self, key, now, *, limit):
        """Count a hit unless refused; ``None`` if allowed, else the time it will be allowed."""
        retry_at = self.refused(key, now, limit=limit)
        if retry_at is None:
            self.count(key, now)
        return retry_at

    def drop_before(self, number, limit=DROP_BATCH):
        """Drop up to ``limit`` slots older than slot ``number``, the oldest first."""
        old = list(islice(self.slots.keys(max=number, excludemax=True), limit))
        for each in old:
            del self.slots[each]
        return len(old)
