"""What every page of a checkout shows, and the way a checkout ends."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther

from ..checkout import decided_response
from ..i18n import LANGUAGE_NAMES
from ..signing import amount_text

STEPS = ('billing', 'payment', 'review', 'receipt')


def checkout_factory(request):
    """The checkout named in the URL is the context of its pages."""
    checkout = request.sandbox.checkouts.get(request.matchdict['checkout'])
    if checkout is None:
        raise HTTPNotFound()
    return checkout


def add_checkout_route(config, name, pattern):
    config.add_route(name, '/t/{checkout}' + pattern, factory=checkout_factory)


def go_to(request, checkout, step):
    return HTTPSeeOther(request.route_url(step, checkout=checkout.id))


def misplaced(request, checkout, step):
    """A redirect to where the payer belongs when ``step`` is not open to them, else None.

    Steps already passed stay open until the decision; later ones are not open
    before the earlier are done; after the decision only the receipt is.
    """
    if checkout.response is not None:
        allowed = step == 'receipt'
    else:
        allowed = STEPS.index(step) <= STEPS.index(checkout.step)
    return None if allowed else go_to(request, checkout, checkout.step)


def page(request, checkout, step, **values):
    """The template values every checkout page shares: step bar, order box, languages."""
    return dict(
        values,
        checkout=checkout,
        step=step,
        step_index=STEPS.index(step),
        order_amount=amount_text(checkout.amount_baisa),
        currency=checkout.request['currency'],
        reference_number=checkout.request['reference_number'],
        other_languages=[
            (code, name) for code, name in LANGUAGE_NAMES.items() if code != request.locale_name
        ],
    )


def finish(request, checkout, outcome, card):
    """Decide the checkout, notify the merchant's server, then send the payer to the receipt.

    The notification goes first, as the real gateway does, unless a test switch
    says otherwise.
    """
    sandbox = request.sandbox
    response = decided_response(checkout, outcome, card, sandbox.profile)
    if sandbox.checkouts.close(checkout, response, sandbox.delivery):
        sandbox.notifier.before_browser(checkout)
    return go_to(request, checkout, 'receipt')
