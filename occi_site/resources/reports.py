"""The chamber's reports: the figures, from tallies kept on every change.

``/reports`` holds two DayTallies (``tally.py``), kept by subscribers to the
domain events as the changes happen:

- ``revenue``, on the day (in Oman) money moved, by ``(service, measure)``:
  ``received``, every approval the chamber kept or owes back, in baisa;
  ``refunds``, the approvals it owes back (counted when found due, whether
  refunded since or not); ``refunded``, refunds made.  Net revenue is
  received less refunds: an order paid once counts its amount, an order paid
  twice its amount once, an approval for an order no longer waited for nothing.
- ``funnel``, on the day a service request was started, by ``(service,
  stage)``: how many requests started that day reached each stage (see
  ``funnel_stages``), so a period's funnel follows the requests started in it.

The memberships' figures come from the tallies ``Companies`` keeps on their
expiry dates and joining days: whether a membership is expired or expiring
depends on the day asked about, so it is summed over dates then, never stored.

Every figure is read from tallies of the period asked about: the cost of a
report does not grow with the number of companies, orders or requests.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from pyramid.traversal import find_root

from ..clock import OMAN
from ..events import PaymentReceived, RefundDue, RefundMade, RequestStateChanged
from ..i18n import _
from .company import GRADES
from .folder import Located
from .services import SERVICES
from .tally import DayTally, months_between
from .types import content_type, portal_title

MEASURES = ('received', 'refunds', 'refunded')
STAGES = ('started', 'verified', 'quoted', 'paid', 'fulfilled', 'abandoned', 'refused')
STAGE_TITLES = {
    'started': _('Started'),
    'verified': _('Verified'),
    'quoted': _('Price confirmed'),
    'paid': _('Paid'),
    'fulfilled': _('Fulfilled'),
    'abandoned': _('Abandoned'),
    'refused': _('Refused'),
}
STATUSES = ('expired', 'within_30', 'within_60', 'within_90', 'valid')
STATUS_TITLES = {
    'expired': _('Expired'),
    'within_30': _('Expiring within 30 days'),
    'within_60': _('Expiring in 31 to 60 days'),
    'within_90': _('Expiring in 61 to 90 days'),
    'valid': _('Valid for more than 90 days'),
}
# Each status's days from the day asked about: (first, last), None for no bound.
STATUS_DAYS = {
    'expired': (None, -1),
    'within_30': (0, 30),
    'within_60': (31, 60),
    'within_90': (61, 90),
    'valid': (91, None),
}
EXPIRY_WEEKS = 12


def oman_day(moment):
    return moment.astimezone(OMAN).date()


def funnel_stages(old_state, new_state, earlier_states):
    """The funnel stages a request reaches by moving from ``old_state`` (None:
    just made) to ``new_state``, given the states it had before.

    Started, verified (the personal verification), price confirmed (the
    member confirmed a price: an order to pay, or a free service applied at
    once), paid, fulfilled, abandoned (expired or cancelled) and refused
    (refused, or failed after payment).  Each stage counts a request once:
    going back to change the price and confirming again is not a second.
    """
    stages = []
    if old_state is None:
        stages.append('started')
    if new_state == 'verified' and old_state == 'draft':
        stages.append('verified')
    if new_state == 'awaiting_payment' and 'awaiting_payment' not in earlier_states:
        stages.append('quoted')
    if new_state == 'fulfilled' and old_state == 'verified':
        stages.append('quoted')
    if new_state in ('paid', 'fulfilled'):
        stages.append(new_state)
    if new_state in ('expired', 'cancelled'):
        stages.append('abandoned')
    if new_state in ('refused', 'failed'):
        stages.append('refused')
    return stages


@dataclass(frozen=True)
class Figures:
    """One report's figures: a value for each category (a row of the table,
    a group on the chart) and series (a column, a bar); ``extras`` are more
    columns of the table, ``(name, {category: value})``; ``stacked`` says the
    series add up to the category's total."""

    categories: tuple
    series: tuple
    values: dict
    extras: tuple = ()
    stacked: bool = True
    money: bool = False
    filters: dict = field(default_factory=dict)

    def value(self, category, series):
        return self.values.get((category, series), 0)

    def row_total(self, category):
        return sum(self.value(category, series) for series in self.series)

    def series_total(self, series):
        return sum(self.value(category, series) for category in self.categories)

    @property
    def total(self):
        return sum(self.row_total(category) for category in self.categories)

    def extra_total(self, values):
        return sum(values.get(category, 0) for category in self.categories)


@content_type('report_tallies', _('Report tallies'), label=portal_title)
class Reports(Located):
    """``/reports``: the tallies of money and of the e-services' funnel."""

    title = 'Reports'

    def __init__(self):
        self.revenue = DayTally()
        self.funnel = DayTally()

    # Keeping the tallies (from the events' subscribers and a schema step)

    def payment_received(self, order, amount_baisa, when):
        self.revenue.add(oman_day(when), {(order.service, 'received'): amount_baisa})

    def refund_due(self, order, refund):
        changes = {(order.service, 'refunds'): refund.amount_baisa}
        if refund.transaction_id != order.transaction_id:
            # An approval that did not pay the order: money in, owed back.
            changes[(order.service, 'received')] = refund.amount_baisa
        self.revenue.add(oman_day(refund.due_since), changes)

    def refund_made(self, order, refund):
        self.revenue.add(
            oman_day(refund.refunded_at), {(order.service, 'refunded'): refund.amount_baisa}
        )

    def request_moved(self, service_request, old_state, new_state, earlier_states):
        stages = funnel_stages(old_state, new_state, earlier_states)
        self.funnel.add(
            oman_day(service_request.created),
            {(service_request.service, stage): 1 for stage in stages},
        )

    def recount(self, site):
        """Count every order and request again (for a schema step; it reads them all)."""
        self.revenue = DayTally()
        self.funnel = DayTally()
        for order in site['orders'].values():
            if order.paid_at is not None:
                self.payment_received(order, order.amount_baisa, order.paid_at)
            for refund in order.refunds.values():
                self.refund_due(order, refund)
                if not refund.is_due:
                    self.refund_made(order, refund)
        for service_request in site['requests'].values():
            states = [state for _when, state, _note in service_request.history]
            for index, state in enumerate(states):
                old_state = states[index - 1] if index else None
                self.request_moved(service_request, old_state, state, states[:index])

    # The figures

    def net_revenue(self, first, last, services=tuple(SERVICES)):
        """Received, refunds and net revenue (baisa) from ``first`` to ``last``."""
        counts = self.revenue.total(first, last)
        received = sum(counts.get((service, 'received'), 0) for service in services)
        refunds = sum(counts.get((service, 'refunds'), 0) for service in services)
        return received, refunds, received - refunds

    def revenue_by_month(self, first, last, services=tuple(SERVICES)):
        """Net revenue (baisa) by month and service; the table adds what was
        received and what is owed back."""
        values, received, refunds = {}, {}, {}
        months = []
        for month, counts in self.revenue.by_month(first, last):
            months.append(month)
            for service in services:
                came = counts.get((service, 'received'), 0)
                owed = counts.get((service, 'refunds'), 0)
                values[(month, service)] = came - owed
                received[month] = received.get(month, 0) + came
                refunds[month] = refunds.get(month, 0) + owed
        return Figures(
            tuple(months),
            tuple(services),
            values,
            extras=(('received', received), ('refunds', refunds)),
            money=True,
        )

    def funnel_by_service(self, first, last, services=tuple(SERVICES)):
        """How many requests started from ``first`` to ``last`` reached each stage."""
        counts = self.funnel.total(first, last)
        return Figures(
            tuple(services),
            STAGES,
            {
                (service, stage): counts.get((service, stage), 0)
                for service in services
                for stage in STAGES
            },
            stacked=False,
        )

    def memberships_by_status(self, on, grades=GRADES):
        """Memberships by grade and by status on the day ``on``."""
        tally = find_root(self)['companies'].expiry_tally
        values = {}
        for status in STATUSES:
            low, high = STATUS_DAYS[status]
            counts = tally.total(
                None if low is None else on + timedelta(days=low),
                None if high is None else on + timedelta(days=high),
            )
            for grade in grades:
                values[(grade, status)] = counts.get(grade, 0)
        return Figures(tuple(grades), STATUSES, values)

    def expiries_by_week(self, on, grades=GRADES, weeks=EXPIRY_WEEKS):
        """Memberships expiring in each of the ``weeks`` weeks from ``on``, by grade."""
        tally = find_root(self)['companies'].expiry_tally
        starts = tuple(on + timedelta(weeks=week) for week in range(weeks))
        values = {}
        for start in starts:
            counts = tally.total(start, start + timedelta(days=6))
            for grade in grades:
                values[(start, grade)] = counts.get(grade, 0)
        return Figures(starts, tuple(grades), values)

    def new_members_by_month(self, first, last, grades=GRADES):
        """Companies that became members, by month (from ``first`` to ``last``) and grade."""
        tally = find_root(self)['companies'].joined_tally
        values = {}
        months = []
        for month, counts in tally.by_month(first, last):
            months.append(month)
            for grade in grades:
                values[(month, grade)] = counts.get(grade, 0)
        return Figures(tuple(months), tuple(grades), values)


def last_twelve_months(today):
    """The first day of the month eleven months before ``today``'s, and ``today``."""
    months = 12
    month = today.replace(day=1)
    for _step in range(months - 1):
        month = (month - timedelta(days=1)).replace(day=1)
    return month, today


def month_count(first, last):
    return sum(1 for _month in months_between(first, last))


def _reports_of(subject):
    return find_root(subject)['reports']


def count_payment(event):
    _reports_of(event.subject).payment_received(event.subject, event.amount_baisa, event.when)


def count_refund_due(event):
    _reports_of(event.subject).refund_due(event.subject, event.refund)


def count_refund_made(event):
    _reports_of(event.subject).refund_made(event.subject, event.refund)


def count_request_state(event):
    service_request = event.subject
    earlier = [state for _when, state, _note in service_request.history[:-1]]
    _reports_of(service_request).request_moved(
        service_request, event.old_state, event.new_state, earlier
    )


def includeme(config):
    for subscriber, event in (
        (count_payment, PaymentReceived),
        (count_refund_due, RefundDue),
        (count_refund_made, RefundMade),
        (count_request_state, RequestStateChanged),
    ):
        config.add_subscriber(subscriber, event)
