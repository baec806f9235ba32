"""occi-reconcile CONFIG_URI [--after MINUTES] [--every SECONDS]: ask the card
gateway about the orders still unpaid MINUTES (default 15) after they were
made, and settle each through the same path as the gateway's notification.

The gateway answers the portal twice, through the member's browser and
server to server; when both are lost (a server killed mid-request, a network
fault) nothing else would ever ask again.  Orders the gateway has no decision
for stay as they are until their payment window closes, then expire.  Run it
every few minutes (a systemd timer), or with ``--every`` as a worker.
"""

import argparse
import logging
import sys
import time
from datetime import timedelta

from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging
from pyramid.scripting import prepare

from ..integrations.payment import PaymentQueryError, PaymentResponseError
from ..resources import database
from ..resources.order import UNPAID_STATES
from ..resources.services import SERVICES
from ..views.payment import release_expired, settle

log = logging.getLogger(__name__)

# Orders made before the portal recorded their service have none.
ORDER_SERVICES = ('', *SERVICES)


def unsettled_orders(site, before, limit):
    """Names of the unpaid orders made before ``before``, oldest last."""
    return [
        order.id
        for order in site['orders'].find(ORDER_SERVICES, UNPAID_STATES, last=before, limit=limit)
    ]


def reconcile(request, after, limit=1000, out=sys.stdout):
    """One pass; returns ``{final state: count}`` of the orders looked at.

    Each order is settled in a transaction of its own, retried on a conflict
    (with its notification arriving at that very moment, say).
    """
    tm, site = request.tm, request.root
    with tm:
        names = unsettled_orders(site, request.now - after, limit)
        checkouts = {name: bool(site['orders'][name].transaction_uuids) for name in names}
    outcome = {}
    for name in names:
        results = []
        if checkouts[name]:
            try:
                results = request.payment_gateway.transactions(name)
            except (PaymentQueryError, PaymentResponseError) as error:
                log.error('order %s: the gateway could not say: %s', name, error)
                outcome['unanswered'] = outcome.get('unanswered', 0) + 1
                continue
        for attempt in tm.attempts(5):
            with attempt:
                tm.get().note('occi-reconcile: %s' % name)
                order = site['orders'][name]
                for result in results:
                    settle(request, order, result, 'reconciliation')
                release_expired(request, order)
                state = order.state
        outcome[state] = outcome.get(state, 0) + 1
        if state not in UNPAID_STATES:
            out.write('%s: %s\n' % (name, state))
    return outcome


def main(argv=None):
    parser = argparse.ArgumentParser(prog='occi-reconcile', description=__doc__.split('\n\n')[0])
    parser.add_argument('config_uri', help='the portal application, e.g. production.ini#portal')
    parser.add_argument(
        '--after', type=float, default=15, help='minutes an order is left unpaid (default 15)'
    )
    parser.add_argument(
        '--every', type=float, help='run again every so many seconds, as a worker, until stopped'
    )
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    with pyramid_bootstrap(args.config_uri) as env:
        registry = env['registry']
    try:
        return run(registry, timedelta(minutes=args.after), args.every)
    finally:
        database(registry).close()


def run(registry, after, every):
    while True:
        # Each pass is a request of its own: its own time, its own connection.
        with prepare(registry=registry) as env:
            request = env['request']
            # What the router gives a view: the settlement reads the site from the request.
            request.root = env['root']
            outcome = reconcile(request, after)
        print(
            'orders looked at: %s'
            % (', '.join('%d %s' % (n, state) for state, n in sorted(outcome.items())) or 'none'),
            flush=True,
        )
        if every is None:
            return 0
        time.sleep(every)
