"""Checkouts in progress, kept in this process only.

Each checkout is reached by a random id in its URLs; knowing the id is what
lets a browser continue it, so the id is long and unguessable. The card is held
only until the decision; afterwards the signed response keeps the masked number
(last four digits) and the card type, and nothing else of the card.
"""

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from .delivery import Delivery


@dataclass
class Card:
    """The card as typed, until the decision; left out of repr so no log can show it."""

    card_type: str
    number: str = field(repr=False)
    cvn: str = field(repr=False)
    expiry_month: str
    expiry_year: str


@dataclass
class Checkout:
    id: str
    request: dict  # the merchant's signed fields
    amount_baisa: int
    billing: dict | None = None
    card: Card | None = None
    response: dict | None = None  # the signed answer, once decided
    delivery: Delivery | None = None  # the test switch in force at the decision
    late_notification_claimed: bool = field(default=False, repr=False)

    @property
    def step(self):
        """The furthest step the payer has reached."""
        if self.response is not None:
            return 'receipt'
        if self.billing is None:
            return 'billing'
        if self.card is None:
            return 'payment'
        return 'review'


class DuplicateCheckout(Exception):
    """The merchant sent a transaction_uuid this gateway has already seen."""


class CheckoutStore:
    """Checkouts by id, the oldest forgotten beyond ``capacity``."""

    def __init__(self, capacity=1000):
        self.capacity = capacity
        self._checkouts = OrderedDict()
        self._by_uuid = {}
        self._by_reference = {}
        self._lock = threading.Lock()

    def open(self, request_fields, amount_baisa):
        uuid = request_fields['transaction_uuid']
        with self._lock:
            if uuid in self._by_uuid:
                raise DuplicateCheckout(uuid)
            checkout = Checkout(secrets.token_urlsafe(24), request_fields, amount_baisa)
            self._checkouts[checkout.id] = checkout
            self._by_uuid[uuid] = checkout.id
            self._by_reference.setdefault(request_fields['reference_number'], []).append(checkout)
            while len(self._checkouts) > self.capacity:
                _, oldest = self._checkouts.popitem(last=False)
                del self._by_uuid[oldest.request['transaction_uuid']]
                reference = oldest.request['reference_number']
                self._by_reference[reference].remove(oldest)
                if not self._by_reference[reference]:
                    del self._by_reference[reference]
        return checkout

    def get(self, checkout_id):
        with self._lock:
            return self._checkouts.get(checkout_id)

    def decided_for(self, reference_number):
        """The signed responses of the merchant's decided checkouts for one
        reference, oldest first: what a status query answers."""
        with self._lock:
            return [
                checkout.response
                for checkout in self._by_reference.get(reference_number, ())
                if checkout.response is not None
            ]

    def close(self, checkout, response, delivery):
        """Record the decision once; False if the checkout was already decided."""
        with self._lock:
            if checkout.response is not None:
                return False
            checkout.response = response
            checkout.delivery = delivery
            checkout.card = None
            return True

    def claim_late_notification(self, checkout):
        """True the first time only, so a reloaded receipt does not notify again."""
        with self._lock:
            claimed = checkout.late_notification_claimed
            checkout.late_notification_claimed = True
            return not claimed
