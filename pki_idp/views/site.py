"""Around the journeys: metadata, the language switch, problem pages and the test switches."""

from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import exception_view_config, view_config

from ..i18n import LANGUAGE_COOKIE, LANGUAGES, _
from ..provider import MISBEHAVIOURS, SamlRequestError
from .flow import LoginGone

ONE_YEAR = 365 * 24 * 3600


@view_config(route_name='metadata', request_method='GET')
def metadata(request):
    return Response(
        request.idp.metadata_xml, content_type='application/samlmetadata+xml', charset='utf-8'
    )


@view_config(route_name='language', request_method='GET')
def choose_language(request):
    """Remember the language and go back to the page it was chosen on."""
    response = back_to(request, request.GET.get('came_from', ''))
    language = request.GET.get('lang')
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=ONE_YEAR,
            path=request.script_name or '/',
            httponly=True,
            samesite='Lax',
        )
    return response


def back_to(request, came_from, default=None):
    """Redirect to `came_from` if it is a page of ours, else to `default` or our home page."""
    ours = request.script_name + '/'
    if not came_from.startswith(ours) or came_from.startswith('//') or '\\' in came_from:
        came_from = default or ours
    return HTTPSeeOther(request.host_url + came_from)


@exception_view_config(SamlRequestError, renderer='problem.jinja2')
def refused_request(exc, request):
    request.response.status = 400
    return {'problem': request.localizer.translate(exc.message)}


@exception_view_config(LoginGone, renderer='problem.jinja2')
def login_gone(exc, request):
    request.response.status = 404
    return {
        'problem': request.localizer.translate(
            _('This login is no longer in progress. Please start again from your service.')
        )
    }


def set_misbehaviour(request):
    """Test switch: make the next authentication responses misbehave in the named way."""
    choice = request.POST.get('respond_with')
    if choice not in MISBEHAVIOURS:
        raise HTTPBadRequest(f'respond_with must be one of {", ".join(MISBEHAVIOURS)}')
    request.idp_state.misbehaviour = choice
    return {'respond_with': choice}
