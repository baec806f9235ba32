"""``request.session`` kept server-side: Pyramid's ISession over the database.

The cookie carries a random token and nothing else; the record lives in the
session store (``resources/sessions.py``, in the database named by
``zodbconn.uri.sessions``) under a keyed hash of the token, so a
forged, copied-after-logout or expired cookie names nothing.  Every app server
reads the same records, so ending a session ends it everywhere.

Cheap by design: a visitor who stores nothing causes no record and no write;
a record is created only when something is stored in it, and the time it was
last used is noted at most once a minute (``TOUCH_INTERVAL``).

Settings: ``occi.session.idle_timeout`` (seconds, default 1800) and
``occi.session.lifetime`` (seconds, default 43200) bound a session's life;
``occi.session.secret`` keys the hash; ``occi.session.secure`` marks the
cookie Secure.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from pyramid.events import ApplicationCreated
from pyramid.interfaces import ISession
from pyramid.settings import asbool
from pyramid_zodbconn import get_connection
from transaction.interfaces import TransientError
from zope.interface import implementer

from .resources import STARTUP_WAIT, database, patiently
from .resources.sessions import SESSIONS_DATABASE, create_session_store, session_store

COOKIE_NAME = 'occi_session'
TOUCH_INTERVAL = timedelta(seconds=60)
_TOKEN = re.compile(r'^[A-Za-z0-9_-]{43}$')
_FLASH = '_f_'
_CSRF = '_csrft_'


@dataclass(frozen=True)
class SessionSettings:
    secret: bytes
    idle_timeout: timedelta
    lifetime: timedelta
    secure: bool

    @classmethod
    def from_settings(cls, settings):
        return cls(
            secret=settings['occi.session.secret'].encode('utf-8'),
            idle_timeout=timedelta(seconds=int(settings.get('occi.session.idle_timeout', 1800))),
            lifetime=timedelta(seconds=int(settings.get('occi.session.lifetime', 43200))),
            secure=asbool(settings.get('occi.session.secure', False)),
        )

    def key_for(self, token):
        return hmac.new(self.secret, token.encode('ascii'), hashlib.sha256).hexdigest()


def _changes(method):
    def changing(session, *args, **kw):
        result = method(session, *args, **kw)
        session.changed()
        return result

    changing.__name__ = method.__name__
    return changing


@implementer(ISession)
class DatabaseSession(dict):
    """One request's view of its browser's session record (``record``, or None)."""

    def __init__(self, request):
        super().__init__()
        self.request = request
        self.settings = request.registry.occi_session_settings
        self.record = None
        self._cookie_callback = False
        if session_token(request) is None:
            return
        store = self._store()
        key = session_key(request)
        record = store.get(key) if key else None
        now = request.now
        if record is None or not record.is_live(now, self.settings.idle_timeout):
            if record is not None:
                store.end(key)
            self._send_cookie(None)
            return
        self.record = record
        super().update(record.data)
        if now - record.last_seen >= TOUCH_INTERVAL:
            record.activity.seen(now)

    def _store(self):
        return store(self.request)

    def _send_cookie(self, token):
        self._token = token
        if not self._cookie_callback:
            self._cookie_callback = True
            self.request.add_response_callback(self._write_cookie)

    def _write_cookie(self, request, response):
        if self._token is None:
            response.delete_cookie(COOKIE_NAME)
        else:
            response.set_cookie(
                COOKIE_NAME,
                self._token,
                path='/',
                secure=self.settings.secure,
                httponly=True,
                samesite='Lax',
            )

    def _start(self):
        token = secrets.token_urlsafe(32)
        request = self.request
        self.record = self._store().start(
            self.settings.key_for(token),
            request.now,
            self.settings.lifetime,
            request.user_agent or '',
        )
        self._send_cookie(token)

    # ISession

    @property
    def created(self):
        record = self.record
        return (record.created if record else self.request.now).timestamp()

    @property
    def new(self):
        return self.record is None

    def changed(self):
        if self.record is None:
            self._start()
        self.record.data = dict(self)

    def invalidate(self):
        if self.record is not None:
            self._store().end(self.record.key)
            self.record = None
            self._send_cookie(None)
        super().clear()

    def bind(self, account):
        """A fresh session for ``account``, just logged in: nothing of the session
        before it (CSRF token included) carries over."""
        self.invalidate()
        self._start()
        self._store().bind(self.record, account.civil_id, account.security_stamp)

    __setitem__ = _changes(dict.__setitem__)
    __delitem__ = _changes(dict.__delitem__)
    clear = _changes(dict.clear)
    popitem = _changes(dict.popitem)
    update = _changes(dict.update)

    # Taking out what is not there, or setting a default that is already there,
    # changes nothing and writes nothing.
    def pop(self, key, *default):
        if key not in self:
            return super().pop(key, *default)
        value = super().pop(key)
        self.changed()
        return value

    def setdefault(self, key, default=None):
        if key in self:
            return self[key]
        self[key] = default
        return default

    def flash(self, msg, queue='', allow_duplicate=True):
        messages = list(self.get(_FLASH + queue, ()))
        if allow_duplicate or msg not in messages:
            messages.append(msg)
            self[_FLASH + queue] = messages

    def pop_flash(self, queue=''):
        return self.pop(_FLASH + queue, [])

    def peek_flash(self, queue=''):
        return list(self.get(_FLASH + queue, ()))

    def new_csrf_token(self):
        token = secrets.token_hex(20)
        self[_CSRF] = token
        return token

    def get_csrf_token(self):
        token = self.get(_CSRF)
        return token if token is not None else self.new_csrf_token()


def session_token(request):
    """The session cookie's value as the browser sent it, or None where it
    sent none (read once per request: a kept page's request asks three
    times)."""
    try:
        return request._occi_session_token
    except AttributeError:
        token = request._occi_session_token = request.cookies.get(COOKIE_NAME)
        return token


def session_key(request):
    """The key of the session record the request's cookie names, or None
    where it has no cookie or one that is not a token (worked out once per
    request: kept pages look for it before the session is read)."""
    key = getattr(request, '_occi_session_key', None)
    if key is None:
        token = session_token(request)
        valid = token is not None and _TOKEN.match(token)
        key = request.registry.occi_session_settings.key_for(token) if valid else ''
        request._occi_session_key = key
    return key or None


def store(request):
    """The session store, in this request's transaction."""
    return session_store(get_connection(request))


def live_sessions(request, civil_id):
    """The live sessions of ``civil_id``, the latest started first."""
    settings = request.registry.occi_session_settings
    return store(request).sessions_of(civil_id, request.now, settings.idle_timeout)


def _on_application_created(event):
    # Servers started together on an empty database all try to create it.
    registry = event.app.registry
    patiently(
        'creating the session store conflicted with another process',
        partial(create_session_store, database(registry).databases[SESSIONS_DATABASE]),
        float(registry.settings.get('occi.startup.wait', STARTUP_WAIT)),
        TransientError,
    )


def includeme(config):
    config.registry.occi_session_settings = SessionSettings.from_settings(config.registry.settings)
    config.set_session_factory(DatabaseSession)
    config.add_subscriber(_on_application_created, ApplicationCreated)
