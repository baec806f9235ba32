"""Notifications: every e-mail and SMS the portal sends, as a record.

A notification is written in the transaction of the change that caused it,
so a rolled-back request leaves none and a committed one is never
forgotten; a worker delivers it afterwards (``occi_site.delivery``)::

    queued -> sending -> sent (handed to the provider) -> delivered or failed
                                                           (the provider's receipt)
                      -> retrying (a transient failure; due again later) -> sending
                      -> failed (a permanent failure, or transient ones for a day)

An administrator may send a failed one again: it is queued afresh, with a
new day of retries.  Every attempt is kept with the provider's answer.

``/notifications`` keeps its indexes on every change, never by scanning:
``due`` holds ``(time, name)`` of what a worker must look at (queued and
retrying ones when they fall due, and claimed ones when their claim runs
out), spread over shards by name (every request that notifies adds a key
at the same moment, and every delivery moves one), and three RecordIndexes
serve /manage's filters and a member's own list.  Names are random, so
concurrent requests queueing notifications add different keys, which ZODB's
BTree conflict resolution merges.
"""

import itertools
import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

from BTrees.OOBTree import OOBTree
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Deny, Everyone

from ..i18n import _
from .folder import Folder, Located
from .record_index import LAST_NAME, RecordIndex, ShardedSet
from .types import Column, content_type, made_on, portal_title, titled

CHANNELS = ('email', 'sms')
CHANNEL_TITLES = {'email': _('E-mail'), 'sms': _('SMS')}
STATUSES = ('queued', 'sending', 'retrying', 'sent', 'delivered', 'failed')
STATUS_TITLES = {
    'queued': _('Queued'),
    'sending': _('Sending'),
    'retrying': _('Retrying'),
    'sent': _('Delivered to the provider'),
    'delivered': _('Delivered to the recipient'),
    'failed': _('Failed permanently'),
}
ATTEMPT_OUTCOME_TITLES = {
    'sending': _('In progress'),
    'accepted': _('Taken by the provider'),
    'transient': _('Failed, to be tried again'),
    'permanent': _('Refused for good'),
    'lapsed': _('Interrupted: the worker stopped'),
}
# The statuses a worker may pick up once they are due.
WAITING = ('queued', 'retrying', 'sending')


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a transient failure is tried again.

    The n-th retry waits ``first`` times 2**(n-1), at most ``longest``, with
    up to a fifth more at random so a queue that failed together does not
    retry in step; after ``give_up_after`` the notification has failed.  A
    worker's claim lasts ``lease``: if the worker dies, another may take the
    notification after it (longer than any send's own timeout).
    """

    first: timedelta = timedelta(seconds=30)
    longest: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, settings):
        def seconds(name, default):
            value = settings.get('occi.notify.%s' % name)
            return default if value is None else timedelta(seconds=float(value))

        defaults = cls()
        return cls(
            first=seconds('retry_first', defaults.first),
            longest=seconds('retry_longest', defaults.longest),
            give_up_after=seconds('give_up_after', defaults.give_up_after),
            lease=seconds('lease', defaults.lease),
        )

    def delay(self, failures):
        """The wait after the ``failures``-th transient failure in a row."""
        wait = min(self.first * 2 ** min(failures - 1, 32), self.longest)
        return wait * (1 + random.random() / 5)


NOTIFICATION_COLUMNS = (
    Column(_('Channel'), titled(CHANNEL_TITLES, 'channel')),
    Column(_('Recipient'), lambda notification, lang: notification.recipient),
    Column(_('Status'), titled(STATUS_TITLES, 'status')),
    Column(_('Made'), made_on),
)


@content_type('notification', _('Notification'))
class Notification(Located):
    """One e-mail or SMS to one recipient.

    ``attempts`` is a tuple of dicts (number, started, finished, outcome,
    answer, worker); ``history`` of ``(when, status, note)``.
    """

    def __init__(
        self,
        channel,
        recipient,
        subject,
        body,
        now,
        *,
        html=None,
        template='',
        language='en',
        civil_id=None,
    ):
        if channel not in CHANNELS:
            raise ValueError('unknown channel %r' % (channel,))
        if now.tzinfo is None:
            raise ValueError('times are timezone-aware, got %r' % (now,))
        self.channel = channel
        self.recipient = recipient
        self.subject = subject
        self.body = body
        self.html = html
        self.template = template or ''
        self.language = language
        self.civil_id = civil_id
        self.created = now
        self.status = 'queued'
        self.due_at = now
        # Retries stop a day after this: the creation, or the last resend.
        self.window_start = now
        self.attempts = ()
        self.provider_reference = None
        self.provider_answer = ''
        self.early_report = None
        self.history = ((now, 'queued', ''),)

    @property
    def __acl__(self):
        acl = [(Allow, 'role:admin', ALL_PERMISSIONS)]
        if self.civil_id:
            acl.append((Allow, self.civil_id, 'view'))
        return [*acl, DENY_ALL]

    @property
    def title(self):
        return self.subject or self.body[:60]

    @property
    def is_waiting(self):
        return self.status in WAITING

    def is_due(self, now):
        return self.is_waiting and self.due_at <= now

    def _become(self, status, now, note='', due_at=None):
        old_status, old_due = self.status, self.due_key
        self.status = status
        self.due_at = due_at
        self.history = (*self.history, (now, status, note))
        if isinstance(self.__parent__, Notifications):
            self.__parent__.restated(self, old_status, old_due)

    @property
    def due_key(self):
        if not self.is_waiting or self.due_at is None:
            return None
        return (self.due_at.timestamp(), self.__name__)

    def claim(self, now, policy, worker):
        """A worker takes this notification to send it; returns the attempt's number.

        The change to this object is the claim: of two workers claiming at
        once, ZODB refuses the second commit with ConflictError.
        """
        if not self.is_due(now):
            raise ValueError('notification %s is %s, not due' % (self.__name__, self.status))
        if self.status == 'sending':
            # The last claim lapsed: its worker stopped, before or after sending.
            self._finish_attempt(len(self.attempts), now, 'lapsed', '')
        number = len(self.attempts) + 1
        attempt = {
            'number': number,
            'started': now,
            'finished': None,
            'outcome': 'sending',
            'answer': '',
            'worker': worker,
        }
        self.attempts = (*self.attempts, attempt)
        self._become('sending', now, worker, due_at=now + policy.lease)
        return number

    def _finish_attempt(self, number, now, outcome, answer):
        attempts = list(self.attempts)
        attempts[number - 1] = dict(
            attempts[number - 1], finished=now, outcome=outcome, answer=answer
        )
        self.attempts = tuple(attempts)
        if answer:
            self.provider_answer = answer
        # A later claim (this one's lease ran out) owns the status now.
        return number == len(self.attempts) and self.status == 'sending'

    def accepted(self, number, now, reference, answer):
        """The provider took the message of attempt ``number``."""
        if self._finish_attempt(number, now, 'accepted', answer):
            self.provider_reference = reference
            self._become('sent', now, reference or '')
            if isinstance(self.__parent__, Notifications) and reference:
                self.__parent__.referenced(self)
            early = self.early_report
            if early is not None:
                # The provider's report overtook the worker's record of the send.
                self.early_report = None
                self.receipt(now, *early)

    def failed(self, number, now, answer, permanent, policy):
        """Attempt ``number`` failed; a transient failure is retried until the day is over."""
        outcome = 'permanent' if permanent else 'transient'
        if not self._finish_attempt(number, now, outcome, answer):
            return
        if permanent:
            self._become('failed', now, answer)
            return
        failures = 0
        for attempt in reversed(self.attempts):
            if attempt['outcome'] != 'transient' or attempt['started'] < self.window_start:
                break
            failures += 1
        retry_at = now + policy.delay(failures)
        if retry_at - self.window_start > policy.give_up_after:
            self._become('failed', now, 'given up after a day of retries')
        else:
            self._become('retrying', now, answer, due_at=retry_at)

    def receipt(self, now, delivered, answer):
        """The provider's delivery report: ``delivered`` True (to the
        recipient), False (not deliverable: a bounce) or None (an interim
        report, kept only).  It changes the status only of a notification
        handed to the provider; one that arrives while the worker has yet to
        record the send is applied when it does."""
        self.provider_answer = answer
        if delivered is not None and self.status in ('sent', 'delivered'):
            self._become('delivered' if delivered else 'failed', now, answer)
            return
        if delivered is not None and self.status == 'sending':
            self.early_report = (delivered, answer)
        self.history = (*self.history, (now, self.status, answer))

    def trouble(self, now, grace):
        """Whether the person waiting for this message should hear that it
        has not reached them: 'failed'; 'late', while a failure is being
        retried or when it is still waiting ``grace`` after it was queued (or
        queued again); or None."""
        if self.status == 'failed':
            return 'failed'
        if self.status == 'retrying' or (self.is_waiting and now - self.window_start >= grace):
            return 'late'
        return None

    def resend(self, now, by):
        """Queue a failed notification again, with a new day of retries."""
        if self.status != 'failed':
            raise ValueError('notification %s is %s, not failed' % (self.__name__, self.status))
        self.window_start = now
        self._become('queued', now, by, due_at=now)


def normalised_recipient(channel, recipient):
    return recipient.strip().lower() if channel == 'email' else recipient.strip()


@content_type('notifications', _('Notifications'), columns=NOTIFICATION_COLUMNS, label=portal_title)
class Notifications(Folder):
    """``/notifications``, keyed by random names (see the module's docstring)."""

    __acl__ = [
        (Allow, 'role:admin', ALL_PERMISSIONS),
        (Deny, Everyone, 'view'),
    ]

    def __init__(self, title=''):
        super().__init__(title)
        self.due = ShardedSet()
        self.filter_index = RecordIndex()
        self.recipient_index = RecordIndex()
        self.member_index = RecordIndex()
        self.by_reference = OOBTree()

    def queue(self, channel, recipient, subject, body, now, **fields):
        """A new queued notification (``fields`` as Notification takes them)."""
        name = secrets.token_urlsafe(12)
        while name in self:
            name = secrets.token_urlsafe(12)
        return self.add(name, Notification(channel, recipient, subject, body, now, **fields))

    def add(self, name, notification):
        super().add(name, notification)
        self._index(notification, notification.status)
        if notification.civil_id:
            self.member_index.add((notification.civil_id,), notification.created, name)
        key = notification.due_key
        if key is not None:
            self.due.insert(key)
        return notification

    def _facets(self, notification, status):
        recipient = normalised_recipient(notification.channel, notification.recipient)
        return (status, notification.channel), (recipient, status, notification.channel)

    def _index(self, notification, status, add=True):
        by_status, by_recipient = self._facets(notification, status)
        name, created = notification.__name__, notification.created
        for index, facets in ((self.filter_index, by_status), (self.recipient_index, by_recipient)):
            if add:
                index.add(facets, created, name)
            else:
                index.remove(facets, created, name)

    def restated(self, notification, old_status, old_due):
        """``notification`` moved from ``old_status``: keep the indexes true."""
        if old_status != notification.status:
            self._index(notification, old_status, add=False)
            self._index(notification, notification.status)
        new_due = notification.due_key
        if old_due != new_due:
            if old_due is not None:
                self.due.discard(old_due)
            if new_due is not None:
                self.due.insert(new_due)

    def referenced(self, notification):
        self.by_reference[notification.provider_reference] = notification.__name__

    def for_report(self, reference):
        """The notification a delivery report names: by the provider's
        reference, else by ours (the notification's name, which is also the
        local part of an e-mail's Message-ID)."""
        name = self.by_reference.get(reference)
        if name is None:
            name = reference.strip('<>').partition('@')[0]
        return self.get(name) if name else None

    def due_names(self, now, limit=100):
        """Names of notifications due by ``now``, longest due first."""
        keys = self.due.keys(high=(now.timestamp(), LAST_NAME))
        return [name for _when, name in itertools.islice(keys, limit)]

    def next_due_at(self):
        """When the next notification falls due (a timestamp), or None."""
        key = self.due.min_key()
        return None if key is None else key[0]

    def spread_over_shards(self):
        """Evolve: the due set and the indexes of one set each (before
        shards) move their keys into shards."""
        if not isinstance(self.due, ShardedSet):
            due, self.due = self.due, ShardedSet()
            for key in due:
                self.due.insert(key)
        for index in (self.filter_index, self.recipient_index, self.member_index):
            index.spread_over_shards()

    def find(self, statuses, channels, recipient=None, first=None, last=None, limit=200):
        """Notifications newest first, by status, channel, recipient and creation time."""
        if recipient:
            # An e-mail address and a mobile number are normalised differently.
            recipients = sorted({normalised_recipient(channel, recipient) for channel in channels})
            names = self.recipient_index.find((recipients, statuses, channels), first, last, limit)
        else:
            names = self.filter_index.find((statuses, channels), first, last, limit)
        return [self[name] for name in names]

    def for_member(self, civil_id, limit=100):
        """The notifications sent to ``civil_id``, newest first."""
        return [self[name] for name in self.member_index.find(([civil_id],), limit=limit)]
