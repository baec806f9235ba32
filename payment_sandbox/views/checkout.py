"""POST /pay: where the merchant's signed checkout request arrives."""

import logging

from pyramid.httpexceptions import HTTPSeeOther

from ..checkout import CheckoutRefused, read_checkout_request
from ..i18n import _, remember_language
from ..store import DuplicateCheckout

log = logging.getLogger(__name__)


def refusal(request, message, status=400):
    """The error page, and nothing else: no checkout starts."""
    request.response.status = status
    return {'message': request.localizer.translate(message)}


def start_checkout(request):
    sandbox = request.sandbox
    try:
        fields, amount = read_checkout_request(request.POST, sandbox.profile)
        checkout = sandbox.checkouts.open(fields, amount)
    except CheckoutRefused as refused:
        log.warning('Refused a checkout request: %s', refused.message.interpolate())
        return refusal(request, refused.message)
    except DuplicateCheckout as duplicate:
        log.warning('Refused a second checkout request for transaction %s', duplicate)
        return refusal(
            request,
            _(
                'This transaction has already been sent to the gateway; '
                'the merchant must start a new one.'
            ),
        )
    response = HTTPSeeOther(request.route_url('billing', checkout=checkout.id))
    remember_language(request, response, request.locale_name)
    return response


def not_found(request):
    return refusal(request, _('This payment page does not exist or has expired.'), status=404)


def includeme(config):
    config.add_route('pay', '/pay')
    config.add_view(
        start_checkout, route_name='pay', request_method='POST', renderer='refused.jinja2'
    )
    config.add_notfound_view(not_found, renderer='refused.jinja2')
