"""Mobile ID: the login waits while the member confirms with their PIN on the phone.

The phone is simulated by a page of its own, /phone/<mobile number>, listing the logins waiting
for that SIM with a PIN form. The waiting page asks for news with a small script and also works
without it through its Continue button.
"""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _, tries_left
from ..people import ascii_digits, normalise_mobile
from ..state import APPROVED, AWAITING_PHONE, BLOCKED, CHOOSING, DECLINED
from .flow import authenticated, chooser, current_login

ANSWERED_BY_PHONE = (AWAITING_PHONE, APPROVED, DECLINED, BLOCKED)


def send_to_phone(request, login, mobile):
    """Push the login to the SIM of `mobile`: the waiting page, or None if that SIM cannot."""
    person = request.people.by_mobile(mobile)
    if person is None or request.idp_state.is_blocked(('mobile', person.mobile)):
        return None
    request.idp_state.advance(
        login.id,
        (CHOOSING,),
        state=AWAITING_PHONE,
        method='mobile',
        civil_id=person.civil_id,
        mobile=person.mobile,
    )
    return HTTPSeeOther(request.route_url('login_wait', login=login.id))


@view_config(route_name='login_mobile', request_method='POST', renderer='chooser.jinja2')
def login_using_mobile(request):
    login = current_login(request, (CHOOSING,))
    mobile = request.POST.get('mobile', '').strip()
    person = request.people.by_mobile(mobile)
    if 'mobile' not in login.request.methods:
        problem = _('The service did not ask for a Mobile ID login.')
    elif person is None:
        problem = _('No PKI enabled SIM card is registered for this mobile number.')
    elif request.idp_state.is_blocked(('mobile', person.mobile)):
        problem = _('The Mobile ID of this number is blocked after too many wrong PINs.')
    else:
        return send_to_phone(request, login, mobile)
    request.response.status = 422
    return chooser(request, login, mobile=mobile, problem=problem)


@view_config(route_name='login_wait', request_method='GET', renderer='mobile_wait.jinja2')
def wait_for_phone(request):
    login = current_login(request, ANSWERED_BY_PHONE)
    return {'login': login, 'problem': None}


@view_config(route_name='login_status', request_method='GET', renderer='json')
def phone_status(request):
    login = current_login(request, ANSWERED_BY_PHONE)
    return {'state': login.state}


@view_config(route_name='login_continue', request_method='POST', renderer='mobile_wait.jinja2')
def continue_after_phone(request):
    login = current_login(request, ANSWERED_BY_PHONE)
    if login.state == APPROVED:
        return authenticated(request, login, request.people.by_civil_id(login.civil_id))
    problem = {
        AWAITING_PHONE: _('The login has not been confirmed on the phone yet.'),
        DECLINED: _('The login was declined on the phone.'),
        BLOCKED: _('The Mobile ID of this number is blocked after too many wrong PINs.'),
    }[login.state]
    return {'login': login, 'problem': request.localizer.translate(problem)}


@view_config(route_name='phone', renderer='phone.jinja2')
def phone(request):
    """The simulated phone of one mobile number: confirm or decline the waiting logins."""
    mobile = normalise_mobile(request.matchdict['mobile'])
    person = request.people.by_mobile(mobile)
    if person is None:
        request.response.status = 404
        return {'mobile': mobile, 'person': None, 'waiting': [], 'notice': None, 'blocked': False}
    notice = None
    if request.method == 'POST':
        notice = _answer_on_phone(request, person)
    return {
        'mobile': person.mobile,
        'person': person,
        'waiting': request.idp_state.waiting_on_phone(person.mobile),
        'notice': notice,
        'blocked': request.idp_state.is_blocked(('mobile', person.mobile)),
    }


def _answer_on_phone(request, person):
    """Apply the phone's answer (PIN or decline) to a waiting login; the phone's message."""
    state = request.idp_state
    login_id = request.POST.get('login', '')
    login = state.login(login_id)
    if login is None or login.state != AWAITING_PHONE or login.mobile != person.mobile:
        return request.localizer.translate(_('This login request is no longer waiting.'))
    if 'decline' in request.POST:
        state.advance(login_id, (AWAITING_PHONE,), state=DECLINED)
        return request.localizer.translate(_('Login declined.'))
    check = state.check_pin(
        ('mobile', person.mobile), person.pin, ascii_digits(request.POST.get('pin', ''))
    )
    if check.accepted:
        state.advance(login_id, (AWAITING_PHONE,), state=APPROVED)
        return request.localizer.translate(_('Login confirmed. You can return to your computer.'))
    if check.blocked:
        state.advance(login_id, (AWAITING_PHONE,), state=BLOCKED)
        return request.localizer.translate(_('Wrong PIN. Your Mobile ID is now blocked.'))
    return (
        request.localizer.translate(_('Wrong PIN.')) + ' ' + tries_left(request, check.tries_left)
    )
