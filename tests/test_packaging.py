"""The wheel an operator installs carries every template, static file and
compiled catalog: built from the project's tracked files alone (no catalog
compiled by make), installed in a fresh virtualenv, started there."""

import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
import zipfile

import pytest

from occi_site.documents.development import create_development_keys

from .processes import ROOT, Process, free_port, run
from .stack import STAND_INS_INI, key_pair

# Not the stack's published test keys: the installed portal refuses those.
GATEWAY_KEYS = {
    'profile_id': 'OCCI-SANDBOX',
    'access_key': 'sandbox-access-key',
    'secret_key': 'sandbox-secret-key-of-the-wheel-3c9e77a',
}
INI = """\
[composite:main]
use = egg:rutter#urlmap
/ = portal
/idp = idp
/gateway = gateway

[app:portal]
use = egg:occi_site
zodbconn.uri = file://{tmp}/Data.fs?blobstorage_dir={tmp}/blobs
zodbconn.uri.sessions = file://{tmp}/Sessions.fs
occi.sample_data = true
occi.outbox_path = {tmp}/outbox.jsonl
occi.mail = outbox
occi.sms = outbox
occi.session.secret = packaging-test-secret-of-the-wheel-8d1f0b
occi.public_url = {base}
occi.pki.key_file = {tmp}/sp.key
occi.pki.cert_file = {tmp}/sp.crt
occi.pki.idp_metadata = {tmp}/idp-metadata.xml
occi.pki.sp_metadata_file = {tmp}/sp-metadata.xml
occi.documents.key_file = {tmp}/documents/signing.p12
occi.documents.trust_roots = {tmp}/documents/ca.crt
occi.payment.endpoint_url = {base}/gateway/pay
occi.payment.profile_id = {profile_id}
occi.payment.access_key = {access_key}
occi.payment.secret_key = {secret_key}

{stand_ins}
[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
"""


def tracked_files():
    listed = subprocess.run(
        ['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [name for name in listed.decode().split('\0') if name]


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp('source')
    for name in tracked_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    assert not list(source.rglob('*.mo'))
    dist = tmp_path_factory.mktemp('dist')
    run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', dist, source],
        dist,
        'pip-wheel',
        timeout=300,
    )
    (built,) = dist.glob('occi_site-*.whl')
    return built


def test_the_wheel_carries_templates_static_files_and_catalogs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {
        name.split('/')[0]
        for name in tracked_files()
        if name.count('/') == 1 and name.endswith('/__init__.py')
    } - {'tests', 'bench'}
    assert {'occi_site', 'pki_idp', 'payment_sandbox'} <= packages
    for package in packages:
        for tracked in tracked_files():
            if tracked.startswith(package + '/') and not tracked.endswith('.py'):
                assert tracked in names, tracked
        for po_file in (ROOT / package).glob('locale/*/LC_MESSAGES/*.po'):
            mo_file = po_file.relative_to(ROOT).with_suffix('.mo').as_posix()
            assert mo_file in names, mo_file


def test_the_installed_wheel_starts_and_serves_both_languages(wheel, tmp_path):
    """A fresh virtualenv with only the wheel of the portal; its dependencies
    come from the test's own environment, after the wheel on the path."""
    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', venv], tmp_path, 'venv')
    python = venv / 'bin' / 'python'
    purelib = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (venv / purelib / 'dependencies.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    run(
        [sys.executable, '-m', 'pip', '--python', python, 'install', '-q', '--no-deps', wheel],
        tmp_path,
        'pip-install',
    )
    located = subprocess.run(
        [python, '-c', 'import occi_site, pki_idp; print(occi_site.__file__, pki_idp.__file__)'],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert located.count(str(venv)) == 2, located

    port = free_port()
    base = 'http://127.0.0.1:%d' % port
    key_pair(tmp_path, 'sp')
    create_development_keys(tmp_path / 'documents')
    ini = tmp_path / 'portal.ini'
    stand_ins = STAND_INS_INI.format(base=base, folder=tmp_path, **GATEWAY_KEYS)
    ini.write_text(
        INI.format(tmp=tmp_path, base=base, port=port, stand_ins=stand_ins, **GATEWAY_KEYS)
    )
    evolved = run([venv / 'bin' / 'occi-evolve', '%s#portal' % ini], tmp_path, 'evolve')
    assert 'database at generation' in evolved
    server = Process(
        'pserve', [python, '-m', 'pyramid.scripts.pserve', ini], tmp_path, cwd=tmp_path
    ).start()
    try:
        server.wait_for(base + '/')

        def page(path, language='en'):
            headers = {'Accept-Language': language, 'Cookie': 'gateway_locale=%s' % language}
            request = urllib.request.Request(base + path, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.read().decode('utf-8')
            except urllib.error.HTTPError as error:
                return error.read().decode('utf-8')

        assert 'Chamber of Commerce and Industry' in page('/')
        assert 'غرفة تجارة وصناعة' in page('/', 'ar')
        assert '--brand' in page('/static/site.css')
        assert '<html' in page('/idp/')
        # The sandbox's own template and catalog, on its not-found page.
        assert 'صفحة الدفع هذه غير موجودة' in page('/gateway/t/gone/billing', 'ar')
    finally:
        server.stop()
