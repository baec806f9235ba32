"""Finding service requests and orders by service, state and date without a scan.

Each record is kept as the key ``facets + (-created timestamp, name)`` in one
OOTreeSet, so ascending order is newest first.  A filter reads one key
range per combination of the facet values it allows (at most services x
states), each bounded by the dates asked for, lazily, and merges them.
"""

import heapq
import itertools

from BTrees.OOBTree import OOTreeSet
from persistent import Persistent

# Sorts after every record name: makes a range end include its last instant.
LAST_NAME = chr(0x10FFFF)


class RecordIndex(Persistent):
    def __init__(self):
        self.keys = OOTreeSet()

    @staticmethod
    def _key(facets, created, name):
        return (*tuple(facets), -created.timestamp(), name)

    def add(self, facets, created, name):
        self.keys.add(self._key(facets, created, name))

    def remove(self, facets, created, name):
        key = self._key(facets, created, name)
        if key in self.keys:
            self.keys.remove(key)

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
            ranges.append(self.keys.keys(low, high))
        merged = heapq.merge(*ranges, key=lambda key: key[-2])
        return [key[-1] for key in itertools.islice(merged, limit)]
