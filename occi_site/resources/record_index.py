"""Finding service requests and orders by service, state and date without a scan.

Each record is kept as the key ``facets + (-created timestamp, name)``, so
ascending order is newest first.  A filter reads one key range per
combination of the facet values it allows (at most services x states),
each bounded by the dates asked for, lazily, and merges them.

The keys are spread over SHARDS separate sets, by the record's name: the
newest records of a facet all sort together, and concurrent payments
settling records made at the same moment would otherwise all write the
same few buckets of one tree (and, on RelStorage, lock its inner nodes).
"""

import heapq
import itertools
import zlib

from BTrees.OOBTree import OOTreeSet
from persistent import Persistent

# Sorts after every record name: makes a range end include its last instant.
LAST_NAME = chr(0x10FFFF)
SHARDS = 16


def shard_of(name):
    """The shard of a record: the same in every process (``hash()`` is not)."""
    return zlib.crc32(name.encode('utf-8')) % SHARDS


class ShardedSet(Persistent):
    """A set of keys ending with a record name, spread over SHARDS sets by
    that name, read merged."""

    def __init__(self):
        self.shards = tuple(OOTreeSet() for _ in range(SHARDS))

    def insert(self, key):
        self.shards[shard_of(key[-1])].add(key)

    def discard(self, key):
        shard = self.shards[shard_of(key[-1])]
        if key in shard:
            shard.remove(key)

    def __contains__(self, key):
        return key in self.shards[shard_of(key[-1])]

    def keys(self, low=None, high=None, order=None):
        """The keys from ``low`` to ``high``, lazily, in the order of
        ``order`` (a sort key; the keys' own order by default)."""
        return heapq.merge(*(shard.keys(low, high) for shard in self.shards), key=order)

    def min_key(self):
        """The smallest key, or None."""
        return min((shard.minKey() for shard in self.shards if shard), default=None)


class RecordIndex(ShardedSet):
    @staticmethod
    def _key(facets, created, name):
        return (*tuple(facets), -created.timestamp(), name)

    def add(self, facets, created, name):
        self.insert(self._key(facets, created, name))

    def remove(self, facets, created, name):
        self.discard(self._key(facets, created, name))

    def find(self, choices, first=None, last=None, limit=200):
        """Names of up to ``limit`` records, newest first, whose facets are
        in ``choices`` (one sequence of allowed values per facet) and that
        were created from ``first`` to ``last``."""
        ranges = []
        for facets in itertools.product(*choices):
            low = facets + ((-last.timestamp(),) if last is not None else ())
            high = facets + (
                (-first.timestamp(), LAST_NAME) if first is not None else (float('inf'),)
            )
            ranges.extend(shard.keys(low, high) for shard in self.shards)
        merged = heapq.merge(*ranges, key=lambda key: key[-2])
        return [key[-1] for key in itertools.islice(merged, limit)]

    def spread_over_shards(self):
        """Evolve: an index of one set (before shards) moves its keys into the shards."""
        self._p_activate()
        keys = self.__dict__.pop('keys', None)
        if keys is None:
            return
        self.shards = tuple(OOTreeSet() for _ in range(SHARDS))
        for key in keys:
            self.insert(key)
