"""The development PKI identity provider, driven through its pages like a member would.

Every journey ends with the signed SAMLResponse of the "Single Log Out" page checked by the
portal's real SP adapter, so both sides of the protocol are exercised with xmlsec1.
"""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import pki_idp
from occi_site.integrations.pki import PkiError

from .pki_helpers import (
    CONTEXTS,
    IDP_MOUNT,
    SP_BASE,
    answer_fields,
    answer_xml,
    card_login,
    confirm_on_phone,
    enter_pin,
    insert_card,
    make_world,
    mobile_login,
    query_of,
)

PACKAGE = Path(pki_idp.__file__).parent


# -- smart card ------------------------------------------------------------------------------


def test_card_login_through_the_chooser_ends_on_single_log_out(world):
    login = world.sp.begin_login(relay_state='/dashboard')
    chooser = world.idp.get(login.redirect_url).follow()
    assert 'Login with Mobile ID' in chooser.text
    assert 'To use this login method you need PKI enabled SIM card' in chooser.text
    assert 'Login with Smart Card/USB token' in chooser.text
    assert 'To use this login method you need civil ID card and ID card reader' in chooser.text

    reader = chooser.click(description='Login using card')
    assert 'Ali Said Al Jahdhami' in reader.text and 'Khalid Nasser Al Busaidi' in reader.text
    pad = insert_card(reader, '90000001')
    assert 'Authenticate using your smart card' in pad.text
    assert pad.html.find('input', attrs={'type': 'password', 'name': 'pin'}) is not None
    keys = [button.text.strip() for button in pad.html.select('.keys button')]
    assert (
        sorted([*keys[:9], keys[10]]) == list('0123456789')
        and 'Clear' in keys
        and 'Connect' in keys
    )

    done = enter_pin(pad, '1234').follow()
    for text in (
        'Single Log Out',
        'Logging out',
        f'{SP_BASE}/metadata',
        'You are logged out from all services.',
        'Click button below to terminate the identity provider session.',
        'Terminate and return to your originating service',
        'Copyright © Information Technology Authority (ITA)',
    ):
        assert text in done.text
    answer = answer_fields(done)
    assert answer['RelayState'] == '/dashboard'

    authentication = world.complete(login, answer)
    assert authentication.civil_id == '90000001'
    assert authentication.method == 'card'
    assert authentication.authn_context == CONTEXTS['card']
    assert authentication.attributes['FullNameEn'] == ['Ali Said Al Jahdhami']
    assert authentication.attributes['FullNameAr'] == ['علي سعيد الجهضمي']
    assert authentication.attributes['Mobile'] == ['99000001']
    assert authentication.in_response_to == login.request_id


def test_asking_for_the_card_goes_straight_to_the_card_reader(world):
    login = world.sp.begin_login(method='card')
    reader = world.idp.get(login.redirect_url).follow()
    assert reader.request.path.endswith('/card')
    assert 'Use another login method' not in reader.text


def test_step_up_with_force_authn_asks_for_the_pin_again(world):
    card_login(world, civil_id='90000002', pin='4321')
    login, answer = card_login(
        world, civil_id='90000002', pin='4321', method='card', force_authn=True
    )
    authentication = world.complete(login, answer)
    assert (authentication.civil_id, authentication.method) == ('90000002', 'card')


def test_wrong_pins_count_down_then_block_the_card(world):
    login = world.sp.begin_login(method='card')
    pad = insert_card(world.idp.get(login.redirect_url).follow(), '90000001')
    first = enter_pin(pad, '0000', status=422)
    assert 'Wrong PIN. 2 tries left' in first.text
    second = enter_pin(first, '1111', status=422)
    assert '1 try left' in second.text
    third = enter_pin(second, '2222', status=422)
    assert 'This card is now blocked' in third.text
    assert third.html.find('input', attrs={'name': 'pin'}) is None

    # The right PIN no longer helps, and the card reader shows the card as blocked.
    again = world.sp.begin_login(method='card')
    reader = world.idp.get(again.redirect_url).follow()
    blocked = reader.html.find('button', attrs={'value': '90000001'})
    assert blocked.has_attr('disabled') and 'Blocked' in blocked.text
    assert world.idp.post(reader.request.path, {'civil_id': '90000001'}, status=422)
    other_card = reader.forms[0].submit('civil_id', value='90000002').follow()
    assert other_card.request.path.endswith('/pin')


def test_a_right_pin_resets_the_count(world):
    login = world.sp.begin_login(method='card')
    pad = insert_card(world.idp.get(login.redirect_url).follow(), '90000001')
    wrong = enter_pin(enter_pin(pad, '0000', status=422), '0000', status=422)
    enter_pin(wrong, '1234')
    login = world.sp.begin_login(method='card')
    pad = insert_card(world.idp.get(login.redirect_url).follow(), '90000001')
    assert '2 tries left' in enter_pin(pad, '0000', status=422).text


# -- Mobile ID -------------------------------------------------------------------------------


def test_mobile_login_with_the_phone_and_the_continue_button(world):
    login = world.sp.begin_login()
    chooser = world.idp.get(login.redirect_url).follow()
    form = chooser.forms[1]
    form['mobile'] = '+968 9900 0001'
    wait = form.submit().follow()
    assert '99000001' in wait.text
    status_url = wait.html.find('form', attrs={'data-status-url': True})['data-status-url']
    assert world.idp.get(status_url).json == {'state': 'awaiting_phone'}

    not_yet = wait.forms[0].submit()
    assert 'not been confirmed on the phone yet' in not_yet.text

    phone = world.idp.get(f'{IDP_MOUNT}/phone/99000001')
    assert f'{SP_BASE}/metadata' in phone.text
    confirmed = confirm_on_phone(world, '99000001', '1234')
    assert 'Login confirmed' in confirmed.text
    assert world.idp.get(status_url).json == {'state': 'approved'}

    done = not_yet.forms[0].submit().follow()
    assert 'Single Log Out' in done.text
    authentication = world.complete(login, answer_fields(done))
    assert authentication.civil_id == '90000001'
    assert authentication.method == 'mobile'
    assert authentication.authn_context == CONTEXTS['mobile']


def test_asking_for_mobile_with_a_hint_goes_straight_to_the_phone(world):
    login, answer = mobile_login(world, mobile='99000008', pin='8888')
    authentication = world.complete(login, answer)
    assert authentication.civil_id == '90000008'
    assert authentication.attributes['FullNameAr'] == ['مريم سالم الحارثية']


def test_unknown_mobile_number_is_refused_on_the_chooser(world):
    login = world.sp.begin_login()
    form = world.idp.get(login.redirect_url).follow().forms[1]
    form['mobile'] = '91234567'
    page = form.submit(status=422)
    assert 'No PKI enabled SIM card is registered for this mobile number.' in page.text


def test_wrong_phone_pins_block_the_sim(world):
    login = world.sp.begin_login(method='mobile', login_hint='99000002')
    wait = world.idp.get(login.redirect_url).follow()
    assert '2 tries left' in confirm_on_phone(world, '99000002', '0000').text
    assert '1 try left' in confirm_on_phone(world, '99000002', '0000').text
    assert 'Your Mobile ID is now blocked' in confirm_on_phone(world, '99000002', '0000').text
    assert 'blocked' in wait.forms[0].submit().text

    chooser = world.idp.get(world.sp.begin_login().redirect_url).follow()
    form = chooser.forms[1]
    form['mobile'] = '99000002'
    assert 'blocked' in form.submit(status=422).text


def test_declining_on_the_phone(world):
    login = world.sp.begin_login(method='mobile', login_hint='99000001')
    wait = world.idp.get(login.redirect_url).follow()
    world.idp.get(f'{IDP_MOUNT}/phone/99000001').forms[0].submit('decline')
    assert 'declined on the phone' in wait.forms[0].submit().text


# -- answers without an authentication -------------------------------------------------------


def test_cancelling_answers_the_service_with_a_failure(world):
    login = world.sp.begin_login()
    chooser = world.idp.get(login.redirect_url).follow()
    page = chooser.forms[0].submit().follow()
    assert 'You cancelled the login.' in page.text
    with pytest.raises(PkiError) as refused:
        world.complete(login, answer_fields(page))
    assert refused.value.reason == 'status'


def test_a_context_the_idp_does_not_offer_is_answered_with_a_failure(world):
    sp = world.make_sp(
        accepted_contexts={'password': 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password'}
    )
    login = sp.begin_login(method='password')
    page = world.idp.get(login.redirect_url).follow()
    assert 'does not offer' in page.text
    answer = answer_fields(page)
    assert 'urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext' in answer_xml(answer)
    with pytest.raises(PkiError) as refused:
        sp.complete_login(
            answer['SAMLResponse'],
            expected_request_ids={login.request_id: 'password'},
            replay_cache=world.replay_cache,
        )
    assert refused.value.reason == 'status'


def test_unsigned_authn_request_is_refused(world):
    login = world.sp.begin_login()
    unsigned = re.sub(r'&Signature=[^&]*', '', login.redirect_url)
    page = world.idp.get(unsigned, status=400)
    assert 'The login request could not be verified.' in page.text


def test_a_login_address_that_is_not_in_progress(world):
    assert (
        'no longer in progress' in world.idp.get(f'{IDP_MOUNT}/login/unknown/pin', status=404).text
    )


# -- single log-out --------------------------------------------------------------------------


def test_portal_initiated_logout_shows_single_log_out_and_answers_signed(world):
    login, answer = card_login(world)
    authentication = world.complete(login, answer)
    assert '90000001' in world.idp.get(f'{IDP_MOUNT}/').text

    request_id, url = world.sp.begin_logout(
        name_id=authentication.name_id, session_index=authentication.session_index
    )
    page = world.idp.get(url)
    assert 'Single Log Out' in page.text and 'You are logged out from all services.' in page.text
    back = page.html.find('a', string=re.compile('Terminate and return'))['href']
    assert back.startswith(f'{SP_BASE}/sls?SAMLResponse=')
    world.sp.complete_logout(query_of(back), expected_request_ids={request_id})
    assert 'No sessions have been issued yet.' in world.idp.get(f'{IDP_MOUNT}/').text


def test_unsigned_logout_request_is_refused(world):
    login, answer = card_login(world)
    authentication = world.complete(login, answer)
    _request_id, url = world.sp.begin_logout(
        name_id=authentication.name_id, session_index=authentication.session_index
    )
    page = world.idp.get(re.sub(r'&Signature=[^&]*', '', url), status=400)
    assert 'The log-out request could not be verified.' in page.text


def test_idp_initiated_logout_reaches_the_portal_and_comes_back(world):
    login, answer = card_login(world)
    authentication = world.complete(login, answer)
    sessions = world.idp.get(f'{IDP_MOUNT}/')
    to_portal = sessions.forms[0].submit(status=303)
    location = to_portal.headers['Location']
    assert location.startswith(f'{SP_BASE}/sls?SAMLRequest=')

    name_id, back = world.sp.answer_logout_request(query_of(location))
    assert name_id == authentication.name_id
    home = world.idp.get(back, status=303).follow()
    assert 'The portal has logged the member out.' in home.text
    assert 'No sessions have been issued yet.' in home.text


# -- metadata, keys, settings ----------------------------------------------------------------


def test_metadata_is_published_and_written_at_start(world):
    published = world.idp.get(f'{IDP_MOUNT}/metadata')
    assert published.content_type == 'application/samlmetadata+xml'
    written = (world.directory / 'idp-metadata.xml').read_text(encoding='utf-8')
    assert published.text == written
    assert 'entityID="http://localhost/idp/metadata"' in written
    assert 'Location="http://localhost/idp/sso"' in written
    assert 'Location="http://localhost/idp/slo"' in written
    assert 'WantAuthnRequestsSigned="true"' in written
    assert 'SignatureValue' in written


def test_the_key_pair_is_made_once_and_kept(tmp_path):
    make_world(tmp_path)
    certificate = (tmp_path / 'idp' / 'idp.crt').read_text()
    assert 'BEGIN CERTIFICATE' in certificate
    assert oct((tmp_path / 'idp' / 'idp.key').stat().st_mode & 0o777) == '0o600'
    pki_idp.main(
        {},
        **{
            'pki_idp.key_file': str(tmp_path / 'idp' / 'idp.key'),
            'pki_idp.cert_file': str(tmp_path / 'idp' / 'idp.crt'),
            'pki_idp.metadata_file': str(tmp_path / 'again.xml'),
            'pki_idp.sp_metadata_file': str(tmp_path / 'sp-metadata.xml'),
        },
    )
    assert (tmp_path / 'idp' / 'idp.crt').read_text() == certificate


def test_the_portal_metadata_may_appear_after_the_idp_starts(tmp_path, key_material):
    world = make_world(tmp_path, key_material)
    metadata = (tmp_path / 'sp-metadata.xml').read_text()
    (tmp_path / 'sp-metadata.xml').unlink()
    login = world.sp.begin_login()
    assert (
        'has not published its metadata yet' in world.idp.get(login.redirect_url, status=400).text
    )
    (tmp_path / 'sp-metadata.xml').write_text(metadata)
    world.idp.get(login.redirect_url, status=303)


def test_test_switches_are_off_unless_enabled(tmp_path, key_material):
    world = make_world(tmp_path, key_material, test_switches=False)
    world.idp.post(f'{IDP_MOUNT}/_switch', {'respond_with': 'unsigned'}, status=404)


def test_unknown_switch_is_refused(world):
    world.idp.post(f'{IDP_MOUNT}/_switch', {'respond_with': 'chaos'}, status=400)


def test_missing_settings_are_named():
    with pytest.raises(ValueError, match=r'pki_idp\.sp_metadata_file'):
        pki_idp.main(
            {}, **{'pki_idp.key_file': 'k', 'pki_idp.cert_file': 'c', 'pki_idp.metadata_file': 'm'}
        )


# -- languages -------------------------------------------------------------------------------


def test_arabic_pages_are_right_to_left(world):
    login = world.sp.begin_login(method='card')
    reader = world.idp.get(login.redirect_url).follow()
    switch = reader.click(description='العربية')
    assert switch.status_int == 303
    arabic = switch.follow()
    assert arabic.request.path == reader.request.path
    html = arabic.html.find('html')
    assert (html['lang'], html['dir']) == ('ar', 'rtl')
    assert 'أدخل بطاقتك الشخصية' in arabic.text
    assert 'علي سعيد الجهضمي' in arabic.text
    assert 'English' in arabic.text
    wrong = enter_pin(insert_card(arabic, '90000001'), '0000', status=422)
    assert 'رقم سري خاطئ. تبقّت محاولتان' in wrong.text


def test_the_language_switch_stays_on_our_pages(world):
    response = world.idp.get(
        f'{IDP_MOUNT}/language', {'lang': 'ar', 'came_from': '//evil.example/x'}
    )
    assert response.headers['Location'] == 'http://localhost/idp/'


def source_messages():
    method_map = [('**.py', 'python'), ('templates/**.jinja2', 'jinja2.ext:babel_extract')]
    options = {'templates/**.jinja2': {'extensions': 'jinja2.ext.i18n'}}
    found = extract_from_dir(
        str(PACKAGE),
        method_map=method_map,
        options_map=options,
        keywords={'_': None, 'pluralize': (1, 2)},
    )
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_the_arabic_catalog_is_complete():
    with open(PACKAGE / 'locale' / 'ar' / 'LC_MESSAGES' / 'pki_idp.po', 'rb') as po:
        catalog = read_po(po)
    assert not catalog.fuzzy and catalog.num_plurals == 6
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]: message.string
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }
    assert source_messages() - set(translated) == set()
    placeholder = re.compile(r'\$\{[^}]*\}|%\([a-z]+\)s')
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(placeholder.findall(' '.join(ids)))
        # Arabic's singular and dual forms may leave the number out, but no form may invent one.
        used = [set(placeholder.findall(form)) for form in forms]
        if set().union(*used) != expected or any(not names <= expected for names in used):
            wrong.append(ids[0])
    assert wrong == []
