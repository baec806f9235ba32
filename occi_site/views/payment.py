"""The payment path shared by every payable service: order, gateway, answer.

The gateway's answer reaches the portal twice, as the browser's return (a
cross-site POST without the session cookie) and as the gateway's server
notification, in any order and any number of times; both hand it to
``Orders.receive_answer`` and the order decides what it means
(``resources/order.py``).  The order is found from the signed fields, never
from the session.  A declined, cancelled or failed payment brings the member
back to the request, which says what happened and offers to try again.
"""

import logging
import uuid

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..certificates import ReceiptData, render_receipt
from ..documents import issued_pdf, pdf_response
from ..i18n import _, localizer_for
from ..integrations.payment import PaymentResponseError, PaymentSignatureError
from ..resources.order import Order, Outcome
from ..resources.services import get_service
from ..security import member_crs
from .codes import count_failure, over_limit
from .fulfilment import complete_paid_request

log = logging.getLogger(__name__)
NO_LONGER_LISTED = _(
    'The commercial registry no longer lists you for this company: the request cannot go on.'
)
PAYMENT_HELD = _(
    'A card payment for this service and company is being checked by the bank. '
    'Please wait for its decision before you pay again.'
)
# Messages not signed by the gateway, audited per network address and hour.
REFUSALS_AUDITED_PER_IP_HOUR = 20


def start_payment(request, service_request):
    """Make the order for ``service_request``'s confirmed quote and show it before the gateway."""
    english, arabic = localizer_for(request, 'en'), localizer_for(request, 'ar')
    lines = [
        (english.translate(label), arabic.translate(label), amount)
        for label, amount in service_request.quote.lines
        if amount
    ]
    order = service_request.await_payment(lines, request.now, request)
    return HTTPSeeOther(request.resource_url(order))


def order_view(name='', **options):
    """A view of an order, for the member it belongs to (and administrators)."""
    return view_config(context=Order, name=name, permission='view', **options)


def payment_offer(request, order):
    """``(payable, held)``: whether the member is offered to pay ``order``
    now, and the other payment held for review that stops it, or None.  An
    administrator opening the order is offered nothing (``pay`` is the
    member's alone)."""
    if not order.is_payable(request.now) or not request.has_permission('pay', order):
        return False, None
    held = request.root['requests'].payment_held_for_review(
        order.service_request, request.now, besides=order
    )
    return held is None, held


@order_view(renderer='payment/order.jinja2', request_method='GET')
def show_order(order, request):
    order.expire_if_stale(request.now, request)
    service_request = order.service_request
    service = get_service(service_request.service)
    payable, held = payment_offer(request, order)
    return {
        'order': order,
        'service_request': service_request,
        'service': service,
        'payable': payable,
        'held': held,
        'members_own': request.has_permission('edit', service_request),
        'crumbs': [(service.title, request.resource_url(service_request)), (_('Payment'), None)],
    }


@view_config(
    context=Order,
    name='checkout',
    permission='pay',
    renderer='payment/checkout.jinja2',
    request_method='POST',
)
def checkout(order, request):
    """Hand the member to the gateway with a new attempt's signed fields,
    unless the registry no longer lists them for the company (the request
    is then refused) or another payment for the change is held for review."""
    order.expire_if_stale(request.now, request)
    # The page's own offer, asked again: the order may have changed since it was shown.
    payable, held = payment_offer(request, order)
    if held is not None:
        request.session.flash(request.localizer.translate(PAYMENT_HELD))
    if not payable:
        return HTTPSeeOther(request.resource_url(order))
    service_request = order.service_request
    # As at step 3: the price is paid for the company by a person the registry lists for it.
    if service_request.cr_number not in member_crs(request):
        if service_request.may_change:
            service_request.refuse_before_payment('not_listed', request.now, request)
        request.session.flash(request.localizer.translate(NO_LONGER_LISTED))
        return HTTPSeeOther(request.resource_url(service_request))
    account = request.identity
    forename, _space, surname = account.full_name.partition(' ')
    company = request.root['companies'].get(service_request.cr_number)
    transaction_uuid = uuid.uuid4().hex
    endpoint, fields = request.payment_gateway.checkout(
        reference_number=order.id,
        transaction_uuid=transaction_uuid,
        amount_baisa=order.amount_baisa,
        locale=request.locale_name,
        bill_to={
            'forename': forename,
            'surname': surname or forename,
            'email': account.email,
            'phone': account.mobile,
            'address_line1': company.address if company else 'Muscat',
            'address_city': 'Muscat',
            'address_country': 'OM',
        },
        return_url=request.route_url('payment_return'),
        notify_url=request.route_url('payment_notify'),
    )
    order.begin_checkout(transaction_uuid, fields, request.now, request)
    return {'endpoint': endpoint, 'fields': fields, 'order': order}


def settle(request, channel):
    """Read one gateway message and give it to its order: ``(order, None)``,
    or ``(None, response)`` for a message no order takes.  Every message is
    kept (refused ones in the audit log), so the refusal is returned, not
    raised: raising would roll that record back."""
    try:
        result = request.payment_gateway.read_result(request.POST)
    except PaymentSignatureError as error:
        # Not the gateway's, so anyone's: the log keeps every one, the audit log an address's
        # first ones in the hour (a forger's flood would grow it without end).
        log.warning(
            'gateway message refused (%s, from %s): %s', channel, request.client_addr, error
        )
        if over_limit(request, 'gateway-refused', REFUSALS_AUDITED_PER_IP_HOUR) is None:
            count_failure(request, 'gateway-refused')
            request.root['orders'].refuse_answer(str(error), request.now, request, channel)
        return None, HTTPBadRequest()
    except PaymentResponseError as error:
        # Signed by the gateway but unusable: always audited.
        log.warning('gateway message unusable (%s): %s', channel, error)
        request.root['orders'].refuse_answer(str(error), request.now, request, channel)
        return None, HTTPBadRequest()
    order = settle_result(request, result, channel)
    if order is None:
        return None, HTTPNotFound()
    return order, None


def settle_result(request, result, channel):
    """Give one verified gateway answer to its order and fulfil the request
    the answer paid; the order, or None for a reference no order has.  The
    browser's return, the gateway's notification, reconciliation and the
    Payment tab's "Ask the gateway now" all come this way."""
    order, outcome = request.root['orders'].receive_answer(result, request.now, request, channel)
    if outcome == Outcome.PAID:
        complete_paid_request(request, order.service_request)
    return order


def settle_results(request, order, results, channel):
    """Give ``order`` the answers of a status query (``results``: all the
    gateway says of the order, said before or not) that it has not kept;
    returns how many it had not."""
    given = 0
    for result in results:
        if not order.has_kept(result.fields):
            settle_result(request, result, channel)
            given += 1
    return given


@view_config(route_name='payment_return', request_method='POST', require_csrf=False)
def browser_return(request):
    order, refused = settle(request, 'browser')
    if refused is not None:
        return refused
    # A plain GET from here on: it carries the SameSite=Lax session cookie.
    return HTTPSeeOther(request.resource_url(order.service_request))


@view_config(
    route_name='payment_notify', request_method='POST', require_csrf=False, renderer='string'
)
def server_notification(request):
    _order, refused = settle(request, 'server')
    return 'OK' if refused is None else refused


def receipt_data(request, order):
    service_request = request.root['requests'][order.request_id]
    service = get_service(service_request.service)
    company = request.root['companies'].get(service_request.cr_number)
    account = request.root['accounts'].get(order.civil_id)
    english, arabic = localizer_for(request, 'en'), localizer_for(request, 'ar')
    return ReceiptData(
        reference=order.id,
        issued_at=order.paid_at,
        payer_name=account.full_name,
        company_name_en=company.name_en if company else '',
        company_name_ar=company.name_ar if company else '',
        cr_number=service_request.cr_number,
        service_en=english.translate(service.title),
        service_ar=arabic.translate(service.title),
        lines=list(order.lines),
        total_baisa=order.amount_baisa,
        card_type=order.card_type or '',
        card_last4=order.card_last4 or '',
        transaction_id=order.transaction_id or '',
    )


@order_view('receipt', renderer='payment/receipt.jinja2')
def receipt(order, request):
    if order.state != 'paid':
        raise HTTPNotFound()
    service_request = request.root['requests'][order.request_id]
    return {
        'order': order,
        'service_request': service_request,
        'service': get_service(service_request.service),
        'crumbs': [(_('Receipt'), None)],
    }


@order_view('receipt.pdf')
def receipt_pdf(order, request):
    if order.state != 'paid':
        raise HTTPNotFound()
    document = issued_pdf(
        request, 'receipt', order.id, lambda: render_receipt(receipt_data(request, order))
    )
    return pdf_response(request, document, 'receipt-%s.pdf' % order.id)


def includeme(config):
    config.add_route('payment_return', '/payment/return')
    config.add_route('payment_notify', '/payment/notify')
    config.scan(__name__)
