"""A QR code drawn as one filled path.

reportlab's QR widget adds one rectangle object per run of dark modules; a
single path is several times cheaper to build and leaves no hairline seams
between modules when a viewer anti-aliases.
"""

import itertools

from reportlab.graphics.barcode import qrencoder

# Medium error correction survives the creases and stains of a printed page.
_ERROR_CORRECTION = qrencoder.QRErrorCorrectLevel.M
QUIET_ZONE_MODULES = 4


def qr_matrix(text):
    """Rows of booleans (True = dark) encoding the text, smallest version that fits."""
    code = qrencoder.QRCode(None, _ERROR_CORRECTION)
    code.addData(qrencoder.QR8bitByte(text))
    code.make()
    return code.modules


def draw_qr(canvas, text, x, y, size):
    """Draw the QR code of text in the square of side size whose lower left is (x, y).

    The square includes the quiet zone, which is left unpainted.
    """
    rows = qr_matrix(text)
    module = size / (len(rows) + 2 * QUIET_ZONE_MODULES)
    left = x + QUIET_ZONE_MODULES * module
    top = y + size - QUIET_ZONE_MODULES * module
    path = canvas.beginPath()
    for row_index, row in enumerate(rows):
        row_bottom = top - (row_index + 1) * module
        column = 0
        for dark, run in itertools.groupby(row, key=bool):
            length = sum(1 for _ in run)
            if dark:
                path.rect(left + column * module, row_bottom, length * module, module)
            column += length
    canvas.drawPath(path, stroke=0, fill=1)
