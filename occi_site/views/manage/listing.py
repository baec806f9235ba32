"""Pages of a container's children that cost the same on ten children or on
half a million: they walk the BTree from a cursor and load only the page.

In name order (the BTree's own) any container pages forwards with
``Folder.batch`` and backwards with ``maxKey``; other orders sort in memory,
so they are offered only for small containers.
"""

import itertools

PAGE_SIZE = 50
# Containers up to this many children may also be sorted by any column.
SORTABLE_UP_TO = 500


def key_below(key):
    """A bound just under the string ``key``: ``maxKey(key_below(k))`` is the
    greatest key smaller than ``k`` (names never hold U+10FFFF)."""
    last = key[-1]
    if last == '\x00':
        return key[:-1]
    return key[:-1] + chr(ord(last) - 1) + '\U0010ffff' * 8


def name_page(folder, after=None, size=PAGE_SIZE, descending=False):
    """``(items, more)``: up to ``size`` (name, child) after the name
    ``after`` in name order (or before it, descending), and whether more follow."""
    if not descending:
        items = folder.batch(after, size + 1)
    else:
        data = folder.data
        bound = None if after is None else key_below(after)
        items = []
        while len(items) <= size:
            try:
                key = data.maxKey() if bound is None else data.maxKey(bound)
            except ValueError:
                break
            items.append((key, data[key]))
            bound = key_below(key)
    return items[:size], len(items) > size


def sorted_page(folder, sort_key, start=0, size=PAGE_SIZE, descending=False):
    """``(items, more)`` of a small container sorted by ``sort_key(child)``."""
    ordered = sorted(folder.items(), key=lambda item: sort_key(item[1]), reverse=descending)
    page = list(itertools.islice(ordered, start, start + size + 1))
    return page[:size], len(page) > size
