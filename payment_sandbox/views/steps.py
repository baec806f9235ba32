"""Billing, Payment and Review: one form view each, dispatching on the pressed button."""

from datetime import date

from ..cards import CANCELLED, CARD_TYPES, TEST_CARDS, masked, outcome_for
from ..forms import (
    billing_from_request,
    card_values,
    countries,
    expiry_years,
    read_billing,
    read_card,
)
from .common import add_checkout_route, finish, go_to, misplaced, page


class StepView:
    """One step of the checkout. GET shows it; POST runs the method named after
    the pressed button, among ``buttons``."""

    step = None
    buttons = ()

    def __init__(self, context, request):
        self.checkout = context
        self.request = request

    def show(self):
        return self.misplaced() or self.render(self.values(), {})

    def submit(self):
        redirect = self.misplaced()
        if redirect:
            return redirect
        for button in self.buttons:
            if button in self.request.POST:
                return getattr(self, button)()
        return self.show()

    def misplaced(self):
        return misplaced(self.request, self.checkout, self.step)

    def render(self, values, errors):
        translate = self.request.localizer.translate
        return page(
            self.request,
            self.checkout,
            self.step,
            values=values,
            errors={name: translate(message) for name, message in errors.items()},
            **self.extra(),
        )

    def values(self):
        return {}

    def extra(self):
        return {}

    def cancel(self):
        return finish(self.request, self.checkout, CANCELLED, None)


class BillingStep(StepView):
    step = 'billing'
    buttons = ('next', 'cancel')

    def values(self):
        return self.checkout.billing or billing_from_request(self.checkout.request)

    def extra(self):
        return {'countries': countries(self.request.locale_name)}

    def next(self):
        values, errors = read_billing(self.request.POST)
        if errors:
            return self.render(values, errors)
        self.checkout.billing = values
        return go_to(self.request, self.checkout, 'payment')


class PaymentStep(StepView):
    step = 'payment'
    buttons = ('next', 'back', 'cancel')

    def values(self):
        return card_values(self.checkout.card)

    def extra(self):
        return {
            'card_types': CARD_TYPES,
            'test_cards': TEST_CARDS,
            'months': ['%02d' % month for month in range(1, 13)],
            'years': expiry_years(date.today()),
        }

    def next(self):
        values, errors, card = read_card(self.request.POST, date.today())
        if errors:
            return self.render(values, errors)
        self.checkout.card = card
        return go_to(self.request, self.checkout, 'review')

    def back(self):
        return go_to(self.request, self.checkout, 'billing')


class ReviewStep(StepView):
    step = 'review'
    buttons = ('pay', 'back', 'cancel')

    def extra(self):
        card = self.checkout.card
        return {
            'billing': self.checkout.billing,
            'countries': dict(countries(self.request.locale_name)),
            'card_type': CARD_TYPES[card.card_type],
            'card_number': masked(card.number),
            'card_expiry': '%s/%s' % (card.expiry_month, card.expiry_year),
        }

    def pay(self):
        card = self.checkout.card
        return finish(self.request, self.checkout, outcome_for(card.number), card)

    def back(self):
        return go_to(self.request, self.checkout, 'payment')


def includeme(config):
    for view in (BillingStep, PaymentStep, ReviewStep):
        add_checkout_route(config, view.step, '/' + view.step)
        renderer = view.step + '.jinja2'
        config.add_view(
            view, attr='show', route_name=view.step, request_method='GET', renderer=renderer
        )
        config.add_view(
            view, attr='submit', route_name=view.step, request_method='POST', renderer=renderer
        )
