"""POST /_switch: the delivery test switch, only where ``sandbox.test_switches`` is on."""

from pyramid.httpexceptions import HTTPSeeOther

from ..delivery import Delivery
from ..i18n import _

DESCRIPTIONS = {
    Delivery.NORMAL: _('Notify the merchant’s server, then return the browser.'),
    Delivery.DROP_NOTIFICATION: _('Return the browser only; no server notification.'),
    Delivery.DROP_BROWSER_RETURN: _('Notify the server only; the browser is not returned.'),
    Delivery.NOTIFY_TWICE: _('Notify the server twice, then return the browser.'),
    Delivery.BROWSER_FIRST: _('Return the browser first; notify the server a little later.'),
}


def show_switches(request):
    translate = request.localizer.translate
    return {
        'current': request.sandbox.delivery,
        'choices': [(mode.value, translate(DESCRIPTIONS[mode])) for mode in Delivery],
    }


def set_switch(request):
    try:
        mode = Delivery(request.POST.get('delivery'))
    except ValueError:
        request.response.status = 400
        values = show_switches(request)
        values['error'] = request.localizer.translate(_('Choose one of the delivery modes.'))
        return values
    request.sandbox.delivery = mode
    return HTTPSeeOther(request.route_url('switches'))


def includeme(config):
    config.add_route('switches', '/_switch')
    config.add_view(
        show_switches, route_name='switches', request_method='GET', renderer='switches.jinja2'
    )
    config.add_view(
        set_switch, route_name='switches', request_method='POST', renderer='switches.jinja2'
    )
