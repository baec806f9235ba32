"""The card agent against the emulated card, through the session's private pcscd and Debian's
vpcd: every exchange is a real PC/SC one through pyscard, nothing mocked."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from webtest.http import get_free_port

from card_agent import profile
from pki_idp.dev_card.card import CivilIdCard

from .pki_helpers import agent_client, ask_agent

ORIGIN = 'http://127.0.0.1:6543'
CHALLENGE = 'a-challenge-from-the-identity-provider'
BANK_CARD_AID = bytes.fromhex('A0000000031010')


@pytest.fixture
def agent(card_stack):
    return agent_client(card_stack.agent(ORIGIN))


def read_card(agent, status='*'):
    return agent.get('/card', headers={'Origin': ORIGIN}, status=status).json


def test_the_agent_reads_whose_card_is_in_the_reader(agent, card_stack):
    card_stack.insert('90000002')
    answer = read_card(agent, status=200)
    assert answer['reader'] == 'Virtual PCD 00 00'
    assert (answer['civil_id'], answer['name']) == ('90000002', 'Shamsa Hamed Al Rashdi')
    certificate = x509.load_der_x509_certificate(base64.b64decode(answer['certificate']))
    assert (
        certificate.public_bytes(serialization.Encoding.DER)
        == card_stack.card('90000002').certificate
    )


def test_right_pin_and_the_card_signs_the_challenge(agent, card_stack):
    card_stack.insert('90000001')
    answer = ask_agent(agent, ORIGIN, CHALLENGE, '1234', status=200)
    certificate = x509.load_der_x509_certificate(base64.b64decode(answer['certificate']))
    certificate.public_key().verify(
        base64.b64decode(answer['signature']),
        CHALLENGE.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    assert card_stack.card('90000001').tries_left == profile.PIN_TRIES


def test_wrong_pins_count_down_and_block_the_card_for_good(agent, card_stack):
    card = card_stack.new_card('90000002')
    card_stack.insert(card)
    assert ask_agent(agent, ORIGIN, CHALLENGE, '0000', status=409) == {
        'error': 'wrong_pin',
        'tries_left': 2,
    }
    assert ask_agent(agent, ORIGIN, CHALLENGE, '1111')['tries_left'] == 1
    assert ask_agent(agent, ORIGIN, CHALLENGE, '2222') == {
        'error': 'pin_blocked',
        'tries_left': 0,
    }
    assert ask_agent(agent, ORIGIN, CHALLENGE, '4321')['error'] == 'pin_blocked'
    card_stack.remove()
    card_stack.insert(card)
    assert ask_agent(agent, ORIGIN, CHALLENGE, '4321')['error'] == 'pin_blocked'
    # The card can still be read: the PIN pad shows whose blocked card it is.
    assert read_card(agent, status=200)['civil_id'] == '90000002'


def test_a_right_pin_after_a_wrong_one_restores_the_tries(agent, card_stack):
    card = card_stack.new_card('90000001')
    card_stack.insert(card)
    assert ask_agent(agent, ORIGIN, CHALLENGE, '9999')['tries_left'] == 2
    assert 'signature' in ask_agent(agent, ORIGIN, CHALLENGE, '1234', status=200)
    assert ask_agent(agent, ORIGIN, CHALLENGE, '9999')['tries_left'] == 2


def test_no_card_in_the_reader(agent, card_stack):
    card_stack.remove()
    assert read_card(agent, status=409) == {'error': 'no_card'}
    assert ask_agent(agent, ORIGIN, CHALLENGE, '1234', status=409) == {'error': 'no_card'}


class PulledOutWhileSigning(CivilIdCard):
    """A card the member pulls out of the reader while the card is computing the signature:
    it never answers that command, and leaves the reader."""

    def __init__(self, card, slot):
        super().__init__(card.certificate, card.private_key, '1234')
        self.slot = slot

    def respond(self, apdu):
        if apdu[1] == profile.INS_PSO:
            threading.Thread(target=self.slot.remove).start()
            return None
        return super().respond(apdu)


def test_the_card_removed_in_the_middle_of_the_login(agent, card_stack):
    card_stack.insert(PulledOutWhileSigning(card_stack.card('90000001'), card_stack.slot))
    assert ask_agent(agent, ORIGIN, CHALLENGE, '1234', status=409) == {'error': 'card_removed'}
    assert read_card(agent, status=409) == {'error': 'no_card'}


def test_a_card_without_the_civil_id_applet(agent, card_stack):
    real = card_stack.card('90000001')
    card_stack.insert(CivilIdCard(real.certificate, real.private_key, '1234', aid=BANK_CARD_AID))
    assert read_card(agent, status=409) == {'error': 'unknown_card'}
    assert ask_agent(agent, ORIGIN, CHALLENGE, '1234', status=409) == {'error': 'unknown_card'}


def test_a_malformed_pin_never_reaches_the_card(agent, card_stack):
    card = card_stack.new_card('90000001')
    card_stack.insert(card)
    for pin in ('12', '123456789', '12a4', '١٢٣٤', 1234):
        assert ask_agent(agent, ORIGIN, CHALLENGE, pin, status=400) == {'error': 'bad_pin'}
    assert card.tries_left == profile.PIN_TRIES


def test_malformed_requests(agent):
    headers = {'Origin': ORIGIN}
    assert agent.post('/sign', 'not json', headers=headers, status=400).json == {
        'error': 'bad_request'
    }
    for challenge in ('short', 'x' * 600, 'é' * 20, None):
        body = {'challenge': challenge, 'pin': '1234'}
        agent.post_json('/sign', body, headers=headers, status=400)
    assert agent.get('/other', headers=headers, status=404).json == {'error': 'not_found'}


def test_only_the_identity_provider_may_use_the_card(agent, card_stack):
    card_stack.insert('90000001')
    for headers in ({}, {'Origin': 'https://evil.example'}, {'Origin': 'null'}):
        refused = agent.get('/card', headers=headers, status=403)
        assert 'Access-Control-Allow-Origin' not in refused.headers
        ask_agent(agent, headers.get('Origin', ''), CHALLENGE, '1234', status=403)
    # A page that reaches 127.0.0.1 under a name of its own (DNS rebinding) is refused too.
    agent.get('/card', headers={'Origin': ORIGIN, 'Host': 'evil.example:24730'}, status=403)

    allowed = agent.get('/card', headers={'Origin': ORIGIN}, status=200)
    assert allowed.headers['Access-Control-Allow-Origin'] == ORIGIN
    assert allowed.headers['Vary'] == 'Origin'
    assert allowed.headers['Cache-Control'] == 'no-store'


def test_the_browser_may_ask_before_posting(agent):
    preflight = agent.options(
        '/sign',
        headers={
            'Origin': ORIGIN,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type',
            'Access-Control-Request-Private-Network': 'true',
        },
        status=204,
    )
    assert preflight.headers['Access-Control-Allow-Origin'] == ORIGIN
    assert 'POST' in preflight.headers['Access-Control-Allow-Methods']
    assert preflight.headers['Access-Control-Allow-Headers'] == 'Content-Type'
    assert preflight.headers['Access-Control-Allow-Private-Network'] == 'true'
    agent.options('/sign', headers={'Origin': 'https://evil.example'}, status=403)


def test_the_agent_command_serves_the_card(card_stack):
    """occi-card-agent as `make run` starts it: its own process, on the pcscd of the session."""
    card_stack.insert('90000008')
    _host, port = get_free_port()
    agent = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), 'occi-card-agent'),
            '--listen',
            f'127.0.0.1:{port}',
            '--origin',
            ORIGIN,
            '--pcscd-socket',
            os.environ['PCSCLITE_CSOCK_NAME'],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        request = urllib.request.Request(
            f'http://127.0.0.1:{port}/card', headers={'Origin': ORIGIN}
        )
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.headers['Access-Control-Allow-Origin'] == ORIGIN
                    assert json.loads(response.read())['civil_id'] == '90000008'
                    break
            except urllib.error.URLError:
                time.sleep(0.1)
        else:
            pytest.fail('occi-card-agent did not answer')
    finally:
        agent.terminate()
        agent.wait(timeout=10)


def test_the_agent_listens_on_loopback_only():
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), 'occi-card-agent'),
            '--listen',
            '0.0.0.0:24730',
            '--origin',
            ORIGIN,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and 'loopback' in result.stderr


# -- the emulated card, command by command ---------------------------------------------------


def test_the_emulated_card_follows_the_profile(card_stack):
    card = card_stack.new_card('90000001')
    digest = hashlib.sha256(b'challenge').digest()

    def sw(answer):
        return answer[-2:].hex().upper()

    assert sw(card.respond(profile.read_binary(0))) == '6985'
    assert sw(card.respond(bytes.fromhex('00A4040007A0000000031010'))) == '6A82'
    assert sw(card.respond(profile.select_applet())) == '9000'
    certificate = b''
    while True:
        answer = card.respond(profile.read_binary(len(certificate)))
        if sw(answer) == '6B00':
            break
        certificate += answer[:-2]
        if len(answer) - 2 < profile.MAX_CHUNK:
            break
    assert certificate == card.certificate
    assert sw(card.respond(profile.read_binary(len(certificate) + 10))) == '6B00'
    assert sw(card.respond(profile.compute_signature(digest))) == '6982'
    assert sw(card.respond(profile.verify_pin())) == '63C3'
    assert sw(card.respond(profile.verify_pin('1234'))) == '9000'
    assert sw(card.respond(profile.verify_pin())) == '9000'
    signed = card.respond(profile.compute_signature(digest))
    assert sw(signed) == '9000' and len(signed) == 2 + profile.SIGNATURE_LENGTH
    assert sw(card.respond(bytes.fromhex('00CA000000'))) == '6D00'
    # SELECT forgets the verified PIN.
    assert sw(card.respond(profile.select_applet())) == '9000'
    assert sw(card.respond(profile.compute_signature(digest))) == '6982'
