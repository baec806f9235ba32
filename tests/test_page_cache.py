"""Pages kept rendered, for visitors without a session and for members,
renewed by what the database says."""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import transaction
import webtest
from persistent.mapping import PersistentMapping
from pyramid.authorization import ACLHelper, Allow, Everyone
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.response import Response
from pyramid.urldispatch import RoutesMapper
from pyramid_jinja2 import Jinja2TemplateRenderer
from pyramid_zodbconn import get_connection

from occi_site.clock import OMAN
from occi_site.i18n import _
from occi_site.page_cache import MemberPage, Unkept, fingerprint
from occi_site.resources import ROOT_KEY, database
from occi_site.resources.certificate import issue_certificate
from occi_site.resources.company import Membership
from occi_site.resources.content import NewsItem, Page
from occi_site.resources.services import Quote
from occi_site.sessions import COOKIE_NAME
from occi_site.views.verify import LOOKUPS_PER_IP_HOUR
from tests.conftest import (
    add_account,
    add_content,
    cells,
    edit,
    login,
    read,
    script_request,
    visitor,
)
from tests.test_security_headers import assert_protected

WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def renders(monkeypatch):
    """The templates rendered since the test began."""
    rendered = []
    original = Jinja2TemplateRenderer.__call__

    def render(renderer, value, system):
        rendered.append(system['renderer_name'])
        return original(renderer, value, system)

    monkeypatch.setattr(Jinja2TemplateRenderer, '__call__', render)
    return rendered


def publish_news(portal):
    add_content(
        portal,
        ['content'],
        'office',
        NewsItem,
        state='published',
        title_en='New office in Sohar',
        title_ar='مكتب جديد في صحار',
        publication_date=date(2026, 3, 1),
    )


def news_titles(page):
    return [h.text.strip() for h in page.html.select('.news-item h3')]


def test_home_page_is_rendered_once_per_language_until_the_content_changes(portal, renders):
    publish_news(portal)
    first = visitor(portal, 'en').get('/')
    assert visitor(portal, 'en').get('/').text == first.text
    arabic = visitor(portal, 'ar').get('/')
    assert news_titles(arabic) == ['مكتب جديد في صحار']
    assert visitor(portal, 'ar').get('/').text == arabic.text
    assert renders == ['home.jinja2', 'home.jinja2']

    edit(portal, lambda site: site['content']['office'].update(title_en='Office in Sohar'))
    assert news_titles(visitor(portal, 'en').get('/')) == ['Office in Sohar']
    edit(portal, lambda site: site['content']['office'].transition('retract', 'x', WHEN))
    assert news_titles(visitor(portal, 'en').get('/')) == []
    add_content(portal, ['content'], 'about', Page, state='published', title_en='About us')
    menu = visitor(portal, 'en').get('/').html.find('nav', class_='content-menu')
    assert [a.text for a in menu.find_all('a')] == ['About us']
    edit(portal, lambda site: site['content'].remove('about'))
    assert visitor(portal, 'en').get('/').html.find('nav', class_='content-menu') is None


def test_a_kept_page_is_served_before_routing_and_traversal(portal, monkeypatch):
    matched = []
    original = RoutesMapper.__call__

    def match(mapper, request):
        matched.append(request.path_info)
        return original(mapper, request)

    monkeypatch.setattr(RoutesMapper, '__call__', match)
    serial, code = issue_for(portal)
    for path in ('/', '/verify/%s/%s' % (serial, code)):
        first = visitor(portal).get(path)
        kept = visitor(portal).get(path)
        assert kept.text == first.text
        assert_protected(kept)
    assert matched == ['/', '/verify/%s/%s' % (serial, code)]
    # A member's page too, once its view gives what it gave (the view runs, its template does not).
    member = login(portal, '90000001')
    first = member.get('/dashboard')
    kept = member.get('/dashboard')
    assert kept.text == first.text
    assert_protected(kept)
    assert matched[2:] == ['/_probe/login/90000001', '/dashboard']


def test_a_member_page_whose_serving_fails_is_handled_as_usual(
    portal, monkeypatch, renders, caplog
):
    member = login(portal, '90000001')
    first = member.get('/dashboard')

    def fail(page, context, request):
        raise RuntimeError('a kept page that cannot be served')

    monkeypatch.setattr(MemberPage, 'still_shown', fail)
    assert member.get('/dashboard').text == first.text
    assert member.get('/dashboard').text == first.text
    # Found kept by the view pipeline, which does not render it again.
    assert renders == ['dashboard.jinja2']
    # A lasting failure is told once, with where it happened.
    [told] = [r for r in caplog.records if 'a kept page could not be served' in r.getMessage()]
    assert told.exc_info[1].args == ('a kept page that cannot be served',)


class Folder(PersistentMapping):
    __name__ = __parent__ = None

    def add(self, name, child):
        child.__name__, child.__parent__ = name, self
        self[name] = child


@pytest.fixture
def kept_pages_app(request):
    """``kept_pages_app(revisions)``: a small application of the portal's kept
    pages, on a database of its own, closed after the test:
    ``revisions[name]`` is the revision of the page at ``/name``, its context
    the root's child ``name``; the route ``/items/{item}`` keeps its page by
    ``revisions[item]``."""

    def make(revisions):
        app, rendered, change, db = small_app(revisions)
        request.addfinalizer(db.close)
        return app, rendered, change

    return make


def small_app(revisions):
    rendered = []

    def page(context, request):
        rendered.append(request.path_info)
        return Response('page %s' % len(rendered))

    def by_name(context, request):
        return revisions.get(context.__name__)

    def by_item(context, request):
        return revisions.get(request.matchdict['item'])

    settings = {'zodbconn.uri': 'memory://', 'tm.manager_hook': 'pyramid_tm.explicit_manager'}
    with Configurator(settings=settings) as config:
        config.include('pyramid_zodbconn')
        config.include('pyramid_tm')
        config.include('occi_site.headers')
        config.include('occi_site.page_cache')
        config.set_root_factory(lambda request: get_connection(request).root()[ROOT_KEY])
        config.set_security_policy(AclSecurityPolicy())
        config.add_view(page, context=Folder, permission='view', anonymous_cache=by_name)
        config.add_route('item', '/items/{item}')
        config.add_view(page, route_name='item', anonymous_cache=by_item)
        db = database(config.registry)
        connection = db.open()
        with transaction.manager:
            connection.root()[ROOT_KEY] = root = Folder()
            root.add('news', Folder())
            root['news'].__acl__ = [(Allow, Everyone, 'view')]
        connection.close()
        app = config.make_wsgi_app()

    def change(how):
        connection = db.open()
        try:
            with transaction.manager:
                how(connection.root()[ROOT_KEY])
        finally:
            connection.close()

    return webtest.TestApp(app), rendered, change, db


class AclSecurityPolicy:
    def identity(self, request):
        return None

    def authenticated_userid(self, request):
        return None

    def permits(self, request, context, permission):
        return ACLHelper().permits(context, [Everyone], permission)


def test_a_kept_page_is_served_only_where_its_context_permission_and_revision_hold(
    kept_pages_app,
):
    revisions = {'news': 1, 'a': 1}
    app, rendered, change = kept_pages_app(revisions)
    assert app.get('/news').text == 'page 1'
    assert app.get('/news').text == 'page 1'
    revisions['news'] = 2
    assert app.get('/news').text == 'page 2'

    # The permission is checked again: a page no longer allowed is refused.
    def refuse(root):
        root['news'].__acl__ = []

    change(refuse)
    app.get('/news', status=403)

    def allow(root):
        root['news'].__acl__ = [(Allow, Everyone, 'view')]

    change(allow)
    assert app.get('/news').text == 'page 2'

    # Its context gone, the address is traversed again.
    def remove(root):
        del root['news']

    change(remove)
    app.get('/news', status=404)
    # A route's page is checked with the matchdict it was kept with.
    assert app.get('/items/a').text == 'page 3'
    assert app.get('/items/a').text == 'page 3'
    assert app.get('/items/b').text == 'page 4'
    revisions['a'] = 2
    assert app.get('/items/a').text == 'page 5'
    # Requests with a session, and other methods, are never answered from kept pages.
    app.set_cookie(COOKIE_NAME, 'x')
    assert app.get('/items/a').text == 'page 6'
    app.reset()
    app.post('/items/a')
    assert rendered[-1] == '/items/a' and len(rendered) == 7


class Unreadable:
    def __eq__(self, other):
        raise RuntimeError('a revision that cannot be compared')

    __ne__ = __eq__


def test_a_kept_page_that_fails_to_be_served_is_handled_as_usual(kept_pages_app):
    revisions = {'a': Unreadable()}
    app, rendered, _change = kept_pages_app(revisions)
    assert app.get('/items/a').text == 'page 1'
    assert app.get('/items/a').text == 'page 2'
    assert rendered == ['/items/a', '/items/a']


def test_an_undone_change_is_seen_on_the_home_page(portal):
    publish_news(portal)
    assert news_titles(visitor(portal).get('/')) == ['New office in Sohar']
    db = database(portal.registry)
    with transaction.manager:
        db.undo(db.undoLog(0, 1)[0]['id'])
    assert news_titles(visitor(portal).get('/')) == []


def test_people_with_a_session_get_their_own_page(portal, renders):
    visitor(portal).get('/')
    member = login(portal, '90000001')
    page = member.get('/')
    assert 'Log out' in page and 'Log in with PKI' not in page
    assert renders.count('home.jinja2') == 2


def issue_for(wsgi, cr='1229237'):
    def change(site):
        certificate = issue_certificate(site, site['companies'][cr], date(2026, 3, 1))
        return certificate.serial, certificate.verification_code

    return edit(wsgi, change)


def verdict(page):
    return page.html.find('p', class_='verdict').text.strip()


def test_a_genuine_certificate_is_rendered_once_until_what_it_shows_changes(portal, renders, clock):
    serial, code = issue_for(portal)
    path = '/verify/%s/%s' % (serial, code)
    first = visitor(portal, 'en').get(path)
    assert verdict(first) == 'This certificate is valid.'
    assert visitor(portal, 'en').get(path).text == first.text
    arabic = visitor(portal, 'ar').get(path)
    assert visitor(portal, 'ar').get(path).text == arabic.text
    assert renders == ['verify.jinja2', 'verify.jinja2']

    # Its PDF issued (by any app server): the page shows its fingerprint at once.
    pdf = b'%PDF-1.7 the certificate'
    edit(portal, lambda site: site['documents'].add('certificate', serial, pdf, WHEN))
    assert hashlib.sha256(pdf).hexdigest() in visitor(portal, 'en').get(path)
    # A new certificate for the company supersedes it.
    issue_for(portal)
    assert 'replaced by a newer one' in verdict(visitor(portal, 'en').get(path))
    # The content's menu is on the page too.
    add_content(portal, ['content'], 'about', Page, state='published', title_en='About us')
    menu = visitor(portal, 'en').get(path).html.find('nav', class_='content-menu')
    assert [a.text for a in menu.find_all('a')] == ['About us']


def test_a_kept_certificate_page_expires_with_the_certificate(portal, clock):
    serial, code = issue_for(portal)
    path = '/verify/%s/%s' % (serial, code)
    expires_on = read(portal, lambda site: site['certificates'][serial].expires_on)
    clock.now = datetime.combine(expires_on, time(12), tzinfo=OMAN)
    assert verdict(visitor(portal).get(path)) == 'This certificate is valid.'
    clock.advance(days=1)
    assert verdict(visitor(portal).get(path)) == 'This certificate has expired.'


def test_failed_lookups_are_never_kept_and_count_against_a_kept_page(portal, renders):
    serial, code = issue_for(portal)
    wrong = ('A' if code[0] != 'A' else 'B') + code[1:]
    app = visitor(portal)
    app.get('/verify/%s/%s' % (serial, code))
    for _lookup in range(LOOKUPS_PER_IP_HOUR):
        app.get('/verify/%s/%s' % (serial, wrong), status=404)
    assert renders.count('verify.jinja2') == 1 + LOOKUPS_PER_IP_HOUR
    page = app.get('/verify/%s/%s' % (serial, code), status=429)
    assert 'Too many attempts' in page and 'promising projects' not in page
    other = {'REMOTE_ADDR': '192.0.2.7'}
    assert 'promising projects' in app.get('/verify/%s/%s' % (serial, code), extra_environ=other)


# -- a member's pages ------------------------------------------------------


def expiry_cell(page, cr='1229237'):
    row = next(row for row in page.html.find('tbody').find_all('tr') if row.td.text == cr)
    return row.find_all('td')[4].text


def test_a_members_dashboard_is_rendered_once_until_what_it_shows_changes(portal, renders, clock):
    # 23:50 in Muscat.
    clock.now = datetime(2026, 3, 1, 19, 50, tzinfo=UTC)
    member = login(portal, '90000001')
    first = member.get('/dashboard')
    assert member.get('/dashboard').text == first.text
    assert renders == ['dashboard.jinja2']

    def expire_today(site):
        site['companies']['1229237'].membership.expires_on = date(2026, 3, 1)

    edit(portal, expire_today)
    page = member.get('/dashboard')
    assert expiry_cell(page) == '2026-03-01' and 'Expires within 30 days' in page
    assert len(renders) == 2
    # Past midnight, the same membership has expired.
    clock.now += timedelta(minutes=15)
    assert member.get('/dashboard').html.find(class_='expired') is not None
    assert len(renders) == 3


def test_each_member_and_language_has_a_page_of_their_own(portal, renders):
    ali = login(portal, '90000001')
    assert 'Welcome, Test Person' in ali.get('/dashboard')
    edit(portal, lambda site: add_account(site, '90000002', full_name='Another Person'))
    other = visitor(portal)
    other.get('/_probe/login/90000002')
    page = other.get('/dashboard')
    assert 'Welcome, Another Person' in page and '1229237' not in page
    arabic = ali.get('/dashboard', headers={'Accept-Language': 'ar'})
    assert arabic.html.html['dir'] == 'rtl'
    # A new session, a new CSRF token in the page's forms.
    again = visitor(portal)
    again.get('/_probe/login/90000001')
    token = again.get('/dashboard').html.find('input', attrs={'name': 'csrf_token'})['value']
    assert token == again.get('/_probe/post').text
    assert len(renders) == 4


def test_a_message_to_flash_is_shown_once_over_a_kept_page(portal, renders):
    member = login(portal, '90000001')
    member.get('/dashboard')
    member.get('/_probe/flash', {'message': 'Your e-mail address was changed.'})
    assert 'Your e-mail address was changed.' in member.get('/dashboard')
    assert 'Your e-mail address was changed.' not in member.get('/dashboard')


def test_a_page_rendered_another_way_for_one_request_is_not_served_from_the_kept_one(portal):
    member = login(portal, '90000001')
    assert member.get('/_probe/kept').json == {'civil_id': '90000001'}
    as_text = member.get('/_probe/kept', headers={'X-Probe-As-Text': '1'})
    assert as_text.content_type == 'text/plain'
    assert as_text.text == str({'civil_id': '90000001'})
    accepted = member.get('/_probe/kept', headers={'X-Probe-Accepted': '1'}, status=202)
    assert accepted.json == {'civil_id': '90000001'}


def test_a_member_page_whose_session_use_is_to_be_noted_runs_its_view_once(
    portal, clock, monkeypatch
):
    from occi_site.views import dashboard

    rows = []
    original = dashboard.company_rows
    monkeypatch.setattr(dashboard, 'company_rows', lambda *args: rows.append(1) or original(*args))
    member = login(portal, '90000001')
    first = member.get('/dashboard')
    assert member.get('/dashboard').text == first.text and len(rows) == 2
    clock.advance(minutes=2)
    # The session's use is written by the usual path, without a first try of the view.
    assert member.get('/dashboard').text == first.text and len(rows) == 3


def test_a_member_page_served_without_the_view_pipeline_refuses_what_it_would_skip():
    def page(request):
        return {}

    for option in ({'http_cache': 60}, {'decorator': lambda view: view}, {'wrapper': 'outer'}):
        with Configurator(settings={}) as config:
            config.include('occi_site.page_cache')
            config.add_view(page, name='kept', renderer='json', member_cache=True, **option)
            with pytest.raises(ConfigurationError, match='without the view pipeline'):
                config.commit()


def test_an_administrators_listing_and_search_are_kept_until_what_they_show_changes(
    portal, renders
):
    admin = login(portal, '90000009', roles=('admin',))

    def listed_names(page):
        return [row.find_all('td')[1].text for row in page.html.select('.manage-table tbody tr')]

    listing = admin.get('/companies/@@manage-contents')
    assert admin.get('/companies/@@manage-contents').text == listing.text
    search = admin.get('/companies/@@manage-search').forms['search']
    search['text'] = 'promising'
    found = search.submit('search')
    assert admin.get(found.request.url).text == found.text
    # The listing once, the empty search form once, its answer once.
    assert renders == [
        'manage/contents.jinja2',
        'manage/companies.jinja2',
        'manage/companies.jinja2',
    ]

    def rename(site):
        company = site['companies']['1229237']
        site['companies'].rename(company, 'Promising Projects Renamed LLC', company.name_ar)

    edit(portal, rename)
    assert 'Promising Projects Renamed LLC' in listed_names(
        admin.get('/companies/@@manage-contents')
    )
    assert 'Promising Projects Renamed LLC' in admin.get(found.request.url)
    assert len(renders) == 5


def found_expiry(admin, text='promising', cr='1229237'):
    search = admin.get('/companies/@@manage-search').forms['search']
    search['text'] = text
    page = search.submit('search')
    row = next(row for row in page.html.select('.manage-table tbody tr') if cr in row.text)
    return row.find_all('td')[-1].text.strip()


def test_search_results_are_worked_out_again_after_a_change_to_what_they_list(portal, monkeypatch):
    from occi_site.views.manage import companies as view

    searches = []
    original = view.find_companies
    monkeypatch.setattr(
        view, 'find_companies', lambda *args: searches.append(args[1]) or original(*args)
    )
    admin = login(portal, '90000009', roles=('admin',))
    before = found_expiry(admin)
    assert found_expiry(admin) == before and searches == ['promising']

    def renew(site):
        companies = site['companies']
        companies.change_membership(
            companies['1229237'], WHEN, script_request(portal.registry), expires_on=date(2031, 5, 6)
        )

    edit(portal, renew)
    assert found_expiry(admin) == '2031-05-06' and len(searches) == 2
    # Undone, the change is seen too: the revision is the counter's last
    # transaction, not its value.
    db = database(portal.registry)
    with transaction.manager:
        db.undo(db.undoLog(0, 1)[0]['id'])
    assert found_expiry(admin) == before and len(searches) == 3
    # Another language, other rows.
    arabic = found_expiry(login(portal, '90000010', roles=('admin',), lang='ar'))
    assert len(searches) == 4 and arabic


def at_step_3(portal, member, service, now):
    """The address of the member's request for ``service``, verified at ``now``."""
    page = member.get('/services/%s' % service)
    form = page.forms['deform']
    form['cr_number'], form['occi_number'] = '1229237', '91868'
    url = form.submit('next').location

    def verify(site):
        service_request = site['requests'][url.rstrip('/').rsplit('/', 1)[1]]
        service_request.record_step_up(
            'assertion-1', now, 'card', now, script_request(portal.registry)
        )

    edit(portal, verify)
    return url


def test_a_request_at_step_3_is_kept_until_its_verification_is_stale(portal, renders, clock):
    member = login(portal, '90000001')
    url = at_step_3(portal, member, 'renewal', clock.now)
    step_3 = member.get(url)
    assert 'Renew Membership' in step_3
    assert member.get(url).text == step_3.text
    assert 'RO 50' in cells(member.get(url, {'years': '2'}).html)
    assert renders.count('wizard/request.jinja2') == 2
    clock.now = clock.now + timedelta(minutes=11)
    assert 'older than 10 minutes' in member.get(url)


def test_a_records_fingerprint_follows_the_records_it_holds(portal):
    def company(site):
        return fingerprint(site['companies']['1229237'])

    before = read(portal, company)

    def extend(site):
        site['companies']['1229237'].membership.expires_on = date(2031, 1, 1)

    # The company record is unchanged; the membership it holds is a record of its own.
    edit(portal, extend)
    assert read(portal, company) != before


def test_fingerprints_tell_apart_what_prints_differently():
    assert fingerprint((1, 'a')) == fingerprint((1, 'a'))
    assert len({fingerprint(value) for value in (1, 1.0, True, Decimal(1))}) == 4
    assert fingerprint(_('Fee ${n}', mapping={'n': 1})) != fingerprint(
        _('Fee ${n}', mapping={'n': 2})
    )
    assert fingerprint(Quote('renewal', ((_('Fees'), 25_000),))) != fingerprint(
        Quote('renewal', ((_('Fees'), 50_000),))
    )
    # Text and None inside containers and dataclasses, which are told apart inline.
    assert fingerprint({'a': None}) != fingerprint({'a': 'None'})
    assert fingerprint([None, 'x']) != fingerprint(['None', 'x'])
    assert fingerprint(Link(None, 1)) != fingerprint(Link('None', 1))


@dataclass(frozen=True)
class Link:
    href: str
    resource: object = field(compare=False)


def test_a_values_fingerprint_leaves_out_what_it_is_not_compared_by():
    assert fingerprint(Link('/a', object())) == fingerprint(Link('/a', object()))
    assert fingerprint(Link('/a', None)) != fingerprint(Link('/b', None))
    # Classes are values of their own (a management tab names the class it is for).
    assert fingerprint([Page, NewsItem]) == fingerprint([Page, NewsItem]) != fingerprint([Page])


def test_values_without_a_fingerprint_are_never_kept(portal):
    with pytest.raises(Unkept):
        fingerprint({'anything': object()})
    with pytest.raises(Unkept):
        fingerprint([ValueError('refused')])

    def changed_in_this_transaction(site):
        company = site['companies']['1229237']
        before = fingerprint(company)
        company.email = 'new@example.om'
        with pytest.raises(Unkept):
            fingerprint(company)
        with pytest.raises(Unkept):
            fingerprint(Membership('1', 'First', date(2027, 1, 1)))
        return before

    before = edit(portal, changed_in_this_transaction)
    assert read(portal, lambda site: fingerprint(site['companies']['1229237'])) != before
