"""Fulfilment of a service request, free or paid: one path for every service."""


def complete_request(request, service_request):
    """Apply ``service_request`` once, with the commercial registry's record
    of its company (``ServiceRequest.fulfil``); the member hears of it from
    the RequestFulfilled event.

    Safe to call again: an already fulfilled request changes nothing and
    sends nothing.  Raises ServiceRefused when a rule now refuses; the request
    is then marked refused (or failed, if paid) and the caller must let the
    transaction commit so that outcome is kept.
    """
    registry_company = request.commercial_registry.company(service_request.cr_number)
    return service_request.fulfil(request.today, request.now, request, registry_company)
