"""Membership certificates: the PDF for the company's members, and the
public verification page anyone reaches from the certificate's QR code."""

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..certificates import CertificateData, render_membership_certificate
from ..i18n import _, localizer_for
from ..resources.certificate import Certificate


def verify_url(request, serial):
    base = request.registry.settings.get('occi.public_url') or request.application_url
    return '%s/verify/%s' % (base.rstrip('/'), serial)


@view_config(context=Certificate, name='certificate.pdf', permission='view')
def certificate_pdf(certificate, request):
    arabic = localizer_for(request, 'ar')
    data = CertificateData(
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
        verify_url=verify_url(request, certificate.serial),
    )
    response = request.response
    response.content_type = 'application/pdf'
    response.content_disposition = 'attachment; filename="%s.pdf"' % certificate.serial
    response.body = render_membership_certificate(data)
    return response


def public_facts(certificate, today):
    """What the public may know of a certificate: nothing else."""
    return {
        'serial': certificate.serial,
        'status': certificate.verification_status(today),
        'name_en': certificate.name_en,
        'name_ar': certificate.name_ar,
        'occi_number': certificate.occi_number,
        'grade': certificate.grade,
        'issued_on': certificate.issued_on.isoformat(),
        'expires_on': certificate.expires_on.isoformat(),
    }


class SerialSchema(colander.Schema):
    serial = colander.SchemaNode(
        colander.String(),
        title=_('Certificate serial'),
        preparer=lambda value: value.strip().upper() if isinstance(value, str) else value,
        validator=colander.Regex(
            r'^[A-Z0-9\-]{4,40}$', msg=_('Enter the serial printed on the certificate.')
        ),
    )


@view_config(route_name='verify_form', renderer='verify.jinja2')
def verify_form(request):
    form = deform.Form(
        SerialSchema(), buttons=(deform.Button('verify', _('Verify')),), method='GET'
    )
    if 'serial' in request.GET:
        try:
            appstruct = form.validate(request.GET.items())
        except deform.ValidationFailure as failure:
            return {'form': failure.render(), 'crumbs': [(_('Verify a certificate'), None)]}
        return HTTPSeeOther(request.route_url('verify', serial=appstruct['serial']))
    return {'form': form.render(), 'crumbs': [(_('Verify a certificate'), None)]}


@view_config(route_name='verify', renderer='verify.jinja2')
def verify(request):
    certificate = request.root['certificates'].get(request.matchdict['serial'])
    if certificate is None:
        request.response.status = 404
        return {
            'unknown': request.matchdict['serial'],
            'crumbs': [(_('Verify a certificate'), request.route_url('verify_form'))],
        }
    return {
        'facts': public_facts(certificate, request.today),
        'crumbs': [(_('Verify a certificate'), request.route_url('verify_form'))],
    }


@view_config(route_name='verify_json', renderer='json')
def verify_json(request):
    certificate = request.root['certificates'].get(request.matchdict['serial'])
    if certificate is None:
        request.response.status = 404
        return {'serial': request.matchdict['serial'], 'status': 'unknown'}
    return public_facts(certificate, request.today)


def includeme(config):
    config.add_route('verify_form', '/verify')
    config.add_route('verify_json', '/verify/{serial}.json')
    config.add_route('verify', '/verify/{serial}')
    config.scan(__name__)
