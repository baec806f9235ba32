"""The chamber's documents that prove themselves: membership certificates and
payment receipts as PDFs signed with the chamber's document-signing key
(PAdES), and the check of a PDF someone uploads.

A document is rendered and signed on its first download and its bytes are
kept (``/documents``), so every later download is the very same file.  Views
need three calls: ``issued_pdf``, ``pdf_response`` and
``request.document_signing.check``.

Settings (production.ini explains each): ``occi.documents.key_file`` or the
``occi.documents.pkcs11_*`` settings, ``occi.documents.trust_roots``, and the
optional ``occi.documents.chain_file``, ``occi.documents.timestamp_url``.
"""

import logging

from pyramid.settings import asbool, aslist
from ZODB.interfaces import IBlobStorage

from ..resources import database
from .signing import DocumentSetupError, read_certificates, signer_from_settings
from .validation import check_signature

log = logging.getLogger(__name__)


class DocumentsUnavailable(Exception):
    """Documents cannot be signed here: development without a signing key."""


class DocumentSigning:
    """The chamber's signature on its documents, and the check of one."""

    def __init__(self, signer, trust_roots):
        self.signer = signer
        self.trust_roots = tuple(trust_roots)

    def sign(self, pdf, now=None):
        return self.signer.sign(pdf, now)

    def check(self, pdf):
        return check_signature(pdf, self.trust_roots)


def documents_from_settings(settings):
    signer = signer_from_settings(settings)
    files = aslist(settings.get('occi.documents.trust_roots', ''))
    if not files:
        raise DocumentSetupError(
            'occi.documents.trust_roots is not set: name the certificate of the CA '
            "that issued the chamber's document-signing certificate"
        )
    roots = [
        root for path in files for root in read_certificates(path, 'occi.documents.trust_roots')
    ]
    return DocumentSigning(signer, roots)


def issued_pdf(request, kind, key, render):
    """The IssuedDocument of ``kind`` (``'certificate'`` or ``'receipt'``) ``key``:
    on the first call ``render()`` makes the PDF, which is signed and kept."""
    documents = request.root['documents']
    document = documents.get(kind, key)
    if document is None:
        signing = request.document_signing
        if signing is None:
            raise DocumentsUnavailable()
        document = documents.add(kind, key, signing.sign(render(), request.now), request.now)
    return document


def pdf_response(request, document, filename):
    response = request.response
    response.content_type = 'application/pdf'
    response.content_disposition = 'attachment; filename="%s"' % filename
    response.body = document.read()
    response.etag = document.sha256
    # A proxy must hand the signed bytes on exactly as they are.
    response.cache_control = 'private, no-transform'
    return response


def _check_blob_storage(registry):
    # The database was opened by pyramid_zodbconn, included before this.
    if not IBlobStorage.providedBy(database(registry).storage):
        raise DocumentSetupError(
            'zodbconn.uri: the database keeps the signed documents as blobs; '
            'give it a blob directory (blobstorage_dir=... for file://, blob-dir in ZConfig)'
        )


def includeme(config):
    """Load the signing key and trust roots now, so that a missing or unreadable
    one stops the start; with dev tools on, documents are only unavailable."""
    settings = config.registry.settings
    try:
        _check_blob_storage(config.registry)
        config.registry.occi_documents = documents_from_settings(settings)
    except DocumentSetupError as error:
        if not asbool(settings.get('occi.dev_tools', False)):
            raise
        log.warning('signed documents are not available: %s', error)
        config.registry.occi_documents = None
    config.add_request_method(
        lambda request: request.registry.occi_documents, 'document_signing', reify=True
    )
