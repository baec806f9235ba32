"""A company's statement of account: what it was charged, what it paid, what
the chamber owes back, and what it owes, in date order with a running balance.

The balance is what the company owes the chamber (negative: what the
chamber owes it).  The entries:

- each order paid and kept: the charge (its whole price, the old debit it
  collected included) when it was made, and the card payment when it was paid;
- each approval the chamber cannot keep (a second payment of an order, or a
  payment for a request no longer waiting for it): the card payment, a
  refund due, and once made the refund, which brings the balance back;
- each order never paid (expired, withdrawn, or still waiting): listed with
  its amount, outside the balance, for nothing was owed by it;
- what the membership owes today: the debits the chamber recorded (those not
  dated, from its earlier records, brought forward) and each unpaid year since
  expiry at the annual fee of the grade.  A renewal collects them: it clears
  the debit and moves the expiry, and its order's charge then holds them.

The company's requests are found through ``ServiceRequests.by_company`` and
their orders through ``Orders.by_request``: a statement reads only its own
company's records.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from pyramid.i18n import TranslationString
from pyramid.traversal import find_root

from ..clock import OMAN
from ..i18n import _
from .company import GRADE_TITLES, GRADES, add_years
from .order import ORDER_STATE_TITLES
from .services import SERVICES


@dataclass(frozen=True)
class Entry:
    """One line of a statement; ``when`` is None for what is brought forward.

    ``text`` is a TranslationString whose mapping may hold TranslationStrings
    and dates (``i18n.translate_all`` puts them in the reader's language); ``noted_baisa`` an
    amount the line tells of outside the balance (an unpaid order, a refund due).
    """

    when: datetime | None
    text: TranslationString
    reference: str = ''
    debit_baisa: int = 0
    credit_baisa: int = 0
    noted_baisa: int = 0
    balance_baisa: int = 0


@dataclass(frozen=True)
class Statement:
    company: object
    today: date
    entries: tuple

    @property
    def balance_baisa(self):
        return self.entries[-1].balance_baisa if self.entries else 0


def start_of(day):
    return datetime.combine(day, time.min, OMAN)


def _service_title(name):
    service = SERVICES.get(name)
    return service.title if service is not None else name


def _card(order_or_refund):
    return ' '.join(filter(None, (order_or_refund.card_type, order_or_refund.card_last4)))


def _order_entries(order):
    """The entries of one order (see the module's docstring)."""
    service = _service_title(order.service)
    if order.paid_at is None:
        yield Entry(
            order.created,
            _(
                '${service}: order not paid (${state})',
                mapping={'service': service, 'state': ORDER_STATE_TITLES[order.state]},
            ),
            order.id,
            noted_baisa=order.amount_baisa,
        )
        return
    kept = order.transaction_id not in order.refunds
    if kept:
        yield Entry(
            order.created,
            _('${service}: order', mapping={'service': service}),
            order.id,
            debit_baisa=order.amount_baisa,
        )
    yield Entry(
        order.paid_at,
        _('Card payment (${card})', mapping={'card': _card(order)}),
        order.transaction_id or '',
        credit_baisa=order.amount_baisa,
    )
    for refund in order.refunds.values():
        if refund.transaction_id != order.transaction_id:
            yield Entry(
                refund.due_since,
                _('Card payment (${card})', mapping={'card': _card(refund)}),
                refund.transaction_id,
                credit_baisa=refund.amount_baisa,
            )
        yield Entry(
            refund.due_since,
            _('Refund due: ${reason}', mapping={'reason': refund.reason}),
            refund.transaction_id,
            noted_baisa=refund.amount_baisa,
        )
        if not refund.is_due:
            yield Entry(
                refund.refunded_at,
                _('Refund made to the card'),
                refund.transaction_id,
                debit_baisa=refund.amount_baisa,
            )


def _membership_entries(membership, today, fees):
    brought_forward, debits = membership.debits_owed()
    if brought_forward:
        yield Entry(
            None, _("Debit brought forward from the chamber's records"), debit_baisa=brought_forward
        )
    for when, amount, reason in debits:
        yield Entry(
            when,
            _('Debit recorded by the chamber: ${reason}', mapping={'reason': reason}),
            debit_baisa=amount,
        )
    if membership.grade not in GRADES:
        return
    annual = fees.annual_fee(membership.grade)
    for year in range(1, membership.arrears_years(today) + 1):
        first = add_years(membership.expires_on, year - 1) + timedelta(days=1)
        last = add_years(membership.expires_on, year)
        yield Entry(
            start_of(first),
            _(
                'Membership from ${first} to ${last}, unpaid (${grade} grade)',
                mapping={'first': first, 'last': last, 'grade': GRADE_TITLES[membership.grade]},
            ),
            membership.occi_number,
            debit_baisa=annual,
        )


def _sort_key(entry):
    # What is brought forward comes first.
    return (entry.when is not None, entry.when or datetime.min.replace(tzinfo=OMAN))


def statement_of(company, today):
    """The statement of ``company`` on ``today`` (its date in Oman)."""
    site = find_root(company)
    orders = site['orders']
    entries = []
    for service_request in site['requests'].for_company(company.cr_number):
        for order in orders.for_request(service_request.id):
            entries.extend(_order_entries(order))
    membership = company.membership
    if membership is not None:
        entries.extend(_membership_entries(membership, today, site['settings'].fees))
    entries.sort(key=_sort_key)
    balance, kept = 0, []
    for entry in entries:
        balance += entry.debit_baisa - entry.credit_baisa
        kept.append(replace(entry, balance_baisa=balance))
    return Statement(company, today, tuple(kept))
