"""The development national certification authority and the test people's cards.

A folder of cards holds the CA's certificate and key (`national-ca.pem`, `national-ca.key`) and,
for each test person, the card's certificate and private key (`<civil id>.pem`, `<civil id>.key`).
`make run` keeps one under var/; the tests make their own. Nothing here is the real national PKI.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..keys import write_private_key
from .card import CivilIdCard

CA_NAME = 'Development national certification authority'
CA_FILE = 'national-ca.pem'
CA_KEY_FILE = 'national-ca.key'
CA_LIFETIME = datetime.timedelta(days=3650)
CARD_LIFETIME = datetime.timedelta(days=5 * 365)
KEY_SIZE = 2048


def key_usage(**allowed):
    """A KeyUsage extension allowing only the usages named."""
    usages = dict.fromkeys(
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
    usages.update(allowed)
    return x509.KeyUsage(**usages)


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _now():
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class CertificationAuthority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @classmethod
    def create(cls, name=CA_NAME, organisation='Development national PKI'):
        key = new_key()
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, 'OM'),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        now = _now()
        public = key.public_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    def issue(self, public_key, civil_id, name, not_before=None, not_after=None):
        """A card certificate as the profile describes it: serialNumber = the civil ID,
        CN = the holder's name in English, key usage digitalSignature."""
        not_before = not_before or _now() - datetime.timedelta(days=1)
        not_after = not_after or not_before + CARD_LIFETIME
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, 'OM'),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, civil_id),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )

    def card(self, person, **validity):
        """A new card for `person` (a pki_idp Person), with a fresh key pair."""
        key = new_key()
        certificate = self.issue(key.public_key(), person.civil_id, person.name_en, **validity)
        return CivilIdCard(certificate.public_bytes(serialization.Encoding.DER), key, person.pin)


class CardFolder:
    """The CA and the cards of the test people, kept as PEM files in `path`."""

    def __init__(self, path):
        self.path = Path(path)

    @property
    def ca_file(self):
        return self.path / CA_FILE

    def issue(self, people):
        """Make the CA and the card of every person that has none yet; safe to repeat."""
        self.path.mkdir(parents=True, exist_ok=True)
        if self.ca_file.exists():
            ca = self.ca()
        else:
            ca = CertificationAuthority.create()
            write_private_key(self.path / CA_KEY_FILE, ca.key)
            self.ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
        for person in people:
            certificate_file = self.path / f'{person.civil_id}.pem'
            if certificate_file.exists():
                continue
            card = ca.card(person)
            write_private_key(self.path / f'{person.civil_id}.key', card.private_key)
            certificate = x509.load_der_x509_certificate(card.certificate)
            certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))

    def ca(self):
        return CertificationAuthority(
            x509.load_pem_x509_certificate(self.ca_file.read_bytes()),
            serialization.load_pem_private_key(
                (self.path / CA_KEY_FILE).read_bytes(), password=None
            ),
        )

    def cards(self, people):
        """The card of each person that has one, by civil ID."""
        cards = {}
        for person in people:
            certificate_file = self.path / f'{person.civil_id}.pem'
            if not certificate_file.exists():
                continue
            certificate = x509.load_pem_x509_certificate(certificate_file.read_bytes())
            key = serialization.load_pem_private_key(
                (self.path / f'{person.civil_id}.key').read_bytes(), password=None
            )
            cards[person.civil_id] = CivilIdCard(
                certificate.public_bytes(serialization.Encoding.DER), key, person.pin
            )
        return cards
