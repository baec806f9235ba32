"""Service requests and orders in /manage, filtered by service, state and date.

Neither container keeps an index on those, so the filter reads a bounded
window of records per page (in name order, from where the last page ended)
and never the whole container: a page costs the same on any number of records.
"""
import colander
import deform

from ...clock import OMAN
from ...i18n import _
from ...resources.order import STATES as ORDER_STATES, Orders
from ...resources.service_request import STATES as REQUEST_STATES, ServiceRequests
from ...resources.services import SERVICES
from ...resources.types import title_of
from .forms import date_input, search_form
from .listing import window
from .tabs import manage_page, mgmt_view

STATES_OF = {ServiceRequests: REQUEST_STATES, Orders: ORDER_STATES}
WINDOW = 1000


@colander.deferred
def _service_widget(node, kw):
    translate = kw['request'].localizer.translate
    return deform.widget.SelectWidget(values=[('', translate(_('Any service')))] + [
        (name, translate(service.title)) for name, service in SERVICES.items()])


@colander.deferred
def _state_widget(node, kw):
    translate = kw['request'].localizer.translate
    states = STATES_OF[type(kw['context'])]
    return deform.widget.SelectWidget(
        values=[('', translate(_('Any state')))] + [(state, state) for state in states])


class RecordFilter(colander.Schema):
    service = colander.SchemaNode(colander.String(), title=_('Service'), missing='',
                                  widget=_service_widget)
    state = colander.SchemaNode(colander.String(), title=_('State'), missing='',
                                widget=_state_widget)
    date_from = colander.SchemaNode(colander.Date(), title=_('Made from (date)'), missing=None,
                                    widget=date_input())
    date_to = colander.SchemaNode(colander.Date(), title=_('Made until (date)'), missing=None,
                                  widget=date_input())


def service_of(site, record):
    """A request's service; an order's is its request's."""
    if hasattr(record, 'service'):
        return record.service
    made_for = site['requests'].get(getattr(record, 'request_id', ''))
    return getattr(made_for, 'service', None)


def service_title(name):
    service = SERVICES.get(name)
    return service.title if service is not None else ''


def matches(site, record, filters):
    made_on = record.created.astimezone(OMAN).date()
    return ((not filters['service'] or service_of(site, record) == filters['service'])
            and (not filters['state'] or record.state == filters['state'])
            and (filters['date_from'] is None or made_on >= filters['date_from'])
            and (filters['date_to'] is None or made_on <= filters['date_to']))


@mgmt_view(name='manage-search', title=_('Find'), context=ServiceRequests, permission='manage',
           order=5, renderer='manage/records.jinja2')
@mgmt_view(name='manage-search', title=_('Find'), context=Orders, permission='manage',
           order=5, renderer='manage/records.jinja2')
def records(context, request):
    form, filters = search_form(request, RecordFilter(), _('Filter'), context=context)
    found = following = None
    if filters is not None:
        items, last = window(context, request.GET.get('after') or None, WINDOW)
        site = context.__parent__
        found = sorted((record for _name, record in items if matches(site, record, filters)),
                       key=lambda record: record.created, reverse=True)
        if last is not None:
            following = request.resource_url(context, '@@manage-search',
                                             query=dict(request.GET, after=last))
    rows = None if found is None else [{
        'record': record,
        'title': title_of(record, request.locale_name),
        'service': service_title(service_of(context.__parent__, record)),
        'state': record.state,
        'made': record.created.astimezone(OMAN),
    } for record in found]
    return manage_page(request, context, form=form, rows=rows, following=following,
                       window=WINDOW)
