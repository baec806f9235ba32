"""Signed certificates and receipts: PAdES signatures made with pyHanko, read by
pyHanko's validator and by Poppler's pdfsig, kept so that every download is
the same file, and checked by uploading them to the public verify page."""

import hashlib
import io
import os
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
import transaction
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from cryptography.hazmat.primitives import serialization
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from webtest import Upload
from webtest.http import StopableWSGIServer

import occi_site
from occi_site.certificates import render_membership_certificate, render_receipt
from occi_site.certificates.specimen import CERTIFICATE, RECEIPT
from occi_site.documents import DocumentSetupError
from occi_site.documents.development import CA_FILE, DocumentAuthority, create_development_keys
from occi_site.documents.running import run_to_completion
from occi_site.documents.signing import signer_from_settings
from occi_site.documents.validation import (
    ALTERED,
    FOREIGN,
    INTACT,
    UNREADABLE,
    UNSIGNED,
    check_signature,
)
from occi_site.resources import bootstrap
from occi_site.resources.certificate import Certificate, issue_certificate
from occi_site.resources.evolve import evolve_site

from .conftest import DOCUMENT_KEYS, SOUND_SECRET, edit, login, portal_settings, read, visitor

CR = '1229237'
MEMBER = '90000001'
AUTHENTIC = 'This document was issued by the Oman Chamber of Commerce and Industry'
ALTERED_TEXT = 'This document has been changed since the chamber signed it.'
FOREIGN_TEXT = 'it is not signed with the chamber'

NEEDS = pytest.mark.skipif(
    not (shutil.which('pdfsig') and shutil.which('certutil')),
    reason='needs pdfsig (poppler-utils) and certutil (libnss3-tools)',
)


def validated(signature):
    """pyHanko's own status of ``signature`` against the development CA."""
    context = ValidationContext(trust_roots=trust_roots())
    return run_to_completion(async_validate_pdf_signature(signature, context))


def trust_roots():
    return [load_cert_from_pemder(DOCUMENT_KEYS['occi.documents.trust_roots'])]


def chamber_signer(**settings):
    return signer_from_settings({**DOCUMENT_KEYS, **settings})


def changed_byte(pdf, text=b'promising projects'):
    """``pdf`` with one letter of ``text`` (drawn on the page, so signed) changed."""
    at = pdf.index(text)
    return pdf[:at] + text[:1].swapcase() + pdf[at + 1 :]


def issue(wsgi, cr=CR, on=date(2026, 3, 1)):
    def change(site):
        certificate = issue_certificate(site, site['companies'][cr], on)
        return certificate.serial, certificate.verification_code

    return edit(wsgi, change)


def download(app, serial):
    return app.get('/certificates/%s/certificate.pdf' % serial)


def upload(wsgi, pdf, lang='en', status=200):
    page = visitor(wsgi, lang).get('/verify')
    form = page.forms['upload']
    form['upload'] = Upload('certificate.pdf', pdf, 'application/pdf')
    return form.submit('check', status=status)


@pytest.fixture
def member(portal):
    return login(portal, MEMBER)


@pytest.fixture
def issued(portal, member):
    """A certificate of CR 1229237 as its member downloaded it."""
    serial, code = issue(portal)
    return serial, code, download(member, serial).body


# Signing and validating with pyHanko


def test_a_signed_certificate_is_a_pades_certification_by_the_chamber():
    signed = chamber_signer().sign(render_membership_certificate(CERTIFICATE))
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    status = validated(signature)
    assert status.bottom_line
    assert signature.sig_object['/SubFilter'] == '/ETSI.CAdES.detached'
    assert signature.docmdp_level == MDPPerm.NO_CHANGES
    assert status.signing_cert.subject.native['common_name'] == (
        'Oman Chamber of Commerce and Industry'
    )
    assert check_signature(signed, trust_roots()).verdict == INTACT


def test_the_signature_block_names_the_chamber_in_both_languages():
    signed = chamber_signer().sign(render_receipt(RECEIPT))
    reader = PdfFileReader(io.BytesIO(signed))
    text = subprocess.run(
        ['pdftotext', '-layout', '-', '-'], input=signed, capture_output=True, check=True
    ).stdout.decode()
    assert 'Digitally signed by' in text and 'Oman Chamber of Commerce and Industry' in text
    assert re.search(r'\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+4\)', text)
    field = reader.embedded_signatures[0].sig_field
    assert [round(float(n)) for n in field['/Rect']] == [70, 36, 525, 86]


def test_one_changed_byte_and_a_foreign_key_are_told_apart(tmp_path):
    pdf = render_membership_certificate(CERTIFICATE)
    signed = chamber_signer().sign(pdf)
    assert check_signature(changed_byte(signed), trust_roots()).verdict == ALTERED
    assert check_signature(signed + b'\n%%appended\n', trust_roots()).verdict == ALTERED
    other = create_development_keys(tmp_path / 'other')
    foreign = signer_from_settings({'occi.documents.key_file': str(other)}).sign(pdf)
    assert check_signature(foreign, trust_roots()).verdict == FOREIGN
    assert check_signature(pdf, trust_roots()).verdict == UNSIGNED
    assert check_signature(b'GIF89a not a pdf', trust_roots()).verdict == UNREADABLE


# A local RFC 3161 time-stamping service


class TimeStampingService:
    """pyHanko's test time-stamper, served over HTTP as a real TSA is."""

    def __init__(self, authority):
        key, certificate = authority.issue_signing_certificate(
            'OCCI Test Time-Stamping Unit', time_stamping=True
        )
        self.stamper = DummyTimeStamper(
            tsa_cert=_asn1_certificate(certificate),
            tsa_key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            ),
            certs_to_embed=[_asn1_certificate(authority.certificate)],
        )
        self.requests = 0
        self.server = StopableWSGIServer.create(self)
        self.url = self.server.application_url + 'tsr'

    def __call__(self, environ, start_response):
        body = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
        self.requests += 1
        reply = self.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
        start_response(
            '200 OK',
            [('Content-Type', 'application/timestamp-reply'), ('Content-Length', str(len(reply)))],
        )
        return [reply]


def _asn1_certificate(certificate):
    from asn1crypto import x509

    return x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@pytest.fixture
def tsa(document_keys):
    service = TimeStampingService(DocumentAuthority.load(document_keys))
    yield service
    service.server.shutdown()


def test_the_time_stamp_of_the_configured_service_is_embedded(tsa):
    signer = chamber_signer(**{'occi.documents.timestamp_url': tsa.url})
    signed = signer.sign(render_membership_certificate(CERTIFICATE))
    assert tsa.requests == 1
    check = check_signature(signed, trust_roots())
    assert check.verdict == INTACT
    assert abs(check.timestamped_at - check.signed_at) < timedelta(minutes=1)
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    status = validated(signature)
    assert status.timestamp_validity.trusted and status.timestamp_validity.intact


def test_a_time_stamp_shows_on_the_verify_page(tsa, tmp_path):
    wsgi = occi_site.main(
        {},
        **portal_settings(
            tmp_path,
            **{
                'pyramid.includes': 'tests.probe_views',
                'occi.documents.timestamp_url': tsa.url,
            },
        ),
    )
    serial, _code = issue(wsgi)
    pdf = download(login(wsgi, MEMBER), serial).body
    page = upload(wsgi, pdf)
    assert AUTHENTIC in page
    assert 'Time-stamped on' in page and 'independent time-stamping service' in page


# A PKCS#11 token: SoftHSM2, as an HSM would be used in production

SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so'


@pytest.fixture(scope='session')
def token(tmp_path_factory, document_keys):
    """A SoftHSM2 token holding the development signing key and certificate."""
    if not (os.path.exists(SOFTHSM) and shutil.which('softhsm2-util')):
        pytest.skip('needs SoftHSM2 (Debian softhsm2)')
    import pkcs11
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    folder = tmp_path_factory.mktemp('softhsm')
    (folder / 'tokens').mkdir()
    config = folder / 'softhsm2.conf'
    config.write_text(
        'directories.tokendir = %s\nobjectstore.backend = file\n' % (folder / 'tokens')
    )
    with pytest.MonkeyPatch.context() as patch:
        # SoftHSM reads this once, when the process first loads it.
        patch.setenv('SOFTHSM2_CONF', str(config))
        subprocess.run(
            [
                'softhsm2-util',
                '--init-token',
                '--free',
                '--label',
                'OCCI',
                '--so-pin',
                '56781234',
                '--pin',
                '1234',
            ],
            check=True,
            capture_output=True,
        )
        key, certificate, _chain = pkcs12.load_key_and_certificates(
            (document_keys / 'signing.p12').read_bytes(), None
        )
        token = pkcs11.lib(SOFTHSM).get_token(token_label='OCCI')
        with token.open(rw=True, user_pin='1234') as session:
            session.create_object(
                {
                    **decode_rsa_private_key(
                        key.private_bytes(
                            serialization.Encoding.DER,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption(),
                        )
                    ),
                    Attribute.TOKEN: True,
                    Attribute.LABEL: 'document-signing',
                    Attribute.ID: b'\x01',
                }
            )
            session.create_object(
                {
                    **decode_x509_certificate(certificate.public_bytes(serialization.Encoding.DER)),
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: 'document-signing',
                    Attribute.ID: b'\x01',
                }
            )
        yield {
            'occi.documents.pkcs11_module': SOFTHSM,
            'occi.documents.pkcs11_token': 'OCCI',
            'occi.documents.pkcs11_key_label': 'document-signing',
            'occi.documents.pkcs11_pin': '1234',
        }


def test_a_pkcs11_token_signs_like_the_key_file(token):
    signer = signer_from_settings(
        {**token, 'occi.documents.chain_file': DOCUMENT_KEYS['occi.documents.trust_roots']}
    )
    signed = signer.sign(render_membership_certificate(CERTIFICATE))
    assert check_signature(signed, trust_roots()).verdict == INTACT


def test_a_wrong_pin_for_the_token_names_the_setting(token):
    with pytest.raises(DocumentSetupError, match=re.escape('occi.documents.pkcs11')):
        signer_from_settings({**token, 'occi.documents.pkcs11_pin': '0000'})


# The member's download


def test_the_member_downloads_the_signed_certificate_and_always_the_same_bytes(
    portal, member, issued
):
    serial, _code, pdf = issued
    assert check_signature(pdf, trust_roots()).verdict == INTACT
    again = download(member, serial)
    assert again.body == pdf
    assert again.etag == hashlib.sha256(pdf).hexdigest()
    assert 'no-transform' in again.headers['Cache-Control']
    kept = read(portal, lambda site: site['documents'].get('certificate', serial).sha256)
    assert kept == hashlib.sha256(pdf).hexdigest()


def test_the_certificate_prints_its_code_and_its_qr_link_holds_it(issued):
    serial, code, pdf = issued
    text = subprocess.run(
        ['pdftotext', '-', '-'], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    printed = '-'.join(code[start : start + 4] for start in range(0, 12, 4))
    assert printed in text
    assert 'http://localhost/verify/%s/%s' % (serial, code) in text


def pdfsig(pdf, folder, ca_file):
    """Poppler's report on ``pdf`` with an NSS database in ``folder`` that trusts ``ca_file``."""
    nss = folder / 'nss'
    if not nss.exists():
        nss.mkdir()
        subprocess.run(['certutil', '-N', '-d', 'sql:%s' % nss, '--empty-password'], check=True)
        trust = ['-n', 'OCCI document CA', '-t', 'C,C,C', '-i', str(ca_file)]
        subprocess.run(['certutil', '-A', '-d', 'sql:%s' % nss, *trust], check=True)
    path = folder / ('document-%s.pdf' % hashlib.sha256(pdf).hexdigest()[:12])
    path.write_bytes(pdf)
    return subprocess.run(
        ['pdfsig', '-nssdir', str(nss), str(path)], capture_output=True, text=True
    ).stdout


def assert_pdfsig_valid(report):
    assert 'Signature Validation: Signature is Valid.' in report
    assert 'Certificate Validation: Certificate is Trusted.' in report
    assert 'Total document signed' in report


@NEEDS
def test_pdfsig_trusts_a_downloaded_certificate_and_calls_out_a_changed_byte(
    issued, document_keys, tmp_path
):
    _serial, _code, pdf = issued
    assert_pdfsig_valid(pdfsig(pdf, tmp_path, document_keys / CA_FILE))
    edited = pdfsig(changed_byte(pdf), tmp_path, document_keys / CA_FILE)
    assert 'Signature is Valid.' not in edited and 'Digest Mismatch' in edited


def test_without_a_signing_key_in_development_downloads_say_so(tmp_path):
    wsgi = occi_site.main(
        {},
        **portal_settings(
            tmp_path,
            **{
                'pyramid.includes': 'tests.probe_views',
                'occi.documents.key_file': str(tmp_path / 'missing.p12'),
            },
        ),
    )
    serial, _code = issue(wsgi)
    page = login(wsgi, MEMBER).get('/certificates/%s/certificate.pdf' % serial, status=503)
    assert 'Signed documents cannot be issued or checked at the moment' in page


# The start-up


def production_settings(tmp_path, **overrides):
    return portal_settings(
        tmp_path, **{'occi.dev_tools': 'false', 'occi.session.secret': SOUND_SECRET, **overrides}
    )


@pytest.mark.parametrize(
    'setting, value, named',
    [
        ('occi.documents.key_file', None, 'occi.documents.key_file'),
        ('occi.documents.key_file', 'missing.p12', 'occi.documents.key_file'),
        ('occi.documents.key_file', 'garbage.p12', 'occi.documents.key_file'),
        ('occi.documents.trust_roots', None, 'occi.documents.trust_roots'),
        ('occi.documents.trust_roots', 'garbage.p12', 'occi.documents.trust_roots'),
        ('occi.documents.chain_file', 'missing.pem', 'occi.documents.chain_file'),
        ('occi.documents.pkcs11_module', 'missing.so', 'occi.documents.pkcs11_module'),
    ],
)
def test_a_missing_or_unreadable_key_stops_the_start_naming_the_setting(
    tmp_path, setting, value, named
):
    (tmp_path / 'garbage.p12').write_bytes(b'not a key')
    settings = production_settings(tmp_path)
    if value is None:
        del settings[setting]
    else:
        settings[setting] = str(tmp_path / value)
    with pytest.raises(DocumentSetupError, match=re.escape(named)):
        occi_site.main({}, **settings)


def test_a_database_without_blobs_stops_the_start(tmp_path):
    settings = production_settings(tmp_path, **{'zodbconn.uri': 'memory://'})
    with pytest.raises(DocumentSetupError, match=re.escape('zodbconn.uri')):
        occi_site.main({}, **settings)


# The verify page: "Verify a document"


def test_an_issued_certificate_uploaded_is_authentic_in_english_and_arabic(portal, issued):
    serial, _code, pdf = issued
    page = upload(portal, pdf)
    assert AUTHENTIC in page and 'This certificate is valid.' in page
    assert serial in page and 'promising projects' in page and '2027-03-19' in page
    assert hashlib.sha256(pdf).hexdigest() in page
    arabic = upload(portal, pdf, lang='ar')
    assert 'صدرت هذه الوثيقة عن غرفة تجارة وصناعة عمان' in arabic
    assert 'هذه الشهادة سارية' in arabic


def test_an_edited_copy_is_called_out(portal, issued):
    _serial, _code, pdf = issued
    page = upload(portal, changed_byte(pdf))
    assert ALTERED_TEXT in page and AUTHENTIC not in page and 'promising projects' not in page
    assert 'تم تغيير هذه الوثيقة' in upload(portal, changed_byte(pdf), lang='ar')


def test_a_copy_changed_outside_the_signed_bytes_is_not_the_issued_document(portal, issued):
    _serial, _code, pdf = issued
    # The zeros left over inside the signature's reserved room are not signed.
    at = pdf.rindex(b'0000>')
    padded = pdf[:at] + b'1' + pdf[at + 1 :]
    assert check_signature(padded, trust_roots()).verdict == INTACT
    page = upload(portal, padded)
    assert 'differs from every document the chamber issued' in page
    assert AUTHENTIC not in page


def test_a_pdf_signed_by_another_key_is_refused(portal, tmp_path):
    other = create_development_keys(tmp_path / 'other')
    forged = signer_from_settings({'occi.documents.key_file': str(other)}).sign(
        render_membership_certificate(CERTIFICATE)
    )
    page = upload(portal, forged)
    assert FOREIGN_TEXT in page and AUTHENTIC not in page
    unsigned = upload(portal, render_membership_certificate(CERTIFICATE))
    assert 'it carries no digital signature' in unsigned


def test_a_superseded_certificate_says_so(portal, member, issued):
    _serial, _code, pdf = issued
    issue(portal, on=date(2026, 4, 1))
    page = upload(portal, pdf)
    assert AUTHENTIC in page
    assert 'This certificate has been replaced by a newer one and is no longer valid.' in page


def field_error(page):
    return page.html.find(id='error-upload-document').text


def test_a_file_that_is_no_pdf_is_answered_next_to_the_field(portal):
    page = upload(portal, b'GIF89a' + b'\0' * 100)
    assert field_error(page) == 'Choose the PDF file of a certificate or receipt.'
    broken = upload(portal, b'%PDF-1.4\nnot really\n')
    assert 'This file is not a PDF that can be read.' in broken


def test_uploads_are_size_limited_before_they_are_read(portal):
    page = upload(portal, b'%PDF-1.4\n' + b'0' * 1_100_000)
    assert 'The file is larger than 1 MB.' in page


def test_uploads_need_the_csrf_token(portal, issued):
    _serial, _code, pdf = issued
    app = visitor(portal)
    app.get('/verify')
    app.post(
        '/verify',
        {'check': 'check'},
        upload_files=[('upload', 'certificate.pdf', pdf)],
        status=400,
    )


def test_uploads_are_never_stored(portal, issued):
    _serial, _code, pdf = issued

    def stored(site):
        return len(site['documents'].issued), len(site['documents'].by_fingerprint)

    blobs = sorted(str(path) for path in portal_blob_files(portal))
    before = read(portal, stored)
    upload(portal, pdf)
    upload(portal, changed_byte(pdf))
    assert read(portal, stored) == before
    assert sorted(str(path) for path in portal_blob_files(portal)) == blobs


def portal_blob_files(wsgi):
    from occi_site.resources import database

    folder = database(wsgi.registry).storage.fshelper.base_dir
    return [path for path in _walk(folder) if path.endswith('.blob')]


def _walk(folder):
    for root, _dirs, files in os.walk(folder):
        yield from (os.path.join(root, name) for name in files)


def test_the_verify_page_and_its_json_show_the_fingerprint(portal, member, tmp_path):
    serial, code = issue(portal)
    app = visitor(portal)
    assert app.get('/verify/%s/%s.json' % (serial, code)).json['pdf_sha256'] is None
    assert 'has not been downloaded yet' in app.get('/verify/%s/%s' % (serial, code))
    pdf = download(member, serial).body
    fingerprint = hashlib.sha256(pdf).hexdigest()
    assert app.get('/verify/%s/%s.json' % (serial, code)).json['pdf_sha256'] == fingerprint
    assert fingerprint in app.get('/verify/%s/%s' % (serial, code))


def test_lookups_are_rate_limited_by_address(portal):
    serial, code = issue(portal)
    app = visitor(portal)
    wrong = '0' * 12
    for _ in range(60):
        app.get('/verify/%s/%s.json' % (serial, wrong), status=404)
    assert app.get('/verify/%s/%s.json' % (serial, code), status=429).json == {
        'status': 'throttled'
    }
    page = app.get('/verify/%s/%s' % (serial, code), status=429)
    assert 'Too many attempts' in page and 'promising projects' not in page
    other = visitor(portal)
    assert (
        other.get(
            '/verify/%s/%s.json' % (serial, code), extra_environ={'REMOTE_ADDR': '192.0.2.7'}
        ).json['serial']
        == serial
    )


# Certificates issued before the verification codes


def test_evolve_step_6_gives_existing_certificates_codes(monkeypatch):
    from ZODB import DB
    from ZODB.MappingStorage import MappingStorage

    from occi_site.resources import evolve

    monkeypatch.setattr(evolve, 'BATCH', 2)
    db = DB(MappingStorage())
    manager = transaction.TransactionManager()
    conn = db.open(transaction_manager=manager)
    site, _ran = bootstrap(conn.root())
    manager.commit()
    olds = []
    for number in range(1, 4):
        old = Certificate(
            'OCCI-2025-%06d' % number,
            CR,
            '91868',
            'promising projects',
            'المشاريع الواعدة',
            'Fourth',
            'Ruwi',
            date(2025, 3, 1),
            date(2026, 3, 1),
        )
        # As it was pickled before certificates had codes.
        del old.verification_code
        olds.append(site['certificates'].add(old.serial, old))
    site.remove('documents')
    site.generation = 5
    manager.commit()
    # Step 6 and every later one.
    assert evolve_site(site) == [number for number, _step in evolve.STEPS if number >= 6]
    manager.commit()
    codes = {old.verification_code for old in olds}
    assert len(codes) == 3 and all(len(code) == 12 for code in codes)
    assert all(old.has_code(old.printed_code) for old in olds)
    assert site['documents'].get('certificate', olds[0].serial) is None
    conn.close()
    db.close()
