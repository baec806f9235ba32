"""The Reports tab: the chamber's figures as a chart, a table and a CSV file.

Each report is one address, ``/@@manage-reports/<report>``, with a filter of
its period (or its day) and of its service or grade, sent by GET so a filtered
report can be bookmarked, printed or sent on.  The figures come from the
tallies of ``resources/reports.py``; the chart is drawn by ``charts.py`` in
the page's language; the table beneath holds the same figures for those who
do not see the chart, and the CSV the same again for a spreadsheet.
Administrators and the read-only ``finance`` role see this tab.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import colander
import deform
from babel.dates import format_date
from babel.numbers import format_decimal
from pyramid.httpexceptions import HTTPNotFound

from ...charts import bar_chart
from ...i18n import _
from ...money import chart_value, rials_text, table_amount
from ...resources.company import GRADE_TITLES, GRADES
from ...resources.reports import STAGE_TITLES, STATUS_TITLES, last_twelve_months, month_count
from ...resources.services import SERVICES
from ...resources.site import Site
from .forms import choices_widget, date_node
from .records import orders_export
from .tabs import manage_page, mgmt_view

# A chart by month shows at most this many months.
MAX_MONTHS = 60
# A label longer than this goes on two lines under the chart.
LABEL_LINE = 16


def _period_validator(node, value):
    if value['date_from'] > value['date_to']:
        error = colander.Invalid(node)
        error['date_to'] = _('The end of the period is before its start.')
        raise error
    if month_count(value['date_from'], value['date_to']) > MAX_MONTHS:
        error = colander.Invalid(node)
        error['date_from'] = _(
            'Choose a period of at most ${months} months.', mapping={'months': MAX_MONTHS}
        )
        raise error


def _date(title):
    return date_node(title, missing=colander.required)


def _service_node():
    return colander.SchemaNode(
        colander.String(),
        name='service',
        title=_('Service'),
        missing='',
        widget=choices_widget(
            _('Any service'), {name: service.title for name, service in SERVICES.items()}
        ),
        validator=colander.OneOf(('', *SERVICES)),
    )


def _grade_node():
    return colander.SchemaNode(
        colander.String(),
        name='grade',
        title=_('Grade'),
        missing='',
        widget=choices_widget(_('Any grade'), GRADE_TITLES),
        validator=colander.OneOf(('', *GRADES)),
    )


def make_filter(by_period, chooser):
    """The filter form of a report: its period (``by_period``) or its day,
    and ``chooser``, the service or grade node."""
    schema = colander.Schema(validator=_period_validator if by_period else None)
    if by_period:
        schema.add(_named(_date(_('From (date)')), 'date_from'))
        schema.add(_named(_date(_('Until (date)')), 'date_to'))
    else:
        schema.add(_named(_date(_('On (date)')), 'on'))
    schema.add(chooser())
    return schema


def _named(node, name):
    node.name = name
    return node


def _services(filters):
    return (filters['service'],) if filters.get('service') else tuple(SERVICES)


def _grades(filters):
    return (filters['grade'],) if filters.get('grade') else GRADES


def _month(month, locale, chart):
    return format_date(month, 'MMM\ny' if chart else 'MMMM y', locale=locale)


def _week(start, locale, chart):
    if chart:
        return format_date(start, 'd MMM', locale=locale)
    return '%s – %s' % (
        format_date(start, 'd MMMM y', locale=locale),
        format_date(start + timedelta(days=6), 'd MMMM y', locale=locale),
    )


def _titled(titles):
    """A category label from a title, on two lines under the chart if long."""

    def label(key, locale, chart, translate):
        text = translate(titles[key])
        if chart and len(text) > LABEL_LINE and ' ' in text:
            words = text.split()
            half = len(words) // 2 or 1
            return ' '.join(words[:half]) + '\n' + ' '.join(words[half:])
        return text

    return label


SERVICE_TITLES = {name: service.title for name, service in SERVICES.items()}


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    explanation: str
    by_period: bool
    chooser: Callable
    figures: Callable
    # (category, locale, chart, translate) -> its label
    category_label: Callable
    category_heading: str
    series_titles: dict
    # A category as the CSV writes it.
    csv_category: Callable = str
    unit: str = ''


def _date_label(format_label):
    return lambda category, locale, chart, translate: format_label(category, locale, chart)


REPORTS = {
    report.name: report
    for report in (
        Report(
            'revenue',
            _('Revenue by month and service'),
            _(
                'Card payments the chamber kept, net of refunds due or made, by the month '
                '(in Oman) the money came in or was found to be owed back.'
            ),
            by_period=True,
            chooser=_service_node,
            figures=lambda reports, f: reports.revenue_by_month(
                f['date_from'], f['date_to'], _services(f)
            ),
            category_label=_date_label(_month),
            category_heading=_('Month'),
            series_titles=SERVICE_TITLES,
            csv_category=lambda month: month.strftime('%Y-%m'),
            unit=_('RO'),
        ),
        Report(
            'funnel',
            _('E-service funnel'),
            _(
                'The requests started in the period, and how many of them reached each '
                'stage: personal verification, a confirmed price, payment, fulfilment; or '
                'were abandoned (expired, cancelled) or refused.'
            ),
            by_period=True,
            chooser=_service_node,
            figures=lambda reports, f: reports.funnel_by_service(
                f['date_from'], f['date_to'], _services(f)
            ),
            category_label=_titled(SERVICE_TITLES),
            category_heading=_('Service'),
            series_titles=STAGE_TITLES,
        ),
        Report(
            'memberships',
            _('Memberships by grade and status'),
            _('Every membership on the chosen day, by grade and by how long it is still valid.'),
            by_period=False,
            chooser=_grade_node,
            figures=lambda reports, f: reports.memberships_by_status(f['on'], _grades(f)),
            category_label=_titled(GRADE_TITLES),
            category_heading=_('Grade'),
            series_titles=STATUS_TITLES,
        ),
        Report(
            'expiries',
            _('Expiries per week'),
            _('Memberships expiring in each of the twelve weeks from the chosen day, by grade.'),
            by_period=False,
            chooser=_grade_node,
            figures=lambda reports, f: reports.expiries_by_week(f['on'], _grades(f)),
            category_label=_date_label(_week),
            category_heading=_('Week'),
            series_titles=GRADE_TITLES,
            csv_category=lambda start: start.isoformat(),
        ),
        Report(
            'new-members',
            _('New members by month'),
            _(
                'Companies that became members of the chamber, by month and grade '
                '(memberships brought from the earlier records have no joining day).'
            ),
            by_period=True,
            chooser=_grade_node,
            figures=lambda reports, f: reports.new_members_by_month(
                f['date_from'], f['date_to'], _grades(f)
            ),
            category_label=_date_label(_month),
            category_heading=_('Month'),
            series_titles=GRADE_TITLES,
            csv_category=lambda month: month.strftime('%Y-%m'),
        ),
    )
}
EXTRA_TITLES = {'received': _('Received'), 'refunds': _('Refunds due or made')}


def chosen_report(request):
    name = request.subpath[0] if request.subpath else 'revenue'
    report = REPORTS.get(name)
    if report is None or len(request.subpath) > 1:
        raise HTTPNotFound()
    return report


def report_filters(request, report):
    """``(rendered form, filters)``: the filters sent, or each report's own
    defaults (the last twelve months, or today); filters None when the form
    sent is not valid (it then says why, next to the field)."""
    schema = make_filter(report.by_period, report.chooser).bind(request=request)
    form = deform.Form(
        schema,
        method='GET',
        buttons=(deform.Button('search', request.localizer.translate(_('Show'))),),
        formid='search',
    )
    if 'search' in request.GET:
        try:
            filters = form.validate(request.GET.items())
        except deform.ValidationFailure as failure:
            return failure.render(), None
    elif report.by_period:
        first, last = last_twelve_months(request.today)
        filters = {'date_from': first, 'date_to': last, 'service': '', 'grade': ''}
    else:
        filters = {'on': request.today, 'service': '', 'grade': ''}
    return form.render(filters), filters


def query_of(filters):
    """The filters as a query string's values, as the form sends them."""
    values = {'search': 'search'}
    for name, value in filters.items():
        values[name] = value.isoformat() if hasattr(value, 'isoformat') else value
    return values


def _formatter(figures, locale):
    if figures.money:
        return lambda value: table_amount(value, locale)
    return lambda value: format_decimal(value, locale=locale)


def table_of(report, figures, request):
    """The figures as the table beneath the chart: headings, rows and totals."""
    locale, translate = request.locale_name, request.localizer.translate
    number = _formatter(figures, locale)
    headings = [translate(report.series_titles[series]) for series in figures.series]
    if figures.stacked:
        headings.append(translate(_('Net total') if figures.money else _('Total')))
    headings += [translate(EXTRA_TITLES[name]) for name, _values in figures.extras]
    rows = []
    for category in figures.categories:
        cells = [number(figures.value(category, series)) for series in figures.series]
        if figures.stacked:
            cells.append(number(figures.row_total(category)))
        cells += [number(values.get(category, 0)) for _name, values in figures.extras]
        rows.append((report.category_label(category, locale, False, translate), cells))
    totals = [number(figures.series_total(series)) for series in figures.series]
    if figures.stacked:
        totals.append(number(figures.total))
    totals += [number(figures.extra_total(values)) for _name, values in figures.extras]
    return {'headings': headings, 'rows': rows, 'totals': totals}


def chart_of(report, figures, request):
    locale, translate = request.locale_name, request.localizer.translate
    plotted = chart_value if figures.money else int
    title = translate(report.title)
    if report.unit:
        title = '%s (%s)' % (title, translate(report.unit))
    return bar_chart(
        title,
        [
            report.category_label(category, locale, True, translate)
            for category in figures.categories
        ],
        [
            (
                translate(report.series_titles[series]),
                [plotted(figures.value(category, series)) for category in figures.categories],
            )
            for series in figures.series
        ],
        locale,
        stacked=figures.stacked,
        rtl=request.text_direction == 'rtl',
        no_data=translate(_('No figures for this period.')),
        description=translate(_('The table below the chart holds the same figures.')),
    )


@mgmt_view('manage-reports', _('Reports'), Site, permission='reports', order=7, template='reports')
def reports_tab(context, request):
    report = chosen_report(request)
    form, filters = report_filters(request, report)
    values = {'report': report, 'reports': REPORTS, 'form': form, 'figures': None}
    if filters is not None:
        figures = report.figures(context['reports'], filters)
        query = query_of(filters)
        values.update(
            figures=figures,
            chart=chart_of(report, figures, request),
            table=table_of(report, figures, request),
            csv_url=request.resource_url(context, '@@manage-reports-csv', report.name, query=query),
        )
        if report.name == 'revenue' and request.has_permission('export', context['orders']):
            values['orders_export'] = orders_export(
                request,
                context['orders'],
                (
                    ('search', 'search'),
                    ('service', filters['service']),
                    ('date_from', filters['date_from'].isoformat()),
                    ('date_to', filters['date_to'].isoformat()),
                ),
            )
    return manage_page(request, context, **values)


@mgmt_view(name='manage-reports-csv', context=Site, permission='reports', request_method='GET')
def report_csv(context, request):
    """The figures of a report as CSV: a row per category, a column per series
    (money in rials with three decimals, as the orders CSV writes it)."""
    report = chosen_report(request)
    _form, filters = report_filters(request, report)
    if filters is None:
        raise HTTPNotFound()
    figures = report.figures(context['reports'], filters)
    number = rials_text if figures.money else str
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        (
            report.category_heading.default.lower(),
            *figures.series,
            *(('total',) if figures.stacked else ()),
            *(name for name, _values in figures.extras),
        )
    )
    for category in figures.categories:
        writer.writerow(
            (
                report.csv_category(category),
                *(number(figures.value(category, series)) for series in figures.series),
                *((number(figures.row_total(category)),) if figures.stacked else ()),
                *(number(values.get(category, 0)) for _name, values in figures.extras),
            )
        )
    response = request.response
    response.content_type = 'text/csv'
    response.charset = 'utf-8'
    response.content_disposition = 'attachment; filename="occi-%s-%s.csv"' % (
        report.name,
        request.today.isoformat(),
    )
    response.text = out.getvalue()
    return response
