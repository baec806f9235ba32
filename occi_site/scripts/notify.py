"""occi-notify CONFIG_URI [--once] [--interval SECONDS]: deliver the queued
e-mail and SMS, retrying transient failures with a growing pause for a day.

Runs until stopped (SIGTERM or Ctrl-C), waking when the next notification
falls due and at least every ``--interval`` seconds to see what other
servers queued.  Any app server may run it, and several at once: each
notification is claimed in a transaction of its own, and only one claim
commits.  With ``--once`` it delivers what is due and exits.

It needs a database other processes can open too (RelStorage or ZEO); on
development.ini's FileStorage the portal runs the same worker in a thread.
"""

import argparse
import signal
import threading

from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging

from ..resources import database


def main(argv=None):
    parser = argparse.ArgumentParser(prog='occi-notify', description=__doc__.split('\n\n')[0])
    parser.add_argument('config_uri', help='the portal application, e.g. production.ini#main')
    parser.add_argument('--once', action='store_true', help='deliver what is due, then exit')
    parser.add_argument(
        '--interval',
        type=float,
        default=None,
        help='seconds between looks at the queue (default: occi.notify.interval, else 5)',
    )
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    with pyramid_bootstrap(args.config_uri) as env:
        registry = env['registry']
    worker = registry.occi_worker
    try:
        if args.once:
            print('%d notifications handled' % worker.run_once())
            return 0
        interval = args.interval or float(registry.settings.get('occi.notify.interval', 5))
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        worker.run(stop, interval)
        return 0
    finally:
        database(registry).close()
