"""Orders: what a member is asked to pay at the card gateway for one request.

An order goes created -> pending (the member is at the gateway) -> paid,
declined, cancelled or expired (unpaid 90 minutes after it was made).  Every
message exchanged with the gateway is kept, in order, in a BTree keyed by
time with random low digits: the gateway's notification and the member's
return often arrive together, and distinct keys let ZODB merge both
additions where a shared list would make one of them conflict.  A gateway
approval is recorded even on an order the portal had already expired or
cancelled: money taken is never left unrecorded.
"""

import secrets
from datetime import timedelta

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Deny, Everyone

from ..i18n import _
from .audit import time_ordered_key
from .folder import Folder
from .record_index import RecordIndex

STATES = ('created', 'pending', 'paid', 'declined', 'cancelled', 'expired')
TRANSITIONS = {
    'created': ('pending', 'cancelled', 'expired'),
    'pending': ('paid', 'declined', 'cancelled', 'expired'),
    'cancelled': ('paid',),
    'expired': ('paid',),
}
STATE_TITLES = {
    'created': _('Created'),
    'pending': _('At the payment gateway'),
    'paid': _('Paid'),
    'declined': _('Declined'),
    'cancelled': _('Cancelled'),
    'expired': _('Expired unpaid'),
}
UNPAID_STATES = ('created', 'pending')
PAYMENT_WINDOW = timedelta(minutes=90)
CURRENCY = 'OMR'


class PaymentMismatch(Exception):
    """A gateway answer whose amount, currency or transaction is not this order's."""


def _require_baisa(amount):
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError('amounts are whole, non-negative baisa, got %r' % (amount,))
    return amount


class Order(Persistent):
    """One payment for one service request; ``lines`` are
    ``(label_en, label_ar, amount_baisa)`` as the receipt prints them."""

    __name__ = None
    __parent__ = None

    def __init__(self, order_id, request_id, civil_id, lines, now, service=''):
        if now.tzinfo is None:
            raise ValueError('times are timezone-aware, got %r' % (now,))
        self.id = order_id
        self.request_id = request_id
        self.civil_id = civil_id
        self.service = service
        self.lines = tuple(
            (label_en, label_ar, _require_baisa(amount)) for label_en, label_ar, amount in lines
        )
        self.amount_baisa = sum(amount for _en, _ar, amount in self.lines)
        if not self.amount_baisa:
            raise ValueError('order %s: nothing to pay' % order_id)
        self.currency = CURRENCY
        self.created = now
        self.state = 'created'
        self.history = ((now, 'created', ''),)
        self.gateway_log = LOBTree()
        self.card_type = None
        self.card_last4 = None
        self.transaction_id = None
        self.paid_at = None
        self.transaction_uuids = ()
        self.flagged = False

    @property
    def __acl__(self):
        return [
            (Allow, self.civil_id, 'view'),
            (Allow, 'role:admin', ALL_PERMISSIONS),
            DENY_ALL,
        ]

    @property
    def title(self):
        return self.id

    def transition(self, new_state, now, note=''):
        """Move to ``new_state``, or ValueError if the flow does not allow it."""
        if new_state not in TRANSITIONS.get(self.state, ()):
            raise ValueError('order %s: %s -> %s is not allowed' % (self.id, self.state, new_state))
        old_state, self.state = self.state, new_state
        self.history = (*self.history, (now, new_state, note))
        if isinstance(self.__parent__, Orders):
            self.__parent__.restated(self, old_state)

    def keep_gateway_message(self, fields, now):
        """Keep one message to or from the gateway, as it was."""
        self.gateway_log[time_ordered_key(now, self.gateway_log)] = (now, dict(fields))

    @property
    def gateway_messages(self):
        """Every message kept, oldest first, as ``(when, fields)``."""
        return tuple(self.gateway_log.values())

    def begin_checkout(self, transaction_uuid, fields, now):
        """The member leaves for the gateway with these signed fields."""
        self.transaction_uuids = (*self.transaction_uuids, transaction_uuid)
        self.keep_gateway_message(fields, now)
        if self.state == 'created':
            self.transition('pending', now, note=transaction_uuid)

    def record_gateway_result(self, result, now):
        """Record one signed answer of the gateway; True if it changed the order.

        Only the first answer for a checkout acts: a repeat (the browser
        return after the server notification, a duplicate, a replay) is kept
        and changes nothing.  An answer for another amount, currency or
        checkout is kept, flags the order and raises PaymentMismatch.
        """
        self.keep_gateway_message(result.fields, now)
        if (
            result.amount_baisa != self.amount_baisa
            or result.currency != self.currency
            or result.transaction_uuid not in self.transaction_uuids
        ):
            self.flagged = True
            raise PaymentMismatch(
                'order %s: answer for %s %s, checkout %s'
                % (self.id, result.amount_baisa, result.currency, result.transaction_uuid)
            )
        if result.accepted:
            if self.state == 'paid':
                return False
            self.card_type = result.card_type
            self.card_last4 = result.card_last4
            self.transaction_id = result.transaction_id
            self.paid_at = now
            self.transition('paid', now, note=result.transaction_id or '')
            return True
        if self.state != 'pending':
            return False
        if result.decision in ('DECLINE', 'ERROR'):
            self.transition('declined', now, note=result.reason_code or '')
            return True
        if result.decision == 'CANCEL':
            self.transition('cancelled', now)
            return True
        # REVIEW: the gateway decides later; the order stays pending.
        return False

    def is_expired(self, now):
        """Unpaid for longer than the payment window (or already marked expired)."""
        if self.state == 'expired':
            return True
        return self.state in UNPAID_STATES and now - self.created > PAYMENT_WINDOW

    def expire_if_stale(self, now):
        if self.state in UNPAID_STATES and self.is_expired(now):
            self.transition('expired', now, note='unpaid')
            return True
        return False


class Orders(Folder):
    """``/orders`` by reference number, with ``by_request``: request id -> order ids."""

    __acl__ = [
        (Allow, 'role:admin', ALL_PERMISSIONS),
        (Deny, Everyone, 'view'),
    ]

    def __init__(self, title=''):
        super().__init__(title)
        self.by_request = OOBTree()
        self.filter_index = RecordIndex()

    def add(self, name, order):
        super().add(name, order)
        self.filter_index.add((order.service, order.state), order.created, name)
        ids = self.by_request.get(order.request_id)
        if ids is None:
            ids = self.by_request[order.request_id] = OOTreeSet()
        ids.insert(name)
        return order

    def remove(self, name):
        order = super().remove(name)
        self.filter_index.remove((order.service, order.state), order.created, name)
        ids = self.by_request.get(order.request_id)
        if ids is not None and name in ids:
            ids.remove(name)
        return order

    def restated(self, order, old_state):
        """``order`` moved from ``old_state``: keep the filter index true."""
        self.filter_index.remove((order.service, old_state), order.created, order.__name__)
        self.filter_index.add((order.service, order.state), order.created, order.__name__)

    def find(self, services, states, first=None, last=None, limit=200):
        """Orders newest first, by service, state and creation time (see RecordIndex)."""
        return [
            self[name] for name in self.filter_index.find((services, states), first, last, limit)
        ]

    def new_order(self, request_id, civil_id, lines, now, service=''):
        """A new order with an unguessable reference like ``OCCI-ORD-3F9A0C7E1B2D4A68``."""
        name = self._new_reference()
        return self.add(name, Order(name, request_id, civil_id, lines, now, service=service))

    def _new_reference(self):
        while True:
            name = 'OCCI-ORD-%s' % secrets.token_hex(8).upper()
            if name not in self:
                return name

    def for_request(self, request_id):
        """The orders of one request, oldest first."""
        orders = (self[name] for name in self.by_request.get(request_id, ()))
        return sorted(orders, key=lambda order: order.created)
