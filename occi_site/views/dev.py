"""Development tools, present only with ``occi.dev_tools = true``:
the outbox of e-mail and SMS "sent" by the portal, and the captcha answer."""

from pyramid.settings import asbool
from pyramid.view import view_config

from .captcha import current_answer


@view_config(route_name='dev_outbox_json', renderer='json', request_method='GET')
def outbox_json(request):
    return {'messages': request.registry.occi_outbox.messages()}


@view_config(route_name='dev_outbox', renderer='dev/outbox.jinja2', request_method='GET')
def outbox_page(request):
    return {'messages': request.registry.occi_outbox.messages()}


@view_config(route_name='dev_captcha_json', renderer='json', request_method='GET')
def captcha_json(request):
    """The answer to this session's captcha, so scripted journeys can pass it."""
    return {'answer': current_answer(request)}


def includeme(config):
    if not asbool(config.registry.settings.get('occi.dev_tools', False)):
        return
    config.add_route('dev_outbox_json', '/_dev/outbox.json')
    config.add_route('dev_outbox', '/_dev/outbox')
    config.add_route('dev_captcha_json', '/_dev/captcha.json')
    config.scan(__name__)
