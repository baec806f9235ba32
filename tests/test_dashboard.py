"""The member's dashboard."""

from datetime import UTC, datetime

from .conftest import cells


def test_dashboard_needs_a_login(app):
    page = app.get('/dashboard', status=403)
    assert 'Please log in to continue.' in page


def test_dashboard_lists_services_and_the_members_companies(login_app, clock):
    app = login_app('90000001', full_name='Ali Said Al Jahdhami')
    clock.now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    # A new day, a new login: the session of the real time has aged out by then.
    app.get('/_probe/login/90000001')
    page = app.get('/dashboard')
    assert 'Welcome, Ali Said Al Jahdhami' in page
    for title in (
        'New Membership Registration',
        'Membership Renewal',
        'Get your Certificate',
        'Change Name',
        'Change Grade',
    ):
        assert title in page
    rows = {row.find('td').text: row for row in page.html.find('tbody').find_all('tr')}
    assert set(rows) == {'1229237', '1445820'}
    assert '91868' in cells(rows['1229237'])
    assert 'Expires within 30 days' in rows['1229237'].text
    assert 'Not a member' in rows['1445820'].text


def test_expired_membership_is_highlighted(login_app):
    app = login_app('90000002')
    page = app.get('/dashboard')
    rows = {row.find('td').text: row for row in page.html.find('tbody').find_all('tr')}
    assert rows['1279531'].find(class_='expired') is not None
    assert rows['1304464'].find(class_='expired') is None


def test_dashboard_in_arabic(login_app):
    app = login_app('90000001')
    page = app.get('/dashboard', headers={'Accept-Language': 'ar'})
    assert page.html.html['dir'] == 'rtl'
    assert 'لوحة الخدمات' in page.text
    assert 'المشاريع الواعدة' in page.text


def test_staff_find_their_way_to_the_management_views(login_app):
    member = login_app('90000001').get('/dashboard')
    assert member.html.find(class_='staff-links') is None
    editor = login_app('90000008', roles=('member', 'editor')).get('/dashboard')
    links = [a['href'] for a in editor.html.find(class_='staff-links').find_all('a')]
    assert links == ['http://localhost/content/manage']
    admin = login_app('90000009', roles=('member', 'admin'))
    links = [
        a['href'] for a in admin.get('/dashboard').html.find(class_='staff-links').find_all('a')
    ]
    assert links == [
        'http://localhost/content/manage',
        'http://localhost/manage',
        'http://localhost/@@manage-reports',
    ]
    for link in links:
        assert admin.get(link).maybe_follow().status_int == 200
    finance = login_app('90000007', roles=('member', 'finance')).get('/dashboard')
    links = [a['href'] for a in finance.html.find(class_='staff-links').find_all('a')]
    assert links == ['http://localhost/@@manage-reports']
