"""occi-card-agent: run the card agent on this computer.

    occi-card-agent --origin http://127.0.0.1:6543 [--listen 127.0.0.1:24730]
                    [--pcscd-socket PATH]

--origin names the identity provider whose pages may use the card (repeat it for several);
--pcscd-socket talks to a private pcscd instead of the machine's own (the development virtual
reader that `make run` starts).
"""

import argparse
import ipaddress
import logging
import os

import waitress

from .reader import CardReader
from .service import CardAgentService

DEFAULT_PORT = 24730
DEFAULT_LISTEN = f'127.0.0.1:{DEFAULT_PORT}'


def listen_address(text):
    host, _colon, port = text.rpartition(':')
    try:
        if not ipaddress.ip_address(host.strip('[]')).is_loopback:
            raise ValueError(host)
        return host, int(port)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f'{text}: the agent listens on a loopback address and port only'
        ) from exc


def parser():
    arguments = argparse.ArgumentParser(prog='occi-card-agent', description=__doc__.split('\n')[0])
    arguments.add_argument('--listen', type=listen_address, default=DEFAULT_LISTEN)
    arguments.add_argument('--origin', action='append', required=True)
    arguments.add_argument('--pcscd-socket')
    return arguments


def main(argv=None):
    options = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format='%(asctime)s %(levelname)s [%(name)s] %(message)s'
    )
    if options.pcscd_socket:
        # libpcsclite reads this once, at the first PC/SC call of the process.
        os.environ['PCSCLITE_CSOCK_NAME'] = os.path.abspath(options.pcscd_socket)
    host, port = options.listen
    service = CardAgentService(CardReader(), options.origin)
    waitress.serve(service, host=host, port=port, threads=4, ident='occi-card-agent')
