"""Pages kept rendered in the process while what they show is unchanged.

A view configured with ``anonymous_cache=revision`` is rendered once per
address and language, and again when ``revision(context, request)`` differs:
a value read from the database (``ContentArea.revision``, an object's
``_p_serial``), so a change made through any app server is seen by all.  A
revision of ``None`` says the page is not to be kept: it is rendered every
time.  Only GET requests with no session cookie are served from the cache, and
only responses that set no cookie are kept.  A tween serves them before the
transaction, routing, traversal and the view pipeline, after finding the
page's context again and checking the view's permission and revision there.
At most ``PAGES_KEPT`` such pages are kept, the least recently used go.

A signed-in person's page configured with ``member_cache=True`` (a member's
dashboard, an administrator's listing) is kept the same way, checked by a
fingerprint of everything it shows (``member_cache``).
"""

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal
from types import FunctionType
from typing import NamedTuple

from persistent import Persistent
from pyramid.interfaces import IDefaultPermission
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.traversal import resource_path_tuple
from repoze.lru import LRUCache
from translationstring import TranslationString

from .resources import ROOT_KEY, database
from .sessions import COOKIE_NAME

PAGES_KEPT = 1000


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

    def serve(self, request, root):
        """The page again, or ``None`` where it may have changed or the
        request may not see it; the request is then handled as usual."""
        context = request.root = root
        try:
            for name in self.context_path:
                context = context[name]
        except KeyError:
            return None
        request.matchdict = self.matchdict
        if self.permission is not None and not request.has_permission(self.permission, context):
            return None
        if self.revision_of(context, request) != self.revision:
            return None
        return Response(body=self.body, status=self.status, headerlist=list(self.headers))


def kept_page_key(request):
    """Which kept page answers ``request``: only GET requests of visitors with
    no session are answered from them, by address and language."""
    if request.method != 'GET' or COOKIE_NAME in request.cookies:
        return None
    environ = request.environ
    # As received: the page is kept even where the address does not decode.
    return (environ.get('PATH_INFO'), environ.get('QUERY_STRING'), request.locale_name)


def view_permission(info):
    permission = info.options.get('permission')
    if permission is None:
        permission = info.registry.queryUtility(IDefaultPermission)
    if permission == NO_PERMISSION_REQUIRED:
        return None
    return permission


def anonymous_cache(view, info):
    """Keeps the page of a view configured with ``anonymous_cache``; the
    ``kept_pages_tween_factory`` tween serves it again."""
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
            page = KeptPage(
                revision_of,
                permission,
                # The names from the root down: found again by item, not traversal.
                resource_path_tuple(context)[1:],
                request.matchdict,
                current,
                response.status,
                tuple(response.headerlist),
                response.body,
            )
            pages.put(key, page)
        return response

    return keeping_view


anonymous_cache.options = ('anonymous_cache',)


def kept_pages_tween_factory(handler, registry):
    """Serves a kept anonymous page before the transaction, routing,
    traversal and the view pipeline: only its context, permission and
    revision are looked at, through a connection of its own that reads and
    is closed (nothing is written: there is no transaction to commit)."""
    pages = registry.occi_kept_pages
    db = database(registry)

    def kept_pages_tween(request):
        key = kept_page_key(request)
        page = None if key is None else pages.get(key)
        if page is not None:
            connection = db.open()
            try:
                response = page.serve(request, connection.root()[ROOT_KEY])
            except Exception:
                # Handled as usual, where an error gets the portal's error page.
                response = None
            finally:
                connection.close()
                # The router sets them afresh: nothing of this connection outlives it.
                request.__dict__.pop('root', None)
                request.__dict__.pop('matchdict', None)
            if response is not None:
                return response
        return handler(request)

    return kept_pages_tween


class Unkept(Exception):
    """A page value with no fingerprint: the page is rendered every time."""


def fingerprint(value):
    """What ``value`` shows on a page, as a value that compares equal only
    while the page would render the same: plain values as they are, a stored
    record as its oid and the serial of its last change (and those of the
    records it holds directly, e.g. a company's membership), containers and
    frozen dataclasses part by part (a dataclass by the fields it compares).
    Raises Unkept for anything else, and for a record changed in this
    transaction or not yet stored."""
    kind = value.__class__
    if kind is str:
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
    return tuple([(key, fingerprint(item)) for key, item in value.items()])


def _sequence(value):
    return tuple(map(fingerprint, value))


def _frozen(value):
    # The fields it is compared by: one left out of equality is left out here.
    return (value.__class__, *[fingerprint(getattr(value, name)) for name in _compared(value)])


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
    if depth == 0 and hasattr(record, '__dict__'):
        held = tuple(
            [_record(item, 1) for item in record.__dict__.values() if isinstance(item, Persistent)]
        )
    return (record._p_oid, record._p_serial, held)


def member_cache(view, info):
    """``member_cache=True``: a signed-in person's page kept rendered while
    what it shows is unchanged.  Sits between the view and its renderer, so it
    sees the view's values: they, the person's account, the session's CSRF
    token, the language, the address, the day and the content menu's revision
    make the page's fingerprint (``fingerprint``); a page whose values have
    none, or with messages to flash, is rendered every time.  Kept per person,
    address and language, at most ``PAGES_KEPT`` a view."""
    if not info.options.get('member_cache'):
        return view
    renderer = info.options['renderer']
    pages = LRUCache(PAGES_KEPT)

    def cached_view(context, request):
        values = view(context, request)
        account = request.identity
        if (
            request.method != 'GET'
            or not isinstance(values, dict)
            or account is None
            or request.session.peek_flash()
            or 'override_renderer' in request.__dict__
        ):
            return values
        try:
            current = fingerprint(
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
            return values
        environ = request.environ
        key = (
            account.civil_id,
            environ.get('PATH_INFO'),
            environ.get('QUERY_STRING'),
            request.locale_name,
        )
        kept = pages.get(key)
        if kept is not None and kept[0] == current:
            _fingerprint, status, headers, body = kept
            return Response(body=body, status=status, headerlist=list(headers))
        response = renderer.render_view(request, values, info.original_view, context)
        if 'Set-Cookie' not in response.headers:
            pages.put(key, (current, response.status, tuple(response.headerlist), response.body))
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
    config.registry.occi_kept_pages = LRUCache(PAGES_KEPT)
    config.registry.occi_kept_values = LRUCache(PAGES_KEPT)
    config.add_view_deriver(anonymous_cache)
    config.add_tween(
        'occi_site.page_cache.kept_pages_tween_factory', over='pyramid_tm.tm_tween_factory'
    )
    # Between the view and its renderer, to see the view's values.
    config.add_view_deriver(member_cache, under='rendered_view', over='mapped_view')
