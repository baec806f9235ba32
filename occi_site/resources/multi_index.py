"""Multi-valued indexes: a BTree from a key (a CR number, a day, a civil ID,
a word) to the set of names filed under it.

Plain functions over the containers' own BTrees, so the stored indexes keep
their classes: a key's set is made when its first name is filed and dropped
when its last name goes, and a name is filed or unfiled at most once however
often it is asked.  Sets are ``OOTreeSet``s: each is a persistent object of
its own, so two transactions filing names under different keys write
different objects.
"""

from BTrees.OOBTree import OOTreeSet


def file_under(index, key, name):
    """File ``name`` under ``key`` in ``index``."""
    names = index.get(key)
    if names is None:
        names = index[key] = OOTreeSet()
    names.add(name)


def unfile(index, key, name):
    """Take ``name`` from under ``key`` in ``index``, if it is there."""
    names = index.get(key)
    if names is not None and name in names:
        names.remove(name)
        if not names:
            del index[key]


def filed_under(index, key):
    """The names filed under ``key``, in their order (none: empty)."""
    return index.get(key, ())
