"""The signed PDFs the chamber has issued: ``/documents``.

A certificate or receipt is rendered and signed once; its bytes are kept as a
ZODB blob, so every later download is the very same file, and its SHA-256
fingerprint is indexed, so an uploaded copy is recognised without a scan.
"""

import hashlib

from BTrees.OOBTree import OOBTree
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow
from ZODB.blob import Blob

from ..i18n import _
from .folder import Located
from .types import content_type

KINDS = ('certificate', 'receipt')


class IssuedDocument(Located):
    """One issued PDF: which record it renders, when, and its exact bytes."""

    def __init__(self, kind, key, pdf, issued_at):
        self.kind = kind
        self.key = key
        self.sha256 = hashlib.sha256(pdf).hexdigest()
        self.size = len(pdf)
        self.issued_at = issued_at
        self.blob = Blob(pdf)

    def read(self):
        with self.blob.open('r') as stream:
            return stream.read()


@content_type('issued_documents', _('Signed documents'))
class IssuedDocuments(Located):
    """Issued PDFs by ``(kind, key)`` and by SHA-256 fingerprint.

    Each document is its own entry, so two first downloads of different
    documents do not conflict; two of the same one do, and the retried
    request then finds the one the first stored.
    """

    title = 'Issued documents'
    # Members download through their certificates and orders; the register is the chamber's.
    __acl__ = [(Allow, 'role:admin', ALL_PERMISSIONS), DENY_ALL]

    def __init__(self):
        self.issued = OOBTree()
        self.by_fingerprint = OOBTree()

    def get(self, kind, key):
        return self.issued.get((kind, key))

    def add(self, kind, key, pdf, issued_at):
        if kind not in KINDS:
            raise ValueError('unknown kind of document: %r' % (kind,))
        if (kind, key) in self.issued:
            raise ValueError('%s %s has been issued already' % (kind, key))
        document = IssuedDocument(kind, key, pdf, issued_at)
        document.__parent__ = self
        document.__name__ = '%s-%s' % (kind, key)
        self.issued[(kind, key)] = document
        self.by_fingerprint[document.sha256] = (kind, key)
        return document

    def find(self, sha256):
        """The issued document whose bytes have this fingerprint, or None."""
        found = self.by_fingerprint.get(sha256)
        return None if found is None else self.issued[found]
