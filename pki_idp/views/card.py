"""Smart card: the PIN pad page and the card's answer to its challenge.

The page hands the card agent on the member's computer a fresh challenge; the PIN typed on the
pad goes to the agent and the card, never here. What comes back is the card's certificate and
signature, checked by CardVerifier; every refusal shows the pad again with its own message
and a new challenge.
"""

from datetime import UTC, datetime

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..card_login import CardRefused, decode_answer
from ..i18n import _, tries_left
from ..state import AT_CARD_READER, CHOOSING, FRESH, OTHER_LOGIN, USED
from .dev_reader import virtual_reader
from .flow import authenticated, current_login

CHALLENGE_REFUSALS = {
    USED: _('This answer of your card was already used. Enter your PIN again.'),
    OTHER_LOGIN: _('Your card signed the challenge of another login. Enter your PIN again.'),
}
UNKNOWN_CHALLENGE = _(
    'This login was not waiting for this answer of your card. Enter your PIN again.'
)


@view_config(route_name='login_card', request_method='GET', renderer='pin_pad.jinja2')
def pin_pad(request):
    login = current_login(request, (CHOOSING, AT_CARD_READER))
    if 'card' not in login.request.methods:
        return HTTPSeeOther(request.route_url('login', login=login.id))
    request.idp_state.advance(
        login.id, (CHOOSING, AT_CARD_READER), state=AT_CARD_READER, method='card', civil_id=None
    )
    return _pad(request, login)


@view_config(route_name='login_card', request_method='POST', renderer='pin_pad.jinja2')
def card_answer(request):
    login = current_login(request, (AT_CARD_READER,))
    try:
        person = _proven_person(request, login)
    except CardRefused as refusal:
        request.response.status = 422
        return _pad(request, login, refusal.message)
    return authenticated(request, login, person)


def _proven_person(request, login):
    taken = request.idp_state.take_challenge(login.id, request.POST.get('challenge', ''))
    if taken != FRESH:
        raise CardRefused(CHALLENGE_REFUSALS.get(taken, UNKNOWN_CHALLENGE))
    certificate, signature = decode_answer(
        request.POST.get('certificate'), request.POST.get('signature')
    )
    civil_id = request.card_verifier.civil_id(
        certificate, signature, request.POST['challenge'].encode('ascii'), datetime.now(UTC)
    )
    person = request.people.by_civil_id(civil_id)
    if person is None:
        raise CardRefused(_('No person with the civil ID of this card is known here.'))
    return person


def _pad(request, login, problem=None):
    """The PIN pad page, with a fresh challenge and every message the card agent may need."""
    localizer = request.localizer
    messages = {code: localizer.translate(message) for code, message in AGENT_MESSAGES.items()}
    for tries in range(1, 3):
        messages[f'wrong_pin-{tries}'] = (
            localizer.translate(_('Wrong PIN.')) + ' ' + tries_left(request, tries)
        )
    return {
        'login': login,
        'challenge': request.idp_state.issue_challenge(login.id),
        'agent_url': request.registry.settings['pki_idp.card_agent_url'],
        'messages': messages,
        'problem': localizer.translate(problem) if problem else None,
        'virtual_reader': virtual_reader(request),
    }


# What the card agent reports (card_agent.reader), and not reaching it at all.
AGENT_MESSAGES = {
    'searching': _('Looking for your card reader…'),
    'card_in_reader': _('Card in the reader:'),
    'no_agent': _(
        'The card reader software is not running on this computer. '
        'Start the PKI middleware and try again.'
    ),
    'origin': _('The card reader software does not accept requests from this page.'),
    'no_service': _('The smart card service of this computer is not running.'),
    'no_reader': _('No card reader is connected to this computer.'),
    'no_card': _('Insert your civil ID card into the card reader.'),
    'card_removed': _('The card was removed from the reader. Insert it again and enter your PIN.'),
    'unknown_card': _('The card in the reader is not a civil ID card.'),
    'bad_pin': _('Your PIN has 4 to 8 digits.'),
    'pin_blocked': _(
        'This card is blocked after too many wrong PINs. Use another card or Mobile ID.'
    ),
    'card_failed': _(
        'The card did not answer as expected. Take it out, insert it again and retry.'
    ),
}
