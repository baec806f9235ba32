"""Records there are hundreds of thousands of, pickled without their attributes' names.

A persistent object's pickle is its ``__dict__``: every company, account and
membership would store each of its attributes' names ('cr_number',
'contacts_proven_at' ...) next to the values, a third of its bytes.  A
``CompactState`` class lists its attributes in ``stored``; its state is the
pair of the tuple of their values in that order and a dict of its other
attributes (None if it has none): kept apart, so that a tuple grown by a new
attribute is never mistaken for one followed by the others.  A state pickled
as a dict (before) still loads.

``stored`` is part of the stored format: a new attribute goes at its end,
with a class default, which records pickled before it (a shorter tuple)
read; a name is never removed or moved.  A name of ``stored`` the object
has not set is stored as its class default.
"""

from datetime import UTC, date, datetime, timedelta

from persistent import Persistent

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _packed(value, name, days, utc_times):
    """``value`` of attribute ``name`` as it is pickled."""
    if name in days and type(value) is date:
        return value.toordinal()
    if name in utc_times and type(value) is datetime and value.tzinfo is UTC:
        return (value - EPOCH) // MICROSECOND
    return value


def _unpacked(value, name, days, utc_times):
    """``value`` of attribute ``name`` as it was pickled, as it is read."""
    if type(value) is int:
        if name in days:
            return date.fromordinal(value)
        if name in utc_times:
            return EPOCH + value * MICROSECOND
    return value


class CompactState(Persistent):
    """A persistent object pickled as the tuple of its ``stored`` attributes'
    values and a dict of its other attributes, or None."""

    stored = ()
    # Attributes of ``stored`` that hold a date (or None), pickled as its
    # ordinal, and that hold a datetime in UTC (or None), pickled as
    # microseconds since 1970: a few bytes, not the date's class and its
    # bytes, and the datetime's time zone's classes and arguments.
    days = frozenset()
    utc_times = frozenset()

    def __getstate__(self):
        state = super().__getstate__()
        days, utc_times = self.days, self.utc_times
        values = tuple(
            _packed(
                state.pop(name) if name in state else self._default(name), name, days, utc_times
            )
            for name in self.stored
        )
        return (values, state or None)

    @classmethod
    def _default(cls, name):
        # Read from the classes' own dicts: getattr(cls, '__name__') would
        # give the class's name, not the default of an instance's.
        for klass in cls.__mro__:
            if name in vars(klass):
                return vars(klass)[name]
        raise AttributeError(name)

    def __setstate__(self, state):
        if isinstance(state, tuple):
            values, others = state
            days, utc_times = self.days, self.utc_times
            state = {
                name: _unpacked(value, name, days, utc_times)
                for name, value in zip(self.stored, values, strict=False)
            }
            if others:
                state.update(others)
        super().__setstate__(state)
