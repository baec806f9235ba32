"""How much a second app server adds: one server against two behind haproxy.

Brings up what the multi-server test brings up (tests/cluster.py: PostgreSQL
of its own, two portal processes on production.ini and relstorage.conf, the
IdP and gateway stand-ins, haproxy on deploy/haproxy.cfg), issues one
certificate, then drives ``/`` and ``/verify/<serial>`` with wrk, first
against one server directly, then against the balancer in front of both.
Prints requests per second and the ratio, against the goal.  A benchmark,
not a test: it never fails on time.

    python bench/cluster.py [--duration S] [--connections N]
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile
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
        return issue_certificate(site, site['companies']['1229237'], today).serial

    return cluster.in_database(issue)


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
            print(
                'one server vs two behind haproxy, wrk %d threads, %d connections, %ds a run'
                % (WRK_THREADS, args.connections, args.duration)
            )
            for label, path in pages.items():
                one_server = cluster.portals['a'].url + path
                balancer = cluster.base + path
                requests_per_second(one_server, 2, args.connections)  # warm-up
                requests_per_second(balancer, 2, args.connections)
                one = requests_per_second(one_server, args.duration, args.connections)
                two = requests_per_second(balancer, args.duration, args.connections)
                ratio = two / one
                print(
                    '%-8s one %7.1f/s  two %7.1f/s  %.2fx  (goal %.1fx: %s)'
                    % (label, one, two, ratio, GOAL, 'met' if ratio >= GOAL else 'NOT met')
                )
        finally:
            cluster.stop()


if __name__ == '__main__':
    main()
