"""Pages a visitor without a session sees, kept rendered in the process.

A view configured with ``anonymous_cache=revision`` is rendered once per
address and language, and again when ``revision(context, request)`` differs:
a value read from the database (``ContentArea.revision``, an object's
``_p_serial``), so a change made through any app server is seen by all.  A
revision of ``None`` says the page is not to be kept: it is rendered every
time.  Only GET requests with no session cookie are served from the cache, and
only responses that set no cookie are kept; the permission check runs first.
Each view keeps at most ``PAGES_KEPT`` pages, the least recently used go.
"""

from pyramid.response import Response
from repoze.lru import LRUCache

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


def includeme(config):
    config.add_view_deriver(anonymous_cache)
