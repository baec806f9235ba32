"""Views: HTTP in, calls on resources, templates out.  One module per area."""

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender
from pyramid.view import view_config

from ..i18n import LANGUAGES
from ..resources.service_request import REQUEST_STATE_TITLES
from ..resources.services import SERVICES


def member_page(route_name, renderer):
    """A page a logged-in member reads (``GET``): the view at ``route_name``."""
    return view_config(
        route_name=route_name, renderer=renderer, permission='member', request_method='GET'
    )


def current_path(request):
    """The path and query of this page, or ``/`` when the address does not decode."""
    try:
        return request.path_qs
    except UnicodeDecodeError:
        return '/'


def _template_globals(event):
    request = event.get('request')
    if request is None:
        return
    event.setdefault('csrf_token', lambda: get_csrf_token(request))
    event.setdefault('lang', request.locale_name)
    event.setdefault('dir', request.text_direction)
    event.setdefault('other_lang', next(lang for lang in LANGUAGES if lang != request.locale_name))
    event.setdefault('account', request.identity)
    event.setdefault('crumbs', ())
    event.setdefault('here', current_path(request))
    event.setdefault('dev_tools', request.registry.settings.get('occi.dev_tools'))
    # The chamber's constants, not the views' values: a kept page's
    # fingerprint need not walk them (page_cache).
    event.setdefault('services', SERVICES)
    event.setdefault('request_state_titles', REQUEST_STATE_TITLES)


def includeme(config):
    config.add_subscriber(_template_globals, BeforeRender)
    config.add_static_view('static', 'occi_site:static', cache_max_age=3600)
    config.add_static_view('static-deform', 'deform:static', cache_max_age=3600)
    config.include('.notify')
    config.include('.public')
    config.include('.auth')
    config.include('.sessions')
    config.include('.registration')
    config.include('.account')
    config.include('.captcha')
    config.include('.dashboard')
    config.include('.statement')
    config.include('.notifications')
    config.include('.wizard')
    config.include('.payment')
    config.include('.verify')
    config.include('.content')
    config.include('.manage')
    config.include('.errors')
    config.include('.health')
    config.include('.dev')
