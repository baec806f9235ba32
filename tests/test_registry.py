"""The commercial registry: the embedded sample and the HTTP JSON adapter."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import webtest

from occi_site.integrations.commercial_registry import (
    HttpRegistry,
    RegistryError,
    RegistryRecordError,
    SampleRegistry,
    registry_from_settings,
)


def test_sample_registry_holds_the_design_companies():
    registry = SampleRegistry()
    company = registry.company('1229237')
    assert company.name_en == 'promising projects'
    assert company.name_ar == 'المشاريع الواعدة'
    assert company.address.startswith('Ruwi, Muttrah, Muscat Governorate')
    assert company.grade == 'Fourth' and company.is_active
    assert registry.company('1445820').is_active
    assert registry.crs_for('90000001') == ('1229237', '1445820')
    assert registry.crs_for('90000002') == ('1279531', '1304464', '1020446')
    assert registry.crs_for('12345678') == ()
    assert registry.company('999') is None


class FakeRegistryHandler(BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):
        status, body = self.routes.get(self.path, (404, b'{}'))
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def registry_server():
    FakeRegistryHandler.routes = {
        '/api/companies/1229237': (
            200,
            json.dumps(
                {
                    'cr_number': '1229237',
                    'name_en': 'promising projects',
                    'name_ar': 'المشاريع الواعدة',
                    'address': 'Ruwi',
                    'grade': 'Fourth',
                    'status': 'active',
                }
            ).encode(),
        ),
        '/api/companies/666': (200, b'{"cr_number": "666"}'),
        '/api/companies/777': (200, b'not json'),
        '/api/companies/500': (500, b'{}'),
        '/api/people/90000001/companies': (200, b'{"crs": ["1229237", 1445820]}'),
        '/api/people/90000003/companies': (200, b'{"crs": "1229237"}'),
    }
    server = ThreadingHTTPServer(('127.0.0.1', 0), FakeRegistryHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d/api' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_registry_lookups(registry_server):
    registry = HttpRegistry(registry_server)
    assert registry.company('1229237').name_ar == 'المشاريع الواعدة'
    assert registry.company('404404') is None
    assert registry.crs_for('90000001') == ('1229237', '1445820')
    assert registry.crs_for('90000099') == ()


@pytest.mark.parametrize('cr', ['666', '777', '500'])
def test_http_registry_malformed_or_failing_answers(registry_server, cr):
    with pytest.raises(RegistryError):
        HttpRegistry(registry_server).company(cr)


@pytest.mark.parametrize('cr, of_the_record', [('666', True), ('777', False), ('500', False)])
def test_only_a_company_record_the_portal_cannot_use_is_that_record_s_fault(
    registry_server, cr, of_the_record
):
    """A record missing its fields is one company's trouble; an answer that
    is not JSON, or an HTTP error, is the registry's."""
    with pytest.raises(RegistryError) as refusal:
        HttpRegistry(registry_server).company(cr)
    assert isinstance(refusal.value, RegistryRecordError) is of_the_record


def test_http_registry_malformed_people_list(registry_server):
    with pytest.raises(RegistryError):
        HttpRegistry(registry_server).crs_for('90000003')


def test_http_registry_unreachable():
    with pytest.raises(RegistryError):
        HttpRegistry('http://127.0.0.1:9/api', timeout=1).company('1229237')


def test_settings_choose_the_adapter():
    assert isinstance(registry_from_settings({}), SampleRegistry)
    adapter = registry_from_settings({'occi.registry.url': 'http://registry.test/api/'})
    assert isinstance(adapter, HttpRegistry) and adapter.base_url == 'http://registry.test/api'


def test_portal_answers_through_the_http_registry(make_app, registry_server):
    app = webtest.TestApp(
        make_app(**{'pyramid.includes': 'tests.probe_views', 'occi.registry.url': registry_server})
    )
    assert app.get('/_probe/company/1229237').json == {'name_en': 'promising projects'}


@pytest.mark.parametrize(
    'language, text', [('en', 'Commercial registry unavailable'), ('ar', 'السجل التجاري غير متاح')]
)
def test_unreachable_registry_gives_a_clear_page(make_app, language, text):
    app = webtest.TestApp(
        make_app(
            **{
                'pyramid.includes': 'tests.probe_views',
                'occi.registry.url': 'http://127.0.0.1:9/api',
                'occi.registry.timeout': '1',
            }
        )
    )
    page = app.get('/_probe/company/1229237', status=503, headers={'Accept-Language': language})
    assert text in page.text
    assert 'Traceback' not in page.text


def test_malformed_registry_gives_a_clear_page(make_app, registry_server):
    app = webtest.TestApp(
        make_app(**{'pyramid.includes': 'tests.probe_views', 'occi.registry.url': registry_server})
    )
    page = app.get('/_probe/company/777', status=503)
    assert 'Commercial registry unavailable' in page
