"""``GET /_health``: for the load balancer, whether this server can reach the database.

Opening the request's connection asks the storage for what changed since
(RelStorage queries the database), and the site's generation is read; no
session, no template.
"""

import logging

from pyramid.response import Response
from pyramid.traversal import DefaultRootFactory
from pyramid.view import view_config
from pyramid_zodbconn import get_connection

from ..resources import ROOT_KEY

log = logging.getLogger(__name__)


@view_config(route_name='health', request_method=('GET', 'HEAD'))
def health(request):
    try:
        generation = get_connection(request).root()[ROOT_KEY].generation
    except Exception as error:
        log.warning('health check: the database is not reachable: %s', error)
        return Response('database unavailable\n', status=503, content_type='text/plain')
    response = Response('ok generation %d\n' % generation, content_type='text/plain')
    response.cache_control.no_store = True
    return response


def includeme(config):
    # Not the site's root factory: a database that fails is an answer here, not an error.
    config.add_route('health', '/_health', factory=DefaultRootFactory)
    config.scan(__name__)
