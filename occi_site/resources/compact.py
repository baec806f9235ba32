"""Records there are hundreds of thousands of, pickled without their attributes' names.

A persistent object's pickle is its ``__dict__``: every company, account and
membership would store each of its attributes' names ('cr_number',
'contacts_proven_at' ...) next to the values, a third of its bytes.  A
``CompactState`` class lists its attributes in ``stored``; its state is the
tuple of their values in that order, followed by a dict of its other
attributes if it has any.  A state pickled as a dict (before) still loads.

``stored`` is part of the stored format: a new attribute goes at its end,
with a class default, which records pickled before it (a shorter tuple)
read; a name is never removed or moved.  A name of ``stored`` the object
has not set is stored as its class default.
"""

from persistent import Persistent


class CompactState(Persistent):
    """A persistent object pickled as the tuple of its ``stored`` attributes'
    values, followed by a dict of its other attributes if it has any."""

    stored = ()

    def __getstate__(self):
        state = super().__getstate__()
        values = tuple(
            state.pop(name) if name in state else self._default(name) for name in self.stored
        )
        return (*values, state) if state else values

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
            # One more value than ``stored`` names: the other attributes.
            others = state[-1] if len(state) > len(self.stored) else {}
            state = dict(zip(self.stored, state, strict=False), **others)
        super().__setstate__(state)
