"""Single Log-Out, started by the portal (/slo) or by the IdP (the sessions page)."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _
from ..provider import SamlRequestError


@view_config(
    route_name='slo', request_method='GET', request_param='SAMLRequest', renderer='answer.jinja2'
)
def logout_requested(request):
    """The portal logs the member out: end their sessions here and show the Single Log Out page,
    whose button returns the signed LogoutResponse (HTTP-Redirect)."""
    logout = request.idp.read_logout_request(request.GET)
    request.idp_state.end_sessions(logout.sp_entity_id, logout.civil_id, logout.session_indexes)
    return {
        'sp_entity_id': logout.sp_entity_id,
        'return_url': request.idp.logout_response_url(logout),
        'action': None,
        'fields': {},
        'note': None,
    }


@view_config(route_name='slo', request_method='GET', request_param='SAMLResponse')
def logout_answered(request):
    """The portal answers our own LogoutRequest."""
    request_id, succeeded = request.idp.read_logout_response(request.GET)
    session_index = request.idp_state.logout_answered(request_id)
    if session_index is None:
        raise SamlRequestError(
            _('This log-out answer does not belong to a log-out in progress.'), request_id
        )
    if succeeded:
        session = request.idp_state.session(session_index)
        if session is not None:
            request.idp_state.end_sessions(session.sp_entity_id, session.civil_id, (session_index,))
    return HTTPSeeOther(
        request.route_url('home', _query={'logout': 'done' if succeeded else 'failed'})
    )


@view_config(route_name='home', request_method='GET', renderer='sessions.jinja2')
def sessions(request):
    """The developer's view of the IdP: sessions it issued, simulated phones, metadata."""
    outcome = {
        'done': _('The portal has logged the member out.'),
        'failed': _('The portal could not log the member out.'),
    }.get(request.GET.get('logout'))
    return {
        'sessions': [
            (session, request.people.by_civil_id(session.civil_id))
            for session in request.idp_state.sessions()
        ],
        'people': request.people.all,
        'notice': request.localizer.translate(outcome) if outcome else None,
    }


@view_config(route_name='session_logout', request_method='POST')
def log_out_of_portal(request):
    """IdP-initiated log-out: send the browser to the portal with a signed LogoutRequest."""
    session_index = request.matchdict['session_index']
    session = request.idp_state.session(session_index)
    if session is None:
        raise HTTPNotFound()
    request_id, url = request.idp.logout_request_url(session)
    request.idp_state.await_logout(request_id, session_index)
    return HTTPSeeOther(url)
