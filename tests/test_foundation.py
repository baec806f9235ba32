"""The foundation: pages, languages, the tree, evolve steps, outbox and mail."""

import email

import pytest
import transaction
import webtest
from ZODB import DB
from ZODB.MappingStorage import MappingStorage

from occi_site.resources import ROOT_KEY, bootstrap, database
from occi_site.resources import evolve as evolve_module  # the module

from .conftest import SOUND_SECRET


def test_home_in_english(app):
    page = app.get('/')
    assert page.html.html['lang'] == 'en'
    assert page.html.html['dir'] == 'ltr'
    assert 'Chamber of Commerce and Industry' in page
    for service in (
        'New Membership Registration',
        'Membership Renewal',
        'Get your Certificate',
        'Change Name',
        'Change Grade',
    ):
        assert service in page
    assert '© Chamber of Commerce &amp; Industry, Sultanate of Oman' in page.text
    assert 'Privacy Policy' in page and 'Terms of use' in page and 'Contact Us' in page


def test_first_visit_follows_accept_language(app):
    page = app.get('/', headers={'Accept-Language': 'ar-OM,ar;q=0.9,en;q=0.5'})
    assert page.html.html['lang'] == 'ar'
    assert page.html.html['dir'] == 'rtl'
    assert 'غرفة تجارة وصناعة' in page.text


def test_language_switch_persists_in_a_cookie(app):
    response = app.get('/language?set=ar&came_from=/contact')
    assert response.status_int == 303
    assert response.location == 'http://localhost/contact'
    page = response.follow()
    assert page.html.html['dir'] == 'rtl'
    assert 'اتصل بنا' in page.text
    # The cookie wins over the browser's language from now on.
    assert app.get('/', headers={'Accept-Language': 'en'}).html.html['lang'] == 'ar'
    back = app.get('/language?set=en&came_from=/').follow()
    assert back.html.html['lang'] == 'en'


def test_language_switch_never_redirects_off_site(app):
    for target in ('https://evil.example/', '//evil.example/x', 'javascript:alert(1)'):
        response = app.get('/language', {'set': 'ar', 'came_from': target})
        assert response.location == 'http://localhost/'


def test_unknown_language_is_ignored(app):
    response = app.get('/language?set=fr&came_from=/')
    assert 'occi_lang' not in response.headers.get('Set-Cookie', '')


@pytest.mark.parametrize('path', ['/contact', '/privacy', '/terms'])
def test_public_pages(app, path):
    page = app.get(path)
    assert page.html.find('h1').text
    assert page.html.find('nav', class_='crumbs')


def test_not_found_in_both_languages(app):
    page = app.get('/no/such/page', status=404)
    assert 'Page not found' in page
    page = app.get('/no/such/page', status=404, headers={'Accept-Language': 'ar'})
    assert page.html.html['dir'] == 'rtl'
    assert 'الصفحة غير موجودة' in page.text


def test_tree_is_created_on_first_start(site):
    for name in (
        'content',
        'companies',
        'accounts',
        'requests',
        'orders',
        'certificates',
        'audit',
        'settings',
        'notifications',
    ):
        assert name in site
    assert site.generation == evolve_module.GENERATION
    company = site['companies']['1229237']
    assert company.membership.occi_number == '91868'
    assert site['companies'].find_by_occi_number('91868') is company


def test_bootstrap_and_evolve_run_once(monkeypatch):
    db = DB(MappingStorage())
    conn = db.open()
    site, ran = bootstrap(conn.root())
    transaction.commit()
    assert ran == list(range(1, evolve_module.GENERATION + 1))
    marker = site['companies']
    calls = []
    later = evolve_module.GENERATION + 1
    monkeypatch.setattr(
        evolve_module, 'STEPS', (*evolve_module.STEPS, (later, lambda site: calls.append(site)))
    )
    site, ran = bootstrap(conn.root())
    assert ran == [later] and calls == [site]
    assert site['companies'] is marker
    site, ran = bootstrap(conn.root())
    assert ran == [] and len(calls) == 1
    transaction.abort()
    conn.close()
    db.close()


def test_restart_keeps_the_data(tmp_path, make_app):
    uri = 'file://%s' % (tmp_path / 'Data.fs')
    first = make_app(**{'zodbconn.uri': uri})
    from occi_site.resources import database

    conn = database(first.registry).open()
    conn.root()[ROOT_KEY]['audit'].record('probe', user='tester')
    transaction.commit()
    conn.close()
    database(first.registry).close()
    second = make_app(**{'zodbconn.uri': uri})
    conn = database(second.registry).open()
    assert len(conn.root()[ROOT_KEY]['audit']) == 1
    conn.close()
    database(second.registry).close()


def test_dev_outbox_off_is_404(make_app):
    app = webtest.TestApp(
        make_app(**{'occi.dev_tools': 'false', 'occi.session.secret': SOUND_SECRET})
    )
    app.get('/_dev/outbox.json', status=404)
    app.get('/_dev/outbox', status=404)


def test_committed_request_delivers_mail_and_sms_to_the_outbox(make_app):
    app = webtest.TestApp(make_app(**{'pyramid.includes': 'tests.probe_views'}))
    assert app.get('/_probe/mail').text == 'sent'
    messages = app.get('/_dev/outbox.json').json['messages']
    assert [(m['channel'], m['to']) for m in messages] == [
        ('email', 'someone@example.om'),
        ('sms', '99000001'),
    ]
    assert messages[0]['subject'] == 'Probe'
    assert messages[0]['body'].strip() == 'Committed mail.'
    page = app.get('/_dev/outbox')
    assert 'Committed SMS.' in page


def test_rolled_back_request_sends_nothing(make_app):
    app = webtest.TestApp(make_app(**{'pyramid.includes': 'tests.probe_views'}))
    page = app.get('/_probe/mail-then-fail', status=500)
    assert 'Something went wrong' in page
    assert app.get('/_dev/outbox.json').json == {'messages': []}


def test_deform_validation_message_in_arabic(make_app):
    app = webtest.TestApp(make_app(**{'pyramid.includes': 'tests.probe_views'}))
    page = app.get('/_probe/form', {'age': ''}, headers={'Accept-Language': 'ar'})
    assert 'مطلوب' in page.text
    page = app.get('/_probe/form', {'age': 'abc'}, headers={'Accept-Language': 'ar'})
    assert '«abc»' in page.text
    page = app.get('/_probe/form', {'age': ''}, headers={'Accept-Language': 'en'})
    assert 'Required' in page.text


def test_every_post_needs_the_csrf_token(make_app):
    app = webtest.TestApp(make_app(**{'pyramid.includes': 'tests.probe_views'}))
    token = app.get('/_probe/post').text
    app.post('/_probe/post', {}, status=400)
    app.post('/_probe/post', {'csrf_token': 'forged'}, status=400)
    assert app.post('/_probe/post', {'csrf_token': token}).text == 'accepted'


def test_real_smtp_delivery_through_aiosmtpd(tmp_path, make_app, unused_port):
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return '250 OK'

    controller = Controller(Handler(), hostname='127.0.0.1', port=unused_port)
    controller.start()
    try:
        app = webtest.TestApp(
            make_app(
                **{
                    'pyramid.includes': 'tests.probe_views',
                    'occi.mail': 'smtp',
                    'mail.host': '127.0.0.1',
                    'mail.port': str(unused_port),
                }
            )
        )
        app.get('/_probe/mail')
        app.get('/_probe/mail-then-fail', status=500)
    finally:
        controller.stop()
    assert len(received) == 1
    assert received[0].rcpt_tos == ['someone@example.om']
    message = email.message_from_bytes(received[0].content)
    assert message.get_payload(decode=True).strip() == b'Committed mail.'


def test_the_databases_keep_no_activity_monitor(app):
    # pyramid_zodbconn installs one, fed by every connection's close; nothing reads it.
    databases = database(app.app.registry).databases.values()
    assert len(databases) == 2
    assert all(db.getActivityMonitor() is None for db in databases)
