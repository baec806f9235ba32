"""Registration: form, e-mail code or link, SMS code, every error path."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from occi_site.resources.registration import EMAIL_CODE_ALPHABET, VerificationCode

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(wsgi_app):
    clock = wsgi_app.registry.occi_clock = Clock()
    return clock


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


def email_code(app):
    body = [m for m in messages(app) if m['channel'] == 'email'][-1]['body']
    return re.search(r'Your verification code is: (\S+)', body).group(1)


def email_link(app):
    body = [m for m in messages(app) if m['channel'] == 'email'][-1]['body']
    return re.search(r'(http://\S+verify-email\?\S+)', body).group(1)


def sms_code(app):
    body = [m for m in messages(app) if m['channel'] == 'sms'][-1]['body']
    return re.search(r'\b(\d{6})\b', body).group(1)


def submit_code(app, path, code):
    form = app.get(path).forms['deform']
    form['code'] = code
    return form.submit('verify')


def test_whole_journey(app, clock, site):
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
    assert response.location.endswith('/register/done')
    page = response.follow()
    assert 'Registration complete' in page and '/login' in page
    welcome = messages(app)[-1]
    assert welcome['subject'] == 'Welcome to the OCCI E-services'
    site._p_jar.sync()
    account = site['accounts']['90000001']
    assert account.state == 'active' and account.mobile == '99000001'
    actions = [entry['action'] for _, entry in site['audit'].latest(path='/accounts/90000001')]
    assert actions[0] == 'register.complete' and 'register.submit' in actions


def test_arabic_journey_messages(app, clock):
    fill(app, language='ar')
    mail = messages(app)[-1]
    assert mail['subject'] == 'رمز التحقق لخدمات الغرفة الإلكترونية'
    page = submit_code(
        app.__class__(
            app.app, extra_environ={'HTTP_ACCEPT_LANGUAGE': 'ar'}, cookiejar=app.cookiejar
        ),
        '/register/verify-email',
        'wrong1',
    )
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


def test_mobile_accepted_with_or_without_prefix(app, clock, site):
    fill(app, mobile='00968 7123 4567')
    site._p_jar.sync()
    assert site['accounts']['90000001'].mobile == '71234567'


def register_completely(app, **overrides):
    fill(app, **overrides)
    submit_code(app, '/register/verify-email', email_code(app))
    submit_code(app, '/register/verify-mobile', sms_code(app))


@pytest.mark.parametrize(
    'field, value, message',
    [
        ('civil_id', '90000001', 'This civil ID number is already registered.'),
        ('email', 'ALI@example.om', 'This e-mail address is already registered.'),
        ('mobile', '99000001', 'This mobile number is already registered.'),
    ],
)
def test_duplicates_are_refused_without_revealing_the_holder(app, clock, field, value, message):
    register_completely(app)
    other = {'civil_id': '90000002', 'email': 'other@example.om', 'mobile': '99000002'}
    other[field] = value
    page = fill(app, full_name='Someone Else', **other)
    error = page.html.find('p', class_='invalid-feedback').text
    assert message in error
    assert 'Ali' not in error


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


def test_link_works_once_and_from_another_browser(app, clock):
    fill(app)
    link = email_link(app)
    path = urlsplit(link)
    other = app.__class__(app.app, extra_environ={'HTTP_ACCEPT_LANGUAGE': 'en'})
    response = other.get(path.path + '?' + path.query)
    assert response.location.endswith('/register/verify-mobile')
    assert messages(app)[-1]['channel'] == 'sms'
    again = other.__class__(app.app).get(path.path + '?' + path.query, status=400)
    assert 'already been used or has expired' in again
    # The first browser moves on to the mobile step too.
    assert app.get('/register/verify-email').location.endswith('/register/verify-mobile')


def test_stale_pending_registration_can_be_replaced(app, clock, site):
    fill(app)
    page = fill(app, full_name='Ali Said Again')
    assert 'This civil ID number is already registered.' in page
    clock.advance(hours=24, minutes=1)
    response = fill(app, full_name='Ali Said Again', email='new@example.om')
    assert response.status_int == 303
    site._p_jar.sync()
    assert site['accounts']['90000001'].full_name == 'Ali Said Again'
    assert site['accounts'].find_by_email('ali@example.om') is None


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
    assert app.get('/register/verify-email').location.endswith('/register')
    assert app.get('/register/verify-mobile').location.endswith('/register')
    assert app.get('/register/done').location.endswith('/register')


def test_codes_are_never_stored_or_logged_in_clear(app, clock, site):
    fill(app)
    code = email_code(app)
    submit_code(app, '/register/verify-email', 'wrong1')
    site._p_jar.sync()
    registration = site['accounts']['90000001'].registration
    assert code.encode() not in registration.email_code.digest
    assert not any(code == value for value in vars(registration.email_code).values())
    for _, entry in site['audit'].latest():
        assert code not in repr(entry)


def test_verification_code_rules():
    code = VerificationCode('abc123', T0)
    assert code.check('zzz', T0) == 'wrong' and code.tries_left == 4
    assert code.check('abc123', T0 + timedelta(minutes=15)) == 'expired'
    assert code.check('abc123', T0) == 'ok'
    assert code.check('abc123', T0) == 'used'
