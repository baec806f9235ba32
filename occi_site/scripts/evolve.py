"""occi-evolve CONFIG_URI: create the storage's schema and the site if they are
not there yet, and bring the database to the code's schema generation.

Run it once before the app servers start on a new database, and once on each
upgrade before they are restarted (they wait for it when their settings say
``occi.startup.evolve = false``).  Safe to repeat, and to run while servers
are up.
"""

import argparse

from pyramid.paster import get_appsettings, setup_logging

import occi_site

from ..resources import ROOT_KEY, database
from ..resources.evolve import GENERATION


def main(argv=None):
    parser = argparse.ArgumentParser(prog='occi-evolve', description=__doc__.split('\n\n')[0])
    parser.add_argument('config_uri', help='the portal application, e.g. production.ini')
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    settings = get_appsettings(args.config_uri)
    # This is the process that evolves, whatever the servers are told.
    settings['occi.startup.evolve'] = 'true'
    app = occi_site.main(settings.global_conf, **settings)
    db = database(app.registry)
    conn = db.open()
    try:
        generation = conn.root()[ROOT_KEY].generation
    finally:
        conn.close()
        db.close()
    print('database at generation %d of %d' % (generation, GENERATION))
    return 0
