"""The load benchmark keeps working: ``bench/load.py --quick`` on a small
database, through the real PKI log-ins, prints a figure for every page.
It never checks a figure against its target: that is the benchmark's to say."""

import pathlib
import re
import subprocess
import sys

from bench.load import Run, combined, slices_of

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = (
    'home /',
    '/verify/<serial>/<code>',
    '/dashboard (member)',
    'request at step 3 (member)',
    '/companies/@@manage-contents',
    '/manage search by name',
)


def test_quick_load_benchmark(tmp_path):
    finished = subprocess.run(
        [sys.executable, str(ROOT / 'bench' / 'load.py'), '--quick', '--var', str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    out = finished.stdout
    assert re.search(r'^load benchmark: \d+ companies, wrk 16 connections', out, re.M)
    for label in ('hello (median of its runs)', *PAGES):
        row = re.search(
            r'^%s\s+(\d+)\s+([\d.]+)\s.*?([\d.]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\b'
            % re.escape(label),
            out,
            re.M,
        )
        assert row, label
        requests_per_second, _ratio, p50, p99, errors, cpu_ms, cpu_ratio = row.groups()
        assert int(requests_per_second) > 0 and float(p50) <= float(p99)
        assert float(cpu_ms) > 0 and float(cpu_ratio) > 0
        assert errors == '0', (label, out)
    assert re.search(r'^portal resident memory after the benchmark: \d+ MB', out, re.M)
    assert re.search(
        r'^occi-populate: 2000 companies added and packed in \d+ min \d\d s .*'
        r' the database takes \d+ MB',
        out,
        re.M,
    )
    assert not list(tmp_path.glob('Data.fs.old'))


def test_a_page_is_measured_in_two_second_runs_combined_by_requests():
    assert slices_of(10) == (5, 2)
    assert slices_of(5) == (2, 2)
    assert slices_of(1) == (1, 1)
    whole = combined(
        [
            Run(rate=100, p50_ms=1, p99_ms=5, errors=0, cpu_ms=1.0),
            Run(rate=300, p50_ms=3, p99_ms=9, errors=1, cpu_ms=2.0),
            Run(rate=200, p50_ms=2, p99_ms=7, errors=0, cpu_ms=1.5),
        ]
    )
    assert (whole.rate, whole.p50_ms, whole.p99_ms, whole.errors) == (200, 2, 9, 1)
    # 100 requests at 1 ms, 300 at 2 ms, 200 at 1.5 ms.
    assert whole.cpu_ms == (100 * 1.0 + 300 * 2.0 + 200 * 1.5) / 600
