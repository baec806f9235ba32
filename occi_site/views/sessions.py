"""The member's sessions: the browsers they are logged in with, and ending the others."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from ua_parser import parse as parse_user_agent

from ..i18n import _
from ..sessions import live_sessions, store
from . import member_page
from .auth import audit
from .forms import text_value


def browser_name(user_agent):
    """``Chrome on Linux``, from the browser's User-Agent, as far as it says."""
    parsed = parse_user_agent(user_agent or '')
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    if browser and system and system != 'Other':
        return _('${browser} on ${system}', mapping={'browser': browser, 'system': system})
    return browser or _('Unknown browser')


@member_page('account_sessions', 'account/sessions.jinja2')
def sessions(request):
    current = request.session.record
    rows = [
        {
            'session': session,
            'browser': browser_name(session.user_agent),
            'current': session.key == current.key,
        }
        for session in live_sessions(request, request.authenticated_userid)
    ]
    crumbs = [(_('My account'), request.route_url('account')), (_('Your sessions'), None)]
    return {'sessions': rows, 'crumbs': crumbs}


@view_config(route_name='account_sessions', request_method='POST', permission='member')
def end_sessions(request):
    sessions = store(request)
    civil_id = request.authenticated_userid
    current = request.session.record.key
    if 'end_others' in request.POST:
        ended = sessions.end_all_of(civil_id, keep=current)
        message = _('Every other session has ended.')
    else:
        key = text_value(request.POST, 'end')
        ended = int(key != current and sessions.end_of(civil_id, key))
        message = (
            _('The other session has ended.') if ended else _('That session had ended already.')
        )
    if ended:
        audit(request, 'sessions.end', civil_id, count=ended)
    request.session.flash(request.localizer.translate(message))
    return HTTPSeeOther(request.route_url('account_sessions'))


def includeme(config):
    config.add_route('account_sessions', '/account/sessions')
    config.scan(__name__)
