"""The slot of the virtual reader: a card is "in" it while it is connected to vpcd.

vpcd frames every message both ways as a 2-byte big-endian length and the payload. A 1-byte
payload is a control code (0 power off, 1 power on, 2 reset, 4 send the ATR); any longer one is
a command APDU, answered with the response APDU.
"""

import contextlib
import logging
import socket
import threading
import time

from .card import ATR

log = logging.getLogger(__name__)

POWER_OFF, POWER_ON, RESET, GET_ATR = 0, 1, 2, 4
# pcscd looks for a card about every 400 ms; the first look at a new card asks for its ATR.
INSERT_TIMEOUT = 10.0
RETRY_DELAY = 0.2
# A card taken out stays out long enough for pcscd to notice, or a card put in at once would
# look to pcscd like the same card never taken out (and never be powered up).
REMOVAL_GAP = 0.6


class SlotError(Exception):
    pass


class VirtualSlot:
    """Slot 0 of vpcd at 127.0.0.1 on the port `port_source()` gives (read again at each
    attempt, as the private pcscd may still be starting). One card at a time."""

    def __init__(self, port_source, host='127.0.0.1'):
        self.port_source = port_source
        self.host = host
        self._lock = threading.Lock()
        self._link = None
        self._removed_at = 0.0
        self.card = None

    def insert(self, card, timeout=INSERT_TIMEOUT):
        """Put `card` in the reader (taking out any other) once vpcd has seen it power up."""
        with self._lock:
            self._take_out()
            self._wait_out_removal()
            connection = self._connect(timeout)
            link = _Link(connection, card)
            link.start()
            if not link.powered.wait(timeout):
                link.stop()
                raise SlotError('vpcd did not power the card up')
            self._link, self.card = link, card

    def remove(self):
        with self._lock:
            self._take_out()

    def _take_out(self):
        if self._link is not None:
            self._link.stop()
            self._removed_at = time.monotonic()
        self._link, self.card = None, None

    def _wait_out_removal(self):
        remaining = self._removed_at + REMOVAL_GAP - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            port = self.port_source()
            if port is not None:
                try:
                    return socket.create_connection((self.host, port), timeout=timeout)
                except OSError as exc:
                    failure = exc
            else:
                failure = SlotError('the virtual reader is not configured yet')
            if time.monotonic() >= deadline:
                raise SlotError(f'cannot reach vpcd: {failure}')
            time.sleep(RETRY_DELAY)


class _Link(threading.Thread):
    """Answers vpcd for one inserted card until the card is taken out or vpcd hangs up."""

    def __init__(self, connection, card):
        super().__init__(daemon=True, name='virtual-card')
        self.connection = connection
        self.connection.settimeout(None)
        self.card = card
        self.powered = threading.Event()

    def run(self):
        try:
            while (payload := self._receive()) is not None:
                answer = self._answer(payload)
                if answer is not None:
                    self.connection.sendall(len(answer).to_bytes(2, 'big') + answer)
        except OSError as exc:
            log.debug('virtual card link ended: %s', exc)
        finally:
            self.connection.close()

    def _answer(self, payload):
        if len(payload) != 1:
            return self.card.respond(payload)
        code = payload[0]
        if code == GET_ATR:
            return ATR
        self.card.reset()
        if code == POWER_ON:
            self.powered.set()
        return None

    def _receive(self):
        header = self._exactly(2)
        if header is None:
            return None
        return self._exactly(int.from_bytes(header, 'big'))

    def _exactly(self, size):
        data = bytearray()
        while len(data) < size:
            chunk = self.connection.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return bytes(data)

    def stop(self):
        """Pull the card out: vpcd sees the connection close."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        if self is not threading.current_thread():
            self.join(timeout=5)
