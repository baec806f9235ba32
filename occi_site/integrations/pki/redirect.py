"""Signatures of HTTP-Redirect messages (single log-out), which carry their signature in the
query string rather than in the XML, and the decoding of their deflated payload."""

import base64
import binascii
from urllib.parse import unquote_plus, urlencode

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from saml2.s_utils import decode_base64_and_inflate
from saml2.xmldsig import SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512

from .checks import parse_xml
from .errors import PkiError

# Redirect-binding signatures we accept from the IdP; RSA-SHA1 is deliberately absent.
_REDIRECT_SIGNATURE_HASHES = {
    SIG_RSA_SHA256: hashes.SHA256,
    SIG_RSA_SHA384: hashes.SHA384,
    SIG_RSA_SHA512: hashes.SHA512,
}


def signed_query(query, message_key):
    """The signed octets of an HTTP-Redirect message and its decoded parameters.

    With the raw query string the octets are exactly what the sender signed; a mapping of
    decoded values is re-encoded the usual way (quote_plus), which fits most IdPs.
    """
    order = (message_key, 'RelayState', 'SigAlg')
    if isinstance(query, str):
        raw, values = {}, {}
        for piece in query.split('&'):
            name, _sep, value = piece.partition('=')
            name = unquote_plus(name)
            if name in raw:
                raise PkiError('malformed', f'repeated parameter {name}')
            raw[name] = piece
            values[name] = unquote_plus(value)
        octets = '&'.join(raw[name] for name in order if name in raw)
    else:
        values = dict(query)
        octets = '&'.join(urlencode({name: values[name]}) for name in order if name in values)
    if message_key not in values:
        raise PkiError('malformed', f'no {message_key}')
    return octets.encode('ascii', 'replace'), values


def verified_redirect(query, message_key, certificates):
    """The XML and the decoded parameters of an HTTP-Redirect message signed by one of
    `certificates`, or PkiError."""
    octets, values = signed_query(query, message_key)
    if 'Signature' not in values or 'SigAlg' not in values:
        raise PkiError('unsigned', f'unsigned {message_key}')
    algorithm = _REDIRECT_SIGNATURE_HASHES.get(values['SigAlg'])
    if algorithm is None:
        raise PkiError('bad_signature', f'signature algorithm {values["SigAlg"]!r}')
    try:
        signature = base64.b64decode(values['Signature'], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PkiError('bad_signature', 'Signature is not base64') from exc
    for certificate in certificates:
        key = x509.load_der_x509_certificate(
            base64.b64decode(''.join(certificate.split()))
        ).public_key()
        try:
            key.verify(signature, octets, padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            continue
        return inflate(values[message_key]), values
    raise PkiError('bad_signature', f'{message_key} signature does not verify')


def inflate(encoded):
    """The XML of a deflated, base64-encoded message, refused if it is not safe XML."""
    try:
        xml = decode_base64_and_inflate(encoded)
    except Exception as exc:
        raise PkiError('malformed', 'message is not deflated base64') from exc
    parse_xml(xml)
    return xml
