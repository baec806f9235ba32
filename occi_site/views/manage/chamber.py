"""The first tab at /manage: the chamber's own data, one link each, with counts."""

from ...i18n import _
from ...resources.site import Site
from .tabs import manage_page, mgmt_view

AREAS = (
    (
        'accounts',
        _('Accounts'),
        _('Find a person; lock or unlock; editor, admin and finance roles.'),
    ),
    (
        'companies',
        _('Companies and memberships'),
        _('Find a company by CR, OCCI number or name; history; record a debit.'),
    ),
    ('requests', _('Service requests'), _('Filter by service, state and date.')),
    ('orders', _('Orders'), _('Payments at the card gateway, by service, state and date.')),
    (
        'notifications',
        _('Notifications'),
        _('E-mail and SMS: by status, channel, recipient and date; send a failed one again.'),
    ),
    ('content', _('Content'), _('Pages and news of the chamber, and their publication.')),
)


@mgmt_view('manage-chamber', _('Chamber'), Site, order=5, template='chamber')
def chamber(context, request):
    areas = [(context[name], title, text) for name, title, text in AREAS if name in context]
    return manage_page(request, context, areas=areas, fees=context['settings']['fees'])
