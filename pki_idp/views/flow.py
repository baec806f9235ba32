"""What the login pages share: finding the login in progress and ending it with an answer."""

from pyramid.httpexceptions import HTTPSeeOther
from saml2.s_utils import sid

from ..state import IssuedSession


class LoginGone(Exception):
    """The login named in the address is unknown, timed out or already answered."""


def current_login(request, states):
    """The login of this address, if it is in one of `states`; LoginGone otherwise."""
    login = request.idp_state.login(request.matchdict['login'])
    if login is None or login.state not in states:
        raise LoginGone()
    return login


def authenticated(request, login, person):
    """`person` proved who they are: answer the service and show the Single Log Out page."""
    state = request.idp_state
    session = IssuedSession(
        session_index=sid(),
        civil_id=person.civil_id,
        sp_entity_id=login.request.sp_entity_id,
        method=login.method,
        issued_at=state.clock(),
    )
    answer = request.idp.authn_response(
        login.request, person, login.method, session.session_index, state.misbehaviour
    )
    state.finish(login, answer, session)
    return HTTPSeeOther(request.route_url('login_done', login=login.id))


def not_authenticated(request, login, status, note):
    """Answer the service that no authentication happened (`status`), telling the user why."""
    answer = request.idp.failure_response(login.request, status)
    request.idp_state.finish(login, answer, note=note)
    return HTTPSeeOther(request.route_url('login_done', login=login.id))


def chooser(request, login, mobile=None, problem=None):
    """The values of the method chooser page (shown again when the mobile number fails)."""
    return {
        'login': login,
        'methods': login.request.methods,
        'mobile': mobile if mobile is not None else login.request.login_hint or '',
        'problem': request.localizer.translate(problem) if problem else None,
    }
