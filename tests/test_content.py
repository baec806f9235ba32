"""The chamber's content: sanitising, the workflow and who may move it, what
visitors see in which language, the news on the home page, the menu."""

import io
from datetime import UTC, date, datetime

import pytest
import webtest

from occi_site.resources.content import NewsItem, Page, sanitise_html
from occi_site.resources.publication import WorkflowError
from tests.conftest import add_content, edit, login, read, visitor

PNG = (
    b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00'
    b'\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N'
    b'\x00\x00\x00\x00IEND\xaeB`\x82'
)
WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_sanitiser_strips_scripts_handlers_and_javascript_links():
    dirty = (
        '<p onclick="steal()">Hi <b onmouseover=x()>there</b></p>'
        '<script>alert(1)</script><style>p{}</style>'
        '<a href="javascript:alert(2)">x</a><a href="https://occi.om/">ok</a>'
        '<img src=x onerror=alert(3)><iframe src="https://evil"></iframe>'
    )
    clean = sanitise_html(dirty)
    for bad in (
        'onclick',
        'onmouseover',
        'onerror',
        '<script',
        'alert(1)',
        '<style',
        'javascript:',
        '<iframe',
    ):
        assert bad not in clean
    assert '<p>Hi <b>there</b></p>' in clean
    assert 'href="https://occi.om/"' in clean


def test_body_is_sanitised_when_stored():
    page = Page(title_en='T', body_en='<p>ok</p><script>x()</script>', body_ar='<b onclick=1>ب</b>')
    assert page.body_en == '<p>ok</p>'
    assert page.body_ar == '<b>ب</b>'


def test_workflow_transitions_and_history():
    page = Page(title_en='Page')
    assert page.state == 'private'
    assert [t.name for t in page.transitions()] == ['submit', 'publish']
    page.transition('submit', '90000008', WHEN, 'please review')
    assert page.state == 'pending'
    with pytest.raises(WorkflowError):
        page.transition('submit', '90000008', WHEN)
    page.transition('reject', '90000009', WHEN, 'not yet')
    page.transition('publish', '90000009', WHEN)
    assert page.is_published
    assert [
        (h['transition'], h['from'], h['to'], h['user'], h['comment'])
        for h in page.workflow_history
    ] == [
        ('submit', 'private', 'pending', '90000008', 'please review'),
        ('reject', 'pending', 'private', '90000009', 'not yet'),
        ('publish', 'private', 'published', '90000009', ''),
    ]


def test_anonymous_sees_only_published_items(portal):
    add_content(portal, ['content'], 'draft', Page, title_en='Draft page')
    add_content(portal, ['content'], 'about', Page, state='published', title_en='About us')
    app = visitor(portal)
    assert 'About us' in app.get('/content/about')
    # Not found, as a page that is not there: a draft's name says nothing before it is out.
    page = app.get('/content/draft', status=404)
    assert 'Draft page' not in page
    listing = app.get('/content/')
    assert 'About us' in listing and 'Draft page' not in listing


def test_published_item_in_a_private_folder_stays_hidden(portal):
    from occi_site.resources.content import ContentFolder

    add_content(portal, ['content'], 'internal', ContentFolder, title_en='Internal')
    add_content(portal, ['content', 'internal'], 'memo', Page, state='published', title_en='Memo')
    # Not found, as below any draft: the address tells nothing.
    visitor(portal).get('/content/internal/memo', status=404)


def test_editor_previews_drafts_but_cannot_publish(portal):
    add_content(portal, ['content'], 'draft', Page, title_en='Draft page')
    editor = login(portal, '90000008', roles=('member', 'editor'))
    page = editor.get('/content/draft')
    assert 'Draft page' in page and 'Not published' in page
    form = editor.get('/content/draft/@@manage-workflow').forms['deform']
    assert 'submit' in form.fields and 'publish' not in form.fields
    # Forcing the button is refused and changes nothing.
    editor.post(
        '/content/draft/@@manage-workflow',
        {'csrf_token': form['csrf_token'].value, 'comment': '', 'publish': 'publish'},
    )
    assert read(portal, lambda site: site['content']['draft'].state) == 'private'
    submitted = form.submit('submit').follow()
    assert 'Pending review' in submitted
    assert read(portal, lambda site: site['content']['draft'].state) == 'pending'


def test_publisher_role_on_a_folder_lets_editors_publish(portal):
    add_content(portal, ['content'], 'draft', Page, title_en='Draft page')
    edit(portal, lambda site: site['content'].grant_local_role('role:editor', 'publisher'))
    editor = login(portal, '90000008', roles=('member', 'editor'))
    form = editor.get('/content/draft/@@manage-workflow').forms['deform']
    form['comment'] = 'approved'
    form.submit('publish').follow()
    history = read(portal, lambda site: site['content']['draft'].workflow_history)
    assert history[-1]['to'] == 'published' and history[-1]['user'] == '90000008'
    assert history[-1]['comment'] == 'approved'
    assert 'Draft page' in visitor(portal).get('/content/draft')


@pytest.mark.parametrize(
    ('state', 'transition'), [('pending', 'publish'), ('published', 'publish_changes')]
)
def test_what_changed_after_the_publisher_opened_the_workflow_tab_is_not_published(
    portal, state, transition
):
    add_content(portal, ['content'], 'about', Page, title_en='About us', body_en='<p>Read</p>')
    editor = login(portal, '90000008', roles=('member', 'editor'))
    if state == 'pending':
        editor.get('/content/about/@@manage-workflow').forms['deform'].submit('submit')
    else:
        when = datetime.now(UTC)
        edit(portal, lambda site: site['content']['about'].transition('publish', '90000009', when))
        form = editor.get('/content/about/@@manage-properties').forms['deform']
        form['body_en'] = '<p>Read by the publisher</p>'
        form.submit('save')
    assert read(portal, lambda site: site['content']['about'].state) == state
    admin = login(portal, '90000009', roles=('member', 'admin'))
    opened = admin.get('/content/about/@@manage-workflow').forms['deform']
    form = editor.get('/content/about/@@manage-properties').forms['deform']
    form['body_en'] = '<p>Not read by anyone</p>'
    form.submit('save')
    opened['comment'] = 'read and approved'
    page = opened.submit(transition)
    error = page.html.find('p', class_='invalid-feedback')
    assert 'changed after you opened' in error.text
    assert 'Not read by anyone' not in visitor(portal).get('/content/about', status='*')
    # The form again, the comment kept, is for the version now stored.
    again = page.forms['deform']
    assert again['comment'].value == 'read and approved'
    again.submit(transition)
    assert 'Not read by anyone' in visitor(portal).get('/content/about')


def test_member_cannot_preview_or_manage_content(portal):
    add_content(portal, ['content'], 'draft', Page, title_en='Draft page')
    member = login(portal, '90000001')
    # A draft is not found by those who may not see it.
    member.get('/content/draft', status=404)
    member.get('/content/@@manage-contents', status=403)


def test_visitor_language_with_fallback_note(portal):
    add_content(
        portal,
        ['content'],
        'about',
        Page,
        state='published',
        title_en='About us',
        title_ar='من نحن',
        body_en='<p>English only</p>',
    )
    english = visitor(portal, 'en').get('/content/about')
    assert 'About us' in english and 'not yet available' not in english
    arabic = visitor(portal, 'ar').get('/content/about')
    assert 'من نحن' in arabic.text
    body = arabic.html.find('div', class_='content-body')
    assert body['lang'] == 'en' and 'English only' in body.text
    assert arabic.html.find('p', class_='content-note')


def test_home_page_shows_latest_published_news_in_both_languages(portal):
    add_content(
        portal,
        ['content'],
        'old',
        NewsItem,
        state='published',
        title_en='Old news',
        title_ar='خبر قديم',
        publication_date=date(2026, 1, 1),
    )
    add_content(
        portal,
        ['content'],
        'new',
        NewsItem,
        state='published',
        title_en='New office in Sohar',
        title_ar='مكتب جديد في صحار',
        publication_date=date(2026, 3, 1),
    )
    add_content(
        portal,
        ['content'],
        'secret',
        NewsItem,
        title_en='Unpublished news',
        publication_date=date(2026, 4, 1),
    )
    english = visitor(portal, 'en').get('/')
    titles = [h.text.strip() for h in english.html.select('.news-item h3')]
    assert titles == ['New office in Sohar', 'Old news']
    arabic = visitor(portal, 'ar').get('/')
    assert [h.text.strip() for h in arabic.html.select('.news-item h3')] == [
        'مكتب جديد في صحار',
        'خبر قديم',
    ]


def test_news_index_follows_retract_rename_and_delete(portal):
    add_content(
        portal,
        ['content'],
        'one',
        NewsItem,
        state='published',
        title_en='One',
        publication_date=date(2026, 1, 1),
    )
    add_content(
        portal,
        ['content'],
        'two',
        NewsItem,
        state='published',
        title_en='Two',
        publication_date=date(2026, 2, 1),
    )

    def latest(site):
        return [item.title for item in site['content'].latest_news()]

    assert read(portal, latest) == ['Two', 'One']
    edit(portal, lambda site: site['content']['two'].transition('retract', 'x', WHEN))
    assert read(portal, latest) == ['One']
    edit(portal, lambda site: site['content'].rename('one', 'first'))
    assert read(portal, latest) == ['One']
    edit(portal, lambda site: site['content'].remove('first'))
    assert read(portal, latest) == []


def test_menu_lists_published_top_level_pages(portal):
    add_content(portal, ['content'], 'about', Page, state='published', title_en='About us')
    add_content(portal, ['content'], 'draft', Page, title_en='Draft page')
    add_content(
        portal,
        ['content'],
        'news',
        NewsItem,
        state='published',
        title_en='A news item',
        publication_date=date(2026, 1, 1),
    )
    menu = visitor(portal).get('/').html.find('nav', class_='content-menu')
    assert [a.text for a in menu.find_all('a')] == ['About us']


def test_image_is_kept_as_a_blob_and_served(portal):
    admin = login(portal, '90000009', roles=('member', 'admin'))
    form = admin.get('/content/@@manage-add?type=page').forms['deform']
    form['title_en'] = 'With a picture'
    form['upload'] = webtest.Upload('logo.png', PNG, 'image/png')
    form.submit('add').follow()
    stored = read(
        portal,
        lambda site: (
            site['content']['with-a-picture'].image_type,
            type(site['content']['with-a-picture'].image).__name__,
        ),
    )
    assert stored == ('image/png', 'Blob')
    image = admin.get('/content/with-a-picture/@@image')
    assert image.content_type == 'image/png' and image.body == PNG
    # A draft's image is for the browser of the person who may see it, not for shared caches.
    assert image.cache_control.private and not image.cache_control.public
    visitor(portal).get('/content/with-a-picture/@@image', status=404)
    edit(
        portal,
        lambda site: site['content']['with-a-picture'].transition('publish', '90000009', WHEN),
    )
    published = visitor(portal).get('/content/with-a-picture/@@image')
    assert published.body == PNG and published.cache_control.public
    assert published.cache_control.max_age == 3600


def test_upload_that_is_not_an_image_is_refused_next_to_the_field(portal):
    admin = login(portal, '90000009', roles=('member', 'admin'))
    form = admin.get('/content/@@manage-add?type=page').forms['deform']
    form['title_en'] = 'Title kept'
    form['upload'] = webtest.Upload('evil.png', b'<script>alert(1)</script>', 'image/png')
    page = form.submit('add')
    assert 'Choose a PNG, JPEG, GIF or WebP image.' in page
    assert page.forms['deform']['title_en'].value == 'Title kept'
    assert read(portal, lambda site: len(site['content'])) == 0


def test_sniffing_does_not_trust_the_name():
    from occi_site.resources.content import sniff_image

    assert sniff_image(io.BytesIO(PNG)) == 'image/png'
    assert sniff_image(io.BytesIO(b'GIF89a....')) == 'image/gif'
    assert sniff_image(io.BytesIO(b'<svg onload=x>')) is None


def test_editors_edits_of_a_published_item_wait_beside_it(portal):
    add_content(
        portal,
        ['content'],
        'about',
        Page,
        state='published',
        title_en='About us',
        body_en='<p>Old</p>',
    )
    editor = login(portal, '90000008', roles=('member', 'editor'))
    form = editor.get('/content/about/@@manage-properties').forms['deform']
    form['title_en'] = 'About the chamber'
    page = form.submit('save').follow()
    assert 'Your changes wait for review' in page
    # The editor goes on from the waiting version; a second edit adds to it.
    form = page.forms['deform']
    assert form['title_en'].value == 'About the chamber'
    form['body_en'] = '<p>New</p><script>x()</script>'
    form.submit('save')
    about = visitor(portal).get('/content/about')
    assert 'About us' in about and 'Old' in about and 'wait for review' not in about
    preview = editor.get('/content/about')
    assert 'Changes to this item wait for review' in preview
    workflow = editor.get('/content/about/@@manage-workflow')
    assert 'Changes submitted for review' in workflow
    assert 'publish_changes' not in workflow.forms['deform'].fields
    admin = login(portal, '90000009', roles=('member', 'admin'))
    form = admin.get('/content/about/@@manage-workflow').forms['deform']
    form['comment'] = 'fine'
    form.submit('publish_changes')
    about = visitor(portal).get('/content/about')
    assert 'About the chamber' in about and 'New' in about and 'x()' not in about
    assert read(portal, lambda site: site['content']['about'].changes) is None


def test_changes_sent_back_leave_the_published_version(portal):
    add_content(portal, ['content'], 'about', Page, state='published', title_en='About us')
    editor = login(portal, '90000008', roles=('member', 'editor'))
    form = editor.get('/content/about/@@manage-properties').forms['deform']
    form['title_en'] = 'Wrong'
    form.submit('save')
    admin = login(portal, '90000009', roles=('member', 'admin'))
    admin.get('/content/about/@@manage-workflow').forms['deform'].submit('reject_changes')
    assert read(portal, lambda site: site['content']['about'].changes) is None
    assert 'About us' in visitor(portal).get('/content/about')
    assert editor.get('/content/about/@@manage-properties').forms['deform']['title_en'].value == (
        'About us'
    )


def test_publishers_edits_go_online_at_once(portal):
    add_content(portal, ['content'], 'about', Page, state='published', title_en='About us')
    edit(portal, lambda site: site['content'].grant_local_role('role:editor', 'publisher'))
    editor = login(portal, '90000008', roles=('member', 'editor'))
    form = editor.get('/content/about/@@manage-properties').forms['deform']
    form['title_en'] = 'About the chamber'
    form.submit('save')
    assert 'About the chamber' in visitor(portal).get('/content/about')


def test_news_date_and_image_changes_wait_too(portal):
    add_content(
        portal,
        ['content'],
        'sohar',
        NewsItem,
        state='published',
        title_en='Sohar office',
        publication_date=date(2026, 1, 1),
    )
    editor = login(portal, '90000008', roles=('member', 'editor'))
    form = editor.get('/content/sohar/@@manage-properties').forms['deform']
    form['publication_date'] = '2026-06-01'
    form['upload'] = webtest.Upload('logo.png', PNG, 'image/png')
    form.submit('save')
    item = lambda site: site['content']['sohar']  # noqa: E731
    assert read(portal, lambda site: (item(site).publication_date, item(site).image)) == (
        date(2026, 1, 1),
        None,
    )
    assert read(portal, lambda site: next(site['content'].latest_news()).publication_date) == (
        date(2026, 1, 1)
    )
    edit(portal, lambda site: item(site).transition('publish_changes', '90000009', WHEN))
    assert read(portal, lambda site: item(site).image_type) == 'image/png'
    assert read(portal, lambda site: next(site['content'].latest_news()).publication_date) == (
        date(2026, 6, 1)
    )


def test_retracting_an_item_with_waiting_changes_keeps_them_in_the_draft():
    page = Page(title_en='About us')
    page.transition('publish', '90000009', WHEN)
    assert page.edit({'title_en': 'Draft title'}, '90000008', WHEN, may_publish=False) is False
    assert page.title_en == 'About us'
    page.transition('retract', '90000008', WHEN)
    assert page.state == 'private' and page.title_en == 'Draft title' and page.changes is None
    assert page.edit({'title_en': 'Again'}, '90000008', WHEN, may_publish=False) is True
    assert page.title_en == 'Again'
