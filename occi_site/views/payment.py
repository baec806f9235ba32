"""The payment path shared by every payable service: order, gateway, result.

The gateway's answer reaches the portal twice, as the browser's return (a
cross-site POST without the session cookie) and as the gateway's server
notification; both go through ``settle``, which acts on the first and only
records the others.  The order is found from the signed fields, never from
the session.
"""

import logging
import uuid

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..certificates import ReceiptData, render_receipt
from ..i18n import _, localizer_for
from ..integrations.payment import PaymentResponseError
from ..resources.company import ServiceRefused
from ..resources.order import Order, PaymentMismatch
from ..resources.services import get_service
from .fulfilment import complete_request
from .notify import notify_member

log = logging.getLogger(__name__)


def start_payment(request, service_request):
    """Make the order for ``service_request``'s confirmed quote and show it before the gateway."""
    english, arabic = localizer_for(request, 'en'), localizer_for(request, 'ar')
    lines = [
        (english.translate(label), arabic.translate(label), amount)
        for label, amount in service_request.quote.lines
        if amount
    ]
    order = request.root['orders'].new_order(
        service_request.__name__,
        service_request.civil_id,
        lines,
        request.now,
        service=service_request.service,
    )
    service_request.await_payment(order.id, request.now)
    return HTTPSeeOther(request.resource_url(order))


def release_expired(request, order):
    """An order unpaid past its window gives its request back to the member."""
    if order.expire_if_stale(request.now):
        service_request = request.root['requests'].get(order.request_id)
        if (
            service_request is not None
            and service_request.state == 'awaiting_payment'
            and service_request.order_id == order.id
        ):
            service_request.transition('verified', request.now, note='order %s expired' % order.id)


@view_config(
    context=Order, renderer='payment/order.jinja2', permission='view', request_method='GET'
)
def show_order(order, request):
    release_expired(request, order)
    service_request = request.root['requests'].get(order.request_id)
    service = get_service(service_request.service)
    return {
        'order': order,
        'service_request': service_request,
        'service': service,
        'crumbs': [(service.title, request.resource_url(service_request)), (_('Payment'), None)],
    }


@view_config(
    context=Order,
    name='checkout',
    renderer='payment/checkout.jinja2',
    permission='view',
    request_method='POST',
)
def checkout(order, request):
    """Hand the member to the gateway with the order's signed fields."""
    release_expired(request, order)
    if order.state not in ('created', 'pending'):
        return HTTPSeeOther(request.resource_url(order))
    account = request.identity
    forename, _space, surname = account.full_name.partition(' ')
    company = request.root['companies'].get(request.root['requests'][order.request_id].cr_number)
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
    order.begin_checkout(transaction_uuid, fields, request.now)
    return {'endpoint': endpoint, 'fields': fields, 'order': order}


def read_gateway_answer(request):
    """The order and the checked result of a gateway message, or an HTTP error."""
    try:
        result = request.payment_gateway.read_result(request.POST)
    except PaymentResponseError as error:
        request.root['audit'].record(
            'payment.bad_signature',
            path='/orders',
            outcome='refused',
            details={'error': str(error)},
        )
        raise HTTPBadRequest() from error
    order = request.root['orders'].get(result.reference_number or '')
    if order is None:
        request.root['audit'].record(
            'payment.unknown_order',
            path='/orders',
            outcome='refused',
            details={'reference': result.reference_number or ''},
        )
        raise HTTPNotFound()
    return order, result


def settle(request, order, result, channel):
    """Record the gateway's answer on ``order``; on its first approval, the
    request is paid and fulfilled.  However often and in whatever order the
    answers come, the request is fulfilled once: the order records the first
    approval, and concurrent answers conflict on it and are retried."""
    path = request.resource_path(order)
    try:
        changed = order.record_gateway_result(result, request.now)
    except PaymentMismatch as mismatch:
        request.root['audit'].record(
            'payment.mismatch',
            user=order.civil_id,
            path=path,
            outcome='flagged',
            details={'why': str(mismatch), 'channel': channel},
        )
        return
    request.root['audit'].record(
        'payment.%s' % result.decision.lower(),
        user=order.civil_id,
        path=path,
        outcome='recorded' if changed else 'repeat',
        details={'channel': channel},
    )
    if not changed:
        return
    service_request = request.root['requests'][order.request_id]
    account = request.root['accounts'].get(order.civil_id)
    if order.state == 'paid':
        if service_request.state == 'awaiting_payment' and service_request.order_id == order.id:
            service_request.transition('paid', request.now, note=order.id)
            if account is not None:
                notify_member(
                    request,
                    account,
                    _('OCCI payment received'),
                    'mail/payment.txt.jinja2',
                    {'order': order},
                    sms=_(
                        'OCCI: payment of ${amount} OMR received, reference ${reference}.',
                        mapping={
                            'amount': '%d.%03d' % divmod(order.amount_baisa, 1000),
                            'reference': order.id,
                        },
                    ),
                )
            try:
                complete_request(request, service_request)
            except ServiceRefused as refusal:
                log.error(
                    'paid request %s could not be fulfilled: %s', service_request.id, refusal.reason
                )
        else:
            # Money taken for an order the member had left: the chamber refunds by hand.
            request.root['audit'].record(
                'payment.orphan', user=order.civil_id, path=path, outcome='flagged'
            )
    elif service_request.state == 'awaiting_payment' and service_request.order_id == order.id:
        service_request.transition('verified', request.now, note='%s %s' % (order.id, order.state))


@view_config(route_name='payment_return', request_method='POST', require_csrf=False)
def browser_return(request):
    order, result = read_gateway_answer(request)
    settle(request, order, result, 'browser')
    service_request = request.root['requests'][order.request_id]
    # A plain GET from here on: it carries the SameSite=Lax session cookie.
    return HTTPSeeOther(request.resource_url(service_request))


@view_config(
    route_name='payment_notify', request_method='POST', require_csrf=False, renderer='string'
)
def server_notification(request):
    order, result = read_gateway_answer(request)
    settle(request, order, result, 'server')
    return 'OK'


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


@view_config(context=Order, name='receipt', renderer='payment/receipt.jinja2', permission='view')
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


@view_config(context=Order, name='receipt.pdf', permission='view')
def receipt_pdf(order, request):
    if order.state != 'paid':
        raise HTTPNotFound()
    response = request.response
    response.content_type = 'application/pdf'
    response.content_disposition = 'attachment; filename="receipt-%s.pdf"' % order.id
    response.body = render_receipt(receipt_data(request, order))
    return response


def includeme(config):
    config.add_route('payment_return', '/payment/return')
    config.add_route('payment_notify', '/payment/notify')
    config.scan(__name__)
