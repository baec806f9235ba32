"""Development only: which test person's card is in the virtual card reader.

With `pki_idp.dev_card_reader` (the control socket of the card process `make run` starts), the
card page shows a button per test person's card and /_dev/card-reader is a page of its own;
without it (any real deployment) both are absent.
"""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ..dev_card.control import ReaderUnavailable, ask
from ..i18n import _
from .site import back_to

SETTING = 'pki_idp.dev_card_reader'


def virtual_reader(request, problem=None):
    """What a page shows of the virtual reader: its cards, the inserted one, whether the card
    process answers; None where there is no virtual reader."""
    path = request.registry.settings.get(SETTING)
    if not path:
        return None
    try:
        status = ask(path, status=True)
    except ReaderUnavailable:
        status = {'inserted': None, 'cards': []}
        problem = problem or _('The virtual card reader is not running (make run starts it).')
    return {
        'running': bool(status['cards']),
        'inserted': status['inserted'],
        'cards': [person for person in map(request.people.by_civil_id, status['cards']) if person],
        'problem': request.localizer.translate(problem) if problem else None,
        'came_from': request.path_qs,
    }


@view_config(route_name='dev_card_reader', request_method='GET', renderer='dev_reader.jinja2')
def reader_page(request):
    reader = virtual_reader(request)
    if reader is None:
        raise HTTPNotFound()
    return {'reader': reader}


@view_config(route_name='dev_card_reader', request_method='POST', renderer='dev_reader.jinja2')
def change_card(request):
    """Insert the card of the civil ID in `insert`, or take the card out (`remove`)."""
    path = request.registry.settings.get(SETTING)
    if not path:
        raise HTTPNotFound()
    command = {'insert': request.POST['insert']} if 'insert' in request.POST else {'remove': True}
    try:
        answer = ask(path, **command)
    except ReaderUnavailable:
        answer = {'error': 'unavailable'}
    if 'error' in answer:
        request.response.status = 422
        return {'reader': virtual_reader(request, _('The card could not be put in the reader.'))}
    return back_to(
        request, request.POST.get('came_from', ''), request.route_path('dev_card_reader')
    )
