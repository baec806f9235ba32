"""BTree-backed containers: O(log n) lookup and batched listing, however many children."""

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent


class Located(Persistent):
    """A persistent object with a place in the tree: its name and parent,
    none until it is put there."""

    __name__ = None
    __parent__ = None


class ChangeCounted:
    """A container counting its changes (``changed``) in ``change_count``, a
    ``BTrees.Length`` (concurrent changes resolve), so that ``revision``
    differs after every one: what is kept worked out (``occi_site.page_cache``)
    is kept by it."""

    def changed(self):
        self.change_count.change(1)

    @property
    def revision(self):
        """The counter's last transaction, not its value, which an undo
        rewinds: an undone change gives a new revision too.  None while the
        counter is new or changed in this transaction: nothing is kept then."""
        counter = self.change_count
        if counter._p_oid is None or counter._p_changed:
            return None
        counter._p_activate()
        return counter._p_serial


class Folder(Located):
    """A container of named children kept in an OOBTree.

    The child count is a ``BTrees.Length`` so concurrent additions do not
    conflict on it; ``len()`` never walks the tree.
    """

    title = ''

    def __getnewargs__(self):
        # ZODB then refers to a folder by its oid alone, not by (oid, class):
        # every child's ``__parent__`` is ~45 bytes shorter.  Reading such a
        # reference loads the folder's record to learn its class, which costs
        # nothing here: a folder is read on every traversal, so it is cached.
        return ()

    def __init__(self, title=''):
        self.title = title
        self.data = OOBTree()
        self._count = Length()

    def __getitem__(self, name):
        return self.data[name]

    def get(self, name, default=None):
        return self.data.get(name, default)

    def __contains__(self, name):
        return name in self.data

    def __len__(self):
        return self._count()

    def __iter__(self):
        return iter(self.data.keys())

    def keys(self, min=None, max=None, excludemin=False):
        return self.data.keys(min, max, excludemin=excludemin)

    def values(self):
        return self.data.values()

    def items(self, min=None, max=None, excludemin=False):
        return self.data.items(min, max, excludemin=excludemin)

    def add(self, name, child):
        if not isinstance(name, str) or not name or '/' in name:
            raise ValueError('invalid name: %r' % (name,))
        if name in self.data:
            raise KeyError('%r already exists' % name)
        child.__name__ = name
        child.__parent__ = self
        self.data[name] = child
        self._count.change(1)
        return child

    def remove(self, name):
        """Take the child ``name`` out; it keeps its name but no longer points
        back here (a removed child must not be found in the tree by its parent)."""
        child = self.data.pop(name)
        self._count.change(-1)
        child.__parent__ = None
        return child

    def batch(self, start=None, size=50):
        """Return up to ``size`` (name, child) pairs after ``start``.

        Pages through the BTree from a key, so the cost depends on the page
        size, not on the number of children.
        """
        result = []
        for item in self.data.items(start, excludemin=start is not None):
            result.append(item)
            if len(result) >= size:
                break
        return result
