"""PKI login: the portal as a SAML 2.0 service provider of the national PKI identity provider.

Members prove who they are with their civil ID card or their Mobile ID at the identity
provider (IdP); the IdP answers with a signed assertion naming their civil ID. This module is
the portal's side of that exchange (Web SSO with an HTTP-Redirect AuthnRequest and an
HTTP-POST Response, Single Log-Out over HTTP-Redirect), built on pysaml2 with Debian's xmlsec1.

pysaml2 builds and signs our messages and verifies XML signatures against the certificates in
the IdP's metadata. Every rule about *whether to believe* an answer is checked here, in one
place, because pysaml2 leaves several of them to the caller: the request the answer belongs
to, replays, the authentication method, and which assertion the verified signature covers.

Nothing here assumes the bundled development IdP: any standard IdP described by its metadata
file will do. The login hint (a Mobile ID number) travels the standard way, as the
AuthnRequest's <Subject><NameID Format="...:unspecified"> (the IdP may ignore it).
"""

import base64
import binascii
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import unquote_plus, urlencode

import defusedxml
import defusedxml.ElementTree
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pyramid.i18n import TranslationStringFactory
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, SAMLError, class_name, md, samlp
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.extension.algsupport import DigestMethod, SigningMethod
from saml2.ident import code as encode_name_id
from saml2.ident import decode as decode_name_id
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.s_utils import decode_base64_and_inflate
from saml2.saml import (
    NAMEID_FORMAT_ENTITY,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_UNSPECIFIED,
    SCM_BEARER,
    AuthnContextClassRef,
    NameID,
    Subject,
)
from saml2.samlp import STATUS_SUCCESS, RequestedAuthnContext
from saml2.sigver import SigverError, security_context
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512

_ = TranslationStringFactory('occi_site')
log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(seconds=90)
LOGOUT_REQUEST_LIFETIME = timedelta(minutes=5)

_NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion'
_NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol'
_NS_DSIG = 'http://www.w3.org/2000/09/xmldsig#'
_RESPONSE = f'{{{_NS_PROTOCOL}}}Response'
_ASSERTION = f'{{{_NS_ASSERTION}}}Assertion'
_ENCRYPTED_ASSERTION = f'{{{_NS_ASSERTION}}}EncryptedAssertion'
_SIGNATURE = f'{{{_NS_DSIG}}}Signature'
_X509_CERTIFICATE = f'{{{_NS_DSIG}}}X509Certificate'
_SUB_MICROSECONDS = re.compile(r'(\.\d{6})\d+')

# Redirect-binding signatures we accept from the IdP; RSA-SHA1 is deliberately absent.
_REDIRECT_SIGNATURE_HASHES = {
    SIG_RSA_SHA256: hashes.SHA256,
    SIG_RSA_SHA384: hashes.SHA384,
    SIG_RSA_SHA512: hashes.SHA512,
}

_MESSAGES = {
    'idp_unavailable': _(
        'The PKI login service is not available at the moment. Please try again later.'
    ),
    'malformed': _('The answer from the PKI login service could not be read. Please log in again.'),
    'unsolicited': _(
        'This login was not started from this browser, or it has already been completed. '
        'Please log in again.'
    ),
    'status': _('The PKI login service did not confirm your identity.'),
    'untrusted': _(
        'The answer from the PKI login service could not be trusted. Please log in again.'
    ),
    'expired': _(
        "The login took too long, or your computer's clock is wrong. Please log in again."
    ),
    'replay': _('This login answer has already been used. Please log in again.'),
    'context': _(
        'This step needs a login with the method that was asked for. Please log in again.'
    ),
    'weak_context': _(
        'The PKI login service confirmed your identity with a way of logging in that the '
        'portal does not accept. Please log in again with your smart card or Mobile ID.'
    ),
    'logout_replay': _('This log-out message has already been used.'),
    'no_civil_id': _('The PKI login service did not give your civil ID number.'),
}


class PkiError(Exception):
    """A PKI exchange that must not be trusted or could not be completed.

    `reason` is a short machine code for logs and tests, `message` a TranslationString that may
    be shown to the user, `detail` the technical explanation (for logs only), `in_response_to`
    the request ID the refused answer named, when it named one.
    """

    def __init__(self, reason, message_key, detail='', *, in_response_to=None):
        super().__init__(f'{reason}: {detail}' if detail else reason)
        self.reason = reason
        self.message = _MESSAGES[message_key]
        self.detail = detail
        self.in_response_to = in_response_to


class PkiSetupError(RuntimeError):
    """The PKI login cannot work on this machine (reported at portal start-up)."""


class ReplayCache(Protocol):
    def seen_before(self, assertion_id: str, not_on_or_after: datetime) -> bool:
        """Record `assertion_id` until `not_on_or_after`; True if it was already recorded."""


def _utc_now():
    return datetime.now(UTC)


class MemoryReplayCache:
    """A replay cache for one process (tests, single-process development)."""

    def __init__(self, clock: Callable[[], datetime] | None = None):
        self._clock = clock or _utc_now
        self._expiries: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def seen_before(self, assertion_id, not_on_or_after):
        now = self._clock()
        with self._lock:
            self._expiries = {key: until for key, until in self._expiries.items() if until > now}
            if assertion_id in self._expiries:
                return True
            self._expiries[assertion_id] = not_on_or_after
            return False


@dataclass(frozen=True)
class LoginRequest:
    """A signed AuthnRequest: send the browser to `redirect_url`; keep `request_id` (and the
    `method` asked for) in the session for complete_login."""

    request_id: str
    redirect_url: str
    method: str | None = None


@dataclass(frozen=True)
class Authentication:
    """Who the IdP says logged in, and how. `name_id` is an opaque string for the session,
    handed back to begin_logout and compared with answer_logout_request's result."""

    civil_id: str
    name_id: str
    session_index: str | None
    assertion_id: str
    authn_context: str
    method: str
    issuer: str
    authenticated_at: datetime
    not_on_or_after: datetime
    in_response_to: str
    attributes: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class IdpLogout:
    """An IdP-initiated LogoutRequest, checked: whom it logs out, and where its answer goes."""

    name_id: str
    session_indexes: tuple[str, ...]
    redirect_url: str

    def names(self, name_id, session_index):
        """True if this logs out the session authenticated as `name_id` / `session_index`."""
        if name_id != self.name_id:
            return False
        return not self.session_indexes or session_index in self.session_indexes


def _parse_instant(value, what):
    """An xs:dateTime as an aware datetime; finer than microseconds (.NET IdPs) is cut off."""
    if not value:
        raise PkiError('malformed', 'malformed', f'missing {what}')
    try:
        moment = datetime.fromisoformat(_SUB_MICROSECONDS.sub(r'\1', value.strip()))
    except ValueError as exc:
        raise PkiError('malformed', 'malformed', f'bad {what}: {value!r}') from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_xml(xml: bytes):
    """Parse an incoming message, refusing DTDs outright (XXE, entity expansion)."""
    try:
        return defusedxml.ElementTree.fromstring(xml, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise PkiError('doctype', 'malformed', type(exc).__name__) from exc
    except defusedxml.ElementTree.ParseError as exc:
        raise PkiError('malformed', 'malformed', f'not XML: {exc}') from exc


def _check_response_structure(root):
    """Refuse the shapes used for signature wrapping.

    A verified signature only vouches for the element its Reference points at. Requiring one
    assertion, placed as a child of the Response, unique IDs and no other signatures means the
    assertion we read afterwards can only be the one whose signature was verified.
    """
    if next(root.iter(_ENCRYPTED_ASSERTION), None) is not None:
        raise PkiError('unsupported', 'untrusted', 'encrypted assertions are not accepted')
    ids = [element.get('ID') for element in root.iter() if element.get('ID') is not None]
    if len(ids) != len(set(ids)):
        raise PkiError('wrapping', 'untrusted', 'duplicate ID attributes')
    assertions = list(root.iter(_ASSERTION))
    if not assertions:
        raise PkiError('malformed', 'malformed', 'successful Response without an assertion')
    if len(assertions) != 1 or assertions[0] not in list(root):
        raise PkiError(
            'wrapping', 'untrusted', f'{len(assertions)} assertions, or not a child of the Response'
        )
    allowed = {
        id(child) for parent in (root, assertions[0]) for child in parent if child.tag == _SIGNATURE
    }
    if any(id(signature) not in allowed for signature in root.iter(_SIGNATURE)):
        raise PkiError('wrapping', 'untrusted', 'signature outside its enveloping element')


def _same_certificate(left, right):
    return ''.join(left.split()) == ''.join(right.split())


def _signed_query(query, message_key):
    """The signed octets of an HTTP-Redirect message and its decoded parameters.

    With the raw query string the octets are exactly what the sender signed; a mapping of
    decoded values is re-encoded the usual way (quote_plus), which fits most IdPs.
    """
    order = (message_key, 'RelayState', 'SigAlg')
    if isinstance(query, str):
        raw, values = {}, {}
        for piece in query.split('&'):
            name, _sep, value = piece.partition('=')
            name = unquote_plus(name)
            if name in raw:
                raise PkiError('malformed', 'malformed', f'repeated parameter {name}')
            raw[name] = piece
            values[name] = unquote_plus(value)
        octets = '&'.join(raw[name] for name in order if name in raw)
    else:
        values = dict(query)
        octets = '&'.join(urlencode({name: values[name]}) for name in order if name in values)
    if message_key not in values:
        raise PkiError('malformed', 'malformed', f'no {message_key}')
    return octets.encode('ascii', 'replace'), values


class PkiServiceProvider:
    """The portal's SAML service provider for the PKI IdP named by `idp_metadata_file`.

    `accepted_contexts` maps the portal's login methods ("card", "mobile") to the
    AuthnContextClassRef the IdP reports for each; answers with any other context are refused.
    `civil_id_attribute` names the attribute carrying the civil ID, or "nameid" for the NameID.
    The IdP metadata file is read on first use and again whenever it changes.
    """

    def __init__(
        self,
        *,
        entity_id,
        acs_url,
        sls_url,
        key_file,
        cert_file,
        idp_metadata_file,
        civil_id_attribute,
        accepted_contexts,
        xmlsec_binary='/usr/bin/xmlsec1',
        clock=None,
        clock_skew=CLOCK_SKEW,
    ):
        self.entity_id = entity_id
        self.acs_url = acs_url
        self.sls_url = sls_url
        self.key_file = key_file
        self.cert_file = cert_file
        self.idp_metadata_file = idp_metadata_file
        self.civil_id_attribute = civil_id_attribute
        self.accepted_contexts = dict(accepted_contexts)
        self.xmlsec_binary = xmlsec_binary
        self.clock = clock or _utc_now
        self.clock_skew = clock_skew
        self._lock = threading.Lock()
        self._loaded = None

    # -- configuration --------------------------------------------------------------------

    def _config(self, with_idp_metadata):
        settings = {
            'entityid': self.entity_id,
            'xmlsec_binary': self.xmlsec_binary,
            'key_file': self.key_file,
            'cert_file': self.cert_file,
            'metadata_key_usage': 'signing',
            'only_use_keys_in_metadata': True,
            'signing_algorithm': SIG_RSA_SHA256,
            'digest_algorithm': DIGEST_SHA256,
            'service': {
                'sp': {
                    'endpoints': {
                        'assertion_consumer_service': [(self.acs_url, BINDING_HTTP_POST)],
                        'single_logout_service': [(self.sls_url, BINDING_HTTP_REDIRECT)],
                    },
                    'authn_requests_signed': True,
                    'logout_requests_signed': True,
                    'want_assertions_signed': True,
                    'want_response_signed': False,
                    'allow_unsolicited': False,
                    'name_id_format': [NAMEID_FORMAT_PERSISTENT],
                },
            },
        }
        if with_idp_metadata:
            settings['metadata'] = {'local': [self.idp_metadata_file]}
        return SPConfig().load(settings)

    def _idp(self):
        """(Saml2Client, IdP entity ID), rebuilt when the IdP metadata file changes."""
        try:
            stat = os.stat(self.idp_metadata_file)
        except OSError as exc:
            raise PkiError('idp_unavailable', 'idp_unavailable', f'no IdP metadata: {exc}') from exc
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._loaded is None or self._loaded[0] != stamp:
                try:
                    client = Saml2Client(config=self._config(with_idp_metadata=True))
                except Exception as exc:
                    raise PkiError(
                        'idp_unavailable', 'idp_unavailable', f'IdP metadata unusable: {exc}'
                    ) from exc
                providers = client.metadata.identity_providers()
                if len(providers) != 1:
                    raise PkiError(
                        'idp_unavailable',
                        'idp_unavailable',
                        f'{len(providers)} identity providers in {self.idp_metadata_file}',
                    )
                self._loaded = (stamp, client, providers[0])
            return self._loaded[1], self._loaded[2]

    def _idp_certificates(self, client, idp):
        return [cert for _name, cert in client.metadata.certs(idp, 'idpsso', 'signing')]

    def check_xmlsec(self):
        """Sign and verify a message with xmlsec1 and our key pair; PkiSetupError if that fails."""
        try:
            subprocess.run(
                [self.xmlsec_binary, '--version'], check=True, capture_output=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PkiSetupError(
                f'xmlsec1 is missing or broken at {self.xmlsec_binary} '
                f'(apt-get install xmlsec1): {exc}'
            ) from exc
        try:
            client = Saml2Client(config=self._config(with_idp_metadata=False))
            request_id, signed_request = client.create_authn_request(
                destination=self.acs_url, sign=True
            )
            verified = client.sec.verify_signature(
                signed_request,
                self.cert_file,
                node_name=class_name(samlp.AuthnRequest()),
                node_id=request_id,
            )
        except Exception as exc:
            raise PkiSetupError(
                f'xmlsec1 cannot sign with {self.key_file} / {self.cert_file}: {exc}'
            ) from exc
        if not verified:
            raise PkiSetupError(f'xmlsec1 could not verify a signature made with {self.key_file}')

    def metadata_xml(self):
        """The portal's SP metadata, signed with its own key."""
        config = self._config(with_idp_metadata=False)
        descriptor = entity_descriptor(config)
        # pysaml2 advertises every algorithm xmlsec1 knows, MD5 and SHA-1 included; we use these.
        descriptor.extensions = md.Extensions()
        descriptor.extensions.add_extension_element(DigestMethod(algorithm=DIGEST_SHA256))
        descriptor.extensions.add_extension_element(SigningMethod(algorithm=SIG_RSA_SHA256))
        _descriptor, xml = sign_entity_descriptor(
            descriptor, None, security_context(config), SIG_RSA_SHA256, DIGEST_SHA256
        )
        return xml

    # -- login ----------------------------------------------------------------------------

    def begin_login(self, *, method=None, login_hint=None, force_authn=False, relay_state=''):
        """A signed AuthnRequest over HTTP-Redirect.

        `method` ("card"/"mobile") asks for exactly that method; without it, any accepted one.
        `login_hint` (a Mobile ID number) is sent as the request's Subject NameID.
        `force_authn` asks for a fresh authentication (step-up before a service request).
        """
        if method is not None and method not in self.accepted_contexts:
            raise ValueError(f'unknown login method {method!r}')
        client, idp = self._idp()
        contexts = (
            [self.accepted_contexts[method]] if method else list(self.accepted_contexts.values())
        )
        extra = {}
        if login_hint:
            extra['subject'] = Subject(
                name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=login_hint)
            )
        request_id, info = client.prepare_for_authenticate(
            entityid=idp,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            sign=True,
            sigalg=SIG_RSA_SHA256,
            nameid_format=NAMEID_FORMAT_PERSISTENT,
            requested_authn_context=RequestedAuthnContext(
                authn_context_class_ref=[
                    AuthnContextClassRef(text=context) for context in contexts
                ],
                comparison='exact',
            ),
            force_authn='true' if force_authn else None,
            **extra,
        )
        return LoginRequest(
            request_id=request_id, redirect_url=dict(info['headers'])['Location'], method=method
        )

    def complete_login(self, saml_response, *, expected_request_ids, replay_cache):
        """Check the IdP's POSTed SAMLResponse and say who logged in, or raise PkiError.

        `expected_request_ids` holds this browser session's outstanding request IDs: a set, or a
        mapping request ID -> the method asked for (LoginRequest.method, None for any). The
        caller removes the answered ID from the session afterwards, whether this succeeds
        (Authentication.in_response_to) or not (PkiError.in_response_to), so that each request
        is answered at most once. `replay_cache` remembers accepted assertion IDs.
        """
        client, idp = self._idp()
        try:
            xml = base64.b64decode(saml_response, validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise PkiError('malformed', 'malformed', 'SAMLResponse is not base64') from exc
        root = _parse_xml(xml)
        if root.tag != _RESPONSE:
            raise PkiError('malformed', 'malformed', f'not a Response: {root.tag}')
        try:
            response = samlp.response_from_string(xml)
        except Exception as exc:
            raise PkiError('malformed', 'malformed', f'unreadable Response: {exc}') from exc
        request_id = response.in_response_to
        try:
            method = self._check_response(response, idp, expected_request_ids)
            _check_response_structure(root)
            assertion = response.assertion[0]
            self._check_signatures(client, idp, xml, root, response, assertion)
            authentication = self._read_assertion(assertion, idp, request_id, method)
        except PkiError as error:
            error.in_response_to = request_id
            log.warning('PKI login refused (%s): %s', error.reason, error.detail)
            raise
        if replay_cache.seen_before(authentication.assertion_id, self._remember_until(assertion)):
            log.warning('PKI login refused (replay): assertion %s', authentication.assertion_id)
            raise PkiError(
                'replay', 'replay', authentication.assertion_id, in_response_to=request_id
            )
        return authentication

    def _check_response(self, response, idp, expected_request_ids):
        """The Response envelope; returns the method the answered request asked for."""
        if response.version != '2.0':
            raise PkiError('malformed', 'malformed', f'SAML version {response.version}')
        if response.issuer is not None and not self._is_idp(response.issuer, idp):
            raise PkiError('wrong_issuer', 'untrusted', f'Response issuer {response.issuer.text!r}')
        request_id = response.in_response_to
        if not request_id:
            raise PkiError('unsolicited', 'unsolicited', 'Response without InResponseTo')
        if request_id not in expected_request_ids:
            raise PkiError(
                'unknown_request',
                'unsolicited',
                f'InResponseTo {request_id!r} not outstanding here',
            )
        if response.destination and response.destination != self.acs_url:
            raise PkiError(
                'wrong_destination', 'untrusted', f'Destination {response.destination!r}'
            )
        codes, code = [], response.status.status_code if response.status is not None else None
        while code is not None:
            codes.append(code.value)
            code = code.status_code
        if codes[:1] != [STATUS_SUCCESS]:
            raise PkiError('status', 'status', ' / '.join(codes) or 'no status')
        if isinstance(expected_request_ids, Mapping):
            return expected_request_ids[request_id]
        return None

    def _is_idp(self, issuer, idp):
        return (issuer.text or '').strip() == idp and issuer.format in (None, NAMEID_FORMAT_ENTITY)

    def _check_signatures(self, client, idp, xml, root, response, assertion):
        # xmlsec1 is told to ignore certificates inside signatures; refusing foreign ones
        # outright also names the attack in the log.
        certificates = self._idp_certificates(client, idp)
        for embedded in root.iter(_X509_CERTIFICATE):
            if not any(_same_certificate(embedded.text or '', known) for known in certificates):
                raise PkiError(
                    'bad_signature',
                    'untrusted',
                    'signed with a certificate not in the IdP metadata',
                )
        if response.signature is not None:
            self._verify_signature(client, xml, response)
        if assertion.signature is None:
            raise PkiError('unsigned', 'untrusted', 'assertion is not signed')
        if assertion.issuer is None or not self._is_idp(assertion.issuer, idp):
            issuer = assertion.issuer.text if assertion.issuer is not None else None
            raise PkiError('wrong_issuer', 'untrusted', f'assertion issuer {issuer!r}')
        self._verify_signature(client, xml, assertion)

    def _verify_signature(self, client, xml, item):
        """Verify `item`'s enveloped signature with the IdP's metadata certificates only."""
        try:
            client.sec.check_signature(item, class_name(item), origdoc=xml, must=True)
        except (SigverError, SAMLError) as exc:
            raise PkiError('bad_signature', 'untrusted', f'{class_name(item)}: {exc}') from exc

    def _read_assertion(self, assertion, idp, request_id, method):
        now = self.clock()
        not_on_or_after = self._check_subject_confirmation(assertion, request_id, now)
        self._check_conditions(assertion, now)
        statements = assertion.authn_statement
        if len(statements) != 1:
            raise PkiError('malformed', 'malformed', f'{len(statements)} AuthnStatements')
        statement = statements[0]
        if statement.session_not_on_or_after and (
            _parse_instant(statement.session_not_on_or_after, 'SessionNotOnOrAfter')
            <= now - self.clock_skew
        ):
            raise PkiError('expired', 'expired', 'SessionNotOnOrAfter passed')
        context = self._authn_context(statement, method)
        attributes = {}
        for attribute_statement in assertion.attribute_statement:
            for attribute in attribute_statement.attribute:
                values = [value.text or '' for value in attribute.attribute_value]
                attributes.setdefault(attribute.name, []).extend(values)
        name_id = assertion.subject.name_id
        if self.civil_id_attribute == 'nameid':
            civil_id = (name_id.text or '').strip() if name_id is not None else ''
        else:
            civil_id = next(
                (value.strip() for value in attributes.get(self.civil_id_attribute, [])), ''
            )
        if not civil_id:
            raise PkiError('no_civil_id', 'no_civil_id', f'no {self.civil_id_attribute}')
        if name_id is None:
            raise PkiError('malformed', 'malformed', 'no NameID')
        return Authentication(
            civil_id=civil_id,
            name_id=encode_name_id(name_id),
            session_index=statement.session_index,
            assertion_id=assertion.id,
            authn_context=context,
            method=next(name for name, ref in self.accepted_contexts.items() if ref == context),
            issuer=idp,
            authenticated_at=_parse_instant(statement.authn_instant, 'AuthnInstant'),
            not_on_or_after=not_on_or_after,
            in_response_to=request_id,
            attributes=attributes,
        )

    def _check_subject_confirmation(self, assertion, request_id, now):
        """A bearer confirmation for our ACS and this request, still valid; returns its end."""
        subject = assertion.subject
        if subject is None:
            raise PkiError('malformed', 'malformed', 'assertion without Subject')
        problems = []
        for confirmation in subject.subject_confirmation:
            data = confirmation.subject_confirmation_data
            if confirmation.method != SCM_BEARER or data is None:
                problems.append(
                    PkiError('malformed', 'malformed', 'no bearer SubjectConfirmationData')
                )
            elif data.recipient != self.acs_url:
                problems.append(
                    PkiError('wrong_recipient', 'untrusted', f'Recipient {data.recipient!r}')
                )
            elif data.in_response_to != request_id:
                problems.append(
                    PkiError(
                        'in_response_to_mismatch',
                        'untrusted',
                        f'confirmation for {data.in_response_to!r}, Response for {request_id!r}',
                    )
                )
            elif data.not_before:
                problems.append(
                    PkiError('malformed', 'malformed', 'bearer confirmation with NotBefore')
                )
            else:
                until = _parse_instant(data.not_on_or_after, 'SubjectConfirmationData NotOnOrAfter')
                if until > now - self.clock_skew:
                    return until
                problems.append(
                    PkiError('expired', 'expired', f'confirmation ended {until.isoformat()}')
                )
        raise (
            problems[0]
            if problems
            else PkiError('malformed', 'malformed', 'no SubjectConfirmation')
        )

    def _check_conditions(self, assertion, now):
        conditions = assertion.conditions
        if conditions is None:
            raise PkiError('malformed', 'malformed', 'assertion without Conditions')
        if (
            conditions.not_before
            and _parse_instant(conditions.not_before, 'NotBefore') > now + self.clock_skew
        ):
            raise PkiError('not_yet_valid', 'expired', f'NotBefore {conditions.not_before}')
        if (
            conditions.not_on_or_after
            and _parse_instant(conditions.not_on_or_after, 'NotOnOrAfter') <= now - self.clock_skew
        ):
            raise PkiError('expired', 'expired', f'NotOnOrAfter {conditions.not_on_or_after}')
        restrictions = conditions.audience_restriction
        if not restrictions:
            raise PkiError('wrong_audience', 'untrusted', 'no AudienceRestriction')
        for restriction in restrictions:
            audiences = [(audience.text or '').strip() for audience in restriction.audience]
            if self.entity_id not in audiences:
                raise PkiError('wrong_audience', 'untrusted', f'audiences {audiences}')

    def _authn_context(self, statement, method):
        context = statement.authn_context
        reference = context.authn_context_class_ref if context is not None else None
        class_ref = (reference.text or '').strip() if reference is not None else ''
        if class_ref not in self.accepted_contexts.values():
            raise PkiError(
                'weak_context', 'weak_context', f'AuthnContextClassRef {class_ref!r} not accepted'
            )
        if method is not None and class_ref != self.accepted_contexts[method]:
            raise PkiError('wrong_context', 'context', f'asked for {method}, got {class_ref!r}')
        return class_ref

    def _remember_until(self, assertion):
        ends = [assertion.conditions.not_on_or_after] + [
            confirmation.subject_confirmation_data.not_on_or_after
            for confirmation in assertion.subject.subject_confirmation
            if confirmation.subject_confirmation_data is not None
        ]
        return max(_parse_instant(end, 'NotOnOrAfter') for end in ends if end) + self.clock_skew

    # -- single log-out -------------------------------------------------------------------

    def begin_logout(self, *, name_id, session_index, relay_state=''):
        """A signed LogoutRequest over HTTP-Redirect: (request ID, URL to send the browser to)."""
        client, idp = self._idp()
        destination = self._idp_logout_url(client, idp)
        request_id, request = client.create_logout_request(
            destination,
            idp,
            name_id=decode_name_id(name_id),
            session_indexes=[session_index] if session_index else None,
            expire=(self.clock() + LOGOUT_REQUEST_LIFETIME).strftime('%Y-%m-%dT%H:%M:%SZ'),
            sign=False,
        )
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(request),
            destination,
            relay_state,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        return request_id, dict(info['headers'])['Location']

    def complete_logout(self, query, *, expected_request_ids):
        """Check the IdP's LogoutResponse (the query string of the SLS request, raw or as a
        mapping); raises PkiError unless it is signed, ours and successful."""
        client, idp = self._idp()
        values = self._verified_redirect(client, idp, query, 'SAMLResponse')
        xml = self._inflate(values['SAMLResponse'])
        try:
            response = samlp.logout_response_from_string(xml)
        except Exception as exc:
            raise PkiError('malformed', 'malformed', f'unreadable LogoutResponse: {exc}') from exc
        if response is None:
            raise PkiError('malformed', 'malformed', 'not a LogoutResponse')
        if response.issuer is None or not self._is_idp(response.issuer, idp):
            raise PkiError('wrong_issuer', 'untrusted', 'LogoutResponse issuer')
        if not response.in_response_to or response.in_response_to not in expected_request_ids:
            raise PkiError(
                'unknown_request', 'unsolicited', f'LogoutResponse to {response.in_response_to!r}'
            )
        if response.destination and response.destination != self.sls_url:
            raise PkiError(
                'wrong_destination', 'untrusted', f'Destination {response.destination!r}'
            )
        if response.status is None or response.status.status_code.value != STATUS_SUCCESS:
            raise PkiError('status', 'status', 'logout not successful')

    def answer_logout_request(self, query, *, replay_cache):
        """Check an IdP-initiated LogoutRequest (signature required) and answer it.

        Each LogoutRequest is accepted once: its ID goes into `replay_cache` until the
        request expires (its NotOnOrAfter, and at most LOGOUT_REQUEST_LIFETIME after its
        IssueInstant). Returns an IdpLogout: end the portal session whose Authentication
        has that name_id and, when session_indexes is not empty, one of those session
        indexes; then send the browser to redirect_url (a signed LogoutResponse).
        """
        client, idp = self._idp()
        values = self._verified_redirect(client, idp, query, 'SAMLRequest')
        xml = self._inflate(values['SAMLRequest'])
        try:
            request = samlp.logout_request_from_string(xml)
        except Exception as exc:
            raise PkiError('malformed', 'malformed', f'unreadable LogoutRequest: {exc}') from exc
        if request is None or request.name_id is None or not request.id:
            raise PkiError('malformed', 'malformed', 'not a LogoutRequest with an ID and a NameID')
        if request.issuer is None or not self._is_idp(request.issuer, idp):
            raise PkiError('wrong_issuer', 'untrusted', 'LogoutRequest issuer')
        if request.destination and request.destination != self.sls_url:
            raise PkiError('wrong_destination', 'untrusted', f'Destination {request.destination!r}')
        now = self.clock()
        issued = _parse_instant(request.issue_instant, 'IssueInstant')
        if issued > now + self.clock_skew:
            raise PkiError('not_yet_valid', 'expired', f'IssueInstant {request.issue_instant}')
        ends = issued + LOGOUT_REQUEST_LIFETIME
        if request.not_on_or_after:
            ends = min(ends, _parse_instant(request.not_on_or_after, 'NotOnOrAfter'))
        if ends <= now - self.clock_skew:
            raise PkiError('expired', 'expired', 'LogoutRequest expired')
        if replay_cache.seen_before('logout:' + request.id, ends + self.clock_skew):
            raise PkiError('replay', 'logout_replay', f'LogoutRequest {request.id} seen before')
        response = client.create_logout_response(request, [BINDING_HTTP_REDIRECT], sign=False)
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            response.destination,
            values.get('RelayState', ''),
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        return IdpLogout(
            name_id=encode_name_id(request.name_id),
            session_indexes=tuple(
                (index.text or '').strip() for index in request.session_index or ()
            ),
            redirect_url=dict(info['headers'])['Location'],
        )

    def _idp_logout_url(self, client, idp):
        endpoints = client.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, 'idpsso')
        if not endpoints:
            raise PkiError(
                'idp_unavailable', 'idp_unavailable', 'IdP has no HTTP-Redirect logout endpoint'
            )
        return endpoints[0]['location']

    def _verified_redirect(self, client, idp, query, message_key):
        octets, values = _signed_query(query, message_key)
        if 'Signature' not in values or 'SigAlg' not in values:
            raise PkiError('unsigned', 'untrusted', f'unsigned {message_key}')
        algorithm = _REDIRECT_SIGNATURE_HASHES.get(values['SigAlg'])
        if algorithm is None:
            raise PkiError(
                'bad_signature', 'untrusted', f'signature algorithm {values["SigAlg"]!r}'
            )
        try:
            signature = base64.b64decode(values['Signature'], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PkiError('bad_signature', 'untrusted', 'Signature is not base64') from exc
        for certificate in self._idp_certificates(client, idp):
            key = x509.load_der_x509_certificate(
                base64.b64decode(''.join(certificate.split()))
            ).public_key()
            try:
                key.verify(signature, octets, padding.PKCS1v15(), algorithm())
            except InvalidSignature:
                continue
            return values
        raise PkiError('bad_signature', 'untrusted', f'{message_key} signature does not verify')

    @staticmethod
    def _inflate(encoded):
        try:
            xml = decode_base64_and_inflate(encoded)
        except Exception as exc:
            raise PkiError('malformed', 'malformed', 'message is not deflated base64') from exc
        _parse_xml(xml)
        return xml
