"""How long the chamber's PDF documents take to render.

Prints, for N renders after a warm-up, the median and 95th percentile in
milliseconds of an empty one-page reportlab canvas (the baseline, measured in
the same run so machines can be compared), a membership certificate and a
payment receipt, each also as a multiple of the baseline; then the same two
documents rendered and signed (PAdES, with a development key made for the
run, no time-stamp) and what the signature alone costs. A benchmark, not a
test: it reports whether the signed certificate meets its target and never
fails on time.

    python bench/certificate_render.py [--renders N]
"""

import argparse
import io
import pathlib
import statistics
import sys
import tempfile
import time

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

# Run as a script from a checkout, the package is beside this folder.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from occi_site.certificates import (
    render_membership_certificate,
    render_receipt,
)
from occi_site.certificates.specimen import CERTIFICATE, RECEIPT
from occi_site.documents.development import create_development_keys
from occi_site.documents.signing import signer_from_settings

CERTIFICATE_TARGET_MS = 15.0
SIGNED_CERTIFICATE_TARGET_MS = 60.0
WARM_UP_RENDERS = 20


def empty_page():
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=0)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def timings(render, renders):
    """(median, p95) in milliseconds of renders calls after a warm-up."""
    for _ in range(WARM_UP_RENDERS):
        render()
    elapsed = []
    for _ in range(renders):
        start = time.perf_counter()
        render()
        elapsed.append((time.perf_counter() - start) * 1000)
    elapsed.sort()
    return statistics.median(elapsed), elapsed[min(len(elapsed) - 1, int(0.95 * len(elapsed)))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--renders', type=int, default=200, help='timed renders of each (200)')
    renders = parser.parse_args(argv).renders
    if renders < 1:
        parser.error('--renders must be at least 1')

    with tempfile.TemporaryDirectory() as folder:
        signer = signer_from_settings({'occi.documents.key_file': create_development_keys(folder)})
    documents = (
        ('membership certificate', lambda: render_membership_certificate(CERTIFICATE)),
        ('payment receipt', lambda: render_receipt(RECEIPT)),
        (
            'signed certificate',
            lambda: signer.sign(render_membership_certificate(CERTIFICATE)),
        ),
        ('signed receipt', lambda: signer.sign(render_receipt(RECEIPT))),
    )
    base_median, base_p95 = timings(empty_page, renders)
    results = {name: timings(render, renders) for name, render in documents}

    print('%d renders each, after %d to warm up' % (renders, WARM_UP_RENDERS))
    print('%-24s %9s %9s %10s' % ('', 'median ms', 'p95 ms', 'x baseline'))
    print('%-24s %9.2f %9.2f %10.1f' % ('baseline (empty page)', base_median, base_p95, 1))
    for name, (median, p95) in results.items():
        print('%-24s %9.2f %9.2f %10.1f' % (name, median, p95, median / base_median))
    certificate_median = results['membership certificate'][0]
    signed_median = results['signed certificate'][0]
    print('signing alone adds %.2f ms (median)' % (signed_median - certificate_median))
    for name, median, target in (
        ('membership certificate', certificate_median, CERTIFICATE_TARGET_MS),
        ('signed certificate', signed_median, SIGNED_CERTIFICATE_TARGET_MS),
    ):
        verdict = 'meets' if median <= target else 'does NOT meet'
        print('%s %s the %.0f ms target (median %.2f ms)' % (name, verdict, target, median))


if __name__ == '__main__':
    main()
