"""The control socket of the card process: which test person's card is in the virtual reader.

One JSON object per line each way, over a Unix socket beside the private pcscd's:
  {"insert": "90000001"}  {"remove": true}  {"status": true}
answered with {"inserted": civil ID or null, "cards": [civil IDs]} or {"error": text}.
"""

import json
import os
import socket
import socketserver
import threading

from .slot import SlotError

SOCKET_NAME = 'card.sock'
ASK_TIMEOUT = 15.0


class ReaderUnavailable(Exception):
    """Nothing answers on the control socket (the card process is not running)."""


class CardCase:
    """The test people's cards (`cards`: civil ID -> CivilIdCard) beside the virtual slot."""

    def __init__(self, slot, cards):
        self.slot = slot
        self.cards = dict(cards)

    def inserted(self):
        card = self.slot.card
        return next((civil_id for civil_id, held in self.cards.items() if held is card), None)

    def handle(self, command):
        if 'insert' in command:
            card = self.cards.get(command['insert'])
            if card is None:
                return {'error': f'no card for {command["insert"]!r}'}
            self.slot.insert(card)
        elif 'remove' in command:
            self.slot.remove()
        elif 'status' not in command:
            return {'error': 'unknown command'}
        return {'inserted': self.inserted(), 'cards': sorted(self.cards)}


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            answer = self.server.case.handle(json.loads(self.rfile.readline()))
        except (ValueError, TypeError, AttributeError):
            answer = {'error': 'malformed command'}
        except SlotError as exc:
            answer = {'error': str(exc)}
        self.wfile.write(json.dumps(answer).encode() + b'\n')


class ControlServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path, case):
        self.case = case
        if os.path.exists(path):
            os.unlink(path)
        super().__init__(str(path), _Handler)
        os.chmod(path, 0o600)

    def start(self):
        threading.Thread(target=self.serve_forever, daemon=True, name='card-control').start()
        return self


def ask(path, **command):
    """Send one command to the card process at `path`; its answer, or ReaderUnavailable."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(ASK_TIMEOUT)
            connection.connect(str(path))
            connection.sendall(json.dumps(command).encode() + b'\n')
            with connection.makefile('rb') as answers:
                line = answers.readline()
    except OSError as exc:
        raise ReaderUnavailable(str(exc)) from exc
    try:
        return json.loads(line)
    except ValueError as exc:
        raise ReaderUnavailable('no answer from the card process') from exc
