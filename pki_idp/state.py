"""What the IdP remembers, for the life of its process: logins in progress with the card
challenges issued for them, Mobile ID PIN tries and blocked SIMs, the sessions it has issued
and its own pending log-out requests.

The IdP keeps no login session of its own: every authentication asks for the PIN again.
"""

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .provider import AuthnRequestInfo

PIN_TRIES = 3
LOGIN_TIMEOUT = timedelta(minutes=15)
CHALLENGE_BYTES = 32

# Login states
CHOOSING = 'choosing'
AT_CARD_READER = 'card_reader'
AWAITING_PHONE = 'awaiting_phone'
APPROVED = 'approved'
DECLINED = 'declined'
BLOCKED = 'blocked'
DONE = 'done'


@dataclass
class Login:
    """One AuthnRequest being served, from the method chooser to the answer."""

    id: str
    request: AuthnRequestInfo
    started_at: datetime
    state: str = CHOOSING
    method: str | None = None
    civil_id: str | None = None
    mobile: str | None = None
    answer_xml: str | None = None
    answer_note: str | None = None
    challenges: list[str] = field(default_factory=list)


# What became of a card challenge presented back to the IdP (IdpState.take_challenge).
FRESH = 'fresh'
USED = 'used'
OTHER_LOGIN = 'other_login'
UNKNOWN = 'unknown'


@dataclass(frozen=True)
class PinCheck:
    accepted: bool
    tries_left: int

    @property
    def blocked(self):
        return self.tries_left == 0


@dataclass(frozen=True)
class IssuedSession:
    session_index: str
    civil_id: str
    sp_entity_id: str
    method: str
    issued_at: datetime


def _utc_now():
    return datetime.now(UTC)


class IdpState:
    def __init__(self, clock=None):
        self.clock = clock or _utc_now
        self.misbehaviour = 'normal'
        self._lock = threading.Lock()
        self._logins: dict[str, Login] = {}
        self._pin_failures: dict[tuple[str, str], int] = {}
        self._sessions: dict[str, IssuedSession] = {}
        self._logouts: dict[str, str] = {}
        # challenge -> [login ID, used?]
        self._challenges: dict[str, list] = {}

    # -- logins ---------------------------------------------------------------------------

    def start_login(self, request):
        login = Login(id=secrets.token_urlsafe(16), request=request, started_at=self.clock())
        with self._lock:
            self._logins[login.id] = login
        return login

    def login(self, login_id):
        with self._lock:
            return self._live(login_id)

    def _live(self, login_id):
        oldest = self.clock() - LOGIN_TIMEOUT
        for stale in [key for key, login in self._logins.items() if login.started_at < oldest]:
            for challenge in self._logins.pop(stale).challenges:
                self._challenges.pop(challenge, None)
        return self._logins.get(login_id)

    def advance(self, login_id, from_states, **changes):
        """Change a login only if it is in one of `from_states`; the login, or None."""
        with self._lock:
            login = self._live(login_id)
            if login is None or login.state not in from_states:
                return None
            for name, value in changes.items():
                setattr(login, name, value)
            return login

    def waiting_on_phone(self, mobile):
        with self._lock:
            return [
                login
                for login in self._logins.values()
                if login.state == AWAITING_PHONE and login.mobile == mobile
            ]

    def finish(self, login, answer_xml, session=None, note=None):
        """The login is answered: keep the answer for its page (`note` says why it is not an
        authentication) and remember the session it opened, if any."""
        with self._lock:
            login.state = DONE
            login.answer_xml = answer_xml
            login.answer_note = note
            if session is not None:
                self._sessions[session.session_index] = session

    # -- card challenges ------------------------------------------------------------------

    def issue_challenge(self, login_id):
        """A fresh random challenge for the card to sign, good once and for this login only."""
        challenge = secrets.token_urlsafe(CHALLENGE_BYTES)
        with self._lock:
            login = self._live(login_id)
            if login is None:
                return None
            login.challenges.append(challenge)
            self._challenges[challenge] = [login_id, False]
        return challenge

    def take_challenge(self, login_id, challenge):
        """Spend a challenge presented for `login_id`: FRESH the first time, then USED; or
        OTHER_LOGIN, or UNKNOWN (never issued, or its login has timed out)."""
        with self._lock:
            self._live(login_id)
            entry = self._challenges.get(challenge)
            if entry is None:
                return UNKNOWN
            owner, used = entry
            if owner != login_id:
                return OTHER_LOGIN
            if used:
                return USED
            entry[1] = True
            return FRESH

    # -- PINs -----------------------------------------------------------------------------

    def check_pin(self, credential, expected, given):
        """Check the PIN of a SIM ("mobile", number); wrong PINs count down and block the
        SIM after PIN_TRIES; a right one resets the count. (A card checks its own PIN.)"""
        with self._lock:
            failures = self._pin_failures.get(credential, 0)
            if failures >= PIN_TRIES:
                return PinCheck(accepted=False, tries_left=0)
            if secrets.compare_digest(expected.encode(), given.encode()):
                self._pin_failures.pop(credential, None)
                return PinCheck(accepted=True, tries_left=PIN_TRIES)
            self._pin_failures[credential] = failures + 1
            return PinCheck(accepted=False, tries_left=PIN_TRIES - failures - 1)

    def is_blocked(self, credential):
        with self._lock:
            return self._pin_failures.get(credential, 0) >= PIN_TRIES

    # -- sessions and log-out -------------------------------------------------------------

    def sessions(self):
        with self._lock:
            return sorted(
                self._sessions.values(), key=lambda session: session.issued_at, reverse=True
            )

    def session(self, session_index):
        with self._lock:
            return self._sessions.get(session_index)

    def end_sessions(self, sp_entity_id, civil_id, session_indexes=()):
        """Forget the sessions a log-out names: those indexes, or all of the person's there."""
        with self._lock:
            for index, session in list(self._sessions.items()):
                if (
                    session.sp_entity_id == sp_entity_id
                    and session.civil_id == civil_id
                    and (not session_indexes or index in session_indexes)
                ):
                    del self._sessions[index]

    def await_logout(self, request_id, session_index):
        with self._lock:
            self._logouts[request_id] = session_index

    def logout_answered(self, request_id):
        """The session index of our pending LogoutRequest `request_id`, forgetting it; or None."""
        with self._lock:
            return self._logouts.pop(request_id, None)
