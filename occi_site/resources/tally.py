"""Counts that many requests add to at once, and their sums over any period.

A ``Tally`` holds integer counts by name (``{'Fourth': 3}``, ``{('renewal',
'received'): 75000}``).  Like ``BTrees.Length``, which it generalises from one
number to several, it resolves write conflicts by adding both transactions'
changes to what was committed: two payments on the same day, counted on the
same tally by two app servers, both commit.  One tally for all the names of a
period, rather than a Length per name, so a report reads one object per
period however many services, measures or grades it shows.

A ``DayTally`` keeps a Tally per day, per month and per year in one OOBTree
(keys ``(year,)``, ``(year, month)``, ``(year, month, day)``), and adds every
change to the three of its day.  The sum over any period is then read from at
most a few dozen tallies (whole years, whole months, the days at either end),
never from the records counted: the cost of a report depends on the length of
its period, not on how many companies, orders or requests there are.  Only the
first change of a new day inserts keys into the tree, and concurrent first
changes of the same day conflict once, then the retried one finds the key.
"""

import calendar
from datetime import date, timedelta

from BTrees.OOBTree import OOBTree
from persistent import Persistent


class Tally(Persistent):
    """Integer counts by name; concurrent changes add up instead of conflicting."""

    def __init__(self):
        self.counts = {}

    def add(self, changes):
        """Add ``changes`` (name -> amount, which may be negative) to the counts."""
        counts = dict(self.counts)
        for name, amount in changes.items():
            counts[name] = counts.get(name, 0) + amount
            if not counts[name]:
                del counts[name]
        self.counts = counts

    def get(self, name, default=0):
        return self.counts.get(name, default)

    def _p_resolveConflict(self, old, committed, new):
        # The states are __getstate__ dicts: what this transaction changed
        # (new - old) is added to what another already committed.
        before = (old or {}).get('counts', {})
        merged = dict(committed['counts'])
        for name in set(before) | set(new['counts']):
            merged[name] = merged.get(name, 0) + new['counts'].get(name, 0) - before.get(name, 0)
            if not merged[name]:
                del merged[name]
        return dict(committed, counts=merged)


def add_counts(total, counts):
    """Add the mapping ``counts`` into the dict ``total``; returns ``total``."""
    for name, amount in counts.items():
        total[name] = total.get(name, 0) + amount
    return total


def month_end(day):
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def covering_keys(first, last):
    """The fewest period keys whose days are exactly ``first`` to ``last``:
    days up to the first whole month, months up to the first whole year,
    whole years, then months and days again."""
    day = first
    while day <= last:
        if (day.month, day.day) == (1, 1) and date(day.year, 12, 31) <= last:
            yield (day.year,)
            day = date(day.year + 1, 1, 1)
        elif day.day == 1 and month_end(day) <= last:
            yield (day.year, day.month)
            day = month_end(day) + timedelta(days=1)
        else:
            yield (day.year, day.month, day.day)
            day += timedelta(days=1)


def months_between(first, last):
    """The first day of each month from ``first``'s to ``last``'s."""
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = month_end(month) + timedelta(days=1)


class DayTally(Persistent):
    """Tallies by day, month and year: counts added on a day, summed over any period."""

    def __init__(self):
        self.periods = OOBTree()

    def add(self, day, changes):
        """Add ``changes`` (name -> amount) to the counts of ``day``."""
        if not changes:
            return
        for key in ((day.year,), (day.year, day.month), (day.year, day.month, day.day)):
            tally = self.periods.get(key)
            if tally is None:
                tally = self.periods[key] = Tally()
            tally.add(changes)

    def _bounds(self, first, last):
        """``first`` and ``last``, an open end replaced by the first or last year counted."""
        if not self.periods:
            return None, None
        if first is None:
            first = date(self.periods.minKey()[0], 1, 1)
        if last is None:
            last = date(self.periods.maxKey()[0], 12, 31)
        return first, last

    def total(self, first=None, last=None):
        """The counts added from ``first`` to ``last`` (dates, inclusive; None: no bound)."""
        first, last = self._bounds(first, last)
        total = {}
        if first is None or first > last:
            return total
        for key in covering_keys(first, last):
            tally = self.periods.get(key)
            if tally is not None:
                add_counts(total, tally.counts)
        return total

    def by_month(self, first, last):
        """``[(first day of the month, counts)]`` for each month from ``first`` to
        ``last``, a partial month at either end counted from ``first`` or up to ``last``."""
        return [
            (month, self.total(max(first, month), min(last, month_end(month))))
            for month in months_between(first, last)
        ]
