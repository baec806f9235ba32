"""Reconciliation: asking the card gateway about orders whose answers never came.

The gateway answers the portal twice, through the member's browser and
server to server; when both are lost (a server killed mid-request, a network
fault) nothing but these passes (and an administrator's "Ask the gateway
now" on the order's Payment tab) would ask again.  A pass takes the orders
still unpaid some minutes after they were made, asks the gateway by
reference number what it decided (the status query) and gives each answer
not yet kept to the order through the path a notification takes; orders the
gateway has no decision for stay as they are until their payment window
closes, then expire.  An order closed unpaid after it went to the gateway
(expired, or withdrawn) may still be paid in a tab left at the gateway: a
pass asks about it once, after its payment window has closed.  An order with
a payment the gateway holds for review (``Order.under_review``) is asked
about on every pass, whatever its state, until an answer decides the payment
or ``REVIEW_WINDOW`` has passed (then it is left to the chamber, logged): the
chamber may decide it at the gateway's back office, which need not notify
the portal.  A pass also completes the
requests left paid but not completed because the commercial registry did
not answer when their payment came.

``occi.reconcile.mode`` says who runs the passes:

- ``worker`` (production): the ``occi-reconcile`` console script, on one
  host, from a timer or with ``--every`` as a worker;
- ``thread``: a thread of the portal process, every
  ``occi.reconcile.every`` seconds (development: a FileStorage opens in one
  process only).

``occi.reconcile.after`` is the minutes an order is left unpaid before the
gateway is asked (default 15).
"""

import logging
from datetime import timedelta

from pyramid.scripting import prepare

from .delivery import thread_of_the_portal, worker_mode
from .integrations.payment import PaymentQueryError, PaymentResponseError
from .resources.order import ORDER_SERVICES, UNPAID_STATES, review_overdue
from .resources.services import SERVICES
from .views.fulfilment import complete_paid_request
from .views.payment import settle_results

log = logging.getLogger(__name__)

MODES = ('worker', 'thread')
CHANNEL = 'reconciliation'
SETTLE_TRIES = 5
# How long an order closed unpaid is asked about while the gateway cannot say.
CLOSED_ASKED_FOR = timedelta(days=1)


def unsettled_orders(site, before, limit):
    """``{name: whether it went to the gateway}`` of the unpaid orders made before ``before``."""
    return {
        order.id: bool(order.transaction_uuids)
        for order in site['orders'].find(ORDER_SERVICES, UNPAID_STATES, last=before, limit=limit)
    }


def reconcile(request, after, limit=1000):
    """One pass over the orders unpaid for longer than ``after``, those
    with a payment held for review, and those closed unpaid whose payment
    window ended longer than ``after`` ago; returns ``{order name: its state
    after the pass}`` (of a held or closed order, only where the gateway
    approved a payment).

    Each order is settled in a transaction of its own, retried on a conflict
    (with its notification arriving at that very moment, say); one that
    still fails is logged and left for the next pass.  A closed order the
    gateway could not be asked about for ``CLOSED_ASKED_FOR``, and a payment
    held for review longer than ``REVIEW_WINDOW``, are left to the chamber,
    logged.
    """
    tm, site = request.tm, request.root
    before = request.now - after
    with tm:
        orders = unsettled_orders(site, before, limit)
        closed = site['orders'].closed_unpaid_to_ask(before, limit)
        in_review = site['orders'].in_review_to_ask(limit)
    states = {}
    for name, checked_out in orders.items():
        state = _settle(request, name, checked_out)
        if state is not None:
            states[name] = state
    for key in in_review:
        since, name = key
        if name not in orders:
            state = _settle(request, name, True)
            if state == 'paid':
                states[name] = state
        if review_overdue(since, request.now):
            _leave_review_to_the_chamber(request, key)
    for key in closed:
        ended, name = key
        state = _settle(request, name, True, closed_key=key)
        if state == 'paid':
            states[name] = state
        elif state is None and ended < request.now - CLOSED_ASKED_FOR:
            _leave_to_the_chamber(request, key)
    completed = [
        name
        for name, state in complete_paid_requests(request, limit).items()
        if state == 'fulfilled'
    ]
    if completed:
        log.info('completed after their payment: %s', ', '.join(sorted(completed)))
    return states


def _settle(request, name, checked_out, closed_key=None):
    """Give the order ``name`` the gateway's answers not yet kept (if it went
    to the gateway) and expire it if its window closed; an order closed
    unpaid (``closed_key``) is not asked again once the gateway has answered.
    Returns the order's state, or None where the gateway could not say or
    the settlement failed (the order is left for the next pass).

    An order past its window expires even when the gateway could not say,
    as the member's own page expires it: closed unpaid, it is asked about
    again on the next passes (``closed_unpaid``)."""
    tm, site = request.tm, request.root
    results, answered = [], True
    if checked_out:
        try:
            results = request.payment_gateway.transactions(name)
        except (PaymentQueryError, PaymentResponseError) as error:
            log.error('order %s: the gateway could not say: %s', name, error)
            answered = False
    try:
        for attempt in tm.attempts(SETTLE_TRIES):
            with attempt:
                tm.get().note('reconciliation: %s' % name)
                order = site['orders'][name]
                settle_results(request, order, results, CHANNEL)
                order.expire_if_stale(request.now, request)
                if closed_key is not None and answered:
                    site['orders'].asked_after_closing(closed_key)
                state = order.state
    except Exception:
        # Left for the next pass; the orders after it are not held back.
        log.exception('order %s: its settlement failed', name)
        return None
    return state if answered else None


def _leave_to_the_chamber(request, key):
    """Stop asking about a closed order the gateway could not be asked about."""
    tm = request.tm
    for attempt in tm.attempts(SETTLE_TRIES):
        with attempt:
            tm.get().note('reconciliation: %s left to the chamber' % key[1])
            request.root['orders'].asked_after_closing(key)
    log.error(
        'order %s: closed unpaid, and the gateway could not say for a day whether a tab '
        'left at it paid it: look the order up at the gateway, or press Ask the gateway now '
        "on the order's Payment tab",
        key[1],
    )


def _leave_review_to_the_chamber(request, key):
    """Stop asking about an order whose payment the gateway has held for
    review longer than ``REVIEW_WINDOW``, unless decided meanwhile."""
    tm, orders = request.tm, request.root['orders']
    for attempt in tm.attempts(SETTLE_TRIES):
        with attempt:
            if key not in orders.in_review:
                return
            tm.get().note('reconciliation: %s left to the chamber' % key[1])
            orders[key[1]].review_left_to_the_chamber()
    log.error(
        'order %s: the gateway has held a payment of it for review since %s, undecided: '
        "decide it at the gateway, then press Ask the gateway now on the order's Payment tab",
        key[1],
        key[0].isoformat(),
    )


def complete_paid_requests(request, limit=1000):
    """The requests paid but not completed (the commercial registry did not
    answer when their payment came), completed where it answers now; returns
    ``{request name: its state after the pass}``.  The first the registry
    still does not answer for ends the pass (the others would wait as long
    for it); one that fails otherwise, or whose company's record the registry
    answers but the portal cannot use, is logged and left for the next."""
    tm, requests = request.tm, request.root['requests']
    with tm:
        names = [paid.__name__ for paid in requests.find(SERVICES, ('paid',), limit=limit)]
    states = {}
    for name in names:
        try:
            for attempt in tm.attempts(SETTLE_TRIES):
                with attempt:
                    tm.get().note('reconciliation: completing %s' % name)
                    service_request = requests[name]
                    answered = service_request.state != 'paid' or complete_paid_request(
                        request, service_request
                    )
                    states[name] = service_request.state
        except Exception:
            log.exception('paid request %s: its completion failed', name)
            continue
        if not answered:
            break
    return states


class Reconciler:
    """Passes of ``reconcile`` with the application of ``registry``."""

    def __init__(self, registry, after):
        self.registry = registry
        self.after = after

    def run_once(self):
        """One pass, as a request of its own: its own time, its own connection."""
        with prepare(registry=self.registry) as env:
            request = env['request']
            # What the router gives a view: the settlement reads the site from the request.
            request.root = env['root']
            return reconcile(request, self.after)

    def run(self, stop, interval, wake=None):
        """Passes every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                settled = {
                    name: state
                    for name, state in self.run_once().items()
                    if state not in UNPAID_STATES
                }
                if settled:
                    log.info('reconciled: %s', ', '.join(sorted(settled)))
            except Exception:
                log.exception('reconciliation: a pass failed')
            (wake or stop).wait(interval)
            if wake is not None:
                wake.clear()


def includeme(config):
    registry = config.registry
    settings = registry.settings
    mode = worker_mode(settings, 'occi.reconcile.mode', MODES)
    registry.occi_reconciler = Reconciler(
        registry, timedelta(minutes=float(settings.get('occi.reconcile.after', 15)))
    )
    if mode == 'thread':
        registry.occi_reconcile_thread = thread_of_the_portal(
            config,
            registry.occi_reconciler,
            float(settings.get('occi.reconcile.every', 300)),
            'occi-reconcile',
        )
