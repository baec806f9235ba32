"""Smart card: the card reader (which test card is inserted) and the PIN pad."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _, tries_left
from ..people import ascii_digits
from ..state import CARD_INSERTED, CHOOSING
from .flow import authenticated, current_login


@view_config(route_name='login_card', request_method='GET', renderer='card_reader.jinja2')
def card_reader(request):
    login = current_login(request, (CHOOSING, CARD_INSERTED))
    return _reader(request, login)


@view_config(route_name='login_card', request_method='POST', renderer='card_reader.jinja2')
def insert_card(request):
    login = current_login(request, (CHOOSING, CARD_INSERTED))
    person = request.people.by_civil_id(request.POST.get('civil_id', ''))
    if person is None or 'card' not in login.request.methods:
        request.response.status = 422
        return _reader(request, login, _('Choose one of the cards.'))
    if request.idp_state.is_blocked(('card', person.civil_id)):
        request.response.status = 422
        return _reader(request, login, _('This card is blocked after too many wrong PINs.'))
    request.idp_state.advance(
        login.id,
        (CHOOSING, CARD_INSERTED),
        state=CARD_INSERTED,
        method='card',
        civil_id=person.civil_id,
    )
    return HTTPSeeOther(request.route_url('login_pin', login=login.id))


def _reader(request, login, problem=None):
    state = request.idp_state
    return {
        'login': login,
        'cards': [
            (person, state.is_blocked(('card', person.civil_id))) for person in request.people.all
        ],
        'problem': request.localizer.translate(problem) if problem else None,
    }


@view_config(route_name='login_pin', request_method='GET', renderer='pin_pad.jinja2')
def pin_pad(request):
    login = current_login(request, (CARD_INSERTED,))
    return _pad(request, login)


@view_config(route_name='login_pin', request_method='POST', renderer='pin_pad.jinja2')
def enter_pin(request):
    login = current_login(request, (CARD_INSERTED,))
    person = request.people.by_civil_id(login.civil_id)
    check = request.idp_state.check_pin(
        ('card', person.civil_id), person.pin, ascii_digits(request.POST.get('pin', ''))
    )
    if check.accepted:
        return authenticated(request, login, person)
    request.response.status = 422
    if check.blocked:
        return _pad(
            request,
            login,
            request.localizer.translate(
                _('Wrong PIN. This card is now blocked; use another card or Mobile ID.')
            ),
            blocked=True,
        )
    return _pad(
        request,
        login,
        request.localizer.translate(_('Wrong PIN.')) + ' ' + tries_left(request, check.tries_left),
    )


def _pad(request, login, problem=None, blocked=False):
    return {
        'login': login,
        'holder': request.people.by_civil_id(login.civil_id),
        'problem': problem,
        'blocked': blocked or request.idp_state.is_blocked(('card', login.civil_id)),
    }
