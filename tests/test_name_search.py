"""The administrators' search by name reads the index only as far as the
page it returns, however many names share the words typed."""

import transaction
from ZODB import DB
from ZODB.MappingStorage import MappingStorage

from occi_site.resources.search import NameIndex

COUNT = 20_000


def keys_with(words_of, count=COUNT):
    return {'%06d' % n: words_of(n) for n in range(count)}


def make_index(names):
    db = DB(MappingStorage())
    conn = db.open()
    index = conn.root()['index'] = NameIndex()
    for key, name in names.items():
        index.index(key, name)
    transaction.commit()
    conn.close()
    return db


def search_counting_loads(db, text, limit=50):
    conn = db.open()
    conn.getTransferCounts(clear=True)
    found = conn.root()['index'].search(text, limit)
    loads, _stores = conn.getTransferCounts()
    conn.close()
    return found, loads


def name(n):
    words = ['Al', 'Harthy' if n % 7 == 0 else 'Kindi', 'Trading' if n % 3 == 0 else 'Dates']
    return ' '.join(words)


def test_search_by_common_words_reads_a_few_buckets():
    db = make_index(keys_with(name))
    found, loads = search_counting_loads(db, 'al harthy trading')
    expected = ['%06d' % n for n in range(COUNT) if n % 21 == 0][:50]
    assert found == expected
    # Every word's set holds thousands of keys in hundreds of buckets.
    assert loads < 150
    db.close()


def test_search_results_are_the_keys_holding_every_word_in_order():
    db = make_index(keys_with(name, 500))
    everything, _loads = search_counting_loads(db, 'kindi dat', limit=1000)
    assert everything == ['%06d' % n for n in range(500) if n % 7 and n % 3]
    assert search_counting_loads(db, 'harthy dates trading')[0] == []
    assert search_counting_loads(db, 'nobody')[0] == []
    assert search_counting_loads(db, 'al', limit=3)[0] == ['000000', '000001', '000002']
    db.close()


def test_a_prefix_of_many_words_matches_any_of_them_with_the_other_words():
    # "trad" begins 40 words, each held by a few keys; "kindi" by most keys.
    def words_of(n):
        return 'Trad%02d %s' % (n % 40, 'Kindi' if n % 5 else 'Harthy')

    db = make_index(keys_with(words_of, 2_000))
    expected = ['%06d' % n for n in range(2_000) if n % 5]
    assert search_counting_loads(db, 'kindi trad', limit=1000)[0] == expected[:1000]
    assert search_counting_loads(db, 'trad kindi')[0] == expected[:50]
    assert (
        search_counting_loads(db, 'trad05 harthy')[0]
        == ['%06d' % n for n in range(2_000) if n % 40 == 5][:50]
    )
    assert search_counting_loads(db, 'trad07 harthy')[0] == []
    db.close()
