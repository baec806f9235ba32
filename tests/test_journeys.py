"""Member journeys through the whole stack: registration, PKI login with the
development IdP (real signed SAML through xmlsec1, the smart card through the
card agent, pcscd and the emulated card), step-up, payment at the sandbox
gateway and Single Log-Out."""

import re
from datetime import date

import pytest

from occi_site.resources import ROOT_KEY, database
from pki_idp.people import People

from .conftest import cells, shows, silence_registry
from .pki_helpers import agent_client, enter_pin
from .stack import NEXT_YEAR, Stack

PEOPLE = People.bundled()


@pytest.fixture
def stack(tmp_path, card_stack):
    stack = Stack(tmp_path, card_stack)
    yield stack
    stack.close()


def register(
    stack, civil_id='90000001', mobile='99000001', name='Ali Said Al Jahdhami', method='card'
):
    """The whole registration in a browser of its own, ending with the PKI login of the
    civil ID (with that person's card, or their Mobile ID); that browser then logs out, so
    the tests' own logins are the only sessions of the person at the portal and at the IdP."""
    browser = stack.new_browser()
    confirm = registered_up_to_the_pki(stack, browser, civil_id, mobile, name)
    done = confirm_at_the_pki(stack, browser, confirm, civil_id, method)
    assert done.location.endswith('/register/done')
    at_idp = browser.get('/dashboard').forms[0].submit().follow()
    at_idp.click(description=re.compile('Terminate and return')).follow()


def registered_up_to_the_pki(stack, browser, civil_id, mobile, name):
    """The registration form and both codes: the page of its last step, the PKI login."""
    form = browser.get('/register').forms['deform']
    form['full_name'] = name
    form['civil_id'] = civil_id
    form['email'] = '%s@example.om' % civil_id
    form['mobile'] = mobile
    form['accept_terms'] = True
    page = form.submit('submit').follow()
    code = re.search(r'Your verification code is: (\S+)', stack.outbox()[-1]['body']).group(1)
    form = page.forms['deform']
    form['code'] = code
    page = form.submit('verify').follow()
    code = re.search(r'\b(\d{6})\b', stack.outbox()[-1]['body']).group(1)
    form = page.forms['deform']
    form['code'] = code
    return form.submit('verify').follow()


def confirm_at_the_pki(stack, browser, confirm_page, civil_id, method='card'):
    """The registration's last step: the PKI login with the card (or Mobile ID) of
    ``civil_id``."""
    form = next(f for f in confirm_page.forms.values() if f.action.endswith('/register/confirm'))
    chooser = form.submit().follow().follow()
    person = PEOPLE.by_civil_id(civil_id)
    if method == 'mobile':
        form = next(f for f in chooser.forms.values() if 'mobile' in f.fields)
        form['mobile'] = person.mobile
        done = approve_on_phone(browser, form.submit().follow(), person.mobile, person.pin)
    else:
        pad = chooser.click(description='Login using card')
        done = card_at_idp(stack, pad, civil_id, person.pin)
    return terminate(stack, browser, done)


def approve_on_phone(browser, waiting, mobile, pin='1234'):
    """The Mobile ID login: the PIN entered on the phone of ``mobile``, then the IdP's
    waiting page goes on."""
    phone_form = browser.get('/idp/phone/%s' % mobile).forms[0]
    phone_form['pin'] = pin
    phone_form.submit('confirm')
    return waiting.forms[0].submit().follow()


def card_at_idp(stack, pad, civil_id='90000001', pin='1234'):
    """From the IdP's PIN pad to the Single Log Out page: the card of `civil_id` put in the
    virtual reader with the pad's own development buttons, the PIN to the card agent."""
    if stack.cards.slot.card is not stack.cards.card(civil_id):
        pad = pad.forms[1].submit('insert', value=civil_id).follow()
    stack.cards.insert(civil_id)
    return enter_pin(pad, agent_client(stack.cards.agent(stack.base)), pin, stack.base).follow()


def terminate(stack, browser, single_log_out):
    """The guide's "Terminate and return to your originating service" button."""
    assert 'Single Log Out' in single_log_out
    assert 'Terminate and return to your originating service' in single_log_out
    return single_log_out.forms[0].submit(status='*')


def card_reader(browser):
    """/login, then the IdP's chooser, then its PIN pad."""
    return browser.get('/login').follow().follow().click(description='Login using card')


def signed_answer(single_log_out):
    """The SAMLResponse (and RelayState) the Single Log Out page would post."""
    form = single_log_out.forms[0]
    return {
        name: form[name].value for name in ('SAMLResponse', 'RelayState') if name in form.fields
    }


def login_with_card(stack, browser, civil_id='90000001', pin='1234'):
    return terminate(stack, browser, card_at_idp(stack, card_reader(browser), civil_id, pin))


def choose_company(browser, service, cr, occi=None):
    """Step 1 of a service: the company (and captcha); returns the request's page."""
    form = browser.get('/services/%s' % service).forms['deform']
    form['cr_number'] = cr
    if occi is not None:
        form['occi_number'] = occi
    if 'captcha' in form.fields:
        form['captcha'] = 'TEST5'
    return form.submit('next').follow()


def step_up(
    stack, browser, request_page, method='card', civil_id='90000001', pin='1234', mobile='99000001'
):
    form = next(
        f
        for f in request_page.forms.values()
        if f.action.endswith('/verify') and f['method'].value == method
    )
    if method == 'mobile':
        form['mobile'] = mobile
        done = approve_on_phone(browser, form.submit().follow().follow(), mobile, pin)
    else:
        pad = form.submit().follow().follow()
        done = card_at_idp(stack, pad, civil_id, pin)
    return terminate(stack, browser, done)


def test_register_log_in_with_card_and_log_out(stack):
    browser = stack.browser
    register(stack)
    dashboard = login_with_card(stack, browser).follow()
    assert dashboard.request.path == '/dashboard'
    assert 'Welcome, Ali Said Al Jahdhami' in dashboard
    logout_form = dashboard.forms[0]
    assert logout_form.action.endswith('/logout')
    at_idp = logout_form.submit().follow()
    assert 'Single Log Out' in at_idp and 'You are logged out from all services.' in at_idp
    back = at_idp.click(description=re.compile('Terminate and return'))
    page = back.follow()
    assert 'You are logged out' in page
    browser.get('/dashboard', status=403)


def test_login_with_mobile_id(stack):
    browser = stack.browser
    register(stack)
    chooser = browser.get('/login').follow().follow()
    form = next(f for f in chooser.forms.values() if 'mobile' in f.fields)
    form['mobile'] = '99000001'
    done = approve_on_phone(browser, form.submit().follow(), '99000001')
    dashboard = terminate(stack, browser, done).follow()
    assert 'Welcome, Ali Said Al Jahdhami' in dashboard


def test_unregistered_civil_id_is_sent_to_registration(stack):
    page = login_with_card(stack, stack.browser)
    assert page.status_int == 403
    assert 'not registered' in page and '/register' in page
    stack.browser.get('/dashboard', status=403)


def test_three_wrong_pins_block_the_card(stack):
    browser = stack.browser
    register(stack)
    pad = card_reader(browser)
    card = stack.cards.new_card('90000001')
    stack.cards.insert(card)
    agent = agent_client(stack.cards.agent(stack.base))
    assert enter_pin(pad, agent, '0000', stack.base)['tries_left'] == 2
    assert enter_pin(pad, agent, '1111', stack.base)['tries_left'] == 1
    assert enter_pin(pad, agent, '2222', stack.base)['error'] == 'pin_blocked'
    assert enter_pin(pad, agent, '1234', stack.base)['error'] == 'pin_blocked'
    assert card.blocked
    # Another card of the same person (a renewed one) still logs in.
    dashboard = terminate(stack, browser, card_at_idp(stack, pad)).follow()
    assert 'Welcome, Ali Said Al Jahdhami' in dashboard


def test_tampered_answer_gives_a_clear_page_and_no_session(stack):
    browser = stack.browser
    register(stack)
    browser.post('/idp/_switch', {'respond_with': 'tampered'})
    page = login_with_card(stack, browser)
    assert page.status_int == 400
    assert 'Login was not completed' in page
    browser.get('/dashboard', status=403)


def test_replayed_answer_is_refused(stack):
    browser = stack.browser
    register(stack)
    done = card_at_idp(stack, card_reader(browser))
    answer = signed_answer(done)
    assert terminate(stack, browser, done).status_int == 303
    replay = browser.post('/saml/acs', answer, status=400)
    assert 'Login was not completed' in replay


def test_answer_without_the_session_cookie_is_relayed_first_party(stack):
    browser = stack.browser
    register(stack)
    done = card_at_idp(stack, card_reader(browser))
    answer = signed_answer(done)
    session_cookie = browser.cookies['occi_session']
    cross_site = stack.new_browser()
    relay = cross_site.post('/saml/acs', answer)
    assert 'Completing your login' in relay
    relay_form = relay.forms['acs-relay']
    assert relay_form['resubmitted'].value == '1'
    browser.set_cookie('occi_session', session_cookie)
    dashboard = browser.post('/saml/acs', dict(answer, resubmitted='1')).follow()
    assert 'Welcome, Ali Said Al Jahdhami' in dashboard


def test_new_membership_with_step_up_by_mobile(stack):
    browser = stack.browser
    register(stack)
    login_with_card(stack, browser)
    request_page = choose_company(browser, 'new_membership', '1445820')
    assert 'Personal verification' in request_page
    step3 = step_up(stack, browser, request_page, method='mobile').follow()
    assert 'Al Noor Trading' in step3 and 'Register' in step3
    form = next(f for f in step3.forms.values() if f.action.endswith('/confirm'))
    done = form.submit('confirm').follow()
    assert 'Your request is complete.' in done
    conn = database(stack.portal.registry).open()
    service_request = next(iter(conn.root()[ROOT_KEY]['requests'].values()))
    assert service_request.step_up['method'] == 'mobile' and service_request.step_up['assertion_id']
    conn.close()


def renewal_at_step_2(stack):
    """The member registered and logged in, a renewal of 1229237 waiting for
    the personal verification: ``(browser, the request's page)``."""
    browser = stack.browser
    register(stack)
    login_with_card(stack, browser)
    return browser, choose_company(browser, 'renewal', '1229237', '91868')


def test_step_up_with_someone_elses_card_is_refused(stack):
    browser, request_page = renewal_at_step_2(stack)
    refused = step_up(stack, browser, request_page, civil_id='90000002', pin='4321')
    assert refused.status_int == 403
    assert 'another civil ID' in refused
    assert 'Personal verification' in browser.get(request_page.request.url)


def test_a_verification_that_arrives_after_its_request_closed_is_refused(stack):
    browser, request_page = renewal_at_step_2(stack)
    form = next(
        f
        for f in request_page.forms.values()
        if f.action.endswith('/verify') and f['method'].value == 'mobile'
    )
    form['mobile'] = '99000001'
    waiting = form.submit().follow().follow()
    # Meanwhile, in another tab, the member cancels the request.
    cancel = next(f for f in request_page.forms.values() if f.action.endswith('/cancel'))
    cancel.submit()
    single_log_out = approve_on_phone(browser, waiting, '99000001')
    refused = terminate(stack, browser, single_log_out)
    assert refused.status_int == 409
    assert 'This request is no longer open' in refused
    # The answer is spent: posted again, it is refused as replayed.
    again = browser.post(
        '/saml/acs', dict(signed_answer(single_log_out), resubmitted='1'), status=400
    )
    assert again.status_int == 400
    conn = database(stack.portal.registry).open()
    site = conn.root()[ROOT_KEY]
    service_request = next(iter(site['requests'].values()))
    assert service_request.state == 'cancelled' and service_request.step_up is None
    assert site['audit'].latest(1, action='step_up.closed')
    assert not site['audit'].latest(1, action='step_up')
    conn.close()


def test_a_verification_answered_from_an_earlier_login_is_refused(stack):
    # An IdP that keeps a session of its own may answer with the login the
    # member made minutes ago: the personal verification asks for a new one.
    browser, request_page = renewal_at_step_2(stack)
    browser.post('/idp/_switch', {'respond_with': 'earlier_login'})
    refused = step_up(stack, browser, request_page)
    assert refused.status_int == 403
    assert 'was not made just now' in refused
    again = refused.click(description='Back to the request')
    assert again.request.path == request_page.request.path
    assert 'Personal verification' in again


def test_a_registration_answered_from_an_earlier_login_goes_back_to_its_last_step(stack):
    browser = stack.new_browser()
    confirm = registered_up_to_the_pki(stack, browser, '90000001', '99000001', 'Ali Said')
    browser.post('/idp/_switch', {'respond_with': 'earlier_login'})
    refused = confirm_at_the_pki(stack, browser, confirm, '90000001')
    assert refused.status_int == 403 and 'was not made just now' in refused
    assert refused.click(description='Back to the registration').request.path == (
        '/register/confirm'
    )


def test_renewal_for_two_years_paid_with_a_card(stack):
    """Issue 6's "done means", end to end: 4000000000000002 first, then 4111111111111111."""
    browser, request_page = renewal_at_step_2(stack)
    step3 = step_up(stack, browser, request_page).follow()

    def pay(page, number):
        form = next(f for f in page.forms.values() if f.action.endswith('/confirm'))
        form['years'] = '2'
        order = form.submit('confirm').follow()
        assert 'RO 50' in cells(order.html)
        return pay_at_gateway(order, number)

    def expiry():
        conn = database(stack.portal.registry).open()
        try:
            return conn.root()[ROOT_KEY]['companies']['1229237'].membership.expires_on
        finally:
            conn.close()

    again = pay(step3, '4000000000000002')
    assert expiry() == date(2027, 3, 19)
    assert 'Your card was declined by the card issuer.' in again.html.find(role='alert').text
    done = pay_at_gateway(again, '4111111111111111')
    assert 'Your request is complete.' in done
    assert expiry() == date(2029, 3, 19)
    receipt = browser.get(done.html.find('a', string='Receipt')['href'] + '.pdf')
    assert receipt.body.startswith(b'%PDF')


def test_logout_started_by_the_idp_ends_the_portal_session(stack):
    browser = stack.browser
    register(stack)
    login_with_card(stack, browser)
    assert browser.get('/dashboard').status_int == 200
    sessions = browser.get('/idp/')
    to_portal = sessions.forms[0].submit()
    assert '/saml/sls?SAMLRequest=' in to_portal.location
    back_at_idp = to_portal.follow()
    assert '/idp/' in back_at_idp.location
    browser.get('/dashboard', status=403)


def test_unsigned_logout_request_is_refused_by_the_portal(stack):
    browser = stack.browser
    register(stack)
    login_with_card(stack, browser)
    location = browser.get('/idp/').forms[0].submit().location
    unsigned = re.sub(r'&Signature=[^&]*', '', location)
    page = browser.get(unsigned, status=400)
    assert 'Log-out was not completed' in page
    assert browser.get('/dashboard').status_int == 200


def test_sp_metadata_is_published(stack):
    metadata = stack.browser.get('/saml/metadata')
    assert metadata.content_type == 'application/samlmetadata+xml'
    assert stack.base + '/saml/acs' in metadata.text


def test_locked_account_is_refused(stack):
    browser = stack.browser
    register(stack)
    conn = database(stack.portal.registry).open()
    with conn.transaction_manager:
        conn.root()[ROOT_KEY]['accounts']['90000001'].lock()
    conn.close()
    page = login_with_card(stack, browser)
    assert page.status_int == 403 and 'This account is locked' in page
    browser.get('/dashboard', status=403)


def test_initial_admin_named_in_the_settings_gets_the_role_at_login(tmp_path, card_stack):
    stack = Stack(tmp_path, card_stack, **{'occi.initial_admins': '90000009'})
    try:
        browser = stack.browser
        register(stack, civil_id='90000009', mobile='99000009', name='Khalid Nasser Al Busaidi')
        browser.get('/manage', status=403)
        login_with_card(stack, browser, civil_id='90000009', pin='9999')
        assert browser.get('/manage').follow().status_int == 200
        found = browser.get(
            '/companies/@@manage-search', {'text': 'المشاريع الواعدة', 'search': 'search'}
        )
        assert shows(found.text, '1229237')
    finally:
        stack.close()


def pay_at_gateway(page, number='4111111111111111'):
    """From the order page (or the request page, to try again) through the gateway, back."""
    checkout = next(f for f in page.forms.values() if f.action.endswith('/checkout'))
    billing = checkout.submit().forms['gateway-checkout'].submit().follow()
    card = billing.forms[0].submit('next').follow().forms[0]
    card['card_type'] = '001'
    card['card_number'] = number
    card['card_cvn'] = '123'
    card['card_expiry_month'] = '12'
    card['card_expiry_year'] = NEXT_YEAR
    receipt = card.submit('next').follow().forms[0].submit('pay').follow()
    return receipt.forms['return-to-merchant'].submit().follow()


@pytest.mark.parametrize(
    'service, cr, occi, shown, check',
    [
        (
            'certificate',
            '1304464',
            '88231',
            'Get Your Certificate',
            lambda company: company.membership.expires_on == date(2027, 8, 30),
        ),
        (
            'change_name',
            '1304464',
            '88231',
            'Nizwa Date Company',
            lambda company: company.name_en == 'Nizwa Date Company',
        ),
        (
            'change_grade',
            '1020446',
            '77105',
            'Change Grade',
            lambda company: company.membership.grade == 'Second',
        ),
    ],
)
def test_payable_services_of_an_existing_member(
    stack, monkeypatch, service, cr, occi, shown, check
):
    """Paid for and completed, though the commercial registry stops
    answering once the price is given: these services apply that price."""
    browser = stack.browser
    register(stack, civil_id='90000002', mobile='99000002', name='Shamsa Hamed Al Rashdi')
    login_with_card(stack, browser, civil_id='90000002', pin='4321')
    request_page = choose_company(browser, service, cr, occi)
    step3 = step_up(stack, browser, request_page, civil_id='90000002', pin='4321').follow()
    assert shown in step3 and 'RO 4' in cells(step3.html)
    confirm = next(f for f in step3.forms.values() if f.action.endswith('/confirm'))
    order = confirm.submit('confirm').follow()
    assert 'RO 4' in cells(order.html)
    silence_registry(monkeypatch)
    done = pay_at_gateway(order)
    assert 'Your request is complete.' in done
    conn = database(stack.portal.registry).open()
    company = conn.root()[ROOT_KEY]['companies'][cr]
    assert check(company)
    certificate = conn.root()[ROOT_KEY]['certificates'].current_for(cr)
    assert certificate.name_en == company.name_en and certificate.grade == company.membership.grade
    conn.close()
    pdf = browser.get(done.html.find('a', string='Download the Membership Certificate')['href'])
    assert pdf.body.startswith(b'%PDF')


def test_login_without_a_reachable_idp_says_so(app):
    """The test portal has no PKI settings: /login answers with a clear page, not a traceback."""
    page = app.get('/login', status=503)
    assert 'The PKI login service is not available at the moment' in page
    assert 'Traceback' not in page


def test_login_when_the_idp_metadata_is_missing(tmp_path):
    stack = Stack(tmp_path)
    try:
        (tmp_path / 'idp-metadata.xml').unlink()
        page = stack.browser.get('/login', status=503)
        assert 'The PKI login service is not available at the moment' in page
    finally:
        stack.close()
