"""Orders: what a member is asked to pay at the card gateway for one request,
and what the gateway answered.

One order is made for each price the member confirms; it keeps that price
(its lines, its reference number on the receipt).  The member may take it
to the gateway several times: each checkout is an attempt with its own
``transaction_uuid`` (two tabs, Back, or a new try after a declined card),
and the gateway answers each attempt with its own transaction.  One order
with many attempts, rather than an order per attempt, because the price and
the reference the member sees stay the same however often they try, and
every answer the gateway gives for that reference lands on one record.

The order moves by ``TRANSITIONS``:

- created -> pending when the member leaves for the gateway;
- pending -> declined (the card issuer said no), cancelled (the member
  cancelled at the gateway) or failed (the gateway erred): no money was
  taken and the member may try again (-> pending);
- any of those -> paid, on the first approval of any attempt, even one that
  comes after a decline of another;
- unpaid -> expired after ``PAYMENT_WINDOW``, or withdrawn when the member
  goes back to change the request (or the request is refused when the
  member presses Pay); a late approval still pays such an order (money taken
  is never left unrecorded).

A REVIEW answer says the gateway holds the attempt's payment until the
chamber decides it at the gateway: the attempt is ``under_review`` until an
answer decides it.  Meanwhile the order can be neither paid again nor
withdrawn, and waits ``REVIEW_WINDOW`` rather than ``PAYMENT_WINDOW`` before
it expires; ``Orders.in_review`` lists it, so that reconciliation keeps
asking the gateway about it (a decision made at the gateway's back office
need not be notified) whatever became of it meanwhile.

An approval for an order already paid by another transaction, or for an
order whose request no longer waits for it, is money to give back: a
``Refund`` due, kept by transaction, until an administrator records that it
was refunded.  A repeat of an answer already acted on (the browser return
after the server notification, a duplicate, a replay) is kept and changes
nothing.  An answer that does not match the order (amount, currency or an
attempt it never made) is kept and flags the order for the chamber.

Every message to and from the gateway is kept, in order, in a BTree keyed
by time with random low digits: answers often arrive together, and distinct
keys let ZODB merge concurrent additions.  A repeat writes nothing but that
BTree and the audit log, so twenty copies of one notification at once
conflict only while the first of them commits.
"""

import secrets
from datetime import timedelta
from itertools import islice

from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Deny, Everyone
from pyramid.traversal import find_root

from ..events import (
    GatewayAnswerRecorded,
    OrderStateChanged,
    PaymentReceived,
    RefundDue,
    RefundMade,
    announce,
)
from ..i18n import _
from ..money import CURRENCY, require_baisa, rials_text
from .audit import time_ordered_key
from .folder import Folder, Located
from .multi_index import file_under, filed_under, unfile
from .record_index import RecordIndex
from .services import SERVICES, service_title
from .states import StateTable
from .types import Column, content_type, made_on, portal_title, titled

ORDER_STATES = (
    'created',
    'pending',
    'declined',
    'cancelled',
    'failed',
    'paid',
    'expired',
    'withdrawn',
)
# Why an order is withdrawn when the member goes back to change the request.
BY_THE_MEMBER = 'by the member'
# The states from which an order may still be paid at the gateway.
UNPAID_STATES = ('created', 'pending', 'declined', 'cancelled', 'failed')
# Closed unpaid: a tab left at the gateway may still pay such an order.
CLOSED_UNPAID_STATES = ('expired', 'withdrawn')
# The services orders are filed under; orders made before the portal
# recorded their service have none.
ORDER_SERVICES = ('', *SERVICES)
ORDER_TRANSITIONS = {
    'created': ('pending', 'expired', 'withdrawn'),
    'pending': ('paid', 'declined', 'cancelled', 'failed', 'expired', 'withdrawn'),
    'declined': ('pending', 'paid', 'expired', 'withdrawn'),
    'cancelled': ('pending', 'paid', 'expired', 'withdrawn'),
    'failed': ('pending', 'paid', 'expired', 'withdrawn'),
    'expired': ('paid',),
    'withdrawn': ('paid',),
}
ORDER_STATE_TITLES = {
    'created': _('Created'),
    'pending': _('At the payment gateway'),
    'declined': _('Declined'),
    'cancelled': _('Cancelled'),
    'failed': _('Failed at the gateway'),
    'paid': _('Paid'),
    'expired': _('Expired unpaid'),
    'withdrawn': _('Withdrawn'),
}
# What an unsuccessful answer makes of a pending order.
UNSUCCESSFUL = {'DECLINE': 'declined', 'CANCEL': 'cancelled', 'ERROR': 'failed'}
PAYMENT_WINDOW = timedelta(minutes=90)
# How long an order whose payment the gateway holds for review waits for the decision.
REVIEW_WINDOW = timedelta(days=7)
# The answers that decide an attempt.
FINAL_DECISIONS = ('ACCEPT', *UNSUCCESSFUL)


def review_overdue(since, now):
    """Whether a review begun at ``since`` has outlasted ``REVIEW_WINDOW``."""
    return now - since > REVIEW_WINDOW


# The refund facet of an order: none, some due, all refunded.
REFUND_STATES = ('', 'due', 'refunded')
REFUND_STATE_TITLES = {
    '': _('No refund'),
    'due': _('Refund due'),
    'refunded': _('Refunded'),
}
REFUND_REASONS = {
    'paid_twice': _('This payment came after the order had already been paid.'),
    'request_not_waiting': _('The request was no longer waiting for this payment.'),
    'not_fulfilled': _('The request this payment was for could not be completed.'),
}


class Outcome:
    """What an order made of one gateway answer (``record_gateway_result``)."""

    # The approval paid the order, and its request, which was waiting for it.
    PAID = 'paid'
    # The approval is money to give back (see Refund).
    REFUND_DUE = 'refund_due'
    # An answer already acted on: kept, nothing changed.
    REPEAT = 'repeat'
    # The latest attempt was declined, cancelled or failed: no money taken.
    DECLINED = 'declined'
    CANCELLED = 'cancelled'
    FAILED = 'failed'
    # Kept, nothing to do (an older attempt's failure, an answer already acted on).
    RECORDED = 'recorded'
    # The gateway holds the attempt's payment for the chamber's review.
    IN_REVIEW = 'in_review'
    # Not this order's: kept, and the order flagged for the chamber.
    FLAGGED = 'flagged'


class Refund(Persistent):
    """Money taken for an order that the chamber must give back.

    Its own persistent object, so marking it refunded writes nothing else.
    """

    def __init__(self, transaction_id, amount_baisa, due_since, why, card_type='', card_last4=''):
        self.transaction_id = transaction_id
        self.amount_baisa = require_baisa(amount_baisa)
        self.due_since = due_since
        self.why = why
        self.card_type = card_type
        self.card_last4 = card_last4
        self.refunded_at = None
        self.refunded_by = ''
        self.note = ''

    @property
    def is_due(self):
        return self.refunded_at is None

    @property
    def reason(self):
        return REFUND_REASONS[self.why]


ORDER_COLUMNS = (
    Column(_('Service'), service_title),
    Column(_('Amount (RO)'), lambda order, lang: rials_text(order.amount_baisa)),
    Column(_('State'), titled(ORDER_STATE_TITLES, 'state')),
    Column(_('Made'), made_on),
)


@content_type('order', _('Order'))
class Order(StateTable, Located):
    """One price to pay for one service request; ``lines`` are
    ``(label_en, label_ar, amount_baisa)`` as the receipt prints them."""

    TRANSITIONS = ORDER_TRANSITIONS
    state_event = OrderStateChanged
    kind = 'order'
    # Orders stored before reviews were followed had none.
    under_review = ()
    review_since = None
    review_ended = None
    review_left_since = None
    # The attempts held when the review was left to the chamber (none kept
    # for an order left before they were).
    left_to_the_chamber = ()
    decided = ()

    def __init__(self, order_id, request_id, civil_id, lines, now, service=''):
        if now.tzinfo is None:
            raise ValueError('times are timezone-aware, got %r' % (now,))
        self.id = order_id
        self.request_id = request_id
        self.civil_id = civil_id
        self.service = service
        self.lines = tuple(
            (label_en, label_ar, _line_amount(amount)) for label_en, label_ar, amount in lines
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
        # The checkout attempts, oldest first, by transaction_uuid.
        self.transaction_uuids = ()
        self.flagged = False
        # The attempts whose payment the gateway holds for review, undecided,
        # and since the latest of them was held (the review window runs from it).
        self.under_review = ()
        self.review_since = None
        # When the last of them was decided: the member then has a payment window again.
        self.review_ended = None
        # The attempts an answer decided (approved, declined, cancelled, failed).
        self.decided = ()
        # Refunds by the gateway's transaction id.
        self.refunds = OOBTree()

    @property
    def __acl__(self):
        return [
            (Allow, self.civil_id, ('view', 'pay')),
            # The gateway is given the payer's name and contacts: the member's own.
            (Deny, Everyone, 'pay'),
            (Allow, 'role:admin', ALL_PERMISSIONS),
            DENY_ALL,
        ]

    @property
    def title(self):
        return self.id

    @property
    def service_request(self):
        """The ServiceRequest this order is for."""
        return find_root(self)['requests'].get(self.request_id)

    @property
    def facets(self):
        """What ``/orders`` filters this order by: (service, state, refund state)."""
        return (self.service, self.state, self.refund_state)

    @property
    def refund_state(self):
        """'' with no refund, 'due' while any is due, 'refunded' once all are."""
        if not self.refunds:
            return ''
        return 'due' if self.refunds_due else 'refunded'

    @property
    def refunds_due(self):
        return [refund for refund in self.refunds.values() if refund.is_due]

    @property
    def payment_refund(self):
        """The refund, due or made, of the payment its receipt is for, or None."""
        return self.refunds.get(self.transaction_id) if self.transaction_id else None

    @property
    def refund_due_baisa(self):
        return sum(refund.amount_baisa for refund in self.refunds_due)

    @property
    def refunded_baisa(self):
        return sum(refund.amount_baisa for refund in self.refunds.values() if not refund.is_due)

    @property
    def last_attempt(self):
        return self.transaction_uuids[-1] if self.transaction_uuids else None

    def is_expired(self, now):
        """Unpaid for longer than the payment window (from the end of a
        review, if it had one), or the review window while a payment is
        under review (or already marked expired)."""
        if self.state == 'expired':
            return True
        if self.state not in UNPAID_STATES:
            return False
        if self.under_review:
            return review_overdue(self.review_since, now)
        return now - (self.review_ended or self.created) > PAYMENT_WINDOW

    def is_payable(self, now):
        """Whether the member may (still, or again) take this order to the
        gateway: not while a payment of it is under review."""
        return self.state in UNPAID_STATES and not self.under_review and not self.is_expired(now)

    def moved(self, old_state):
        self._reindex((self.service, old_state, self.refund_state))
        if (
            self.state in CLOSED_UNPAID_STATES
            and self.transaction_uuids
            and isinstance(self.__parent__, Orders)
        ):
            # Asked about once its window has ended, for a day from then or
            # from its closing, if later (expired by a pass while the gateway
            # could not be asked).
            closed_at = self.history[-1][0]
            ends = max(self.created + PAYMENT_WINDOW, closed_at)
            self.__parent__.closed_unpaid.insert((ends, self.__name__))

    def _reindex(self, old_facets):
        if isinstance(self.__parent__, Orders):
            self.__parent__.restated(self, old_facets)

    def keep_gateway_message(self, fields, now):
        """Keep one message to or from the gateway, as it was."""
        self.gateway_log[time_ordered_key(now, self.gateway_log)] = (now, dict(fields))

    def has_kept(self, fields):
        """Whether this very signed message was kept already."""
        signature = fields.get('signature')
        return any(kept.get('signature') == signature for _when, kept in self.gateway_log.values())

    @property
    def gateway_messages(self):
        """Every message kept, oldest first, as ``(when, fields)``."""
        return tuple(self.gateway_log.values())

    def begin_checkout(self, transaction_uuid, fields, now, request):
        """The member leaves for the gateway with these signed fields: a new attempt."""
        if not self.is_payable(now):
            raise ValueError('order %s is %s: no checkout now' % (self.id, self.state))
        self.transaction_uuids = (*self.transaction_uuids, transaction_uuid)
        self.keep_gateway_message(fields, now)
        if self.state != 'pending':
            self.transition('pending', now, request, note=transaction_uuid)

    def record_gateway_result(self, result, now, request, channel=''):
        """Keep one signed answer of the gateway and act on it; returns the Outcome.

        However often and in whatever order the answers for this order's
        attempts come, the first approval pays the order (and its request,
        if the request waits for this order), a later approval of another
        transaction is a refund due, and everything else is kept.
        """
        self.keep_gateway_message(result.fields, now)
        outcome, why = self._act_on(result, now, request)
        announce(
            request,
            GatewayAnswerRecorded,
            subject=self,
            when=now,
            decision=result.decision,
            transaction_id=result.transaction_id or '',
            outcome=outcome,
            channel=channel,
            why=why,
        )
        return outcome

    def _act_on(self, result, now, request):
        """``(Outcome, why)`` of one answer, the order changed accordingly."""
        transaction = result.transaction_id or result.transaction_uuid or ''
        if result.accepted and (transaction == self.transaction_id or transaction in self.refunds):
            return Outcome.REPEAT, ''
        mismatch = self._mismatch(result)
        if mismatch:
            if not self.flagged:
                self.flagged = True
            return Outcome.FLAGGED, mismatch
        if result.decision == 'REVIEW':
            return self.hold_for_review(result.transaction_uuid, now), ''
        if result.decision in FINAL_DECISIONS:
            self._decided(result.transaction_uuid, now)
        if result.accepted:
            if self.state == 'paid':
                self._owe_refund(result, transaction, 'paid_twice', now, request)
                return Outcome.REFUND_DUE, ''
            self._pay(result, transaction, now, request)
            service_request = self.service_request
            if service_request is not None and service_request.payment_settled(self, now, request):
                return Outcome.PAID, ''
            self._owe_refund(result, transaction, 'request_not_waiting', now, request)
            return Outcome.REFUND_DUE, ''
        new_state = UNSUCCESSFUL.get(result.decision)
        if (
            new_state is None
            or self.state != 'pending'
            or result.transaction_uuid != self.last_attempt
        ):
            # An older attempt's answer, or one already acted on.
            return Outcome.RECORDED, ''
        self.transition(new_state, now, request, note=result.reason_code or '')
        return new_state, ''

    def hold_for_review(self, attempt, now):
        """The gateway holds ``attempt``'s payment for review: unless an
        answer decided it already (answers come in any order), it is under
        review until one does."""
        if attempt in self.under_review or attempt in self.decided:
            return Outcome.RECORDED
        if self.under_review:
            # Another attempt is held already: the window runs from this
            # hold, so that each held payment is followed for the whole of it.
            self._unlist_review()
        self.review_since = now
        if isinstance(self.__parent__, Orders):
            self.__parent__.in_review.insert((now, self.__name__))
        self.under_review = (*self.under_review, attempt)
        return Outcome.IN_REVIEW

    def _decided(self, attempt, now):
        """An answer decided ``attempt``: it is no longer under review."""
        if attempt not in self.decided:
            self.decided = (*self.decided, attempt)
        left = self.left_to_the_chamber
        if self.review_left_since is not None and (attempt in left or not left):
            self.left_to_the_chamber = tuple(held for held in left if held != attempt)
            if not self.left_to_the_chamber:
                self.review_left_since = None
        if attempt not in self.under_review:
            return
        self.under_review = tuple(held for held in self.under_review if held != attempt)
        if not self.under_review:
            self.review_ended = now
            self._unlist_review()

    def review_left_to_the_chamber(self):
        """The gateway held a payment for review longer than ``REVIEW_WINDOW``:
        no longer followed (an approval that comes still pays the order or
        is a refund due); the order says since when, for the chamber, until
        an answer decides the attempts held."""
        if self.review_left_since is None:
            self.review_left_since = self.review_since
        self.left_to_the_chamber = (*self.left_to_the_chamber, *self.under_review)
        self.under_review = ()
        self._unlist_review()

    def _unlist_review(self):
        if isinstance(self.__parent__, Orders):
            self.__parent__.review_left((self.review_since, self.__name__))
        self.review_since = None

    def _mismatch(self, result):
        """Why ``result`` is not an answer for one of this order's attempts, or ''."""
        if result.reference_number != self.id:
            return 'answer for reference %s' % result.reference_number
        if result.transaction_uuid not in self.transaction_uuids:
            return 'answer for checkout %s, not one of this order' % result.transaction_uuid
        if (result.amount_baisa, result.currency) != (self.amount_baisa, self.currency):
            return 'answer for %s %s' % (result.amount_baisa, result.currency)
        return ''

    def _pay(self, result, transaction, now, request):
        self.card_type = result.card_type
        self.card_last4 = result.card_last4
        self.transaction_id = transaction
        self.paid_at = now
        self.transition('paid', now, request, note=transaction)
        announce(
            request,
            PaymentReceived,
            subject=self,
            when=now,
            transaction_id=transaction,
            amount_baisa=self.amount_baisa,
        )

    def _owe_refund(self, paid, transaction, why, now, request):
        """``transaction`` is money to give back: of ``paid``, the gateway's
        answer or this order (its amount and card)."""
        old_facets = self.facets
        refund = self.refunds[transaction] = Refund(
            transaction,
            paid.amount_baisa,
            now,
            why,
            card_type=paid.card_type or '',
            card_last4=paid.card_last4 or '',
        )
        self._reindex(old_facets)
        announce(request, RefundDue, subject=self, when=now, refund=refund)

    def refund_payment(self, now, request):
        """The request this order paid for could not be completed: the
        payment that paid it is money to give back; returns that Refund (the
        one already due, if asked again)."""
        if self.state != 'paid':
            raise ValueError('order %s is %s: no payment to give back' % (self.id, self.state))
        if self.transaction_id not in self.refunds:
            self._owe_refund(self, self.transaction_id, 'not_fulfilled', now, request)
        return self.refunds[self.transaction_id]

    def mark_refunded(self, transaction_id, note, now, request):
        """An administrator records that the refund of ``transaction_id`` was made."""
        refund = self.refunds.get(transaction_id)
        if refund is None or not refund.is_due:
            raise ValueError('order %s: no refund due for %s' % (self.id, transaction_id))
        old_facets = self.facets
        refund.refunded_at = now
        refund.refunded_by = getattr(request, 'authenticated_userid', None) or ''
        refund.note = note
        self._reindex(old_facets)
        announce(request, RefundMade, subject=self, when=now, refund=refund)

    def withdraw(self, now, request, why=BY_THE_MEMBER):
        """The member went back to change the request, or a rule refused it
        (``why``): this order is not to be paid."""
        self.transition('withdrawn', now, request, note=why)

    @property
    def withdrawn_by_the_member(self):
        """Whether the order is withdrawn because the member went back to change the request."""
        return self.state == 'withdrawn' and self.history[-1][2] == BY_THE_MEMBER

    def expire_if_stale(self, now, request):
        """Expire an order unpaid past its window and give its request back to
        the member; True if it was."""
        if self.state not in UNPAID_STATES or not self.is_expired(now):
            return False
        self.transition('expired', now, request, note='unpaid')
        service_request = self.service_request
        if service_request is not None:
            service_request.order_released(self, now, request)
        return True


def _line_amount(amount):
    if require_baisa(amount) < 0:
        raise ValueError('an order line cannot be negative, got %r' % (amount,))
    return amount


@content_type('orders', _('Orders'), columns=ORDER_COLUMNS, label=portal_title)
class Orders(Folder):
    """``/orders`` by reference number, with ``by_request``: request id -> order ids,
    ``filter_index`` by (service, state, refund state) and time, and
    ``closed_unpaid``: (end of the payment window, or the closing if later;
    name) of the orders closed unpaid after they went to the gateway, until
    the gateway is asked about them once that window has closed
    (``closed_unpaid_to_ask``); and ``in_review``: (start of the review,
    name) of the orders with a payment the gateway holds for review
    (``in_review_to_ask``)."""

    __acl__ = [
        (Allow, 'role:admin', ALL_PERMISSIONS),
        # The orders CSV, which the revenue report is reconciled with.
        (Allow, 'role:finance', 'export'),
        (Deny, Everyone, 'view'),
    ]

    def __init__(self, title=''):
        super().__init__(title)
        self.by_request = OOBTree()
        self.filter_index = RecordIndex()
        self.closed_unpaid = OOTreeSet()
        self.in_review = OOTreeSet()

    def add(self, name, order):
        super().add(name, order)
        self.filter_index.add(order.facets, order.created, name)
        file_under(self.by_request, order.request_id, name)
        return order

    def remove(self, name):
        order = super().remove(name)
        self.filter_index.remove(order.facets, order.created, name)
        unfile(self.by_request, order.request_id, name)
        return order

    def restated(self, order, old_facets):
        """``order``'s facets were ``old_facets``: keep the filter index true."""
        if old_facets != order.facets:
            self.filter_index.remove(old_facets, order.created, order.__name__)
            self.filter_index.add(order.facets, order.created, order.__name__)

    def reindex(self):
        """Rebuild ``filter_index`` from the orders (for a schema step)."""
        self.filter_index = RecordIndex()
        for name, order in self.items():
            self.filter_index.add(order.facets, order.created, name)

    def closed_unpaid_to_ask(self, before, limit):
        """``(end of its payment window, name)`` of up to ``limit`` orders
        closed unpaid whose window ended before ``before``, the oldest first."""
        return list(islice(self.closed_unpaid.keys(max=(before,)), limit))

    def asked_after_closing(self, key):
        """The gateway said what it knows of a closed order (``key`` as
        ``closed_unpaid_to_ask`` gave it): it is not asked again."""
        if key in self.closed_unpaid:
            self.closed_unpaid.remove(key)

    def in_review_to_ask(self, limit):
        """``(since, name)`` of up to ``limit`` orders with a payment under
        review, the longest held first."""
        return list(islice(self.in_review.keys(), limit))

    def review_left(self, key):
        """The order of ``key`` (as ``in_review_to_ask`` gave it) has no
        payment under review any more."""
        if key in self.in_review:
            self.in_review.remove(key)

    def find(self, services, states, first=None, last=None, limit=200, refund_states=None):
        """Orders newest first, by service, state, refund state and creation
        time (see RecordIndex)."""
        choices = (services, states, REFUND_STATES if refund_states is None else refund_states)
        return [self[name] for name in self.filter_index.find(choices, first, last, limit)]

    def new_order(self, request_id, civil_id, lines, now, request, service=''):
        """A new order with an unguessable reference like ``OCCI-ORD-3F9A0C7E1B2D4A68``."""
        name = self._new_reference()
        order = self.add(name, Order(name, request_id, civil_id, lines, now, service=service))
        order.announce_state(now, request)
        return order

    def _new_reference(self):
        while True:
            name = 'OCCI-ORD-%s' % secrets.token_hex(8).upper()
            if name not in self:
                return name

    def for_request(self, request_id):
        """The orders of one request, oldest first."""
        orders = (self[name] for name in filed_under(self.by_request, request_id))
        return sorted(orders, key=lambda order: order.created)

    def receive_answer(self, result, now, request, channel):
        """Give a verified gateway answer to the order it names: ``(order,
        Outcome)``, or ``(None, None)`` for a reference no order has (the
        refusal is announced)."""
        order = self.get(result.reference_number or '')
        if order is None:
            # Signed by the gateway: what it says is kept, an approval above all
            # (money taken for an order of no portal sharing the merchant profile).
            amount = (
                ', amount %s %s' % (rials_text(result.amount_baisa), result.currency)
                if result.amount_baisa is not None
                else ''
            )
            self.refuse_answer(
                'unknown reference %r%s' % (result.reference_number or '', amount),
                now,
                request,
                channel,
                decision=result.decision,
                transaction_id=result.transaction_id or '',
            )
            return None, None
        return order, order.record_gateway_result(result, now, request, channel)

    def refuse_answer(self, why, now, request, channel, decision='', transaction_id=''):
        """A message at the gateway's addresses that no order may take (a bad
        signature, an unknown reference): announced, so it is audited."""
        announce(
            request,
            GatewayAnswerRecorded,
            subject=self,
            when=now,
            decision=decision,
            transaction_id=transaction_id,
            outcome=Outcome.FLAGGED,
            channel=channel,
            why=why,
        )
