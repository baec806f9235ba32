"""One security policy: identity from the server-side session, permissions
from ``__acl__``.

A session names the account it was started for and that account's security
stamp at login; the account renews its stamp whenever its state or roles
change (``Account.__setattr__``), so a lock or a role change ends every
session of the account on every app server, whichever code made the change.

Principals are the civil ID, ``role:<role>`` for each role of the account,
and ``cr:<number>`` for each CR the commercial registry lists the person for.
The CR principals are asked of the registry only when an ACL names one.
"""

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.csrf import LegacySessionCSRFStoragePolicy
from pyramid.request import RequestLocalCache

from .resources import root_factory


class Principals:
    """The effective principals of a request, with the CR ones looked up lazily."""

    def __init__(self, request, account):
        self.request = request
        self.base = {Everyone}
        self.account = account
        if account is not None:
            self.base.add(Authenticated)
            self.base.add(account.civil_id)
            self.base.update('role:%s' % role for role in account.roles)

    def __contains__(self, principal):
        if principal in self.base:
            return True
        if isinstance(principal, str) and principal.startswith('cr:'):
            return principal[3:] in self.crs
        return False

    @property
    def crs(self):
        if self.account is None:
            return ()
        return member_crs(self.request)

    def __iter__(self):
        yield from sorted(self.base)
        for cr in self.crs:
            yield 'cr:%s' % cr


def member_crs(request):
    """The CR numbers the registry lists for the logged-in person (cached per request)."""
    cached = getattr(request, '_occi_member_crs', None)
    if cached is None:
        account = request.identity
        cached = (
            () if account is None else tuple(request.commercial_registry.crs_for(account.civil_id))
        )
        request._occi_member_crs = cached
    return cached


class SecurityPolicy:
    """Identity and principals are worked out once per request (a page asks
    what the person may do for every object it lists) and forgotten when
    the request logs in or out."""

    def __init__(self):
        self._identities = RequestLocalCache(self._identity)
        self._principals = RequestLocalCache(lambda request: Principals(request, request.identity))

    def _identity(self, request):
        session = request.session
        record = session.record
        if record is None or record.civil_id is None:
            return None
        account = root_factory(request)['accounts'].get(record.civil_id)
        if account is None or not account.is_active or account.security_stamp != record.stamp:
            session.invalidate()
            return None
        return account

    def identity(self, request):
        return self._identities.get_or_create(request)

    def authenticated_userid(self, request):
        account = request.identity
        return None if account is None else account.civil_id

    def principals(self, request):
        return self._principals.get_or_create(request)

    def permits(self, request, context, permission):
        return ACLHelper().permits(context, self.principals(request), permission)

    def _forget_person(self, request):
        self._identities.clear(request)
        self._principals.clear(request)

    def remember(self, request, userid, **kw):
        self._forget_person(request)
        request.session.bind(root_factory(request)['accounts'][userid])
        return []

    def forget(self, request, **kw):
        self._forget_person(request)
        request.session.invalidate()
        return []


class CSRFPolicy(LegacySessionCSRFStoragePolicy):
    """The session's token, as Pyramid's own policy keeps it; a file sent in the token's
    place is no token (Pyramid's comparison would fail on it with a TypeError)."""

    def check_csrf_token(self, request, supplied_token):
        return isinstance(supplied_token, str) and super().check_csrf_token(request, supplied_token)


def includeme(config):
    config.include('.sessions')
    config.set_security_policy(SecurityPolicy())
    config.set_csrf_storage_policy(CSRFPolicy())
    config.set_default_csrf_options(require_csrf=True)
