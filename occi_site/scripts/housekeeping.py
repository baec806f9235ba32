"""occi-housekeeping CONFIG_URI: the chamber's daily tidying of what members
left half-done.

- Orders still unpaid when their payment window has closed get one
  reconciliation pass: the gateway is asked about those that went to it,
  an approval it reports pays its order, and the rest expire; orders
  closed unpaid after they went to the gateway are asked about once
  (``occi_site/reconciliation.py``; occi-reconcile runs the same passes
  every few minutes, this one catches what they left).
- Service requests left open (waiting for personal verification or for
  confirmation) for more than a day expire as abandoned, a batch per
  transaction, oldest first (``ServiceRequests.expire_stale``).

Run it daily on one host (``deploy/occi-housekeeping.timer``).
"""

import argparse

from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging
from pyramid.scripting import prepare

from ..reconciliation import Reconciler
from ..resources import database
from ..resources.order import PAYMENT_WINDOW, UNPAID_STATES

BATCH = 500
TRIES = 5


def expire_abandoned_requests(registry, batch=BATCH):
    """Expire the service requests abandoned for more than a day; returns how many."""
    expired = 0
    while True:
        with prepare(registry=registry) as env:
            request = env['request']
            # What the router gives a view: announcements read the site from the request.
            request.root = env['root']
            for attempt in request.tm.attempts(TRIES):
                with attempt:
                    request.tm.get().note('occi-housekeeping: abandoned service requests')
                    done = request.root['requests'].expire_stale(request.now, request, limit=batch)
        expired += done
        if done < batch:
            return expired


def housekeep(registry):
    """One day's tidying: ``(orders looked at, orders left unpaid, requests expired)``.

    Orders first: an order that expires gives its request back to the
    member, and a request abandoned that long then expires too.
    """
    states = Reconciler(registry, PAYMENT_WINDOW).run_once()
    unpaid = sum(state in UNPAID_STATES for state in states.values())
    return len(states), unpaid, expire_abandoned_requests(registry)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='occi-housekeeping', description=__doc__.split('\n\n')[0])
    parser.add_argument('config_uri', help='the portal application, e.g. production.ini#portal')
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    with pyramid_bootstrap(args.config_uri) as env:
        registry = env['registry']
    try:
        looked_at, unpaid, expired = housekeep(registry)
        print(
            'orders past their payment window: %d looked at, %d left unpaid' % (looked_at, unpaid)
        )
        print('abandoned service requests expired: %d' % expired)
        return 0
    finally:
        database(registry).close()
