"""How many pages a second the portal serves at the chamber's scale.

Builds (or reuses) a database of synthetic companies with occi-populate,
serves the portal as ``make run`` does (pserve, with development.ini's
waitress settings, in a process of its own), logs in a member and an
administrator through the real PKI flow (SAML with the development IdP, the
Mobile ID confirmed on the simulated phone), then drives each page with wrk
and, in turns with it, a bare Pyramid "hello" served by the same waitress
settings.  Prints requests per second, the ratio to hello (each page is
measured in two-second runs, each between two of hello's), the median and
99th percentile latency, the serving process's processor time per request
and hello's divided by it (the "cpu" ratio: where it parts from the ratio
of requests, the page waited, on the database or a lock, rather than
worked), and the portal's resident memory afterwards.  A benchmark, not a
test: it says whether each page meets its target and never fails on time.

    python bench/load.py [--quick] [--companies N] [--duration S] [--var DIR]
                         [--profile DIR]

``--profile DIR`` also samples the portal with py-spy (the thread holding the
GIL) during each page's run and leaves the stacks (collapsed, one file a
page) in DIR; sampling slows the portal, so those figures are not for
comparison.  ``--pages`` measures only some of the pages.

The database and everything the run needs are kept under ``var/bench``
(``var/bench-quick`` with ``--quick``: 2,000 companies, one second a run).
"""

import argparse
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
# Run as a script from a checkout, the package is beside this folder.
sys.path.insert(0, str(ROOT))

CONNECTIONS = 16
WRK_THREADS = 2
# Each page is measured in runs this long, in turns with hello's.
SLICE_SECONDS = 2
# The development IdP's test people (pki_idp/people.json) and the sample
# registry's company of the member (occi_site/integrations/sample_registry.json).
MEMBER = {'civil_id': '90000001', 'mobile': '99000001', 'pin': '1234', 'name': 'Ali Said'}
ADMIN = {'civil_id': '90000009', 'mobile': '99000009', 'pin': '9999', 'name': 'Khalid Nasser'}
MEMBER_CR, MEMBER_OCCI_NUMBER = '1229237', '91868'
STEP_3_SERVICE = 'renewal'
# What an administrator types to find a company: words of synthetic names.
SEARCH_TEXT = 'Balushi Trading'
RSS_TARGET_MB = 300
POPULATE_TARGET_MIN = 3
DATABASE_TARGET_MB = 500
# As production.ini serves behind its proxy: the visitor's address is the
# one the proxy gives (bench/visitors.lua plays the proxy).
BEHIND_THE_PROXY = 'trusted_proxy = 127.0.0.1\ntrusted_proxy_headers = x-forwarded-for\n'
VISITORS = ROOT / 'bench' / 'visitors.lua'


@dataclass(frozen=True)
class Page:
    label: str
    target: float
    p99_target_ms: float | None = None
    # Driven as many visitors, each from an address of its own (visitors.lua).
    visitors: bool = False


PAGES = {
    'home': Page('home /', 0.50),
    'verify': Page('/verify/<serial>/<code>', 0.50, visitors=True),
    'dashboard': Page('/dashboard (member)', 0.40, 40),
    'step3': Page('request at step 3 (member)', 0.35),
    'manage': Page('/companies/@@manage-contents', 0.15),
    'search': Page('/manage search by name', 0.15),
}


# -- serving ---------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def server_section(ini_text):
    """The ``[server:main]`` section of an ini file, as text."""
    match = re.search(r'^\[server:main\]\n(.*?)(?=^\[|\Z)', ini_text, re.M | re.S)
    return match.group(0)


def write_portal_ini(directory, port):
    """development.ini, serving on ``port`` and keeping its files in ``directory``."""
    text = (ROOT / 'development.ini').read_text(encoding='utf-8')
    text = text.replace('127.0.0.1:6543', '127.0.0.1:%d' % port)
    text = text.replace('%(here)s/var/', '%(here)s/')
    text = text.replace('[server:main]\n', '[server:main]\n' + BEHIND_THE_PROXY)
    path = directory / 'portal.ini'
    path.write_text(text, encoding='utf-8')
    return path


def write_hello_ini(directory, port):
    """The bare hello, with development.ini's server section."""
    server = server_section((ROOT / 'development.ini').read_text(encoding='utf-8'))
    server = server.replace('127.0.0.1:6543', '127.0.0.1:%d' % port)
    server = server.replace('[server:main]\n', '[server:main]\n' + BEHIND_THE_PROXY)
    path = directory / 'hello.ini'
    path.write_text('[app:main]\nuse = call:bench.hello:main\n\n' + server, encoding='utf-8')
    return path


class Server:
    """``pserve INI`` in a process of its own, its output in ``INI.log``."""

    def __init__(self, ini, port):
        self.ini, self.port = ini, port
        self.url = 'http://127.0.0.1:%d' % port
        self.log = open(ini.with_suffix('.log'), 'w')  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(BIN / 'pserve'), str(ini)],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_serving()

    def _wait_until_serving(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit('%s stopped at start; see %s' % (self.ini, self.log.name))
            try:
                requests.get(self.url + '/', timeout=5)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit('%s did not answer in %d s' % (self.ini, timeout))

    def cpu_seconds(self):
        """The processor time the server has used so far, its own and the kernel's for it."""
        fields = pathlib.Path('/proc/%d/stat' % self.process.pid).read_text().rpartition(')')[2]
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf('SC_CLK_TCK')

    def resident_mb(self):
        status = pathlib.Path('/proc/%d/status' % self.process.pid).read_text()
        return int(re.search(r'^VmRSS:\s+(\d+) kB', status, re.M).group(1)) / 1024

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# -- the database ----------------------------------------------------------


def sp_key_pair(directory):
    """The portal's SAML key pair, made as the Makefile makes it for ``make run``."""
    pki = directory / 'pki'
    if not (pki / 'sp.crt').exists():
        pki.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                *('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650'),
                *('-subj', '/CN=occi-portal-dev-sp'),
                *('-keyout', str(pki / 'sp.key'), '-out', str(pki / 'sp.crt')),
            ],
            check=True,
            capture_output=True,
        )


def national_ca(directory):
    """The development national CA the IdP checks smart cards against, made
    as the Makefile makes it for ``make run`` (the benchmark logs in with
    Mobile ID, but the IdP needs the CA to start)."""
    if not (directory / 'dev-cards' / 'national-ca.pem').exists():
        subprocess.run(
            [str(BIN / 'occi-dev-card'), 'issue', str(directory / 'dev-cards')],
            check=True,
            capture_output=True,
        )


def populate(ini, companies, database):
    """occi-populate: adds only the companies missing from an earlier run;
    a line for the report on how long that took and the database's size."""
    started = time.monotonic()
    output = subprocess.run(
        [str(BIN / 'occi-populate'), '%s#portal' % ini, '--companies', str(companies)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    seconds = time.monotonic() - started
    print(output, end='')
    added = int(re.search(r'done: (\d+) companies added', output).group(1))
    size_mb = database.stat().st_size / 1e6
    if not added:
        return 'occi-populate: the database of an earlier run reused (%.0f MB)' % size_mb
    return (
        'occi-populate: %d companies added and packed in %d min %02d s (target under %d min: %s);'
        ' the database takes %.0f MB (target under %d MB: %s)'
        % (
            added,
            seconds // 60,
            seconds % 60,
            POPULATE_TARGET_MIN,
            verdict(seconds < POPULATE_TARGET_MIN * 60),
            size_mb,
            DATABASE_TARGET_MB,
            verdict(size_mb < DATABASE_TARGET_MB),
        )
    )


def prepare(ini):
    """The member's and the administrator's accounts, as registration leaves
    them, and a certificate to verify; returns ``(companies, (serial, code))``."""
    import transaction
    from pyramid.paster import bootstrap

    from occi_site.resources import ROOT_KEY, database
    from occi_site.resources.account import Account
    from occi_site.resources.certificate import issue_certificate

    with bootstrap('%s#portal' % ini) as env:
        registry = env['registry']
        today = env['request'].today
    db = database(registry)
    try:
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        with tm:
            site = conn.root()[ROOT_KEY]
            accounts = site['accounts']
            for person, roles in ((MEMBER, ('member',)), (ADMIN, ('member', 'admin'))):
                if person['civil_id'] not in accounts:
                    account = Account(
                        person['civil_id'],
                        person['name'],
                        '%s@example.om' % person['civil_id'],
                        person['mobile'],
                    )
                    account.state = 'active'
                    for role in roles:
                        account.grant(role)
                    accounts.add(person['civil_id'], account)
            certificates = site['certificates']
            certificate = certificates.current_for(MEMBER_CR)
            if certificate is None:
                certificate = issue_certificate(site, site['companies'][MEMBER_CR], today)
            result = len(site['companies']), (certificate.serial, certificate.verification_code)
        conn.close()
    finally:
        # The sessions' database too: the portal must be able to open both.
        for each in set(db.databases.values()):
            each.close()
    return result


# -- a browser for the log-ins ---------------------------------------------


class Browser:
    """Just enough of a browser to log in through the IdP: cookies, redirects, forms."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()
        self.page = None

    def get(self, path, **params):
        return self._load(self.session.get(urljoin(self.base, path), params=params))

    def _load(self, response):
        if response.status_code != 200:
            raise SystemExit(
                '%s answered %d: the benchmark cannot go on' % (response.url, response.status_code)
            )
        self.page = response
        self.soup = BeautifulSoup(response.text, 'html.parser')
        return self

    @property
    def url(self):
        return self.page.url

    @property
    def text(self):
        return self.page.text

    def form(self, where=lambda form: True):
        for form in self.soup.find_all('form'):
            if where(form):
                return form
        raise SystemExit('no such form on %s' % self.url)

    def submit(self, form, button=None, **values):
        fields = {}
        for field in form.find_all(['input', 'select', 'textarea']):
            name = field.get('name')
            if not name or (field.name == 'input' and field.get('type') in ('submit', 'button')):
                continue
            if field.name == 'select':
                chosen = field.find('option', selected=True) or field.find('option')
                fields[name] = chosen.get('value', '') if chosen else ''
            elif field.get('type') in ('checkbox', 'radio'):
                if field.has_attr('checked'):
                    fields[name] = field.get('value', 'on')
            else:
                fields[name] = field.get('value', '')
        fields.update(values)
        if button is not None:
            fields[button] = button
        action = urljoin(self.url, form.get('action') or self.url)
        if form.get('method', 'get').lower() == 'post':
            return self._load(self.session.post(action, data=fields))
        return self._load(self.session.get(action, params=fields))

    def cookie_header(self):
        return '; '.join('%s=%s' % (cookie.name, cookie.value) for cookie in self.session.cookies)


def confirm_on_phone(base, person):
    phone = Browser(base).get('/idp/phone/%s' % person['mobile'])
    phone.submit(phone.form(), 'confirm', pin=person['pin'])


def mobile_id(browser, person):
    """From the IdP's page asking for the Mobile ID to the portal, past Single Log Out."""
    if browser.soup.find('input', attrs={'name': 'mobile'}):
        browser.submit(
            browser.form(lambda form: form.find('input', attrs={'name': 'mobile'})),
            mobile=person['mobile'],
        )
    confirm_on_phone(browser.base, person)
    browser.submit(browser.form())  # Continue, once the phone confirmed
    return browser.submit(browser.form())  # Terminate and return to the portal


def log_in(base, person):
    browser = Browser(base)
    browser.get('/login')
    mobile_id(browser, person)
    if 'Welcome' not in browser.text:
        raise SystemExit('%s could not log in: %s' % (person['civil_id'], browser.url))
    return browser


def is_step_3(browser):
    return browser.soup.find('form', action=re.compile(r'/confirm$')) is not None


def request_at_step_3(browser):
    """The member's renewal of their company, past the personal verification."""
    browser.get('/services/%s' % STEP_3_SERVICE)
    browser.submit(
        browser.form(lambda form: form.get('id') == 'deform'),
        'next',
        cr_number=MEMBER_CR,
        occi_number=MEMBER_OCCI_NUMBER,
    )
    request_url = browser.url
    if is_step_3(browser):
        # The member's open request from an earlier run, still verified.
        return request_url
    verify = browser.form(
        lambda form: (
            form.get('action', '').endswith('/verify')
            and form.find('input', attrs={'name': 'method', 'value': 'mobile'})
        )
    )
    browser.submit(verify, mobile=MEMBER['mobile'])
    mobile_id(browser, MEMBER)
    if browser.url.split('?')[0] != request_url.split('?')[0] or not is_step_3(browser):
        raise SystemExit('the request did not reach step 3: %s' % browser.url)
    return request_url


# -- measuring -------------------------------------------------------------


@dataclass
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    # The serving process's processor time (its own and the kernel's for it)
    # per answered request.
    cpu_ms: float


def _ms(text):
    number, unit = re.fullmatch(r'([\d.]+)(us|ms|s)', text).groups()
    return float(number) * {'us': 0.001, 'ms': 1, 's': 1000}[unit]


def wrk(server, path, cookie, seconds, connections=CONNECTIONS, visitors=False):
    """``seconds`` of ``path`` on ``server``, its figures as a ``Run``."""
    command = ['wrk', '-t%d' % WRK_THREADS, '-c%d' % connections, '-d%ds' % seconds, '--latency']
    if cookie:
        command += ['-H', 'Cookie: %s' % cookie]
    if visitors:
        command += ['-s', str(VISITORS)]
    cpu_before = server.cpu_seconds()
    out = subprocess.run(
        [*command, server.url + path], capture_output=True, text=True, check=True
    ).stdout
    cpu = server.cpu_seconds() - cpu_before
    requests_done = int(re.search(r'(\d+) requests in', out).group(1))
    errors = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    socket_errors = re.search(r'Socket errors: (.*)', out)
    return Run(
        rate=float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1)),
        p50_ms=_ms(re.search(r'^\s+50%\s+(\S+)', out, re.M).group(1)),
        p99_ms=_ms(re.search(r'^\s+99%\s+(\S+)', out, re.M).group(1)),
        errors=(int(errors.group(1)) if errors else 0)
        + (sum(int(n) for n in re.findall(r'\d+', socket_errors.group(1))) if socket_errors else 0),
        cpu_ms=cpu * 1000 / max(requests_done, 1),
    )


def slices_of(seconds):
    """A page's ``seconds`` as wrk runs of ``SLICE_SECONDS`` (one run where
    ``seconds`` is shorter): ``(runs, seconds each)``."""
    if seconds < SLICE_SECONDS:
        return 1, seconds
    return seconds // SLICE_SECONDS, SLICE_SECONDS


def _page_time(seconds):
    count, each = slices_of(seconds)
    return count * each, each


def combined(runs):
    """Runs of equal length as one: requests a second over all of them, the
    median of their medians, the slowest of their 99th percentiles (an upper
    bound of the whole's), the processor time per request over all of them."""
    answered = [run.rate for run in runs]
    return Run(
        rate=statistics.mean(answered),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=max(run.p99_ms for run in runs),
        errors=sum(run.errors for run in runs),
        cpu_ms=sum(run.cpu_ms * rate for run, rate in zip(runs, answered, strict=True))
        / (sum(answered) or 1),
    )


def measure(page, portal, path, cookie, hello, seconds, warm_up, results, hellos, profile=None):
    """A warm-up of the page, then the page's ``seconds`` in slices
    (``slices_of``), each between two runs of hello as long: hello, page,
    hello, page, ..., hello.  Its ratio is to the mean of those hellos; work
    starting or stopping on the machine meanwhile (a shared machine's speed
    drifts by a third within a minute) weighs on both sides alike.
    ``profile``, ``(directory, pid)``, samples that pid during the page's
    slices and the hellos between them."""
    wrk(portal, path, cookie, warm_up, visitors=page.visitors)
    count, each = slices_of(seconds)
    around = [wrk(hello, '/', None, each)]
    sampler = None
    if profile is not None:
        directory, pid = profile
        slug = re.sub(r'[^a-z0-9]+', '-', page.label.lower()).strip('-')
        sampler = subprocess.Popen(
            [
                *(str(BIN / 'py-spy'), 'record', '--pid', str(pid)),
                *('--duration', str(count * each * 2)),
                *('--rate', '200', '--format', 'raw', '--nonblocking', '--gil'),
                *('--output', str(directory / ('%s.txt' % slug))),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    runs = []
    for _slice in range(count):
        runs.append(wrk(portal, path, cookie, each, visitors=page.visitors))
        around.append(wrk(hello, '/', None, each))
    if sampler is not None:
        sampler.wait()
    hellos += around
    run = combined(runs)
    results.append((page, run, run.rate / combined(around).rate))


def verdict(met):
    return 'met' if met else 'NOT met'


def report(results, hellos, companies, seconds, rss_mb, load_before, populated):
    print()
    print(
        'load benchmark: %d companies, wrk %d connections, %d s a page in runs of %d s'
        ' in turns with hello, load average %.2f'
        % (companies, CONNECTIONS, *_page_time(seconds), load_before)
    )
    print(
        '%-30s %8s %6s %-14s %7s %7s %7s %7s %6s'
        % ('page', 'req/s', 'ratio', 'target', 'p50 ms', 'p99 ms', 'errors', 'cpu ms', 'cpu')
    )
    hello_rate = statistics.median(run.rate for run in hellos)
    hello_p50 = statistics.median(run.p50_ms for run in hellos)
    hello_p99 = statistics.median(run.p99_ms for run in hellos)
    hello_cpu_ms = statistics.median(run.cpu_ms for run in hellos)
    print(
        '%-30s %8.0f %6.2f %-14s %7.1f %7.1f %7d %7.2f %6.2f'
        % (
            'hello (median of its runs)',
            hello_rate,
            1,
            '',
            hello_p50,
            hello_p99,
            sum(run.errors for run in hellos),
            hello_cpu_ms,
            1,
        )
    )
    for page, run, ratio in results:
        target = '>=%.2f' % page.target
        met = ratio >= page.target
        if page.p99_target_ms is not None:
            met = met and run.p99_ms < page.p99_target_ms
            target += ' p99<%d' % page.p99_target_ms
        print(
            '%-30s %8.0f %6.2f %-14s %7.1f %7.1f %7d %7.2f %6.2f  %s'
            % (
                page.label,
                run.rate,
                ratio,
                target,
                run.p50_ms,
                run.p99_ms,
                run.errors,
                run.cpu_ms,
                # A run too short for the kernel to count a tick has no ratio.
                hello_cpu_ms / run.cpu_ms if run.cpu_ms else float('nan'),
                verdict(met),
            )
        )
    print(
        'portal resident memory after the benchmark: %.0f MB (target under %d MB: %s)'
        % (rss_mb, RSS_TARGET_MB, verdict(rss_mb < RSS_TARGET_MB))
    )
    print(populated)
    print('load average at the end: %.2f' % os.getloadavg()[0])


def drive(portal, hello, serial, chosen, seconds, warm_up, profile):
    """Measure the ``chosen`` pages (keys of PAGES) in order, logging in the
    member and the administrator when a page needs them."""
    results, hellos = [], []
    people = {}
    base = portal.url

    def browser_of(person):
        if person is None:
            return Browser(base)
        if person['civil_id'] not in people:
            people[person['civil_id']] = log_in(base, person)
        return people[person['civil_id']]

    def search_path(admin):
        admin.get('/companies/@@manage-search')
        admin.submit(
            admin.form(lambda form: form.get('id') == 'search'), 'search', text=SEARCH_TEXT
        )
        return admin.url[len(base) :]

    paths = {
        'home': (None, lambda browser: '/'),
        'verify': (None, lambda browser: '/verify/%s/%s' % serial),
        'dashboard': (MEMBER, lambda browser: '/dashboard'),
        # Just before its run: the personal verification holds 10 minutes.
        'step3': (MEMBER, lambda browser: request_at_step_3(browser)[len(base) :]),
        'manage': (ADMIN, lambda browser: '/companies/@@manage-contents'),
        'search': (ADMIN, search_path),
    }
    for key in chosen:
        person, path_of = paths[key]
        browser = browser_of(person)
        path = path_of(browser)
        browser.get(path)  # it answers 200, or the benchmark stops
        cookie = browser.cookie_header() if person else None
        measure(PAGES[key], portal, path, cookie, hello, seconds, warm_up, results, hellos, profile)
    return results, hellos


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true', help='a small database, short runs')
    parser.add_argument('--companies', type=int, help='companies in the database (500000)')
    parser.add_argument(
        '--duration',
        type=int,
        help='seconds of each page (10), in runs of %d s (an odd second left out)' % SLICE_SECONDS,
    )
    parser.add_argument('--var', type=pathlib.Path, help='where the run keeps its files')
    parser.add_argument(
        '--pages', default=','.join(PAGES), help='which pages, of %s' % ','.join(PAGES)
    )
    parser.add_argument('--profile', type=pathlib.Path, help='py-spy stacks of each page here')
    args = parser.parse_args(argv)
    if shutil.which('wrk') is None:
        parser.error('wrk is missing: make install installs it')
    chosen = args.pages.split(',')
    if not set(chosen) <= set(PAGES):
        parser.error('--pages: choose among %s' % ','.join(PAGES))
    companies = args.companies or (2_000 if args.quick else 500_000)
    seconds = args.duration or (1 if args.quick else 10)
    warm_up = 1 if args.quick else 3
    directory = (args.var or ROOT / 'var' / ('bench-quick' if args.quick else 'bench')).resolve()
    directory.mkdir(parents=True, exist_ok=True)

    portal_port, hello_port = free_port(), free_port()
    ini = write_portal_ini(directory, portal_port)
    sp_key_pair(directory)
    national_ca(directory)
    populated = populate(ini, companies, directory / 'Data.fs')
    # FileStorage keeps the file from before the pack: not needed here.
    (directory / 'Data.fs.old').unlink(missing_ok=True)
    companies, serial = prepare(ini)

    hello = Server(write_hello_ini(directory, hello_port), hello_port)
    try:
        portal = Server(ini, portal_port)
        try:
            load_before = os.getloadavg()[0]
            profile = None
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile = (args.profile, portal.process.pid)
            results, hellos = drive(portal, hello, serial, chosen, seconds, warm_up, profile)
            rss_mb = portal.resident_mb()
        finally:
            portal.stop()
    finally:
        hello.stop()
    report(results, hellos, companies, seconds, rss_mb, load_before, populated)


if __name__ == '__main__':
    main()
