"""The member's sessions page: logged in from two browsers, the member ends the other
one from the first, and the other browser is logged out; in English and in Arabic."""

import pytest
from playwright.sync_api import expect

from .steps import login_with_card

pytestmark = pytest.mark.browser


def test_a_member_ends_another_session(journeys, members):
    members.register('90000001')
    elsewhere = journeys.open('sessions-other-browser')
    login_with_card(elsewhere, '90000001')
    journey = journeys.open('sessions')
    login_with_card(journey, '90000001')
    page, _ = journey.page, journey._
    page.goto('/account/sessions')
    expect(page.get_by_role('heading', level=1)).to_have_text(_('Your sessions'))
    rows = page.locator('table.sessions tbody tr')
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=_('This browser'))).to_have_count(1)
    journey.snap('sessions', phone=True)
    page.get_by_role('button', name=_('End this session')).click()
    expect(page.get_by_role('status')).to_have_text(_('The other session has ended.'))
    expect(rows).to_have_count(1)
    journey.snap('other-session-ended')
    response = elsewhere.page.goto('/dashboard')
    assert response.status == 403
    expect(elsewhere.page.get_by_role('link', name=_('Log in with PKI'))).to_be_visible()
    elsewhere.snap('logged-out-elsewhere')
    assert journey.page.goto('/dashboard').status == 200
