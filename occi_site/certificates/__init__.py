"""The chamber's PDF documents: membership certificates and payment receipts.

Both are one bilingual A4 page rendered with reportlab; Arabic is shaped with
arabic-reshaper and python-bidi and set in the Amiri font.
"""

from occi_site.certificates.fonts import ArabicFontMissing, shape_arabic
from occi_site.certificates.membership import CertificateData, render_membership_certificate
from occi_site.certificates.receipt import ReceiptData, render_receipt

__all__ = (
    'ArabicFontMissing',
    'CertificateData',
    'ReceiptData',
    'render_membership_certificate',
    'render_receipt',
    'shape_arabic',
)
