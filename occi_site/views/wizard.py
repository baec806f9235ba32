"""The one wizard of the five e-services.

Step 1 (``/services/<name>``) picks the company; step 2 is the personal
verification (a PKI step-up); step 3 shows the company, the service's
choices and price, and the confirm button; then payment where the price is
above zero, and fulfilment.  Everything a service does differently is data
in ``resources/services.py``: this module never names a service.
"""

import colander
import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _
from ..resources.company import ServiceRefused
from ..resources.service_request import ServiceRequest
from ..resources.services import SERVICES, get_service
from ..resources.verification import normalise_mobile
from ..security import member_crs
from .auth import start_authentication
from .captcha import CaptchaWidget, check_answer
from .forms import MOBILE, MOBILE_MESSAGE, FormView, text_value
from .fulfilment import complete_request
from .payment import NO_LONGER_LISTED, PAYMENT_HELD, payment_offer, start_payment

PRICE_CHANGED = _(
    'The price or the terms changed since this page was shown to you (the day changed, or '
    "the chamber's fees). Please read them again and confirm."
)
PAYMENT_UNDER_WAY = _(
    'Another request for this service and company is being paid or completed. '
    'Please confirm this one once it is completed, if you still need it.'
)


@colander.deferred
def cr_widget(node, kw):
    options = [('', _('Select Company'))] + [(cr, cr) for cr in kw['crs']]
    return deform.widget.SelectWidget(values=options)


@colander.deferred
def occi_widget(node, kw):
    options = [('', _('Select Company'))] + [(number, number) for number in kw['occi_numbers']]
    return deform.widget.SelectWidget(values=options)


class CompanySchema(colander.Schema):
    cr_number = colander.SchemaNode(colander.String(), title=_('CR Number'), widget=cr_widget)
    occi_number = colander.SchemaNode(colander.String(), title=_('OCCI Number'), widget=occi_widget)
    captcha = colander.SchemaNode(colander.String(), title=_('Captcha'))


@view_config(route_name='service_start', renderer='wizard/start.jinja2', permission='member')
class ChooseCompany(FormView):
    """Step 1: the company, by a CR number the registry lists for this member."""

    buttons = (deform.Button('next', _('Next')),)

    def __init__(self, context, request):
        super().__init__(context, request)
        self.service = SERVICES.get(request.matchdict['service'])
        if self.service is None:
            raise HTTPNotFound()

    def schema(self):
        schema = CompanySchema()
        if not self.service.needs_membership:
            del schema['occi_number']
        if self.service.shows_captcha:
            schema['captcha'].widget = CaptchaWidget(request=self.request)
        else:
            del schema['captcha']
        return schema

    def bind_values(self):
        crs = member_crs(self.request)
        companies = self.request.root['companies']
        occi_numbers = [
            companies[cr].membership.occi_number
            for cr in crs
            if cr in companies and companies[cr].membership is not None
        ]
        return {'crs': crs, 'occi_numbers': occi_numbers}

    def show(self, rendered_form, **values):
        return dict(
            values, form=rendered_form, service=self.service, crumbs=[(self.service.title, None)]
        )

    def next_success(self, form, appstruct):
        request = self.request
        cr_number = appstruct['cr_number']
        if cr_number not in member_crs(request):
            raise HTTPForbidden()
        if self.service.shows_captcha and not check_answer(request, appstruct['captcha']):
            return self.invalid(
                form,
                appstruct,
                captcha=_('The answer does not match the image. Please try the new image.'),
            )
        occi_number = appstruct.get('occi_number')
        try:
            self.service.check(
                request.root['companies'].get(cr_number),
                request.commercial_registry.company(cr_number),
                request.today,
                occi_number,
            )
        except ServiceRefused as refusal:
            return self.show(form.render(appstruct), refusal=refusal)
        service_request = request.root['requests'].open_request(
            self.service.name,
            request.identity.civil_id,
            cr_number,
            request.now,
            request,
            occi_number=occi_number,
            language=request.locale_name,
        )
        return HTTPSeeOther(request.resource_url(service_request))


def company_view(request, service_request):
    """What step 3 shows of the company: the chamber's record and the registry's."""
    return {
        'company': request.root['companies'].get(service_request.cr_number),
        'listed': request.commercial_registry.company(service_request.cr_number),
    }


def page_values(request, service_request):
    """What every step of the request's page shows."""
    service = get_service(service_request.service)
    return {
        'service_request': service_request,
        # The member's own steps are offered to the member only (an administrator may look).
        'members_own': request.has_permission('edit', service_request),
        'crumbs': [(service.title, request.route_url('service_start', service=service.name))],
    }


def verify_step(request, service_request, **values):
    """Step 2, the personal verification (again, if the last one is stale)."""
    return dict(
        page_values(request, service_request),
        step='verify',
        stale=service_request.step_up is not None,
        **values,
    )


@view_config(
    context=ServiceRequest,
    renderer='wizard/request.jinja2',
    permission='view',
    request_method='GET',
    member_cache=True,
)
def show_request(service_request, request):
    """Whatever step the request is at."""
    service_request.expire_if_stale(request.now, request)
    order = service_request.order
    if order is not None:
        order.expire_if_stale(request.now, request)
    service = get_service(service_request.service)
    if service_request.state in ('draft', 'verified') and not service_request.step_up_is_fresh(
        request.now
    ):
        return verify_step(request, service_request)
    values = page_values(request, service_request)
    if service_request.state == 'verified':
        # Only step 3 shows the company: a page after it needs no registry.
        values.update(
            company_view(request, service_request),
            step='confirm',
            held=request.root['requests'].payment_held_for_review(service_request, request.now),
        )
        choices = dict(service_request.choices)
        choices.update(
            {
                choice.name: request.GET[choice.name]
                for choice in service.choices
                if choice.name in request.GET
            }
        )
        try:
            values['choices'] = service.read_choices(choices)
            values['quote'] = service.quote(
                values['company'],
                values['listed'],
                request.today,
                request.root['settings'].fees,
                values['choices'],
            )
        except ValueError:
            raise HTTPNotFound() from None
        except ServiceRefused as refusal:
            values['refusal'] = refusal
        return values
    values['step'] = service_request.state
    if service_request.certificate_serial:
        values['certificate'] = request.root['certificates'][service_request.certificate_serial]
    if order is not None:
        values['order'] = order
        values['payable'], values['held'] = payment_offer(request, order)
    return values


@view_config(
    context=ServiceRequest,
    name='verify',
    permission='edit',
    request_method='POST',
    renderer='wizard/request.jinja2',
)
def verify(service_request, request):
    """Step 2: the personal verification, by card or by Mobile ID."""
    if not service_request.is_open:
        return HTTPSeeOther(request.resource_url(service_request))
    method = request.POST.get('method')
    if method not in ('card', 'mobile'):
        return HTTPSeeOther(request.resource_url(service_request))
    hint = None
    typed = text_value(request.POST, 'mobile')
    if method == 'mobile' and typed.strip():
        # Left empty, the PKI asks for it.
        hint = normalise_mobile(typed)
        if not MOBILE.match(hint):
            return verify_step(
                request, service_request, mobile_typed=typed, mobile_error=MOBILE_MESSAGE
            )
    return start_authentication(
        request,
        purpose='step_up',
        method=method,
        login_hint=hint,
        came_from=request.resource_path(service_request),
        service_request=service_request.__name__,
    )


@view_config(context=ServiceRequest, name='confirm', permission='edit', request_method='POST')
def confirm(service_request, request):
    """Step 3's button: price the request as shown, then pay or fulfil."""
    if service_request.state != 'verified' or not service_request.step_up_is_fresh(request.now):
        return HTTPSeeOther(request.resource_url(service_request))
    # Listed at step 1, perhaps no longer: the price is accepted for the company by this person.
    if service_request.cr_number not in member_crs(request):
        service_request.refuse('not_listed', request.now, request)
        request.session.flash(request.localizer.translate(NO_LONGER_LISTED))
        return HTTPSeeOther(request.resource_url(service_request))
    service = get_service(service_request.service)
    requests = request.root['requests']
    if requests.payment_held_for_review(service_request, request.now) is not None:
        request.session.flash(request.localizer.translate(PAYMENT_HELD))
        return back_to_step_3(request, service_request, service)
    if requests.payment_under_way(service_request, request.now) is not None:
        request.session.flash(request.localizer.translate(PAYMENT_UNDER_WAY))
        return back_to_step_3(request, service_request, service)
    listed = request.commercial_registry.company(service_request.cr_number)
    company = request.root['companies'].get(service_request.cr_number)
    try:
        choices = service.read_choices(request.POST)
        quote = service.quote(
            company, listed, request.today, request.root['settings'].fees, choices
        )
    except ValueError:
        return HTTPSeeOther(request.resource_url(service_request))
    except ServiceRefused as refusal:
        request.session.flash(request.localizer.translate(refusal.message))
        return back_to_step_3(request, service_request, service)
    if price_changed(request, service, quote):
        request.session.flash(request.localizer.translate(PRICE_CHANGED))
        return back_to_step_3(request, service_request, service)
    service_request.set_quote(quote, choices)
    if quote.needs_payment:
        return start_payment(request, service_request)
    try:
        complete_request(request, service_request)
    except ServiceRefused as refusal:
        request.session.flash(request.localizer.translate(refusal.message))
    return HTTPSeeOther(request.resource_url(service_request))


def price_changed(request, service, quote):
    """Whether ``quote``, made now for the choices step 3 showed, differs from
    the one it showed (the day changed, or the fees).  A choice changed on
    the page without its Update is priced afresh: the order page shows that
    price before any payment."""
    shown_choices = [text_value(request.POST, 'shown_' + c.name) for c in service.choices]
    chosen = [text_value(request.POST, choice.name) for choice in service.choices]
    return shown_choices == chosen and text_value(request.POST, 'shown') != quote.as_shown


def back_to_step_3(request, service_request, service):
    """Step 3 again, with the choices the member had made (the page checks them)."""
    chosen = {
        c.name: text_value(request.POST, c.name) for c in service.choices if c.name in request.POST
    }
    return HTTPSeeOther(request.resource_url(service_request, query=chosen))


@view_config(context=ServiceRequest, name='change', permission='edit', request_method='POST')
def change(service_request, request):
    """From payment back to step 3, to change a choice: the order is withdrawn."""
    if service_request.may_change:
        service_request.change_before_payment(request.now, request)
    return HTTPSeeOther(request.resource_url(service_request))


@view_config(context=ServiceRequest, name='cancel', permission='edit', request_method='POST')
def cancel(service_request, request):
    if service_request.is_open:
        service_request.cancel(request.now, request)
    return HTTPSeeOther(request.route_url('dashboard'))


def includeme(config):
    config.add_route('service_start', '/services/{service}')
    config.scan(__name__)
