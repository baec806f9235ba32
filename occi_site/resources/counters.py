"""Conflict-safe sequences: OCCI numbers.

Each sequence is its own small persistent ``Counter``, deliberately without
``_p_resolveConflict``: two transactions that take a number from the same
sequence at once both change that one object, so ZODB refuses the second
commit with ConflictError and pyramid_retry runs that request again, when it
reads the number the first one took.  No lock is held and only requests that
draw from the same sequence can collide.  (Certificate serials need no
sequence: see certificate.py.)

A resolving counter (like ``BTrees.Length``) would not do: it merges two
increments but both transactions would already have handed out the same number.
"""

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ..i18n import _
from .folder import Located
from .types import content_type

# The chamber's existing numbers (91868 ...) are all below this.
OCCI_NUMBER_START = 100000
OCCI_NUMBER_SEQUENCE = 'occi_number'


class Counter(Persistent):
    """The last number handed out of one sequence."""

    def __init__(self, last=0):
        self.last = last

    def allocate(self):
        self.last += 1
        return self.last


@content_type('counters', _('Number sequences'))
class Counters(Located):
    """``/counters``: the sequences by name, each created on first use."""

    title = 'Counters'

    def __init__(self):
        self.sequences = OOBTree()

    def allocate(self, name, first=1):
        """The next number of sequence ``name``; a new sequence starts at ``first``."""
        counter = self.sequences.get(name)
        if counter is None:
            # Two first uses at once insert the same key: the BTree then
            # raises ConflictError too, rather than merging.
            counter = self.sequences[name] = Counter(first - 1)
        return counter.allocate()

    def last(self, name):
        counter = self.sequences.get(name)
        return None if counter is None else counter.last


def next_occi_number(site):
    """A new OCCI number (a string, as the chamber writes them).

    Skips a number an administrator may have given by hand, so the
    OCCI number index never has to choose between two companies.
    """
    companies = site['companies']
    while True:
        number = str(site['counters'].allocate(OCCI_NUMBER_SEQUENCE, OCCI_NUMBER_START))
        if number not in companies.by_occi_number:
            return number
