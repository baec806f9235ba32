"""Service requests and orders in /manage, filtered by service, state and date
(and orders by refund: due or made).

Both containers keep a RecordIndex on (service, state[, refund], created),
so a filter reads only the records it shows.  Orders also export as CSV.
"""

import csv
import io

import colander
import deform
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.view import view_config

from ...clock import OMAN
from ...i18n import _
from ...money import rials_text
from ...resources.order import ORDER_STATE_TITLES, ORDER_STATES, REFUND_STATE_TITLES, Order, Orders
from ...resources.service_request import REQUEST_STATE_TITLES, REQUEST_STATES, ServiceRequests
from ...resources.services import SERVICES
from ...resources.types import title_of
from .forms import date_node, day_range, search_form
from .tabs import manage_page, mgmt_view

STATES_OF = {ServiceRequests: REQUEST_STATES, Orders: ORDER_STATES}
STATE_TITLES_OF = {ServiceRequests: REQUEST_STATE_TITLES, Orders: ORDER_STATE_TITLES}
LIMIT = 200
EXPORT_LIMIT = 100_000


@colander.deferred
def _service_widget(node, kw):
    translate = kw['request'].localizer.translate
    return deform.widget.SelectWidget(
        values=[('', translate(_('Any service')))]
        + [(name, translate(service.title)) for name, service in SERVICES.items()]
    )


@colander.deferred
def _state_widget(node, kw):
    translate = kw['request'].localizer.translate
    states = STATES_OF[type(kw['context'])]
    return deform.widget.SelectWidget(
        values=[('', translate(_('Any state')))]
        + [(state, translate(STATE_TITLES_OF[type(kw['context'])][state])) for state in states]
    )


@colander.deferred
def _refund_widget(node, kw):
    translate = kw['request'].localizer.translate
    return deform.widget.SelectWidget(
        values=[('', translate(_('Any')))]
        + [
            (state, translate(title))
            for state, title in REFUND_STATE_TITLES.items()
            if state in ('due', 'refunded')
        ]
    )


class RecordFilter(colander.Schema):
    service = colander.SchemaNode(
        colander.String(), title=_('Service'), missing='', widget=_service_widget
    )
    state = colander.SchemaNode(
        colander.String(), title=_('State'), missing='', widget=_state_widget
    )
    date_from = date_node(_('Made from (date)'))
    date_to = date_node(_('Made until (date)'))


class OrderFilter(RecordFilter):
    refund = colander.SchemaNode(
        colander.String(),
        title=_('Refund'),
        missing='',
        widget=_refund_widget,
        validator=colander.OneOf(('', 'due', 'refunded')),
    )


def filter_schema(context):
    return OrderFilter() if isinstance(context, Orders) else RecordFilter()


def service_title(name):
    service = SERVICES.get(name)
    return service.title if service is not None else ''


def filtered(context, filters, limit=LIMIT):
    """The records the filter asks for, newest first, through the container's index."""
    states = [filters['state']] if filters['state'] else STATES_OF[type(context)]
    services = [filters['service']] if filters['service'] else list(SERVICES)
    first, last = day_range(filters['date_from'], filters['date_to'])
    if filters.get('refund'):
        return context.find(services, states, first, last, limit, refund_states=[filters['refund']])
    return context.find(services, states, first, last, limit)


@mgmt_view('manage-search', _('Find'), (ServiceRequests, Orders), order=5, template='records')
def records(context, request):
    form, filters = search_form(request, filter_schema(context), _('Filter'), context=context)
    found = None if filters is None else filtered(context, filters)
    rows = (
        None
        if found is None
        else [
            {
                'record': record,
                'title': title_of(record, request.locale_name),
                'service': service_title(record.service),
                'state': STATE_TITLES_OF[type(context)][record.state],
                'refund': REFUND_STATE_TITLES[record.refund_state]
                if isinstance(record, Order) and record.refund_state
                else None,
                'made': record.created.astimezone(OMAN),
            }
            for record in found
        ]
    )
    export = None
    if isinstance(context, Orders) and filters is not None:
        export = orders_export(request, context, request.GET.items())
    return manage_page(request, context, form=form, rows=rows, limit=LIMIT, export=export)


CSV_COLUMNS = (
    'reference',
    'created',
    'state',
    'paid_at',
    'amount',
    'currency',
    'service',
    'cr_number',
    'civil_id',
    'request',
    'card_type',
    'card_last4',
    'transaction_id',
    'flagged',
    'refund_due',
    'refunded',
    'refund_transactions',
)


def orders_export(request, orders, search):
    """The export form of the orders a search found, for
    ``orders_export.jinja2``: where it posts and the search's fields
    (``search``, name and value pairs as the search form sends them).  A
    form with the session's CSRF token, not a link: an export is written to
    the audit log, which no other site may make a browser do."""
    return {'action': request.resource_url(orders, 'export.csv'), 'fields': list(search)}


@view_config(context=Orders, name='export.csv', permission='export', request_method='POST')
def export_orders(context, request):
    """The orders a search of the orders found, as CSV, for reconciliation
    with the gateway's reports: asked for by the search page's export form,
    which sends the search's filters again."""
    _form, filters = search_form(
        request, OrderFilter(), _('Filter'), params=request.POST, context=context
    )
    if filters is None:
        raise HTTPBadRequest()
    requests = request.root['requests']
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for order in filtered(context, filters, limit=EXPORT_LIMIT):
        made_for = requests.get(order.request_id)
        writer.writerow(
            (
                order.id,
                order.created.isoformat(),
                order.state,
                order.paid_at.isoformat() if order.paid_at else '',
                rials_text(order.amount_baisa),
                order.currency,
                order.service,
                made_for.cr_number if made_for is not None else '',
                order.civil_id,
                order.request_id,
                order.card_type or '',
                order.card_last4 or '',
                order.transaction_id or '',
                'yes' if order.flagged else 'no',
                rials_text(order.refund_due_baisa),
                rials_text(order.refunded_baisa),
                ' '.join(order.refunds.keys()),
            )
        )
    request.root['audit'].record(
        'orders.export', user=request.authenticated_userid or '', path='/orders', details=filters
    )
    response = request.response
    response.content_type = 'text/csv'
    response.charset = 'utf-8'
    response.content_disposition = 'attachment; filename="occi-orders.csv"'
    response.text = out.getvalue()
    return response
