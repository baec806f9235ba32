"""Pages kept rendered in the process while what they show is unchanged.

A view configured with ``anonymous_cache=revision`` is rendered once per
address and language, and again when ``revision(context, request)`` differs:
a value read from the database (``ContentArea.revision``, an object's
``_p_serial``), so a change made through any app server is seen by all.  A
revision of ``None`` says the page is not to be kept: it is rendered every
time.  Only GET requests with no session cookie are served from the cache, and
only responses that set no cookie are kept.  At most ``PAGES_KEPT`` such pages
are kept, the least recently used go.

A signed-in person's page configured with ``member_cache=True`` (a member's
dashboard, an administrator's listing) is kept the same way, per session,
checked by a fingerprint of everything the view gives its template
(``member_fingerprint``): the view runs, its template does not.

Both are served before the transaction to commit, the tweens, routing,
traversal and the view pipeline (``kept_pages_policy``), after finding the
page's context again and checking the view's permission and the page's
revision or fingerprint there.
"""

import logging
import traceback
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from types import FunctionType
from typing import NamedTuple

from persistent import Persistent
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import PHASE3_CONFIG, IDefaultPermission, IExecutionPolicy, IRootFactory
from pyramid.response import Response
from pyramid.router import default_execution_policy
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.traversal import resource_path_tuple
from repoze.lru import LRUCache
from translationstring import TranslationString

from .headers import send_security_headers
from .sessions import session_key, session_token

log = logging.getLogger(__name__)

PAGES_KEPT = 1000
# The member pages of every view (a dashboard, a request page, two of /manage).
MEMBER_PAGES_KEPT = 4 * PAGES_KEPT
# After the default phase's actions, where set_execution_policy registers.
AFTER_THE_EXECUTION_POLICY = PHASE3_CONFIG + 1


class KeptPage(NamedTuple):
    """An anonymous page as rendered, and what serving it again needs: the
    view's revision function and permission, and where its context and
    matchdict came from."""

    revision_of: Callable
    permission: str | None
    context_path: tuple
    matchdict: dict | None
    revision: object
    status: str
    headers: tuple
    body: bytes

    def still_shown(self, context, request):
        """Whether the page would be rendered the same for ``request``."""
        return self.revision_of(context, request) == self.revision


class MemberPage(NamedTuple):
    """A signed-in person's page as rendered, and what serving it again
    needs: the view (as mapped: it returns the page's values), its
    permission, where its context and matchdict came from, and the
    fingerprint of the values it was rendered from."""

    view: Callable
    permission: str | None
    context_path: tuple
    matchdict: dict | None
    fingerprint: object
    status: str
    headers: tuple
    body: bytes

    def still_shown(self, context, request):
        """Whether the view gives values of the same fingerprint."""
        return member_fingerprint(request, self.view(context, request)) == self.fingerprint


def _allowed_context(request, root, page):
    """The kept ``page``'s context found again from ``root``, by name, with
    the request set up as traversal would; None where it is gone or the
    request may not see it."""
    context = root
    try:
        for name in page.context_path:
            context = context[name]
    except KeyError:
        return None
    request.context = context
    request.matchdict = None if page.matchdict is None else dict(page.matchdict)
    if page.permission is not None and not request.has_permission(page.permission, context):
        return None
    return context


def _kept(kind, check, permission, current, context, request, response):
    """The ``kind`` of kept page (KeptPage, MemberPage) of ``response`` to
    ``request`` on ``context``, and how it is checked again."""
    return kind(
        check,
        permission,
        # The names from the root down: found again by item, not traversal.
        resource_path_tuple(context)[1:],
        request.matchdict,
        current,
        response.status,
        # As sent, the security headers included: nothing to add when served.
        tuple(send_security_headers(request, response).headerlist),
        response.body,
    )


def _response(page):
    return Response(body=page.body, status=page.status, headerlist=list(page.headers))


def _sent(page):
    """The kept ``page`` as a WSGI application: all the router does with the
    execution policy's answer is call it, and making a Response took a sixth
    of the time of serving a kept page."""

    def send(environ, start_response):
        start_response(page.status, list(page.headers))
        return [page.body]

    return send


def kept_page_key(request):
    """Which kept page answers ``request``: only GET requests of visitors with
    no session are answered from them, by address and language."""
    if request.method != 'GET' or session_token(request) is not None:
        return None
    environ = request.environ
    # As received: the page is kept even where the address does not decode.
    return (environ.get('PATH_INFO'), environ.get('QUERY_STRING'), request.locale_name)


def member_page_key(request):
    """Which kept member's page answers ``request``: GET requests with a
    session, by the session's key (not its cookie), address and language."""
    if request.method != 'GET':
        return None
    session = session_key(request)
    if session is None:
        return None
    environ = request.environ
    return (session, environ.get('PATH_INFO'), environ.get('QUERY_STRING'), request.locale_name)


def view_permission(info):
    permission = info.options.get('permission')
    if permission is None:
        permission = info.registry.queryUtility(IDefaultPermission)
    if permission == NO_PERMISSION_REQUIRED:
        return None
    return permission


def anonymous_cache(view, info):
    """Keeps the page of a view configured with ``anonymous_cache``;
    ``kept_pages_policy`` serves it again."""
    revision_of = info.options.get('anonymous_cache')
    if revision_of is None:
        return view
    permission = view_permission(info)
    pages = info.registry.occi_kept_pages

    def keeping_view(context, request):
        key = kept_page_key(request)
        current = None if key is None else revision_of(context, request)
        response = view(context, request)
        if current is not None and 'Set-Cookie' not in response.headers:
            pages.put(
                key, _kept(KeptPage, revision_of, permission, current, context, request, response)
            )
        return response

    return keeping_view


anonymous_cache.options = ('anonymous_cache',)


def kept_pages_policy(policy, registry):
    """The execution ``policy`` (pyramid_retry's), preceded by serving a kept
    page: a GET request that a kept page answers is served without a
    transaction to commit, tweens, routing, traversal or the view pipeline.
    Its own request finds the page's context again, checks the view's
    permission and the page's revision (a member's page: its fingerprint)
    in a transaction that is aborted; where any of that fails, raises, writes
    anything (a session's use noted, a stale request expired) or has a
    cookie to send, the request goes the usual way."""
    anonymous = registry.occi_kept_pages
    members = registry.occi_member_pages

    def kept_pages_first(environ, router):
        if environ.get('REQUEST_METHOD') == 'GET':
            try:
                response = _kept_response(router, environ, anonymous, members)
                if response is not None:
                    return response
            except Exception as error:
                # Handled as usual, where an error gets the portal's error page.
                _tell_once(error)
        return policy(environ, router)

    return kept_pages_first


def _kept_response(router, environ, anonymous, members):
    with router.request_context(environ) as request:
        key = kept_page_key(request)
        if key is not None:
            page = anonymous.get(key)
        else:
            key = member_page_key(request)
            page = None if key is None else members.get(key)
        if page is None:
            return None
        try:
            return _served(request, page)
        finally:
            router.finish_request(request)


def _served(request, page):
    manager = request.tm
    manager.begin()
    try:
        root = request.root = request.registry.queryUtility(IRootFactory)(request)
        context = _allowed_context(request, root, page)
        # Asked before the view runs as well: a session whose use is to be
        # noted goes the usual way at once, without running the view twice.
        if (
            context is None
            or _to_complete(request, manager)
            or not page.still_shown(context, request)
            or _to_complete(request, manager)
        ):
            return None
        return _sent(page)
    finally:
        manager.abort()


def _to_complete(request, manager):
    """Whether the request did what only the usual path completes: wrote (a
    record, a message queued: whatever writes joins the transaction or hooks
    its commit) or has a cookie to send."""
    transaction = manager.get()
    return bool(
        transaction._resources
        or any(transaction.getBeforeCommitHooks())
        or any(transaction.getAfterCommitHooks())
        or request.response_callbacks
    )


_TOLD = set()


def _tell_once(error):
    # A lasting failure has every request for a kept page handled twice:
    # logged once per kind and place, not once per request.
    place = traceback.extract_tb(error.__traceback__)[-1]
    kind = (error.__class__, place.filename, place.lineno)
    if kind not in _TOLD:
        _TOLD.add(kind)
        log.warning('a kept page could not be served; handled as usual', exc_info=error)


def _serve_kept_pages_first(registry):
    policy = registry.queryUtility(IExecutionPolicy, default=default_execution_policy)
    registry.registerUtility(kept_pages_policy(policy, registry), IExecutionPolicy)


class Unkept(Exception):
    """A page value with no fingerprint: the page is rendered every time."""


# Values that are their own fingerprint, told apart without a call in the
# containers' loops: most of a page's values are text.
_PLAIN = frozenset({str, type(None)})


def fingerprint(value):
    """What ``value`` shows on a page, as a value that compares equal only
    while the page would render the same: plain values as they are, a stored
    record as its oid and the serial of its last change (and those of the
    records it holds directly, e.g. a company's membership), containers and
    frozen dataclasses part by part (a dataclass by the fields it compares).
    Raises Unkept for anything else, and for a record changed in this
    transaction or not yet stored."""
    kind = value.__class__
    if kind in _PLAIN:
        return value
    # Dispatched on the class, found once per class: pages hold hundreds of values.
    part = _PARTS.get(kind)
    if part is None:
        part = _PARTS[kind] = _part_for(kind)
    return part(value)


def _as_is(value):
    return value


def _tagged(value):
    # 1, 1.0 and True are equal, but do not print alike.
    return (value.__class__, value)


def _translation(value):
    return (str(value), value.domain, value.default, fingerprint(value.mapping))


def _mapping(value):
    return tuple(
        [
            (key, item if item.__class__ in _PLAIN else fingerprint(item))
            for key, item in value.items()
        ]
    )


def _sequence(value):
    return tuple([item if item.__class__ in _PLAIN else fingerprint(item) for item in value])


def _frozen(value):
    # The fields it is compared by: one left out of equality is left out here.
    parts = [value.__class__]
    for name in _compared(value):
        item = getattr(value, name)
        parts.append(item if item.__class__ in _PLAIN else fingerprint(item))
    return tuple(parts)


def _compared(value):
    kind = value.__class__
    names = _COMPARED.get(kind)
    if names is None:
        names = _COMPARED[kind] = tuple([f.name for f in fields(kind) if f.compare])
    return names


def _unkept(value):
    raise Unkept(value.__class__.__name__)


def _part_for(kind):
    if issubclass(kind, TranslationString):
        return _translation
    if issubclass(kind, (str, bytes, FunctionType, type, type(None))):
        return _as_is
    if issubclass(kind, (int, float, Decimal, date)):
        return _tagged
    if issubclass(kind, Persistent):
        return _record
    if issubclass(kind, dict):
        return _mapping
    if issubclass(kind, (list, tuple)):
        return _sequence
    if is_dataclass(kind) and kind.__dataclass_params__.frozen and '__slots__' not in vars(kind):
        return _frozen
    return _unkept


_PARTS = {}
_COMPARED = {}


def _record(record, depth=0):
    if record._p_oid is None or record._p_changed:
        raise Unkept('a record changed in this request')
    record._p_activate()
    held = ()
    if depth == 0:
        attributes = getattr(record, '__dict__', None)
        if attributes:
            held = tuple(
                [_record(item, 1) for item in attributes.values() if isinstance(item, Persistent)]
            )
    return (record._p_oid, record._p_serial, held)


def member_fingerprint(request, values):
    """The fingerprint of a signed-in person's page of ``values``
    (``fingerprint``): of them, the person's account, the session's CSRF
    token, the address, the day and the content menu's revision; None where
    the page is not to be kept (it has no fingerprint, or messages to flash,
    or the view chose another renderer or set the response's status or
    headers)."""
    account = request.identity
    if (
        request.method != 'GET'
        or not isinstance(values, dict)
        or account is None
        or request.session.peek_flash()
        or 'override_renderer' in request.__dict__
        or 'response' in request.__dict__
    ):
        return None
    try:
        return fingerprint(
            (
                values,
                account,
                request.session.get_csrf_token(),
                request.application_url,
                request.today,
                request.root['content'].revision,
            )
        )
    except Unkept:
        return None


def member_cache(view, info):
    """``member_cache=True``: a signed-in person's page kept rendered while
    what it shows is unchanged (``member_fingerprint``).  Sits between the
    view and its renderer, so it sees the view's values; a page with no
    fingerprint is rendered every time.  Kept per session, address and
    language, at most ``MEMBER_PAGES_KEPT`` in all; ``kept_pages_policy``
    serves them before the view pipeline."""
    if not info.options.get('member_cache'):
        return view
    served_without = [
        name for name in ('http_cache', 'decorator', 'wrapper') if info.options.get(name)
    ]
    if served_without:
        raise ConfigurationError(
            'member_cache: a kept page is served without the view pipeline, so without %s'
            % ', '.join(served_without)
        )
    renderer = info.options['renderer']
    permission = view_permission(info)
    pages = info.registry.occi_member_pages

    def cached_view(context, request):
        values = view(context, request)
        key = member_page_key(request)
        current = None if key is None else member_fingerprint(request, values)
        if current is None:
            return values
        kept = pages.get(key)
        if kept is not None and kept.view is view and kept.fingerprint == current:
            return _response(kept)
        response = renderer.render_view(request, values, info.original_view, context)
        if 'Set-Cookie' not in response.headers:
            pages.put(key, _kept(MemberPage, view, permission, current, context, request, response))
        return response

    return cached_view


member_cache.options = ('member_cache',)


def kept_value(request, key, revision, work_out):
    """What ``work_out()`` gave for ``key`` while ``revision``, read from the
    database (a container's ``revision``), is the same: worked out again
    after any change the revision counts, made through any app server, and
    every time while the revision is None.  At most ``PAGES_KEPT`` values,
    per app server."""
    values = request.registry.occi_kept_values
    if revision is None:
        return work_out()
    kept = values.get(key)
    if kept is not None and kept[0] == revision:
        return kept[1]
    value = work_out()
    values.put(key, (revision, value))
    return value


def includeme(config):
    """Kept pages, for an application that includes ``occi_site.headers``
    first: pages are kept with the security headers it sends."""
    config.registry.occi_kept_pages = LRUCache(PAGES_KEPT)
    config.registry.occi_member_pages = LRUCache(MEMBER_PAGES_KEPT)
    config.registry.occi_kept_values = LRUCache(PAGES_KEPT)
    config.add_view_deriver(anonymous_cache)
    # Between the view and its renderer, to see the view's values.
    config.add_view_deriver(member_cache, under='rendered_view', over='mapped_view')
    # Around whatever execution policy the configuration sets (pyramid_retry's).
    config.action(
        None, _serve_kept_pages_first, args=(config.registry,), order=AFTER_THE_EXECUTION_POLICY
    )
