"""Membership certificates and payment receipts, read back from the PDF bytes."""

import collections
import dataclasses
import io
import shutil
import subprocess
import threading
import time
import unicodedata

import arabic_reshaper
import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics

from occi_site.certificates import (
    ArabicFontMissing,
    fonts,
    render_membership_certificate,
    render_receipt,
    shape_arabic,
)
from occi_site.certificates.specimen import CERTIFICATE, RECEIPT


def only_page(pdf):
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader, reader.pages[0]


def text_of(pdf):
    return only_page(pdf)[1].extract_text()


def runs_with_fonts(pdf):
    """(text, font) of every run of text pypdf extracts from the page."""
    runs = []

    def visit(text, _cm, _tm, font, _size):
        if text.strip():
            runs.append((text.strip(), font['/BaseFont'] if font else None))

    only_page(pdf)[1].extract_text(visitor_text=visit)
    return runs


def assert_a4(page):
    width, height = A4
    assert float(page.mediabox.width) == pytest.approx(width, abs=0.5)
    assert float(page.mediabox.height) == pytest.approx(height, abs=0.5)


def assert_shaped_in_amiri(pdf, logical):
    """The Arabic text is drawn joined, in the embedded Amiri, with a glyph for every form.

    Drawn unshaped, the run would hold base letters; drawn letter by letter,
    isolated forms; in a font without Arabic, or with a missing glyph, boxes.
    """
    runs = [
        (text, font)
        for text, font in runs_with_fonts(pdf)
        if unicodedata.normalize('NFKC', text) == logical
    ]
    assert runs, 'no run of text reads %r' % logical
    text, font = runs[0]
    assert font.endswith('+Amiri-Regular')
    assert collections.Counter(text) == collections.Counter(arabic_reshaper.reshape(logical))
    face = pdfmetrics.getFont(fonts.arabic_font()).face
    assert all(ord(char) in face.charToGlyph for char in text)


def test_certificate_is_one_a4_page():
    _reader, page = only_page(render_membership_certificate(CERTIFICATE))
    assert_a4(page)


def test_certificate_states_the_membership():
    text = text_of(render_membership_certificate(CERTIFICATE))
    for fact in (
        'Oman Chamber of Commerce and Industry',
        'Membership Certificate',
        'C-2024-000123',
        '91868',
        '1229237',
        'promising projects',
        'Fourth',
        'Ruwi, Muttrah, Muscat Governorate, 423, 30',
        '2024-03-19',
        '2025-03-19',
        CERTIFICATE.verify_url,
    ):
        assert fact in text


def test_certificate_arabic_is_shaped():
    pdf = render_membership_certificate(CERTIFICATE)
    for logical in ('المشاريع الواعدة', 'الرابعة', 'غرفة تجارة وصناعة عمان', 'شهادة عضوية'):
        assert_shaped_in_amiri(pdf, logical)


def test_certificate_embeds_only_a_subset_of_amiri():
    _reader, page = only_page(render_membership_certificate(CERTIFICATE))
    fonts_used = page['/Resources']['/Font']
    amiri = [
        font.get_object()
        for font in fonts_used.values()
        if font.get_object()['/BaseFont'].endswith('Amiri-Regular')
    ]
    assert amiri
    embedded = amiri[0]['/FontDescriptor']['/FontFile2'].get_object().get_data()
    assert 0 < len(embedded) < 100_000


def test_certificate_qr_code_is_one_filled_path():
    reader, page = only_page(render_membership_certificate(CERTIFICATE))
    operators = collections.Counter(
        operator for _operands, operator in ContentStream(page.get_contents(), reader).operations
    )
    fills = operators[b'f'] + operators[b'f*'] + operators[b'F']
    assert fills == 1
    assert operators[b're'] > 50


@pytest.mark.skipif(
    not (shutil.which('pdftoppm') and shutil.which('zbarimg')),
    reason='needs pdftoppm (poppler-utils) and zbarimg (zbar-tools)',
)
def test_certificate_qr_code_opens_the_verify_page(tmp_path):
    pdf = tmp_path / 'certificate.pdf'
    pdf.write_bytes(render_membership_certificate(CERTIFICATE))
    subprocess.run(
        ['pdftoppm', '-r', '150', '-png', '-singlefile', str(pdf), str(tmp_path / 'certificate')],
        check=True,
    )
    decoded = subprocess.run(
        ['zbarimg', '--raw', '-q', str(tmp_path / 'certificate.png')],
        capture_output=True,
        text=True,
        check=True,
    )
    assert decoded.stdout.strip() == CERTIFICATE.verify_url


def test_certificate_keeps_a_long_name_whole():
    long_name = 'Al Madina Gulf General Trading, Contracting and Industrial Services LLC'
    data = dataclasses.replace(CERTIFICATE, name_en=long_name)
    assert long_name in text_of(render_membership_certificate(data))


def test_receipt_is_one_a4_page():
    _reader, page = only_page(render_receipt(RECEIPT))
    assert_a4(page)


def test_receipt_itemises_the_payment():
    text = text_of(render_receipt(RECEIPT))
    for fact in (
        'Payment Receipt',
        'ORD-2024-000045',
        '2024-03-19 10:42',
        'Shamsa Hamed Said Al-Rashdi',
        'promising projects',
        '1229237',
        'Membership Renewal',
        'First year fees',
        'Second year fees',
        'Old debit',
        '25.000 OMR',
        '0.000 OMR',
        '50.000',
        'Visa',
        '1111',
        'TX-7731904',
    ):
        assert fact in text
    assert text.count('25.000 OMR') == 2


def test_receipt_arabic_is_shaped():
    pdf = render_receipt(RECEIPT)
    for logical in ('تجديد العضوية', 'رسوم السنة الأولى', 'المشاريع الواعدة'):
        assert_shaped_in_amiri(pdf, logical)


def test_receipt_total_must_add_up():
    with pytest.raises(ValueError, match='add up to 50000'):
        dataclasses.replace(RECEIPT, total_baisa=45000)


def test_receipt_fits_its_lines_on_one_page():
    lines = [('Year fees', 'رسوم السنة', 25000)] * 7
    with pytest.raises(ValueError, match='1 to 6 lines'):
        dataclasses.replace(RECEIPT, lines=lines, total_baisa=175000)


def test_shape_arabic_joins_letters_in_visual_order():
    # initial ain, medial meem, final alef, isolated noon, right to left
    assert shape_arabic('عمان') == '\ufee5\ufe8e\ufee4\ufecb'
    assert '2024' in shape_arabic('شهادة 2024')


def test_arabic_font_is_registered_once(monkeypatch):
    calls = []
    register = fonts._register_arabic_font
    monkeypatch.setattr(fonts, '_registered', False)
    monkeypatch.setattr(fonts, '_register_arabic_font', lambda: calls.append(1) or register())
    render_membership_certificate(CERTIFICATE)
    render_membership_certificate(CERTIFICATE)
    render_receipt(RECEIPT)
    assert len(calls) == 1


def test_arabic_font_is_registered_once_by_racing_threads(monkeypatch):
    calls = []

    def slow_registration():
        calls.append(1)
        time.sleep(0.05)

    monkeypatch.setattr(fonts, '_registered', False)
    monkeypatch.setattr(fonts, '_register_arabic_font', slow_registration)
    start = threading.Barrier(6)

    def ask():
        start.wait()
        fonts.arabic_font()

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1


def test_missing_font_names_the_debian_package(tmp_path):
    with pytest.raises(ArabicFontMissing, match='fonts-hosny-amiri'):
        fonts.find_arabic_font((str(tmp_path / 'Amiri-Regular.ttf'),))
