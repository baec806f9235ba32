"""The persistent object tree: its root, its creation and its evolution."""

import transaction
from pyramid.events import ApplicationCreated
from pyramid.request import Request
from pyramid.settings import asbool
from pyramid_zodbconn import get_connection

from .evolve import evolve_site
from .sample import seed_sample_memberships
from .site import Site

ROOT_KEY = 'occi_site'


def root_factory(request):
    return get_connection(request).root()[ROOT_KEY]


def bootstrap(zodb_root):
    """Create the site on first start and run any pending evolve steps."""
    site = zodb_root.get(ROOT_KEY)
    if site is None:
        site = zodb_root[ROOT_KEY] = Site()
    return site, evolve_site(site)


def bootstrap_database(db, after=()):
    """Open ``db``, bootstrap it and run each ``after(site)``, in one transaction."""
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
    bootstrap_database(database(registry), registry.get('occi.bootstrap_steps', ()))


def includeme(config):
    config.set_root_factory(root_factory)
    steps = config.registry['occi.bootstrap_steps'] = []
    if asbool(config.registry.settings.get('occi.sample_data', False)):
        steps.append(seed_sample_memberships)
    config.add_subscriber(_on_application_created, ApplicationCreated)
    config.include('.audit')
    config.include('.reports')
