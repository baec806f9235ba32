"""Multi-valued indexes: a BTree from a key (a CR number, a day, a civil ID,
a word) to the set of names filed under it.

Plain functions over the containers' own BTrees, so the stored indexes keep
their classes: a key's set is made when its first name is filed and dropped
when its last name goes, and a name is filed or unfiled at most once however
often it is asked.  Sets are ``OOTreeSet``s: each is a persistent object of
its own, so two transactions filing names under different keys write
different objects.

A key under which a large share of all records is filed (a word of the
companies' names, an expiry day) takes ``LargeSet``s: their buckets hold up to
LARGE_BUCKET names rather than 30, so each name takes a few bytes, not the
bucket's own record header, class and link to the next bucket shared by a
handful of names.
"""

from BTrees.OOBTree import OOTreeSet

# Names in one bucket of a LargeSet: up to 256 strings keep their pickle's
# memo references one byte long.
LARGE_BUCKET = 250


class LargeSet(OOTreeSet):
    """An OOTreeSet whose buckets hold LARGE_BUCKET names (BTrees reads the
    sizes from the class); its buckets stay OOSets."""

    max_leaf_size = LARGE_BUCKET
    max_internal_size = 2 * LARGE_BUCKET


def file_under(index, key, name, kind=OOTreeSet):
    """File ``name`` under ``key`` in ``index``; a new key's set is a ``kind``."""
    names = index.get(key)
    if names is None:
        names = index[key] = kind()
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
