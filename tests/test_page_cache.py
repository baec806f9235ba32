"""Pages kept rendered for visitors without a session, renewed by what the database says."""

import hashlib
from datetime import UTC, date, datetime, time

import pytest
import transaction
from pyramid_jinja2 import Jinja2TemplateRenderer

from occi_site.clock import OMAN
from occi_site.resources import database
from occi_site.resources.certificate import issue_certificate
from occi_site.resources.content import NewsItem, Page
from occi_site.views.verify import LOOKUPS_PER_IP_HOUR
from tests.conftest import add_content, edit, login, read, visitor

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
    for _ in range(LOOKUPS_PER_IP_HOUR):
        app.get('/verify/%s/%s' % (serial, wrong), status=404)
    assert renders.count('verify.jinja2') == 1 + LOOKUPS_PER_IP_HOUR
    page = app.get('/verify/%s/%s' % (serial, code), status=429)
    assert 'Too many attempts' in page and 'promising projects' not in page
    other = {'REMOTE_ADDR': '192.0.2.7'}
    assert 'promising projects' in app.get('/verify/%s/%s' % (serial, code), extra_environ=other)
