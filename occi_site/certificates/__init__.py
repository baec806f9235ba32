"""The chamber's PDF documents: membership certificates, payment receipts and
statements of account.

Certificates and receipts are one bilingual A4 page, statements as many as
they need, rendered with reportlab; Arabic is shaped with arabic-reshaper and
python-bidi and set in the Amiri font.
"""

from occi_site.certificates.fonts import ArabicFontMissing, shape_arabic
from occi_site.certificates.membership import CertificateData, render_membership_certificate
from occi_site.certificates.receipt import ReceiptData, render_receipt
from occi_site.certificates.statement import StatementData, render_statement

__all__ = (
    'ArabicFontMissing',
    'CertificateData',
    'ReceiptData',
    'StatementData',
    'render_membership_certificate',
    'render_receipt',
    'render_statement',
    'shape_arabic',
)
