"""A pcscd private to one folder, with Debian's vpcd driver as its only configured reader.

pcscd 1.9 keeps its socket and pid file in /run/pcscd, fixed when it was built, and the vpcd
driver listens on the TCP port its reader configuration names (35963 in Debian's
/etc/reader.conf.d/vpcd, machine-wide). So that `make run` and any number of test runs neither
meet each other nor disturb the machine's own pcscd, each private pcscd:

- runs in a mount namespace of its own (unshare, as an unprivileged user too) where the folder
  is mounted over /run/pcscd: its socket is `<folder>/pcscd.comm`, which PC/SC clients reach
  through the PCSCLITE_CSOCK_NAME environment variable that libpcsclite honours;
- reads its reader configuration from `<folder>/readers/` (pcscd --config) naming a vpcd port
  pair found free on this machine (vpcd opens one port per slot: "Virtual PCD 00 00" on the
  port, "Virtual PCD 00 01" on the next).
"""

import os
import re
import socket
from pathlib import Path

SOCKET_NAME = 'pcscd.comm'
READERS = 'readers'
READER_CONF = 'vpcd'
VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so'
VPCD_SLOTS = 2
# The reader holding the emulated card; the second slot stays empty.
VIRTUAL_READER = 'Virtual PCD 00 00'
READER_CONF_TEXT = """\
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:{port}
LIBPATH      {driver}
CHANNELID    {port}
"""
# In the new mount namespace: a private /run, the folder as /run/pcscd, then pcscd itself.
NAMESPACE_SCRIPT = (
    'mount -t tmpfs pcscd-run /run && mkdir /run/pcscd && mount --bind "$1" /run/pcscd'
    ' && exec pcscd --foreground --config "$2"'
)
_CHANNEL = re.compile(r'^CHANNELID\s+(\d+)\s*$', re.MULTILINE)


def socket_path(folder):
    return Path(folder).resolve() / SOCKET_NAME


def vpcd_port(folder):
    """The vpcd port of the private pcscd of `folder`, or None before it is configured."""
    try:
        text = (Path(folder) / READERS / READER_CONF).read_text()
    except FileNotFoundError:
        return None
    found = _CHANNEL.search(text)
    return int(found.group(1)) if found else None


def free_port_pair():
    """A port P such that P and P + 1 are both free on every interface (vpcd listens on all)."""
    while True:
        with socket.socket() as first:
            first.bind(('', 0))
            port = first.getsockname()[1]
            if port + VPCD_SLOTS - 1 > 65535:
                continue
            try:
                with socket.socket() as second:
                    second.bind(('', port + 1))
            except OSError:
                continue
            return port


def prepare(folder):
    """Write the reader configuration (a fresh port pair) and clear what an earlier pcscd of
    this folder left; the command that then runs pcscd."""
    folder = Path(folder).resolve()
    if len(str(folder / SOCKET_NAME).encode()) >= 108:
        raise ValueError(f'{folder}: too long a path for a Unix socket; choose a shorter one')
    readers = folder / READERS
    readers.mkdir(parents=True, exist_ok=True)
    for leftover in (SOCKET_NAME, 'pcscd.pid'):
        (folder / leftover).unlink(missing_ok=True)
    conf = READER_CONF_TEXT.format(port=free_port_pair(), driver=VPCD_DRIVER)
    (readers / READER_CONF).write_text(conf)
    return [
        'unshare',
        '--mount',
        '--map-root-user',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        NAMESPACE_SCRIPT,
        'pcscd-namespace',
        str(folder),
        str(readers),
    ]


def exec_pcscd(folder):
    """Become the private pcscd of `folder` (what the `pcscd` line of the Procfile runs)."""
    command = prepare(folder)
    os.execvp(command[0], command)
