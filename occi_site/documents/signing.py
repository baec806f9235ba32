"""The chamber's document-signing key, and PAdES signatures made with it (pyHanko).

The key is an outside system behind one interface, a pyHanko ``Signer``,
chosen from the settings:

- a PKCS#12 file, ``occi.documents.key_file`` (``occi.documents.key_passphrase``
  if it has one): the development default that `make run` creates under
  var/documents, or a file the chamber's CA issued;
- a PKCS#11 token such as an HSM, ``occi.documents.pkcs11_module`` with
  ``occi.documents.pkcs11_token`` (its label) or ``occi.documents.pkcs11_slot``,
  ``occi.documents.pkcs11_key_label`` (``occi.documents.pkcs11_cert_label`` if
  the certificate's label differs) and ``occi.documents.pkcs11_pin``.

``occi.documents.chain_file`` adds certificates of the chain to every
signature; ``occi.documents.timestamp_url`` names an RFC 3161 time-stamping
service whose token is embedded in every signature (PAdES B-T).
"""

import contextlib
import io
import os
import threading

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.font.basic import SimpleFontEngineFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from pyramid.exceptions import ConfigurationError

from ..certificates.page import CHAMBER_EN, SIGNATURE_BOX
from ..clock import OMAN, system_clock
from .running import run_to_completion

FIELD_NAME = 'ChamberSignature'
# Room for the CMS signature in the file: the signer's chain, and a time-stamp
# token with the service's own chain.  Reserving it saves pyHanko a trial
# signature to measure; what is left unused stays zeros inside the signature.
RESERVED_BYTES = 12_000
RESERVED_BYTES_WITH_TIMESTAMP = 24_000

STAMP_STYLE = TextStampStyle(
    stamp_text='%(signed_at)s',
    border_width=0,
    text_box_style=TextBoxStyle(
        font=SimpleFontEngineFactory.default_factory(), font_size=7, leading=7
    ),
    inner_content_layout=SimpleBoxLayoutRule(
        x_align=AxisAlignment.ALIGN_MID,
        y_align=AxisAlignment.ALIGN_MIN,
        margins=Margins(bottom=0),
    ),
)


class DocumentSetupError(ConfigurationError):
    """The signing key, its chain or the trust roots cannot be used; the
    message names the setting to fix."""


def _asn1(certificate):
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


class KeyFileSigner(Signer):
    """A signer whose key was read from a PKCS#12 file into memory.

    pyHanko's SimpleSigner parses its key again for every signature, and
    checking an RSA key costs more than the rest of the signature; this one
    keeps the parsed key.
    """

    def __init__(self, private_key, certificate, other_certificates=()):
        if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise DocumentSetupError('the document-signing key must be RSA or ECDSA')
        self._private_key = private_key
        super().__init__(
            signing_cert=_asn1(certificate),
            cert_registry=SimpleCertificateStore.from_certs(
                [_asn1(other) for other in other_certificates]
            ),
        )

    async def async_sign_raw(self, data, digest_algorithm, dry_run=False):
        algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._private_key, rsa.RSAPrivateKey):
            return self._private_key.sign(data, PKCS1v15(), algorithm)
        return self._private_key.sign(data, ec.ECDSA(algorithm))


def pkcs12_signer(path, passphrase=None, setting='occi.documents.key_file'):
    try:
        with open(path, 'rb') as stream:
            data = stream.read()
    except OSError as error:
        raise DocumentSetupError(
            '%s: the document-signing key %s cannot be read (%s)'
            % (setting, path, error.strerror or error)
        ) from error
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(
            data, passphrase.encode() if passphrase else None
        )
    except ValueError as error:
        raise DocumentSetupError(
            '%s: %s is not a PKCS#12 file this passphrase opens '
            '(occi.documents.key_passphrase)' % (setting, path)
        ) from error
    if key is None or certificate is None:
        raise DocumentSetupError('%s: %s holds no key with its certificate' % (setting, path))
    return KeyFileSigner(key, certificate, others)


def pkcs11_signer(settings):
    """pyHanko's PKCS11Signer on a session opened now, so a wrong module, token
    or PIN stops the start rather than the first download."""
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    module = settings['occi.documents.pkcs11_module']
    if not os.path.isfile(module):
        raise DocumentSetupError('occi.documents.pkcs11_module: no PKCS#11 module at %s' % module)
    slot = settings.get('occi.documents.pkcs11_slot')
    token = settings.get('occi.documents.pkcs11_token')
    key_label = settings.get('occi.documents.pkcs11_key_label')
    if not key_label:
        raise DocumentSetupError(
            'occi.documents.pkcs11_key_label: name the label of the signing key on the token'
        )
    try:
        session = open_pkcs11_session(
            module,
            slot_no=int(slot) if slot else None,
            token_criteria=TokenCriteria(label=token) if token else None,
            user_pin=settings.get('occi.documents.pkcs11_pin'),
        )
        signer = PKCS11Signer(
            session,
            key_label=key_label,
            cert_label=settings.get('occi.documents.pkcs11_cert_label') or key_label,
        )
        run_to_completion(signer.ensure_objects_loaded())
    except Exception as error:
        raise DocumentSetupError(
            'occi.documents.pkcs11_*: the signing key %r cannot be used (%s: %s); check the '
            'module, the token or slot, the key label and the PIN'
            % (key_label, type(error).__name__, error)
        ) from error
    return signer


def read_certificates(path, setting):
    try:
        return list(load_certs_from_pemder([path]))
    except (OSError, ValueError) as error:
        raise DocumentSetupError(
            '%s: no certificates can be read from %s (%s)' % (setting, path, error)
        ) from error


class DocumentSigner:
    """Signs the chamber's PDFs: one PAdES certification signature each, in the
    field over the document's signature block, that allows no later change."""

    def __init__(self, signer, timestamp_url=None, timestamp_timeout=10, serialise=False):
        self.signer = signer
        self.timestamper = (
            HTTPTimeStamper(timestamp_url, timeout=timestamp_timeout) if timestamp_url else None
        )
        self.reserved = RESERVED_BYTES_WITH_TIMESTAMP if timestamp_url else RESERVED_BYTES
        # One PKCS#11 session serves one operation at a time.
        self._lock = threading.Lock() if serialise else contextlib.nullcontext()
        self._pdf_signer = signers.PdfSigner(
            signers.PdfSignatureMetadata(
                field_name=FIELD_NAME,
                subfilter=SigSeedSubFilter.PADES,
                certify=True,
                docmdp_permissions=MDPPerm.NO_CHANGES,
                name=CHAMBER_EN,
                location='Muscat, Oman',
                reason='Issued by the %s' % CHAMBER_EN,
                md_algorithm='sha256',
            ),
            signer,
            timestamper=self.timestamper,
            stamp_style=STAMP_STYLE,
            new_field_spec=SigFieldSpec(FIELD_NAME, box=SIGNATURE_BOX),
        )

    def sign(self, pdf, now=None):
        """The signed bytes of ``pdf`` (one page with the signature block)."""
        now = (now or system_clock()).astimezone(OMAN)
        with self._lock:
            signed = run_to_completion(
                self._pdf_signer.async_sign_pdf(
                    IncrementalPdfFileWriter(io.BytesIO(pdf)),
                    bytes_reserved=self.reserved,
                    appearance_text_params={'signed_at': now.strftime('%Y-%m-%d %H:%M (UTC+4)')},
                )
            )
        return signed.getvalue()


def signer_from_settings(settings):
    """The DocumentSigner the settings name; DocumentSetupError if none can be made."""
    if settings.get('occi.documents.pkcs11_module'):
        signer = pkcs11_signer(settings)
        serialise = True
    elif settings.get('occi.documents.key_file'):
        signer = pkcs12_signer(
            settings['occi.documents.key_file'], settings.get('occi.documents.key_passphrase')
        )
        serialise = False
    else:
        raise DocumentSetupError(
            'occi.documents.key_file (or occi.documents.pkcs11_module) is not set: '
            "name the chamber's document-signing key"
        )
    chain_file = settings.get('occi.documents.chain_file')
    if chain_file:
        signer.cert_registry.register_multiple(
            read_certificates(chain_file, 'occi.documents.chain_file')
        )
    return DocumentSigner(
        signer,
        timestamp_url=settings.get('occi.documents.timestamp_url') or None,
        timestamp_timeout=float(settings.get('occi.documents.timestamp_timeout', 10)),
        serialise=serialise,
    )
