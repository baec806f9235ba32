"""occi-reconcile CONFIG_URI [--after MINUTES] [--every SECONDS]: ask the card
gateway about the orders still unpaid MINUTES (default: occi.reconcile.after,
else 15) after they were made, and settle each through the same path as the
gateway's notification; ask once about each order closed unpaid after it
went to the gateway (expired, or withdrawn), MINUTES after its
payment window ended; ask on every run about each order with a payment the
gateway holds for review, until it is decided (for up to seven days);
complete the requests paid while the commercial registry did not answer.

Run it every few minutes on one host (a systemd timer), or with ``--every``
as a worker; see ``occi_site/reconciliation.py``.  On development.ini's
FileStorage the portal runs the same passes in a thread.
"""

import argparse
import signal
import threading
from datetime import timedelta

from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging

from ..reconciliation import Reconciler
from ..resources import database
from ..resources.order import UNPAID_STATES


class Printed(Reconciler):
    """Passes that print what each settled."""

    def run_once(self):
        states = super().run_once()
        for name, state in states.items():
            if state not in UNPAID_STATES:
                print('%s: %s' % (name, state), flush=True)
        print('orders looked at: %d' % len(states), flush=True)
        return states


def main(argv=None):
    parser = argparse.ArgumentParser(prog='occi-reconcile', description=__doc__.split('\n\n')[0])
    parser.add_argument('config_uri', help='the portal application, e.g. production.ini#portal')
    parser.add_argument('--after', type=float, help='minutes an order is left unpaid')
    parser.add_argument(
        '--every', type=float, help='run again every so many seconds, as a worker, until stopped'
    )
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    with pyramid_bootstrap(args.config_uri) as env:
        registry = env['registry']
    after = registry.occi_reconciler.after if args.after is None else timedelta(minutes=args.after)
    reconciler = Printed(registry, after)
    try:
        if args.every is None:
            reconciler.run_once()
        else:
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            reconciler.run(stop, args.every)
        return 0
    finally:
        database(registry).close()
