"""occi-populate CONFIG_URI: fill the portal's database with synthetic companies,
their members' accounts and their memberships, to try the portal at the
chamber's scale.

Synthetic records have CR numbers from 2000000 and civil IDs from 20000000, so
they never meet the sample registry's; running again with the same count adds
nothing, with a larger one adds the rest.  Every record goes in through the
same container methods the portal uses, so every index and the reports'
tallies stay true.  The database is packed at the end, so only the records'
last versions take room.  The records are fictitious: this is for test and
benchmark databases only.
"""

import argparse
import gc
import itertools
import os
import random
import time
from datetime import UTC, datetime, timedelta

import transaction
from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging
from tqdm import tqdm
from ZODB.FileStorage import FileStorage
from ZODB.serialize import referencesf

from ..clock import OMAN
from ..resources import ROOT_KEY, database
from ..resources.account import Account
from ..resources.company import Company, Membership, add_years
from ..resources.counters import next_occi_number

CR_START = 2_000_000
CIVIL_ID_START = 20_000_000
MOBILE_START = 71_000_000
# Each commit rewrites the index buckets it touched: few large commits write
# far less than many small ones.
BATCH_SIZE = 50_000

# (English, Arabic) pairs the names are made of.
FAMILIES = (
    ('Al Balushi', 'البلوشي'),
    ('Al Harthy', 'الحارثي'),
    ('Al Hinai', 'الهنائي'),
    ('Al Busaidi', 'البوسعيدي'),
    ('Al Rawahi', 'الرواحي'),
    ('Al Kindi', 'الكندي'),
    ('Al Maamari', 'المعمري'),
    ('Al Siyabi', 'السيابي'),
    ('Al Lawati', 'اللواتي'),
    ('Al Rashdi', 'الراشدي'),
    ('Al Jabri', 'الجابري'),
    ('Al Farsi', 'الفارسي'),
    ('Al Shukaili', 'الشكيلي'),
    ('Al Mahrouqi', 'المحروقي'),
    ('Al Abri', 'العبري'),
    ('Al Saadi', 'السعدي'),
    ('Al Hashmi', 'الهاشمي'),
    ('Al Riyami', 'الريامي'),
    ('Al Amri', 'العامري'),
    ('Al Zadjali', 'الزدجالي'),
)
FIRST_NAMES = (
    'Ahmed',
    'Mohammed',
    'Said',
    'Salim',
    'Khalid',
    'Ali',
    'Hamed',
    'Sultan',
    'Nasser',
    'Yousuf',
    'Talal',
    'Hilal',
    'Fatma',
    'Aisha',
    'Maryam',
    'Shamsa',
    'Zainab',
    'Muna',
    'Badriya',
    'Huda',
    'Thuraya',
    'Amal',
)
ACTIVITIES = (
    ('Trading', 'للتجارة'),
    ('Contracting', 'للمقاولات'),
    ('Marine Services', 'للخدمات البحرية'),
    ('Dates', 'للتمور'),
    ('Fisheries', 'للأسماك'),
    ('Logistics', 'للخدمات اللوجستية'),
    ('Engineering', 'للهندسة'),
    ('Frankincense', 'للبخور واللبان'),
    ('Building Materials', 'لمواد البناء'),
    ('Travel and Tourism', 'للسفر والسياحة'),
    ('Oilfield Services', 'لخدمات حقول النفط'),
    ('Foodstuffs', 'للمواد الغذائية'),
    ('Technology', 'للتقنية'),
    ('Furniture', 'للأثاث'),
)
# How a company's form puts family and activity together, in each language.
FORMS = (
    ('{family} {activity} LLC', '{family} {activity} ش.م.م'),
    ('{family} & Partners {activity}', '{family} وشركاه {activity}'),
    ('{family} {activity} Group', 'مجموعة {family} {activity}'),
    ('{family} {activity} Establishment', 'مؤسسة {family} {activity}'),
    ('{family} {activity}', '{family} {activity}'),
)
# (area, wilayat, governorate, postal code)
PLACES = (
    ('Ruwi', 'Muttrah', 'Muscat Governorate', '112'),
    ('Al Khuwair', 'Bawshar', 'Muscat Governorate', '133'),
    ('Al Mawaleh', 'Al Seeb', 'Muscat Governorate', '121'),
    ('Falaj Al Qabail', 'Sohar', 'North Al Batinah Governorate', '311'),
    ('Firq', 'Nizwa', 'Ad Dakhiliyah Governorate', '612'),
    ('Al Saada', 'Salalah', 'Dhofar Governorate', '217'),
    ('Al Ashkharah', 'Jaalan Bani Bu Ali', 'South Ash Sharqiyah Governorate', '416'),
    ('Sur', 'Sur', 'South Ash Sharqiyah Governorate', '411'),
    ('Ibri', 'Ibri', 'Adh Dhahirah Governorate', '511'),
    ('Barka', 'Barka', 'South Al Batinah Governorate', '320'),
    ('Khasab', 'Khasab', 'Musandam Governorate', '811'),
    ('Ibra', 'Ibra', 'North Ash Sharqiyah Governorate', '400'),
)
# Most members of the chamber are small companies.
GRADE_WEIGHTS = (('Excellent', 2), ('First', 5), ('Second', 13), ('Third', 30), ('Fourth', 50))
GRADE_NAMES = tuple(grade for grade, _weight in GRADE_WEIGHTS)
GRADE_CUMULATIVE_WEIGHTS = tuple(itertools.accumulate(weight for _grade, weight in GRADE_WEIGHTS))
# Expiry dates from three years past to two years ahead; a few expired
# memberships carry a debit from the paper registry.
EXPIRY_SPREAD_DAYS = (-3 * 365, 2 * 365)
DEBITS = (5_000, 10_000, 25_000)
DEBIT_SHARE = 0.03


def synthetic_company(seed, index, today):
    """One company, its membership's grade, expiry and debit, and its member.

    Drawn from a generator of its own, so a record depends only on the seed
    and its index, and records already there need not be drawn again.
    """
    rng = random.Random(seed * 1_000_000_007 + index)
    family_en, family_ar = rng.choice(FAMILIES)
    activity_en, activity_ar = rng.choice(ACTIVITIES)
    form_en, form_ar = rng.choice(FORMS)
    area, wilayat, governorate, postal_code = rng.choice(PLACES)
    cr_number = str(CR_START + index)
    company = Company(
        cr_number,
        form_en.format(family=family_en, activity=activity_en),
        form_ar.format(family=family_ar, activity=activity_ar),
        address='%s, %s, %s, %d, %s'
        % (area, wilayat, governorate, rng.randint(100, 999), postal_code),
        email='info.%s@example.om' % cr_number,
    )
    grade = rng.choices(GRADE_NAMES, cum_weights=GRADE_CUMULATIVE_WEIGHTS)[0]
    expires_on = today + timedelta(days=rng.randint(*EXPIRY_SPREAD_DAYS))
    debit = rng.choice(DEBITS) if expires_on < today and rng.random() < DEBIT_SHARE else 0
    civil_id = str(CIVIL_ID_START + index)
    first = rng.choice(FIRST_NAMES)
    member = Account(
        civil_id,
        '%s %s %s' % (first, rng.choice(FIRST_NAMES), family_en),
        '%s.%s.%s@example.om' % (first.lower(), family_en.split()[-1].lower(), civil_id),
        str(MOBILE_START + index),
        language=rng.choice(('ar', 'ar', 'en')),
    )
    # Synthetic people stand as proven at the PKI on the day of the data.
    member.activate(datetime(today.year, today.month, today.day, tzinfo=UTC))
    return company, (grade, expires_on, debit), member


def joined_on(index, expires_on, today):
    """A day the synthetic company became a member: whole years before its
    expiry (one to five, by its index), and not after ``today``."""
    day = add_years(expires_on, -(1 + index % 5))
    while day > today:
        day = add_years(day, -1)
    return day


def populate(db, count, seed, today, batch_size=BATCH_SIZE, out=None):
    """Add the synthetic companies 0 .. count-1 not yet in ``db``, with
    expiry dates around ``today``, committing every ``batch_size``; returns
    how many were added.  A progress bar goes to ``out`` (standard error)."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    added = 0
    # The records made between two commits stay in the connection's cache
    # until the commit: the collector's passes over them (a full one every
    # fifteen thousand companies or so) would free nothing.  It runs once
    # after each commit instead.
    collecting = gc.isenabled()
    gc.disable()
    try:
        tm.begin()
        site = conn.root()[ROOT_KEY]
        companies, accounts = site['companies'], site['accounts']
        with tqdm(total=count, desc='companies', unit=' companies', file=out) as bar:
            for index in range(count):
                bar.update()
                if str(CR_START + index) in companies:
                    continue
                company, (grade, expires_on, debit), member = synthetic_company(seed, index, today)
                companies.add(company.cr_number, company)
                companies.set_membership(
                    company,
                    Membership(
                        next_occi_number(site),
                        grade,
                        expires_on,
                        debit_baisa=debit,
                        joined_on=joined_on(index, expires_on, today),
                    ),
                )
                if member.civil_id not in accounts:
                    accounts.add(member.civil_id, member)
                added += 1
                if added % batch_size == 0:
                    _commit(tm, conn, added)
            if added % batch_size:
                _commit(tm, conn, added)
    finally:
        tm.abort()
        conn.close()
        if collecting:
            gc.enable()
    return added


def _commit(tm, conn, added):
    tm.get().note('occi-populate: %d companies' % added)
    tm.commit()
    # Keep memory flat however many records go in.
    conn.cacheMinimize()
    gc.collect()


def pack_old_versions(db):
    """Pack ``db``, keeping only the records' last versions, and close it;
    returns the size it takes, in bytes.

    A FileStorage (development.ini's wraps it in compression and blobs) is
    closed and its file packed on its own, without the garbage collection,
    which would walk every reference of every record (most of the time of a
    pack) for nothing: populating only adds records, and a record it leaves
    behind is only ever an old version.  Another storage packs its usual way."""
    path = db.storage.getName()
    if not os.path.isfile(path):
        try:
            db.pack()
            return db.getSize()
        finally:
            db.close()
    db.close()
    # Without the garbage collection, the pack reads no record's references:
    # compressed records need not be uncompressed.
    storage = FileStorage(path, pack_keep_old=False)
    try:
        storage.pack(time.time(), referencesf, gc=False)
        return storage.getSize()
    finally:
        storage.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config_uri', help='an ini file, e.g. development.ini')
    parser.add_argument(
        '--companies',
        type=int,
        default=500_000,
        help='how many synthetic companies (default 500000)',
    )
    parser.add_argument('--seed', type=int, default=0, help='the random seed (default 0)')
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    # Loading the application creates or evolves the tree; the request it
    # makes is closed with its connection before the database is used here.
    with pyramid_bootstrap(args.config_uri) as env:
        registry = env['registry']
    db = database(registry)
    today = registry.occi_clock().astimezone(OMAN).date()
    try:
        added = populate(db, args.companies, args.seed, today)
    except BaseException:
        db.close()
        raise
    print('done: %d companies added' % added, flush=True)
    if not added:
        db.close()
        return
    # The indexes' buckets were written once per commit: keep only their last versions.
    print('packed: the database takes %.0f MB' % (pack_old_versions(db) / 1e6))
