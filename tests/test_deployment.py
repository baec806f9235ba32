"""What an operator relies on: settings from the environment, the health
check, the SP metadata file other processes read."""

import os
import threading
import xml.dom.minidom
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import webtest
from pyramid.exceptions import ConfigurationError

from occi_site import from_environment
from occi_site.integrations.pki_setup import publish_metadata


def test_settings_name_environment_variables(monkeypatch):
    monkeypatch.setenv('OCCI_TEST_SECRET', 'from-the-environment')
    monkeypatch.setenv('OCCI_TEST_VAR', '/srv/occi/var')
    settings = from_environment(
        {
            'occi.session.secret': '$(OCCI_TEST_SECRET)',
            'occi.outbox_path': '$(OCCI_TEST_VAR)/outbox.jsonl',
            'mail.password': 'pa$$word',
            'retry.attempts': 3,
        }
    )
    assert settings == {
        'occi.session.secret': 'from-the-environment',
        'occi.outbox_path': '/srv/occi/var/outbox.jsonl',
        'mail.password': 'pa$word',
        'retry.attempts': 3,
    }


def test_a_missing_environment_variable_stops_the_start(monkeypatch, make_app):
    monkeypatch.delenv('OCCI_TEST_SECRET', raising=False)
    with pytest.raises(ConfigurationError, match=r'occi\.session\.secret.*OCCI_TEST_SECRET'):
        make_app(**{'occi.session.secret': '$(OCCI_TEST_SECRET)'})


def test_health_check_reads_the_database(app):
    page = app.get('/_health')
    assert page.content_type == 'text/plain'
    assert page.text.startswith('ok generation ')
    assert 'Set-Cookie' not in page.headers


def test_health_check_answers_503_without_the_database(wsgi_app):
    from occi_site.resources import database

    database(wsgi_app.registry).close()
    page = webtest.TestApp(wsgi_app).get('/_health', status=503)
    assert 'database unavailable' in page


def test_sp_metadata_is_replaced_whole(tmp_path):
    """Readers (the IdP, another server starting) never see a half-written file."""
    target = tmp_path / 'sp-metadata.xml'
    documents = ['<m>%s</m>' % ('x' * 200_000 * n) for n in (1, 2)]
    stop = threading.Event()
    torn = []

    def read():
        while not stop.is_set():
            if target.exists():
                text = target.read_text()
                try:
                    xml.dom.minidom.parseString(text)
                except Exception:
                    torn.append(len(text))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for round in range(40):
            publish_metadata(str(target), documents[round % 2])
    finally:
        stop.set()
        reader.join()
    assert torn == []
    assert not [name for name in os.listdir(tmp_path) if name != 'sp-metadata.xml']


def test_the_shipped_connection_pool_matches_the_servers_threads():
    """One database connection per waitress thread, as production.ini and
    relstorage.conf ship: a smaller pool would throw caches away under load."""
    import configparser
    import re

    from .processes import ROOT

    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / 'production.ini')
    threads = int(ini['server:main']['threads'])
    pool_size = int(
        re.search(r'^\s*pool-size\s+(\d+)', (ROOT / 'relstorage.conf').read_text(), re.M).group(1)
    )
    assert pool_size == threads


def test_every_unit_runs_a_program_the_package_installs_and_has_its_timer():
    deploy = Path(__file__).parent.parent / 'deploy'
    installed = {entry.name for entry in entry_points(group='console_scripts')} | {'pserve'}
    for unit in deploy.glob('*.service'):
        [start] = [line for line in unit.read_text().splitlines() if line.startswith('ExecStart=')]
        assert start.split()[0].rsplit('/', 1)[1] in installed, unit.name
        if 'Type=oneshot' in unit.read_text() and unit.stem != 'occi-evolve':
            assert (deploy / (unit.stem + '.timer')).exists(), unit.name
