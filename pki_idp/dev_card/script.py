"""occi-dev-card: the development card reader stack, as `make run` starts it.

occi-dev-card issue CARDS                 the development national CA and a card for every
                                          test person, in the folder CARDS (kept if there)
occi-dev-card pcscd READER                a pcscd private to the folder READER, with the
                                          virtual reader (runs until stopped)
occi-dev-card serve CARDS READER [--insert CIVIL_ID]
                                          the cards of CARDS beside that reader, the one of
                                          CIVIL_ID inserted; READER/card.sock chooses which
"""

import argparse
import logging
import signal
import threading
from pathlib import Path

from ..people import People
from . import pcscd
from .control import SOCKET_NAME, CardCase, ControlServer
from .issuer import CardFolder
from .slot import VirtualSlot

# At start the private pcscd may still be on its way up.
FIRST_INSERT_TIMEOUT = 30.0


def parser():
    arguments = argparse.ArgumentParser(prog='occi-dev-card', description=__doc__.split('\n')[0])
    commands = arguments.add_subparsers(dest='command', required=True)
    issue = commands.add_parser('issue')
    issue.add_argument('cards')
    stack = commands.add_parser('pcscd')
    stack.add_argument('reader')
    serve = commands.add_parser('serve')
    serve.add_argument('cards')
    serve.add_argument('reader')
    serve.add_argument('--insert', metavar='CIVIL_ID')
    return arguments


def main(argv=None):
    options = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format='%(asctime)s %(levelname)s [%(name)s] %(message)s'
    )
    if options.command == 'issue':
        CardFolder(options.cards).issue(People.bundled().all)
    elif options.command == 'pcscd':
        pcscd.exec_pcscd(options.reader)
    else:
        serve(Path(options.cards), Path(options.reader), options.insert)


def serve(cards, reader, insert=None):
    case = CardCase(
        VirtualSlot(lambda: pcscd.vpcd_port(reader)),
        CardFolder(cards).cards(People.bundled().all),
    )
    reader.mkdir(parents=True, exist_ok=True)
    server = ControlServer(reader / SOCKET_NAME, case).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        if insert:
            case.slot.insert(case.cards[insert], timeout=FIRST_INSERT_TIMEOUT)
            logging.getLogger(__name__).info('card of %s in the virtual reader', insert)
        stopped.wait()
    finally:
        case.slot.remove()
        server.shutdown()
        server.server_close()
        (reader / SOCKET_NAME).unlink(missing_ok=True)
