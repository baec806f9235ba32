"""A company's statement of account as an A4 PDF in the chamber's house style.

The heading and the company's details are bilingual, as on every document of
the chamber; the entries are in the reader's language (the portal gives them
translated), their columns from the right in Arabic.  As many pages as the
entries need, each framed, the columns' headings repeated.
"""

from dataclasses import dataclass

from occi_site.certificates import page
from occi_site.certificates.page import LEFT, PAGE_HEIGHT, RIGHT, Row
from occi_site.i18n import _

TITLE_EN = _('Statement of Account')
TITLE_AR = 'كشف حساب'
NOTE_EN = _('Issued electronically by the chamber from its records on the portal.')
NOTE_AR = 'صدر إلكترونيا من سجلات الغرفة في البوابة.'
# The columns, in reading order: date, description (its reference beneath
# it), debit, credit, balance; their widths add up to the page's text width.
WIDTHS = (62, 203, 60, 60, 70)
SIZE = 8.5
SMALL = 7
LINE = 11
# Where the entries stop, above the footer.
BOTTOM = 96
CONTINUED_TOP = PAGE_HEIGHT - 70


@dataclass
class StatementData:
    """What a statement shows, every text already in the reader's language.

    ``rows`` are ``(date, description, reference, debit, credit, balance)``.
    """

    language: str
    company_name_en: str
    company_name_ar: str
    cr_number: str
    occi_number: str
    as_of: str
    headings: tuple
    rows: tuple
    balance: str


def render_statement(data):
    """The statement as the bytes of an A4 PDF of one or more pages."""
    return page.render(
        TITLE_EN,
        '%s %s %s' % (TITLE_EN, data.cr_number, data.as_of),
        lambda canvas: _draw(canvas, data),
    )


def _columns(rtl):
    """``(x, width)`` of each column, from the left margin, or the right in Arabic."""
    columns, x = [], LEFT
    for width in WIDTHS:
        columns.append((x, width))
        x += width
    if rtl:
        columns = [(LEFT + RIGHT - x - width, width) for x, width in columns]
    return columns


def _cell(canvas, text, column, y, rtl, number=False, size=SIZE, colour=page.INK, font=page.SANS):
    x, width = column
    gap = 4
    # Numbers line up at the end of their column (the left in Arabic).
    if number != rtl:
        page.draw_text(
            canvas,
            text,
            x + width - gap,
            y,
            size,
            font=font,
            align='right',
            colour=colour,
            max_width=width - 2 * gap,
        )
    else:
        page.draw_text(
            canvas, text, x + gap, y, size, font=font, colour=colour, max_width=width - 2 * gap
        )


def _headings(canvas, data, columns, top, rtl):
    for index, heading in enumerate(data.headings):
        _cell(canvas, heading, columns[index], top, rtl, number=index >= 2, font=page.SANS_BOLD)
    page.rule(canvas, top - 6, colour=page.NAVY, width=0.8)
    return top - 6


def _row_lines(row, width):
    _day, description, reference, *_amounts = row
    lines = list(page.wrap(description, SIZE, width - 8, page.SANS)) or ['']
    return lines, reference


def _footer(canvas):
    """The note closing each page, in both languages.  A statement is read on
    the day it is drawn and is not signed, unlike certificates and receipts."""
    page.draw_text(canvas, NOTE_EN, LEFT, 58, 8, font=page.SANS, colour=page.MUTED)
    page.draw_text(canvas, NOTE_AR, RIGHT, 58, 8, align='right', colour=page.MUTED)


def _draw(canvas, data):
    rtl = data.language == 'ar'
    columns = _columns(rtl)
    page.draw_frame(canvas)
    top = page.draw_heading(canvas, TITLE_EN, TITLE_AR)
    top = page.draw_rows(
        canvas,
        (
            Row(_('Company'), 'الشركة', (data.company_name_en, data.company_name_ar)),
            Row(_('CR Number'), 'رقم السجل التجاري', (data.cr_number,)),
            Row(_('OCCI Number'), 'رقم العضوية', (data.occi_number or '—',)),
            Row(_('Date'), 'التاريخ', (data.as_of,)),
        ),
        top - 10,
    )
    y = _headings(canvas, data, columns, top - 24, rtl)
    for row in data.rows:
        lines, reference = _row_lines(row, columns[1][1])
        height = LINE * (len(lines) + (1 if reference else 0)) + 6
        if y - height < BOTTOM:
            _footer(canvas)
            canvas.showPage()
            page.draw_frame(canvas)
            y = _headings(canvas, data, columns, CONTINUED_TOP, rtl)
        baseline = y - LINE
        day, _description, _reference, debit, credit, balance = row
        _cell(canvas, day, columns[0], baseline, rtl)
        for index, line in enumerate(lines):
            _cell(canvas, line, columns[1], baseline - index * LINE, rtl)
        if reference:
            _cell(
                canvas,
                reference,
                columns[1],
                baseline - len(lines) * LINE,
                rtl,
                size=SMALL,
                colour=page.MUTED,
            )
        for index, amount in ((2, debit), (3, credit), (4, balance)):
            _cell(canvas, amount, columns[index], baseline, rtl, number=True)
        y -= height
        page.rule(canvas, y + 2, colour=page.HAIRLINE, width=0.4)
    if y - 30 < BOTTOM:
        _footer(canvas)
        canvas.showPage()
        page.draw_frame(canvas)
        y = CONTINUED_TOP
    page.draw_text(
        canvas,
        data.balance,
        RIGHT if rtl else LEFT,
        y - 24,
        11,
        font=page.SERIF_BOLD,
        align='right' if rtl else 'left',
        colour=page.NAVY,
    )
    _footer(canvas)
