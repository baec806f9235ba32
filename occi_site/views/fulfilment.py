"""Fulfilment of a service request, free or paid: one path for every service."""

import logging

from ..i18n import _
from ..resources.services import fulfil, get_service
from .notify import notify_member

log = logging.getLogger(__name__)


def complete_request(request, record):
    """Apply ``record`` once, issue its certificate and tell the member.

    Safe to call again: an already fulfilled request changes nothing and
    sends nothing.  Raises ServiceRefused when a rule now refuses; the request
    is then marked refused (or failed, if paid) and the caller must let the
    transaction commit so that outcome is kept.
    """
    if record.state == 'fulfilled':
        return request.root['certificates'][record.certificate_serial]
    registry_company = request.commercial_registry.company(record.cr_number)
    certificate = fulfil(request.root, record, request.today, request.now, registry_company)
    account = request.root['accounts'].get(record.civil_id)
    service = get_service(record.service)
    request.root['audit'].record(
        'service.fulfilled',
        user=record.civil_id,
        path='/requests/%s' % record.__name__,
        details={
            'service': record.service,
            'cr': record.cr_number,
            'certificate': certificate.serial,
        },
    )
    if account is not None:
        notify_member(
            request,
            account,
            _('Your OCCI e-service request is complete'),
            'mail/fulfilled.txt.jinja2',
            {'record': record, 'service': service, 'certificate': certificate},
            sms=_(
                'OCCI: your request "${service}" for CR ${cr} is complete. Certificate ${serial}.',
                mapping={
                    'service': service.title,
                    'cr': record.cr_number,
                    'serial': certificate.serial,
                },
            ),
        )
    return certificate
