"""Logout through the whole stack: the portal session ends before the browser is
sent to the IdP, whatever the IdP answers; the IdP's own LogoutRequests are
accepted once, and only for the session they name."""

import re

import pytest

from .stack import Stack
from .test_journeys import login_with_card, register


@pytest.fixture
def stack(tmp_path, card_stack):
    stack = Stack(tmp_path, card_stack)
    yield stack
    stack.close()


@pytest.fixture
def member(stack):
    browser = stack.browser
    register(stack)
    login_with_card(stack, browser)
    assert browser.get('/dashboard').status_int == 200
    return browser


def log_out_at_the_portal(browser):
    """POST /logout: the answer sends the browser to the IdP."""
    to_idp = browser.get('/dashboard').forms[0].submit()
    assert '/idp/slo?SAMLRequest=' in to_idp.location
    return to_idp


def test_logout_ends_the_session_before_the_idp_is_asked(stack, member):
    log_out_at_the_portal(member)
    # The person closes the tab at the IdP without pressing "Terminate and return".
    page = member.get('/dashboard', status=403)
    assert 'Log in with PKI' in page


def test_a_refused_logout_answer_still_leaves_the_portal_logged_out(stack, member):
    at_idp = log_out_at_the_portal(member).follow()
    link = at_idp.html.find('a', string=re.compile('Terminate and return'))['href']
    unsigned = re.sub(r'&Signature=[^&]*', '', link)
    page = member.get(unsigned, status=400)
    assert 'You are logged out of the portal' in page
    member.get('/dashboard', status=403)


def test_logout_when_the_idp_cannot_be_asked_still_ends_the_session(stack, member, tmp_path):
    copied = member.cookies['occi_session']
    (tmp_path / 'idp-metadata.xml').unlink()
    page = member.get('/dashboard').forms[0].submit().follow()
    assert 'You are logged out' in page
    thief = stack.new_browser()
    thief.set_cookie('occi_session', copied)
    thief.get('/dashboard', status=403)


def test_a_copied_cookie_is_refused_after_single_log_out(stack, member):
    copied = member.cookies['occi_session']
    at_idp = log_out_at_the_portal(member).follow()
    at_idp.click(description=re.compile('Terminate and return')).follow()
    thief = stack.new_browser()
    thief.set_cookie('occi_session', copied)
    thief.get('/dashboard', status=403)


def idp_logout_request(browser):
    """The IdP's signed LogoutRequest for its latest session, not yet delivered."""
    forms = browser.get('/idp/').forms
    location = forms[len(forms) - 1].submit().location
    assert '/saml/sls?SAMLRequest=' in location
    return location


def test_a_replayed_logout_request_is_refused(stack, member):
    first = idp_logout_request(member)
    assert member.get(first).status_int == 303
    member.get('/dashboard', status=403)
    login_with_card(stack, member)
    page = member.get(first, status=400)
    assert 'already been used' in page
    assert member.get('/dashboard').status_int == 200


def test_a_logout_request_for_an_earlier_session_leaves_the_later_one(stack, member):
    earlier = idp_logout_request(member)
    at_idp = log_out_at_the_portal(member).follow()
    at_idp.click(description=re.compile('Terminate and return')).follow()
    login_with_card(stack, member)
    assert member.get(earlier).status_int == 303
    assert member.get('/dashboard').status_int == 200


def test_a_login_answered_with_a_weaker_context_says_so(stack):
    browser = stack.browser
    register(stack)
    browser.post('/idp/_switch', {'respond_with': 'wrong_context'})
    page = login_with_card(stack, browser)
    assert page.status_int == 400
    assert 'method that was asked for' not in page
    assert 'a way of logging in that the portal does not accept' in page
    browser.get('/dashboard', status=403)
