"""Single sign-on: the portal's request, the method chooser and the answer page."""

import base64

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from saml2 import samlp

from ..i18n import _
from ..state import AT_CARD_READER, AWAITING_PHONE, BLOCKED, CHOOSING, DECLINED, DONE
from .flow import chooser, current_login, not_authenticated
from .mobile import send_to_phone

UNFINISHED = (CHOOSING, AT_CARD_READER, AWAITING_PHONE, DECLINED, BLOCKED)


@view_config(route_name='sso', request_method='GET')
def single_sign_on(request):
    """A signed AuthnRequest arrives: go to the method it asks for, or let the user choose."""
    authn_request = request.idp.read_authn_request(request.GET)
    login = request.idp_state.start_login(authn_request)
    if authn_request.is_passive:
        return not_authenticated(
            request,
            login,
            samlp.STATUS_NO_PASSIVE,
            _(
                'The service asked to log you in without showing any page, '
                'which a PKI login cannot do.'
            ),
        )
    if not authn_request.methods:
        return not_authenticated(
            request,
            login,
            samlp.STATUS_NO_AUTHN_CONTEXT,
            _('The service asked for a login method this identity provider does not offer.'),
        )
    if authn_request.methods == ('card',):
        return HTTPSeeOther(request.route_url('login_card', login=login.id))
    if authn_request.methods == ('mobile',) and authn_request.login_hint:
        sent = send_to_phone(request, login, authn_request.login_hint)
        if sent is not None:
            return sent
    return HTTPSeeOther(request.route_url('login', login=login.id))


@view_config(route_name='login', request_method='GET', renderer='chooser.jinja2')
def choose_method(request):
    login = current_login(request, UNFINISHED)
    request.idp_state.advance(
        login.id, UNFINISHED, state=CHOOSING, method=None, civil_id=None, mobile=None
    )
    return chooser(request, login)


@view_config(route_name='login_cancel', request_method='POST')
def cancel(request):
    login = current_login(request, UNFINISHED)
    return not_authenticated(
        request, login, samlp.STATUS_AUTHN_FAILED, _('You cancelled the login.')
    )


@view_config(route_name='login_done', request_method='GET', renderer='answer.jinja2')
def answer(request):
    """The end of every login: the Single Log Out page whose button carries the signed answer
    back to the service (SAML HTTP-POST binding), RelayState kept."""
    login = current_login(request, (DONE,))
    return {
        'sp_entity_id': login.request.sp_entity_id,
        'action': login.request.acs_url,
        'fields': {
            'SAMLResponse': base64.b64encode(login.answer_xml.encode('utf-8')).decode('ascii'),
            'RelayState': login.request.relay_state,
        },
        'return_url': None,
        'note': request.localizer.translate(login.answer_note) if login.answer_note else None,
    }
