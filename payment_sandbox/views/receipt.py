"""The Receipt, which returns the payer to the merchant, and the language switch."""

from pyramid.httpexceptions import HTTPNotFound

from ..checkout import card_summary
from ..i18n import language_of, remember_language
from .common import add_checkout_route, go_to, misplaced, page

# How long the receipt stays on screen before it returns the browser by itself.
RETURN_DELAY_MS = 2000


def receipt(context, request):
    redirect = misplaced(request, context, 'receipt')
    if redirect:
        return redirect
    sandbox = request.sandbox
    if context.delivery.notifies_after_browser and sandbox.checkouts.claim_late_notification(
        context
    ):
        # Finished callbacks run once this page has been produced.
        request.add_finished_callback(lambda _: sandbox.notifier.after_browser(context))
    response = context.response
    return page(
        request,
        context,
        'receipt',
        response=response,
        card=card_summary(response),
        returns_browser=context.delivery.returns_browser,
        return_url=context.request['override_custom_receipt_page'],
        return_delay_ms=RETURN_DELAY_MS,
    )


def switch_language(context, request):
    language = language_of(request.matchdict['language'])
    if language is None:
        raise HTTPNotFound()
    response = go_to(request, context, context.step)
    remember_language(request, response, language)
    return response


def includeme(config):
    add_checkout_route(config, 'receipt', '/receipt')
    config.add_view(receipt, route_name='receipt', request_method='GET', renderer='receipt.jinja2')
    add_checkout_route(config, 'language', '/language/{language}')
    config.add_view(switch_language, route_name='language', request_method='GET')
