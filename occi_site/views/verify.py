"""Membership certificates: the signed PDF for the company's members, and the
public verify page.  Anyone may check a certificate by its serial together
with its verification code (the QR code holds both), or check any document of
the chamber's by uploading it; a serial alone tells nothing."""

import hashlib

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import exception_view_config, view_config

from ..certificates import CertificateData, render_membership_certificate
from ..documents import DocumentsUnavailable, issued_pdf, pdf_response
from ..documents.validation import INTACT, UNREADABLE
from ..i18n import _, localizer_for
from ..resources.certificate import Certificate, normalise_code
from ..resources.content import UploadStore
from ..resources.verification import typed
from .codes import count_failure, over_limit
from .forms import FormView

# Lookups and uploads by one address in an hour: plenty for a bank's clerk,
# far too few to guess a verification code.
LOOKUPS_PER_IP_HOUR = 60
CHECKS_PER_IP_HOUR = 30
# The chamber's documents are a few dozen kilobytes.
MAX_UPLOAD_BYTES = 1_000_000
# What a multipart request adds around the file itself.
UPLOAD_OVERHEAD = 16_000


def verify_url(request, certificate):
    """The public address that answers for ``certificate``: printed and in its QR code."""
    base = request.registry.settings.get('occi.public_url') or request.application_url
    return '%s/verify/%s/%s' % (
        base.rstrip('/'),
        certificate.serial,
        certificate.verification_code,
    )


def certificate_data(request, certificate):
    arabic = localizer_for(request, 'ar')
    return CertificateData(
        serial=certificate.serial,
        occi_number=certificate.occi_number,
        cr_number=certificate.cr_number,
        name_en=certificate.name_en,
        name_ar=certificate.name_ar,
        grade_en=certificate.grade,
        grade_ar=arabic.translate(_(certificate.grade)),
        address=certificate.address,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        verification_code=certificate.printed_code,
        verify_url=verify_url(request, certificate),
    )


@view_config(context=Certificate, name='certificate.pdf', permission='view')
def certificate_pdf(certificate, request):
    document = issued_pdf(
        request,
        'certificate',
        certificate.serial,
        lambda: render_membership_certificate(certificate_data(request, certificate)),
    )
    return pdf_response(request, document, '%s.pdf' % certificate.serial)


@exception_view_config(DocumentsUnavailable, renderer='errors/documents.jinja2')
def documents_unavailable(exc, request):
    request.response.status = 503
    return {}


def public_facts(request, certificate):
    """What the public may know of a certificate: nothing else."""
    document = request.root['documents'].get('certificate', certificate.serial)
    return {
        'serial': certificate.serial,
        'status': certificate.verification_status(request.today),
        'name_en': certificate.name_en,
        'name_ar': certificate.name_ar,
        'occi_number': certificate.occi_number,
        'grade': certificate.grade,
        'issued_on': certificate.issued_on.isoformat(),
        'expires_on': certificate.expires_on.isoformat(),
        # None until the certificate's PDF is first downloaded, when it is signed.
        'pdf_sha256': document.sha256 if document is not None else None,
    }


def _upper(value):
    value = typed(value)
    return value.upper() if isinstance(value, str) else value


class LookupSchema(colander.Schema):
    # The lookup and the upload share a page: their fields need ids of their own.
    serial = colander.SchemaNode(
        colander.String(),
        oid='lookup-serial',
        title=_('Certificate serial'),
        preparer=_upper,
        validator=colander.Regex(
            r'^[A-Z0-9\-]{4,40}$', msg=_('Enter the serial printed on the certificate.')
        ),
    )
    code = colander.SchemaNode(
        colander.String(),
        oid='lookup-code',
        title=_('Verification code'),
        description=_('Printed beside the serial, in groups of four: 7KQ2-M9XD-4TPA.'),
        preparer=lambda value: normalise_code(value) if isinstance(value, str) else value,
        validator=colander.Regex(
            r'^[0-9A-Z]{12}$',
            msg=_('Enter the 12 letters and digits of the verification code.'),
        ),
        widget=deform.widget.TextInputWidget(
            attributes={'autocomplete': 'off', 'spellcheck': 'false'}
        ),
    )


def lookup_form():
    return deform.Form(
        LookupSchema(),
        buttons=(deform.Button('verify', _('Verify')),),
        method='GET',
        formid='lookup',
    )


def _upload_checked(node, value):
    stream = value['fp']
    head = stream.read(MAX_UPLOAD_BYTES + 1)
    stream.seek(0)
    if len(head) > MAX_UPLOAD_BYTES:
        raise colander.Invalid(node, _('The file is larger than 1 MB.'))
    if not head.startswith(b'%PDF-'):
        raise colander.Invalid(node, _('Choose the PDF file of a certificate or receipt.'))


class UploadSchema(colander.Schema):
    document = colander.SchemaNode(
        deform.FileData(),
        oid='upload-document',
        title=_('PDF document'),
        description=_(
            'A membership certificate or payment receipt of the chamber, up to 1 MB. '
            'It is checked and not kept.'
        ),
        validator=_upload_checked,
    )

    def after_bind(self, node, kw):
        # A store of this request only: the upload is read, checked and dropped.
        self['document'].widget = deform.widget.FileUploadWidget(
            UploadStore(), accept='application/pdf'
        )


CRUMBS = ((_('Verify a document'), None),)


@view_config(route_name='verify_form', renderer='verify.jinja2')
class VerifyPage(FormView):
    """``/verify``: look a certificate up by serial and code (GET), or check an
    uploaded PDF (POST)."""

    schema = UploadSchema
    buttons = (deform.Button('check', _('Check the document')),)
    form_options = {'formid': 'upload'}

    def __call__(self):
        if 'serial' in self.request.GET:
            return self.look_up()
        too_large = (self.request.content_length or 0) > MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD
        if self.request.method == 'POST' and too_large:
            # Refused before the body is read.
            return self.invalid(self.make_form(), {}, document=_('The file is larger than 1 MB.'))
        return super().__call__()

    def look_up(self):
        form = lookup_form()
        try:
            appstruct = form.validate(self.request.GET.items())
        except deform.ValidationFailure as failure:
            return self.show(self.make_form().render(), lookup=failure.render())
        return HTTPSeeOther(self.request.route_url('verify', **appstruct))

    def show(self, rendered_form, **values):
        values.setdefault('lookup', lookup_form().render())
        return dict(values, form=rendered_form, crumbs=CRUMBS)

    def check_success(self, form, appstruct):
        # Only refused files count against the address: checking a genuine one writes nothing.
        message = over_limit(self.request, 'document-check', CHECKS_PER_IP_HOUR)
        if message is not None:
            return self.invalid(form, {}, document=message)
        signing = self.request.document_signing
        if signing is None:
            raise DocumentsUnavailable()
        pdf = appstruct['document']['fp'].read()
        check = signing.check(pdf)
        if check.verdict == UNREADABLE:
            count_failure(self.request, 'document-check')
            return self.invalid(form, {}, document=_('This file is not a PDF that can be read.'))
        issued = self.request.root['documents'].find(hashlib.sha256(pdf).hexdigest())
        outcome = {'verdict': check.verdict, 'check': check}
        if check.verdict == INTACT:
            # The chamber's signature holds; the file must also be one it issued.
            outcome['verdict'] = 'authentic' if issued is not None else 'not_issued'
            outcome.update(self.issued_record(issued))
        if outcome['verdict'] != 'authentic':
            count_failure(self.request, 'document-check')
        return self.show(self.make_form().render(), checked=outcome)

    def issued_record(self, issued):
        if issued is None:
            return {}
        if issued.kind == 'certificate':
            certificate = self.request.root['certificates'][issued.key]
            return {'kind': 'certificate', 'facts': public_facts(self.request, certificate)}
        return {'kind': 'receipt', 'order': self.request.root['orders'][issued.key]}


def _look_up(request):
    """The certificate the serial and code name, or an answer saying why not.

    Only failed lookups count against the address (they are what enumerating
    serials or codes produces): a visitor checking a genuine certificate with
    its code writes nothing.
    """
    message = over_limit(request, 'certificate-lookup', LOOKUPS_PER_IP_HOUR)
    if message is not None:
        request.response.status = 429
        return None, message
    matchdict = request.matchdict
    certificate = request.root['certificates'].verified(matchdict['serial'], matchdict['code'])
    if certificate is None:
        count_failure(request, 'certificate-lookup')
        request.response.status = 404
    return certificate, None


def genuine_revision(context, request):
    """What the page of a genuine certificate is made from, as the database
    says it now: the certificate's last change (it is superseded), whether its
    PDF was issued, the day (it expires) and the content (the menu); ``None``
    for any other lookup, which is answered, and counted, every time."""
    if over_limit(request, 'certificate-lookup', LOOKUPS_PER_IP_HOUR) is not None:
        return None
    matchdict = request.matchdict
    site = request.root
    certificate = site['certificates'].verified(matchdict['serial'], matchdict['code'])
    if certificate is None:
        return None
    issued = site['documents'].get('certificate', certificate.serial) is not None
    return (certificate._p_serial, issued, request.today, site['content'].revision)


@view_config(route_name='verify', renderer='verify.jinja2', anonymous_cache=genuine_revision)
def verify(request):
    certificate, message = _look_up(request)
    crumbs = [(_('Verify a document'), request.route_url('verify_form'))]
    if certificate is None:
        return {'unknown': request.matchdict['serial'], 'message': message, 'crumbs': crumbs}
    return {'facts': public_facts(request, certificate), 'crumbs': crumbs}


@view_config(route_name='verify_json', renderer='json')
def verify_json(request):
    certificate, message = _look_up(request)
    if certificate is None:
        return {'status': 'throttled' if message else 'unknown'}
    return public_facts(request, certificate)


@view_config(route_name='verify_serial', renderer='verify.jinja2')
def verify_serial(request):
    """A serial without its code: the form asks for the code, and nothing else is said."""
    form = lookup_form()
    return {
        'lookup': form.render({'serial': request.matchdict['serial']}),
        'code_needed': True,
        'crumbs': [(_('Verify a document'), request.route_url('verify_form'))],
    }


@view_config(route_name='verify_serial_json', renderer='json')
def verify_serial_json(request):
    request.response.status = 404
    return {'status': 'unknown'}


def includeme(config):
    config.add_route('verify_form', '/verify')
    config.add_route('verify_json', '/verify/{serial}/{code}.json')
    config.add_route('verify', '/verify/{serial}/{code}')
    config.add_route('verify_serial_json', '/verify/{serial}.json')
    config.add_route('verify_serial', '/verify/{serial}')
    config.scan(__name__)
