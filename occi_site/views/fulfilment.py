"""Fulfilment of a service request, free or paid: one path for every service."""

import logging

from ..i18n import _
from ..resources.services import fulfil, get_service
from .notify import notify_member

log = logging.getLogger(__name__)


def complete_request(request, service_request):
    """Apply ``service_request`` once, issue its certificate and tell the member.

    Safe to call again: an already fulfilled request changes nothing and
    sends nothing.  Raises ServiceRefused when a rule now refuses; the request
    is then marked refused (or failed, if paid) and the caller must let the
    transaction commit so that outcome is kept.
    """
    if service_request.state == 'fulfilled':
        return request.root['certificates'][service_request.certificate_serial]
    registry_company = request.commercial_registry.company(service_request.cr_number)
    certificate = fulfil(
        request.root, service_request, request.today, request.now, registry_company
    )
    account = request.root['accounts'].get(service_request.civil_id)
    service = get_service(service_request.service)
    request.root['audit'].record(
        'service.fulfilled',
        user=service_request.civil_id,
        path='/requests/%s' % service_request.__name__,
        details={
            'service': service_request.service,
            'cr': service_request.cr_number,
            'certificate': certificate.serial,
        },
    )
    if account is not None:
        notify_member(
            request,
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
    return certificate
