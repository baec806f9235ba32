"""POST /query: the signed status query of the merchant's server (see ..query)."""

import logging

from ..query import QueryRefused, read_query

log = logging.getLogger(__name__)


def status_query(request):
    sandbox = request.sandbox
    try:
        reference = read_query(request.POST, sandbox.profile)
    except QueryRefused as refused:
        log.warning('Refused a status query: %s', refused)
        request.response.status = 400
        return {'error': str(refused)}
    return {'transactions': sandbox.checkouts.decided_for(reference)}


def includeme(config):
    config.add_route('query', '/query')
    config.add_view(status_query, route_name='query', request_method='POST', renderer='json')
