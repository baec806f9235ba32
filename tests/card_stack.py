"""The card reader stack of the tests, real from the agent down: a pcscd private to this test
session (its own socket, reader configuration and vpcd ports, in a temporary folder, so that
neither the machine's pcscd nor another test run is touched), Debian's vpcd driver as its
virtual reader, the emulated civil ID cards of the test people issued by a national CA made for
the session, and the card agent reaching them through pyscard.

libpcsclite reads PCSCLITE_CSOCK_NAME once per process, so the whole session shares one pcscd.
"""

import os
import subprocess
import time

import pytest
from smartcard.System import readers

from card_agent.reader import CardReader, reader_has_card
from card_agent.service import CardAgentService
from pki_idp.dev_card import pcscd
from pki_idp.dev_card.control import SOCKET_NAME, CardCase, ControlServer
from pki_idp.dev_card.issuer import CardFolder
from pki_idp.dev_card.slot import VirtualSlot
from pki_idp.people import People

PEOPLE = People.bundled()
START_TIMEOUT = 15.0
START_ATTEMPTS = 3
STATE_TIMEOUT = 5.0
# A loopback origin in the agent's Host header, as a browser reaching it would send.
AGENT_HOST = '127.0.0.1:24730'


class CardStack:
    """The virtual reader and the cards of the session; `insert` and `remove` wait until pcscd
    sees the change, as a person waits for the reader's light."""

    def __init__(self, folder, case):
        self.folder = CardFolder(folder / 'cards')
        self.case = case
        self.slot = case.slot
        self.control_socket = str(folder / SOCKET_NAME)

    @property
    def ca_file(self):
        return str(self.folder.ca_file)

    def card(self, civil_id):
        return self.case.cards[civil_id]

    def new_card(self, civil_id, ca=None, **validity):
        """A card of its own for `civil_id` (by default from the session's national CA), for
        tests that block it or need a certificate of another kind."""
        return (ca or self.folder.ca()).card(PEOPLE.by_civil_id(civil_id), **validity)

    def insert(self, card):
        """Put `card` (a CivilIdCard, or a civil ID for the session's card) in the reader."""
        card = self.card(card) if isinstance(card, str) else card
        if self.slot.card is not card:
            self.slot.insert(card)
        wait_for_card(present=True)

    def remove(self):
        self.slot.remove()
        wait_for_card(present=False)

    def agent(self, *origins):
        """The card agent's WSGI application, for pages of `origins`."""
        return CardAgentService(CardReader(), origins)


def wait_for_card(present):
    """Until pcscd reports the virtual reader with (or without) a card."""
    deadline = time.monotonic() + STATE_TIMEOUT
    while time.monotonic() < deadline:
        if reader_has_card(pcscd.VIRTUAL_READER) is present:
            return
        time.sleep(0.05)
    raise AssertionError(f'pcscd did not see the card {"arrive" if present else "leave"}')


def start_pcscd(folder, log):
    """A private pcscd whose virtual reader is up; a few tries, as the free vpcd port pair
    found may be taken by someone else before pcscd opens it."""
    for _attempt in range(START_ATTEMPTS):
        process = subprocess.Popen(pcscd.prepare(folder), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if pcscd.VIRTUAL_READER in map(str, readers()):
                    return process
            except Exception:  # pcscd still starting: no socket yet
                pass
            time.sleep(0.1)
        process.terminate()
        process.wait(timeout=10)
    raise RuntimeError(f'the private pcscd did not start; see {log.name}')


@pytest.fixture(scope='session')
def card_stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp('pcsc')
    os.environ['PCSCLITE_CSOCK_NAME'] = str(pcscd.socket_path(folder))
    cards = CardFolder(folder / 'cards')
    cards.issue(PEOPLE.all)
    with open(folder / 'pcscd.log', 'w') as log:
        process = start_pcscd(folder, log)
        case = CardCase(VirtualSlot(lambda: pcscd.vpcd_port(folder)), cards.cards(PEOPLE.all))
        server = ControlServer(folder / SOCKET_NAME, case).start()
        try:
            yield CardStack(folder, case)
        finally:
            case.slot.remove()
            server.shutdown()
            server.server_close()
            process.terminate()
            process.wait(timeout=10)
