"""An emulated civil ID card, answering the APDUs of the development card profile."""

import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils

from card_agent import profile

# 3B: direct convention; T0 88: TD1 and 8 historical bytes; TD1 80: TD2, T=0; TD2 01: T=1;
# eight zero historical bytes; TCK 09 (required once T=1 is offered).
ATR = bytes.fromhex('3B888001000000000000000009')


def _status(word, data=b''):
    return data + word.to_bytes(2, 'big')


class CivilIdCard:
    """One person's card: their certificate (DER), the private key that never leaves it, the
    PIN and its tries. A card with another `aid` is some other card to the agent."""

    def __init__(self, certificate, private_key, pin, aid=profile.AID):
        self.certificate = certificate
        self.private_key = private_key
        self.aid = aid
        self._pin = pin.encode('ascii')
        self.tries_left = profile.PIN_TRIES
        self.reset()

    @property
    def blocked(self):
        return self.tries_left == 0

    def reset(self):
        """Power off, power on, reset and SELECT all forget a verified PIN."""
        self.selected = False
        self.verified = False

    def respond(self, apdu):
        """The response APDU (data, then SW1 SW2) to a command APDU."""
        if len(apdu) < 4 or apdu[0] != profile.CLA:
            return _status(profile.SW_UNKNOWN_INSTRUCTION)
        ins, p1, p2 = apdu[1:4]
        data, le = _body(apdu[4:])
        if (ins, p1, p2) == (profile.INS_SELECT, 0x04, 0x00):
            return self._select(data)
        if not self.selected:
            return _status(profile.SW_NOT_SELECTED)
        if ins == profile.INS_READ_BINARY:
            return self._read_binary((p1 << 8) | p2, le)
        if (ins, p1, p2) == (profile.INS_VERIFY, 0x00, profile.PIN_REFERENCE):
            return self._verify(data)
        if (ins, p1, p2) == (profile.INS_PSO, *profile.PSO_SIGN):
            return self._sign(data)
        return _status(profile.SW_UNKNOWN_INSTRUCTION)

    def _select(self, aid):
        self.reset()
        if aid != self.aid:
            return _status(profile.SW_FILE_NOT_FOUND)
        self.selected = True
        return _status(profile.SW_OK)

    def _read_binary(self, offset, le):
        if offset >= len(self.certificate):
            return _status(profile.SW_WRONG_OFFSET)
        length = min(le or profile.MAX_CHUNK, profile.MAX_CHUNK)
        return _status(profile.SW_OK, self.certificate[offset : offset + length])

    def _verify(self, pin):
        if self.blocked:
            return _status(profile.SW_PIN_BLOCKED)
        if pin is None:
            return _status(
                profile.SW_OK if self.verified else profile.SW_WRONG_PIN | self.tries_left
            )
        if hmac.compare_digest(pin, self._pin):
            self.tries_left = profile.PIN_TRIES
            self.verified = True
            return _status(profile.SW_OK)
        self.verified = False
        self.tries_left -= 1
        return _status(profile.SW_WRONG_PIN | self.tries_left)

    def _sign(self, digest):
        if not self.verified:
            return _status(profile.SW_SECURITY_NOT_SATISFIED)
        if digest is None or len(digest) != hashes.SHA256.digest_size:
            return _status(profile.SW_UNKNOWN_INSTRUCTION)
        signature = self.private_key.sign(
            digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )
        return _status(profile.SW_OK, signature)


def _body(body):
    """(data or None, Le or None) of a short APDU's body (ISO 7816-4 cases 1 to 4)."""
    if not body:
        return None, None
    if len(body) == 1:
        return None, body[0]
    length = body[0]
    data = body[1 : 1 + length]
    rest = body[1 + length :]
    return data, rest[0] if rest else None
