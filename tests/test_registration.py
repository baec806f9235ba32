"""Registration: form, e-mail code or link, SMS code, every error path; the PKI login
that ends it is in the stack tests at the end of this module."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import transaction
from ZODB import DB
from ZODB.MappingStorage import MappingStorage

from occi_site.resources import bootstrap
from occi_site.resources.account import Account
from occi_site.resources.evolve import step_5_registrations_end_at_the_pki
from occi_site.resources.registration import Registrations
from occi_site.resources.verification import EMAIL_CODE_ALPHABET, AddressCheck, VerificationCode
from tests.conftest import add_account, cells, edit, read

from .stack import Stack
from .test_journeys import confirm_at_the_pki, login_with_card

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def messages(app):
    return app.get('/_dev/outbox.json').json['messages']


def fill(app, language='en', **overrides):
    page = app.get('/register', headers={'Accept-Language': language})
    form = page.forms['deform']
    values = {
        'full_name': 'Ali Said Al Jahdhami',
        'civil_id': '90000001',
        'email': 'ali@example.om',
        'mobile': '+968 9900 0001',
        'accept_terms': True,
    }
    values.update(overrides)
    for name, value in values.items():
        form[name] = value
    return form.submit('submit', headers={'Accept-Language': language})


def last(app, channel, to=None):
    return [m for m in messages(app) if m['channel'] == channel and to in (None, m['to'])][-1]


def email_code(app, to=None):
    body = last(app, 'email', to)['body']
    return re.search(r'Your verification code is: (\S+)', body).group(1)


def email_link(app):
    body = last(app, 'email')['body']
    return re.search(r'(http://\S+verify-email\?\S+)', body).group(1)


def sms_code(app, to=None):
    return re.search(r'\b(\d{6})\b', last(app, 'sms', to)['body']).group(1)


def submit_code(app, path, code):
    form = app.get(path).forms['deform']
    form['code'] = code
    return form.submit('verify')


def both_codes(app, email='ali@example.om', mobile='99000001'):
    submit_code(app, '/register/verify-email', email_code(app, email))
    return submit_code(app, '/register/verify-mobile', sms_code(app, mobile))


def another_browser(app, language='en', address='127.0.0.1'):
    return app.__class__(
        app.app, extra_environ={'HTTP_ACCEPT_LANGUAGE': language, 'REMOTE_ADDR': address}
    )


def test_form_and_both_codes_lead_to_the_pki_step(app, clock, site):
    response = fill(app)
    assert response.location.endswith('/register/verify-email')
    [mail] = messages(app)
    assert mail['channel'] == 'email' and mail['to'] == 'ali@example.om'
    assert mail['subject'] == 'OCCI E-services verification code'
    assert 'Verify Account' in mail['body']
    code = email_code(app)
    assert len(code) == 6 and set(code) <= set(EMAIL_CODE_ALPHABET)
    response = submit_code(app, '/register/verify-email', code)
    assert response.location.endswith('/register/verify-mobile')
    sms = messages(app)[-1]
    assert sms['channel'] == 'sms' and sms['to'] == '99000001'
    response = submit_code(app, '/register/verify-mobile', sms_code(app))
    assert response.location.endswith('/register/confirm')
    page = response.follow()
    assert 'Confirm with the PKI' in page
    assert 'ali@example.om' in cells(page.html) and '90000001' in cells(page.html)
    assert any(f.action.endswith('/register/confirm') for f in page.forms.values())
    # Nothing is bound to the civil ID yet.
    site._p_jar.sync()
    assert '90000001' not in site['accounts']
    assert site['accounts'].find_by_email('ali@example.om') is None
    actions = [entry['action'] for _, entry in site['audit'].latest(path='/accounts/90000001')]
    assert actions == ['register.verify_mobile', 'register.verify_email', 'register.submit']


def test_arabic_journey_messages(app, clock):
    fill(app, language='ar')
    mail = messages(app)[-1]
    assert mail['subject'] == 'رمز التحقق لخدمات الغرفة الإلكترونية'
    arabic = app.__class__(
        app.app, extra_environ={'HTTP_ACCEPT_LANGUAGE': 'ar'}, cookiejar=app.cookiejar
    )
    page = submit_code(arabic, '/register/verify-email', 'wrong1')
    assert page.html.html['dir'] == 'rtl'
    assert 'غير صحيح' in page.text


@pytest.mark.parametrize(
    'field, value, message',
    [
        ('email', 'not-an-email', 'Enter a valid e-mail address.'),
        ('mobile', '12345', 'Enter an Omani mobile number'),
        ('mobile', '+968 1234 5678', 'Enter an Omani mobile number'),
        ('civil_id', '12ab', 'civil ID number of your card'),
        ('full_name', 'علي', 'English letters'),
        ('accept_terms', False, 'accept the terms'),
    ],
)
def test_bad_input_is_answered_next_to_the_field_keeping_the_rest(
    app, clock, field, value, message
):
    page = fill(app, **{field: value})
    assert page.status_int == 200
    error = page.html.find('p', class_='invalid-feedback')
    assert message in error.text
    assert error.find_parent(class_='item-%s' % field) is not None
    form = page.forms['deform']
    if field != 'full_name':
        assert form['full_name'].value == 'Ali Said Al Jahdhami'
    if field != 'email':
        assert form['email'].value == 'ali@example.om'
    assert messages(app) == []


def test_arabic_validation_message(app, clock):
    page = fill(app, language='ar', email='bad')
    assert 'أدخل عنوان بريد إلكتروني صحيحًا' in page.html.find('p', class_='invalid-feedback').text


def test_mobile_accepted_with_or_without_prefix(app, clock):
    fill(app, mobile='00968 7123 4567')
    submit_code(app, '/register/verify-email', email_code(app))
    assert last(app, 'sms')['to'] == '71234567'


@pytest.mark.parametrize(
    'field, value, message',
    [
        ('civil_id', '90000001', 'This civil ID number is already registered.'),
        ('email', 'ALI@example.om', 'This e-mail address is already registered.'),
        ('mobile', '99000001', 'This mobile number is already registered.'),
        # As an Arabic keyboard types the same numbers.
        ('civil_id', '٩٠٠٠٠٠٠١', 'This civil ID number is already registered.'),
        ('mobile', '٩٩٠٠٠٠٠١', 'This mobile number is already registered.'),
    ],
)
def test_what_a_member_holds_is_refused_without_revealing_the_holder(
    app, wsgi_app, clock, field, value, message
):
    edit(
        wsgi_app,
        lambda site: add_account(
            site, '90000001', full_name='Ali Said', email='ali@example.om', mobile='99000001'
        ),
    )
    other = {'civil_id': '90000002', 'email': 'other@example.om', 'mobile': '99000002'}
    other[field] = value
    page = fill(app, full_name='Someone Else', **other)
    error = page.html.find('p', class_='invalid-feedback').text
    assert message in error
    assert 'Ali' not in error
    assert page.forms['deform'][field].value == value  # as typed


def test_a_registration_not_yet_proven_blocks_nobody(app, clock):
    fill(app)
    both_codes(app)
    for browser in (another_browser(app), another_browser(app)):
        response = fill(browser, full_name='Someone Else')
        assert response.status_int == 303
        assert response.location.endswith('/register/verify-email')


def test_wrong_code_counts_down_then_locks(app, clock):
    fill(app)
    for left in (4, 3, 2, 1):
        page = submit_code(app, '/register/verify-email', 'wrong1')
        assert '%d tries left' % left in page
    page = submit_code(app, '/register/verify-email', 'wrong1')
    assert 'Too many wrong tries' in page
    page = submit_code(app, '/register/verify-email', email_code(app))
    assert 'Too many wrong tries' in page


def test_expired_code(app, clock):
    fill(app)
    code = email_code(app)
    clock.advance(minutes=15, seconds=1)
    page = submit_code(app, '/register/verify-email', code)
    assert 'This code has expired' in page
    form = page.forms['deform']
    assert form['code'].value == code


def test_sms_code_in_arabic_digits_is_read(app, clock):
    fill(app)
    submit_code(app, '/register/verify-email', email_code(app))
    arabic = sms_code(app).translate(str.maketrans('0123456789', '٠١٢٣٤٥٦٧٨٩'))
    assert submit_code(app, '/register/verify-mobile', arabic).location.endswith('/confirm')


def test_resend_cool_down_then_new_code(app, clock):
    fill(app)
    first = email_code(app)
    csrf = app.get('/register/verify-email').forms[1]['csrf_token'].value
    page = app.post('/register/resend', {'csrf_token': csrf}).follow()
    assert 'Please wait' in page
    assert email_code(app) == first
    clock.advance(seconds=61)
    page = app.post('/register/resend', {'csrf_token': csrf}).follow()
    assert 'A new code has been sent' in page
    second = email_code(app)
    assert second != first
    assert 'not correct' in submit_code(app, '/register/verify-email', first).text
    assert submit_code(app, '/register/verify-email', second).location.endswith('verify-mobile')


def test_resend_hourly_cap(app, clock):
    fill(app)
    csrf = app.get('/register/verify-email').forms[1]['csrf_token'].value
    for _ in range(4):
        clock.advance(seconds=61)
        app.post('/register/resend', {'csrf_token': csrf})
    clock.advance(seconds=61)
    page = app.post('/register/resend', {'csrf_token': csrf}).follow()
    assert 'Please wait' in page
    assert len([m for m in messages(app) if m['channel'] == 'email']) == 5


def test_codes_to_one_address_are_capped_whoever_asks(app, clock):
    """Registrations from many browsers cannot flood one mailbox."""
    for number in range(10):
        browser = another_browser(app, address='203.0.113.%d' % number)
        assert fill(browser, civil_id='9200000%d' % number).status_int == 303
        clock.advance(minutes=1)
    page = fill(another_browser(app, address='203.0.113.99'), civil_id='92000099')
    error = page.html.find('p', class_='invalid-feedback')
    assert 'Too many attempts' in error.text and error.find_parent(class_='item-email')
    assert len(messages(app)) == 10


def follow(browser, link, **kw):
    """Open the mailed ``link`` in ``browser`` and press Verify."""
    path = urlsplit(link)
    page = browser.get(path.path + '?' + path.query)
    return page.forms['confirm-link'].submit(**kw)


def test_opening_the_link_proves_nothing_until_verify_is_pressed(app, clock):
    # A mail reader's scanner fetches every link of a message it delivers.
    fill(app)
    link = urlsplit(email_link(app))
    page = another_browser(app).get(link.path + '?' + link.query)
    assert 'Press Verify' in page and page.forms['confirm-link']
    # Nothing stored for the fetch: no session started.
    assert 'Set-Cookie' not in page.headers
    assert messages(app)[-1]['channel'] == 'email'
    assert app.get('/register/verify-email').status_int == 200


def test_link_in_another_browser_verifies_the_email_only(app, clock):
    fill(app)
    link = email_link(app)
    other = another_browser(app)
    page = follow(other, link)
    assert 'Your e-mail address is verified' in page
    assert 'Go back to the browser where you filled the registration form' in page
    assert messages(app)[-1]['channel'] == 'sms'
    # The other browser cannot go on with this registration...
    assert other.get('/register/verify-mobile').location.endswith('/register')
    used = urlsplit(link)
    again = another_browser(app).get(used.path + '?' + used.query, status=400)
    assert 'already been used or has expired' in again
    # ...the first browser moves on to the mobile step.
    assert app.get('/register/verify-email').location.endswith('/register/verify-mobile')


def test_link_in_the_same_browser_goes_on_to_the_mobile_step(app, clock):
    fill(app)
    response = follow(app, email_link(app))
    assert response.location.endswith('/register/verify-mobile')
    assert 'Enter the code instead' not in response.follow()


def used_email_link(app):
    """The e-mail link of a registration whose code was typed instead: it
    has nothing left to prove."""
    fill(app)
    link = urlsplit(email_link(app))
    form = app.get('/register/verify-email').forms['deform']
    form['code'] = email_code(app)
    form.submit('verify')
    return link


def test_a_link_that_can_no_longer_work_says_so_at_once(app, clock):
    link = used_email_link(app)
    page = another_browser(app).get(link.path + '?' + link.query, status=400)
    assert 'already been used or has expired' in page
    # Its registration gone.
    clock.advance(hours=24, minutes=1)
    page = another_browser(app).get(link.path + '?' + link.query, status=400)
    assert 'already been used or has expired' in page


def test_a_used_link_opened_again_writes_nothing(app, site):
    """Mail readers fetch links again and again: only pressing Verify is audited."""
    link = used_email_link(app)
    site._p_jar.sync()
    before = site._p_jar.db().lastTransaction()
    for _fetch in range(3):
        page = another_browser(app).get(link.path + '?' + link.query, status=400)
        assert 'already been used or has expired' in page
    site._p_jar.sync()
    assert site._p_jar.db().lastTransaction() == before


def test_registration_expires_and_is_removed_without_a_scan(app, clock, site):
    fill(app)
    site._p_jar.sync()
    assert len(site['registrations']) == 1
    clock.advance(hours=24, minutes=1)
    assert app.get('/register/verify-email').location.endswith('/register')
    # The next registration removes the expired ones from the oldest end of the expiry index.
    fill(another_browser(app), civil_id='90000002', email='b@example.om', mobile='99000002')
    site._p_jar.sync()
    assert len(site['registrations']) == 1
    [(_, (_expires, kept))] = site['registrations'].records.items()
    assert kept.civil_id == '90000002'


def test_expiring_store_purges_in_expiry_order():
    store = Registrations()
    for hour in range(30):
        store.start('9%07d' % hour, 'Some One', 'x@example.om', '99000000', 'en', T0)
    assert len(store) == 30
    later = T0 + timedelta(hours=25)
    assert store.purge(later, limit=20) == 20 and len(store) == 10
    assert store.purge(later) == 10 and len(store) == 0


def test_registrations_are_throttled_per_address(app, clock):
    for number in range(10):
        fill(
            app,
            civil_id='9100000%d' % number,
            email='p%d@example.om' % number,
            mobile='9910000%d' % number,
        )
    page = fill(app, civil_id='91000099', email='p99@example.om', mobile='99100099')
    assert 'Too many attempts. Please try again in' in page


def test_verification_steps_need_a_registration(app):
    for step in ('verify-email', 'verify-mobile', 'confirm', 'done'):
        assert app.get('/register/%s' % step).location.endswith('/register')


def test_steps_follow_in_order(app, clock):
    fill(app)
    assert app.get('/register/verify-mobile').location.endswith('/register/verify-email')
    assert app.get('/register/confirm').location.endswith('/register/verify-email')
    submit_code(app, '/register/verify-email', email_code(app))
    assert app.get('/register/verify-email').location.endswith('/register/verify-mobile')


def test_codes_are_never_stored_or_logged_in_clear(app, clock, site):
    fill(app)
    code = email_code(app)
    submit_code(app, '/register/verify-email', 'wrong1')
    site._p_jar.sync()
    [(_, (_expires, registration))] = site['registrations'].records.items()
    check = registration.email_check
    assert code.encode() not in check.code.digest
    assert not any(code == value for value in vars(check.code).values())
    for _, entry in site['audit'].latest():
        assert code not in repr(entry)


def test_verification_code_rules():
    code = VerificationCode('abc123', T0)
    assert code.check('zzz', T0) == 'wrong' and code.tries_left == 4
    assert code.check('abc123', T0 + timedelta(minutes=15)) == 'expired'
    assert code.check('abc123', T0) == 'ok'
    assert code.check('abc123', T0) == 'used'


def test_code_and_link_stand_for_one_proof():
    check = AddressCheck('email', 'ali@example.om')
    code, token = check.issue(T0, with_link=True)
    assert check.verify(token, T0, link=True) == 'ok' and check.is_verified
    assert check.verify(code, T0) == 'used'


def test_evolve_moves_unfinished_registrations_out_of_the_accounts():
    db = DB(MappingStorage())
    conn = db.open()
    site, _ran = bootstrap(conn.root())
    for name in ('registrations', 'captchas'):
        site.remove(name)
    site.generation = 3
    accounts = site['accounts']
    for civil_id, state in (('90000001', 'pending'), ('90000002', 'active')):
        account = Account(civil_id, 'Someone', '%s@example.om' % civil_id, '9%s' % civil_id[-7:])
        account.state = state
        account.registration = object()
        accounts.add(civil_id, account)
    step_5_registrations_end_at_the_pki(site)
    assert list(accounts) == ['90000002']
    assert accounts.find_by_email('90000001@example.om') is None
    kept = accounts['90000002']
    assert kept.is_active and kept.contacts_proven_at is None
    assert 'registration' not in kept.__dict__
    assert len(site['registrations']) == 0 and len(site['captchas']) == 0
    transaction.abort()
    conn.close()
    db.close()


# The PKI login that ends a registration, through the whole stack.


@pytest.fixture
def stack(tmp_path, card_stack):
    stack = Stack(tmp_path, card_stack)
    yield stack
    stack.close()


def codes_in_stack(stack, browser, civil_id='90000001', email='ali@example.om', mobile='99000001'):
    fill(browser, civil_id=civil_id, email=email, mobile=mobile)

    def outbox_code(channel, to, pattern):
        body = [m for m in stack.outbox() if m['channel'] == channel and m['to'] == to][-1]
        return re.search(pattern, body['body']).group(1)

    submit_code(
        browser,
        '/register/verify-email',
        outbox_code('email', email, r'Your verification code is: (\S+)'),
    )
    return submit_code(
        browser, '/register/verify-mobile', outbox_code('sms', mobile, r'\b(\d{6})\b')
    ).follow()


def test_pki_login_of_the_civil_id_ends_the_registration_logged_in(stack):
    browser = stack.new_browser()
    confirm = codes_in_stack(stack, browser)
    done = confirm_at_the_pki(stack, browser, confirm, '90000001').follow()
    assert 'Registration complete' in done and 'Welcome, Ali Said Al Jahdhami' in done
    account = read(stack.portal, lambda site: site['accounts']['90000001'])
    assert account.is_active and account.email == 'ali@example.om'
    assert account.contacts_proven_at is not None
    assert read(stack.portal, lambda site: len(site['registrations'])) == 0
    welcome = [m for m in stack.outbox() if m['subject'] == 'Welcome to the OCCI E-services']
    assert [m['to'] for m in welcome] == ['ali@example.om']
    assert browser.get('/dashboard').status_int == 200
    # The registration pages are done with: a member is sent to "My account".
    assert browser.get('/register').location.endswith('/account')
    actions = read(
        stack.portal,
        lambda site: [e['action'] for _, e in site['audit'].latest(path='/accounts/90000001')],
    )
    assert actions[:2] == ['login', 'register.complete']


def test_pki_login_of_another_civil_id_binds_nothing(stack):
    browser = stack.new_browser()
    confirm = codes_in_stack(stack, browser)
    refused = confirm_at_the_pki(stack, browser, confirm, '90000002')
    assert refused.status_int == 403
    assert 'another civil ID than the one on the registration form' in refused
    assert read(stack.portal, lambda site: list(site['accounts'])) == []
    browser.get('/dashboard', status=403)
    # The registration waits for the right card.
    again = browser.get('/register/confirm')
    done = confirm_at_the_pki(stack, browser, again, '90000001')
    assert done.location.endswith('/register/done')


def test_two_registrations_of_one_civil_id_the_first_proven_wins(stack):
    first, second = stack.new_browser(), stack.new_browser()
    confirm_first = codes_in_stack(stack, first)
    confirm_second = codes_in_stack(stack, second, email='ali.other@example.om', mobile='99000011')
    assert confirm_at_the_pki(stack, second, confirm_second, '90000001').location.endswith(
        '/register/done'
    )
    refused = confirm_at_the_pki(stack, first, confirm_first, '90000001')
    assert refused.status_int == 409 and 'already registered' in refused
    assert read(stack.portal, lambda site: site['accounts']['90000001'].email) == (
        'ali.other@example.om'
    )


def legacy_account(site):
    """An account registered before registration ended with a PKI login."""
    account = Account('90000001', 'Squatter Person', 'squatter@example.om', '99111111')
    site['accounts'].add('90000001', account)
    account.activate(T0)
    account.contacts_proven_at = None


def test_account_from_before_pki_proofs_takes_the_proven_details(stack):
    edit(stack.portal, legacy_account)
    browser = stack.new_browser()
    confirm = codes_in_stack(stack, browser)
    assert confirm_at_the_pki(stack, browser, confirm, '90000001').location.endswith(
        '/register/done'
    )
    account = read(stack.portal, lambda site: site['accounts']['90000001'])
    assert (account.full_name, account.email, account.mobile) == (
        'Ali Said Al Jahdhami',
        'ali@example.om',
        '99000001',
    )
    assert account.contacts_proven_at is not None
    squatter = read(
        stack.portal, lambda site: site['accounts'].find_by_email('squatter@example.om')
    )
    assert squatter is None


def test_login_to_an_account_from_before_pki_proofs_asks_to_confirm_its_contacts(stack):
    edit(stack.portal, legacy_account)
    browser = stack.browser
    page = login_with_card(stack, browser).follow()
    assert page.request.path == '/account'
    assert 'Are these your e-mail and mobile number?' in page
    form = next(f for f in page.forms.values() if f.action.endswith('/confirm-contacts'))
    page = form.submit().follow()
    assert 'your e-mail and mobile number are confirmed' in page
    assert 'Are these your e-mail and mobile number?' not in page
    assert read(stack.portal, lambda site: site['accounts']['90000001'].contacts_proven_at)
