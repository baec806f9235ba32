"""Whether a PDF someone holds carries the chamber's signature, unchanged.

pyHanko's validator checks the signature against the chamber's trust roots
(``occi.documents.trust_roots``); nothing is fetched from the network, and an
upload is read from memory only.
"""

import io
import logging
from dataclasses import dataclass
from datetime import datetime

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from .running import run_to_completion

log = logging.getLogger(__name__)

# What a check finds:
INTACT = 'intact'  # signed by the chamber's key, not one byte changed since
ALTERED = 'altered'  # the chamber's signature is there, but the file changed after it
FOREIGN = 'foreign'  # signed, but not with a key the chamber's roots vouch for
UNSIGNED = 'unsigned'  # a PDF without any signature
UNREADABLE = 'unreadable'  # not a PDF at all


@dataclass(frozen=True)
class SignatureCheck:
    verdict: str
    signer: str = ''
    signed_at: datetime | None = None
    timestamped_at: datetime | None = None


def _signer_name(status):
    return status.signing_cert.subject.native.get('common_name', '')


def _vouched_for(signature, context):
    """Whether the signer's certificate chains to the trust roots, checked on
    its own: pyHanko leaves trust unexamined once the signed bytes fail."""
    validator = CertificateValidator(
        signature.signer_cert,
        intermediate_certs=signature.other_embedded_certs,
        validation_context=context,
    )
    try:
        run_to_completion(validator.async_validate_path())
    except (PathBuildingError, PathValidationError):
        return False
    return True


def check_signature(pdf, trust_roots):
    """The SignatureCheck of ``pdf`` (bytes) against ``trust_roots``
    (asn1crypto certificates)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:
        # Uploaded bytes may be anything; whatever the parser trips on, they
        # are not a document of the chamber's.
        log.debug('not a readable PDF: %s', error)
        return SignatureCheck(UNREADABLE)
    if not signatures:
        return SignatureCheck(UNSIGNED)
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
    try:
        status = run_to_completion(
            async_validate_pdf_signature(signatures[0], context, skip_diff=True)
        )
    except (ValueError, PdfError) as error:
        # A signature whose bytes no longer parse was damaged after signing.
        log.debug('signature cannot be read: %s', error)
        return SignatureCheck(ALTERED)
    if not (status.intact and status.valid):
        verdict = ALTERED if _vouched_for(signatures[0], context) else FOREIGN
        return SignatureCheck(verdict, signer=_signer_name(status))
    if not status.trusted:
        return SignatureCheck(FOREIGN, signer=_signer_name(status))
    whole_file = len(signatures) == 1 and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    timestamp = status.timestamp_validity
    return SignatureCheck(
        INTACT if whole_file else ALTERED,
        signer=_signer_name(status),
        signed_at=status.signer_reported_dt,
        timestamped_at=timestamp.timestamp if timestamp is not None else None,
    )
