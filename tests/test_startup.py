"""Start-up of several processes on one database: the site is created once,
and nobody dies of the collision."""

import threading

import pytest
import transaction
from ZODB import DB
from ZODB.MappingStorage import MappingStorage

from occi_site.resources import (
    ROOT_KEY,
    DatabaseNotReady,
    bootstrap,
    bootstrap_database,
    wait_for_generation,
)
from occi_site.resources.evolve import GENERATION


def test_two_bootstraps_at_once_both_succeed_and_create_one_site():
    """Both read the empty root before either commits: one conflicts, pauses and retries."""
    db = DB(MappingStorage())
    together = threading.Barrier(2)
    sites, errors = [], []

    def start():
        def meet(site):
            sites.append(site)
            if len(sites) <= 2:
                together.wait(timeout=10)

        try:
            bootstrap_database(db, after=[meet], wait=10)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(sites) == 3  # the second process's first attempt was thrown away
    conn = db.open()
    assert conn.root()[ROOT_KEY].generation == GENERATION
    conn.close()
    db.close()


def test_a_server_waits_for_occi_evolve():
    db = DB(MappingStorage())
    with pytest.raises(DatabaseNotReady):
        wait_for_generation(db, wait=0.5)
    evolved = threading.Timer(0.5, bootstrap_database, (db,))
    evolved.start()
    wait_for_generation(db, wait=10)
    evolved.join()
    db.close()


def test_a_server_on_an_older_database_waits_for_its_generation():
    db = DB(MappingStorage())
    conn = db.open()
    site, _ = bootstrap(conn.root())
    site.generation = GENERATION - 1
    transaction.commit()
    conn.close()
    with pytest.raises(DatabaseNotReady, match='run occi-evolve'):
        wait_for_generation(db, wait=0.3)
    db.close()


def test_a_process_waits_for_its_database(make_app, tmp_path, caplog):
    """A database that cannot be opened yet (here: a file storage under a
    folder that appears a moment later) is tried again until it can."""
    folder = tmp_path / 'later'
    threading.Timer(0.6, folder.mkdir).start()
    app = make_app(**{'zodbconn.uri': 'file://%s' % (folder / 'Data.fs')})
    assert app.registry is not None
    assert 'the database cannot be opened yet' in caplog.text
