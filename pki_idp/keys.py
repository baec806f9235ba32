"""Signing keys of the development IdP: RSA 2048 with a self-signed certificate.

A real IdP's certificate comes from the national PKI; here the pair is made on first start so
a fresh checkout works with no manual step, and kept so the portal's copy of our metadata
stays valid across restarts.
"""

import datetime
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CERTIFICATE_LIFETIME = datetime.timedelta(days=3650)


@dataclass(frozen=True)
class KeyPair:
    key_file: str
    cert_file: str

    def certificate_base64(self):
        """The certificate as the bare base64 that XML signatures and metadata carry."""
        with open(self.cert_file) as pem:
            lines = pem.read().strip().splitlines()
        return ''.join(line for line in lines if not line.startswith('-----'))


def ensure_key_pair(key_file, cert_file, common_name):
    """The key pair in these files, created first if either file is missing."""
    if not (os.path.exists(key_file) and os.path.exists(cert_file)):
        write_key_pair(key_file, cert_file, common_name)
    return KeyPair(key_file, cert_file)


def write_key_pair(key_file, cert_file, common_name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + CERTIFICATE_LIFETIME)
        .sign(key, hashes.SHA256())
    )
    for path in (key_file, cert_file):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_private_key(key_file, key)
    with open(cert_file, 'wb') as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))


def write_private_key(path, key):
    """`key` as unencrypted PKCS#8 PEM in a file only its owner may read."""
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, 'wb') as out:
        out.write(key_pem)
