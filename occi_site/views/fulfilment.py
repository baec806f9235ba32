"""Fulfilment of a service request, free or paid: one path for every service."""

import logging

from ..integrations.commercial_registry import RegistryError, RegistryRecordError
from ..resources.company import ServiceRefused
from ..resources.services import get_service

log = logging.getLogger(__name__)


def complete_request(request, service_request):
    """Apply ``service_request`` once (``ServiceRequest.fulfil``), with the
    commercial registry's record of its company where the service reads it
    again (New Membership); the member hears of it from the RequestFulfilled
    event.

    Safe to call again: an already fulfilled request changes nothing and
    sends nothing.  Raises ServiceRefused when a rule now refuses; the request
    is then marked refused (or failed, if paid) and the caller must let the
    transaction commit so that outcome is kept.
    """
    registry_company = None
    if get_service(service_request.service).completes_with_registry:
        registry_company = request.commercial_registry.company(service_request.cr_number)
    return service_request.fulfil(request.today, request.now, request, registry_company)


def complete_paid_request(request, service_request):
    """``complete_request`` for a request its payment made paid, where the
    payment must be kept whatever happens: a rule that now refuses fails the
    request (the money is then due back); a commercial registry that does not
    answer (to a New Membership, which reads it again) leaves it paid, for the
    next reconciliation pass to complete; so does a record of the company that
    the registry answers but the portal cannot use, until the registry
    corrects it.  Returns False when the registry did not answer, and only
    then: a pass goes on past one company's unusable record."""
    try:
        complete_request(request, service_request)
    except ServiceRefused as refusal:
        log.error('paid request %s could not be fulfilled: %s', service_request.id, refusal.reason)
    except RegistryRecordError as error:
        log.error(
            "paid request %s: the commercial registry's record of CR %s cannot be used: %s",
            service_request.id,
            service_request.cr_number,
            error,
        )
    except RegistryError as error:
        log.warning(
            'paid request %s waits for the commercial registry: %s', service_request.id, error
        )
        return False
    return True
