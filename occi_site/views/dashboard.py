"""The member's dashboard: the five e-services and their companies."""

from pyramid.view import view_config

from ..security import member_crs

# A membership this close to its expiry is shown as expiring.
EXPIRING_WITHIN_DAYS = 30


def company_rows(request, crs):
    """One row per CR the registry lists for the member, with the chamber's membership."""
    companies = request.root['companies']
    rows = []
    for cr in crs:
        listed = request.commercial_registry.company(cr)
        company = companies.get(cr)
        membership = company.membership if company is not None else None
        if membership is None:
            status = 'none'
        elif membership.is_expired(request.today):
            status = 'expired'
        elif membership.expires_within(EXPIRING_WITHIN_DAYS, request.today):
            status = 'expiring'
        else:
            status = 'active'
        rows.append(
            {
                'cr': cr,
                'listed': listed,
                'company': company,
                'membership': membership,
                'status': status,
            }
        )
    return rows


def member_records(request, crs):
    """The member's requests (with their paid orders) and the current
    certificates of their companies, each found through an index."""
    site = request.root
    requests = site['requests'].for_member(request.identity.civil_id)
    receipts = [
        order
        for service_request in requests
        for order in site['orders'].for_request(service_request.id)
        if order.state == 'paid'
    ]
    certificates = [
        certificate
        for certificate in (site['certificates'].current_for(cr) for cr in crs)
        if certificate
    ]
    return requests, receipts, certificates


@view_config(
    route_name='dashboard', renderer='dashboard.jinja2', permission='member', member_cache=True
)
def dashboard(request):
    crs = member_crs(request)
    requests, receipts, certificates = member_records(request, crs)
    return {
        'companies': company_rows(request, crs),
        'requests': requests,
        'receipts': receipts,
        'certificates': certificates,
        'crumbs': (),
    }


def includeme(config):
    config.add_route('dashboard', '/dashboard')
    config.scan(__name__)
