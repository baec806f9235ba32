"""The development PKI identity provider, driven through its pages like a member would.

Every journey ends with the signed SAMLResponse of the "Single Log Out" page checked by the
portal's real SP adapter, so both sides of the protocol are exercised with xmlsec1.
"""

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

import pki_idp
from occi_site.integrations.pki import PkiError
from pki_idp.dev_card.issuer import CertificationAuthority, key_usage
from pki_idp.people import Person

from .pki_helpers import (
    CONTEXTS,
    IDP_BASE,
    IDP_MOUNT,
    IDP_ORIGIN,
    SP_BASE,
    answer_fields,
    answer_xml,
    ask_agent,
    card_login,
    confirm_on_phone,
    enter_pin,
    make_world,
    mobile_login,
    post_card_answer,
    query_of,
)

PACKAGE = Path(pki_idp.__file__).parent


# -- smart card ------------------------------------------------------------------------------


def card_pad(world, civil_id=None, **login_options):
    """(LoginRequest, the PIN pad page), with the card of `civil_id` in the reader."""
    login = world.sp.begin_login(method='card', **login_options)
    pad = world.idp.get(login.redirect_url).follow()
    if civil_id:
        world.cards.insert(civil_id)
    return login, pad


def refusal_on(page):
    return page.html.find(attrs={'data-problem': True}).text.strip()


def test_card_login_through_the_chooser_ends_on_single_log_out(world):
    world.cards.remove()
    login = world.sp.begin_login(relay_state='/dashboard')
    chooser = world.idp.get(login.redirect_url).follow()
    assert 'Login with Mobile ID' in chooser.text
    assert 'To use this login method you need PKI enabled SIM card' in chooser.text
    assert 'Login with Smart Card/USB token' in chooser.text
    assert 'To use this login method you need civil ID card and ID card reader' in chooser.text

    pad = chooser.click(description='Login using card')
    assert 'Authenticate using your smart card' in pad.text
    keys = [button.text.strip() for button in pad.html.select('.keys button')]
    assert (
        sorted([*keys[:9], keys[10]]) == list('0123456789')
        and 'Clear' in keys
        and 'Connect' in keys
    )
    # The page reaches the card agent on the member's computer with a fresh challenge; the
    # PIN field has no name, so the form cannot carry the PIN here.
    assert pad.html.find(attrs={'data-card-agent': True})['data-card-agent'] == (
        'http://127.0.0.1:24730'
    )
    form = pad.forms['pin-pad']
    assert set(form.fields) - {None} == {'challenge', 'certificate', 'signature'}
    assert pad.html.find('input', attrs={'type': 'password'}).get('name') is None
    assert pad.html.find('script', src=re.compile('pin_pad.js')) is not None
    assert 'Insert your civil ID card into the card reader.' in pad.text

    # The development reader: a button per test person's card.
    reader = pad.forms[1]
    assert reader.action == f'{IDP_BASE}/_dev/card-reader'
    assert {button['value'] for button in pad.html.select('button[name=insert]')} == {
        '90000001',
        '90000002',
        '90000008',
        '90000009',
    }
    pad = reader.submit('insert', value='90000001').follow()
    assert pad.request.path.endswith('/card')
    assert pad.html.find('button', attrs={'value': '90000001'})['aria-pressed'] == 'true'

    done = enter_pin(pad, world.agent, '1234').follow()
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


def test_asking_for_the_card_goes_straight_to_the_pin_pad(world):
    _login, pad = card_pad(world)
    assert pad.request.path.endswith('/card')
    assert 'Use another login method' not in pad.text


def test_step_up_with_force_authn_asks_for_the_pin_again(world):
    card_login(world, civil_id='90000002', pin='4321')
    login, answer = card_login(
        world, civil_id='90000002', pin='4321', method='card', force_authn=True
    )
    authentication = world.complete(login, answer)
    assert (authentication.civil_id, authentication.method) == ('90000002', 'card')


def test_the_pad_knows_what_to_say_for_each_answer_of_the_agent(world):
    _login, pad = card_pad(world)
    messages = {item['data-message']: item.text for item in pad.html.select('[data-messages] li')}
    assert messages['wrong_pin-2'] == 'Wrong PIN. 2 tries left'
    assert messages['wrong_pin-1'] == 'Wrong PIN. 1 try left'
    for code in (
        'no_agent',
        'origin',
        'no_service',
        'no_reader',
        'no_card',
        'card_removed',
        'unknown_card',
        'bad_pin',
        'pin_blocked',
        'card_failed',
    ):
        assert messages[code]
    assert len(set(messages.values())) == len(messages)


def test_a_wrong_pin_stays_between_the_agent_and_the_card(world):
    login, pad = card_pad(world, '90000001')
    refused = enter_pin(pad, world.agent, '0000')
    assert refused == {'error': 'wrong_pin', 'tries_left': 2}
    done = enter_pin(pad, world.agent, '1234').follow()
    assert world.complete(login, answer_fields(done)).civil_id == '90000001'


def test_a_card_of_another_national_ca_is_refused(world):
    foreign = CertificationAuthority.create('Another certification authority')
    login, pad = card_pad(world)
    world.cards.insert(world.cards.new_card('90000001', ca=foreign))
    page = enter_pin(pad, world.agent, '1234', status=422)
    assert refusal_on(page) == ('Your card was not issued by the national certification authority.')
    # The page offers a new challenge: the right card then logs in.
    world.cards.insert('90000001')
    done = enter_pin(page, world.agent, '1234').follow()
    assert world.complete(login, answer_fields(done)).civil_id == '90000001'


@pytest.mark.parametrize(
    'days, message',
    [
        ((-900, -1), "Your card's certificate has expired. Please renew your card."),
        ((1, 900), "Your card's certificate is not valid yet."),
    ],
)
def test_a_card_outside_its_validity_dates_is_refused(world, days, message):
    now = datetime.now(UTC)
    card = world.cards.new_card(
        '90000002',
        not_before=now + timedelta(days=days[0]),
        not_after=now + timedelta(days=days[1]),
    )
    _login, pad = card_pad(world)
    world.cards.insert(card)
    assert refusal_on(enter_pin(pad, world.agent, '4321', status=422)) == message


def test_a_certificate_not_meant_for_logging_in_is_refused(world):
    ca = world.cards.folder.ca()
    card = world.cards.new_card('90000001')
    certificate = x509.load_der_x509_certificate(card.certificate)
    builder = (
        x509.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(ca.certificate.subject)
        .public_key(card.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(certificate.not_valid_before_utc)
        .not_valid_after(certificate.not_valid_after_utc)
        .add_extension(key_usage(key_encipherment=True), critical=True)
    )
    card.certificate = builder.sign(ca.key, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER
    )
    _login, pad = card_pad(world)
    world.cards.insert(card)
    page = enter_pin(pad, world.agent, '1234', status=422)
    assert refusal_on(page) == "Your card's certificate is not meant for logging in."


def test_a_signature_that_does_not_match_the_certificate_is_refused(world):
    _login, pad = card_pad(world, '90000001')
    answer = ask_agent(world.agent, IDP_ORIGIN, pad.forms['pin-pad']['challenge'].value, '1234')
    other = ask_agent(world.agent, IDP_ORIGIN, 'some-other-challenge-entirely', '1234')
    page = post_card_answer(pad, dict(answer, signature=other['signature']), status=422)
    assert refusal_on(page) == "Your card's signature does not match its certificate."


def test_a_challenge_is_good_for_one_answer_only(world):
    _login, pad = card_pad(world, '90000001')
    answer = ask_agent(world.agent, IDP_ORIGIN, pad.forms['pin-pad']['challenge'].value, '1234')
    # The first answer with this challenge is spent (here on a broken signature) ...
    broken = dict(answer, signature=base64.b64encode(b'\0' * 256).decode())
    first = post_card_answer(pad, broken, status=422)
    assert refusal_on(first) == "Your card's signature does not match its certificate."
    # ... so the card's genuine answer to it no longer counts.
    again = post_card_answer(pad, answer, status=422)
    assert refusal_on(again) == 'This answer of your card was already used. Enter your PIN again.'
    assert again.forms['pin-pad']['challenge'].value != pad.forms['pin-pad']['challenge'].value


def test_a_challenge_of_another_login_is_refused(world):
    _first, first_pad = card_pad(world, '90000001')
    answer = ask_agent(
        world.agent, IDP_ORIGIN, first_pad.forms['pin-pad']['challenge'].value, '1234'
    )
    _second, second_pad = card_pad(world)
    # The answer relayed into the other login, with its challenge ...
    form = second_pad.forms['pin-pad']
    form['challenge'].force_value(first_pad.forms['pin-pad']['challenge'].value)
    relayed = post_card_answer(second_pad, answer, status=422)
    assert refusal_on(relayed) == (
        'Your card signed the challenge of another login. Enter your PIN again.'
    )
    # ... or with the other login's own challenge, which the card did not sign.
    page = post_card_answer(relayed, answer, status=422)
    assert refusal_on(page) == "Your card's signature does not match its certificate."


def test_an_answer_without_a_card_is_refused(world):
    _login, pad = card_pad(world)
    page = pad.forms['pin-pad'].submit(status=422)
    assert refusal_on(page) == 'No answer from your card was received. Enter your PIN again.'
    unknown = page.forms['pin-pad']
    unknown['challenge'].force_value('never-issued-by-this-identity-provider')
    refused = unknown.submit(status=422)
    assert refusal_on(refused) == (
        'This login was not waiting for this answer of your card. Enter your PIN again.'
    )


def test_a_card_of_someone_unknown_is_refused(world):
    stranger = Person('90000003', '5555', '99000003', 'Someone Else', 'شخص آخر')
    card = world.cards.folder.ca().card(stranger)
    _login, pad = card_pad(world)
    world.cards.insert(card)
    page = enter_pin(pad, world.agent, '5555', status=422)
    assert refusal_on(page) == 'No person with the civil ID of this card is known here.'


def test_without_the_national_ca_file_the_card_is_refused(world):
    _login, pad = card_pad(world, '90000001')
    ca_file = world.cards.folder.ca_file
    kept = ca_file.read_bytes()
    ca_file.unlink()
    try:
        page = enter_pin(pad, world.agent, '1234', status=422)
    finally:
        ca_file.write_bytes(kept)
    assert refusal_on(page) == (
        'Smart card login is not available at the moment. Please use Mobile ID.'
    )


# -- the development card reader -------------------------------------------------------------


def test_the_virtual_card_reader_page(world):
    page = world.idp.get(f'{IDP_MOUNT}/_dev/card-reader')
    assert 'Virtual card reader' in page.text
    page = page.forms[0].submit('insert', value='90000008').follow()
    assert page.request.path == f'{IDP_MOUNT}/_dev/card-reader'
    assert page.html.find('button', attrs={'value': '90000008'})['aria-pressed'] == 'true'
    assert 'In the reader' in page.text
    assert world.cards.slot.card is world.cards.card('90000008')
    page = page.forms[0].submit('remove').follow()
    assert world.cards.slot.card is None
    assert page.html.find('button', attrs={'name': 'remove'}).has_attr('disabled')
    # Only pages of ours to go back to, and only cards of the test people.
    back = world.idp.post(
        f'{IDP_MOUNT}/_dev/card-reader', {'remove': '1', 'came_from': '//evil.example/'}
    )
    assert back.headers['Location'] == f'{IDP_BASE}/_dev/card-reader'
    refused = world.idp.post(f'{IDP_MOUNT}/_dev/card-reader', {'insert': '12345678'}, status=422)
    assert 'The card could not be put in the reader.' in refused.text


def test_the_virtual_card_reader_when_its_process_is_not_running(
    tmp_path, key_material, card_stack
):
    world = make_world(tmp_path, card_stack, key_material, reader_socket=str(tmp_path / 'none'))
    _login, pad = card_pad(world)
    assert 'The virtual card reader is not running (make run starts it).' in pad.text
    assert world.idp.get(f'{IDP_MOUNT}/_dev/card-reader').status_int == 200


def test_no_virtual_card_reader_without_the_setting(tmp_path, key_material, card_stack):
    world = make_world(tmp_path, card_stack, key_material, reader_socket='')
    _login, pad = card_pad(world)
    assert 'Virtual card reader' not in pad.text
    assert pad.html.find('form', action=re.compile('_dev')) is None
    world.idp.get(f'{IDP_MOUNT}/_dev/card-reader', status=404)
    world.idp.post(f'{IDP_MOUNT}/_dev/card-reader', {'insert': '90000001'}, status=404)


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
        'no longer in progress' in world.idp.get(f'{IDP_MOUNT}/login/unknown/card', status=404).text
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

    logout = world.sp.answer_logout_request(query_of(location), replay_cache=world.replay_cache)
    assert logout.name_id == authentication.name_id
    home = world.idp.get(logout.redirect_url, status=303).follow()
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


def test_the_key_pair_is_made_once_and_kept(tmp_path, card_stack):
    make_world(tmp_path, card_stack)
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
            'pki_idp.national_ca_file': card_stack.ca_file,
        },
    )
    assert (tmp_path / 'idp' / 'idp.crt').read_text() == certificate


def test_the_portal_metadata_may_appear_after_the_idp_starts(tmp_path, key_material, card_stack):
    world = make_world(tmp_path, card_stack, key_material)
    metadata = (tmp_path / 'sp-metadata.xml').read_text()
    (tmp_path / 'sp-metadata.xml').unlink()
    login = world.sp.begin_login()
    assert (
        'has not published its metadata yet' in world.idp.get(login.redirect_url, status=400).text
    )
    (tmp_path / 'sp-metadata.xml').write_text(metadata)
    world.idp.get(login.redirect_url, status=303)


def test_test_switches_are_off_unless_enabled(tmp_path, key_material, card_stack):
    world = make_world(tmp_path, card_stack, key_material, test_switches=False)
    world.idp.post(f'{IDP_MOUNT}/_switch', {'respond_with': 'unsigned'}, status=404)


def test_unknown_switch_is_refused(world):
    world.idp.post(f'{IDP_MOUNT}/_switch', {'respond_with': 'chaos'}, status=400)


def test_missing_settings_are_named():
    with pytest.raises(ValueError, match=r'pki_idp\.sp_metadata_file, pki_idp\.national_ca_file'):
        pki_idp.main(
            {}, **{'pki_idp.key_file': 'k', 'pki_idp.cert_file': 'c', 'pki_idp.metadata_file': 'm'}
        )


# -- languages -------------------------------------------------------------------------------


def test_arabic_pages_are_right_to_left(world):
    _login, pad = card_pad(world)
    switch = pad.click(description='العربية')
    assert switch.status_int == 303
    arabic = switch.follow()
    assert arabic.request.path == pad.request.path
    html = arabic.html.find('html')
    assert (html['lang'], html['dir']) == ('ar', 'rtl')
    assert 'تحقّق من هويتك باستخدام بطاقتك الذكية' in arabic.text
    assert 'أدخل بطاقتك الشخصية في قارئ البطاقات.' in arabic.text
    assert 'علي سعيد الجهضمي' in arabic.text
    assert 'English' in arabic.text
    messages = {
        item['data-message']: item.text for item in arabic.html.select('[data-messages] li')
    }
    assert messages['wrong_pin-2'] == 'رقم سري خاطئ. تبقّت محاولتان'
    world.cards.insert(world.cards.new_card('90000001', not_after=datetime.now(UTC)))
    refused = enter_pin(arabic, world.agent, '1234', status=422)
    assert refusal_on(refused) == 'انتهت صلاحية شهادة بطاقتك. يُرجى تجديد بطاقتك.'


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
