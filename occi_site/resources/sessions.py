"""Portal sessions, kept in a database so that every app server knows them and
ending one ends it everywhere.

They live in a database of their own (``zodbconn.uri.sessions``), beside the
object tree's: a request that changes the tree and stores a flash message
writes both in one transaction, and undoing that change must not depend on
the session, nor the tree's history fill with "last seen" notes.

A browser's cookie holds a random token; the store knows each session only by a
keyed hash of that token (its key, made by ``occi_site.sessions``), so the
database alone opens no session.  ``by_expiry`` orders the sessions by the end
of their absolute lifetime, so dead ones are found without a scan;
``by_account`` lists the sessions of each member.
"""

from itertools import islice

import transaction
from BTrees.OOBTree import OOBTree
from persistent import Persistent

from .multi_index import file_under, filed_under, unfile

SESSIONS_DATABASE = 'sessions'
STORE_KEY = 'occi_sessions'
PRUNE_BATCH = 20
USER_AGENT_LENGTH = 300


class Activity(Persistent):
    """When a session was last used.

    An object of its own, so noting the time rewrites nothing else; two requests
    of one browser noting it at once do not conflict: the later time is kept.
    """

    def __init__(self, at):
        self.at = at

    def seen(self, at):
        if at > self.at:
            self.at = at

    def _p_resolveConflict(self, old_state, committed_state, new_state):
        return max(committed_state, new_state, key=lambda state: state['at'])


class PortalSession(Persistent):
    """One browser's session: what the portal keeps for it (``data``) and, once the
    person has logged in, whose it is and the account's security stamp then."""

    def __init__(self, key, now, expires, user_agent=''):
        self.key = key
        self.created = now
        self.expires = expires
        self.activity = Activity(now)
        self.user_agent = user_agent[:USER_AGENT_LENGTH]
        self.civil_id = None
        self.stamp = None
        self.data = {}

    @property
    def last_seen(self):
        return self.activity.at

    def is_live(self, now, idle_timeout):
        return now < self.expires and now - self.activity.at < idle_timeout


class SessionStore(Persistent):
    """Every live session, by key, by expiry and by account: the root object of
    the sessions database."""

    def __init__(self):
        self.by_key = OOBTree()
        self.by_expiry = OOBTree()
        self.by_account = OOBTree()

    def get(self, key):
        return self.by_key.get(key)

    def start(self, key, now, lifetime, user_agent=''):
        """A new anonymous session under ``key``, ending at ``now + lifetime`` at the latest."""
        self.prune(now)
        session = PortalSession(key, now, now + lifetime, user_agent)
        self.by_key[key] = session
        self.by_expiry[(session.expires.timestamp(), key)] = True
        return session

    def bind(self, session, civil_id, stamp):
        """``session`` is now the logged-in session of ``civil_id``."""
        session.civil_id = civil_id
        session.stamp = stamp
        file_under(self.by_account, civil_id, session.key)

    def end(self, key):
        """End the session under ``key`` (if any); returns it."""
        session = self.by_key.pop(key, None)
        if session is None:
            return None
        self.by_expiry.pop((session.expires.timestamp(), key), None)
        if session.civil_id:
            unfile(self.by_account, session.civil_id, key)
        return session

    def end_of(self, civil_id, key):
        """End ``key`` if it is a session of ``civil_id``; True if it was."""
        session = self.by_key.get(key)
        if session is None or session.civil_id != civil_id:
            return False
        self.end(key)
        return True

    def keys_of(self, civil_id):
        return tuple(filed_under(self.by_account, civil_id))

    def sessions_of(self, civil_id, now, idle_timeout):
        """The live sessions of ``civil_id``, the latest started first."""
        found = (self.by_key.get(key) for key in self.keys_of(civil_id))
        live = [session for session in found if session and session.is_live(now, idle_timeout)]
        return sorted(live, key=lambda session: session.created, reverse=True)

    def end_all_of(self, civil_id, keep=None):
        """End every session of ``civil_id`` but ``keep``; returns how many ended."""
        ended = [key for key in self.keys_of(civil_id) if key != keep]
        for key in ended:
            self.end(key)
        return len(ended)

    def prune(self, now, batch=PRUNE_BATCH):
        """Remove a few sessions past their absolute lifetime (idle ones are refused
        when used, and go when their lifetime ends)."""
        horizon = (now.timestamp(), '')
        for _expires, key in list(islice(self.by_expiry.keys(max=horizon), batch)):
            self.end(key)


def session_store(connection):
    """The store, reached from a connection to any of the application's databases."""
    return connection.get_connection(SESSIONS_DATABASE).root()[STORE_KEY]


def create_session_store(db):
    """Create the store in the sessions database ``db`` on first start."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            root = conn.root()
            if STORE_KEY not in root:
                tm.get().note('occi_site: session store')
                root[STORE_KEY] = SessionStore()
    finally:
        conn.close()
