"""Findings of a review that probed the portal's addresses and forms as an anonymous visitor, a
member, an editor and an administrator would, each reproduced as it was found."""

import re

import pytest

from occi_site.integrations.payment import sign_fields
from occi_site.integrations.pki import PkiError
from occi_site.resources import database
from occi_site.resources.content import ContentFolder, Page
from tests.conftest import add_account, add_content, edit, login, read, visitor

from .pki_helpers import answer_xml, encode_answer, mobile_login
from .stack import GATEWAY_KEYS, Stack
from .test_manage import admin_app, audit_of
from .test_registration import fill
from .test_sessions import last_transaction
from .test_verify import issue
from .test_wizard import choose, member  # noqa: F401 - the fixture

ADMIN = '90000009'


@pytest.mark.parametrize(
    'existing, missing',
    [
        ('/accounts/90000001/manage', '/accounts/12345678/manage'),
        ('/accounts/90000001/@@manage-audit', '/accounts/12345678/@@manage-audit'),
        ('/companies/1229237/manage', '/companies/7654321/manage'),
    ],
)
def test_private_addresses_do_not_tell_what_exists(portal, existing, missing):
    """A record's address answers as a missing one's does, to anyone who may not see it:
    otherwise anyone could ask, unthrottled, whether a civil ID has an account."""
    edit(portal, lambda site: add_account(site, '90000001'))
    assert read(portal, lambda site: '1229237' in site['companies'])
    for browser in (visitor(portal), login(portal, '90000003')):
        there = browser.get(existing, expect_errors=True)
        not_there = browser.get(missing, expect_errors=True)
        assert there.status_int == not_there.status_int
        assert there.status_int in (403, 404)
        # The same page, too: the login prompt, or "not found".
        assert ('log in' in there.text.lower()) == ('log in' in not_there.text.lower())


def test_a_private_address_still_asks_a_visitor_to_log_in(portal):
    """The member's mail links to their own records: logged out, they are asked to log in."""
    edit(portal, lambda site: add_account(site, '90000001'))
    page = visitor(portal).get('/accounts/90000001/manage', status=403)
    assert 'log in' in page.text.lower()


def test_a_query_value_that_is_not_utf8_is_a_clear_client_error(portal):
    visitor(portal).get('/content?after=%ff', status=400)


def test_a_listing_start_past_any_number_is_the_first_page(portal):
    editor = login(portal, '90000008', roles=('member', 'editor'))
    add_content(portal, ['content'], 'about', Page, title_en='About us')
    page = editor.get('/content/@@manage-contents?sort=0&start=10000000000000000000')
    assert page.status_int == 200


def test_undo_offers_only_changes_made_in_manage(portal):
    """A member's, the gateway's or a worker's transaction writes its audit entries with it:
    undoing it would remove them. The Undo tab offers what /manage changed (each audited in a
    transaction of its own), and refuses anything else."""
    add_content(portal, ['content'], 'about', Page, title_en='About us')
    admin = admin_app(portal)
    form = admin.get('/content/about/@@manage-properties').forms['deform']
    form['title_en'] = 'About the chamber'
    form.submit('save')
    fill(visitor(portal))
    entries = database(portal.registry).undoLog(0, 20)
    registration = next(entry for entry in entries if '/register' in entry['description'])
    page = admin.get('/@@manage-undo')
    offered = [f for f in page.forms.values() if 'id' in f.fields]
    assert registration['id'].decode('ascii') not in [f['id'].value for f in offered]
    assert 'About the chamber' in read(portal, lambda site: site['content']['about'].title_en)
    offered[0]['id'].force_value(registration['id'].decode('ascii'))
    answer = offered[0].submit().follow()
    assert 'cannot be undone here' in answer
    assert [entry['action'] for entry in audit_of(portal, path='/accounts/90000001')] == [
        'register.submit'
    ]


def test_an_undo_can_itself_be_undone(portal):
    add_content(portal, ['content'], 'about', Page, title_en='About us')
    admin = admin_app(portal)
    form = admin.get('/content/about/@@manage-properties').forms['deform']
    form['title_en'] = 'About the chamber'
    form.submit('save')
    undo = next(f for f in admin.get('/@@manage-undo').forms.values() if 'id' in f.fields)
    assert 'Undone' in undo.submit().follow()
    assert read(portal, lambda site: site['content']['about'].title_en) == 'About us'
    redo = next(f for f in admin.get('/@@manage-undo').forms.values() if 'id' in f.fields)
    assert 'Undone' in redo.submit().follow()
    assert read(portal, lambda site: site['content']['about'].title_en) == 'About the chamber'


def test_a_file_in_place_of_the_saml_answer_is_a_bad_request(portal):
    browser = visitor(portal)
    browser.post('/saml/acs', upload_files=[('SAMLResponse', 'a.txt', b'x')], status=400)


def test_an_assertion_signature_without_transforms_is_refused(world):
    login_request, answer = mobile_login(world)
    xml = re.sub(r'<ns2:Transforms>.*?</ns2:Transforms>', '', answer_xml(answer), flags=re.S)
    assert '<ns2:Transforms>' not in xml
    with pytest.raises(PkiError) as refused:
        world.complete(login_request, encode_answer(xml))
    assert refused.value.reason == 'bad_signature'


@pytest.mark.parametrize('came_from', ['//[', 'http://[::1', '//x\uff03@evil.example'])
def test_a_return_address_python_cannot_read_goes_home(portal, came_from):
    answer = visitor(portal).get('/language', {'set': 'ar', 'came_from': came_from}, status=303)
    assert answer.location.rstrip('/') == 'http://localhost'


def test_an_email_link_of_no_registration_writes_nothing(portal):
    """Anyone may open it, unthrottled, without a cookie: it must not grow the audit log."""
    before = last_transaction(portal)
    visitor(portal).get(
        '/register/verify-email', {'token': 'x', 'registration': 'nope'}, status=400
    )
    assert last_transaction(portal) == before


def refused_login(browser):
    browser.post('/saml/acs', {'SAMLResponse': 'x'}, status=400)


def refused_logout(browser):
    browser.get('/saml/sls', {'SAMLRequest': 'x'}, status=400)


@pytest.mark.parametrize(
    'send, action', [(refused_login, 'login.refused'), (refused_logout, 'logout.refused')]
)
def test_refused_pki_messages_from_one_address_are_audited_up_to_its_limit(tmp_path, send, action):
    """Anyone may send them, unthrottled: they must not grow the audit log endlessly."""
    stack = Stack(tmp_path)
    try:
        browser = stack.new_browser()
        browser.get('/login')
        for _attempt in range(40):
            send(browser)
        refused = [e for e in audit_of(stack.portal) if e['action'] == action]
    finally:
        stack.close()
    assert 0 < len(refused) < 40


@pytest.mark.parametrize(
    'roles, path, field',
    [
        (('member',), '/account/sessions', 'end'),
        (('member', 'admin'), '/@@manage-undo', 'token'),
    ],
)
def test_a_file_in_place_of_a_text_field_counts_as_nothing_sent(portal, roles, path, field):
    browser = login(portal, ADMIN, roles=roles)
    token = browser.get(path).html.find('input', attrs={'name': 'csrf_token'})['value']
    browser.post(path, {'csrf_token': token}, upload_files=[(field, 'a.txt', b'x')], status=303)


def test_a_file_in_place_of_a_mobile_number_is_no_number(member):  # noqa: F811
    app = member()
    url = choose(app, 'renewal', '1229237', '91868').location
    page = app.get(url)
    [form] = [f for f in page.forms.values() if 'mobile' in f.fields]
    token = form['csrf_token'].value
    app.post(
        form.action,
        {'csrf_token': token, 'method': 'mobile'},
        upload_files=[('mobile', 'a.txt', b'x')],
        # Taken as left empty: the PKI is asked for it, which this portal has not configured.
        status=503,
    )


def test_registration_audits_do_not_name_the_civil_id_typed_as_the_actor(portal):
    """Someone registering with another person's civil ID acts as nobody yet: the audit
    files it under that civil ID's account, but not as done by its holder."""
    fill(visitor(portal))
    [entry] = audit_of(portal, path='/accounts/90000001')
    assert entry['action'] == 'register.submit' and entry['user'] == ''
    assert audit_of(portal, user='90000001') == []


def test_titles_editors_write_are_not_translated(portal):
    """An editor's title that happens to be one of the portal's own phrases stays as written."""
    add_content(portal, ['content'], 'f', ContentFolder, state='published', title_en='Contents')
    page = visitor(portal, 'ar').get('/content/f/')
    assert page.html.find('h1').text.strip() == 'Contents'
    admin = login(portal, ADMIN, roles=('member', 'admin'), lang='ar')
    page = admin.get('/content/f/@@manage-contents')
    assert page.html.find('h1').text.strip() == 'Contents'
    assert admin.get('/@@manage-contents').html.find('h1').text.strip() != 'Manage the portal'


def test_certificate_addresses_do_not_tell_which_serials_exist(portal):
    """/verify, with its code and its limit, is the public's way to a certificate."""
    serial, _code = issue(portal)
    browser = visitor(portal)
    issued = browser.get('/certificates/%s/certificate.pdf' % serial, expect_errors=True)
    made_up = browser.get('/certificates/OCCI-2099-999999/certificate.pdf', expect_errors=True)
    assert issued.status_int == made_up.status_int == 403
    other = login(portal, '90000002')
    issued = other.get('/certificates/%s/certificate.pdf' % serial, expect_errors=True)
    made_up = other.get('/certificates/OCCI-2099-999999/certificate.pdf', expect_errors=True)
    assert issued.status_int == made_up.status_int == 404


def test_a_draft_is_not_found_by_a_visitor(portal):
    add_content(portal, ['content'], 'plans', Page, title_en='Plans not yet announced')
    browser = visitor(portal)
    draft = browser.get('/content/plans', expect_errors=True)
    missing = browser.get('/content/no-such-page', expect_errors=True)
    assert draft.status_int == missing.status_int == 404


@pytest.mark.parametrize('path', ['/logout', '/account/sessions'])
def test_a_file_in_place_of_the_csrf_token_is_a_stale_form(portal, path):
    login(portal, '90000001').post(path, upload_files=[('csrf_token', 'a.txt', b'x')], status=400)


@pytest.mark.parametrize('endpoint', ['/payment/notify', '/payment/return'])
def test_a_file_in_place_of_the_gateways_signature_is_refused(tmp_path, endpoint):
    stack = Stack(tmp_path)
    try:
        stack.new_browser().post(
            endpoint,
            {'signed_field_names': 'decision', 'decision': 'ACCEPT'},
            upload_files=[('signature', 'a.txt', b'x')],
            status=400,
        )
    finally:
        stack.close()


def test_a_return_address_in_other_scripts_is_encoded(portal):
    answer = visitor(portal).get('/language', {'set': 'ar', 'came_from': '/中?q=ن'}, status=303)
    assert answer.location == 'http://localhost/%E4%B8%AD?q=%D9%86'
    answer.location.encode('latin-1')


def test_a_breadcrumb_of_a_title_an_editor_wrote_is_not_translated(portal):
    add_content(portal, ['content'], 'f', ContentFolder, state='published', title_en='Contents')
    page = visitor(portal, 'ar').get('/content/f/')
    assert page.html.select_one('nav.crumbs [aria-current]').text.strip() == 'Contents'


def test_forged_gateway_messages_are_audited_up_to_a_limit(tmp_path):
    """Every message the gateway's addresses refuse is logged; the audit log keeps an
    address's first ones in the hour."""
    stack = Stack(tmp_path)
    try:
        browser = stack.new_browser()
        for _attempt in range(40):
            browser.post(
                '/payment/notify',
                {'signed_field_names': 'decision', 'decision': 'ACCEPT', 'signature': 'x'},
                status=400,
            )
        refused = [e for e in audit_of(stack.portal) if e['action'].startswith('payment.')]
    finally:
        stack.close()
    assert 0 < len(refused) < 40


@pytest.mark.parametrize('below', ['x', '@@manage'])
def test_an_address_below_a_draft_is_not_found_either(portal, below):
    add_content(portal, ['content'], 'plans', Page, title_en='Plans not yet announced')
    browser = visitor(portal)
    draft = browser.get('/content/plans/%s' % below, expect_errors=True)
    missing = browser.get('/content/no-such-page/%s' % below, expect_errors=True)
    assert draft.status_int == missing.status_int == 404


def test_a_form_posted_to_the_health_check_is_not_found(portal):
    visitor(portal).post('/_health', status=404)


def test_signed_but_unusable_gateway_answers_are_all_audited(tmp_path):
    """Only what the gateway did not sign is audited up to a limit: what it signed is its word."""
    stack = Stack(tmp_path)
    fields = {
        'signed_field_names': 'decision,req_reference_number',
        'decision': 'PARTIAL',
        'req_reference_number': 'OCCI-NONE',
    }
    fields['signature'] = sign_fields(fields, GATEWAY_KEYS['secret_key'])
    try:
        browser = stack.new_browser()
        for _attempt in range(25):
            browser.post('/payment/notify', fields, status=400)
        refused = [e for e in audit_of(stack.portal) if e['action'].startswith('payment.')]
    finally:
        stack.close()
    assert len(refused) == 25


@pytest.mark.parametrize(
    'path, label',
    [
        ('/accounts/@@manage-contents', 'الحسابات'),
        ('/companies/@@manage-contents', 'الشركات'),
        ('/settings/fees/manage', 'جدول الرسوم'),
        ('/audit/@@manage-audit', 'سجل التدقيق'),
        ('/throttle/@@manage-audit', 'حدود المحاولات'),
    ],
)
def test_the_portals_own_containers_are_named_in_arabic(portal, path, label):
    admin = login(portal, ADMIN, roles=('member', 'admin'), lang='ar')
    page = admin.get(path)
    page = page.follow() if page.status_int == 303 else page
    assert page.html.select_one('nav.crumbs [aria-current]').text.strip() == label
    assert page.html.find('h1').text.strip() == label


def test_the_root_listing_sorts_by_titles_as_shown_in_arabic(portal):
    admin = login(portal, ADMIN, roles=('member', 'admin'), lang='ar')
    page = admin.get('/@@manage-contents', {'sort': '0', 'desc': '0'})
    titles = [row.select('td')[1].text.strip() for row in page.html.select('tbody tr')]
    assert 'الحسابات' in titles and 'الشركات' in titles
    assert titles == sorted(titles)


def test_a_change_to_a_portal_container_is_told_in_arabic(portal):
    edit(portal, lambda site: add_account(site, '90000123', full_name='Salim Al Harthy'))
    admin = login(portal, ADMIN, roles=('member', 'admin'), lang='ar')
    form = admin.get('/content/@@manage-security').forms['deform']
    form['principal'] = '90000123'
    form['role'] = 'publisher'
    told = form.submit('grant').follow().html.select_one('p.flash').text
    assert '«المحتوى»' in told and 'Content' not in told
    assert 'ناشر' in told and 'publisher' not in told


def test_a_role_granted_to_an_account_is_told_in_arabic(portal):
    edit(portal, lambda site: add_account(site, '90000123', full_name='Salim Al Harthy'))
    admin = login(portal, ADMIN, roles=('member', 'admin'), lang='ar')
    page = admin.get('/accounts/90000123/@@manage-account')
    form = next(
        f
        for f in page.forms.values()
        if 'grant' in f.fields and f.get('role', default=None) and f['role'].value == 'editor'
    )
    told = form.submit('change_role').follow().html.select_one('p.flash').text
    assert 'محرر' in told and 'editor' not in told
