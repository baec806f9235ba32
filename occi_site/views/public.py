"""Public pages: home, Contact Us, Privacy Policy, Terms of use, language choice."""

from urllib.parse import quote, urlsplit

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..i18n import LANGUAGE_COOKIE, LANGUAGES, _
from ..resources.site import Site
from .content import latest_news

# What a path or query keeps as it is (RFC 3986's reserved and unreserved characters, and
# the percent signs of what is encoded already).
PATH_SAFE = "/%:@!$&'()*+,;=~"


def content_revision(context, request):
    return request.root['content'].revision


@view_config(
    context=Site, renderer='home.jinja2', permission='view', anonymous_cache=content_revision
)
def home(context, request):
    return {'news': latest_news(request)}


@view_config(context=Site, name='contact', renderer='contact.jinja2', permission='view')
def contact(context, request):
    return {'crumbs': [(_('Contact Us'), None)]}


@view_config(context=Site, name='privacy', renderer='privacy.jinja2', permission='view')
def privacy(context, request):
    return {'crumbs': [(_('Privacy Policy'), None)]}


@view_config(context=Site, name='terms', renderer='terms.jinja2', permission='view')
def terms(context, request):
    return {'crumbs': [(_('Terms of use'), None)]}


def safe_return_path(request, came_from):
    """Only a path on this site: never an open redirect to another host."""
    try:
        parts = urlsplit(came_from if isinstance(came_from, str) else '')
    except ValueError:
        # No address Python can read (``//[``, a host NFKC would change): home.
        return request.application_url + '/'
    if (
        parts.scheme
        or parts.netloc
        or not parts.path.startswith('/')
        or parts.path.startswith('//')
    ):
        return request.application_url + '/'
    # Percent-encoded: a Location header carries Latin-1 only (``/中`` is ``/%E4%B8%AD``).
    path, query = quote(parts.path, safe=PATH_SAFE), quote(parts.query, safe=PATH_SAFE + '?')
    return request.application_url + path + ('?' + query if query else '')


@view_config(context=Site, name='language', permission='view', request_method='GET')
def choose_language(context, request):
    lang = request.params.get('set')
    response = HTTPSeeOther(safe_return_path(request, request.params.get('came_from')))
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite='Lax'
        )
    return response


def includeme(config):
    config.scan(__name__)
