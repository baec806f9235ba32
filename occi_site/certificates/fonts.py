"""The Arabic font of the chamber's documents, and Arabic shaping for it.

reportlab draws glyphs one code point at a time and knows neither joining
nor right-to-left order, so Arabic text is first turned into its contextual
presentation forms (arabic-reshaper) and then into visual order (python-bidi).
Amiri carries every presentation form and ligature the reshaper produces.
"""

import functools
import os
import threading

import arabic_reshaper
from bidi.algorithm import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

ARABIC_FONT = 'OCCI-Amiri'

# Where Debian and Ubuntu's fonts-hosny-amiri package has put the font, newest
# layout first.
AMIRI_PATHS = (
    '/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf',
    '/usr/share/fonts/truetype/fonts-hosny-amiri/Amiri-Regular.ttf',
    '/usr/share/fonts/truetype/amiri/Amiri-Regular.ttf',
)

_registration_lock = threading.Lock()
_registered = False


class ArabicFontMissing(RuntimeError):
    """The Amiri font needed for Arabic text is not installed."""


def find_arabic_font(candidates=AMIRI_PATHS):
    """The first existing path among the candidates."""
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise ArabicFontMissing(
        'The Arabic font Amiri-Regular.ttf was not found in any of: %s. '
        'Install the Debian package fonts-hosny-amiri '
        '(apt-get install fonts-hosny-amiri).' % ', '.join(candidates)
    )


def _register_arabic_font():
    # Parsing the TTF takes several milliseconds; it is done once per process
    # and every document then embeds only the glyphs it uses.
    pdfmetrics.registerFont(TTFont(ARABIC_FONT, find_arabic_font()))


def arabic_font():
    """The reportlab name of the Arabic font, registering it on first use."""
    global _registered
    if not _registered:
        with _registration_lock:
            if not _registered:
                _register_arabic_font()
                _registered = True
    return ARABIC_FONT


@functools.lru_cache(maxsize=1024)
def shape_arabic(text):
    """Arabic text in logical order -> joined glyph forms in visual order.

    The result is what a left-to-right text drawer must be given to show the
    text correctly; Latin words and digits inside it keep their own order.
    The labels of every document repeat, so results are cached.
    """
    return get_display(arabic_reshaper.reshape(text))
