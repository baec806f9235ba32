"""Companies, memberships and accounts stored without their attributes' names,
and the step that brings a database stored before to that layout."""

from datetime import UTC, date, datetime, timedelta, timezone

import transaction
from BTrees.OOBTree import OOBTree, OOTreeSet
from ZODB import DB
from ZODB.MappingStorage import MappingStorage

from occi_site.resources import bootstrap
from occi_site.resources.account import Account
from occi_site.resources.company import Company, Membership
from occi_site.resources.evolve import STEPS, evolve_site
from occi_site.resources.multi_index import LargeSet
from occi_site.resources.search import find_accounts, find_companies

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def open_site():
    db = DB(MappingStorage())
    conn = db.open()
    site, _ran = bootstrap(conn.root())
    transaction.commit()
    return db, conn, site


def stored(obj):
    """The record ``obj`` was last committed as."""
    data, _serial = obj._p_jar.db().storage.load(obj._p_oid)
    return data


def test_records_are_stored_without_their_attributes_names():
    db, conn, site = open_site()
    company = site['companies'].add(
        '1304464', Company('1304464', 'Nizwa Dates', 'نزوى للتمور', 'Firq')
    )
    site['companies'].set_membership(company, Membership('88231', 'Second', date(2027, 8, 30)))
    account = site['accounts'].add(
        '90000123', Account('90000123', 'Salim', 's@example.om', '99123456')
    )
    account.activate(NOW)
    transaction.commit()
    for record, names in (
        (company, (b'cr_number', b'name_en', b'__parent__', b'Companies')),
        (company.membership, (b'occi_number', b'expires_on', b'datetime')),
        (account, (b'civil_id', b'contacts_proven_at', b'Accounts', b'datetime', b'timezone')),
    ):
        data = stored(record)
        assert not [name for name in names if name in data]
    conn.close()
    # Read back from the records alone.
    conn = db.open()
    site = conn.root()['occi_site']
    company, account = site['companies']['1304464'], site['accounts']['90000123']
    assert (company.name_ar, company.__name__, company.__parent__) == (
        'نزوى للتمور',
        '1304464',
        site['companies'],
    )
    assert company.membership.expires_on == date(2027, 8, 30)
    assert company.membership.debits == () and company.membership.reminded_for is None
    assert account.contacts_proven_at == NOW and account.roles == ('member',)
    assert account.is_active and account.security_stamp
    conn.close()
    db.close()


def test_a_state_with_other_attributes_or_an_older_shorter_tuple_loads():
    account = Account('90000123', 'Salim', 's@example.om', '99123456')
    account.note = 'kept'
    state = account.__getstate__()
    assert state[1] == {'note': 'kept'}
    copy = Account.__new__(Account)
    copy.__setstate__(state)
    assert copy.note == 'kept' and copy.full_name == 'Salim' and copy.__name__ is None
    # A state pickled as a dict, as every record was before.
    copy.__setstate__(dict(account.__dict__))
    assert copy.note == 'kept' and copy.mobile == '99123456'
    # A time not in UTC is kept as it is.
    account.created = datetime(2026, 11, 24, 13, 0, tzinfo=timezone(timedelta(hours=4)))
    copy.__setstate__(account.__getstate__())
    assert copy.created == account.created and copy.created.utcoffset() == timedelta(hours=4)
    # A record stored before its class's last attributes reads their defaults.
    membership = Membership.__new__(Membership)
    membership.__setstate__((('88231', 'Second', date(2027, 8, 30).toordinal(), 0), None))
    assert membership.expires_on == date(2027, 8, 30)
    # ... also with other attributes beside it.
    membership.__setstate__((('88231', 'Second', 739000, 0), {'note': 'kept'}))
    assert membership.note == 'kept' and membership.joined_on is None
    assert membership.joined_on is None and membership.debits == ()


def old_layout(site):
    """``site`` as generation 13 stored it: name indexes with each key's
    words, expiry sets of the default size."""
    for folder, key, names in (
        (site['companies'], '1304464', ('Nizwa Dates', 'نزوى للتمور')),
        (site['accounts'], '90000123', ('Salim Al Harthy',)),
    ):
        index = folder.name_index
        index.by_word = OOBTree()
        index.words_of = OOBTree()
        for word in ('nizwa', 'dates') if len(names) == 2 else ('salim', 'al', 'harthy'):
            index.by_word[word] = OOTreeSet([key])
        index.words_of[key] = tuple(sorted(index.by_word))
    by_expiry = site['companies'].by_expiry
    for day in list(by_expiry):
        by_expiry[day] = OOTreeSet(by_expiry[day])
    site.generation = 13


def test_evolve_step_14_compacts_an_existing_database():
    db, conn, site = open_site()
    companies, accounts = site['companies'], site['accounts']
    company = companies.add('1304464', Company('1304464', 'Nizwa Dates', 'نزوى للتمور', 'Firq'))
    companies.set_membership(company, Membership('88231', 'Second', date(2027, 8, 30)))
    accounts.add('90000123', Account('90000123', 'Salim Al Harthy', 's@example.om', '99123456'))
    old_layout(site)
    transaction.commit()
    # Step 14 and every later one.
    assert evolve_site(site) == [number for number, _step in STEPS if number >= 14]
    transaction.commit()
    assert find_companies(companies, 'نزوى') == [company]
    assert find_accounts(accounts, 'harthy') == [accounts['90000123']]
    assert len(companies.name_index) == len(accounts.name_index) == 1
    assert not hasattr(companies.name_index, 'words_of')
    assert type(companies.by_expiry[date(2027, 8, 30)]) is LargeSet
    assert b'cr_number' not in stored(company) and b'civil_id' not in stored(accounts['90000123'])
    # Renamed and removed, the keys leave every word they were filed under.
    companies.rename(company, 'Sur Fisheries', 'صور للأسماك')
    assert find_companies(companies, 'nizwa') == [] and find_companies(companies, 'sur') == [
        company
    ]
    companies.remove('1304464')
    accounts.remove('90000123')
    assert not companies.name_index.by_word and not accounts.name_index.by_word
    assert len(companies.name_index) == len(accounts.name_index) == 0
    transaction.commit()
    conn.close()
    db.close()


def test_the_search_reads_numbers_as_an_arabic_keyboard_or_a_phone_writes_them():
    _db, _conn, site = open_site()
    companies, accounts = site['companies'], site['accounts']
    company = companies.add('1304464', Company('1304464', 'Nizwa Dates', 'نزوى للتمور', 'Firq'))
    companies.set_membership(company, Membership('88231', 'Second', date(2027, 8, 30)))
    account = accounts.add(
        '90000123', Account('90000123', 'Salim Al Harthy', 's@example.om', '99123456')
    )
    arabic = str.maketrans('0123456789', '٠١٢٣٤٥٦٧٨٩')
    assert find_companies(companies, '1304464'.translate(arabic)) == [company]
    assert find_companies(companies, '88231'.translate(arabic)) == [company]
    assert find_accounts(accounts, '90000123'.translate(arabic)) == [account]
    assert find_accounts(accounts, '+968 9912 3456') == [account]
