"""The IdP's SAML side on pysaml2's Server: reading the portal's requests, writing signed answers.

Only the HTTP-Redirect binding is offered for requests (SSO and SLO); authentication
responses go back by HTTP-POST. Responses and assertions are signed with RSA-SHA256. A login
hint (the member's mobile number) is read from the AuthnRequest's <Subject><NameID>.
"""

import functools
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, VERSION, class_name, md, saml, samlp
from saml2.config import IdPConfig
from saml2.extension.algsupport import DigestMethod, SigningMethod
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.s_utils import decode_base64_and_inflate, sid
from saml2.server import Server
from saml2.sigver import pre_signature_part, security_context, verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .i18n import _
from .keys import KeyPair, write_key_pair

log = logging.getLogger(__name__)

AUTHN_CONTEXTS = {
    'card': 'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
    'mobile': 'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract',
}
METHODS = ('mobile', 'card')

# The test switches: how the next authentication responses break the protocol.
MISBEHAVIOURS = (
    'normal',
    'tampered',
    'unsigned',
    'expired',
    'not_yet_valid',
    'wrong_audience',
    'attacker_signed',
    'wrong_context',
    'wrong_issuer',
    'failure_status',
    'earlier_login',
)
# What an IdP answering from a session of its own says: a login made before.
EARLIER_LOGIN = timedelta(minutes=8)
_WEAKER_CONTEXT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
_FOREIGN_ENTITY = 'https://attacker.invalid/saml'
_FORGED_CIVIL_ID = '99999999'

ASSERTION_LIFETIME = timedelta(minutes=5)
LOGOUT_REQUEST_LIFETIME = timedelta(minutes=5)


class SamlRequestError(Exception):
    """A request the IdP will not serve; `message` (a TranslationString) is shown to the user."""

    def __init__(self, message, detail=''):
        super().__init__(detail or message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class AuthnRequestInfo:
    request_id: str
    sp_entity_id: str
    acs_url: str
    relay_state: str
    is_passive: bool
    methods: tuple[str, ...]
    login_hint: str | None


@dataclass(frozen=True)
class LogoutRequestInfo:
    message: samlp.LogoutRequest
    sp_entity_id: str
    civil_id: str
    session_indexes: tuple[str, ...]
    relay_state: str


def _instant(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _issuer(entity_id):
    return saml.Issuer(text=entity_id, format=saml.NAMEID_FORMAT_ENTITY)


def _status(code, detail=None):
    return samlp.Status(
        status_code=samlp.StatusCode(
            value=code, status_code=samlp.StatusCode(value=detail) if detail else None
        )
    )


def _location(http_info):
    return dict(http_info['headers'])['Location']


class IdentityProvider:
    """The development IdP at `base_url`, serving the one SP described by `sp_metadata_file`.

    The SP metadata is read on first use and again whenever the file changes, so the portal
    and the IdP may start in any order.
    """

    def __init__(self, *, base_url, keys: KeyPair, sp_metadata_file, xmlsec_binary):
        base_url = base_url.rstrip('/')
        self.entity_id = f'{base_url}/metadata'
        self.sso_url = f'{base_url}/sso'
        self.slo_url = f'{base_url}/slo'
        self.keys = keys
        self.sp_metadata_file = sp_metadata_file
        self.xmlsec_binary = xmlsec_binary
        self._lock = threading.Lock()
        self._loaded = None
        self._attacker_keys = None

    def _config(self, with_sp_metadata):
        settings = {
            'entityid': self.entity_id,
            'xmlsec_binary': self.xmlsec_binary,
            'key_file': self.keys.key_file,
            'cert_file': self.keys.cert_file,
            'metadata_key_usage': 'signing',
            'only_use_keys_in_metadata': True,
            'signing_algorithm': SIG_RSA_SHA256,
            'digest_algorithm': DIGEST_SHA256,
            'service': {
                'idp': {
                    'endpoints': {
                        'single_sign_on_service': [(self.sso_url, BINDING_HTTP_REDIRECT)],
                        'single_logout_service': [(self.slo_url, BINDING_HTTP_REDIRECT)],
                    },
                    'want_authn_requests_signed': True,
                    'name_id_format': [saml.NAMEID_FORMAT_PERSISTENT],
                },
            },
        }
        if with_sp_metadata:
            settings['metadata'] = {'local': [self.sp_metadata_file]}
        return IdPConfig().load(settings)

    def _server(self):
        try:
            stat = os.stat(self.sp_metadata_file)
        except OSError as exc:
            raise SamlRequestError(
                _('The portal has not published its metadata yet. Start the portal and try again.'),
                str(exc),
            ) from exc
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._loaded is None or self._loaded[0] != stamp:
                self._loaded = (stamp, Server(config=self._config(with_sp_metadata=True)))
            return self._loaded[1]

    @functools.cached_property
    def metadata_xml(self):
        """Our metadata, signed with our key (it does not change while the process runs)."""
        config = self._config(with_sp_metadata=False)
        descriptor = entity_descriptor(config)
        # pysaml2 advertises every algorithm xmlsec1 knows, MD5 and SHA-1 included; we use these.
        descriptor.extensions = md.Extensions()
        descriptor.extensions.add_extension_element(DigestMethod(algorithm=DIGEST_SHA256))
        descriptor.extensions.add_extension_element(SigningMethod(algorithm=SIG_RSA_SHA256))
        _descriptor, xml = sign_entity_descriptor(
            descriptor, None, security_context(config), SIG_RSA_SHA256, DIGEST_SHA256
        )
        return xml

    def write_metadata(self, path):
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile('w', dir=directory, delete=False, encoding='utf-8') as out:
            out.write(self.metadata_xml)
        os.replace(out.name, path)

    def name_id(self, civil_id, sp_entity_id):
        return saml.NameID(
            format=saml.NAMEID_FORMAT_PERSISTENT,
            name_qualifier=self.entity_id,
            sp_name_qualifier=sp_entity_id,
            text=civil_id,
        )

    # -- single sign-on -------------------------------------------------------------------

    def read_authn_request(self, query):
        """The signed AuthnRequest of an HTTP-Redirect query, or SamlRequestError."""
        server = self._server()
        if 'SAMLRequest' not in query:
            raise SamlRequestError(_('No login request was received.'))
        try:
            parsed = server.parse_authn_request(
                query['SAMLRequest'],
                BINDING_HTTP_REDIRECT,
                relay_state=query.get('RelayState'),
                sigalg=query.get('SigAlg'),
                signature=query.get('Signature'),
            )
            message = parsed.message
            sp_entity_id = message.issuer.text.strip()
            known = [
                endpoint['location']
                for endpoint in server.metadata.assertion_consumer_service(
                    sp_entity_id, BINDING_HTTP_POST
                )
            ]
        except Exception as exc:
            log.warning('refused AuthnRequest: %r', exc)
            raise SamlRequestError(
                _('The login request could not be verified.'), repr(exc)
            ) from exc
        acs_url = message.assertion_consumer_service_url or next(iter(known), None)
        if acs_url not in known or message.protocol_binding not in (None, BINDING_HTTP_POST):
            raise SamlRequestError(
                _('The service asked for an answer at an unknown address.'), str(acs_url)
            )
        subject = message.subject
        hint = (
            subject.name_id.text.strip()
            if subject is not None and subject.name_id is not None
            else None
        )
        return AuthnRequestInfo(
            request_id=message.id,
            sp_entity_id=sp_entity_id,
            acs_url=acs_url,
            relay_state=query.get('RelayState') or '',
            is_passive=message.is_passive in ('true', '1'),
            methods=_offered_methods(message.requested_authn_context),
            login_hint=hint or None,
        )

    def authn_response(self, request, person, method, session_index, misbehaviour='normal'):
        """The signed Response telling the SP that `person` authenticated with `method`."""
        if misbehaviour == 'failure_status':
            return self.failure_response(request, samlp.STATUS_AUTHN_FAILED)
        now = datetime.now(UTC)
        start = {
            'expired': now - timedelta(hours=1),
            'not_yet_valid': now + timedelta(hours=1),
        }.get(misbehaviour, now)
        authenticated_at = now - EARLIER_LOGIN if misbehaviour == 'earlier_login' else start
        issuer = _FOREIGN_ENTITY if misbehaviour == 'wrong_issuer' else self.entity_id
        audience = _FOREIGN_ENTITY if misbehaviour == 'wrong_audience' else request.sp_entity_id
        context = _WEAKER_CONTEXT if misbehaviour == 'wrong_context' else AUTHN_CONTEXTS[method]
        assertion = saml.Assertion(
            id=sid(),
            version=VERSION,
            issue_instant=_instant(start),
            issuer=_issuer(issuer),
            subject=saml.Subject(
                name_id=self.name_id(person.civil_id, request.sp_entity_id),
                subject_confirmation=[
                    saml.SubjectConfirmation(
                        method=saml.SCM_BEARER,
                        subject_confirmation_data=saml.SubjectConfirmationData(
                            in_response_to=request.request_id,
                            recipient=request.acs_url,
                            not_on_or_after=_instant(start + ASSERTION_LIFETIME),
                        ),
                    )
                ],
            ),
            conditions=saml.Conditions(
                not_before=_instant(start),
                not_on_or_after=_instant(start + ASSERTION_LIFETIME),
                audience_restriction=[
                    saml.AudienceRestriction(audience=[saml.Audience(text=audience)])
                ],
            ),
            authn_statement=[
                saml.AuthnStatement(
                    authn_instant=_instant(authenticated_at),
                    session_index=session_index,
                    authn_context=saml.AuthnContext(
                        authn_context_class_ref=saml.AuthnContextClassRef(text=context)
                    ),
                )
            ],
            attribute_statement=[
                saml.AttributeStatement(
                    attribute=[
                        saml.Attribute(
                            name=name,
                            name_format=saml.NAME_FORMAT_BASIC,
                            attribute_value=[saml.AttributeValue(text=value)],
                        )
                        for name, value in (
                            ('CivilNumber', person.civil_id),
                            ('FullNameEn', person.name_en),
                            ('FullNameAr', person.name_ar),
                            ('Mobile', person.mobile),
                        )
                    ]
                )
            ],
        )
        response = self._response(request, _status(samlp.STATUS_SUCCESS), issuer, assertion)
        if misbehaviour == 'unsigned':
            return str(response)
        keys = self._attacker() if misbehaviour == 'attacker_signed' else self.keys
        xml = self._signed(response, [assertion, response], keys)
        if misbehaviour == 'tampered':
            xml = _forge_civil_number(xml, person.civil_id)
        return xml

    def failure_response(self, request, reason):
        """A signed Response saying the authentication did not happen (`reason`: a status code)."""
        response = self._response(request, _status(samlp.STATUS_RESPONDER, reason), self.entity_id)
        return self._signed(response, [response], self.keys)

    def _response(self, request, status, issuer, assertion=None):
        return samlp.Response(
            id=sid(),
            version=VERSION,
            issue_instant=_instant(datetime.now(UTC)),
            destination=request.acs_url,
            in_response_to=request.request_id,
            issuer=_issuer(issuer),
            status=status,
            assertion=[assertion] if assertion is not None else [],
        )

    def _signed(self, message, parts, keys):
        """`message` as XML with enveloped signatures on `parts`, innermost first."""
        for part in parts:
            part.signature = pre_signature_part(
                part.id,
                keys.certificate_base64(),
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
        xml = str(message)
        security = self._server().sec
        for part in parts:
            xml = security.sign_statement(
                xml, class_name(part), key_file=keys.key_file, node_id=part.id
            )
        return xml

    def _attacker(self):
        """A key pair unknown to the SP, made when a test first asks for it."""
        with self._lock:
            if self._attacker_keys is None:
                directory = tempfile.TemporaryDirectory(prefix='pki_idp-attacker-')
                keys = KeyPair(
                    os.path.join(directory.name, 'key.pem'),
                    os.path.join(directory.name, 'cert.pem'),
                )
                write_key_pair(keys.key_file, keys.cert_file, 'attacker')
                self._attacker_keys = (directory, keys)
            return self._attacker_keys[1]

    # -- single log-out -------------------------------------------------------------------

    def read_logout_request(self, query):
        """The signed LogoutRequest of an SP-initiated log-out, or SamlRequestError."""
        server = self._server()
        if 'SAMLRequest' not in query:
            raise SamlRequestError(_('No log-out request was received.'))
        try:
            message = server.parse_logout_request(
                query['SAMLRequest'],
                BINDING_HTTP_REDIRECT,
                relay_state=query.get('RelayState'),
                sigalg=query.get('SigAlg'),
                signature=query.get('Signature'),
            ).message
        except Exception as exc:
            log.warning('refused LogoutRequest: %r', exc)
            raise SamlRequestError(
                _('The log-out request could not be verified.'), repr(exc)
            ) from exc
        return LogoutRequestInfo(
            message=message,
            sp_entity_id=message.issuer.text.strip(),
            civil_id=message.name_id.text.strip() if message.name_id is not None else '',
            session_indexes=tuple(index.text for index in message.session_index),
            relay_state=query.get('RelayState') or '',
        )

    def logout_response_url(self, request: LogoutRequestInfo):
        """Where to send the browser with the signed LogoutResponse to `request`."""
        server = self._server()
        response = server.create_logout_response(
            request.message, [BINDING_HTTP_REDIRECT], sign=False
        )
        return _location(
            server.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(response),
                response.destination,
                request.relay_state,
                response=True,
                sign=True,
                sigalg=SIG_RSA_SHA256,
            )
        )

    def logout_request_url(self, session):
        """An IdP-initiated signed LogoutRequest for an issued session: (request ID, URL)."""
        server = self._server()
        endpoints = server.metadata.single_logout_service(
            session.sp_entity_id, BINDING_HTTP_REDIRECT, 'spsso'
        )
        if not endpoints:
            raise SamlRequestError(_('The portal does not accept log-out requests.'))
        destination = endpoints[0]['location']
        expires = _instant(datetime.now(UTC) + LOGOUT_REQUEST_LIFETIME)
        request_id, request = server.create_logout_request(
            destination,
            session.sp_entity_id,
            name_id=self.name_id(session.civil_id, session.sp_entity_id),
            session_indexes=[session.session_index],
            expire=expires,
            sign=False,
        )
        url = _location(
            server.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(request),
                destination,
                '',
                sign=True,
                sigalg=SIG_RSA_SHA256,
            )
        )
        return request_id, url

    def read_logout_response(self, query):
        """(InResponseTo, succeeded) of the SP's signed LogoutResponse, or SamlRequestError."""
        server = self._server()
        try:
            response = samlp.logout_response_from_string(
                decode_base64_and_inflate(query['SAMLResponse'])
            )
            sp_entity_id = response.issuer.text.strip()
            certificates = server.metadata.certs(sp_entity_id, 'spsso', 'signing')
            signed = {
                name: query[name]
                for name in ('SAMLResponse', 'RelayState', 'SigAlg', 'Signature')
                if name in query
            }
            if not any(
                verify_redirect_signature(signed, server.sec.sec_backend, certificate)
                for _name, certificate in certificates
            ):
                raise ValueError('LogoutResponse signature does not verify')
        except Exception as exc:
            log.warning('refused LogoutResponse: %r', exc)
            raise SamlRequestError(
                _("The portal's log-out answer could not be verified."), repr(exc)
            ) from exc
        return response.in_response_to, response.status.status_code.value == samlp.STATUS_SUCCESS


def _offered_methods(requested):
    """The methods satisfying a RequestedAuthnContext; both when it does not restrict them."""
    if requested is None or requested.comparison not in (None, 'exact'):
        return METHODS
    wanted = {(reference.text or '').strip() for reference in requested.authn_context_class_ref}
    return tuple(method for method in METHODS if AUTHN_CONTEXTS[method] in wanted)


def _forge_civil_number(xml, civil_id):
    """Change the signed CivilNumber attribute value, as an attacker would."""
    start = xml.index('Name="CivilNumber"')
    value = xml.index(f'>{civil_id}<', start)
    return f'{xml[:value]}>{_FORGED_CIVIL_ID}<{xml[value + len(civil_id) + 2 :]}'
