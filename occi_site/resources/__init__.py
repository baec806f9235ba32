"""The persistent object tree: its root, its creation and its evolution.

A process opens the database patiently: several app servers started at the
same moment on an empty or an older database wait or retry instead of dying.
By default each process creates the site and runs pending evolve steps at
start-up (one transaction, retried on a conflict with another process doing
the same).  A deployment of several servers sets ``occi.startup.evolve =
false`` and runs ``occi-evolve`` once before starting or upgrading them; its
servers then wait until the database is at their generation.
"""

import logging
import random
import time
from functools import partial

import pyramid_zodbconn
import transaction
from pyramid.events import ApplicationCreated
from pyramid.request import Request
from pyramid.settings import asbool
from pyramid_zodbconn import get_connection
from transaction.interfaces import TransientError

from .evolve import GENERATION, evolve_site
from .sample import seed_sample_memberships
from .site import Site

log = logging.getLogger(__name__)

ROOT_KEY = 'occi_site'
# How long a starting process waits for its database (seconds), by default.
STARTUP_WAIT = 120


def root_factory(request):
    return get_connection(request).root()[ROOT_KEY]


def bootstrap(zodb_root):
    """Create the site on first start and run any pending evolve steps."""
    site = zodb_root.get(ROOT_KEY)
    if site is None:
        site = zodb_root[ROOT_KEY] = Site()
    return site, evolve_site(site)


def patiently(what, attempt, wait, retry_on=(Exception,)):
    """``attempt()`` until it returns, for at most ``wait`` seconds, pausing a
    growing, randomised while after each failure so that processes started
    together do not collide again in step."""
    deadline = time.monotonic() + wait
    pause = 0.1
    while True:
        try:
            return attempt()
        except retry_on as error:
            if time.monotonic() + pause > deadline:
                raise
            log.warning('%s: %s; trying again', what, error)
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause = min(pause * 2, 5.0)


def open_database(uri, dbname, dbmap, wait=STARTUP_WAIT):
    """pyramid_zodbconn's opening of one database, retried: the database
    server may still be starting, or another process creating the storage's
    schema or its root object at the same moment."""

    def attempt():
        try:
            return pyramid_zodbconn.db_from_uri(uri, dbname, dbmap)
        except Exception:
            # A database that failed to create its root is already registered.
            half_open = dbmap.pop(dbname, None)
            if half_open is not None:
                half_open.close()
            raise

    return patiently('the database cannot be opened yet', attempt, wait)


def bootstrap_database(db, after=(), wait=STARTUP_WAIT):
    """Bootstrap ``db`` and run each ``after(site)``, in one transaction,
    retried while it conflicts with another process doing the same."""

    def attempt():
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        try:
            with tm:
                tm.get().note('occi_site: bootstrap')
                site, _ = bootstrap(conn.root())
                for step in after:
                    step(site)
        finally:
            conn.close()

    patiently('bootstrap conflicted with another process', attempt, wait, TransientError)


class DatabaseNotReady(Exception):
    pass


def wait_for_generation(db, wait=STARTUP_WAIT):
    """Return once ``occi-evolve`` has brought ``db`` to this code's generation."""

    def attempt():
        conn = db.open()
        try:
            site = conn.root().get(ROOT_KEY)
            generation = None if site is None else site.generation
        finally:
            conn.close()
        if generation is None or generation < GENERATION:
            raise DatabaseNotReady(
                'the database is at generation %s, this code needs %d: run occi-evolve'
                % (generation, GENERATION)
            )
        if generation > GENERATION:
            log.warning(
                'the database is at generation %d, newer than this code (%d)',
                generation,
                GENERATION,
            )

    patiently('waiting for the database', attempt, wait, DatabaseNotReady)


def database(registry):
    """The application's ZODB database, as pyramid_zodbconn opened it.

    Reached through a connection for a throw-away request, pyramid_zodbconn's
    only public way to its databases; the connection is closed at once.
    """
    request = Request.blank('/')
    request.registry = registry
    connection = get_connection(request)
    try:
        return connection.db()
    finally:
        connection.close()


def _on_application_created(event):
    registry = event.app.registry
    settings = registry.settings
    wait = float(settings.get('occi.startup.wait', STARTUP_WAIT))
    if asbool(settings.get('occi.startup.evolve', True)):
        bootstrap_database(database(registry), registry.get('occi.bootstrap_steps', ()), wait)
    else:
        wait_for_generation(database(registry), wait)


def includeme(config):
    wait = float(config.registry.settings.get('occi.startup.wait', STARTUP_WAIT))
    pyramid_zodbconn.includeme(config, db_from_uri=partial(open_database, wait=wait))
    # pyramid_zodbconn gives each database an activity monitor, fed by every
    # connection's close; nothing reads it here, and it took a thirtieth of
    # serving a kept page.
    for db in database(config.registry).databases.values():
        db.setActivityMonitor(None)
    config.set_root_factory(root_factory)
    steps = config.registry['occi.bootstrap_steps'] = []
    if asbool(config.registry.settings.get('occi.sample_data', False)):
        steps.append(seed_sample_memberships)
    config.add_subscriber(_on_application_created, ApplicationCreated)
    config.include('.types')
    config.include('.audit')
    config.include('.reports')
