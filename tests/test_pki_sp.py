"""The portal's SAML service provider adapter: what it sends, and every answer it must refuse.

Real answers come from the development IdP (with its test switches for misbehaving ones); the
attacks an IdP would never make (wrapping, replays, DTDs...) are made here from real answers.
"""

import re
import subprocess
import zlib
from base64 import b64decode
from datetime import UTC, datetime, timedelta

import pytest

from occi_site.integrations.pki import MemoryReplayCache, PkiError, PkiSetupError

from .pki_helpers import (
    CONTEXTS,
    SP_BASE,
    answer_xml,
    encode_answer,
    mobile_login,
    query_of,
    query_values,
)

ASSERTION = re.compile(r'<ns1:Assertion .*</ns1:Assertion>', re.S)
SIGNATURE = re.compile(r'<ns2:Signature>.*?</ns2:Signature>', re.S)


def refusal(world, login, answer, **overrides):
    with pytest.raises(PkiError) as refused:
        world.complete(login, answer, **overrides)
    return refused.value


def inflate(value):
    return zlib.decompress(b64decode(value), -15).decode('utf-8')


# -- what the portal sends -------------------------------------------------------------------


def test_metadata_is_signed_and_declares_the_bindings(world, tmp_path):
    metadata = world.sp.metadata_xml()
    assert 'AuthnRequestsSigned="true"' in metadata and 'WantAssertionsSigned="true"' in metadata
    assert re.search(
        r'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://localhost/saml/acs"',
        metadata,
    )
    assert re.search(
        r'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        r'Location="http://localhost/saml/sls"',
        metadata,
    )
    # The algorithms named, not the whole text: a signature's base64 may spell 'md5'.
    algorithms = re.findall(r'Algorithm="([^"]+)"', metadata)
    assert algorithms and not [name for name in algorithms if 'sha1' in name or 'md5' in name]
    (tmp_path / 'signed.xml').write_text(metadata)
    subprocess.run(
        [
            'xmlsec1',
            '--verify',
            '--pubkey-cert-pem',
            world.sp.cert_file,
            '--id-attr:ID',
            'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor',
            str(tmp_path / 'signed.xml'),
        ],
        check=True,
        capture_output=True,
    )


def test_authn_request_is_signed_and_says_what_is_asked(world):
    login = world.sp.begin_login(
        method='mobile', login_hint='99000001', force_authn=True, relay_state='/x'
    )
    values = query_values(login.redirect_url)
    assert login.redirect_url.startswith('http://localhost/idp/sso?')
    assert (
        values['SigAlg'] == 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
        and values['Signature']
    )
    assert values['RelayState'] == '/x'
    request = inflate(values['SAMLRequest'])
    assert 'ForceAuthn="true"' in request
    assert (
        'Comparison="exact"' in request
        and CONTEXTS['mobile'] in request
        and CONTEXTS['card'] not in request
    )
    assert re.search(
        r'<ns\d:NameID[^>]*nameid-format:unspecified[^>]*>99000001</ns\d:NameID>', request
    )
    assert f'AssertionConsumerServiceURL="{SP_BASE}/acs"' in request
    assert (login.method, login.request_id) == (
        'mobile',
        re.search(r' ID="([^"]+)"', request).group(1),
    )


def test_login_without_a_method_accepts_either(world):
    request = inflate(query_values(world.sp.begin_login().redirect_url)['SAMLRequest'])
    assert CONTEXTS['mobile'] in request and CONTEXTS['card'] in request


def test_check_xmlsec(world):
    world.sp.check_xmlsec()
    with pytest.raises(PkiSetupError, match='xmlsec1 is missing'):
        world.make_sp(xmlsec_binary='/nonexistent/xmlsec1').check_xmlsec()


def test_missing_idp_metadata_is_a_polite_error(world):
    sp = world.make_sp(idp_metadata_file=str(world.directory / 'absent.xml'))
    with pytest.raises(PkiError) as refused:
        sp.begin_login()
    assert refused.value.reason == 'idp_unavailable'
    assert 'not available' in refused.value.message


# -- answers the portal accepts --------------------------------------------------------------


def test_the_civil_id_can_come_from_the_name_id(world):
    login, answer = mobile_login(world)
    sp = world.make_sp(civil_id_attribute='nameid')
    authentication = sp.complete_login(
        answer['SAMLResponse'],
        expected_request_ids={login.request_id},
        replay_cache=MemoryReplayCache(),
    )
    assert authentication.civil_id == '90000001'


def test_a_slow_clock_within_the_skew_is_tolerated(world):
    login, answer = mobile_login(world)
    sp = world.make_sp(clock=lambda: datetime.now(UTC) - timedelta(seconds=60))
    sp.complete_login(
        answer['SAMLResponse'],
        expected_request_ids={login.request_id},
        replay_cache=MemoryReplayCache(),
    )


# -- answers the portal refuses --------------------------------------------------------------


@pytest.mark.parametrize(
    'how, reason',
    [
        ('unsigned', 'unsigned'),
        ('tampered', 'bad_signature'),
        ('attacker_signed', 'bad_signature'),
        ('wrong_audience', 'wrong_audience'),
        ('expired', 'expired'),
        ('not_yet_valid', 'not_yet_valid'),
        ('wrong_issuer', 'wrong_issuer'),
        ('failure_status', 'status'),
        ('wrong_context', 'weak_context'),
    ],
)
def test_misbehaving_idp_answers_are_refused(world, how, reason):
    world.misbehave(how)
    login, answer = mobile_login(world)
    error = refusal(world, login, answer)
    assert error.reason == reason
    assert error.in_response_to == login.request_id
    assert str(error.message)


def test_the_attacker_certificate_really_is_embedded(world):
    world.misbehave('attacker_signed')
    _login, answer = mobile_login(world)
    pem = (world.directory / 'idp' / 'idp.crt').read_text()
    idp_certificate = ''.join(pem.splitlines()[1:-1])
    embedded = re.findall(r'<ns2:X509Certificate>([^<]+)<', answer_xml(answer))
    assert embedded and idp_certificate not in embedded


def test_stripped_signatures_are_refused(world):
    login, answer = mobile_login(world)
    stripped = SIGNATURE.sub('', answer_xml(answer))
    assert refusal(world, login, encode_answer(stripped)).reason == 'unsigned'


def test_extra_unsigned_assertion_is_refused(world):
    login, answer = mobile_login(world)
    xml = answer_xml(answer)
    signed = ASSERTION.search(xml).group(0)
    forged = SIGNATURE.sub('', signed).replace('>90000001<', '>90000009<')
    forged = re.sub(r' ID="[^"]+"', ' ID="id-forged"', forged, count=1)
    for both in (signed + forged, forged + signed):
        error = refusal(
            world, login, encode_answer(SIGNATURE.sub('', xml, count=1).replace(signed, both))
        )
        assert error.reason == 'wrapping'


def test_signed_assertion_moved_is_refused(world):
    """Signature wrapping: the signed assertion hides inside a forged one."""
    login, answer = mobile_login(world)
    xml = SIGNATURE.sub('', answer_xml(answer), count=1)
    signed = ASSERTION.search(xml).group(0)
    forged = SIGNATURE.sub('', signed).replace('>90000001<', '>90000009<')
    forged = forged.replace(
        '</ns1:Assertion>', f'<ns1:Advice>{signed}</ns1:Advice></ns1:Assertion>'
    )
    assert refusal(world, login, encode_answer(xml.replace(signed, forged))).reason == 'wrapping'


def test_signed_assertion_moved_outside_the_response_is_refused(world):
    login, answer = mobile_login(world)
    xml = SIGNATURE.sub('', answer_xml(answer), count=1)
    signed = ASSERTION.search(xml).group(0)
    forged = SIGNATURE.sub('', signed).replace('>90000001<', '>90000009<')
    moved = xml.replace(signed, forged).replace(
        '<ns0:Status>', f'<ns0:Extensions>{signed}</ns0:Extensions><ns0:Status>'
    )
    assert refusal(world, login, encode_answer(moved)).reason == 'wrapping'


def test_replayed_answer_is_refused(world):
    login, answer = mobile_login(world)
    world.complete(login, answer)
    error = refusal(world, login, answer)
    assert error.reason == 'replay'


def test_the_replay_cache_forgets_after_not_on_or_after():
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    cache = MemoryReplayCache(clock=lambda: now[0])
    assert cache.seen_before('a', now[0] + timedelta(minutes=5)) is False
    assert cache.seen_before('a', now[0] + timedelta(minutes=5)) is True
    now[0] += timedelta(minutes=6)
    assert cache.seen_before('a', now[0] + timedelta(minutes=5)) is False


def test_answer_to_another_session_is_refused(world):
    login, answer = mobile_login(world)
    other = world.sp.begin_login()
    error = refusal(world, login, answer, expected_request_ids={other.request_id: None})
    assert error.reason == 'unknown_request'
    assert refusal(world, login, answer, expected_request_ids=set()).reason == 'unknown_request'


def test_unsolicited_answer_is_refused(world):
    login, answer = mobile_login(world)
    xml = SIGNATURE.sub('', answer_xml(answer), count=1)
    xml = re.sub(r'(<ns0:Response[^>]*?) InResponseTo="[^"]+"', r'\1', xml, count=1)
    assert refusal(world, login, encode_answer(xml)).reason == 'unsolicited'


def test_assertion_for_another_request_in_a_new_envelope_is_refused(world):
    """A signed assertion answering request A, re-wrapped as the answer to request B."""
    first, answer = mobile_login(world)
    second = world.sp.begin_login()
    xml = SIGNATURE.sub('', answer_xml(answer), count=1)
    xml = xml.replace(
        f'InResponseTo="{first.request_id}" Version',
        f'InResponseTo="{second.request_id}" Version',
        1,
    )
    error = refusal(world, second, encode_answer(xml))
    assert error.reason == 'in_response_to_mismatch'


def test_a_method_other_than_the_one_asked_for_is_refused(world):
    login, answer = mobile_login(world)
    error = refusal(world, login, answer, expected_request_ids={login.request_id: 'card'})
    assert error.reason == 'wrong_context'


def test_a_missing_civil_id_is_refused(world):
    login, answer = mobile_login(world)
    sp = world.make_sp(civil_id_attribute='PassportNumber')
    with pytest.raises(PkiError) as refused:
        sp.complete_login(
            answer['SAMLResponse'],
            expected_request_ids={login.request_id},
            replay_cache=MemoryReplayCache(),
        )
    assert refused.value.reason == 'no_civil_id'


@pytest.mark.parametrize(
    'doctype',
    [
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
    ],
)
def test_doctypes_are_refused(world, doctype):
    login, answer = mobile_login(world)
    xml = answer_xml(answer).replace('<?xml version="1.0"?>', f'<?xml version="1.0"?>{doctype}', 1)
    assert refusal(world, login, encode_answer(xml)).reason == 'doctype'


def test_garbage_is_refused(world):
    login, _answer = mobile_login(world)
    assert refusal(world, login, {'SAMLResponse': '%%%'}).reason == 'malformed'
    assert refusal(world, login, encode_answer('<not-saml/>')).reason == 'malformed'


# -- single log-out --------------------------------------------------------------------------


def logged_in(world):
    login, answer = mobile_login(world)
    return world.complete(login, answer)


def test_logout_request_names_the_session(world):
    authentication = logged_in(world)
    request_id, url = world.sp.begin_logout(
        name_id=authentication.name_id,
        session_index=authentication.session_index,
        relay_state='/bye',
    )
    values = query_values(url)
    request = inflate(values['SAMLRequest'])
    assert values['Signature'] and values['RelayState'] == '/bye'
    assert (
        request_id in request
        and authentication.session_index in request
        and '>90000001<' in request
    )


def idp_logout_answer(world):
    authentication = logged_in(world)
    request_id, url = world.sp.begin_logout(
        name_id=authentication.name_id, session_index=authentication.session_index
    )
    page = world.idp.get(url)
    back = page.html.find('a', string=re.compile('Terminate and return'))['href']
    return request_id, back


def test_logout_response_accepted_as_raw_query_or_mapping(world):
    request_id, back = idp_logout_answer(world)
    world.sp.complete_logout(query_of(back), expected_request_ids={request_id})
    world.sp.complete_logout(query_values(back), expected_request_ids=[request_id])


def test_logout_response_for_another_request_or_forged_is_refused(world):
    request_id, back = idp_logout_answer(world)
    with pytest.raises(PkiError) as refused:
        world.sp.complete_logout(query_of(back), expected_request_ids={'id-other'})
    assert refused.value.reason == 'unknown_request'
    values = query_values(back)
    values['Signature'] = values['Signature'][::-1]
    with pytest.raises(PkiError) as refused:
        world.sp.complete_logout(values, expected_request_ids={request_id})
    assert refused.value.reason == 'bad_signature'


def idp_logout_request(world):
    logged_in(world)
    return world.idp.get('/idp/').forms[0].submit(status=303).headers['Location']


def test_unsigned_logout_request_from_the_idp_is_refused(world):
    location = idp_logout_request(world)
    unsigned = re.sub(r'&Signature=[^&]*', '', query_of(location))
    with pytest.raises(PkiError) as refused:
        world.sp.answer_logout_request(unsigned, replay_cache=world.replay_cache)
    assert refused.value.reason == 'unsigned'


def test_logout_request_with_a_weak_signature_algorithm_is_refused(world):
    values = query_values(idp_logout_request(world))
    values['SigAlg'] = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'
    with pytest.raises(PkiError) as refused:
        world.sp.answer_logout_request(values, replay_cache=world.replay_cache)
    assert refused.value.reason == 'bad_signature'


def test_logout_answer_to_the_idp_is_signed(world):
    location = idp_logout_request(world)
    back = world.sp.answer_logout_request(
        query_of(location), replay_cache=world.replay_cache
    ).redirect_url
    values = query_values(back)
    assert back.startswith('http://localhost/idp/slo?SAMLResponse=')
    assert values['SigAlg'].endswith('rsa-sha256') and values['Signature']
    assert 'urn:oasis:names:tc:SAML:2.0:status:Success' in inflate(values['SAMLResponse'])


def test_a_logout_request_is_accepted_once(world):
    location = idp_logout_request(world)
    logout = world.sp.answer_logout_request(query_of(location), replay_cache=world.replay_cache)
    assert logout.session_indexes
    with pytest.raises(PkiError) as refused:
        world.sp.answer_logout_request(query_of(location), replay_cache=world.replay_cache)
    assert refused.value.reason == 'replay'
    assert 'already been used' in refused.value.message


def test_a_logout_request_names_only_its_own_session(world):
    location = idp_logout_request(world)
    logout = world.sp.answer_logout_request(query_of(location), replay_cache=world.replay_cache)
    [index] = logout.session_indexes
    assert logout.names(logout.name_id, index)
    assert not logout.names(logout.name_id, index + '-later')
    assert not logout.names('someone-else', index)


def test_an_old_logout_request_is_refused(world):
    location = idp_logout_request(world)
    later = world.make_sp(clock=lambda: datetime.now(UTC) + timedelta(minutes=8))
    with pytest.raises(PkiError) as refused:
        later.answer_logout_request(query_of(location), replay_cache=world.replay_cache)
    assert refused.value.reason == 'expired'


def test_only_a_plain_login_may_be_one_made_before_it_was_asked():
    from types import SimpleNamespace

    from occi_site.views.auth import made_when_asked

    asked_at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    earlier = SimpleNamespace(authenticated_at=asked_at - timedelta(minutes=8))
    within_skew = SimpleNamespace(authenticated_at=asked_at - timedelta(seconds=60))
    assert made_when_asked({'purpose': 'login', 'asked_at': asked_at}, earlier)
    for purpose in ('step_up', 'registration'):
        assert not made_when_asked({'purpose': purpose, 'asked_at': asked_at}, earlier)
        assert made_when_asked({'purpose': purpose, 'asked_at': asked_at}, within_skew)
    # Asked before the portal noted when: as before.
    assert made_when_asked({'purpose': 'step_up'}, earlier)
