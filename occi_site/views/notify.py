"""Messages to a member in the member's own language, whatever the request's.

``notify_member`` is the one call that sends a member a message.  The
subscribers below call it for the domain events a member hears of
(``events.py``): a registration finished, a payment received, a request
fulfilled, money due back and money given back; an e-mail address or mobile
number replaced hears of it too (``contact_changed``).  Views never send a
member anything themselves.

Notifications often leave during someone else's request (the gateway's
server notification has no member at all), so the text is rendered with a
localizer for the member's language, not the request's.
"""

from pyramid.events import subscriber
from pyramid.traversal import find_root

from ..events import (
    AccountRegistered,
    ContactChanged,
    PaymentReceived,
    RefundDue,
    RefundMade,
    RequestFulfilled,
)
from ..i18n import _, localizer_for, render_in
from ..integrations.mail import send_mail
from ..integrations.sms import send_sms
from ..money import gateway_amount
from ..resources.services import get_service


def notify_member(request, account, subject, template, values, sms=None):
    """E-mail (and an SMS if ``sms`` is given) to ``account`` in its language.

    ``subject`` and ``sms`` are TranslationStrings; ``template`` a text mail template.
    """
    localizer = localizer_for(request, account.language)
    body = render_in(request, account.language, template, dict(values, account=account))
    about = {'template': template, 'language': account.language, 'civil_id': account.civil_id}
    send_mail(request, account.email, localizer.translate(subject), body, **about)
    if sms is not None:
        send_sms(request, account.mobile, localizer.translate(sms), **about)


def _account(record):
    return find_root(record)['accounts'].get(record.civil_id)


@subscriber(AccountRegistered)
def welcome(event):
    notify_member(
        event.request,
        event.subject,
        _('Welcome to the OCCI E-services'),
        'mail/welcome.txt.jinja2',
        {},
    )


@subscriber(ContactChanged)
def contact_changed(event):
    """The address that was replaced hears of it, in the member's language."""
    request, account, old = event.request, event.subject, event.old
    localizer = localizer_for(request, account.language)
    if event.channel == 'email':
        body = render_in(
            request,
            account.language,
            'mail/contact_changed.txt.jinja2',
            {'account': account, 'new': account.email},
        )
        subject = localizer.translate(_('Your e-mail address on the OCCI E-services was changed'))
        send_mail(request, old, subject, body)
    else:
        send_sms(
            request,
            old,
            localizer.translate(
                _(
                    'The mobile number of your OCCI E-services account was changed to one '
                    'ending in ${digits}. If you did not change it, contact the chamber.',
                    mapping={'digits': account.mobile[-3:]},
                )
            ),
        )


@subscriber(PaymentReceived)
def payment_received(event):
    order = event.subject
    account = _account(order)
    if account is None:
        return
    notify_member(
        event.request,
        account,
        _('OCCI payment received'),
        'mail/payment.txt.jinja2',
        {'order': order},
        sms=_(
            'OCCI: payment of ${amount} OMR received, reference ${reference}.',
            mapping={'amount': gateway_amount(event.amount_baisa), 'reference': order.id},
        ),
    )


@subscriber(RequestFulfilled)
def request_fulfilled(event):
    service_request, certificate = event.subject, event.certificate
    account = _account(service_request)
    if account is None:
        return
    service = get_service(service_request.service)
    notify_member(
        event.request,
        account,
        _('Your OCCI e-service request is complete'),
        'mail/fulfilled.txt.jinja2',
        {'service_request': service_request, 'service': service, 'certificate': certificate},
        sms=_(
            'OCCI: your request "${service}" for CR ${cr} is complete. Certificate ${serial}.',
            mapping={
                'service': service.title,
                'cr': service_request.cr_number,
                'serial': certificate.serial,
            },
        ),
    )


REFUND_MESSAGES = {
    RefundDue: (_('OCCI will refund a payment'), 'mail/refund_due.txt.jinja2'),
    RefundMade: (_('OCCI refunded a payment'), 'mail/refund_made.txt.jinja2'),
}


@subscriber(RefundDue, RefundMade)
def refund(event):
    """Money due back to the member, or given back."""
    order = event.subject
    account = _account(order)
    if account is not None:
        subject, template = REFUND_MESSAGES[type(event)]
        notify_member(
            event.request, account, subject, template, {'order': order, 'refund': event.refund}
        )


def includeme(config):
    config.scan(__name__)
