"""The revisions kept work is checked by: a container's change counter's last
transaction."""

from datetime import date

import transaction
from BTrees.Length import Length
from pyramid.registry import Registry
from ZODB import DB
from ZODB.FileStorage import FileStorage

from occi_site.resources import bootstrap
from occi_site.resources.company import Company, Membership
from occi_site.resources.evolve import STEPS, evolve_site
from tests.conftest import script_request
from tests.test_compact import NOW, open_site


def test_every_change_the_search_lists_gives_the_companies_a_new_revision(tmp_path):
    # A FileStorage: it undoes.
    db = DB(FileStorage(str(tmp_path / 'Data.fs')))
    conn = db.open()
    site, _ran = bootstrap(conn.root())
    transaction.commit()
    companies = site['companies']
    request = script_request(Registry('revisions'))
    seen = [companies.revision]

    def committed():
        assert companies.revision is None  # changed in this transaction: nothing kept by it
        transaction.commit()
        assert companies.revision not in seen
        seen.append(companies.revision)

    company = companies.add('1304464', Company('1304464', 'Nizwa Dates', 'نزوى للتمور', 'Firq'))
    committed()
    companies.set_membership(company, Membership('88231', 'Second', date(2027, 8, 30)))
    committed()
    companies.rename(company, 'Sur Fisheries', 'صور للأسماك')
    committed()
    companies.change_membership(company, NOW, request, grade='First')
    committed()
    # Nothing changed, or nothing the search lists (a debit): the revision holds.
    companies.change_membership(company, NOW, request, grade='First')
    companies.change_membership(company, NOW, request, debit_baisa=5_000)
    assert companies.revision == seen[-1]
    transaction.commit()
    assert companies.revision == seen[-1] and company.membership.debit_baisa == 5_000
    companies.remove('1304464')
    committed()
    # Undone, a change gives a revision of its own, not the one before it.
    db.undo(db.undoLog(0, 1)[0]['id'])
    transaction.commit()
    assert companies.revision not in seen
    conn.close()
    db.close()


def test_evolve_step_15_counts_the_changes_of_an_existing_database():
    db, conn, site = open_site()
    del site['companies'].change_count
    site.generation = 14
    transaction.commit()
    # Step 15 and every later one.
    assert evolve_site(site) == [number for number, _step in STEPS if number >= 15]
    transaction.commit()
    assert type(site['companies'].change_count) is Length and site['companies'].revision
    conn.close()
    db.close()
