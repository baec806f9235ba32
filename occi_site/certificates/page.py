"""The house style shared by the chamber's PDF documents.

An A4 page with a ruled border, the chamber's name in both languages, and
bilingual rows: the English label on the left, the Arabic label on the right,
the value between them. Text containing Arabic letters is shaped and set in
Amiri; Latin text uses the PDF base fonts (Times for what is read, Helvetica
for labels), which need no embedding and so cost nothing per document.

The documents are bilingual by design, so nothing on them is translated at
render time: the English wording is marked for the occi_site catalog like all
of the portal's text, and the Arabic beside it is the chamber's fixed wording.
"""

import functools
import io
import unicodedata
from dataclasses import dataclass

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from occi_site.certificates.fonts import arabic_font, shape_arabic
from occi_site.i18n import _

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 70
RIGHT = PAGE_WIDTH - LEFT
CENTRE = PAGE_WIDTH / 2
LABEL_GAP = 14
LABEL_SIZE = 9

NAVY = Color(0.11, 0.20, 0.33)
GOLD = Color(0.64, 0.53, 0.29)
INK = Color(0.12, 0.12, 0.12)
MUTED = Color(0.38, 0.38, 0.38)
HAIRLINE = Color(0.80, 0.80, 0.80)

SERIF = 'Times-Roman'
SERIF_BOLD = 'Times-Bold'
SERIF_ITALIC = 'Times-Italic'
SANS = 'Helvetica'
SANS_BOLD = 'Helvetica-Bold'

# Amiri's letters sit small beside Latin text of the same point size.
ARABIC_SCALE = 1.2
SMALLEST_SIZE = 7

CHAMBER_EN = _('Oman Chamber of Commerce and Industry')
CHAMBER_AR = 'غرفة تجارة وصناعة عمان'
# Where the signature block stands on every document: left, bottom, right, top.
SIGNATURE_BOX = (LEFT, 36, RIGHT, 86)
SIGNED_BY_EN = _('Digitally signed by')
SIGNED_BY_AR = 'توقيع رقمي من'


def render(title, subject, draw_page):
    """The bytes of an A4 PDF whose content draw_page(canvas) paints: one
    page, or more where draw_page starts the next with ``canvas.showPage()``.

    The page is left uncompressed: deflating the page and the embedded font
    subset costs more time than the few kilobytes it saves are worth.
    """
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    canvas.setTitle(title)
    canvas.setSubject(subject)
    canvas.setAuthor(CHAMBER_EN)
    canvas.setCreator(CHAMBER_EN)
    draw_page(canvas)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _has_arabic(text):
    return any(unicodedata.bidirectional(char) == 'AL' for char in text)


def _font_for(text, latin_font, size):
    if _has_arabic(text):
        return shape_arabic(text), arabic_font(), size * ARABIC_SCALE
    return text, latin_font, size


def draw_text(canvas, text, x, y, size, font=SERIF, align='left', max_width=None, colour=INK):
    """Draw text with its baseline at y, shrinking it to fit max_width if given.

    align is 'left', 'centre' or 'right' of x. Text with Arabic letters is
    shaped and set in the Arabic font whatever font is asked for.
    """
    glyphs, font, size = _font_for(text, font, size)
    width = stringWidth(glyphs, font, size)
    # Below the smallest size text is no longer legible on paper; it overflows instead.
    if max_width and width > max_width:
        size = max(SMALLEST_SIZE, size * max_width / width)
        width = stringWidth(glyphs, font, size)
    if align == 'centre':
        x -= width / 2
    elif align == 'right':
        x -= width
    canvas.setFillColor(colour)
    canvas.setFont(font, size)
    canvas.drawString(x, y, glyphs)


def text_width(text, size, font=SERIF):
    glyphs, font, size = _font_for(text, font, size)
    return stringWidth(glyphs, font, size)


@functools.lru_cache(maxsize=256)
def wrap(text, size, width, font=SERIF):
    """Text broken at spaces into lines no wider than width, in logical order."""
    lines = []
    for word in text.split():
        candidate = '%s %s' % (lines[-1], word) if lines else word
        if lines and text_width(candidate, size, font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return tuple(lines)


def render_one_page(title_en, title_ar, reference, draw_body):
    """A one-page document of the chamber: the frame, the heading,
    ``draw_body(canvas, top)`` below it, and the signature block."""

    def draw(canvas):
        draw_frame(canvas)
        draw_body(canvas, draw_heading(canvas, title_en, title_ar))
        draw_signature_block(canvas)

    return render(title_en, '%s %s' % (title_en, reference), draw)


def draw_frame(canvas):
    """A heavy navy border with a fine gold rule inside it."""
    canvas.setStrokeColor(NAVY)
    canvas.setLineWidth(2.4)
    canvas.rect(28, 28, PAGE_WIDTH - 56, PAGE_HEIGHT - 56, stroke=1, fill=0)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.7)
    canvas.rect(35, 35, PAGE_WIDTH - 70, PAGE_HEIGHT - 70, stroke=1, fill=0)


def rule(canvas, y, left=LEFT, right=RIGHT, colour=GOLD, width=0.7):
    canvas.setStrokeColor(colour)
    canvas.setLineWidth(width)
    canvas.line(left, y, right, y)


def draw_heading(canvas, title_en, title_ar, top=PAGE_HEIGHT - 78):
    """The chamber's name in Arabic and English, a rule, then the document's title.

    Returns the y below the heading where the body may start.
    """
    draw_text(canvas, CHAMBER_AR, CENTRE, top, 18, align='centre', colour=NAVY)
    draw_text(
        canvas, CHAMBER_EN, CENTRE, top - 26, 16, font=SERIF_BOLD, align='centre', colour=NAVY
    )
    rule(canvas, top - 40, left=CENTRE - 150, right=CENTRE + 150)
    draw_text(canvas, title_en, CENTRE, top - 82, 28, align='centre', colour=NAVY)
    draw_text(canvas, title_ar, CENTRE, top - 116, 22, align='centre', colour=NAVY)
    return top - 140


def draw_signature_block(canvas):
    """The box of the chamber's digital signature, naming the chamber in both languages.

    The signature's own field lies over SIGNATURE_BOX: a PDF reader opens the
    signature's details from it, and the signer adds the time of signing in
    the middle of its lower edge (Oman time, e.g. "2026-03-01 10:42 (UTC+4)").
    """
    left, bottom, right, top = SIGNATURE_BOX
    canvas.setStrokeColor(HAIRLINE)
    canvas.setLineWidth(0.6)
    canvas.rect(left, bottom, right - left, top - bottom, stroke=1, fill=0)
    draw_text(canvas, SIGNED_BY_EN, left + 10, top - 13, 8, font=SANS, colour=MUTED)
    draw_text(canvas, SIGNED_BY_AR, right - 10, top - 13, 8, align='right', colour=MUTED)
    draw_text(canvas, CHAMBER_EN, left + 10, top - 26, 9.5, font=SERIF_BOLD, colour=NAVY)
    draw_text(canvas, CHAMBER_AR, right - 10, top - 26, 9.5, align='right', colour=NAVY)


@dataclass(frozen=True)
class Row:
    """One bilingual row: the values are stacked lines between the two labels."""

    label_en: str
    label_ar: str
    values: tuple  # of str

    LINE = 17
    PADDING = 9

    @property
    def height(self):
        return self.LINE * len(self.values) + self.PADDING


def draw_rows(canvas, rows, top):
    """Draw rows downward from top, each closed by a hairline; returns the y below."""
    y = top
    for row in rows:
        baseline = y - Row.LINE + 3
        draw_text(canvas, row.label_en, LEFT, baseline, LABEL_SIZE, font=SANS, colour=MUTED)
        draw_text(canvas, row.label_ar, RIGHT, baseline, LABEL_SIZE, align='right', colour=MUTED)
        # Values are centred, so they may widen evenly up to the longer label.
        room = 2 * (
            min(
                CENTRE - LEFT - text_width(row.label_en, LABEL_SIZE, SANS),
                RIGHT - CENTRE - text_width(row.label_ar, LABEL_SIZE),
            )
            - LABEL_GAP
        )
        for index, value in enumerate(row.values):
            draw_text(
                canvas,
                value,
                CENTRE,
                baseline - index * Row.LINE,
                12,
                align='centre',
                max_width=room,
            )
        y -= row.height
        rule(canvas, y + 2, colour=HAIRLINE, width=0.4)
    return y
