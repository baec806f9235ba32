"""The development "chamber document CA": a root certificate and, under it, the
chamber's document-signing certificate in a PKCS#12 file.

`make run` makes them under var/documents; the tests make their own.  A real
deployment signs with a key its own CA issued (production.ini names it).  The
CA is built like the development national CA of the IdP stand-in.

    python -m occi_site.documents.development FOLDER
"""

import argparse
import datetime
import pathlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pki_idp.dev_card.issuer import CA_LIFETIME, CertificationAuthority, key_usage, new_key
from pki_idp.keys import write_private_key

CHAMBER = 'Oman Chamber of Commerce and Industry'
CA_NAME = 'OCCI Development Chamber Document CA'
CA_FILE = 'ca.crt'
CA_KEY_FILE = 'ca.key'
SIGNING_FILE = 'signing.p12'


@dataclass(frozen=True)
class DocumentAuthority(CertificationAuthority):
    """The development chamber document CA: it issues the chamber's
    document-signing certificate and, for the tests, a time-stamping unit's."""

    @classmethod
    def create(cls, name=CA_NAME, organisation=CHAMBER):
        return super().create(name, organisation)

    @classmethod
    def load(cls, folder):
        folder = pathlib.Path(folder)
        return cls(
            x509.load_pem_x509_certificate((folder / CA_FILE).read_bytes()),
            serialization.load_pem_private_key((folder / CA_KEY_FILE).read_bytes(), None),
        )

    def save(self, folder):
        folder = pathlib.Path(folder)
        write_private_key(folder / CA_KEY_FILE, self.key)
        (folder / CA_FILE).write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue_signing_certificate(self, common_name, *, time_stamping=False):
        """A new key and its certificate: the chamber's document signer, or with
        ``time_stamping`` an RFC 3161 time-stamping unit."""
        key = new_key()
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, 'OM'),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, CHAMBER),
                        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    ]
                )
            )
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + CA_LIFETIME - datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # Non-repudiation ("content commitment") is what a document signature claims.
            .add_extension(
                key_usage(digital_signature=True, content_commitment=True), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if time_stamping:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        return key, builder.sign(self.key, hashes.SHA256())

    def pkcs12(self, key, certificate):
        """``key`` and ``certificate`` with this CA's certificate, as PKCS#12 bytes."""
        return pkcs12.serialize_key_and_certificates(
            b'document-signing', key, certificate, [self.certificate], serialization.NoEncryption()
        )


def create_development_keys(folder):
    """The development CA (``ca.crt``, ``ca.key``) and the chamber's signing key
    and certificate (``signing.p12``, no passphrase) in ``folder``, unless there."""
    folder = pathlib.Path(folder)
    signing_file = folder / SIGNING_FILE
    if signing_file.exists():
        return signing_file
    folder.mkdir(parents=True, exist_ok=True)
    authority = DocumentAuthority.create()
    authority.save(folder)
    key, certificate = authority.issue_signing_certificate(CHAMBER)
    partial = folder / (SIGNING_FILE + '.new')
    partial.touch(mode=0o600)
    partial.write_bytes(authority.pkcs12(key, certificate))
    partial.rename(signing_file)
    return signing_file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('folder', help='where to keep the development CA and signing key')
    print(create_development_keys(parser.parse_args(argv).folder))


if __name__ == '__main__':
    main()
