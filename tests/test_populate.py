"""occi-populate: synthetic companies, members and memberships whose indexes
agree with the records, on a real FileStorage."""

import gc
import io
import pathlib
from datetime import date, timedelta

import pytest
from zc.zlibstorage import ZlibStorage
from ZODB import DB
from ZODB.FileStorage import FileStorage, fspack
from ZODB.MappingStorage import MappingStorage

from occi_site.resources import ROOT_KEY, bootstrap_database
from occi_site.resources.search import find_accounts, find_companies
from occi_site.scripts import populate as populate_script

from .conftest import DOCUMENT_KEYS, SOUND_SECRET

TODAY = date(2026, 11, 24)
COUNT = 2000


@pytest.fixture
def data_fs(tmp_path):
    return str(tmp_path / 'Data.fs')


def open_site(path):
    """The site in the Data.fs at ``path``, its records compressed or not."""
    db = DB(ZlibStorage(FileStorage(path)))
    conn = db.open()
    return db, conn, conn.root()[ROOT_KEY]


@pytest.fixture
def populated(data_fs):
    db = DB(FileStorage(data_fs))
    bootstrap_database(db)
    out = io.StringIO()
    added = populate_script.populate(db, COUNT, seed=5, today=TODAY, batch_size=500, out=out)
    db.close()
    db, conn, site = open_site(data_fs)
    yield added, out.getvalue(), site
    conn.close()
    db.close()


def test_counts_and_progress(populated):
    added, output, site = populated
    assert added == COUNT
    assert len(site['companies']) == COUNT
    assert len(site['accounts']) == COUNT
    # The progress bar's last state.
    assert '100%' in output and '| 2000/2000 [' in output


def test_occi_number_index_agrees(populated):
    _added, _output, site = populated
    companies = site['companies']
    numbers = set()
    for company in companies.values():
        number = company.membership.occi_number
        assert companies.find_by_occi_number(number) is company
        numbers.add(number)
    assert numbers == {str(n) for n in range(100000, 100000 + COUNT)}
    assert len(companies.by_occi_number) == COUNT
    assert site['counters'].last('occi_number') == 100000 + COUNT - 1


def test_expiry_index_agrees(populated):
    _added, _output, site = populated
    companies = site['companies']
    first, last = TODAY - timedelta(days=60), TODAY + timedelta(days=60)
    expected = {c.cr_number for c in companies.values() if first <= c.membership.expires_on <= last}
    found = [c.cr_number for c in companies.expiring_between(first, last)]
    assert expected and len(found) == len(set(found))
    assert set(found) == expected
    assert sum(len(crs) for crs in companies.by_expiry.values()) == COUNT
    expiries = [c.membership.expires_on for c in companies.values()]
    assert min(expiries) < TODAY < max(expiries)


def test_names_and_accounts_are_indexed(populated):
    _added, _output, site = populated
    companies, accounts = site['companies'], site['accounts']
    company = companies['2000007']
    assert company in find_companies(companies, company.name_en, limit=COUNT)
    assert company in find_companies(companies, company.name_ar, limit=COUNT)
    assert len(companies.name_index) == COUNT
    assert company.name_ar and company.address.count(',') == 4
    grades = {c.membership.grade for c in companies.values()}
    assert grades == {'Excellent', 'First', 'Second', 'Third', 'Fourth'}
    member = accounts['20000007']
    assert member.is_active
    assert accounts.find_by_email(member.email) is member
    assert accounts.find_by_mobile(member.mobile) is member
    assert member in find_accounts(accounts, member.full_name, limit=COUNT)
    assert len(accounts.name_index) == COUNT


def test_running_again_adds_only_what_is_missing(populated, data_fs):
    _added, _output, site = populated
    names = {cr: site['companies'][cr].name_en for cr in ('2000000', '2001999')}
    site._p_jar.close()
    site._p_jar.db().close()
    db = DB(FileStorage(data_fs))
    assert populate_script.populate(db, COUNT, 5, TODAY, out=io.StringIO()) == 0
    assert populate_script.populate(db, COUNT + 10, 5, TODAY, out=io.StringIO()) == 10
    db.close()
    db, conn, site = open_site(data_fs)
    assert len(site['companies']) == COUNT + 10
    assert {cr: site['companies'][cr].name_en for cr in names} == names
    conn.close()
    db.close()


def test_the_collector_runs_after_each_commit_and_is_back_after_a_failure(data_fs, monkeypatch):
    """Between two commits the batch's records are all held by the connection's
    cache: the collector runs once after each commit, not over them while they
    are made, and is on again afterwards, also when populating fails."""
    db = DB(FileStorage(data_fs))
    bootstrap_database(db)
    collecting_while_made, full_collections = [], []
    made = populate_script.synthetic_company

    def synthetic_company(seed, index, today):
        collecting_while_made.append(gc.isenabled())
        if index == 35:
            raise OSError('no space left on the device')
        return made(seed, index, today)

    def collected(phase, info):
        if phase == 'start' and info['generation'] == 2:
            full_collections.append(info)

    monkeypatch.setattr(populate_script, 'synthetic_company', synthetic_company)
    gc.callbacks.append(collected)
    try:
        with pytest.raises(OSError):
            populate_script.populate(db, 50, seed=1, today=TODAY, batch_size=10, out=io.StringIO())
    finally:
        gc.callbacks.remove(collected)
        db.close()
    assert len(collecting_while_made) == 36 and not any(collecting_while_made)
    # One after each of the three commits.
    assert len(full_collections) >= 3
    assert gc.isenabled()


def test_a_database_on_another_storage_packs_its_usual_way():
    db = DB(MappingStorage())
    bootstrap_database(db)
    populate_script.populate(db, 20, seed=1, today=TODAY, batch_size=5, out=io.StringIO())
    storage = db.storage
    assert populate_script.pack_old_versions(db) > 0
    assert not storage.opened()


def test_the_console_script(tmp_path, data_fs, capsys, monkeypatch):
    ini = tmp_path / 'populate.ini'
    ini.write_text(
        '\n'.join(
            [
                '[app:main]',
                'use = egg:occi_site',
                'zodbconn.uri = zlibfile://%s?blobstorage_dir=%s' % (data_fs, tmp_path / 'blobs'),
                'zodbconn.uri.sessions = memory://',
                'occi.sample_data = true',
                'occi.outbox_path = %s' % (tmp_path / 'outbox.jsonl'),
                'occi.mail = outbox',
                'occi.sms = outbox',
                'occi.session.secret = %s' % SOUND_SECRET,
                'occi.public_url = http://localhost',
                *('%s = %s' % setting for setting in DOCUMENT_KEYS.items()),
            ]
        )
        + '\n'
    )

    def walk_every_reference(packer, roots):
        raise AssertionError('the pack of compressed records collected garbage')

    # Compressed and under blobs, the records are packed without walking their references too.
    monkeypatch.setattr(fspack.GC, 'findReachableAtPacktime', walk_every_reference)
    populate_script.main([str(ini), '--companies', '30', '--seed', '3'])
    output = capsys.readouterr()
    assert '| 30/30 [' in output.err
    assert 'done: 30 companies added' in output.out
    assert 'packed: the database takes' in output.out
    # The file before the pack, only old versions, is not kept.
    assert not pathlib.Path('%s.old' % data_fs).exists()
    db, conn, site = open_site(data_fs)
    assert len(site['companies']) == 30 + 4  # and the four sample memberships
    assert site['companies'].find_by_occi_number('91868').cr_number == '1229237'
    conn.close()
    db.close()
    # development.ini's zlibfile: the records as stored are compressed
    # (all but the few too short to gain from it).
    stored = FileStorage(data_fs, read_only=True)
    records = [record.data for txn in stored.iterator() for record in txn if record.data]
    stored.close()
    assert all(data.startswith(b'.z') for data in records if len(data) > 100)


def test_the_pack_keeps_the_last_versions_only(populated, data_fs):
    _added, _output, site = populated
    db = site._p_jar.db()
    site._p_jar.close()
    before = db.getSize()
    # Four commits of 500 wrote the indexes' buckets up to four times.
    assert populate_script.pack_old_versions(db) < before * 0.9
    db, conn, site = open_site(data_fs)
    companies = site['companies']
    assert len(companies) == COUNT and len(companies.name_index) == COUNT
    company = companies['2001999']
    assert find_companies(companies, company.name_ar, limit=COUNT)
    assert companies.find_by_occi_number(company.membership.occi_number) is company
    conn.close()
    db.close()
