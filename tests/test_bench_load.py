"""The load benchmark keeps working: ``bench/load.py --quick`` on a small
database, through the real PKI log-ins, prints a figure for every page.
It never checks a figure against its target: that is the benchmark's to say."""

import pathlib
import re
import subprocess
import sys

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
