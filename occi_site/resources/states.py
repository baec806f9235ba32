"""Records that move between states by one table: service requests and orders.

A class lists ``TRANSITIONS`` (each state -> the states it may move to) and
the event it announces (``state_event``).  ``transition`` refuses any move
the table does not list, keeps every state taken in ``history`` and
announces the move with the old and new state, the service and the time.
A class adds its own rules in ``check_transition`` and keeps its container's
indexes in ``moved``.
"""

from ..events import announce


class StateTable:
    TRANSITIONS = {}
    # The StateChanged subclass announced; 'request' or 'order' in messages.
    state_event = None
    kind = ''

    def transition(self, new_state, now, request, note=''):
        """Move to ``new_state``, or ValueError if the table (or a rule) refuses it."""
        if new_state not in self.TRANSITIONS.get(self.state, ()):
            raise ValueError(
                '%s %s: %s -> %s is not allowed' % (self.kind, self.id, self.state, new_state)
            )
        self.check_transition(new_state)
        old_state = self.state
        self.state = new_state
        self.history = (*self.history, (now, new_state, note))
        self.moved(old_state)
        self.announce_state(now, request, old_state, note)

    def announce_state(self, now, request, old_state=None, note=''):
        """Announce the move to the current state (from ``old_state``; None: just made)."""
        announce(
            request,
            self.state_event,
            subject=self,
            when=now,
            service=self.service,
            old_state=old_state,
            new_state=self.state,
            note=note,
        )

    def check_transition(self, new_state):
        """Refuse (ValueError) a move the table allows but a rule of this record does not."""

    def moved(self, old_state):
        """The record left ``old_state``: keep its container's indexes true."""
