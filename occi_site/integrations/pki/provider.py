"""The portal's SAML service provider: what it sends to the PKI IdP, and how it reads the answers.

Login is Web SSO with an HTTP-Redirect AuthnRequest and an HTTP-POST Response; single log-out
goes both ways over HTTP-Redirect. pysaml2 builds and signs our messages; `checks` decides
whether to believe an answer, `redirect` verifies the redirect-binding signatures.
"""

import logging
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name, md, samlp
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.extension.algsupport import DigestMethod, SigningMethod
from saml2.ident import code as encode_name_id
from saml2.ident import decode as decode_name_id
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.saml import (
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_UNSPECIFIED,
    AuthnContextClassRef,
    NameID,
    Subject,
)
from saml2.samlp import RequestedAuthnContext
from saml2.sigver import security_context
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from . import checks
from .checks import CLOCK_SKEW, LOGOUT_REQUEST_LIFETIME
from .errors import LOGOUT_REPLAY, PkiError, PkiSetupError
from .redirect import verified_redirect

log = logging.getLogger(__name__)


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
            raise PkiError('idp_unavailable', f'no IdP metadata: {exc}') from exc
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._loaded is None or self._loaded[0] != stamp:
                try:
                    client = Saml2Client(config=self._config(with_idp_metadata=True))
                except Exception as exc:
                    raise PkiError('idp_unavailable', f'IdP metadata unusable: {exc}') from exc
                providers = client.metadata.identity_providers()
                if len(providers) != 1:
                    raise PkiError(
                        'idp_unavailable',
                        f'{len(providers)} identity providers in {self.idp_metadata_file}',
                    )
                self._loaded = (stamp, client, providers[0])
            return self._loaded[1], self._loaded[2]

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
        xml, root, response = checks.parse_response(saml_response)
        request_id = response.in_response_to
        try:
            method = checks.check_response(self, response, idp, expected_request_ids)
            checks.check_structure(root)
            assertion = response.assertion[0]
            checks.check_signatures(client, idp, xml, response, assertion)
            authentication = checks.read_assertion(self, assertion, idp, request_id, method)
        except PkiError as error:
            error.in_response_to = request_id
            log.warning('PKI login refused (%s): %s', error.reason, error.detail)
            raise
        if replay_cache.seen_before(
            authentication.assertion_id, checks.remember_until(self, assertion)
        ):
            log.warning('PKI login refused (replay): assertion %s', authentication.assertion_id)
            raise PkiError('replay', authentication.assertion_id, in_response_to=request_id)
        return authentication

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
        xml, _values = verified_redirect(
            query, 'SAMLResponse', checks.idp_certificates(client, idp)
        )
        checks.read_logout_response(self, xml, idp, expected_request_ids)

    def answer_logout_request(self, query, *, replay_cache):
        """Check an IdP-initiated LogoutRequest (signature required) and answer it.

        Each LogoutRequest is accepted once: its ID goes into `replay_cache` until the
        request expires (its NotOnOrAfter, and at most LOGOUT_REQUEST_LIFETIME after its
        IssueInstant). Returns an IdpLogout: end the portal session whose Authentication
        has that name_id and, when session_indexes is not empty, one of those session
        indexes; then send the browser to redirect_url (a signed LogoutResponse).
        """
        client, idp = self._idp()
        xml, values = verified_redirect(query, 'SAMLRequest', checks.idp_certificates(client, idp))
        request, ends = checks.read_logout_request(self, xml, idp)
        if replay_cache.seen_before('logout:' + request.id, ends + self.clock_skew):
            raise PkiError(
                'replay', f'LogoutRequest {request.id} seen before', message=LOGOUT_REPLAY
            )
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
            raise PkiError('idp_unavailable', 'IdP has no HTTP-Redirect logout endpoint')
        return endpoints[0]['location']
