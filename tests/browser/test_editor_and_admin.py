"""The chamber's own people, in English and in Arabic: an editor publishes a
bilingual news item that visitors then read on the home page in either
language, and an administrator finds a company in /manage by its Arabic name."""

import pytest
from playwright.sync_api import expect

from .steps import login_with_card

pytestmark = pytest.mark.browser

EDITOR = '90000008'
ADMIN = '90000009'
NEWS = {
    'en': ('Chamber opens a Sohar office', 'Members in Al Batinah are served nearby.'),
    'ar': ('الغرفة تفتتح مكتبا في صحار', 'يخدم المكتب الأعضاء في الباطنة عن قرب.'),
}
# The add form's fields for each language of the item: title, summary, text.
NEWS_FIELDS = {
    'en': ('Title (English)', 'Summary (English)', 'body_en'),
    'ar': ('Title (Arabic)', 'Summary (Arabic)', 'body_ar'),
}


@pytest.fixture(scope='module', autouse=True)
def registered(members):
    """The settings' initial roles make them editor and admin as they register."""
    members.register(EDITOR, ADMIN)


def open_management(journey, tile):
    """/manage, then one of the Chamber tab's tiles."""
    page = journey.page
    page.goto('/manage')
    journey.snap('manage-chamber')
    page.get_by_role('link', name=journey._(tile), exact=True).click()


def grant_publisher_on_content(journeys):
    """Out of the box editors submit for review; the admin lets this one publish news."""
    journey = journeys.open('admin-grants-publisher')
    page, _ = journey.page, journey._
    login_with_card(journey, ADMIN)
    open_management(journey, 'Content')
    page.get_by_role('link', name=_('Security'), exact=True).click()
    page.get_by_label(_('Civil ID')).fill(EDITOR)
    page.get_by_label(_('Role')).select_option('publisher')
    journey.snap('content-security')
    page.get_by_role('button', name=_('Grant')).click()
    expect(page.locator('table.manage-table')).to_contain_text(EDITOR)
    journey.snap('publisher-granted')


def write_rich_text(page, field, text):
    """Type into the rich text editor that stands in for the field's textarea,
    once TinyMCE has made its frame's body the editor (it creates the frame
    first: what is typed into the blank frame before is lost)."""
    page.frame_locator('.item-%s iframe' % field).locator('body.mce-content-body').fill(text)


def test_editor_publishes_bilingual_news(journeys):
    grant_publisher_on_content(journeys)
    journey = journeys.open('editor-news')
    page, _ = journey.page, journey._
    login_with_card(journey, EDITOR)
    # Nothing on the portal links an editor to the content area: the address is typed.
    page.goto('/content/manage')
    journey.snap('content')
    page.get_by_role('link', name=_('Add ${type}', type=_('News item'))).click()
    for language, (title_label, summary_label, body) in NEWS_FIELDS.items():
        title, text = NEWS[language]
        page.get_by_label(_(title_label)).fill(title)
        page.get_by_label(_(summary_label)).fill(text)
        write_rich_text(page, body, text)
    journey.snap('add-news-item')
    page.get_by_role('button', name=_('Add'), exact=True).click()
    page.get_by_role('link', name=_('Workflow'), exact=True).click()
    journey.snap('workflow')
    page.get_by_role('button', name=_('Publish'), exact=True).click()
    expect(page.locator('.manage-state strong')).to_have_text(_('Published'))
    journey.snap('published')
    for language in ('en', 'ar'):
        visitor = journeys.open('news-on-home-page', language=language)
        visitor.page.goto('/')
        visitor.speak()
        news = visitor.page.locator('section.news')
        expect(news.get_by_role('heading', level=3)).to_have_text(NEWS[language][0])
        expect(news).to_contain_text(NEWS[language][1])
        visitor.snap('home-with-news')
        news.get_by_role('link', name=NEWS[language][0]).click()
        expect(visitor.page.locator('.content-body')).to_contain_text(NEWS[language][1])
        visitor.snap('news-item')


def test_admin_finds_a_company_by_its_arabic_name(journeys):
    journey = journeys.open('admin-find-company')
    page, _ = journey.page, journey._
    login_with_card(journey, ADMIN)
    open_management(journey, 'Companies and memberships')
    page.get_by_label(_('CR number, OCCI number or name')).fill('المشاريع الواعدة')
    page.get_by_role('button', name=_('Find'), exact=True).click()
    rows = page.locator('table.manage-table tbody tr')
    expect(rows).to_have_count(1)
    expect(rows.locator('td').first).to_have_text('1229237')
    journey.snap('companies-found')
    rows.get_by_role('link', name='1229237').click()
    expect(page.locator('main')).to_contain_text('promising projects')
    journey.snap('company')
