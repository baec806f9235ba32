"""The portal as an operator runs it past one machine, on this one: a
PostgreSQL cluster of its own, two portal processes on production.ini and
relstorage.conf, the IdP and gateway stand-ins in a process (a host) of their
own, a commercial registry service, and haproxy on deploy/haproxy.cfg in
front (round robin, no stickiness).  Every port is free when taken;
everything is stopped at the end.
"""

import http.client
import io
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import webtest
from wsgiproxy import HostProxy
from wsgiproxy.proxies import HttpClient

from occi_site.documents.development import create_development_keys
from occi_site.integrations.commercial_registry import load_sample_data

from .processes import ROOT, Process, free_port, http_status, run
from .stack import GATEWAY_KEYS, STAND_INS_INI, key_pair

POSTGRES_BIN = max(Path('/usr/lib/postgresql').glob('*/bin'), default=None)
SESSION_SECRET = 'cluster-test-secret-shared-by-every-server'


class PostgreSQL:
    """A throw-away cluster: initdb into a temporary folder, a free port,
    fsync off.  Run as the ``postgres`` user when the tests run as root."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix='occi-pg-'))
        self.user = None
        if os.geteuid() == 0:
            self.user = 'postgres'
            account = pwd.getpwnam(self.user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.data = self.folder / 'data'
        self.server = None

    def command(self, name, *args):
        return [str(arg) for arg in (POSTGRES_BIN / name, *args)]

    def start(self):
        subprocess.run(
            self.command('initdb', '-D', self.data, '-U', 'postgres', '--auth=trust', '--no-sync'),
            check=True,
            capture_output=True,
            user=self.user,
        )
        self.server = Process(
            'postgres',
            self.command(
                'postgres',
                '-D',
                self.data,
                '-p',
                self.port,
                '-h',
                '127.0.0.1',
                '-k',
                self.folder,
                '-c',
                'fsync=off',
                '-c',
                'synchronous_commit=off',
                '-c',
                'full_page_writes=off',
                '-c',
                'max_connections=300',
            ),
            self.log_dir,
            user=self.user,
        ).start()
        deadline = time.monotonic() + 60
        while subprocess.run(
            self.command('pg_isready', '-q', '-h', '127.0.0.1', '-p', self.port)
        ).returncode:
            assert self.server.running, self.server.output()
            assert time.monotonic() < deadline, 'PostgreSQL did not start'
            time.sleep(0.2)
        return self

    def create_database(self, name):
        subprocess.run(
            self.command('createdb', '-h', '127.0.0.1', '-p', self.port, '-U', 'postgres', name),
            check=True,
            capture_output=True,
        )
        return 'host=127.0.0.1 port=%d dbname=%s user=postgres' % (self.port, name)

    def stop(self):
        if self.server is not None:
            self.server.stop(signal_name='SIGINT')  # PostgreSQL's fast shutdown
        shutil.rmtree(self.folder, ignore_errors=True)


class RegistryService:
    """The commercial registry's JSON service (the portal's HttpRegistry
    speaks to it): the sample registry, and whatever a test adds."""

    def __init__(self):
        data = load_sample_data()
        self.companies = {c['cr_number']: c for c in data['companies']}
        self.people = {p['civil_id']: list(p['crs']) for p in data['people']}
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = self.path.strip('/').split('/')
                if len(parts) == 2 and parts[0] == 'companies':
                    found = registry.companies.get(parts[1])
                elif len(parts) == 3 and parts[0] == 'people' and parts[2] == 'companies':
                    found = {'crs': registry.people.get(parts[1], [])}
                else:
                    found = None
                body = json.dumps(found).encode('utf-8')
                self.send_response(200 if found is not None else 404)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, company, civil_id):
        self.companies[company['cr_number']] = company
        self.people.setdefault(civil_id, []).append(company['cr_number'])

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


IDP_INI = """\
[composite:main]
use = egg:rutter#urlmap
/idp = idp
/gateway = gateway

{stand_ins}
[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
threads = 16
"""

# production.ini as shipped, with the development stand-ins in place of the
# outside systems (and the test's probe views for logging in directly).
PORTAL_INI = """\
[pipeline:main]
pipeline =
    accesslog
    portal

[filter:accesslog]
use = config:{root}/production.ini#accesslog

[app:portal]
use = config:{root}/production.ini#portal
occi.dev_tools = true
occi.sample_data = true
occi.captcha = test
occi.mail = outbox
occi.sms = outbox
occi.outbox_path = {folder}/outbox.jsonl
# Each server delivers its messages as their change commits, as the other
# tests' stacks do, so a page's message is in the outbox with the page; the
# occi-notify worker delivers what a server's own delivery left queued.
occi.notify.delivery = after_commit
occi.session.secure = false
occi.startup.wait = 90
occi.pki.idp_metadata = {folder}/idp-metadata.xml
occi.pki.sp_metadata_file = {folder}/sp-metadata.xml
occi.pki.key_file = {folder}/sp.key
occi.pki.cert_file = {folder}/sp.crt
# The development chamber document CA's signing key, without a time-stamping
# service.
occi.documents.key_file = {folder}/documents/signing.p12
occi.documents.key_passphrase =
occi.documents.chain_file =
occi.documents.trust_roots = {folder}/documents/ca.crt
occi.documents.timestamp_url =
occi.payment.endpoint_url = {idp_base}/gateway/pay
occi.payment.query_url = {idp_base}/gateway/query
pyramid.includes = tests.probe_views

[server:main]
use = config:{root}/production.ini#main

"""


class Cluster:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.logs = self.folder / 'logs'
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres = PostgreSQL(self.logs)
        self.registry = RegistryService()
        self.idp_port = free_port()
        self.idp_base = 'http://127.0.0.1:%d' % self.idp_port
        self.balancer_port = free_port()
        self.base = 'http://127.0.0.1:%d' % self.balancer_port
        self.portals = {}
        self.idp = self.balancer = self.notifier = None
        # Set to a list: browsers send again a request the balancer answered
        # with a reset server's 502, as a person reloads, and list its path.
        self.reloads = None
        self.dsn = self.sessions_dsn = None

    # -- the parts ---------------------------------------------------------------

    def start_database(self):
        self.postgres.start()
        self.dsn = self.postgres.create_database('occi')
        self.sessions_dsn = self.postgres.create_database('occi_sessions')

    def start_idp_and_gateway(self):
        ini = self.folder / 'idp.ini'
        ini.write_text(
            IDP_INI.format(
                port=self.idp_port,
                stand_ins=STAND_INS_INI.format(
                    base=self.idp_base, folder=self.folder, **GATEWAY_KEYS
                ),
            )
        )
        self.idp = Process('idp-gateway', [ROOT / '.venv/bin/pserve', ini], self.logs).start()
        self.idp.wait_for(self.idp_base + '/idp/metadata')

    @property
    def environment(self):
        """What an operator puts in the servers' environment file."""
        return {
            'OCCI_DSN': self.dsn,
            'OCCI_SESSIONS_DSN': self.sessions_dsn,
            'OCCI_PUBLIC_URL': self.base,
            'OCCI_SESSION_SECRET': SESSION_SECRET,
            'OCCI_PAYMENT_PROFILE_ID': GATEWAY_KEYS['profile_id'],
            'OCCI_PAYMENT_ACCESS_KEY': GATEWAY_KEYS['access_key'],
            'OCCI_PAYMENT_SECRET_KEY': GATEWAY_KEYS['secret_key'],
            'OCCI_REGISTRY_URL': self.registry.url,
            'OCCI_MAIL_PASSWORD': 'unused-with-the-outbox',
            'OCCI_SMS_URL': 'http://127.0.0.1:9/unused-with-the-outbox',
            'OCCI_SMS_TOKEN': 'unused-with-the-outbox',
        }

    def portal_ini(self):
        ini = self.folder / 'portal.ini'
        if not ini.exists():
            key_pair(self.folder, 'sp')
            create_development_keys(self.folder / 'documents')
            text = PORTAL_INI.format(root=ROOT, folder=self.folder, idp_base=self.idp_base)
            production = (ROOT / 'production.ini').read_text()
            # production.ini's logging: the access log on standard output.
            text += production[production.index('[loggers]') :]
            ini.write_text(text)
        return ini

    def process_environment(self, var):
        """The operator's environment, this server's folder, and the test's
        probe views importable."""
        return dict(self.environment, OCCI_VAR=str(self.var(var)), PYTHONPATH=str(ROOT))

    def var(self, name):
        folder = self.folder / ('var-%s' % name)
        folder.mkdir(exist_ok=True)
        return folder

    def start_portal(self, name):
        port = free_port()
        process = Process(
            'portal-%s' % name,
            [
                ROOT / '.venv/bin/pserve',
                self.portal_ini(),
                'http_listen=127.0.0.1:%d' % port,
                'balancer=127.0.0.1',
            ],
            self.logs,
            env=self.process_environment(name),
        ).start()
        process.port = port
        process.url = 'http://127.0.0.1:%d' % port
        self.portals[name] = process
        return process

    def script(self, name, *args, log_name=None):
        """One of the portal's console scripts, run to its end on the servers' settings."""
        return run(
            [ROOT / '.venv/bin' / name, '%s#portal' % self.portal_ini(), *args],
            self.logs,
            log_name or name,
            env=self.process_environment('scripts'),
        )

    def start_notifier(self):
        """The occi-notify worker, as production runs it beside the servers."""
        self.notifier = Process(
            'occi-notify',
            [ROOT / '.venv/bin/occi-notify', '%s#portal' % self.portal_ini(), '--interval', '0.5'],
            self.logs,
            env=self.process_environment('notify'),
        ).start()

    def start_balancer(self):
        """haproxy on deploy/haproxy.cfg as shipped, told the addresses."""
        self.balancer = Process(
            'haproxy',
            ['haproxy', '-db', '-f', ROOT / 'deploy' / 'haproxy.cfg'],
            self.logs,
            env={
                'OCCI_BALANCER_BIND': '127.0.0.1:%d' % self.balancer_port,
                'OCCI_PORTAL_A': '127.0.0.1:%d' % self.portals['a'].port,
                'OCCI_PORTAL_B': '127.0.0.1:%d' % self.portals['b'].port,
            },
        ).start()
        self.balancer.wait_for(self.base + '/_health')

    def stop(self):
        for process in (self.balancer, self.notifier, *self.portals.values(), self.idp):
            if process is not None:
                process.stop()
        self.postgres.stop()
        self.registry.stop()

    # -- looking at it -----------------------------------------------------------

    def healthy(self, name):
        return http_status(self.portals[name].url + '/_health') == 200

    def access_log(self, name):
        """The portal's access-log lines (production.ini's format: the client first)."""
        return [
            line
            for line in self.portals[name].output().splitlines()
            if re.match(r'\S+ - \S+ \[', line)
        ]

    def outbox(self):
        return json.loads(
            webtest.TestApp(self.network()).get(self.base + '/_dev/outbox.json').text
        )['messages']

    def network(self):
        return Network(self.base, self.idp_base, self.reloads)

    def new_browser(self, language='en'):
        """A browser on the network: the portal through the balancer; the IdP
        and the gateway at their own host."""
        return webtest.TestApp(
            self.network(),
            extra_environ={
                'HTTP_HOST': urlsplit(self.base).netloc,
                'HTTP_ACCEPT_LANGUAGE': language,
            },
        )

    def in_database(self, action):
        """``action(site)`` in a transaction of its own (committed), on the
        database as the servers open it, from relstorage.conf: for the test
        to look at, and prepare, what they share."""
        import transaction
        import ZODB.config

        from occi_site.resources import ROOT_KEY

        environment = dict(self.environment, OCCI_VAR=str(self.var('test')))
        saved = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        try:
            with (ROOT / 'relstorage.conf').open() as config:
                db = ZODB.config.databaseFromFile(config)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name)
                else:
                    os.environ[name] = value
        tm = transaction.TransactionManager()
        conn = db.open(tm)
        try:
            with tm:
                return action(conn.root()[ROOT_KEY])
        finally:
            conn.close()
            db.close()


# haproxy's page for a server that closed or reset the connection unanswered.
BALANCER_RESET_PAGE = b'The server returned an invalid or incomplete response.'

# The browsers' own address: not the balancer's, so the servers' access
# logs show whether they believed the balancer's X-Forwarded-For.
BROWSER_ADDRESS = '127.0.0.2'


class FromBrowserAddress(HttpClient):
    def HTTPConnection(self, host):
        return http.client.HTTPConnection(host, source_address=(BROWSER_ADDRESS, 0))


class Network:
    """What the test's browsers reach: a path under /idp or /gateway is the
    IdP's and gateway's host (as development.ini mounts them), anything else
    goes to the load balancer.  Each request a new connection, like a
    browser after a keep-alive timeout."""

    def __init__(self, balancer, idp_host, reloads=None):
        self.balancer = HostProxy(balancer, client=FromBrowserAddress())
        self.idp_host = HostProxy(idp_host, client=FromBrowserAddress())
        self.reloads = reloads

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        target = self.balancer
        for prefix in ('/idp', '/gateway'):
            if path == prefix or path.startswith(prefix + '/'):
                target = self.idp_host
        # Only the balancer says who the client is.
        environ.pop('REMOTE_ADDR', None)
        with suppress(KeyError):
            del environ['HTTP_X_FORWARDED_FOR']
        if target is self.balancer and self.reloads is not None:
            return self.reloading(environ, start_response)
        return target(environ, start_response)

    def reloading(self, environ, start_response):
        """The balancer, with a request it answered with a reset server's
        502 page sent once more, as a person would: haproxy itself resends
        after a server's close, not after a reset (a server killed holding
        the request unread)."""
        body = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
        answer = {}

        def keep(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)

        for attempt in range(2):
            sent = dict(environ, **{'wsgi.input': io.BytesIO(body)})
            chunks = b''.join(self.balancer(sent, keep))
            if attempt or not (
                answer['status'].startswith('502') and BALANCER_RESET_PAGE in chunks
            ):
                break
            self.reloads.append(environ['PATH_INFO'])
        start_response(answer['status'], answer['headers'])
        return [chunks]
