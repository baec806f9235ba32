"""PKI login, step-up ("personal verification") and Single Log-Out over SAML.

Outstanding AuthnRequests live in the session under ``saml_requests``
(request ID -> what it was for and when it was asked), so an answer is
accepted only in the browser that asked, and only once; one asked to be made
afresh must have been made after it was asked.  Logout ends the portal
session first, then asks the IdP to end its own: whatever the IdP answers,
or if it never answers, the portal session is over.  What an accepted
answer does depends on what the login was for: a plain login, a step-up, or
another purpose that a module declares with ``add_login_purpose``
(registration does).
"""

import logging

from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.security import forget, remember
from pyramid.view import view_config

from ..i18n import _
from ..integrations.pki import CLOCK_SKEW, PkiError
from ..resources.roles import apply_initial_roles
from ..sessions import COOKIE_NAME
from .codes import count_failure, over_limit
from .forms import text_value
from .public import safe_return_path

log = logging.getLogger(__name__)

OUTSTANDING = 'saml_requests'
LOGOUT_REQUESTS = 'saml_logout_requests'
PKI_SESSION = 'pki'
LOGIN_PURPOSES = 'occi.login_purposes'
# Refused logins audited per network address and hour; more are refused unrecorded.
REFUSALS_AUDITED_PER_IP_HOUR = 20


def audit(request, action, civil_id='', outcome='ok', **details):
    path = '/accounts/%s' % civil_id if civil_id else '/'
    request.root['audit'].record(action, user=civil_id, path=path, outcome=outcome, details=details)


def start_authentication(
    request, *, purpose, method=None, login_hint=None, came_from='', service_request=None
):
    """Send the browser to the IdP; the answer comes back to /saml/acs."""
    provider = request.pki
    if provider is None:
        raise PkiError('idp_unavailable', 'PKI login is not configured')
    # Anything but a plain login needs a fresh authentication, never an IdP session.
    login = provider.begin_login(
        method=method, login_hint=login_hint, force_authn=purpose != 'login'
    )
    outstanding = dict(request.session.get(OUTSTANDING, {}))
    # Keep only the last few: a person who starts many logins in one browser
    # needs only the latest answers to count.
    for stale in list(outstanding)[:-4]:
        del outstanding[stale]
    outstanding[login.request_id] = {
        'purpose': purpose,
        'method': method,
        'came_from': came_from,
        'service_request': service_request,
        # On the clock the answers' times are checked against.
        'asked_at': provider.clock(),
    }
    request.session[OUTSTANDING] = outstanding
    return HTTPSeeOther(login.redirect_url)


@view_config(route_name='login', request_method='GET')
def login(request):
    if request.identity is not None:
        return HTTPSeeOther(request.route_url('dashboard'))
    came_from = text_value(request.params, 'came_from')
    return start_authentication(request, purpose='login', came_from=came_from)


@view_config(
    route_name='saml_acs', request_method='POST', require_csrf=False, renderer='auth/error.jinja2'
)
def assertion_consumer(request):
    saml_response = text_value(request.POST, 'SAMLResponse')
    if not saml_response:
        return HTTPBadRequest()
    if COOKIE_NAME not in request.cookies and 'resubmitted' not in request.POST:
        # A cross-site POST arrives without the SameSite=Lax session cookie;
        # re-post it from our own page so the session comes along.
        request.override_renderer = 'auth/acs_relay.jinja2'
        return {
            'saml_response': saml_response,
            'relay_state': text_value(request.POST, 'RelayState'),
        }
    outstanding = dict(request.session.get(OUTSTANDING, {}))
    provider = request.pki
    try:
        authentication = provider.complete_login(
            saml_response,
            expected_request_ids={key: value['method'] for key, value in outstanding.items()},
            replay_cache=request.root['assertions'],
        )
    except PkiError as error:
        if outstanding.pop(error.in_response_to, None) is not None:
            request.session[OUTSTANDING] = outstanding
        # Anyone can post here, unthrottled: an address's refusals are audited up to a limit.
        if over_limit(request, 'login-refused', REFUSALS_AUDITED_PER_IP_HOUR) is None:
            count_failure(request, 'login-refused')
            audit(request, 'login.refused', outcome=error.reason)
        request.response.status = 400
        return {'message': error.message}
    pending = outstanding.pop(authentication.in_response_to)
    request.session[OUTSTANDING] = outstanding
    if not made_when_asked(pending, authentication):
        audit(request, 'login.not_fresh', authentication.civil_id, outcome='refused')
        request.response.status = 403
        refused = {
            'message': _(
                'The PKI answered with a login that was not made just now. '
                'Please use your card or Mobile ID again.'
            )
        }
        # Where to try again: the registration's last step, or the request.
        if pending['purpose'] == 'registration':
            return dict(refused, retry_registration=True)
        return dict(refused, back_to=safe_return_path(request, pending['came_from']))
    finish = request.registry[LOGIN_PURPOSES].get(pending['purpose'], finish_login)
    return finish(request, pending, authentication)


def finish_login(request, pending, authentication):
    account = request.root['accounts'].get(authentication.civil_id)
    if account is None or account.state == 'new':
        audit(request, 'login.unregistered', authentication.civil_id, outcome='refused')
        request.response.status = 403
        return {
            'message': _(
                'Your civil ID is not registered on the e-services portal yet, or '
                'its registration is not complete. Please register first.'
            ),
            'register': True,
        }
    if account.state == 'locked':
        audit(request, 'login.locked', authentication.civil_id, outcome='refused')
        request.response.status = 403
        return {'message': _('This account is locked. Please contact the chamber.')}
    granted = apply_initial_roles(request.registry.settings, account)
    if granted:
        audit(request, 'account.initial_roles', account.civil_id, roles=' '.join(granted))
    remember(request, account.civil_id)
    request.session[PKI_SESSION] = {
        'name_id': authentication.name_id,
        'session_index': authentication.session_index,
        'method': authentication.method,
    }
    audit(request, 'login', account.civil_id, method=authentication.method)
    # Contacts kept from before registration ended with a PKI login wait for the
    # holder's word on "My account".
    home = 'dashboard' if account.contacts_proven_at is not None else 'account'
    target = pending['came_from'] or request.route_path(home)
    return HTTPSeeOther(safe_return_path(request, target))


def made_when_asked(pending, authentication):
    """Whether a login asked to be made afresh (anything but a plain login:
    a personal verification, a registration) was made after it was asked
    for, give or take the clocks' skew: an IdP that keeps a session of its
    own may answer with one made before."""
    asked_at = pending.get('asked_at')
    if pending['purpose'] == 'login' or asked_at is None:
        return True
    return authentication.authenticated_at >= asked_at - CLOCK_SKEW


def refuse_step_up(request, service_request, action, status, message, **values):
    """The refusal page of a personal verification for ``service_request``, audited."""
    audit(
        request,
        action,
        request.identity.civil_id,
        outcome='refused',
        service_request=service_request.__name__,
    )
    request.response.status = status
    return dict(values, message=message)


def finish_step_up(request, pending, authentication):
    """A fresh authentication for one service request: it must be the same person."""
    account = request.identity
    requests = request.root['requests']
    service_request = requests.get(pending['service_request'] or '')
    if account is None or service_request is None or service_request.civil_id != account.civil_id:
        request.response.status = 403
        return {'message': _('This personal verification does not belong to your session.')}
    if authentication.civil_id != account.civil_id:
        return refuse_step_up(
            request,
            service_request,
            'step_up.mismatch',
            403,
            _(
                'The personal verification was made with another civil ID. '
                'Please verify with your own card or Mobile ID.'
            ),
        )
    if not service_request.is_open:
        # Cancelled, confirmed or expired in another tab while the person was
        # at the PKI: the answer is spent (kept against replay) and refused.
        return refuse_step_up(
            request,
            service_request,
            'step_up.closed',
            409,
            _(
                'This request is no longer open: it was cancelled, confirmed or has expired '
                'since the personal verification began.'
            ),
            back_to=request.resource_url(service_request),
        )
    service_request.record_step_up(
        assertion_id=authentication.assertion_id,
        at=authentication.authenticated_at,
        method=authentication.method,
        now=request.now,
        request=request,
    )
    audit(
        request,
        'step_up',
        account.civil_id,
        service_request=service_request.__name__,
        method=authentication.method,
    )
    return HTTPSeeOther(safe_return_path(request, pending['came_from']))


@view_config(route_name='logout', request_method='POST')
def logout(request):
    pki = request.session.get(PKI_SESSION)
    civil_id = request.authenticated_userid
    forget(request)
    audit(request, 'logout', civil_id or '')
    if pki is None or request.pki is None:
        return HTTPSeeOther(request.route_url('logged_out'))
    try:
        request_id, url = request.pki.begin_logout(
            name_id=pki['name_id'], session_index=pki['session_index']
        )
    except PkiError as error:
        # The portal session is over all the same; the IdP's ends on its own.
        log.error('PKI log-out could not be started: %s', error)
        return HTTPSeeOther(request.route_url('logged_out'))
    # Kept in a new, anonymous session, so that the IdP's answer can be checked.
    request.session[LOGOUT_REQUESTS] = [request_id]
    return HTTPSeeOther(url)


@view_config(route_name='saml_sls', request_method='GET', renderer='auth/error.jinja2')
def single_logout_service(request):
    provider = request.pki
    answer = 'SAMLResponse' in request.GET
    try:
        if answer:
            provider.complete_logout(
                request.query_string, expected_request_ids=request.session.get(LOGOUT_REQUESTS, ())
            )
            forget(request)
            return HTTPSeeOther(request.route_url('logged_out'))
        if 'SAMLRequest' in request.GET:
            logout = provider.answer_logout_request(
                request.query_string, replay_cache=request.root['assertions']
            )
            pki = request.session.get(PKI_SESSION)
            if pki is not None and logout.names(pki['name_id'], pki['session_index']):
                audit(request, 'logout.by_idp', request.authenticated_userid or '')
                forget(request)
            return HTTPSeeOther(logout.redirect_url)
    except PkiError as error:
        # Anyone can send these, by GET: an address's refusals are audited up to a limit.
        if over_limit(request, 'logout-refused', REFUSALS_AUDITED_PER_IP_HOUR) is None:
            count_failure(request, 'logout-refused')
            audit(request, 'logout.refused', outcome=error.reason)
        request.response.status = 400
        return {'message': error.message, 'logout': True, 'logged_out': answer}
    return HTTPBadRequest()


@view_config(context=PkiError, renderer='auth/error.jinja2')
def pki_unavailable(error, request):
    """The IdP cannot be asked (no metadata, not configured): say so, change nothing."""
    log.error('PKI login unavailable: %s', error)
    request.response.status = 503
    return {'message': error.message}


@view_config(route_name='logged_out', renderer='auth/logged_out.jinja2')
def logged_out(request):
    return {}


@view_config(route_name='saml_metadata', request_method='GET')
def metadata(request):
    response = request.response
    response.content_type = 'application/samlmetadata+xml'
    response.text = request.pki.metadata_xml()
    return response


def add_login_purpose(config, purpose, finish):
    """Logins started for ``purpose`` end in ``finish(request, pending, authentication)``."""
    config.registry.setdefault(LOGIN_PURPOSES, {})[purpose] = finish


def includeme(config):
    add_login_purpose(config, 'step_up', finish_step_up)
    config.add_route('login', '/login')
    config.add_route('logout', '/logout')
    config.add_route('logged_out', '/logged-out')
    # The service provider's SAML endpoints: /saml/acs, /saml/sls, /saml/metadata.
    for endpoint in ('acs', 'sls', 'metadata'):
        config.add_route('saml_' + endpoint, '/saml/' + endpoint)
    config.scan(__name__)
