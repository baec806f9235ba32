"""Pages kept rendered for visitors without a session, renewed by what the database says."""

from datetime import UTC, date, datetime

import pytest
import transaction
from pyramid_jinja2 import Jinja2TemplateRenderer

from occi_site.resources import database
from occi_site.resources.content import NewsItem, Page
from tests.conftest import add_content, edit, login, visitor

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
