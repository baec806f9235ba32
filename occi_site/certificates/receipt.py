"""The payment receipt: one A4 page, English and Arabic, itemised in OMR."""

import datetime
from dataclasses import dataclass

from occi_site.certificates import page
from occi_site.certificates.page import LEFT, RIGHT, Row
from occi_site.i18n import _
from occi_site.money import document_amount

# The Arabic description column ends here; the amounts are right of it.
ARABIC_DESCRIPTION_RIGHT = RIGHT - 120
DESCRIPTION_WIDTH = (ARABIC_DESCRIPTION_RIGHT - LEFT) / 2 - 8
LINE_HEIGHT = 22
# What fits on the one page between the receipt's details and its payment.
MAX_LINES = 6

TITLE_EN = _('Payment Receipt')
TITLE_AR = 'إيصال دفع'
AMOUNT_EN = _('Amount')


@dataclass
class ReceiptData:
    """What a receipt states; the lines must add up to the total."""

    reference: str
    issued_at: datetime.datetime
    payer_name: str
    company_name_en: str
    company_name_ar: str
    cr_number: str
    service_en: str
    service_ar: str
    lines: list  # of (label_en, label_ar, amount_baisa)
    total_baisa: int
    card_type: str
    card_last4: str
    transaction_id: str

    def __post_init__(self):
        if not 1 <= len(self.lines) <= MAX_LINES:
            raise ValueError('a receipt has 1 to %d lines, not %d' % (MAX_LINES, len(self.lines)))
        added = sum(amount for _label_en, _label_ar, amount in self.lines)
        if added != self.total_baisa:
            raise ValueError(
                'receipt %s: lines add up to %d baisa, total says %d'
                % (self.reference, added, self.total_baisa)
            )


def render_receipt(data):
    """The receipt as the bytes of a one-page A4 PDF."""
    return page.render_one_page(
        TITLE_EN, TITLE_AR, data.reference, lambda canvas, top: _draw(canvas, data, top)
    )


def _draw(canvas, data, top):
    top = page.draw_rows(canvas, _detail_rows(data), top - 18)
    top = _draw_lines(canvas, data, top - 30)
    page.draw_rows(canvas, _payment_rows(data), top - 24)


def _detail_rows(data):
    return (
        Row(_('Receipt Reference'), 'رقم المرجع', (data.reference,)),
        Row(_('Date'), 'التاريخ', (data.issued_at.strftime('%Y-%m-%d %H:%M'),)),
        Row(_('Paid By'), 'اسم الدافع', (data.payer_name,)),
        Row(_('Company'), 'الشركة', (data.company_name_en, data.company_name_ar)),
        Row(_('CR Number'), 'رقم السجل التجاري', (data.cr_number,)),
        Row(_('Service'), 'الخدمة', (data.service_en, data.service_ar)),
    )


def _payment_rows(data):
    return (
        Row(_('Card Type'), 'نوع البطاقة', (data.card_type,)),
        Row(_('Card Number'), 'رقم البطاقة', ('•••• •••• •••• ' + data.card_last4,)),
        Row(_('Transaction ID'), 'رقم العملية', (data.transaction_id,)),
    )


def _draw_line(canvas, y, label_en, label_ar, amount, font=page.SERIF, size=11):
    page.draw_text(canvas, label_en, LEFT, y, size, font=font, max_width=DESCRIPTION_WIDTH)
    page.draw_text(
        canvas,
        label_ar,
        ARABIC_DESCRIPTION_RIGHT,
        y,
        size,
        align='right',
        max_width=DESCRIPTION_WIDTH,
    )
    page.draw_text(canvas, amount, RIGHT, y, size, font=font, align='right')


def _draw_lines(canvas, data, top):
    """The itemised amounts under a bilingual header, then the total; returns the y below."""
    _draw_line(canvas, top, _('Description'), 'البيان', AMOUNT_EN, font=page.SANS_BOLD, size=9)
    # The Arabic heading of the amounts stands just left of the English one.
    beside = RIGHT - page.text_width(AMOUNT_EN, 9, page.SANS_BOLD) - 8
    page.draw_text(canvas, 'المبلغ', beside, top, 9, align='right')
    page.rule(canvas, top - 7, colour=page.NAVY, width=0.8)
    y = top - 7
    for label_en, label_ar, amount in data.lines:
        y -= LINE_HEIGHT
        _draw_line(canvas, y, label_en, label_ar, document_amount(amount))
        page.rule(canvas, y - 7, colour=page.HAIRLINE, width=0.4)
    y -= LINE_HEIGHT + 4
    _draw_line(
        canvas,
        y,
        _('Total'),
        'الإجمالي',
        document_amount(data.total_baisa),
        font=page.SERIF_BOLD,
        size=12,
    )
    page.rule(canvas, y - 8, colour=page.NAVY, width=0.8)
    return y - 8
