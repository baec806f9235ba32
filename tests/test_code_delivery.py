"""A code that could not be sent: registration's e-mail and SMS steps and My
account's change of contact say so next to the code field, in the person's
language, and offer a new code (with the usual limits)."""

import re

import pytest
import webtest

from occi_site.delivery import DeliveryFailed
from tests.conftest import login, read

from .test_account import ask_for, type_code
from .test_registration import fill, last, sms_code, submit_code

TROUBLE = {
    'failed': {
        'en': 'We could not deliver this code. If the address or number above is right, '
        'send a new code; if it is not, start again with the right one.',
        'ar': 'لم نتمكن من إيصال هذا الرمز. إن كان العنوان أو الرقم أعلاه صحيحًا فاطلب رمزًا جديدًا، '
        'وإن لم يكن فابدأ من جديد بالعنوان الصحيح.',
    },
    'late': {
        'en': 'This code has not gone out yet: we keep trying to send it, but codes are valid '
        'for only 15 minutes. If it does not arrive, send a new code.',
        'ar': 'لم يُرسل هذا الرمز بعد: ما زلنا نحاول إرساله، لكن الرموز صالحة لمدة 15 دقيقة فقط. '
        'إن لم يصلك فاطلب رمزًا جديدًا.',
    },
}
SEND_AGAIN = {'en': 'Send a new code', 'ar': 'إرسال رمز جديد'}


class Refusing:
    """A mail or SMS provider that refuses every message, for good or for now,
    until ``refusing`` is turned off; then it hands over to ``then``."""

    def __init__(self, then, permanent):
        self.then = then
        self.permanent = permanent
        self.refusing = True

    def deliver(self, letter):
        if self.refusing:
            raise DeliveryFailed('550 refused' if self.permanent else '451 busy', self.permanent)
        return self.then.deliver(letter)


def refuse(wsgi, channel, permanent):
    """``channel``'s provider refuses what the worker hands it from now on."""
    senders = wsgi.registry.occi_worker.senders
    senders[channel] = Refusing(senders[channel], permanent)
    return senders[channel]


def trouble(page):
    """The text beside the code field saying what became of its message, or None."""
    alert = page.html.find(id='code-trouble')
    return None if alert is None else ' '.join(alert.text.split())


def resend_form(page):
    return next(form for form in page.forms.values() if form.action.endswith('/resend'))


def email_code(app):
    """The code of the last e-mail, in whichever language it was written."""
    return re.search(r': (\w{6})$', last(app, 'email')['body'], re.M).group(1)


def browser(wsgi, language):
    return webtest.TestApp(wsgi, extra_environ={'HTTP_ACCEPT_LANGUAGE': language})


def statuses(wsgi, channel):
    return read(
        wsgi,
        lambda site: [n.status for n in site['notifications'].values() if n.channel == channel],
    )


@pytest.mark.parametrize('language', ['en', 'ar'])
def test_registration_says_when_the_email_code_was_refused(wsgi_app, clock, language):
    refuse(wsgi_app, 'email', permanent=True)
    app = browser(wsgi_app, language)
    page = fill(app, language=language).follow()
    assert statuses(wsgi_app, 'email') == ['failed']
    assert trouble(page) == TROUBLE['failed'][language]
    assert SEND_AGAIN[language] in resend_form(page).text
    # The message stands beside the code field, before anything is typed.
    assert page.html.find(id='code-trouble').find_previous('input', attrs={'name': 'code'})


@pytest.mark.parametrize('language', ['en', 'ar'])
def test_registration_says_when_the_sms_code_is_still_being_retried(wsgi_app, clock, language):
    app = browser(wsgi_app, language)
    fill(app, language=language)
    gateway = refuse(wsgi_app, 'sms', permanent=False)
    page = submit_code(app, '/register/verify-email', email_code(app)).follow()
    assert statuses(wsgi_app, 'sms') == ['retrying']
    assert trouble(page) == TROUBLE['late'][language]

    # A new code within the minute's cool-down is refused as any resend is.
    page = resend_form(page).submit().follow()
    assert statuses(wsgi_app, 'sms') == ['retrying']
    assert trouble(page) == TROUBLE['late'][language]

    gateway.refusing = False
    clock.advance(seconds=61)
    page = resend_form(page).submit().follow()
    assert sorted(statuses(wsgi_app, 'sms')) == ['retrying', 'sent']
    assert trouble(page) is None
    response = submit_code(app, '/register/verify-mobile', sms_code(app))
    assert response.location.endswith('/register/confirm')


@pytest.mark.parametrize('language', ['en', 'ar'])
def test_contact_change_says_when_the_code_to_the_new_email_was_refused(portal, clock, language):
    member = login(portal, '90000001', lang=language)
    refuse(portal, 'email', permanent=True)
    page = ask_for(member, 'email', 'ali.new@example.om').follow()
    assert trouble(page) == TROUBLE['failed'][language]
    assert SEND_AGAIN[language] in resend_form(page).text


@pytest.mark.parametrize('language', ['en', 'ar'])
def test_contact_change_says_when_the_sms_has_not_gone_out_after_a_minute(
    make_app, clock, language
):
    wsgi = make_app(**{'pyramid.includes': 'tests.probe_views', 'occi.notify.delivery': 'worker'})
    member = login(wsgi, '90000001', lang=language)
    page = ask_for(member, 'mobile', '99112233').follow()
    # Queued a moment ago: nothing to say yet.
    assert statuses(wsgi, 'sms') == ['queued'] and trouble(page) is None
    clock.advance(seconds=61)
    page = member.get('/account/mobile/verify')
    assert trouble(page) == TROUBLE['late'][language]
    wsgi.registry.occi_worker.run_once()
    page = member.get('/account/mobile/verify')
    assert trouble(page) is None
    type_code(member, 'mobile', sms_code(member, '99112233'))
    assert read(wsgi, lambda site: site['accounts']['90000001'].mobile) == '99112233'


def test_an_smtp_server_refusing_the_code_is_told_on_the_registration_page(make_app, smtp, clock):
    smtp.refuse_rcpt = '550 5.1.1 No such user here'
    wsgi = make_app(**smtp.settings())
    app = browser(wsgi, 'en')
    page = fill(app).follow()
    assert statuses(wsgi, 'email') == ['failed']
    assert trouble(page) == TROUBLE['failed']['en']
    assert smtp.received == []
