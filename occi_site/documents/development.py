"""The development "chamber document CA": a root certificate and, under it, the
chamber's document-signing certificate in a PKCS#12 file.

`make run` makes them under var/documents; the tests make their own.  A real
deployment signs with a key its own CA issued (production.ini names it).

    python -m occi_site.documents.development FOLDER
"""

import argparse
import datetime
import pathlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CHAMBER = 'Oman Chamber of Commerce and Industry'
CA_NAME = 'OCCI Development Chamber Document CA'
SIGNER_NAME = CHAMBER
CA_FILE = 'ca.crt'
CA_KEY_FILE = 'ca.key'
SIGNING_FILE = 'signing.p12'
LIFETIME = datetime.timedelta(days=3650)


def _name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, 'OM'),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, CHAMBER),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _usage(**granted):
    flags = dict.fromkeys(
        (
            'digital_signature',
            'content_commitment',
            'key_encipherment',
            'data_encipherment',
            'key_agreement',
            'key_cert_sign',
            'crl_sign',
            'encipher_only',
            'decipher_only',
        ),
        False,
    )
    flags.update(granted)
    return x509.KeyUsage(**flags)


@dataclass
class Authority:
    """A certificate authority that can issue certificates for the tests and
    for development: a document signer, a time-stamping unit."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, common_name=CA_NAME):
        key = _new_key()
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    @classmethod
    def load(cls, folder):
        folder = pathlib.Path(folder)
        key = serialization.load_pem_private_key((folder / CA_KEY_FILE).read_bytes(), None)
        certificate = x509.load_pem_x509_certificate((folder / CA_FILE).read_bytes())
        return cls(key, certificate)

    def issue(self, common_name, *, time_stamping=False):
        """A new key and its certificate: a document signer, or with
        ``time_stamping`` an RFC 3161 time-stamping unit."""
        key = _new_key()
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + LIFETIME - datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if time_stamping:
            builder = builder.add_extension(
                _usage(digital_signature=True, content_commitment=True), critical=True
            ).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        else:
            # Non-repudiation ("content commitment") is what a document signature claims.
            builder = builder.add_extension(
                _usage(digital_signature=True, content_commitment=True), critical=True
            )
        return key, builder.sign(self.key, hashes.SHA256())

    def pkcs12(self, key, certificate, passphrase=None):
        """``key`` and ``certificate`` with this authority's certificate, as PKCS#12 bytes."""
        encryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return pkcs12.serialize_key_and_certificates(
            b'document-signing', key, certificate, [self.certificate], encryption
        )

    def save(self, folder):
        folder = pathlib.Path(folder)
        (folder / CA_FILE).write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        key_file = folder / CA_KEY_FILE
        key_file.touch(mode=0o600)
        key_file.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def create_development_keys(folder):
    """The development CA (``ca.crt``, ``ca.key``) and the chamber's signing key
    and certificate (``signing.p12``, no passphrase) in ``folder``, unless there."""
    folder = pathlib.Path(folder)
    signing_file = folder / SIGNING_FILE
    if signing_file.exists():
        return signing_file
    folder.mkdir(parents=True, exist_ok=True)
    authority = Authority.create()
    authority.save(folder)
    key, certificate = authority.issue(SIGNER_NAME)
    partial = folder / (SIGNING_FILE + '.new')
    partial.touch(mode=0o600)
    partial.write_bytes(authority.pkcs12(key, certificate))
    partial.rename(signing_file)
    return signing_file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('folder', help='where to keep the development CA and signing key')
    folder = parser.parse_args(argv).folder
    print(create_development_keys(folder))


if __name__ == '__main__':
    main()
