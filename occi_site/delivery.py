"""Delivery of notifications, outside the request that queued them.

``queue(...)`` writes a Notification in the current transaction.  The
``Worker`` finds due ones through the ``due`` index and, for each, works in
three steps:

1. claim it, in a transaction of its own: two workers claiming the same
   notification change the same object, ZODB refuses the second commit with
   ConflictError, and that worker leaves it to the first;
2. hand it to the channel's adapter, outside any transaction;
3. record the provider's answer, in a transaction retried on conflict.

Claim, send, record: the record comes after the send, so a worker that dies
between the provider taking the message and the record leaves the
notification ``sending``; when the claim's lease runs out a worker sends it
once more, with the same Message-ID (the SMS gateway gets the same
reference), so the receiving side can tell.  That is the only way a message
is handed over twice; a retry follows only a failure the provider answered
(or a connection that never got as far as the message).  Recording before
sending would instead lose the message on such a crash.

``occi.notify.delivery`` says who runs the worker:

- ``worker`` (production): the ``occi-notify`` console script, on any app
  server, as many as wanted;
- ``thread``: a thread of the portal process, woken by every commit that
  queued something (development: a FileStorage opens in one process only);
- ``after_commit``: right after each commit, in the same thread, for the
  notifications it queued (the test suite reads the outbox right after an
  action); a notification that fails waits for a worker like any other.
"""

import logging
import os
import socket
import threading
from dataclasses import dataclass

import transaction
from pyramid.events import NewRequest
from ZODB.POSException import ConflictError

from .resources import ROOT_KEY, database, root_factory
from .resources.notification import RetryPolicy

log = logging.getLogger(__name__)

MODES = ('worker', 'thread', 'after_commit')
RECORD_TRIES = 5


# What the sending adapters (integrations.mail, integrations.sms) are given
# and answer: ``Accepted``, or ``DeliveryFailed`` saying whether trying again
# could help.  Only transient failures are retried, so a message a provider
# has taken is not handed over again.


@dataclass(frozen=True)
class Letter:
    """What an adapter needs of a notification, read before it is sent."""

    name: str
    channel: str
    recipient: str
    subject: str
    body: str
    html: str | None = None


@dataclass(frozen=True)
class Accepted:
    """The provider took the message; ``reference`` is its id for it."""

    reference: str
    answer: str


class DeliveryFailed(Exception):
    """The provider did not take the message; ``permanent`` if trying again is useless."""

    def __init__(self, answer, permanent=False):
        super().__init__(answer)
        self.answer = answer
        self.permanent = permanent


def queue(request, channel, recipient, subject, body, **fields):
    """A Notification in ``request``'s transaction; returns it.

    ``fields``: html, template, language (else the request's) and civil_id
    (else the account registered with that address or number, if any).
    """
    site = root_factory(request)
    fields.setdefault('language', request.locale_name)
    if fields.get('civil_id') is None:
        accounts = site['accounts']
        holder = (
            accounts.find_by_email(recipient)
            if channel == 'email'
            else accounts.find_by_mobile(recipient)
        )
        fields['civil_id'] = holder.civil_id if holder is not None else None
    notification = site['notifications'].queue(
        channel, recipient, subject, body, request.now, **fields
    )
    waiting(request, notification)
    return notification


def waiting(request, notification):
    """``notification`` is (again) waiting to be sent: once ``request``'s
    transaction commits, deliver it now or wake the worker thread (by mode)."""
    request.tm.get().addAfterCommitHook(
        _after_commit, args=(request.registry, notification.__name__)
    )


def _after_commit(committed, registry, name):
    if not committed:
        return
    mode = registry.occi_delivery_mode
    if mode == 'after_commit':
        registry.occi_worker.deliver(name)
    elif mode == 'thread':
        registry.occi_worker_thread.wake()


class Worker:
    """Delivers due notifications of one database through the registry's adapters."""

    def __init__(self, registry, name=None):
        self.registry = registry
        self.db = None
        self.policy = RetryPolicy.from_settings(registry.settings)
        self.name = name or '%s:%d' % (socket.gethostname(), os.getpid())
        self.senders = {'email': registry.occi_mail, 'sms': registry.occi_sms}

    def now(self):
        return self.registry.occi_clock()

    def _in_transaction(self, work):
        """``work(site)`` in a transaction of its own on a connection of its own."""
        if self.db is None:
            self.db = database(self.registry)
        tm = transaction.TransactionManager(explicit=True)
        conn = self.db.open(transaction_manager=tm)
        try:
            with tm:
                return work(conn.root()[ROOT_KEY])
        finally:
            conn.close()

    def due(self, limit=100):
        return self._in_transaction(lambda site: site['notifications'].due_names(self.now(), limit))

    def run_once(self, batch=100):
        """Deliver what is due now; returns how many this worker handled."""
        handled = 0
        while True:
            names = self.due(batch)
            done = sum(1 for name in names if self.deliver(name))
            handled += done
            if len(names) < batch or not done:
                return handled

    def deliver(self, name):
        """Claim, send and record ``name``; False if it was not ours to send."""
        claimed = self.claim(name)
        if claimed is None:
            return False
        number, letter = claimed
        sender = self.senders[letter.channel]
        try:
            accepted = sender.deliver(letter)
        except DeliveryFailed as failure:
            log.warning('%s to %s: %s', letter.channel, letter.recipient, failure.answer)
            self.record(name, number, failure=failure)
        except Exception as error:
            # An adapter's own fault: kept as a transient failure, so it is
            # retried (and, for a day, visible in /manage) rather than lost.
            log.exception('%s to %s could not be sent', letter.channel, letter.recipient)
            self.record(name, number, failure=DeliveryFailed(repr(error)))
        else:
            self.record(name, number, accepted=accepted)
        return True

    def claim(self, name):
        """``(attempt number, Letter)``, or None if another worker has it or it is not due."""

        def take(site):
            notification = site['notifications'].get(name)
            now = self.now()
            if notification is None or not notification.is_due(now):
                return None
            number = notification.claim(now, self.policy, self.name)
            return number, Letter(
                name=name,
                channel=notification.channel,
                recipient=notification.recipient,
                subject=notification.subject,
                body=notification.body,
                html=notification.html,
            )

        try:
            return self._in_transaction(take)
        except ConflictError:
            log.info('notification %s: claimed by another worker', name)
            return None

    def record(self, name, number, accepted=None, failure=None):
        def keep(site):
            notification = site['notifications'][name]
            if accepted is not None:
                notification.accepted(number, self.now(), accepted.reference, accepted.answer)
            else:
                notification.failed(
                    number, self.now(), failure.answer, failure.permanent, self.policy
                )

        for left in range(RECORD_TRIES - 1, -1, -1):
            try:
                return self._in_transaction(keep)
            except ConflictError:
                if not left:
                    # The claim's lease will bring it back to a worker.
                    log.error('notification %s: the outcome could not be recorded', name)
                    raise

    def seconds_to_next(self, longest):
        """Seconds until the next notification falls due, at most ``longest``."""
        due_at = self._in_transaction(lambda site: site['notifications'].next_due_at())
        if due_at is None:
            return longest
        return min(max(due_at - self.now().timestamp(), 0), longest)

    def run(self, stop, interval, wake=None):
        """Deliver until ``stop`` is set, sleeping until the next is due (at most
        ``interval`` seconds, so notifications queued by other processes are seen)."""
        while not stop.is_set():
            try:
                self.run_once()
                pause = self.seconds_to_next(interval)
            except Exception:
                log.exception('notification worker: a round failed')
                pause = interval
            if wake is None:
                stop.wait(pause)
            elif wake.wait(pause):
                wake.clear()


class WorkerThread:
    """A worker in a thread of the portal process, started with its first
    request: anything with ``run(stop, interval, wake)``."""

    def __init__(self, worker, interval, name):
        self.worker = worker
        self.interval = interval
        self.name = name
        self.stop = threading.Event()
        self.woken = threading.Event()
        self.thread = None
        self.lock = threading.Lock()

    def start(self):
        if self.thread is not None:
            return
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self.worker.run,
                    args=(self.stop, self.interval, self.woken),
                    name=self.name,
                    daemon=True,
                )
                self.thread.start()

    def wake(self):
        self.woken.set()

    def stop_and_join(self, timeout=None):
        self.stop.set()
        self.woken.set()
        if self.thread is not None:
            self.thread.join(timeout)


def worker_mode(settings, name, modes):
    """The setting ``name``, one of ``modes`` (the first by default)."""
    mode = settings.get(name, modes[0])
    if mode not in modes:
        raise ValueError('%s must be one of %s, not %r' % (name, modes, mode))
    return mode


def thread_of_the_portal(config, worker, interval, name):
    """``worker`` in a WorkerThread that the portal's first request starts:
    console scripts build the application too, but serve no request."""
    thread = WorkerThread(worker, interval, name)
    config.add_subscriber(lambda event: thread.start(), NewRequest)
    return thread


def includeme(config):
    registry = config.registry
    settings = registry.settings
    mode = registry.occi_delivery_mode = worker_mode(settings, 'occi.notify.delivery', MODES)
    registry.occi_worker = Worker(registry)
    if mode == 'thread':
        registry.occi_worker_thread = thread_of_the_portal(
            config,
            registry.occi_worker,
            float(settings.get('occi.notify.interval', 5)),
            'occi-notify',
        )
