"""The development civil ID card profile (ISO/IEC 7816-4 commands only): what every card and
the agent agree on. See smartcard-profile.md in the project's shared documents."""

AID = bytes.fromhex('F04F4D414E4944')
# READ BINARY answers at most this many bytes at a time.
MAX_CHUNK = 0xE0
PIN_TRIES = 3
PIN_LENGTHS = range(4, 9)

CLA = 0x00
INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_VERIFY = 0x20
INS_PSO = 0x2A
# VERIFY's P2: the card's PIN; PSO's P1 P2: COMPUTE DIGITAL SIGNATURE.
PIN_REFERENCE = 0x81
PSO_SIGN = (0x9E, 0x9A)
SIGNATURE_LENGTH = 256

SW_OK = 0x9000
SW_WRONG_PIN = 0x63C0  # | tries left
SW_PIN_BLOCKED = 0x6983
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_NOT_SELECTED = 0x6985
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_OFFSET = 0x6B00
SW_UNKNOWN_INSTRUCTION = 0x6D00


def select_applet():
    return bytes([CLA, INS_SELECT, 0x04, 0x00, len(AID)]) + AID


def read_binary(offset, length=MAX_CHUNK):
    return bytes([CLA, INS_READ_BINARY, offset >> 8, offset & 0xFF, length])


def verify_pin(pin=None):
    """VERIFY with the PIN, or without data: ask whether the PIN is verified."""
    if pin is None:
        return bytes([CLA, INS_VERIFY, 0x00, PIN_REFERENCE])
    data = pin.encode('ascii')
    return bytes([CLA, INS_VERIFY, 0x00, PIN_REFERENCE, len(data)]) + data


def compute_signature(digest):
    return bytes([CLA, INS_PSO, *PSO_SIGN, len(digest)]) + digest + b'\x00'
