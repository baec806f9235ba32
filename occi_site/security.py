"""One security policy: identity from the signed session cookie, permissions
from ``__acl__``.

Principals are the civil ID, ``role:<role>`` for each role of the account,
and ``cr:<number>`` for each CR the commercial registry lists the person for.
The CR principals are asked of the registry only when an ACL names one.
"""

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.session import SignedCookieSessionFactory
from pyramid.settings import asbool

from .resources import root_factory

SESSION_KEY = 'civil_id'


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
    def identity(self, request):
        civil_id = request.session.get(SESSION_KEY)
        if civil_id is None:
            return None
        account = root_factory(request)['accounts'].get(civil_id)
        if account is None or not account.is_active:
            return None
        return account

    def authenticated_userid(self, request):
        account = request.identity
        return None if account is None else account.civil_id

    def permits(self, request, context, permission):
        principals = Principals(request, request.identity)
        return ACLHelper().permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        # A fresh session on login: nothing from before it (CSRF token
        # included) carries over.
        request.session.invalidate()
        request.session[SESSION_KEY] = userid
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []


def includeme(config):
    settings = config.registry.settings
    config.set_session_factory(
        SignedCookieSessionFactory(
            settings['occi.session.secret'],
            cookie_name='occi_session',
            secure=asbool(settings.get('occi.session.secure', False)),
            httponly=True,
            samesite='Lax',
            timeout=int(settings.get('occi.session.timeout', 3600)),
            reissue_time=int(settings.get('occi.session.reissue_time', 300)),
        )
    )
    config.set_security_policy(SecurityPolicy())
    config.set_default_csrf_options(require_csrf=True)
