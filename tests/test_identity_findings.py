"""Findings of an attacker's review, each reproduced as the attacker did it."""

import re

import pytest

from occi_site.resources.content import Page
from tests.conftest import add_content, edit, login, read, visitor

from .stack import Stack
from .test_journeys import confirm_at_the_pki, login_with_card


@pytest.fixture
def stack(tmp_path, card_stack):
    stack = Stack(tmp_path, card_stack)
    yield stack
    stack.close()


def fill_form(browser, civil_id, name, email, mobile):
    form = browser.get('/register').forms['deform']
    form['full_name'] = name
    form['civil_id'] = civil_id
    form['email'] = email
    form['mobile'] = mobile
    form['accept_terms'] = True
    return form.submit('submit')


def last_body(stack, channel, to):
    return [m for m in stack.outbox() if m['channel'] == channel and m['to'] == to][-1]['body']


def pass_both_codes(stack, browser, email, mobile):
    page = browser.get('/register/verify-email')
    code = re.search(r'Your verification code is: (\S+)', last_body(stack, 'email', email))
    form = page.forms['deform']
    form['code'] = code.group(1)
    page = form.submit('verify').follow()
    form = page.forms['deform']
    form['code'] = re.search(r'\b(\d{6})\b', last_body(stack, 'sms', mobile)).group(1)
    return form.submit('verify').follow()


def test_squatter_cannot_take_someone_elses_civil_id(stack):
    squatter = stack.new_browser()
    fill_form(squatter, '90000001', 'Squatter Person', 'squatter@example.om', '99111111')
    confirm = pass_both_codes(stack, squatter, 'squatter@example.om', '99111111')
    # The squatter cannot prove the civil ID at the PKI: with their own card, refused.
    refused = confirm_at_the_pki(stack, squatter, confirm, '90000002')
    assert refused.status_int == 403 and 'another civil ID' in refused
    assert read(stack.portal, lambda site: site['accounts'].get('90000001')) is None
    # The real person is not refused, and proves the civil ID with their own card...
    owner = stack.new_browser()
    response = fill_form(owner, '90000001', 'Ali Said Al Jahdhami', 'ali@example.om', '99000001')
    assert response.status_int == 303, response.text
    confirm = pass_both_codes(stack, owner, 'ali@example.om', '99000001')
    assert confirm_at_the_pki(stack, owner, confirm, '90000001').location.endswith('/register/done')
    # ...so their card login lands in an account with their own name, e-mail and mobile.
    dashboard = login_with_card(stack, stack.browser).follow()
    assert 'Welcome, Ali Said Al Jahdhami' in dashboard
    account = read(stack.portal, lambda site: site['accounts']['90000001'])
    assert (account.full_name, account.email, account.mobile) == (
        'Ali Said Al Jahdhami',
        'ali@example.om',
        '99000001',
    )
    # The squatter's registration received its own codes and nothing of the member's.
    to_squatter = [m for m in stack.outbox() if m['to'] in ('squatter@example.om', '99111111')]
    assert [m['channel'] for m in to_squatter] == ['email', 'sms']


def test_registration_pages_do_not_greet_anyone(app):
    form = app.get('/register').forms['deform']
    form['full_name'] = 'Ali Said Al Jahdhami'
    form['civil_id'] = '90000001'
    form['email'] = 'ali@example.om'
    form['mobile'] = '99000001'
    form['accept_terms'] = True
    page = form.submit('submit').follow()
    assert 'ali@example.om' in page
    header = page.html.find('header')
    assert 'Welcome' not in header.text and 'Log out' not in header.text
    assert 'Log in' in header.text


def new_membership_form(app):
    form = app.get('/services/new_membership').forms['deform']
    form['cr_number'] = '1445820'
    return form


def test_captcha_text_alternative_does_not_answer_it(login_app):
    app = login_app('90000001')
    form = new_membership_form(app)
    page = app.get('/services/new_membership')
    question = re.search(r'what is (\d+) plus (\d+)', page.text)
    # Whatever the page says in words must not be the answer a script can compute.
    assert 'TEST5' not in page.text
    if question is not None:
        form = page.forms['deform']
        form['cr_number'] = '1445820'
        form['captcha'] = str(int(question.group(1)) + int(question.group(2)))
        answered = form.submit('next')
        assert answered.status_int == 200 and 'does not match' in answered


def test_spent_captcha_does_not_pass_again_with_the_old_cookie(login_app):
    app = login_app('90000001')
    form = new_membership_form(app)
    form['captcha'] = 'TEST5'
    cookie = app.cookies['occi_session']
    assert form.submit('next').status_int == 303
    app.set_cookie('occi_session', cookie)
    again = form.submit('next')
    assert again.status_int == 200 and 'does not match' in again


def test_editors_change_to_a_published_page_waits_for_review(portal):
    add_content(portal, ['content'], 'about', Page, state='published', title_en='About us')
    editor = login(portal, '90000008', roles=('member', 'editor'))
    form = editor.get('/content/about/@@manage-properties').forms['deform']
    form['title_en'] = 'Defaced'
    form.submit('save')
    assert 'About us' in visitor(portal).get('/content/about')
    assert 'Defaced' not in visitor(portal).get('/content/about')
    assert read(portal, lambda site: site['content']['about'].title_en) == 'About us'
    edit(portal, lambda site: site['content'].grant_local_role('90000009', 'publisher'))
    admin = login(portal, '90000009', roles=('member', 'admin'))
    workflow = admin.get('/content/about/@@manage-workflow').forms['deform']
    workflow.submit('publish_changes')
    assert 'Defaced' in visitor(portal).get('/content/about')
