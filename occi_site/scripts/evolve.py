"""occi-evolve CONFIG_URI: bring the database to the code's schema generation."""

import argparse

from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging

from ..resources import database
from ..resources.evolve import GENERATION


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config_uri', help='an ini file, e.g. production.ini')
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    # Loading the application runs any pending evolve steps in one transaction.
    with pyramid_bootstrap(args.config_uri) as env:
        conn = database(env['registry']).open()
        try:
            print(
                'database at generation %d of %d'
                % (conn.root()['occi_site'].generation, GENERATION)
            )
        finally:
            conn.close()
