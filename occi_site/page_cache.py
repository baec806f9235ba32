"""Pages kept rendered in the process while what they show is unchanged.

A view configured with ``anonymous_cache=revision`` is rendered once per
address and language, and again when ``revision(context, request)`` differs:
a value read from the database (``ContentArea.revision``, an object's
``_p_serial``), so a change made through any app server is seen by all.  A
revision of ``None`` says the page is not to be kept: it is rendered every
time.  Only GET requests with no session cookie are served from the cache, and
only responses that set no cookie are kept; the permission check runs first.
Each view keeps at most ``PAGES_KEPT`` pages, the least recently used go.

A member's page configured with ``member_cache=True`` is kept the same way,
checked by a fingerprint of everything it shows (``member_cache``).
"""

from dataclasses import is_dataclass
from datetime import date
from decimal import Decimal
from types import FunctionType

from persistent import Persistent
from pyramid.response import Response
from repoze.lru import LRUCache
from translationstring import TranslationString

from .sessions import COOKIE_NAME

PAGES_KEPT = 1000


def anonymous_cache(view, info):
    revision = info.options.get('anonymous_cache')
    if revision is None:
        return view
    pages = LRUCache(PAGES_KEPT)

    def cached_view(context, request):
        if request.method != 'GET' or COOKIE_NAME in request.cookies:
            return view(context, request)
        environ = request.environ
        # As received: the page is kept even where the address does not decode.
        key = (environ.get('PATH_INFO'), environ.get('QUERY_STRING'), request.locale_name)
        current = revision(context, request)
        if current is None:
            return view(context, request)
        kept = pages.get(key)
        if kept is not None and kept[0] == current:
            _revision, status, headers, body = kept
            return Response(body=body, status=status, headerlist=list(headers))
        response = view(context, request)
        if 'Set-Cookie' not in response.headers:
            pages.put(key, (current, response.status, tuple(response.headerlist), response.body))
        return response

    return cached_view


anonymous_cache.options = ('anonymous_cache',)


class Unkept(Exception):
    """A page value with no fingerprint: the page is rendered every time."""


def fingerprint(value):
    """What ``value`` shows on a page, as a value that compares equal only
    while the page would render the same: plain values as they are, a stored
    record as its oid and the serial of its last change (and those of the
    records it holds directly, e.g. a company's membership), containers and
    frozen dataclasses part by part.  Raises Unkept for anything else, and for
    a record changed in this transaction or not yet stored."""
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
    return (value.__class__, *map(fingerprint, value.__dict__.values()))


def _unkept(value):
    raise Unkept(value.__class__.__name__)


def _part_for(kind):
    if issubclass(kind, TranslationString):
        return _translation
    if issubclass(kind, (str, bytes, FunctionType, type(None))):
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
    """``member_cache=True``: a member's page kept rendered while what it shows
    is unchanged.  Sits between the view and its renderer, so it sees the
    view's values: they, the member's account, the session's CSRF token, the
    language, the address, the day and the content menu's revision make the
    page's fingerprint (``fingerprint``); a page whose values have none, or
    with messages to flash, is rendered every time.  Kept per member, address
    and language, at most ``PAGES_KEPT`` a view."""
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


def includeme(config):
    config.add_view_deriver(anonymous_cache)
    # Between the view and its renderer, to see the view's values.
    config.add_view_deriver(member_cache, under='rendered_view', over='mapped_view')
