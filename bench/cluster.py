"""How much a second app server adds: one server against two behind haproxy.

Brings up what the multi-server test brings up (tests/cluster.py: PostgreSQL
of its own, two portal processes on production.ini and relstorage.conf, the
IdP and gateway stand-ins, haproxy on deploy/haproxy.cfg), issues one
certificate, then drives ``/`` and ``/verify/<serial>/<code>`` with wrk,
first against one server directly, then against the balancer in front of
both.  Prints requests per second and the ratio, against the goal, and how
many of the machine's cores each part used during each run (from /proc):
on a small machine the second server shares the cores with PostgreSQL,
haproxy and wrk itself, which bounds what it can add.  A benchmark, not a
test: it never fails on time.

    python bench/cluster.py [--duration S] [--connections N]
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

# Run as a script from a checkout, the package and its tests are beside this folder.
ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from occi_site.clock import OMAN  # noqa: E402
from occi_site.resources.certificate import issue_certificate  # noqa: E402
from tests.cluster import Cluster  # noqa: E402

GOAL = 1.7
WRK_THREADS = 2


def start(folder):
    cluster = Cluster(folder)
    cluster.start_database()
    cluster.start_idp_and_gateway()
    for name in ('a', 'b'):
        cluster.start_portal(name)
    cluster.script('occi-evolve')
    for process in cluster.portals.values():
        process.wait_for(process.url + '/_health', timeout=120)
    cluster.start_balancer()
    return cluster


def a_certificate(cluster):
    def issue(site):
        today = datetime.now(UTC).astimezone(OMAN).date()
        certificate = issue_certificate(site, site['companies']['1229237'], today)
        return '%s/%s' % (certificate.serial, certificate.verification_code)

    return cluster.in_database(issue)


def busy_seconds():
    """CPU seconds the whole machine has been busy (all cores)."""
    fields = [int(value) for value in pathlib.Path('/proc/stat').read_text().split()[1:9]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields) - idle - iowait) / os.sysconf('SC_CLK_TCK')


def seconds_by_session(sessions):
    """CPU seconds used so far by the live processes of each part
    (``{name: session id}``; each part is started in a session of its own,
    and a process whose parent belongs to a part belongs to it too:
    PostgreSQL's backends make sessions of their own)."""
    processes = {}
    for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
        processes[int(stat.parent.name)] = (int(fields[1]), int(fields[3]), seconds)
    names = {sid: name for name, sid in sessions.items()}
    used = dict.fromkeys(sessions, 0.0)
    for pid, (_parent, _sid, seconds) in processes.items():
        ancestor = pid
        while ancestor in processes:
            parent, sid, _seconds = processes[ancestor]
            if sid in names:
                used[names[sid]] += seconds
                break
            ancestor = parent
    return used


def cores_used(sessions, run):
    """``run()``'s result and the cores each session used meanwhile, the rest
    of the machine (wrk, other work) as ``other``."""
    machine, before, started = busy_seconds(), seconds_by_session(sessions), time.monotonic()
    result = run()
    elapsed = time.monotonic() - started
    after = seconds_by_session(sessions)
    cores = {name: (after[name] - before[name]) / elapsed for name in sessions}
    cores['other'] = (busy_seconds() - machine) / elapsed - sum(cores.values())
    return result, cores


def requests_per_second(url, duration, connections):
    output = subprocess.run(
        [
            'wrk',
            '-t%d' % WRK_THREADS,
            '-c%d' % connections,
            '-d%ds' % duration,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', output)
    if non_2xx:
        print('  (%s non-2xx answers from %s)' % (non_2xx.group(1), url))
    return float(re.search(r'Requests/sec:\s+([\d.]+)', output).group(1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--duration', type=int, default=10, help='seconds a run (default 10)')
    parser.add_argument('--connections', type=int, default=16, help='wrk connections (default 16)')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='occi-bench-cluster-') as folder:
        cluster = start(folder)
        try:
            pages = {'/': '/', '/verify': '/verify/%s' % a_certificate(cluster)}
            sessions = {
                'portal a': cluster.portals['a'].popen.pid,
                'portal b': cluster.portals['b'].popen.pid,
                'postgres': cluster.postgres.server.popen.pid,
                'haproxy': cluster.balancer.popen.pid,
            }
            print(
                'one server vs two behind haproxy, wrk %d threads, %d connections, %ds a run;'
                ' %d cores, load average %.2f'
                % (
                    WRK_THREADS,
                    args.connections,
                    args.duration,
                    os.cpu_count(),
                    os.getloadavg()[0],
                )
            )
            for label, path in pages.items():
                one_server = cluster.portals['a'].url + path
                balancer = cluster.base + path
                requests_per_second(one_server, 2, args.connections)  # warm-up
                requests_per_second(balancer, 2, args.connections)
                runs = {}
                for name, url in (('one', one_server), ('two', balancer)):
                    runs[name] = cores_used(
                        sessions,
                        lambda url=url: requests_per_second(url, args.duration, args.connections),
                    )
                ratio = runs['two'][0] / runs['one'][0]
                print(
                    '%-8s one %7.1f/s  two %7.1f/s  %.2fx  (goal %.1fx: %s)'
                    % (
                        label,
                        runs['one'][0],
                        runs['two'][0],
                        ratio,
                        GOAL,
                        'met' if ratio >= GOAL else 'NOT met',
                    )
                )
                for name, (_rate, cores) in runs.items():
                    print(
                        '         cores used with %s: %s'
                        % (name, ', '.join('%s %.2f' % item for item in cores.items()))
                    )
        finally:
            cluster.stop()


if __name__ == '__main__':
    main()
