"""Service requests: one member's passage through one e-service's wizard.

A request moves draft -> verified (personal verification done) ->
awaiting_payment -> paid -> fulfilled; a free service goes from verified
straight to fulfilled.  It may end refused, cancelled, failed (paid but not
fulfilled: the chamber must act) or expired (abandoned).  Every state it
takes is kept in ``history``.
"""

import secrets
from datetime import timedelta

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Deny, Everyone

from ..i18n import _
from .folder import Folder
from .record_index import RecordIndex

STATES = (
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
TRANSITIONS = {
    'draft': ('verified', 'refused', 'cancelled', 'expired'),
    'verified': ('awaiting_payment', 'fulfilled', 'refused', 'cancelled', 'expired'),
    # Back to verified when the member leaves the gateway to change a choice.
    'awaiting_payment': ('paid', 'verified', 'cancelled', 'failed', 'expired'),
    'paid': ('fulfilled', 'failed'),
}
# What the member reads for each state.
STATE_TITLES = {
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
STALE_AFTER = timedelta(hours=24)


def _require_aware(moment):
    # Indexes sort requests by time; naive and aware datetimes do not compare.
    if moment.tzinfo is None:
        raise ValueError('times are timezone-aware, got %r' % (moment,))
    return moment


class ServiceRequest(Persistent):
    """One request of one member for one service on one company."""

    __name__ = None
    __parent__ = None

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

    def transition(self, new_state, now, note=''):
        """Move to ``new_state``, or ValueError if the flow does not allow it."""
        if new_state not in TRANSITIONS.get(self.state, ()):
            raise ValueError(
                'request %s: %s -> %s is not allowed' % (self.id, self.state, new_state)
            )
        if (
            new_state == 'fulfilled'
            and self.state == 'verified'
            and (self.quote is None or self.needs_payment)
        ):
            raise ValueError('request %s has a price and is not paid' % self.id)
        was_open, old_state = self.is_open, self.state
        self.state = new_state
        self.history = (*self.history, (now, new_state, note))
        if isinstance(self.__parent__, ServiceRequests):
            self.__parent__.restated(self, old_state)
            if was_open and not self.is_open:
                self.__parent__.closed(self)

    def record_step_up(self, assertion_id, at, method, now):
        """The personal verification (the view has checked it is this member's)."""
        if not self.is_open:
            raise ValueError('request %s is %s: no verification now' % (self.id, self.state))
        self.step_up = {'assertion_id': assertion_id, 'at': at, 'method': method}
        if self.state == 'draft':
            self.transition('verified', now, note=method)

    def set_quote(self, quote, choices=None):
        """The price and outcome the member is shown and then confirms."""
        if self.state != 'verified':
            raise ValueError(
                'request %s is %s: only a verified request is priced' % (self.id, self.state)
            )
        self.quote = quote
        self.choices = dict(choices or {})

    def await_payment(self, order_id, now):
        if not self.needs_payment:
            raise ValueError('request %s has nothing to pay' % self.id)
        self.order_id = order_id
        self.transition('awaiting_payment', now, note=order_id)

    def is_stale(self, now):
        return self.is_open and now - self.created > STALE_AFTER

    def expire_if_stale(self, now):
        """Expire an open request left for more than 24 hours; True if it was."""
        if not self.is_stale(now):
            return False
        self.transition('expired', now, note='abandoned')
        return True


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

    def add(self, name, service_request):
        super().add(name, service_request)
        self.filter_index.add(
            (service_request.service, service_request.state), service_request.created, name
        )
        ids = self.by_member.get(service_request.civil_id)
        if ids is None:
            ids = self.by_member[service_request.civil_id] = OOTreeSet()
        ids.insert(name)
        if service_request.is_open:
            self.open_drafts[
                (service_request.civil_id, service_request.service, service_request.cr_number)
            ] = name
            self.open_by_created.insert((service_request.created, name))
        return service_request

    def remove(self, name):
        service_request = self.get(name)
        if service_request is not None and service_request.is_open:
            self.closed(service_request)
        service_request = super().remove(name)
        self.filter_index.remove(
            (service_request.service, service_request.state), service_request.created, name
        )
        ids = self.by_member.get(service_request.civil_id)
        if ids is not None and name in ids:
            ids.remove(name)
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

    def closed(self, service_request):
        """``service_request`` left the open states: drop it from the open indexes."""
        key = (service_request.civil_id, service_request.service, service_request.cr_number)
        if self.open_drafts.get(key) == service_request.__name__:
            del self.open_drafts[key]
        if (service_request.created, service_request.__name__) in self.open_by_created:
            self.open_by_created.remove((service_request.created, service_request.__name__))

    def find_open_draft(self, civil_id, service, cr_number, now=None):
        """The member's open request for this service and CR, if any.

        Given ``now``, a stale one is expired on the way and not returned.
        """
        name = self.open_drafts.get((civil_id, service, cr_number))
        if name is None:
            return None
        service_request = self[name]
        if now is not None and service_request.expire_if_stale(now):
            return None
        return service_request

    def open_request(self, service, civil_id, cr_number, now, occi_number=None, language='en'):
        """The member's open request for this service and CR, else a new one:
        going back or reloading never makes a second request."""
        service_request = self.find_open_draft(civil_id, service, cr_number, now)
        if service_request is not None:
            return service_request
        name = secrets.token_urlsafe(12)
        while name in self:
            name = secrets.token_urlsafe(12)
        return self.add(
            name,
            ServiceRequest(
                name, service, civil_id, cr_number, now, occi_number=occi_number, language=language
            ),
        )

    def for_member(self, civil_id):
        """The member's requests, newest first."""
        records = (self[name] for name in self.by_member.get(civil_id, ()))
        return sorted(records, key=lambda service_request: service_request.created, reverse=True)

    def expire_stale(self, now):
        """Expire every open request older than 24 hours; returns how many.

        Reads only the stale end of ``open_by_created``.
        """
        stale = list(self.open_by_created.keys(max=(now - STALE_AFTER,)))
        for _created, name in stale:
            self[name].expire_if_stale(now)
        return len(stale)
