"""Friendly error pages in the visitor's language; never a traceback."""

import logging

from pyramid.exceptions import BadCSRFToken
from pyramid.traversal import find_interface, find_root
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from ..integrations.commercial_registry import RegistryError
from ..resources import root_factory
from ..resources.content import ContentArea
from ..resources.site import Site
from .public import safe_return_path

log = logging.getLogger(__name__)


# A record the person may not see answers as a missing one does, or its address would tell
# whether it exists (whether a civil ID has an account, a CR a company record, a draft its
# name). Someone logged in finds neither. A visitor finds neither in the content area (a
# draft, and anything below it); elsewhere (the site's private containers, where the
# member's mail links to their own records) a visitor is asked to log in at both.


def _private(request):
    """Whether the request's context is a record of the site the person may not see."""
    context = getattr(request, 'context', None)
    return isinstance(find_root(context), Site) and not request.has_permission('view', context)


def _hidden(request):
    """Whether the page answers "not found" for a record the person may not see."""
    return request.identity is not None or find_interface(request.context, ContentArea) is not None


def _not_found_page(request):
    request.override_renderer = 'errors/404.jinja2'
    request.response.status = 404
    return {}


def _refused_page(request):
    request.override_renderer = 'errors/403.jinja2'
    request.response.status = 403
    return {'login_needed': request.identity is None}


def _site_root(request):
    # A route of its own root (``/_health``) leaves one the page's menu cannot read.
    if not isinstance(getattr(request, 'root', None), Site):
        request.root = root_factory(request)


@notfound_view_config(renderer='errors/404.jinja2')
def not_found(exc, request):
    _site_root(request)
    if _private(request) and not _hidden(request):
        return _refused_page(request)
    return _not_found_page(request)


@forbidden_view_config(renderer='errors/403.jinja2')
def forbidden(exc, request):
    _site_root(request)
    if _private(request) and _hidden(request):
        return _not_found_page(request)
    return _refused_page(request)


# UnicodeDecodeError: a query or form value that is not UTF-8 (``?after=%ff``), which WebOb
# raises when the view first reads it; URLDecodeError, the path's, is one.
@exception_view_config(UnicodeDecodeError, renderer='errors/400.jinja2')
def unreadable_address(exc, request):
    """An address that is not UTF-8 (``/static/%c0%ae``): the visitor's mistake, or a probe."""
    # Refused before traversal found the root, which the page's menu needs.
    _site_root(request)
    request.response.status = 400
    return {}


@exception_view_config(BadCSRFToken, renderer='errors/stale_form.jinja2')
def stale_form(exc, request):
    """A form sent from a page of a session that ended (or from another
    site): nothing was done; the way back is the page it was sent from."""
    request.response.status = 400
    sent_from = request.referer or ''
    if not sent_from.startswith(request.application_url + '/'):
        sent_from = ''
    return {'back_to': safe_return_path(request, sent_from[len(request.application_url) :])}


@exception_view_config(RegistryError, renderer='errors/registry.jinja2')
def registry_unavailable(exc, request):
    log.error('commercial registry: %s', exc)
    request.response.status = 503
    return {}


# Not for an error the retry policy will try again (a database conflict on
# any attempt but the last): that attempt is thrown away, so neither a page
# nor a log line is due.
@exception_view_config(Exception, renderer='errors/500.jinja2', retryable_error=False)
def server_error(exc, request):
    # The raw path: the error may be that it does not decode.
    log.exception('unhandled error on %r', request.environ.get('PATH_INFO'))
    request.response.status = 500
    return {}


def includeme(config):
    config.scan(__name__)
