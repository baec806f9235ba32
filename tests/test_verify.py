"""The public verify page: a certificate is answered for only with its serial
and its verification code together."""

from datetime import date

import pytest

from occi_site.resources.certificate import issue_certificate

from .conftest import edit, visitor


def issue(wsgi, cr='1229237'):
    def change(site):
        certificate = issue_certificate(site, site['companies'][cr], date(2026, 3, 1))
        return certificate.serial, certificate.verification_code

    return edit(wsgi, change)


@pytest.fixture
def certificate(portal):
    return issue(portal)


def test_a_serial_alone_reveals_nothing(portal, certificate):
    serial, _code = certificate
    app = visitor(portal)
    answer = app.get('/verify/%s.json' % serial, status=404)
    assert answer.json == {'status': 'unknown'}
    page = app.get('/verify/%s' % serial)
    for fact in ('promising projects', 'المشاريع الواعدة', '91868', 'Fourth', '2027'):
        assert fact not in page.text


def test_sequential_serials_list_nobody(portal):
    serials = [issue(portal, cr)[0] for cr in ('1229237', '1304464', '1020446')]
    app = visitor(portal)
    for serial in serials:
        assert app.get('/verify/%s.json' % serial, status=404).json == {'status': 'unknown'}


def test_serial_and_code_answer_for_the_certificate(portal, certificate):
    serial, code = certificate
    app = visitor(portal)
    facts = app.get('/verify/%s/%s.json' % (serial, code)).json
    assert facts['serial'] == serial and facts['name_en'] == 'promising projects'
    assert facts['status'] == 'valid'
    page = app.get('/verify/%s/%s' % (serial, code))
    assert 'This certificate is valid.' in page and 'promising projects' in page


def test_a_wrong_code_is_answered_like_an_unknown_serial(portal, certificate):
    serial, code = certificate
    app = visitor(portal)
    wrong = ('A' if code[0] != 'A' else 'B') + code[1:]
    assert app.get('/verify/%s/%s.json' % (serial, wrong), status=404).json == {'status': 'unknown'}
    unknown = app.get('/verify/OCCI-2099-000001/%s.json' % code, status=404)
    assert unknown.json == {'status': 'unknown'}
    page = app.get('/verify/%s/%s' % (serial, wrong), status=404)
    assert 'promising projects' not in page


def test_verification_codes_are_unguessable(portal):
    codes = [issue(portal)[1] for _ in range(20)]
    assert len(set(codes)) == 20
    assert all(len(code) >= 12 for code in codes)
