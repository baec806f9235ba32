"""The management view: who may use it where, the tabs, Contents on a huge
container, Properties with Undo, Security, Audit, Database, and the
chamber's accounts, companies, requests and fee schedule."""

from datetime import UTC, datetime

import pytest
import transaction
from persistent import Persistent
from ZODB import DB
from ZODB.MappingStorage import MappingStorage

from occi_site.resources.company import Company
from occi_site.resources.content import Page
from occi_site.resources.folder import Folder
from occi_site.views.manage.listing import key_below, name_page
from tests.conftest import add_account, add_content, cells, edit, login, read, visitor

ADMIN = '90000009'
EDITOR = '90000008'


def admin_app(wsgi):
    return login(wsgi, ADMIN, roles=('member', 'admin'))


def audit_of(wsgi, **filters):
    return read(wsgi, lambda site: [entry for _key, entry in site['audit'].latest(50, **filters)])


def tab_titles(page):
    return [a.text for a in page.html.select('nav.manage-tabs a')]


@pytest.mark.parametrize(
    'path, refused',
    [
        ('/manage', 403),
        # Records nobody else may see are not found, as if they were not there.
        ('/companies/@@manage-contents', 404),
        ('/accounts/manage', 404),
        ('/@@manage-undo', 403),
        ('/settings/fees/manage', 403),
    ],
)
def test_only_admins_manage_outside_content(portal, path, refused):
    visitor(portal).get(path, status=403)
    login(portal, '90000001').get(path, status=refused)
    login(portal, EDITOR, roles=('member', 'editor')).get(path, status=refused)
    admin_app(portal).get(path, status=(200, 303))


def test_editors_manage_within_content(portal):
    editor = login(portal, EDITOR, roles=('member', 'editor'))
    tabs = tab_titles(editor.get('/content/manage').follow())
    assert tabs == ['Contents', 'Audit']
    add_content(portal, ['content'], 'about', Page, title_en='About us')
    assert tab_titles(editor.get('/content/about/manage').follow()) == [
        'Properties',
        'Workflow',
        'Audit',
    ]


def test_tab_bar_comes_from_the_registrations(portal):
    admin = admin_app(portal)
    root = admin.get('/manage').follow()
    assert tab_titles(root) == ['Chamber', 'Reports', 'Contents', 'Audit', 'Undo', 'Database']
    assert tab_titles(admin.get('/content/@@manage-contents')) == ['Contents', 'Security', 'Audit']
    assert tab_titles(admin.get('/companies/manage').follow())[:2] == ['Find', 'Contents']


class Item(Persistent):
    def __init__(self, title):
        self.title = title


def test_contents_pages_a_100000_child_container_with_few_loads():
    db = DB(MappingStorage(), cache_size=100)
    conn = db.open()
    folder = conn.root()['big'] = Folder('Big')
    for number in range(100_000):
        name = '%07d' % number
        folder.data[name] = Item('Company %s' % name)
    folder._count.change(100_000)
    transaction.commit()
    conn.close()

    conn = db.open()
    conn.cacheMinimize()
    folder = conn.root()['big']
    conn.getTransferCounts(clear=True)
    page, more = name_page(folder, '0050000')
    titles = [child.title for _name, child in page]
    loads, _stores = conn.getTransferCounts(clear=True)
    assert more and len(page) == 50 and titles[0] == 'Company 0050001'
    assert loads < 80
    page, more = name_page(folder, '0050000', descending=True)
    titles = [child.title for _name, child in page]
    loads, _stores = conn.getTransferCounts(clear=True)
    assert titles[:2] == ['Company 0049999', 'Company 0049998'] and len(page) == 50
    assert loads < 80
    assert len(folder) == 100_000
    conn.close()
    db.close()


def test_key_below_is_the_bound_just_under_a_name():
    names = sorted(['ab', 'abb', 'abbz', 'abc', 'abd', 'b'])
    for name in names[1:]:
        below = [other for other in names if other <= key_below(name)]
        assert below[-1] == names[names.index(name) - 1]


def test_contents_listing_pages_and_sorts(portal):
    def fill(site):
        for number in range(120):
            site['content'].add('page-%03d' % number, Page(title_en='Page %03d' % number))

    edit(portal, fill)
    admin = admin_app(portal)
    first = admin.get('/content/@@manage-contents')
    names = [a.text for a in first.html.select('table.manage-table tbody tr td:first-child a')]
    assert names[0] == 'page-000' and len(names) == 50
    second = first.click('Next page')
    assert second.html.select('table.manage-table tbody td a')[0].text == 'page-050'
    backwards = admin.get('/content/@@manage-contents?sort=name&desc=1')
    assert backwards.html.select('table.manage-table tbody td a')[0].text == 'page-119'
    by_title = admin.get('/content/@@manage-contents?sort=0&desc=1')
    assert by_title.html.select('table.manage-table tbody td a')[0].text == 'page-119'
    jump = first.forms['search']
    jump['start_at'] = 'page-100'
    jumped = jump.submit('search')
    assert jumped.html.select('table.manage-table tbody td a')[0].text == 'page-100'


def test_a_listing_works_out_the_tabs_of_rows_of_one_class_once(portal, monkeypatch):
    """Which tabs a row of the listing has depends on its class where its
    ACL adds nothing for the person and the tabs' conditions are decided by
    the class (the properties tab's ``has_schema``)."""
    from occi_site.views.manage.tabs import Tab

    def fill(site):
        for number in range(60):
            cr = str(3_000_000 + number)
            site['companies'].add(cr, Company(cr, 'Trading %02d LLC' % number, '', 'Muscat'))

    edit(portal, fill)
    asked = []
    applies_to = Tab.applies_to

    def counted(tab, context):
        asked.append(context)
        return applies_to(tab, context)

    monkeypatch.setattr(Tab, 'applies_to', counted)
    listing = admin_app(portal).get('/companies/@@manage-contents')
    rows = listing.html.select('table.manage-table tbody tr td:first-child a')
    assert len(rows) == 50 and all(row['href'].endswith('/@@manage') for row in rows)
    assert len({id(context) for context in asked if isinstance(context, Company)}) == 1


def test_add_rename_and_delete_with_confirmation(portal):
    admin = admin_app(portal)
    contents = admin.get('/content/@@manage-contents')
    form = contents.click('Add Page').forms['deform']
    form['title_en'] = 'Our Services'
    form['title_ar'] = 'خدماتنا'
    created = form.submit('add').follow().follow()
    assert 'Our Services' in created
    assert read(portal, lambda site: site['content']['our-services'].title_ar) == 'خدماتنا'

    rename = admin.get('/content/@@manage-rename?name=our-services').forms['deform']
    rename['name'] = 'Manage-this'
    page = rename.submit('rename')
    assert 'not starting with' in page
    form = page.forms['deform']
    form['name'] = 'services'
    form.submit('rename').follow()
    assert read(portal, lambda site: sorted(site['content'])) == ['services']

    confirm = admin.get('/content/@@manage-delete?name=services')
    assert 'will be deleted' in confirm
    confirm.forms['confirm-delete'].submit('cancel')
    assert read(portal, lambda site: 'services' in site['content'])
    confirm.forms['confirm-delete'].submit('delete').follow()
    assert read(portal, lambda site: len(site['content'])) == 0
    actions = [entry['action'] for entry in audit_of(portal)]
    assert actions[:3] == ['content.delete', 'content.rename', 'content.add']


def test_properties_edit_is_audited_described_and_undone(portal):
    add_content(portal, ['content'], 'about', Page, title_en='About us', title_ar='من نحن')
    admin = admin_app(portal)
    form = admin.get('/content/about/@@manage-properties').forms['deform']
    assert form['title_en'].value == 'About us'
    form['title_en'] = 'About the chamber'
    saved = form.submit('save').follow()
    assert saved.html.find('p', class_='flash').text == (
        'Changed the properties of "About the chamber"'
    )
    assert read(portal, lambda site: site['content']['about'].title_en) == 'About the chamber'
    entry = audit_of(portal, path='/content/about')[0]
    assert (entry['action'], entry['user'], entry['details']['fields']) == (
        'properties',
        ADMIN,
        'title_en',
    )

    undo_list = admin.get('/@@manage-undo')
    first_row = undo_list.html.select('table.manage-table tbody tr')[0]
    assert ADMIN in first_row.text and 'Changed the properties' in first_row.text
    # The page after the edit offered "Undo" of that very transaction.
    offer = next(form for form in saved.forms.values() if 'token' in form.fields)
    done = offer.submit().follow()
    assert 'Undone' in done
    assert read(portal, lambda site: site['content']['about'].title_en) == 'About us'
    # The audit log keeps the edit and records the undo.
    assert [entry['action'] for entry in audit_of(portal)][:2] == ['undo', 'properties']


def test_undo_that_zodb_refuses_says_so(portal):
    add_content(portal, ['content'], 'about', Page, title_en='About us')
    admin = admin_app(portal)
    for title in ('First title', 'Second title'):
        form = admin.get('/content/about/@@manage-properties').forms['deform']
        form['title_en'] = title
        form.submit('save')
    rows = admin.get('/@@manage-undo').forms
    older = [form for form in rows.values() if 'id' in form.fields][1]
    page = older.submit().follow()
    assert 'This change cannot be undone' in page
    assert read(portal, lambda site: site['content']['about'].title_en) == 'Second title'
    assert audit_of(portal)[0]['outcome'] == 'refused'


def test_an_undone_lock_does_not_bring_back_the_sessions_it_ended(portal):
    """Undoing the lock puts the account's old security stamp back; a session
    of the account not used while it was locked must not live again."""
    member = login(portal, '90000001')
    assert member.get('/dashboard').status_int == 200
    admin = admin_app(portal)
    account = admin.get('/accounts/90000001/manage').follow()
    next(f for f in account.forms.values() if 'lock' in f.fields).submit('lock')
    rows = admin.get('/@@manage-undo').html.select('table.manage-table tbody tr')
    assert 'Locked the account of 90000001' in rows[0].text
    undo = next(f for f in admin.get('/@@manage-undo').forms.values() if 'id' in f.fields)
    assert 'Undone' in undo.submit().follow()
    assert read(portal, lambda site: site['accounts']['90000001'].state) == 'active'
    member.get('/dashboard', status=403)
    assert 'Welcome' in login_again(portal, '90000001').get('/dashboard')


def login_again(wsgi, civil_id):
    app = visitor(wsgi)
    app.get('/_probe/login/%s' % civil_id)
    return app


def test_every_management_post_needs_the_csrf_token(portal):
    add_content(portal, ['content'], 'about', Page, title_en='About us')
    admin = admin_app(portal)
    admin.post('/content/about/@@manage-properties', {'title_en': 'x', 'save': 'save'}, status=400)
    admin.post('/@@manage-undo', {'id': 'x'}, status=400)


def test_security_tab_grants_and_revokes_local_roles(portal):
    edit(portal, lambda site: add_account(site, '90000123', full_name='Salim Al Harthy'))
    admin = admin_app(portal)
    form = admin.get('/content/@@manage-security').forms['deform']
    form['principal'] = '11111'
    form['role'] = 'publisher'
    assert 'No account has the civil ID' in form.submit('grant')
    form['principal'] = '90000123'
    page = form.submit('grant').follow()
    assert read(portal, lambda site: site['content'].__local_roles__) == {'90000123': {'publisher'}}
    revoke = next(
        f
        for f in page.forms.values()
        if 'principal' in f.fields
        and 'role' in f.fields
        and f.action.endswith('manage-security-revoke')
    )
    revoke.submit().follow()
    assert read(portal, lambda site: site['content'].__local_roles__) == {}
    assert [entry['action'] for entry in audit_of(portal, path='/content')][:2] == [
        'security.revoke',
        'security.grant',
    ]


def test_audit_tab_filters_by_user_action_and_date(portal):
    def fill(site):
        add_account(site, '90000002')
        log = site['audit']
        log.record(
            'login',
            user='90000001',
            path='/accounts/90000001',
            when=datetime(2026, 1, 10, 8, tzinfo=UTC),
        )
        log.record(
            'login',
            user='90000002',
            path='/accounts/90000002',
            when=datetime(2026, 2, 10, 8, tzinfo=UTC),
        )
        log.record(
            'register',
            user='90000002',
            path='/accounts/90000002',
            when=datetime(2026, 2, 1, 8, tzinfo=UTC),
        )

    edit(portal, fill)
    admin = admin_app(portal)

    def shown(**query):
        page = admin.get('/@@manage-audit', dict(query, search='search'))
        return [
            (row.select('td')[1].text, row.select('td')[2].text)
            for row in page.html.select('table.manage-table tbody tr')
        ]

    assert shown(user='90000002') == [('90000002', 'login'), ('90000002', 'register')]
    assert shown(action='login') == [('90000002', 'login'), ('90000001', 'login')]
    assert shown(date_from='2026-01-01', date_to='2026-01-31') == [('90000001', 'login')]
    account_page = admin.get('/accounts/90000002/@@manage-audit')
    assert len(account_page.html.select('table.manage-table tbody tr')) == 2


def test_database_tab_shows_size_and_packs(portal):
    admin = admin_app(portal)
    page = admin.get('/@@manage-database')
    assert 'Data.fs' in page and 'bytes' in page
    form = page.forms['deform']
    form['days'] = '0'
    assert 'packed' in form.submit('pack').follow()
    assert audit_of(portal)[0]['action'] == 'database.pack'


def test_find_accounts_lock_unlock_and_roles(portal):
    def register(site):
        # Accounts.add indexes the full name (see resources/search.py).
        add_account(
            site,
            '90000123',
            full_name='Salim Al Harthy',
            email='salim@example.om',
            mobile='99123456',
        )

    edit(portal, register)
    admin = admin_app(portal)
    for text in ('90000123', 'salim@example.om', '99123456', 'harthy', 'Salim Al'):
        page = admin.get('/accounts/@@manage-search', {'text': text, 'search': 'search'})
        assert '90000123' in cells(page.html.find('table', class_='manage-table')), text
    account = admin.get('/accounts/90000123/manage').follow()
    lock = next(f for f in account.forms.values() if 'lock' in f.fields)
    account = lock.submit('lock').follow()
    assert read(portal, lambda site: site['accounts']['90000123'].state) == 'locked'
    unlock = next(f for f in account.forms.values() if 'unlock' in f.fields)
    account = unlock.submit('unlock').follow()
    assert read(portal, lambda site: site['accounts']['90000123'].state) == 'active'
    grant = next(
        f for f in account.forms.values() if f.fields.get('role') and f['role'].value == 'editor'
    )
    grant.submit('change_role').follow()
    assert 'editor' in read(portal, lambda site: site['accounts']['90000123'].roles)
    actions = [entry['action'] for entry in audit_of(portal, path='/accounts/90000123')]
    assert actions[:3] == ['account.grant', 'account.unlock', 'account.lock']


def test_admin_cannot_lock_out_or_demote_themselves(portal):
    admin = admin_app(portal)
    token = admin.get('/accounts/%s/@@manage-account' % ADMIN).forms[0]['csrf_token'].value
    admin.post(
        '/accounts/%s/@@manage-account' % ADMIN,
        {'csrf_token': token, 'role': 'admin', 'change_role': '1'},
    ).follow()
    admin.post('/accounts/%s/@@manage-account' % ADMIN, {'csrf_token': token, 'lock': '1'})
    account = read(portal, lambda site: site['accounts'][ADMIN])
    assert 'admin' in account.roles and account.state == 'active'


def test_find_company_by_arabic_name_and_record_a_debit(portal):
    admin = admin_app(portal)
    search = admin.get('/companies/manage').follow().forms['search']
    for text in ('المشاريع الواعدة', 'الواعدة', 'واعده', 'مشاريع', 'promising', '1229237', '91868'):
        search['text'] = text
        found = search.submit('search')
        rows = found.html.select('table.manage-table tbody tr')
        assert [row.select('td')[0].text for row in rows] == ['1229237'], text
    company = found.click('1229237').follow()
    assert 'promising projects' in company
    form = company.forms['deform']
    form['amount'] = '12.5'
    form['reason'] = 'Arrears from the paper registry'
    form.submit('record').follow()
    membership = read(portal, lambda site: site['companies']['1229237'].membership.debit_baisa)
    assert membership == 12_500
    page = admin.get('/companies/1229237/@@manage-membership')
    assert 'membership.debit' in page and 'Arrears from the paper registry' in page
    # The change and its audit written apart do not conflict (no retry, nothing rolled back).
    assert 'rolled back' not in [e['outcome'] for e in audit_of(portal, path='/companies/1229237')]
    changed = audit_of(portal, path='/companies/1229237', action='membership.changed')
    assert [(entry['user'], entry['details']) for entry in changed] == [
        ('90000009', {'debit_baisa': '0 -> 12500'})
    ]


@pytest.mark.parametrize(
    'typed, message',
    [
        ('1.2345x', 'Type an amount in rials, such as 25 or 12.500.'),
        ('1.2345', 'Use at most three decimals: the baisa is the smallest amount.'),
        ('0', 'Type an amount from 0.001 to 100000.000 rials.'),
    ],
)
def test_debit_amount_is_checked_next_to_the_field(portal, typed, message):
    admin = admin_app(portal)
    form = admin.get('/companies/1229237/@@manage-membership').forms['deform']
    form['amount'] = typed
    form['reason'] = 'Kept'
    page = form.submit('record')
    assert page.forms['deform']['reason'].value == 'Kept'
    assert page.forms['deform']['amount'].value == typed
    assert page.html.find(class_='invalid-feedback').text.strip() == message
    assert read(portal, lambda site: site['companies']['1229237'].membership.debit_baisa) == 0


def test_fee_schedule_in_rials_kept_in_baisa(portal):
    admin = admin_app(portal)
    form = admin.get('/settings/fees/manage').follow().forms['deform']
    assert form['Fourth'].value == '25.000'
    form['Fourth'] = '27.250'
    form['certificate'] = '5'
    form.submit('save').follow()
    fees = read(
        portal,
        lambda site: (
            site['settings']['fees'].annual_fee('Fourth'),
            site['settings']['fees'].service_fee('certificate'),
        ),
    )
    assert fees == (27_250, 5_000)
    assert 'Fourth: 25000 -> 27250' in audit_of(portal)[0]['details']['changes']


def test_requests_filtered_by_service_state_and_date(portal):
    from occi_site.resources.service_request import ServiceRequest

    def fill(site):
        requests = site['requests']
        for name, service, day in (
            ('a', 'renewal', 1),
            ('b', 'certificate', 2),
            ('c', 'renewal', 20),
        ):
            requests.add(
                name,
                ServiceRequest(
                    name,
                    service,
                    '90000001',
                    '1229237',
                    datetime(2026, 3, day, 9, tzinfo=UTC),
                ),
            )

    edit(portal, fill)
    admin = admin_app(portal)

    def shown(**query):
        page = admin.get('/requests/@@manage-search', dict(query, search='search'))
        return [row.select('td')[0].text for row in page.html.select('table.manage-table tbody tr')]

    assert shown(service='renewal', state='') == ['c', 'a']
    assert shown(service='', state='draft', date_to='2026-03-05') == ['b', 'a']
    assert shown(service='', state='paid') == []


def test_admin_publishes_bilingual_news_to_the_home_page(portal):
    admin = admin_app(portal)
    add = admin.get('/content/manage').follow().click('Add News item').forms['deform']
    add['title_en'] = 'Chamber opens a Sohar office'
    add['title_ar'] = 'الغرفة تفتتح مكتبا في صحار'
    add['body_en'] = '<p>Members in Al Batinah <script>x()</script>are served nearby.</p>'
    add['publication_date'] = '2026-03-01'
    workflow = add.submit('add').follow().follow().click('Workflow')
    assert 'Chamber opens a Sohar office' not in visitor(portal).get('/')
    workflow.forms['deform'].submit('publish').follow()
    english = visitor(portal, 'en').get('/')
    assert 'Chamber opens a Sohar office' in english.html.find('section', class_='news').text
    arabic = visitor(portal, 'ar').get('/')
    assert 'الغرفة تفتتح مكتبا في صحار' in arabic.html.find('section', class_='news').text
    item = visitor(portal, 'en').get('/content/chamber-opens-a-sohar-office')
    assert 'are served nearby' in item and 'x()' not in item


@pytest.mark.parametrize(
    'path',
    [
        '/manage',
        '/@@manage-contents',
        '/@@manage-audit',
        '/@@manage-undo',
        '/@@manage-database',
        '/content/@@manage-contents',
        '/content/@@manage-add?type=news',
        '/content/@@manage-security',
        '/companies/manage',
        '/companies/1229237/manage',
        '/accounts/manage',
        '/requests/manage',
        '/orders/manage',
        '/settings/fees/manage',
    ],
)
def test_management_pages_in_arabic(portal, path):
    admin = login(portal, ADMIN, roles=('member', 'admin'), lang='ar')
    page = admin.get(path)
    page = page.follow() if page.status_int == 303 else page
    assert page.html.html['dir'] == 'rtl'
