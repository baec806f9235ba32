"""The Reports tab: each report's figures equal the sums over the orders,
requests and memberships of a database filled through the portal's own
methods; the chart, the table and the CSV say the same; filters, Arabic,
who may see them, and how few objects a report reads on a large database."""

import csv
import io
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from ZODB.ActivityMonitor import ActivityMonitor

from occi_site.clock import OMAN
from occi_site.i18n import _
from occi_site.integrations.payment import GatewayResult
from occi_site.money import rials_text
from occi_site.resources import database
from occi_site.resources.company import GRADES
from occi_site.resources.services import Quote
from occi_site.scripts.populate import populate

from .conftest import Clock, edit, login, read, script_request, visitor
from .test_payment_portal import (
    admin_of,
    answer_of,
    back_to_portal,
    pay_at_gateway,
    renewal_order,
    stack,  # noqa: F401 (the fixture)
    to_gateway,
)

TODAY = date(2026, 4, 15)
SVG = '{http://www.w3.org/2000/svg}'


def at(day, hour=10, minute=0):
    """A moment in UTC (Oman is four hours ahead)."""
    return datetime(*day, hour, minute, tzinfo=UTC)


class Chamber:
    """Requests and orders made and paid through the resources' methods, as
    the portal's views and its gateway answers make them."""

    def __init__(self, site, request):
        self.site, self.request = site, request
        self.attempts = 0

    def verified(self, service, cr, when):
        requests = self.site['requests']
        made = requests.open_request(service, '90000001', cr, when, self.request)
        made.record_step_up('a-' + made.id, when, 'card', when, self.request)
        return made

    def order(self, service, cr, amount, when):
        made = self.verified(service, cr, when)
        made.set_quote(Quote(service, ((_('Fee'), amount),)))
        return made.await_payment([('Fee', 'رسم', amount)], when, self.request)

    def checkout(self, order, when):
        """The member leaves for the gateway (in a tab of its own): the attempt's id."""
        self.attempts += 1
        uuid = 'uuid-%d' % self.attempts
        order.begin_checkout(uuid, {}, when, self.request)
        return order, uuid

    def approve(self, attempt, when):
        """The gateway's approval of one attempt, received at ``when``."""
        order, uuid = attempt
        result = GatewayResult(
            decision='ACCEPT',
            reason_code='100',
            message='Approved',
            transaction_id='T-' + uuid,
            reference_number=order.id,
            transaction_uuid=uuid,
            amount_baisa=order.amount_baisa,
            currency='OMR',
            card_type='Visa',
            card_last4='1111',
            signed_date_time=None,
            fields={},
        )
        self.site['orders'].receive_answer(result, when, self.request, 'notification')
        return result.transaction_id

    def pay(self, order, when):
        return self.approve(self.checkout(order, when), when)


def fill(portal):
    """Paid, paid twice, refunded, unpaid and abandoned requests over five months."""

    def change(site):
        chamber = Chamber(site, script_request(portal.registry))
        paid = chamber.order('renewal', '1229237', 50_000, at((2026, 1, 10)))
        chamber.pay(paid, at((2026, 1, 10), 10, 5))
        # Paid at 21:00 UTC on the last day of February: 1 March in Oman.
        late = chamber.order('renewal', '1279531', 75_000, at((2026, 2, 28), 20))
        chamber.pay(late, at((2026, 2, 28), 21))
        twice = chamber.order('certificate', '1229237', 5_000, at((2026, 3, 5)))
        # Two tabs at the gateway, both approved.
        tabs = [chamber.checkout(twice, at((2026, 3, 5))) for _tab in range(2)]
        for minute, tab in enumerate(tabs, 1):
            chamber.approve(tab, at((2026, 3, 5), 10, minute))
        refunded = chamber.order('change_grade', '1304464', 100_000, at((2026, 3, 10)))
        tabs = [chamber.checkout(refunded, at((2026, 3, 10))) for _tab in range(2)]
        chamber.approve(tabs[0], at((2026, 3, 10), 11))
        again = chamber.approve(tabs[1], at((2026, 3, 11), 9))
        refunded.mark_refunded(again, 'Refunded, RF-1', at((2026, 4, 2)), chamber.request)
        unpaid = chamber.order('change_name', '1229237', 10_000, at((2026, 4, 1)))
        unpaid.expire_if_stale(at((2026, 4, 14)), chamber.request)
        chamber.verified('certificate', '1445820', at((2026, 4, 3))).cancel(
            at((2026, 4, 3), 11), chamber.request
        )
        chamber.site['requests'].open_request(
            'new_membership', '90000001', '1445820', at((2026, 4, 4)), chamber.request
        )

    edit(portal, change)


@pytest.fixture
def chamber(portal):
    portal.registry.occi_clock = Clock(at((2026, 4, 15), 8))
    fill(portal)
    populate(database(portal.registry), 300, seed=7, today=TODAY, out=io.StringIO())
    return portal


@pytest.fixture
def admin(chamber):
    return login(chamber, '90000009', roles=('member', 'admin'))


def oman_month(moment):
    day = moment.astimezone(OMAN).date()
    return date(day.year, day.month, 1)


def expected_revenue(site):
    """Net revenue by (month, service), from the orders: what each order
    paid and kept (an approval more than the order's is owed back)."""
    net = Counter()
    for order in site['orders'].values():
        if order.paid_at is not None:
            net[(oman_month(order.paid_at), order.service)] += order.amount_baisa
    return net


def report_table(page):
    """``{row heading: [cells]}`` and the total row of a report's table."""
    table = page.html.find('table', class_='figures')
    rows = {
        row.th.get_text(' ', strip=True): [td.text for td in row.find_all('td')]
        for row in table.tbody.find_all('tr')
    }
    return rows, [td.text for td in table.tfoot.find_all('td')]


def chart_series(page):
    """``{series name: [value shown for each category]}`` of the page's chart."""
    svg = ET.fromstring(str(page.html.find('svg')))

    def classes(group):
        return (group.get('class') or '').split()

    names = [
        text.text
        for legend in svg.iter(SVG + 'g')
        if 'legend' in classes(legend)
        for text in legend.iter(SVG + 'text')
    ]
    series = []
    for group in svg.iter(SVG + 'g'):
        values = [desc.text for desc in group.iter(SVG + 'desc') if desc.get('class') == 'value']
        # pygal draws each series's bars once, and its overlays again without values.
        if 'series' in classes(group) and values:
            series.append(values)
    return dict(zip(names, series, strict=True)), svg


def report_csv(admin, name, **filters):
    query = {'search': 'search', **filters}
    response = admin.get('/@@manage-reports-csv/%s' % name, query)
    assert response.content_type == 'text/csv'
    return list(csv.DictReader(io.StringIO(response.text)))


def test_revenue_equals_what_the_orders_paid_and_kept(chamber, admin):
    expected = read(chamber, expected_revenue)
    assert sum(expected.values()) == 50_000 + 75_000 + 5_000 + 100_000
    months = [date(2025, month, 1) for month in range(5, 13)] + [
        date(2026, month, 1) for month in range(1, 5)
    ]
    page = admin.get('/@@manage-reports/revenue')
    rows, totals = report_table(page)
    assert list(rows) == [month.strftime('%B %Y') for month in months]
    services = ['new_membership', 'renewal', 'certificate', 'change_name', 'change_grade']
    for month in months:
        cells = rows[month.strftime('%B %Y')]
        assert cells[:5] == [rials_text(expected[(month, service)]) for service in services]
    # The late February payment counts in March, Oman's month.
    assert rows['March 2026'][:5] == ['0.000', '75.000', '5.000', '0.000', '100.000']
    # Received, and owed back: the second approvals of two orders.
    assert rows['March 2026'][5:] == ['180.000', '285.000', '105.000']
    assert totals == [
        '0.000',
        '125.000',
        '5.000',
        '0.000',
        '100.000',
        '230.000',
        '335.000',
        '105.000',
    ]
    series, svg = chart_series(page)
    assert svg.get('direction') == 'ltr'
    assert svg.find(SVG + 'title').text == 'Revenue by month and service (RO)'
    assert series['Membership Renewal'] == [
        '50' if month == date(2026, 1, 1) else '75' if month == date(2026, 3, 1) else '0'
        for month in months
    ]
    assert series['Change Grade'][-2:] == ['100', '0']
    assert series['Get your Certificate'][-2] == '5'
    csv_rows = report_csv(
        admin, 'revenue', date_from='2025-05-01', date_to='2026-04-15', service=''
    )
    assert [row['month'] for row in csv_rows] == [month.strftime('%Y-%m') for month in months]
    assert sum(float(row['total']) for row in csv_rows) == 230.0
    assert {row['month']: row['renewal'] for row in csv_rows}['2026-03'] == '75.000'


def test_revenue_matches_the_orders_csv_of_the_same_period(chamber, admin):
    page = admin.get('/@@manage-reports/revenue')
    orders = list(csv.DictReader(io.StringIO(page.forms['orders-export'].submit().text)))

    def baisa(row, column):
        return round(float(row[column]) * 1000)

    kept = sum(baisa(row, 'amount') for row in orders if row['state'] == 'paid')
    owed_back = sum(baisa(row, 'refund_due') + baisa(row, 'refunded') for row in orders)
    _rows, totals = report_table(page)
    assert rials_text(kept) == totals[5] == '230.000'
    assert rials_text(kept + owed_back) == totals[6] and rials_text(owed_back) == totals[7]


def test_filters_by_period_and_service(chamber, admin):
    page = admin.get(
        '/@@manage-reports/revenue',
        {
            'search': 'search',
            'date_from': '2026-03-01',
            'date_to': '2026-03-31',
            'service': 'renewal',
        },
    )
    rows, _totals = report_table(page)
    assert rows == {'March 2026': ['75.000', '75.000', '75.000', '0.000']}
    series, _svg = chart_series(page)
    assert series == {'Membership Renewal': ['75']}
    # A day in Oman is the day the filter means: 28 February (UTC) is 1 March there.
    february = admin.get(
        '/@@manage-reports/revenue',
        {'search': 'search', 'date_from': '2026-02-01', 'date_to': '2026-02-28', 'service': ''},
    )
    assert report_table(february)[1][5] == '0.000'
    wrong = admin.get(
        '/@@manage-reports/revenue',
        {'search': 'search', 'date_from': '2026-04-01', 'date_to': '2026-03-01', 'service': ''},
    )
    assert wrong.html.find('table', class_='figures') is None
    errors = [error.text.strip() for error in wrong.html.find_all(class_='invalid-feedback')]
    assert errors == ['The end of the period is before its start.']
    assert wrong.forms['search']['date_from'].value == '2026-04-01'
    admin.get('/@@manage-reports/no-such-report', status=404)
    admin.get(
        '/@@manage-reports-csv/revenue',
        {'search': 'search', 'date_from': 'x', 'date_to': '2026-03-01', 'service': ''},
        status=404,
    )


def test_funnel_counts_the_requests_started_in_the_period(chamber, admin):
    def expected(site):
        stages = Counter()
        for made in site['requests'].values():
            states = [state for _when, state, _note in made.history]
            stages[(made.service, 'started')] += 1
            for stage, reached in (
                ('verified', 'verified' in states),
                ('quoted', 'awaiting_payment' in states),
                ('paid', 'paid' in states),
                ('fulfilled', 'fulfilled' in states),
                ('abandoned', made.state in ('expired', 'cancelled')),
                ('refused', made.state in ('refused', 'failed')),
            ):
                stages[(made.service, stage)] += reached
        return stages

    counts = read(chamber, expected)
    page = admin.get('/@@manage-reports/funnel')
    rows, totals = report_table(page)
    stages = ['started', 'verified', 'quoted', 'paid', 'fulfilled', 'abandoned', 'refused']
    titles = {
        'new_membership': 'New Membership Registration',
        'renewal': 'Membership Renewal',
        'certificate': 'Get your Certificate',
        'change_name': 'Change Name',
        'change_grade': 'Change Grade',
    }
    for service, title in titles.items():
        assert rows[title] == [str(counts[(service, stage)]) for stage in stages]
    assert rows['Get your Certificate'] == ['2', '2', '1', '1', '0', '1', '0']
    assert totals[0] == '7'
    series, _svg = chart_series(page)
    assert series['Started'] == ['1', '2', '2', '1', '1']
    april = admin.get(
        '/@@manage-reports/funnel',
        {'search': 'search', 'date_from': '2026-04-01', 'date_to': '2026-04-30', 'service': ''},
    )
    assert report_table(april)[1][0] == '3'


def test_memberships_expiries_and_new_members_equal_the_companies(chamber, admin):
    def memberships(site):
        return [
            (company.membership.grade, company.membership.expires_on, company.membership.joined_on)
            for company in site['companies'].values()
            if company.membership is not None
        ]

    held = read(chamber, memberships)
    assert len(held) > 300

    def status(expires_on):
        days = (expires_on - TODAY).days
        if days < 0:
            return 'expired'
        return (
            next(
                name
                for name, last in (('within_30', 30), ('within_60', 60), ('within_90', 90))
                if days <= last
            )
            if days <= 90
            else 'valid'
        )

    by_status = Counter((grade, status(expires_on)) for grade, expires_on, _joined in held)
    rows, totals = report_table(admin.get('/@@manage-reports/memberships'))
    statuses = ['expired', 'within_30', 'within_60', 'within_90', 'valid']
    grade_titles = dict(
        zip(GRADES, ['Excellent', 'First', 'Second', 'Third', 'Fourth'], strict=True)
    )
    for grade in GRADES:
        assert rows[grade_titles[grade]][:5] == [str(by_status[(grade, s)]) for s in statuses]
    assert totals[5] == f'{len(held):,}'

    page = admin.get('/@@manage-reports/expiries')
    rows, totals = report_table(page)
    weeks = Counter()
    for grade, expires_on, _joined in held:
        week = (expires_on - TODAY).days // 7
        if 0 <= week < 12:
            weeks[(week, grade)] += 1
    assert [row[:5] for row in rows.values()] == [
        [str(weeks[(week, grade)]) for grade in GRADES] for week in range(12)
    ]
    assert next(iter(rows)) == '15 April 2026 – 21 April 2026'
    csv_rows = report_csv(admin, 'expiries', on='2026-04-15', grade='Fourth')
    assert [int(row['Fourth']) for row in csv_rows] == [
        weeks[(week, 'Fourth')] for week in range(12)
    ]

    joined = Counter(
        (date(day.year, day.month, 1), grade) for grade, _expires, day in held if day is not None
    )
    page = admin.get('/@@manage-reports/new-members')
    rows, totals = report_table(page)
    first = date(2025, 5, 1)
    for month_row, cells in rows.items():
        month = datetime.strptime(month_row, '%B %Y').date()
        assert month >= first
        assert cells[:5] == [str(joined[(month, grade)]) for grade in GRADES]
    assert int(totals[5].replace(',', '')) == sum(
        count for (month, _grade), count in joined.items() if first <= month <= TODAY
    )


def test_arabic_reports_read_right_to_left_with_arabic_month_names(chamber):
    admin = login(chamber, '90000009', roles=('member', 'admin'), lang='ar')
    page = admin.get('/@@manage-reports/revenue')
    assert page.html.html['dir'] == 'rtl'
    rows, _totals = report_table(page)
    assert 'مارس 2026' in rows
    series, svg = chart_series(page)
    assert svg.get('direction') == 'rtl'
    # Mirrored as a whole, each text mirrored back in place.
    assert svg.findall(SVG + 'g')[-1].get('transform') == 'matrix(-1 0 0 1 800.0 0)'
    labels = ' '.join(text.text or '' for text in svg.iter(SVG + 'text'))
    spans = ' '.join(span.text or '' for span in svg.iter(SVG + 'tspan'))
    assert 'مارس' in spans and 'يناير' in spans
    assert 'تجديد العضوية' in labels
    assert series['تجديد العضوية'][-2] == '75'
    expiries = admin.get('/@@manage-reports/expiries')
    assert 'أبريل' in next(iter(report_table(expiries)[0]))
    wrong = admin.get(
        '/@@manage-reports/funnel',
        {'search': 'search', 'date_from': '2026-04-01', 'date_to': '2026-03-01', 'service': ''},
    )
    errors = [error.text.strip() for error in wrong.html.find_all(class_='invalid-feedback')]
    assert errors == ['نهاية الفترة قبل بدايتها.']


def test_who_sees_the_reports(chamber):
    finance = login(chamber, '90000007', roles=('member', 'finance'))
    assert finance.get('/@@manage-reports/revenue').status_int == 200
    assert finance.get('/@@manage-reports-csv/funnel').status_int == 200
    # Read-only: the reports, not the rest of /manage nor the orders' records.
    finance.get('/companies/@@manage-search', status=404)
    # The orders' CSV, to reconcile the revenue with the gateway's reports; not the orders' tab.
    page = finance.get('/@@manage-reports/revenue')
    export = page.forms['orders-export']
    assert export.method.upper() == 'POST' and export['csrf_token'].value
    assert export.submit().content_type == 'text/csv'
    finance.get('/orders/@@manage-search', status=404)
    member = login(chamber, '90000001')
    member.get('/@@manage-reports/revenue', status=403)
    member.get('/@@manage-reports-csv/revenue', status=403)
    visitor(chamber).get('/@@manage-reports/revenue', status=403)


def test_a_report_reads_a_bounded_number_of_objects_however_large_the_database(chamber, admin):
    db = database(chamber.registry)

    # A connection's count of loads is taken off when it closes with a monitor
    # installed: one stays installed, so every measure counts its request only.
    db.setActivityMonitor(ActivityMonitor())

    def loads_of(path):
        monitor = ActivityMonitor()
        db.setActivityMonitor(monitor)
        db.cacheMinimize()
        admin.get(path)
        db.setActivityMonitor(ActivityMonitor())
        return sum(row['loads'] for row in monitor.getActivityAnalysis(divisions=1))

    paths = [
        '/@@manage-reports/%s' % name
        for name in ('revenue', 'funnel', 'memberships', 'expiries', 'new-members')
    ]

    populate(db, 6_000, seed=7, today=TODAY, out=io.StringIO())
    assert read(chamber, lambda site: len(site['companies'])) > 6_000
    for path in paths:
        # Reading the memberships would load more than 6,000 objects; a report
        # reads the tallies of its days, months and years (at most a few dozen
        # for each figure, however many records there are) and the page around them.
        assert loads_of(path) < 200, path


def test_the_evolve_step_counts_what_was_there_before(chamber, admin):
    from occi_site.resources.evolve import step_7_reports
    from occi_site.resources.reports import Reports

    before = admin.get('/@@manage-reports-csv/revenue').text

    def forget_and_recount(site):
        site['reports'].revenue = Reports().revenue
        site['reports'].funnel = Reports().funnel

    edit(chamber, forget_and_recount)
    assert '75.000' not in admin.get('/@@manage-reports-csv/revenue').text
    edit(chamber, step_7_reports)
    assert admin.get('/@@manage-reports-csv/revenue').text == before


def test_a_journeys_payments_in_the_revenue_chart_the_orders_csv_and_the_statement(stack):  # noqa: F811 (the fixture)
    """A member renews through the sandbox gateway and pays twice in two tabs:
    the revenue report shows the payment kept, its totals are the orders
    CSV's, and the member's statement lists both approvals."""
    _request_id, order_page = renewal_order(stack)
    first, second = to_gateway(stack, order_page), to_gateway(stack, order_page)
    approvals = []
    for attempt in (first, second):
        receipt = pay_at_gateway(attempt)
        approvals.append(answer_of(receipt)['transaction_id'])
        back_to_portal(receipt)
    admin = admin_of(stack)
    page = admin.get('/@@manage-reports/revenue')
    export = page.forms['orders-export']
    orders = list(csv.DictReader(io.StringIO(export.submit().text)))
    assert [(row['state'], row['service']) for row in orders] == [('paid', 'renewal')]
    amount = orders[0]['amount']
    _rows, totals = report_table(page)
    # Net of what is owed back; received counts both approvals.
    assert totals[5] == amount == '50.000'
    assert totals[6] == rials_text(2 * 50_000) and totals[7] == orders[0]['refund_due']
    series, _svg = chart_series(page)
    assert series['Membership Renewal'][-1] == '50'
    assert sum(float(value) for values in series.values() for value in values) == 50
    csv_rows = report_csv(
        admin,
        'revenue',
        date_from=export['date_from'].value,
        date_to=export['date_to'].value,
        service='',
    )
    assert csv_rows[-1]['total'] == amount
    statement = stack.browser.get('/account/companies/1229237/statement')
    listed = [
        (row.find_all('td')[2].text, row.find_all('td')[1].text)
        for row in statement.html.find('table', class_='statement').tbody.find_all('tr')
    ]
    assert (orders[0]['reference'], 'Membership Renewal: order') in listed
    for approval in approvals:
        assert (approval, 'Card payment (Visa 1111)') in listed
    assert [reference for reference, text in listed if text.startswith('Refund due')] == [
        approvals[1]
    ]
    assert stack.server_errors() == []
