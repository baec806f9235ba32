"""Absolute addresses the portal hands out come from ``occi.public_url``, never
from the Host header of the request that caused them."""

import re

import pytest

from .conftest import add_account
from .stack import Stack
from .test_payment_portal import in_db, renewal_order

EVIL = {'HTTP_HOST': 'evil.example'}


def test_the_mailed_verification_link_ignores_the_host_header(make_app):
    import webtest

    wsgi = make_app()
    browser = webtest.TestApp(wsgi, extra_environ=dict(EVIL, HTTP_ACCEPT_LANGUAGE='en'))
    form = browser.get('/register').forms['deform']
    form['full_name'] = 'Ali Said Al Jahdhami'
    form['civil_id'] = '90000001'
    form['email'] = 'ali@example.om'
    form['mobile'] = '99000001'
    form['accept_terms'] = True
    # The portal answers as itself, so the browser files its cookie under the public host.
    form.submit('submit', headers={'Cookie': 'occi_session=%s' % browser.cookies['occi_session']})
    body = wsgi.registry.occi_outbox.messages()[-1]['body']
    links = re.findall(r'https?://[^\s"<>]+', body)
    assert links and all(link.startswith('http://localhost/') for link in links)


def test_redirects_ignore_the_host_header(app):
    response = app.get('/language?set=ar&came_from=/contact', extra_environ=EVIL)
    assert response.location == 'http://localhost/contact'


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path, **{'pyramid.includes': 'tests.probe_views'})
    in_db(stack, lambda site: add_account(site, '90000001', full_name='Ali Said Al Jahdhami'))
    stack.browser.get('/_probe/login/90000001')
    yield stack
    stack.close()


def test_the_gateway_return_and_notification_urls_ignore_the_host_header(stack):
    _request_id, order_page = renewal_order(stack)
    cookie = 'occi_session=%s' % stack.browser.cookies['occi_session']
    checkout = order_page.forms[1].submit(extra_environ=EVIL, headers={'Cookie': cookie})
    fields = checkout.forms['gateway-checkout'].fields
    for name in ('override_custom_receipt_page', 'override_backoffice_post_url'):
        assert fields[name][0].value.startswith(stack.base + '/'), name
