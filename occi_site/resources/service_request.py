"""Service requests: one member's passage through one e-service's wizard.

A request moves by ``TRANSITIONS``: draft -> verified (personal
verification done) -> awaiting_payment (the member confirmed a price: an
Order waits to be paid) -> paid -> fulfilled; a free service goes from
verified straight to fulfilled.  It may end refused, cancelled, failed
(paid but not fulfilled: the chamber must act) or expired (abandoned).
While awaiting payment it goes back to verified when its order expires or
the member withdraws it to change a choice (or is refused, its order
withdrawn, when the member presses Pay and the registry no longer lists
them for the company); a late approval of that same order still pays it.
Every state it takes is kept in ``history`` and announced
(``RequestStateChanged``).
"""

import secrets
from datetime import timedelta
from itertools import islice

from BTrees.OOBTree import OOBTree, OOTreeSet
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Deny, Everyone
from pyramid.traversal import find_root

from ..events import RequestFulfilled, RequestStateChanged, announce
from ..i18n import _
from .certificate import issue_certificate
from .company import ServiceRefused
from .folder import Folder, Located
from .multi_index import file_under, filed_under, unfile
from .order import BY_THE_MEMBER, UNPAID_STATES, review_overdue
from .record_index import LAST_NAME, RecordIndex
from .services import get_service, service_title
from .states import StateTable
from .types import Column, content_type, made_on, portal_title, titled

REQUEST_STATES = (
    'draft',
    'verified',
    'awaiting_payment',
    'paid',
    'fulfilled',
    'refused',
    'cancelled',
    'failed',
    'expired',
)
REQUEST_TRANSITIONS = {
    'draft': ('verified', 'refused', 'cancelled', 'expired'),
    # -> paid: a late approval of the order it was waiting for (see payment_settled).
    'verified': ('awaiting_payment', 'paid', 'fulfilled', 'refused', 'cancelled', 'expired'),
    # -> verified: the order expired, or the member withdrew it to change a choice.
    'awaiting_payment': ('paid', 'verified', 'cancelled', 'failed', 'expired'),
    'paid': ('fulfilled', 'failed'),
}
# What the member reads for each state.
REQUEST_STATE_TITLES = {
    'draft': _('Waiting for personal verification'),
    'verified': _('Waiting for confirmation'),
    'awaiting_payment': _('Waiting for payment'),
    'paid': _('Paid'),
    'fulfilled': _('Completed'),
    'refused': _('Refused'),
    'cancelled': _('Cancelled'),
    'failed': _('Paid, not completed: the chamber will contact you'),
    'expired': _('Expired'),
}
# The states a member may still resume: reloading the wizard finds them.
OPEN_STATES = ('draft', 'verified')
# The states a request may be being paid in, or come to be.
MAY_BE_PAID = (*OPEN_STATES, 'awaiting_payment', 'paid')
STALE_AFTER = timedelta(hours=24)
# How long a paid request waiting to be completed holds back another
# request's payment for the same service and company.
PAID_WAIT = timedelta(hours=24)
# How long a personal verification lets the member confirm a price.
STEP_UP_VALID_FOR = timedelta(minutes=10)


def _require_aware(moment):
    # Indexes sort requests by time; naive and aware datetimes do not compare.
    if moment.tzinfo is None:
        raise ValueError('times are timezone-aware, got %r' % (moment,))
    return moment


REQUEST_COLUMNS = (
    Column(_('Service'), service_title),
    Column(_('CR number'), lambda service_request, lang: service_request.cr_number),
    Column(_('State'), titled(REQUEST_STATE_TITLES, 'state')),
    Column(_('Made'), made_on),
)


@content_type('service_request', _('Service request'))
class ServiceRequest(StateTable, Located):
    """One request of one member for one service on one company."""

    TRANSITIONS = REQUEST_TRANSITIONS
    state_event = RequestStateChanged
    kind = 'request'

    def __init__(
        self, request_id, service, civil_id, cr_number, now, occi_number=None, language='en'
    ):
        self.id = request_id
        self.service = service
        self.civil_id = civil_id
        self.cr_number = cr_number
        self.occi_number = occi_number
        self.language = language
        self.created = _require_aware(now)
        self.step_up = None
        self.quote = None
        self.choices = {}
        self.order_id = None
        self.certificate_serial = None
        self.state = 'draft'
        self.history = ((now, 'draft', ''),)

    @property
    def __acl__(self):
        return [
            (Allow, self.civil_id, ('view', 'edit')),
            # The member's own steps (verification, price, change, cancel) are
            # nobody else's: not an administrator's either.
            (Deny, Everyone, 'edit'),
            (Allow, 'role:admin', ALL_PERMISSIONS),
            DENY_ALL,
        ]

    @property
    def title(self):
        return '%s %s' % (self.service, self.cr_number)

    @property
    def is_open(self):
        return self.state in OPEN_STATES

    @property
    def total_baisa(self):
        return None if self.quote is None else self.quote.total_baisa

    @property
    def needs_payment(self):
        return bool(self.total_baisa)

    @property
    def order(self):
        """The Order this request waits for (or was paid by), if any."""
        if self.order_id is None:
            return None
        return find_root(self)['orders'].get(self.order_id)

    def check_transition(self, new_state):
        if (
            new_state == 'fulfilled'
            and self.state == 'verified'
            and (self.quote is None or self.needs_payment)
        ):
            raise ValueError('request %s has a price and is not paid' % self.id)

    def moved(self, old_state):
        if isinstance(self.__parent__, ServiceRequests):
            self.__parent__.restated(self, old_state)
            if old_state in OPEN_STATES and not self.is_open:
                self.__parent__.closed(self)
            elif self.is_open and old_state not in OPEN_STATES:
                self.__parent__.opened(self)

    def record_step_up(self, assertion_id, at, method, now, request):
        """The personal verification (the view has checked it is this member's)."""
        if not self.is_open:
            raise ValueError('request %s is %s: no verification now' % (self.id, self.state))
        self.step_up = {'assertion_id': assertion_id, 'at': at, 'method': method}
        if self.state == 'draft':
            self.transition('verified', now, request, note=method)

    def step_up_is_fresh(self, now):
        """Whether the personal verification is recent enough to confirm a price."""
        return self.step_up is not None and now - self.step_up['at'] <= STEP_UP_VALID_FOR

    def set_quote(self, quote, choices=None):
        """The price and outcome the member is shown and then confirms."""
        if self.state != 'verified':
            raise ValueError(
                'request %s is %s: only a verified request is priced' % (self.id, self.state)
            )
        self.quote = quote
        self.choices = dict(choices or {})

    def await_payment(self, lines, now, request):
        """The member confirmed the quote's price: a new Order of ``lines``
        (``(label_en, label_ar, amount_baisa)``) that this request waits for."""
        if not self.needs_payment:
            raise ValueError('request %s has nothing to pay' % self.id)
        if self.state != 'verified':
            raise ValueError('request %s is %s: no order now' % (self.id, self.state))
        order = find_root(self)['orders'].new_order(
            self.id, self.civil_id, lines, now, request, service=self.service
        )
        self.order_id = order.id
        self.transition('awaiting_payment', now, request, note=order.id)
        return order

    def payment_settled(self, order, now, request):
        """``order`` was just paid: True if this request was waiting for that
        very order (or had it released unpaid, with the same quote) and is
        now paid; False if the money is not this request's to keep."""
        if order.id != self.order_id or self.state not in ('awaiting_payment', 'verified'):
            return False
        self.transition('paid', now, request, note=order.id)
        return True

    def order_released(self, order, now, request):
        """``order`` expired unpaid: a request waiting for it goes back to the member."""
        if self.state == 'awaiting_payment' and self.order_id == order.id:
            self.transition('verified', now, request, note='order %s %s' % (order.id, order.state))

    @property
    def may_change(self):
        """Whether the member may go back from payment to change a choice:
        not while the gateway holds a payment of the order for review."""
        return self.state == 'awaiting_payment' and not self.order.under_review

    def change_before_payment(self, now, request, why=BY_THE_MEMBER):
        """From payment back to step 3: the order is withdrawn (``why``: the
        member went back to change a choice, or a rule refuses the request:
        ``refuse_before_payment``)."""
        if not self.may_change:
            raise ValueError('request %s is %s: nothing to change' % (self.id, self.state))
        order = self.order
        if order.state in UNPAID_STATES:
            order.withdraw(now, request, why)
        self.transition('verified', now, request, note='order %s withdrawn' % order.id)

    def refuse_before_payment(self, reason, now, request):
        """A rule refuses a request whose price was accepted, before its
        payment: its order is withdrawn and the request refused."""
        self.change_before_payment(now, request, why=reason)
        self.refuse(reason, now, request)

    def refuse(self, reason, now, request):
        """A rule refuses an open request (at step 3, or back there from payment)."""
        if not self.is_open:
            raise ValueError('request %s is %s: it cannot be refused' % (self.id, self.state))
        self.transition('refused', now, request, note=reason)

    def cancel(self, now, request):
        """The member gives up an open request."""
        if not self.is_open:
            raise ValueError('request %s is %s: it cannot be cancelled' % (self.id, self.state))
        self.transition('cancelled', now, request, note='by the member')

    def fulfil(self, today, now, request, registry_company=None):
        """Apply the request once and issue the company's new certificate;
        returns that Certificate.

        Only a paid request, or a verified one with a free quote, is applied.
        Idempotent: on a request already fulfilled it changes nothing and
        returns the certificate issued then.  If a rule now refuses (the
        company became a member meanwhile, the membership changed since the
        price was given), the request is marked refused, or failed if it was
        paid (its payment then a refund due), and the ServiceRefused is raised
        for the view to show; the transaction should still be committed so
        that outcome is kept.  New Membership needs the registry's record of
        the CR (``registry_company``).
        """
        site = find_root(self)
        if self.state == 'fulfilled':
            return site['certificates'][self.certificate_serial]
        if self.state != 'paid' and not (
            self.state == 'verified' and self.quote is not None and not self.needs_payment
        ):
            raise ValueError('request %s is %s: not ready for fulfilment' % (self.id, self.state))
        service = get_service(self.service)
        try:
            company = service.change(
                site,
                site['companies'].get(self.cr_number),
                self,
                registry_company,
                today,
                now,
                request,
            )
        except ServiceRefused as refusal:
            if self.state == 'paid':
                self.transition('failed', now, request, note=refusal.reason)
                # Paid for and not given: the money goes back.
                self.order.refund_payment(now, request)
            else:
                self.transition('refused', now, request, note=refusal.reason)
            raise
        certificate = issue_certificate(site, company, today, request_id=self.id)
        self.occi_number = company.membership.occi_number
        self.certificate_serial = certificate.serial
        self.transition('fulfilled', now, request, note=certificate.serial)
        announce(request, RequestFulfilled, subject=self, when=now, certificate=certificate)
        return certificate

    def is_stale(self, now):
        return self.is_open and now - self.created > STALE_AFTER

    def expire_if_stale(self, now, request):
        """Expire an open request left for more than 24 hours; True if it was."""
        if not self.is_stale(now):
            return False
        self.transition('expired', now, request, note='abandoned')
        return True


@content_type(
    'service_requests', _('Service requests'), columns=REQUEST_COLUMNS, label=portal_title
)
class ServiceRequests(Folder):
    """``/requests``, keyed by unguessable ids.

    Indexes, all kept on change (no scans): ``by_member`` civil ID -> request
    ids; ``open_drafts`` (civil ID, service, CR) -> the one open request, so
    a reload resumes it; ``open_by_created`` (created, id) of open requests,
    so stale ones are found oldest first.
    """

    __acl__ = [
        (Allow, 'role:admin', ALL_PERMISSIONS),
        (Deny, Everyone, 'view'),
    ]

    def __init__(self, title=''):
        super().__init__(title)
        self.by_member = OOBTree()
        self.open_drafts = OOBTree()
        self.open_by_created = OOTreeSet()
        self.filter_index = RecordIndex()
        self.by_company = OOTreeSet()

    def add(self, name, service_request):
        super().add(name, service_request)
        self.by_company.add((service_request.cr_number, name))
        self.filter_index.add(
            (service_request.service, service_request.state), service_request.created, name
        )
        file_under(self.by_member, service_request.civil_id, name)
        if service_request.is_open:
            self.opened(service_request)
        return service_request

    def remove(self, name):
        service_request = self.get(name)
        if service_request is not None and service_request.is_open:
            self.closed(service_request)
        service_request = super().remove(name)
        self.filter_index.remove(
            (service_request.service, service_request.state), service_request.created, name
        )
        unfile(self.by_member, service_request.civil_id, name)
        if (service_request.cr_number, name) in self.by_company:
            self.by_company.remove((service_request.cr_number, name))
        return service_request

    def restated(self, service_request, old_state):
        """``service_request`` moved from ``old_state``: keep the filter index true."""
        self.filter_index.remove(
            (service_request.service, old_state), service_request.created, service_request.__name__
        )
        self.filter_index.add(
            (service_request.service, service_request.state),
            service_request.created,
            service_request.__name__,
        )

    def find(self, services, states, first=None, last=None, limit=200):
        """Requests newest first, by service, state and creation time (see RecordIndex)."""
        return [
            self[name] for name in self.filter_index.find((services, states), first, last, limit)
        ]

    def opened(self, service_request):
        """``service_request`` is open (new, or given back to the member when
        its order expired or was withdrawn): a reload resumes it, unless the
        member has opened another meanwhile, and it expires once abandoned."""
        key = (service_request.civil_id, service_request.service, service_request.cr_number)
        if key not in self.open_drafts:
            self.open_drafts[key] = service_request.__name__
        self.open_by_created.insert((service_request.created, service_request.__name__))

    def closed(self, service_request):
        """``service_request`` left the open states: drop it from the open indexes."""
        key = (service_request.civil_id, service_request.service, service_request.cr_number)
        if self.open_drafts.get(key) == service_request.__name__:
            del self.open_drafts[key]
        if (service_request.created, service_request.__name__) in self.open_by_created:
            self.open_by_created.remove((service_request.created, service_request.__name__))

    def find_open_draft(self, civil_id, service, cr_number):
        """The member's open request for this service and CR, if any."""
        name = self.open_drafts.get((civil_id, service, cr_number))
        return None if name is None else self[name]

    def open_request(
        self, service, civil_id, cr_number, now, request, occi_number=None, language='en'
    ):
        """The member's open request for this service and CR, else a new one:
        going back or reloading never makes a second request.  A stale open
        request is expired on the way and a new one made."""
        service_request = self.find_open_draft(civil_id, service, cr_number)
        if service_request is not None and not service_request.expire_if_stale(now, request):
            return service_request
        name = secrets.token_urlsafe(12)
        while name in self:
            name = secrets.token_urlsafe(12)
        service_request = self.add(
            name,
            ServiceRequest(
                name, service, civil_id, cr_number, now, occi_number=occi_number, language=language
            ),
        )
        service_request.announce_state(now, request)
        return service_request

    def for_member(self, civil_id):
        """The member's requests, newest first."""
        found = (self[name] for name in filed_under(self.by_member, civil_id))
        return sorted(found, key=lambda service_request: service_request.created, reverse=True)

    def payment_under_way(self, service_request, now):
        """Another request for the same service and company whose payment is
        under way (its order still payable) or was taken within ``PAID_WAIT``
        and is not yet completed, or None: a second payment for one change
        would be money to give back.  A request paid longer ago (waiting for
        the registry, or failing) is the chamber's to sort out, and does not
        hold the company's members back; nor does anything hold back a
        service paid for more than once on purpose (``one_payment_at_a_time``).

        Two confirms at the same moment each see the other unpaid: the
        requests it looks at are read as current, so the second to commit
        conflicts and is retried."""
        if not get_service(service_request.service).one_payment_at_a_time:
            return None
        cr_number = service_request.cr_number
        for _cr, name in self.by_company.keys((cr_number, ''), (cr_number, LAST_NAME)):
            other = self[name]
            if other is service_request or other.service != service_request.service:
                continue
            if other.state in MAY_BE_PAID and other._p_jar is not None:
                # Read as current: the other one confirmed meanwhile (another
                # app server), this transaction conflicts, and its retry sees it.
                other._p_jar.readCurrent(other)
            # Both states have the order that was (or is to be) paid.
            if other.state == 'awaiting_payment' and other.order.is_payable(now):
                return other
            if other.state == 'paid' and now - other.order.paid_at <= PAID_WAIT:
                return other
        return None

    def payment_held_for_review(self, service_request, now, besides=None):
        """An unpaid order (``besides`` excepted) whose payment the gateway
        holds for review, for ``service_request`` itself or, for a service
        paid once a change, for another request of its service and company;
        or None: its approval may yet come, so another payment would be
        money to give back.  Few orders are held at once (reconciliation
        lets them go after ``REVIEW_WINDOW``)."""
        orders = find_root(self)['orders']
        once = get_service(service_request.service).one_payment_at_a_time
        for since, name in orders.in_review_to_ask(limit=None):
            order = orders.get(name)
            if order is None or order is besides or order.state == 'paid':
                continue
            if review_overdue(since, now):
                continue
            made_for = self.get(order.request_id)
            if made_for is service_request or (
                once
                and made_for is not None
                and (made_for.cr_number, made_for.service)
                == (service_request.cr_number, service_request.service)
            ):
                return order
        return None

    def for_company(self, cr_number):
        """The requests made for one company (by any member), oldest first."""
        found = (
            self[name]
            for _cr, name in self.by_company.keys((cr_number, ''), (cr_number, LAST_NAME))
        )
        return sorted(found, key=lambda service_request: service_request.created)

    def index_companies(self):
        """Build ``by_company`` from the requests (for a schema step)."""
        self.by_company = OOTreeSet()
        for name, service_request in self.items():
            self.by_company.add((service_request.cr_number, name))

    def expire_stale(self, now, request, limit=None):
        """Expire the open requests older than 24 hours, oldest first, up to
        ``limit`` of them; returns how many (occi-housekeeping).

        Reads only the stale end of ``open_by_created``.
        """
        stale = list(islice(self.open_by_created.keys(max=(now - STALE_AFTER,)), limit))
        for _created, name in stale:
            self[name].expire_if_stale(now, request)
        return len(stale)
