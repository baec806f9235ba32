"""Sessions that nobody can take over: the cookie names a session record kept in
the database, which logout, a lock or a role change end everywhere, and which
idles out and ages out on the portal's clock."""

from datetime import UTC, datetime, timedelta

import transaction
from pyramid.session import JSONSerializer
from webob.cookies import SignedSerializer

import occi_site
from occi_site.resources import database
from occi_site.resources.sessions import session_store

from .conftest import add_account, edit, login, portal_settings, read, visitor


def last_transaction(wsgi):
    """The latest transaction of each database: the tree's and the sessions'."""
    databases = database(wsgi.registry).databases
    return {name: db.lastTransaction() for name, db in databases.items()}


def in_sessions(wsgi, look):
    """``look(store)`` on the committed session store."""
    return read(wsgi, lambda site: look(session_store(site._p_jar)))


def test_an_anonymous_visit_writes_nothing_and_sets_no_cookie(portal):
    browser = visitor(portal)
    browser.get('/')
    before = last_transaction(portal)
    page = browser.get('/')
    assert 'Set-Cookie' not in page.headers
    assert browser.get('/contact').status_int == 200
    assert last_transaction(portal) == before


def test_the_session_starts_when_something_is_stored(portal):
    browser = visitor(portal)
    page = browser.get('/register')
    token = browser.cookies['occi_session']
    assert 'occi_session=%s' % token in page.headers['Set-Cookie']
    assert 'HttpOnly' in page.headers['Set-Cookie']
    assert 'SameSite=Lax' in page.headers['Set-Cookie']
    # The cookie holds only a random key: nothing readable, nothing signed.
    assert len(token) >= 40 and '.' not in token
    assert in_sessions(portal, lambda store: len(store.by_key)) == 1


def test_a_cookie_copied_before_logout_is_refused_after_it(portal):
    member = login(portal, '90000001')
    copied = member.cookies['occi_session']
    page = member.get('/dashboard')
    page.forms[0].submit().follow()
    member.get('/dashboard', status=403)
    thief = visitor(portal)
    thief.set_cookie('occi_session', copied)
    page = thief.get('/dashboard', status=403)
    assert 'Log in with PKI' in page


def test_a_cookie_minted_with_the_session_secret_logs_in_nobody(portal):
    edit(portal, lambda site: add_account(site, '90000009', roles=('member', 'admin')))
    secret = portal.registry.settings['occi.session.secret']
    serializer = SignedSerializer(secret, 'pyramid.session.', 'sha512', JSONSerializer())
    now = int(datetime.now(UTC).timestamp())
    minted = serializer.dumps((now, now, {'civil_id': '90000009'})).decode('ascii')
    forger = visitor(portal)
    forger.set_cookie('occi_session', minted)
    forger.get('/manage', status=403)
    forger.get('/dashboard', status=403)


def test_an_idle_session_ends_after_the_idle_timeout(portal, clock):
    member = login(portal, '90000001')
    clock.advance(minutes=29)
    assert member.get('/dashboard').status_int == 200
    clock.advance(minutes=29)
    assert member.get('/dashboard').status_int == 200
    clock.advance(minutes=31)
    member.get('/dashboard', status=403)


def test_a_session_in_use_ends_at_its_absolute_lifetime(portal, clock):
    member = login(portal, '90000001')
    for _step in range(35):
        clock.advance(minutes=20)
        assert member.get('/dashboard').status_int == 200
    clock.advance(minutes=20)
    member.get('/dashboard', status=403)


def test_timeouts_come_from_the_settings(make_app, clock):
    wsgi = make_app(
        **{
            'pyramid.includes': 'tests.probe_views',
            'occi.session.idle_timeout': '300',
            'occi.session.lifetime': '900',
        }
    )
    member = login(wsgi, '90000001')
    clock.advance(minutes=4)
    assert member.get('/dashboard').status_int == 200
    clock.advance(minutes=6)
    member.get('/dashboard', status=403)
    member = login(wsgi, '90000002')
    for _step in range(3):
        clock.advance(minutes=4)
        assert member.get('/dashboard').status_int == 200
    clock.advance(minutes=4)
    member.get('/dashboard', status=403)


def test_last_seen_is_written_at_most_about_once_a_minute(portal, clock):
    member = login(portal, '90000001')
    member.get('/dashboard')
    before = last_transaction(portal)
    clock.advance(seconds=20)
    member.get('/dashboard')
    clock.advance(seconds=20)
    member.get('/dashboard')
    assert last_transaction(portal) == before
    clock.advance(seconds=30)
    member.get('/dashboard')
    assert last_transaction(portal) != before


def test_concurrent_last_seen_updates_keep_the_later_time(tmp_path):
    # Conflict resolution needs a storage that keeps old revisions: FileStorage.
    portal = occi_site.main(
        {},
        **portal_settings(
            tmp_path,
            **{
                'zodbconn.uri.sessions': 'file://%s' % (tmp_path / 'Sessions.fs'),
                'pyramid.includes': 'tests.probe_views',
            },
        ),
    )
    login(portal, '90000001')
    key = in_sessions(portal, lambda store: store.keys_of('90000001')[0])
    db = database(portal.registry)
    first_tm, second_tm = transaction.TransactionManager(), transaction.TransactionManager()
    first, second = db.open(transaction_manager=first_tm), db.open(transaction_manager=second_tm)
    try:
        now = datetime.now(UTC)
        later = now + timedelta(minutes=5)
        session_store(first).get(key).activity.seen(later)
        session_store(second).get(key).activity.seen(now + timedelta(minutes=2))
        first_tm.commit()
        second_tm.commit()
    finally:
        first.close()
        second.close()
    assert in_sessions(portal, lambda store: store.get(key).last_seen) == later


def test_locking_an_account_ends_its_sessions_for_good(portal):
    member = login(portal, '90000001')
    assert member.get('/dashboard').status_int == 200

    def set_state(state):
        def change(site):
            site['accounts']['90000001'].state = state

        return change

    edit(portal, set_state('locked'))
    member.get('/dashboard', status=403)
    edit(portal, set_state('active'))
    member.get('/dashboard', status=403)


def test_a_role_change_ends_the_sessions_of_that_account(portal):
    editor = login(portal, '90000008', roles=('member', 'editor'))
    assert editor.get('/dashboard').status_int == 200
    edit(portal, lambda site: site['accounts']['90000008'].revoke('editor'))
    editor.get('/dashboard', status=403)


def test_login_starts_a_new_session_with_a_new_key(portal):
    browser = visitor(portal)
    browser.get('/register')
    before = browser.cookies['occi_session']
    edit(portal, lambda site: add_account(site, '90000001'))
    browser.get('/_probe/login/90000001')
    assert browser.cookies['occi_session'] != before
    planted = visitor(portal)
    planted.set_cookie('occi_session', before)
    planted.get('/dashboard', status=403)


def test_the_sessions_page_lists_the_members_sessions(portal, clock):
    first = login(portal, '90000001')
    clock.advance(minutes=5)
    second = visitor(portal)
    second.extra_environ['HTTP_USER_AGENT'] = (
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 '
        '(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
    )
    second.get('/_probe/login/90000001')
    other = login(portal, '90000002')
    page = first.get('/account/sessions')
    rows = page.html.select('table.sessions tbody tr')
    assert len(rows) == 2
    assert 'Mobile Safari on iOS' in page.text
    assert 'This browser' in page.text
    assert len(other.get('/account/sessions').html.select('table.sessions tbody tr')) == 1


def test_a_member_ends_another_session(portal):
    first = login(portal, '90000001')
    second = visitor(portal)
    second.get('/_probe/login/90000001')
    page = first.get('/account/sessions')
    form = next(form for form in page.forms.values() if 'end' in form.fields)
    done = form.submit().follow()
    assert 'The other session has ended.' in done
    assert len(done.html.select('table.sessions tbody tr')) == 1
    second.get('/dashboard', status=403)
    assert first.get('/dashboard').status_int == 200


def test_a_member_ends_every_other_session(portal):
    first = login(portal, '90000001')
    others = []
    for _count in range(2):
        other = visitor(portal)
        other.get('/_probe/login/90000001')
        others.append(other)
    page = first.get('/account/sessions')
    page.forms['end-others'].submit('end_others').follow()
    for other in others:
        other.get('/dashboard', status=403)
    assert first.get('/dashboard').status_int == 200


def test_nobody_ends_a_session_of_someone_else(portal):
    victim = login(portal, '90000001')
    attacker = login(portal, '90000002')
    key = in_sessions(portal, lambda store: store.keys_of('90000001')[0])
    token = attacker.get('/_probe/post').text
    attacker.post('/account/sessions', {'end': key, 'csrf_token': token})
    assert victim.get('/dashboard').status_int == 200


def test_the_sessions_page_needs_a_login(portal):
    page = visitor(portal).get('/account/sessions', status=403)
    assert 'Log in with PKI' in page


def test_the_sessions_page_in_arabic(portal):
    member = login(portal, '90000001', lang='ar')
    page = member.get('/account/sessions')
    assert page.html.html['dir'] == 'rtl'
    assert 'هذا المتصفح' in page.text


def test_expired_sessions_are_pruned_through_the_expiry_index(portal, clock):
    for civil_id in ('90000001', '90000002', '90000003'):
        login(portal, civil_id)
    assert in_sessions(portal, lambda store: len(store.by_key)) == 3
    clock.advance(hours=13)
    login(portal, '90000004')
    assert in_sessions(portal, lambda store: len(store.by_key)) == 1


def test_a_session_started_on_one_app_server_is_known_to_the_next(tmp_path):
    """Sessions live in the database: a portal process started on the same
    database knows the session, its CSRF token and its identity."""
    settings = portal_settings(
        tmp_path,
        **{
            'zodbconn.uri': 'file://%s' % (tmp_path / 'Data.fs'),
            'zodbconn.uri.sessions': 'file://%s' % (tmp_path / 'Sessions.fs'),
            'pyramid.includes': 'tests.probe_views',
        },
    )
    one = occi_site.main({}, **settings)
    browser = login(one, '90000001')
    token = browser.get('/_probe/post').text
    cookie = browser.cookies['occi_session']
    for db in database(one.registry).databases.values():
        db.close()
    two = visitor(occi_site.main({}, **settings))
    two.set_cookie('occi_session', cookie)
    assert two.post('/_probe/post', {'csrf_token': token}).text == 'accepted'
    assert two.get('/dashboard').status_int == 200
