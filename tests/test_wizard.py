"""The one wizard of the five services, with the personal verification
recorded straight on the request (the PKI round trip has its own tests and
the journeys in test_journeys.py)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import webtest

from occi_site.integrations.commercial_registry import SampleRegistry
from occi_site.resources import ROOT_KEY, database

from .conftest import add_account, cells, edit, read, script_request

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def member(login_app, clock):
    """A logged-in member at a fixed time; ``member.verify(request_url)`` stands in for step-up."""
    clock.now = NOW

    def make(civil_id='90000001'):
        app = login_app(civil_id, full_name='Ali Said Al Jahdhami')

        def verify(url, at=None):
            db = database(app.app.registry)
            conn = db.open()
            with conn.transaction_manager:
                service_request = conn.root()[ROOT_KEY]['requests'][
                    url.rstrip('/').rsplit('/', 1)[1]
                ]
                service_request.record_step_up(
                    'assertion-%s' % service_request.id,
                    at or clock.now,
                    'card',
                    clock.now,
                    script_request(app.app.registry),
                )
            conn.close()

        app.verify = verify
        return app

    return make


def site_of(app):
    conn = database(app.app.registry).open()
    return conn.root()[ROOT_KEY]


def choose(app, service, cr, occi=None, captcha='TEST5', status=None):
    page = app.get('/services/%s' % service)
    form = page.forms['deform']
    form['cr_number'] = cr
    if occi is not None:
        form['occi_number'] = occi
    if 'captcha' in form.fields:
        form['captcha'] = captcha
    return form.submit('next', status=status)


def confirm(app, page, **choices):
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    for name, value in choices.items():
        form[name] = value
    return form.submit('confirm')


def test_step_one_lists_only_the_members_crs(member):
    app = member()
    page = app.get('/services/certificate')
    options = [value for value, *_ in page.forms['deform']['cr_number'].options]
    assert options == ['', '1229237', '1445820']


def test_a_cr_that_is_not_yours_is_forbidden(member):
    app = member()
    page = app.get('/services/certificate')
    form = page.forms['deform']
    form['cr_number'].force_value('1279531')
    form['occi_number'] = '91868'
    form.submit('next', status=403)


@pytest.mark.parametrize(
    'language, message',
    [
        ('en', 'The commercial registry no longer lists you for this company'),
        ('ar', 'لم يعد السجل التجاري يدرجك لهذه الشركة'),
    ],
)
def test_a_cr_the_registry_no_longer_lists_you_for_cannot_be_confirmed(
    member, monkeypatch, language, message
):
    """The registry stops listing the member for the CR between step 1 and
    the price: the price is not accepted, no order is made, and the request
    is refused."""
    app = member()
    url = choose(app, 'renewal', '1229237', '91868').location
    app.verify(url)
    page = app.get(url, headers={'Accept-Language': language})
    monkeypatch.setattr(SampleRegistry, 'crs_for', lambda registry, civil_id: ('1445820',))
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
    headers = {'Accept-Language': language}
    shown = form.submit('confirm', headers=headers).follow(headers=headers)
    assert message in shown.html.find(class_='flash').text
    request_id = url.rstrip('/').rsplit('/', 1)[1]
    service_request = site_of(app)['requests'][request_id]
    assert (service_request.state, service_request.quote, service_request.order_id) == (
        'refused',
        None,
        None,
    )
    assert 'confirm' not in str([f.action for f in shown.forms.values()])


@pytest.mark.parametrize(
    'language, message',
    [
        ('en', 'Another request for this service and company is being paid or completed.'),
        ('ar', 'يوجد طلب آخر لهذه الخدمة ولهذه الشركة قيد الدفع أو الإنجاز.'),
    ],
)
def test_a_second_request_for_one_change_waits_while_the_first_is_being_paid(
    member, language, message
):
    """A renewal waits for payment; the same renewal started again cannot
    be confirmed (a second payment would be given back) until the first's
    order is no longer payable (withdrawn here, or expired)."""
    app = member()
    first = choose(app, 'renewal', '1229237', '91868').location
    app.verify(first)
    assert '/orders/OCCI-ORD-' in confirm(app, app.get(first)).location
    second = choose(app, 'renewal', '1229237', '91868').location
    assert second != first
    app.verify(second)
    form = next(f for f in app.get(second).forms.values() if f.action.endswith('/confirm'))
    form['years'] = '2'
    headers = {'Accept-Language': language}
    refused = form.submit('confirm', headers=headers)
    # Back at step 3 with what the member chose.
    assert refused.location.endswith('?years=2')
    shown = refused.follow(headers=headers)
    assert message in shown.html.find(class_='flash').text
    chosen = next(f for f in shown.forms.values() if f.action.endswith('/confirm'))
    assert chosen['years'].value == '2'
    request_id = second.rstrip('/').rsplit('/', 1)[1]
    waiting = site_of(app)['requests'][request_id]
    assert (waiting.state, waiting.order_id) == ('verified', None)
    page = app.get(first)
    next(f for f in page.forms.values() if f.action.endswith('/change')).submit()
    assert '/orders/OCCI-ORD-' in confirm(app, app.get(second)).location


def test_a_certificate_may_be_bought_while_another_is_being_paid(member):
    """A second certificate is a purchase of its own: nothing waits for the first."""
    app = member()
    first = choose(app, 'certificate', '1229237', '91868').location
    app.verify(first)
    assert '/orders/OCCI-ORD-' in confirm(app, app.get(first)).location
    second = choose(app, 'certificate', '1229237', '91868').location
    app.verify(second)
    assert '/orders/OCCI-ORD-' in confirm(app, app.get(second)).location


def test_unknown_service_is_404(member):
    member().get('/services/no-such-service', status=404)


def test_services_need_a_login(app):
    app.get('/services/renewal', status=403)


def test_reload_resumes_the_same_request(member):
    app = member()
    first = choose(app, 'renewal', '1229237', '91868').location
    second = choose(app, 'renewal', '1229237', '91868').location
    assert first == second


def test_verification_comes_before_the_price(member):
    app = member()
    url = choose(app, 'renewal', '1229237', '91868').location
    page = app.get(url)
    assert 'Personal verification' in page
    assert 'LOGIN USING CARD' in page and 'LOGIN USING MOBILE' in page
    assert 'Renew Membership' not in page


def test_stale_verification_must_be_repeated(member):
    app = member()
    url = choose(app, 'renewal', '1229237', '91868').location
    app.verify(url, at=NOW - timedelta(minutes=11))
    page = app.get(url)
    assert 'older than 10 minutes' in page


def test_renewal_price_for_one_and_two_years(member):
    app = member()
    url = choose(app, 'renewal', '1229237', '91868').location
    app.verify(url)
    page = app.get(url)
    assert 'RO 25' in cells(page.html) and '2028-03-19' in page
    page = app.get(url, {'years': '2'})
    facts = page.html.find('dl', class_='facts')
    assert '2029-03-19' in facts.text and 'Second year fees' in facts.text
    assert 'RO 50' in cells(facts)
    response = confirm(app, page, years='2')
    assert '/orders/OCCI-ORD-' in response.location
    order_page = response.follow()
    assert 'RO 50' in cells(order_page.html) and 'Pay by card' in order_page
    assert 'Disclaimer' in order_page


def test_new_membership_needs_the_captcha(member):
    app = member()
    page = choose(app, 'new_membership', '1445820', captcha='WRONG')
    error = page.html.find('p', class_='invalid-feedback')
    assert 'does not match the image' in error.text
    assert page.html.find('img', class_='captcha-image')['src'].endswith('.png')


def test_new_membership_end_to_end_issues_a_certificate(member):
    app = member()
    url = choose(app, 'new_membership', '1445820').location
    app.verify(url)
    page = app.get(url)
    assert 'Al Noor Trading' in page and 'Register' in page
    assert 'RO' not in page.html.find('dl', class_='facts').text
    done = confirm(app, page).follow()
    assert 'Your request is complete.' in done
    serial = re.search(r'OCCI-\d{4}-\d{6}', done.text).group(0)
    pdf = app.get('/certificates/%s/certificate.pdf' % serial)
    assert pdf.content_type == 'application/pdf' and pdf.body.startswith(b'%PDF')
    verify = done.click(description='Verification page')
    assert 'This certificate is valid.' in verify and 'Al Noor Trading' in verify
    assert app.get(verify.request.path + '.json').json['status'] == 'valid'
    messages = app.get('/_dev/outbox.json').json['messages']
    assert [m['channel'] for m in messages][-2:] == ['email', 'sms']
    assert serial in messages[-2]['body']
    site = site_of(app)
    company = site['companies']['1445820']
    assert company.membership.occi_number == '100000'
    assert site['companies'].find_by_occi_number('100000') is company
    # The request is done: going back to step one starts a new one.
    assert choose(app, 'new_membership', '1445820').status_int == 200


@pytest.mark.parametrize(
    'civil_id, service, cr, occi, message, renew_link',
    [
        ('90000002', 'certificate', '1279531', '90412', 'renew', True),
        ('90000002', 'change_name', '1279531', '90412', 'renew', True),
        ('90000001', 'change_name', '1229237', '91868', 'same names', False),
        ('90000001', 'change_grade', '1229237', '91868', 'grade', False),
        ('90000001', 'new_membership', '1229237', None, 'already', False),
    ],
)
def test_refusals_of_the_rules(member, civil_id, service, cr, occi, message, renew_link):
    app = member(civil_id)
    page = choose(app, service, cr, occi)
    alert = page.html.find(class_='alert')
    assert message in alert.text.lower()
    assert bool(alert.find('a', href=re.compile('/services/renewal'))) == renew_link


def test_change_name_shows_the_registrys_new_names(member):
    app = member('90000002')
    url = choose(app, 'change_name', '1304464', '88231').location
    app.verify(url)
    page = app.get(url)
    facts = page.html.find('dl', class_='facts')
    assert 'Nizwa Dates' in facts.text and 'Nizwa Date Company' in facts.text
    assert 'RO 4' in cells(facts)


def test_change_grade_shows_the_new_grade_and_expiry(member):
    app = member('90000002')
    url = choose(app, 'change_grade', '1020446', '77105').location
    app.verify(url)
    facts = app.get(url).html.find('dl', class_='facts')
    assert 'Second' in facts.text and 'Third' in facts.text and 'RO 4' in cells(facts)
    assert '2027-11-24' in facts.text


def test_another_member_cannot_see_the_request(member):
    app = member('90000001')
    url = choose(app, 'renewal', '1229237', '91868').location
    conn = database(app.app.registry).open()
    with conn.transaction_manager:
        add_account(conn.root()[ROOT_KEY], '90000002')
    conn.close()
    other = webtest.TestApp(app.app)
    other.get('/_probe/login/90000002')
    # Not found, as if it were not there: its address tells nothing.
    other.get(url, status=404)
    other.post(url + 'confirm', {'csrf_token': 'x'}, status=404)


def test_cancel(member):
    app = member()
    url = choose(app, 'renewal', '1229237', '91868').location
    page = app.get(url)
    form = next(f for f in page.forms.values() if f.action.endswith('/cancel'))
    assert form.submit().location.endswith('/dashboard')
    assert choose(app, 'renewal', '1229237', '91868').location != url


def test_unknown_certificate_serial(app):
    page = app.get('/verify/OCCI-2026-999999/7KQ2M9XD4TPA', status=404)
    assert 'No certificate has the serial' in page
    assert app.get('/verify/OCCI-2026-999999.json', status=404).json['status'] == 'unknown'


def test_verify_form(app):
    page = app.get('/verify')
    form = page.forms['lookup']
    form['serial'] = ' occi-2026-000001 '
    form['code'] = '7kq2-m9xd-4tpa'
    assert form.submit('verify').location.endswith('/verify/OCCI-2026-000001/7KQ2M9XD4TPA')


def test_a_price_changed_since_step_3_was_shown_is_not_confirmed(member, clock):
    """The chamber changes its fees while the member reads step 3: the
    confirm takes the member back to step 3, at the new price, and no order
    is made at a price the member did not see."""
    app = member()
    url = choose(app, 'renewal', '1229237', '91868').location
    app.verify(url)
    page = app.get(url)
    assert 'RO 25' in cells(page.html)

    def double_the_fees(site):
        fees = site['settings'].fees.annual_fees
        for grade in list(fees):
            fees[grade] *= 2

    edit(app.app, double_the_fees)
    again = confirm(app, page).follow()
    assert 'The price or the terms changed' in again
    assert 'RO 50' in cells(again.html.find('dl', class_='facts'))
    assert read(app.app, lambda site: list(site['orders'].keys())) == []
    assert '/orders/OCCI-ORD-' in confirm(app, again).location
