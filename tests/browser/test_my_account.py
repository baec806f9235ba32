"""My account, in English and in Arabic: a member changes the e-mail address, proves
the new one with the code sent to it, and the old address is told of the change."""

import pytest
from playwright.sync_api import expect

from .steps import EMAIL_CODE, email_of, latest_message, login_with_card

pytestmark = pytest.mark.browser

MEMBER = '90000001'


def test_change_of_email(journeys, members, language):
    members.register(MEMBER)
    journey = journeys.open('my-account')
    page, _ = journey.page, journey._
    login_with_card(journey, MEMBER)
    page.locator('details.user-menu summary').click()
    page.get_by_role('link', name=_('My account'), exact=True).click()
    expect(page.get_by_role('heading', level=1)).to_have_text(_('My account'))
    journey.snap('my-account', phone=True)
    page.get_by_role('link', name=_('Change your e-mail address')).click()
    expect(page.get_by_role('heading', level=1)).to_have_text(_('Change your e-mail address'))
    new = 'ali.%s@example.om' % language
    # The server answers next to the field, in the page's language.
    page.get_by_label(_('New e-mail address')).fill(email_of(MEMBER))
    page.get_by_role('button', name=_('Send a code')).click()
    expect(page.locator('.invalid-feedback')).to_have_text(
        _('This is already the one on your account.')
    )
    journey.snap('change-email-refused')
    page.get_by_label(_('New e-mail address')).fill(new)
    page.get_by_role('button', name=_('Send a code')).click()
    page.wait_for_url('**/account/email/verify')
    journey.snap('change-email-code')
    code = EMAIL_CODE.search(latest_message(journey, 'email', new)).group(1)
    page.get_by_label(_('Verification code')).fill(code)
    page.get_by_role('button', name=_('Verify')).click()
    page.wait_for_url('**/account')
    expect(page.get_by_role('status')).to_have_text(_('Your e-mail address is changed.'))
    expect(page.locator('dl.facts')).to_contain_text(new)
    journey.snap('email-changed')
    notices = [
        m
        for m in journey.outbox()
        if m['to'] == email_of(MEMBER)
        and m['subject'] == _('Your e-mail address on the OCCI E-services was changed')
    ]
    assert len(notices) == 1 and new in notices[0]['body']
