"""The civil ID card through PC/SC: every byte to the card goes through pyscard and pcscd.

The agent uses the first reader that holds a card. Each operation is one card session that
starts with SELECT (which makes the card forget any PIN verified before) and ends by powering
the card down, so a verified PIN never outlives the signature it was given for.
"""

import hashlib
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.scard import (
    SCARD_E_NO_SMARTCARD,
    SCARD_S_SUCCESS,
    SCARD_SCOPE_USER,
    SCARD_STATE_PRESENT,
    SCARD_STATE_UNAWARE,
    SCARD_W_REMOVED_CARD,
    SCARD_W_UNPOWERED_CARD,
    SCardEstablishContext,
    SCardGetStatusChange,
    SCardReleaseContext,
)
from smartcard.System import readers as pcsc_readers

from . import profile

# What went wrong, as the PIN pad page names it.
NO_SERVICE = 'no_service'
NO_READER = 'no_reader'
NO_CARD = 'no_card'
CARD_REMOVED = 'card_removed'
UNKNOWN_CARD = 'unknown_card'
BAD_PIN = 'bad_pin'
WRONG_PIN = 'wrong_pin'
PIN_BLOCKED = 'pin_blocked'
CARD_FAILED = 'card_failed'

# pcscd's answers when a card has left (or is leaving) the reader.
GONE = (SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD, SCARD_W_UNPOWERED_CARD)
# After a failed exchange, how long pcscd may take to see that the card left (it looks for
# cards a few times a second).
REMOVAL_WAIT = 1.5
# Certificates longer than this are not what the profile describes.
MAX_CERTIFICATE = 0x4000


class CardError(Exception):
    """The card operation did not happen; `code` says why (one of the names above)."""

    def __init__(self, code, tries_left=None, detail=''):
        super().__init__(detail or code)
        self.code = code
        self.tries_left = tries_left


@dataclass(frozen=True)
class CardAnswer:
    reader: str
    certificate: bytes
    signature: bytes | None = None


def check_pin_format(pin):
    """A PIN the profile allows (4 to 8 ASCII digits), or CardError: a malformed PIN is not
    sent to the card, where it would cost a try."""
    if not (
        isinstance(pin, str) and pin.isascii() and pin.isdigit() and len(pin) in profile.PIN_LENGTHS
    ):
        raise CardError(BAD_PIN)
    return pin


class CardReader:
    """The PC/SC readers of this computer, one card operation at a time."""

    def __init__(self):
        self._lock = threading.Lock()

    def read_certificate(self):
        """The certificate of the card in the reader (no PIN needed)."""
        with self._session() as card:
            card.select()
            return CardAnswer(card.reader, card.certificate())

    def sign(self, challenge, pin):
        """Verify `pin` on the card, then have it sign the SHA-256 digest of `challenge`."""
        check_pin_format(pin)
        digest = hashlib.sha256(challenge).digest()
        with self._session() as card:
            card.select()
            certificate = card.certificate()
            card.verify(pin)
            return CardAnswer(card.reader, certificate, card.sign(digest))

    @contextmanager
    def _session(self):
        with self._lock:
            reader, connection = _connect()
            try:
                yield _Card(reader, connection)
            except CardConnectionException as exc:
                raise CardError(_vanished_or_failed(reader, exc), detail=str(exc)) from exc
            finally:
                _release(connection)


def _connect():
    """(reader name, connection) of the first reader holding a card, or CardError."""
    try:
        readers = pcsc_readers()
    except (SmartcardException, BaseSCardException) as exc:
        raise CardError(NO_SERVICE, detail=str(exc)) from exc
    if not readers:
        raise CardError(NO_READER)
    for reader in readers:
        connection = reader.createConnection()
        try:
            connection.connect()
        except (SmartcardException, BaseSCardException) as exc:
            _release(connection)
            if isinstance(exc, NoCardException) or getattr(exc, 'hresult', None) in GONE:
                continue
            raise CardError(CARD_FAILED, detail=str(exc)) from exc
        return str(reader), connection
    raise CardError(NO_CARD)


def _release(connection):
    """Disconnect (powering the card down) and give the PC/SC context back."""
    with suppress(SmartcardException, BaseSCardException):
        connection.release()


def _vanished_or_failed(reader, exc):
    """After a failed exchange: was the card pulled out, or did it fail?"""
    if getattr(exc, 'hresult', None) in GONE:
        return CARD_REMOVED
    deadline = time.monotonic() + REMOVAL_WAIT
    while time.monotonic() < deadline:
        if reader_has_card(reader) is False:
            return CARD_REMOVED
        time.sleep(0.05)
    return CARD_FAILED


def reader_has_card(reader):
    """Whether pcscd sees a card in the reader named `reader` (None if it cannot say)."""
    hresult, context = SCardEstablishContext(SCARD_SCOPE_USER)
    if hresult != SCARD_S_SUCCESS:
        return None
    try:
        hresult, states = SCardGetStatusChange(context, 0, [(reader, SCARD_STATE_UNAWARE)])
        if hresult != SCARD_S_SUCCESS:
            return None
        return bool(states[0][1] & SCARD_STATE_PRESENT)
    finally:
        SCardReleaseContext(context)


class _Card:
    """One session with the card, in the profile's commands."""

    def __init__(self, reader, connection):
        self.reader = reader
        self.connection = connection

    def transmit(self, apdu):
        data, sw1, sw2 = self.connection.transmit(list(apdu))
        return bytes(data), (sw1 << 8) | sw2

    def select(self):
        _data, status = self.transmit(profile.select_applet())
        if status != profile.SW_OK:
            raise CardError(UNKNOWN_CARD, detail=f'SELECT answered {status:04X}')

    def certificate(self):
        certificate = bytearray()
        while len(certificate) < MAX_CERTIFICATE:
            chunk, status = self.transmit(profile.read_binary(len(certificate)))
            if status == profile.SW_WRONG_OFFSET and certificate:
                break
            if status != profile.SW_OK:
                raise CardError(CARD_FAILED, detail=f'READ BINARY answered {status:04X}')
            certificate += chunk
            if len(chunk) < profile.MAX_CHUNK:
                break
        else:
            raise CardError(CARD_FAILED, detail='certificate too long')
        return bytes(certificate)

    def verify(self, pin):
        _data, status = self.transmit(profile.verify_pin(pin))
        if status == profile.SW_OK:
            return
        if status == profile.SW_PIN_BLOCKED or status == profile.SW_WRONG_PIN:
            raise CardError(PIN_BLOCKED, tries_left=0)
        if status & 0xFFF0 == profile.SW_WRONG_PIN:
            raise CardError(WRONG_PIN, tries_left=status & 0x0F)
        raise CardError(CARD_FAILED, detail=f'VERIFY answered {status:04X}')

    def sign(self, digest):
        signature, status = self.transmit(profile.compute_signature(digest))
        if status != profile.SW_OK or len(signature) != profile.SIGNATURE_LENGTH:
            raise CardError(CARD_FAILED, detail=f'PSO answered {status:04X}')
        return signature
