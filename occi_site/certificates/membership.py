"""The membership certificate: one A4 page, English and Arabic, with a QR code
that opens the certificate's page on the portal's public verify view."""

import datetime
from dataclasses import dataclass

from occi_site.certificates import page
from occi_site.certificates.page import CENTRE, LEFT, RIGHT, Row
from occi_site.certificates.qr import draw_qr
from occi_site.i18n import _

QR_SIZE = 100
QR_BOTTOM = 98
CAPTION_WIDTH = CENTRE - QR_SIZE / 2 - 16 - LEFT

TITLE_EN = _('Membership Certificate')
TITLE_AR = 'شهادة عضوية'
CERTIFY_EN = _('This is to certify that')
CERTIFY_AR = 'تشهد الغرفة بأن'
MEMBER_EN = _('is a member of the Chamber.')
MEMBER_AR = 'عضو في الغرفة.'
VERIFY_EN = _('To verify this certificate, scan the code or visit the address printed beneath it.')
VERIFY_AR = 'للتحقق من صحة هذه الشهادة امسح الرمز أو زر العنوان المطبوع أسفله.'


@dataclass
class CertificateData:
    """What a membership certificate states.

    status_note (e.g. that a newer certificate superseded this one) is for
    the portal's verify page; the PDF shows the certificate as it was issued.
    """

    serial: str
    occi_number: str
    cr_number: str
    name_en: str
    name_ar: str
    grade_en: str
    grade_ar: str
    address: str
    issued_on: datetime.date
    expires_on: datetime.date
    verification_code: str
    verify_url: str
    status_note: str | None = None


def render_membership_certificate(data):
    """The certificate as the bytes of a one-page A4 PDF."""
    return page.render_one_page(
        TITLE_EN, TITLE_AR, data.serial, lambda canvas, top: _draw(canvas, data, top)
    )


def _draw(canvas, data, top):
    top = _draw_member(canvas, data, top - 26)
    page.draw_rows(canvas, _rows(data), top - 18)
    _draw_verification(canvas, data.verify_url)


def _draw_member(canvas, data, top):
    """The certifying sentence around the company's names; returns the y below."""
    width = RIGHT - LEFT
    page.draw_text(canvas, CERTIFY_EN, CENTRE, top, 12, font=page.SERIF_ITALIC, align='centre')
    page.draw_text(canvas, CERTIFY_AR, CENTRE, top - 20, 12, align='centre')
    page.draw_text(
        canvas,
        data.name_en,
        CENTRE,
        top - 58,
        22,
        font=page.SERIF_BOLD,
        align='centre',
        max_width=width,
        colour=page.NAVY,
    )
    page.draw_text(
        canvas,
        data.name_ar,
        CENTRE,
        top - 94,
        22,
        align='centre',
        max_width=width,
        colour=page.NAVY,
    )
    page.draw_text(canvas, MEMBER_EN, CENTRE, top - 126, 12, font=page.SERIF_ITALIC, align='centre')
    page.draw_text(canvas, MEMBER_AR, CENTRE, top - 146, 12, align='centre')
    return top - 146


def _rows(data):
    return (
        Row(_('Certificate Number'), 'رقم الشهادة', (data.serial,)),
        Row(_('Verification Code'), 'رمز التحقق', (data.verification_code,)),
        Row(_('OCCI Number'), 'رقم العضوية', (data.occi_number,)),
        Row(_('CR Number'), 'رقم السجل التجاري', (data.cr_number,)),
        Row(_('Grade'), 'الدرجة', (data.grade_en, data.grade_ar)),
        Row(_('Address'), 'العنوان', (data.address,)),
        Row(_('Issue Date'), 'تاريخ الإصدار', (data.issued_on.isoformat(),)),
        Row(_('Expiry Date'), 'تاريخ الانتهاء', (data.expires_on.isoformat(),)),
    )


def _draw_verification(canvas, url):
    """The QR code in the middle, the address under it, how to use it either side."""
    canvas.setFillColor(page.INK)
    draw_qr(canvas, url, CENTRE - QR_SIZE / 2, QR_BOTTOM, QR_SIZE)
    page.draw_text(
        canvas,
        url,
        CENTRE,
        QR_BOTTOM - 6,
        8,
        font=page.SANS,
        align='centre',
        max_width=RIGHT - LEFT,
    )
    caption_top = QR_BOTTOM + QR_SIZE - 24
    for index, line in enumerate(page.wrap(VERIFY_EN, 9, CAPTION_WIDTH, page.SERIF_ITALIC)):
        page.draw_text(
            canvas,
            line,
            LEFT,
            caption_top - index * 13,
            9,
            font=page.SERIF_ITALIC,
            colour=page.MUTED,
        )
    for index, line in enumerate(page.wrap(VERIFY_AR, 9, CAPTION_WIDTH)):
        page.draw_text(
            canvas, line, RIGHT, caption_top - index * 15, 9, align='right', colour=page.MUTED
        )
