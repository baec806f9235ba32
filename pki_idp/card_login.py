"""What the identity provider checks of a smart card's answer to a login challenge.

The card agent on the member's computer sends back the card's certificate and its signature of
the SHA-256 digest of the challenge (PKCS#1 v1.5). The login is accepted only if the challenge is
the one issued for this very login and not used before (IdpState), the certificate is valid
today, is meant for signing (key usage digitalSignature), chains to the configured national CA,
the signature verifies with the certificate's key, and the certificate's serialNumber names a
person the identity provider knows. Each refusal has its own message.
"""

import base64
import binascii
import logging

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from .i18n import _

log = logging.getLogger(__name__)

# The web PKI's rules for CA certificates; a person's certificate names no host, so it need
# not carry a subjectAltName as a server's must.
CA_POLICY = ExtensionPolicy.webpki_defaults_ca()
PERSON_POLICY = ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
)


class CardRefused(Exception):
    """The card's answer is not a login; `message` (a TranslationString) tells the member why."""

    def __init__(self, message, detail=''):
        super().__init__(detail or message)
        self.message = message


def decode_answer(certificate, signature):
    """The certificate (DER) and signature of the PIN pad's form fields, or CardRefused."""
    try:
        if not certificate or not signature:
            raise ValueError('empty')
        return base64.b64decode(certificate, validate=True), base64.b64decode(
            signature, validate=True
        )
    except (ValueError, binascii.Error) as exc:
        raise CardRefused(
            _('No answer from your card was received. Enter your PIN again.')
        ) from exc


class CardVerifier:
    """Checks card answers against the national CA certificates in `national_ca_file` (PEM,
    read at each check so a renewed file needs no restart)."""

    def __init__(self, national_ca_file):
        self.national_ca_file = national_ca_file

    def national_cas(self):
        try:
            with open(self.national_ca_file, 'rb') as pem:
                return x509.load_pem_x509_certificates(pem.read())
        except (OSError, ValueError) as exc:
            log.error('cannot read the national CA file %s: %s', self.national_ca_file, exc)
            raise CardRefused(
                _('Smart card login is not available at the moment. Please use Mobile ID.'),
                str(exc),
            ) from exc

    def civil_id(self, certificate_der, signature, challenge, now):
        """The civil ID the card proves, or CardRefused."""
        try:
            certificate = x509.load_der_x509_certificate(certificate_der)
        except ValueError as exc:
            raise CardRefused(_("Your card's certificate could not be read.")) from exc
        if now < certificate.not_valid_before_utc:
            raise CardRefused(_("Your card's certificate is not valid yet."))
        if now > certificate.not_valid_after_utc:
            raise CardRefused(_("Your card's certificate has expired. Please renew your card."))
        try:
            usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is None or not usage.digital_signature:
            raise CardRefused(_("Your card's certificate is not meant for logging in."))
        verifier = (
            PolicyBuilder()
            .store(Store(self.national_cas()))
            .time(now)
            .extension_policies(ca_policy=CA_POLICY, ee_policy=PERSON_POLICY)
            .build_client_verifier()
        )
        try:
            verifier.verify(certificate, [])
        except VerificationError as exc:
            raise CardRefused(
                _('Your card was not issued by the national certification authority.'),
                str(exc),
            ) from exc
        key = certificate.public_key()
        try:
            if not isinstance(key, rsa.RSAPublicKey):
                raise InvalidSignature()
            key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise CardRefused(_("Your card's signature does not match its certificate.")) from exc
        civil_ids = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        if not civil_ids:
            raise CardRefused(_("Your card's certificate does not name a civil ID."))
        return civil_ids[0].value
