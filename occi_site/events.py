"""Domain events: what happened to the chamber's records, told to whoever listens.

The resources' methods hold the rules; when one of them changes something
worth knowing it announces an event through the Pyramid registry of the
request it runs in (``announce(request, EventClass, **values)``, i.e.
``request.registry.notify``).  Subscribers, registered with
``config.add_subscriber`` (or ``@subscriber`` and a scan), do the side
effects: ``resources/audit.py`` writes the audit log, ``views/notify.py``
sends the member's messages (a welcome, a notice to a replaced address ...).
They run at once, inside the same transaction, so a change that fails
leaves no audit entry and sends no message.

A method that announces takes the request only for this: its registry, and
for subscribers the person acting and the mailer.  Rules never
read anything else from it; they take ``now`` (and ``today``) explicitly.
In a script, the request is the one ``pyramid.paster.bootstrap`` gives.

Every event has ``subject`` (the object it is about), ``when`` (aware, UTC)
and ``request``; ``by`` is who acted (the logged-in person, or a name a
script gives), empty when nobody did (the gateway's server notification).

Counting a funnel from the state changes: a ServiceRequest is started
(``None`` -> ``draft``), verified (``verified``), quoted and waiting for
payment (``awaiting_payment``), paid, fulfilled, abandoned (``expired`` or
``cancelled``) or refused (``refused``, or ``failed`` when paid); each
``StateChanged`` says which service it was for.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def announce(request, event_class, **values):
    """Make an ``event_class`` event of ``values`` in ``request`` and tell its
    subscribers, through ``request.registry``; returns the event.

    ``by`` defaults to the logged-in person of ``request``, if any.
    """
    if not values.get('by'):
        values['by'] = getattr(request, 'authenticated_userid', None) or ''
    event = event_class(request=request, **values)
    request.registry.notify(event)
    return event


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    subject: Any
    when: datetime
    request: Any = field(repr=False)
    by: str = ''


@dataclass(frozen=True, kw_only=True)
class StateChanged(DomainEvent):
    """``subject`` moved from ``old_state`` (None when it was just made) to
    ``new_state``; ``note`` says why, briefly (an order id, a reason code)."""

    service: str
    old_state: str | None
    new_state: str
    note: str = ''


@dataclass(frozen=True, kw_only=True)
class RequestStateChanged(StateChanged):
    """A ServiceRequest changed state."""


@dataclass(frozen=True, kw_only=True)
class OrderStateChanged(StateChanged):
    """An Order changed state."""


@dataclass(frozen=True, kw_only=True)
class RequestFulfilled(DomainEvent):
    """A ServiceRequest was applied, once; ``certificate`` is the one issued."""

    certificate: Any


@dataclass(frozen=True, kw_only=True)
class GatewayAnswerRecorded(DomainEvent):
    """The gateway answered about an Order (``subject``); ``outcome`` is what
    the order made of it (an ``order.Outcome`` value); ``channel`` is
    ``browser`` (the member's return) or ``server`` (the notification)."""

    decision: str
    transaction_id: str
    outcome: str
    channel: str
    why: str = ''


@dataclass(frozen=True, kw_only=True)
class PaymentReceived(DomainEvent):
    """An Order (``subject``) is paid, by the approval ``transaction_id``."""

    transaction_id: str
    amount_baisa: int


@dataclass(frozen=True, kw_only=True)
class RefundDue(DomainEvent):
    """Money taken for an Order (``subject``) that it cannot keep: ``refund``
    (an ``order.Refund``) says how much, for which transaction and why."""

    refund: Any


@dataclass(frozen=True, kw_only=True)
class RefundMade(DomainEvent):
    """An administrator (``by``) recorded that ``refund`` was given back."""

    refund: Any


@dataclass(frozen=True, kw_only=True)
class MembershipChanged(DomainEvent):
    """A company's (``subject``) membership changed: ``changes`` maps each
    field changed to ``(old, new)``; a new membership has no old values."""

    changes: dict


@dataclass(frozen=True, kw_only=True)
class AccountRegistered(DomainEvent):
    """A person finished registering, their civil ID proven at the PKI: the
    account (``subject``) is theirs, new or from before such proofs."""


@dataclass(frozen=True, kw_only=True)
class ContactChanged(DomainEvent):
    """A member (``subject``) replaced the e-mail address or mobile number
    (``channel``) ``old`` with a proven one."""

    channel: str
    old: str
