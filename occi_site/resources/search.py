"""Finding companies and accounts by what an administrator types, never by a scan.

``NameIndex`` maps the normalised words of names (English and Arabic) to
keys.  Normalising folds what people type differently for the same name:
case, Arabic short vowels and tatweel, the forms of alef and of hamza on
waw and ya, ta marbuta and alef maksura.  An Arabic word starting with the
article "ال" is also indexed without it, so "الواعدة" and "واعدة" both find
"المشاريع الواعدة".

The companies' index lives on the Companies container as ``name_index``,
the accounts' on Accounts; ``index_company`` / ``index_account`` must be
called wherever a company or an account is added or renamed (with the
names it had), and the ``unindex_*`` functions where one is removed: the
containers' own ``add``, ``remove``, ``rename`` and ``register`` do.
"""

import functools
import heapq
import itertools
import math
import re
import unicodedata

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from .multi_index import LargeSet, file_under, unfile
from .verification import ARABIC_DIGITS, normalise_mobile

WORD = re.compile(r'\w+')
ARTICLE = 'ال'
# Letters that decomposition does not fold: alef wasla, alef maksura, the
# Persian ya and kaf, ta marbuta; tatweel only stretches a word.
ARABIC_FOLDS = str.maketrans({'ٱ': 'ا', 'ى': 'ي', 'ی': 'ي', 'ک': 'ك', 'ة': 'ه', 'ـ': None})
# A query word of this length or more also matches the words it begins.
PREFIX_LENGTH = 3
# A prefix that begins more words than this matches only the first ones.
PREFIX_EXPANSION = 200
# A search reads runs of its sparsest word's keys: each run as long as the
# last one's share of matches says the rest of the page needs, with this
# margin, and at most this long.
RUN_MARGIN = 1.25
LONGEST_RUN = 1024


def normalise(text):
    """``text`` folded for matching: NFKD drops the Arabic short vowels and
    splits hamza and madda off alef, waw and ya, as it splits accents off
    Latin letters; the combining marks are then removed."""
    if text.isascii():
        # Nothing to decompose or fold: the common case, made cheap.
        return text.casefold()
    decomposed = unicodedata.normalize('NFKD', text.casefold())
    bare = ''.join(char for char in decomposed if unicodedata.category(char) != 'Mn')
    return unicodedata.normalize('NFC', bare.translate(ARABIC_FOLDS))


def query_words(text):
    return WORD.findall(normalise(text))


# Records loaded in bulk (sample, synthetic) repeat names: the words of the
# last few thousand names are kept rather than normalised again.
@functools.lru_cache(maxsize=4096)
def name_words(*names):
    """The words a name is indexed under: each normalised word, and an
    Arabic word with its article also without it."""
    words = set()
    for word in query_words(' '.join(names)):
        words.add(word)
        if word.startswith(ARTICLE) and len(word) > len(ARTICLE) + 1:
            words.add(word[len(ARTICLE) :])
    return frozenset(words)


class NameIndex(Persistent):
    """Normalised name words -> keys.

    Each word has its own ``LargeSet``, so adding two companies with
    different words never touches the same bucket.  The index keeps no
    key's words: whoever changes or removes a name has the names the key
    was filed under at hand, and passes them (``old_names``).
    """

    def __init__(self):
        self.by_word = OOBTree()
        self._count = Length()

    def __len__(self):
        return self._count()

    def index(self, key, *names, old_names=None):
        """File ``key`` under the words of ``names``; ``old_names``: the
        names it is filed under now (None: it is new)."""
        words = name_words(*names)
        old = frozenset()
        if old_names is None:
            self._count.change(1)
        else:
            old = name_words(*old_names)
            for word in old - words:
                unfile(self.by_word, word, key)
        for word in words - old:
            file_under(self.by_word, word, key, LargeSet)

    def unindex(self, key, *names):
        """Take ``key``, filed under the words of ``names``, out of the index."""
        self._count.change(-1)
        for word in name_words(*names):
            unfile(self.by_word, word, key)

    def _matches(self, word):
        """The key sets of the indexed words ``word`` matches."""
        if len(word) < PREFIX_LENGTH:
            keys = self.by_word.get(word)
            return [] if keys is None else [keys]
        words = self.by_word.values(word, word + '\U0010ffff')
        return list(itertools.islice(words, PREFIX_EXPANSION))

    def search(self, text, limit=50):
        """Up to ``limit`` keys, in key order, whose names hold every word of
        ``text`` (a word of 3 letters or more also as the start of a word).

        The words' key sets are walked together: each jumps to the next key
        the others may hold, and from there the sparsest reads a run of its
        keys, which the others' keys in the same range filter.
        So only the buckets on the way to the first ``limit`` keys are read,
        however large the sets, and a step costs one tree descent per word
        however many keys it passes."""
        walks = [_walk(self._matches(word)) for word in query_words(text)]
        if not walks or not all(walks):
            return []
        found = []
        key = ''
        run = limit
        while len(found) < limit:
            key = _lower_bound(walks, key)
            if key is None:
                break
            run_keys = walks[0].keys_from(key, run)
            if not run_keys:
                break
            last = run_keys[-1]
            counts = {id(walks[0]): len(run_keys)}
            for walk in walks[1:]:
                held = set(walk.keys_between(key, last))
                counts[id(walk)] = len(held)
                run_keys = [candidate for candidate in run_keys if candidate in held]
            found.extend(run_keys)
            # The sparsest word leads the next run, long enough by this run's
            # share of matches to end the search, if the share holds.
            walks.sort(key=lambda walk: counts[id(walk)])
            if run_keys:
                share = len(run_keys) / counts[id(walks[0])]
                run = math.ceil((limit - len(found)) / share * RUN_MARGIN)
            else:
                run *= 2
            run = min(max(run, 2), LONGEST_RUN)
            key = last + '\x00'
        return found[:limit]


def _lower_bound(walks, key):
    """A key from ``key`` on that no key every walk holds comes before: each
    walk's first key from there on, in turn (None where one holds no more)."""
    for walk in walks:
        key = walk.first_from(key)
        if key is None:
            return None
    return key


def _walk(sets):
    """A walk over the union of ``sets`` (None for none)."""
    if not sets:
        return None
    if len(sets) == 1:
        return _SetWalk(sets[0])
    return _UnionWalk(sets)


class _SetWalk:
    """One word's key set."""

    def __init__(self, keys):
        self._keys = keys

    def first_from(self, key):
        """The smallest key from ``key`` on, or None."""
        try:
            return self._keys.minKey(key)
        except ValueError:
            return None

    def keys_from(self, key, count):
        """Up to ``count`` keys from ``key`` on, in order."""
        return list(itertools.islice(self._keys.keys(key), count))

    def keys_between(self, low, high):
        return self._keys.keys(low, high)


class _UnionWalk:
    """The key sets of a prefix's words walked together: a heap holds each
    set's next key, so a step reads again only the sets the walk has passed
    rather than every one of up to ``PREFIX_EXPANSION`` sets.  Keys asked
    for only grow."""

    def __init__(self, sets):
        self._sets = sets
        self._heap = [(keys.minKey(), number) for number, keys in enumerate(sets) if keys]
        heapq.heapify(self._heap)

    def first_from(self, key):
        heap = self._heap
        while heap and heap[0][0] < key:
            number = heap[0][1]
            try:
                heapq.heapreplace(heap, (self._sets[number].minKey(key), number))
            except ValueError:
                heapq.heappop(heap)
        return heap[0][0] if heap else None

    def keys_from(self, key, count):
        """The ``count`` smallest keys from ``key`` on, in order, each once."""
        self.first_from(key)
        merged = heapq.merge(*[self._sets[number].keys(key) for _held, number in self._heap])
        return [held for held, _same in itertools.islice(itertools.groupby(merged), count)]

    def keys_between(self, low, high):
        self.first_from(low)
        keys = set()
        for held, number in self._heap:
            if held <= high:
                keys.update(self._sets[number].keys(low, high))
        return keys


def company_names(company):
    return (company.name_en, company.name_ar)


def index_company(companies, company, old_names=None):
    """File ``company`` under its names; ``old_names``: the (English, Arabic)
    names it was filed under (None: a company new to the index)."""
    companies.name_index.index(company.cr_number, *company_names(company), old_names=old_names)


def unindex_company(companies, company):
    companies.name_index.unindex(company.cr_number, *company_names(company))


def index_account(accounts, account, old_name=None):
    """File ``account`` under its full name; ``old_name``: the full name it
    was filed under (None: an account new to the index)."""
    old_names = None if old_name is None else (old_name,)
    accounts.name_index.index(account.civil_id, account.full_name, old_names=old_names)


def unindex_account(accounts, account):
    accounts.name_index.unindex(account.civil_id, account.full_name)


def _unique(found):
    """``found`` without None and without repeats, in order."""
    unique = {}
    for obj in found:
        if obj is not None:
            unique.setdefault(id(obj), obj)
    return list(unique.values())


def find_companies(companies, text, limit=50):
    """Companies by CR number, OCCI number (in Western or Arabic-Indic
    digits), or words of either name."""
    text = text.strip()
    number = text.translate(ARABIC_DIGITS)
    exact = []
    if number.isascii() and number.isdigit():
        exact = [companies.get(number), companies.find_by_occi_number(number)]
    named = (companies.get(key) for key in companies.name_index.search(text, limit))
    return _unique(itertools.chain(exact, named))[:limit]


def find_accounts(accounts, text, limit=50):
    """Accounts by civil ID, e-mail, mobile number (as typed, with +968 or
    Arabic-Indic digits), or words of the full name."""
    text = text.strip()
    exact = [
        accounts.get(text.translate(ARABIC_DIGITS)),
        accounts.find_by_email(text),
        accounts.find_by_mobile(normalise_mobile(text)),
    ]
    named = (accounts.get(key) for key in accounts.name_index.search(text, limit))
    return _unique(itertools.chain(exact, named))[:limit]
