"""My account: a member changes the e-mail or the mobile, each proven by a code sent
to the new one, the old one told of the change."""

import re

import pytest

from tests.conftest import add_account, cells, edit, login, read, visitor


@pytest.fixture
def member(portal, clock):
    return login(portal, '90000001')


def outbox(portal):
    return portal.registry.occi_outbox.messages()


def code_sent_to(portal, to):
    body = [m for m in outbox(portal) if m['to'] == to][-1]['body']
    return re.search(r'(?:code is:? )(\w{6})', body).group(1)


def ask_for(app, channel, address):
    form = app.get('/account/%s' % channel).forms['deform']
    form['address'] = address
    return form.submit('send')


def type_code(app, channel, code):
    form = app.get('/account/%s/verify' % channel).forms['deform']
    form['code'] = code
    return form.submit('verify')


def test_my_account_needs_a_login(portal):
    visitor(portal).get('/account', status=403)
    visitor(portal).get('/account/email', status=403)


def test_my_account_shows_the_members_details(member):
    page = member.get('/account')
    assert '90000001@example.om' in page and '90000001' in cells(page.html)
    assert 'Are these your e-mail and mobile number?' not in page
    header = page.html.find('header')
    assert 'My account' in header.text


def test_change_of_email_is_proven_by_a_code_and_told_to_the_old_address(portal, member):
    response = ask_for(member, 'email', 'ali.new@example.om')
    assert response.location.endswith('/account/email/verify')
    mail = outbox(portal)[-1]
    assert mail['to'] == 'ali.new@example.om' and 'Verify Account' not in mail['body']
    assert 'The code is valid for 15 minutes.' in mail['body']
    # Until the code comes back, nothing changes.
    assert read(portal, lambda site: site['accounts']['90000001'].email) == '90000001@example.om'
    assert 'Enter the code sent to ali.new@example.om' in member.get('/account')
    page = type_code(member, 'email', 'wrong1')
    assert '4 tries left' in page
    page = type_code(member, 'email', code_sent_to(portal, 'ali.new@example.om')).follow()
    assert 'Your e-mail address is changed.' in page and 'ali.new@example.om' in page
    accounts = lambda site: site['accounts']  # noqa: E731
    assert read(portal, lambda site: accounts(site)['90000001'].email) == 'ali.new@example.om'
    assert read(portal, lambda site: accounts(site).find_by_email('ALI.NEW@example.om').civil_id)
    assert read(portal, lambda site: accounts(site).find_by_email('90000001@example.om')) is None
    notice = outbox(portal)[-1]
    assert notice['to'] == '90000001@example.om'
    assert 'changed to ali.new@example.om' in notice['body']
    assert notice['subject'] == 'Your e-mail address on the OCCI E-services was changed'
    # The code is spent with the change.
    assert member.get('/account/email/verify').location.endswith('/account')
    actions = read(
        portal,
        lambda site: [e['action'] for _, e in site['audit'].latest(path='/accounts/90000001')],
    )
    assert actions[:2] == ['account.change_email', 'account.change_email.verify']


def test_change_of_mobile_tells_the_old_number(portal, member):
    ask_for(member, 'mobile', '+968 7123 4567')
    sms = outbox(portal)[-1]
    assert sms['channel'] == 'sms' and sms['to'] == '71234567'
    type_code(member, 'mobile', code_sent_to(portal, '71234567'))
    assert read(portal, lambda site: site['accounts']['90000001'].mobile) == '71234567'
    notice = outbox(portal)[-1]
    assert notice['channel'] == 'sms' and notice['to'] == '90000001'
    assert 'ending in 567' in notice['body']


def test_an_address_another_member_holds_is_refused_next_to_the_field(portal, member):
    edit(portal, lambda site: add_account(site, '90000002', email='taken@example.om'))
    page = ask_for(member, 'email', 'TAKEN@example.om')
    error = page.html.find('p', class_='invalid-feedback')
    assert 'This e-mail address is already registered.' in error.text
    assert page.forms['deform']['address'].value == 'TAKEN@example.om'
    page = ask_for(member, 'email', '90000001@example.om')
    assert 'This is already the one on your account.' in page
    page = ask_for(member, 'mobile', '12')
    assert 'Enter an Omani mobile number' in page


def test_address_taken_while_the_code_travelled_is_refused(portal, member):
    ask_for(member, 'email', 'race@example.om')
    edit(portal, lambda site: add_account(site, '90000002', email='race@example.om'))
    page = type_code(member, 'email', code_sent_to(portal, 'race@example.om')).follow()
    assert 'This e-mail address is already registered.' in page
    assert read(portal, lambda site: site['accounts']['90000001'].email) == '90000001@example.om'


def test_changes_are_rate_limited(portal, member, clock):
    for number in range(5):
        assert ask_for(member, 'email', 'n%d@example.om' % number).status_int == 303
        clock.advance(minutes=2)
    page = ask_for(member, 'email', 'n9@example.om')
    assert 'Too many attempts' in page
    csrf = member.get('/account/email/verify').forms[1]['csrf_token'].value
    page = member.post('/account/email/resend', {'csrf_token': csrf}).follow()
    assert 'A new code has been sent.' in page
    page = member.post('/account/email/resend', {'csrf_token': csrf}).follow()
    assert 'Please wait' in page


def test_asking_about_addresses_others_hold_counts_against_the_limit(portal, member, clock):
    # Otherwise a member could list, unhindered, whose address is whose.
    edit(portal, lambda site: add_account(site, '90000002', email='taken@example.om'))
    for _try in range(5):
        page = ask_for(member, 'email', 'taken@example.om')
        assert 'This e-mail address is already registered.' in page
        clock.advance(minutes=2)
    page = ask_for(member, 'email', 'taken@example.om')
    assert 'Too many attempts' in page
    assert 'already registered' not in page


def test_cancelled_change_leaves_the_account_as_it_was(portal, member):
    ask_for(member, 'mobile', '99777777')
    csrf = member.get('/account/mobile/verify').forms[1]['csrf_token'].value
    member.post('/account/mobile/cancel', {'csrf_token': csrf})
    assert member.get('/account/mobile/verify').location.endswith('/account')
    assert read(portal, lambda site: site['accounts']['90000001'].mobile) == '90000001'


def test_arabic_page_and_messages(portal, clock):
    app = login(portal, '90000001', lang='ar')
    page = app.get('/account')
    assert page.html.html['dir'] == 'rtl' and 'حسابي' in page.text
    page = ask_for(app, 'email', 'bad')
    assert 'أدخل عنوان بريد إلكتروني صحيحًا' in page.html.find('p', class_='invalid-feedback').text


def test_a_finished_registration_and_a_replaced_contact_are_announced(announced):
    """The member's messages hang off these events (views/notify.py)."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from occi_site.events import AccountRegistered, ContactChanged
    from occi_site.resources.account import Accounts

    request, events = announced
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    accounts = Accounts('Accounts')
    # Only what ``register`` reads of a registration whose codes were proven.
    registration = SimpleNamespace(
        step='pki',
        civil_id='90000123',
        full_name='Salim Al Harthy',
        email='salim@example.om',
        mobile='99123456',
        language='ar',
    )
    account = accounts.register(registration, now, request)
    assert accounts.change_contact(account, 'mobile', '99765432', now, request) == '99123456'
    registered, changed = events
    assert (type(registered), registered.subject, registered.when) == (
        AccountRegistered,
        account,
        now,
    )
    assert (type(changed), changed.subject, changed.channel, changed.old) == (
        ContactChanged,
        account,
        'mobile',
        '99123456',
    )
    assert accounts.find_by_mobile('99765432') is account
