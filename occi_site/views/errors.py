"""Friendly error pages in the visitor's language; never a traceback."""

import logging

from pyramid.exceptions import URLDecodeError
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from ..integrations.commercial_registry import RegistryError
from ..resources import root_factory

log = logging.getLogger(__name__)


@notfound_view_config(renderer='errors/404.jinja2')
def not_found(exc, request):
    request.response.status = 404
    return {}


@forbidden_view_config(renderer='errors/403.jinja2')
def forbidden(exc, request):
    request.response.status = 403
    return {'login_needed': request.identity is None}


@exception_view_config(URLDecodeError, renderer='errors/400.jinja2')
def unreadable_address(exc, request):
    """An address that is not UTF-8 (``/static/%c0%ae``): the visitor's mistake, or a probe."""
    # Refused before traversal found the root, which the page's menu needs.
    request.root = root_factory(request)
    request.response.status = 400
    return {}


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
