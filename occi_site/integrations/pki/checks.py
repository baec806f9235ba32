"""The checks of the IdP's answers: whether to believe a login Response or a log-out message.

pysaml2 parses the messages and verifies their XML signatures (`verify_signature`), which it
does well: only with the keys in the IdP's metadata, never with a certificate the message
carries, and only for an enveloped signature whose one Reference names the signed element.

The profile's rules are checked here rather than left to pysaml2's AuthnResponse, whose checks
are laxer than the portal needs: it accepts an answer without AudienceRestriction or
Conditions and one that names us in any of several AudienceRestrictions, checks the
Recipient only when told the conversation, ignores an ended SessionNotOnOrAfter, reads the
wall clock and drops time-zone offsets, and reports an unknown request and an assertion
confirming another request alike. Here also: the shapes used for signature wrapping, replays
(with the caller's cache) and the authentication method. `sp` is the PkiServiceProvider whose
settings apply.
"""

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import defusedxml
import defusedxml.ElementTree
from saml2 import SAMLError, class_name, samlp
from saml2.ident import code as encode_name_id
from saml2.saml import NAMEID_FORMAT_ENTITY, SCM_BEARER
from saml2.samlp import STATUS_SUCCESS
from saml2.sigver import SigverError

from .errors import PkiError

CLOCK_SKEW = timedelta(seconds=90)
LOGOUT_REQUEST_LIFETIME = timedelta(minutes=5)

_NS_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion'
_NS_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol'
_NS_DSIG = 'http://www.w3.org/2000/09/xmldsig#'
_RESPONSE = f'{{{_NS_PROTOCOL}}}Response'
_ASSERTION = f'{{{_NS_ASSERTION}}}Assertion'
_ENCRYPTED_ASSERTION = f'{{{_NS_ASSERTION}}}EncryptedAssertion'
_SIGNATURE = f'{{{_NS_DSIG}}}Signature'
_SUB_MICROSECONDS = re.compile(r'(\.\d{6})\d+')


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


def parse_instant(value, what):
    """An xs:dateTime as an aware datetime; finer than microseconds (.NET IdPs) is cut off."""
    if not value:
        raise PkiError('malformed', f'missing {what}')
    try:
        moment = datetime.fromisoformat(_SUB_MICROSECONDS.sub(r'\1', value.strip()))
    except ValueError as exc:
        raise PkiError('malformed', f'bad {what}: {value!r}') from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_xml(xml: bytes):
    """Parse an incoming message, refusing DTDs outright (XXE, entity expansion)."""
    try:
        return defusedxml.ElementTree.fromstring(xml, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise PkiError('doctype', type(exc).__name__) from exc
    except defusedxml.ElementTree.ParseError as exc:
        raise PkiError('malformed', f'not XML: {exc}') from exc


def check_structure(root):
    """Refuse the shapes used for signature wrapping.

    A verified signature only vouches for the element its Reference points at. Requiring one
    assertion, placed as a child of the Response, unique IDs and no other signatures means the
    assertion we read afterwards can only be the one whose signature was verified.
    """
    if next(root.iter(_ENCRYPTED_ASSERTION), None) is not None:
        raise PkiError('unsupported', 'encrypted assertions are not accepted')
    ids = [element.get('ID') for element in root.iter() if element.get('ID') is not None]
    if len(ids) != len(set(ids)):
        raise PkiError('wrapping', 'duplicate ID attributes')
    assertions = list(root.iter(_ASSERTION))
    if not assertions:
        raise PkiError('malformed', 'successful Response without an assertion')
    if len(assertions) != 1 or assertions[0] not in list(root):
        raise PkiError('wrapping', f'{len(assertions)} assertions, or not a child of the Response')
    allowed = {
        id(child) for parent in (root, assertions[0]) for child in parent if child.tag == _SIGNATURE
    }
    if any(id(signature) not in allowed for signature in root.iter(_SIGNATURE)):
        raise PkiError('wrapping', 'signature outside its enveloping element')


def idp_certificates(client, idp):
    """The IdP's signing certificates from its metadata (base64 DER)."""
    return [cert for _name, cert in client.metadata.certs(idp, 'idpsso', 'signing')]


def parse_response(saml_response):
    """The POSTed SAMLResponse as (XML bytes, element tree, pysaml2 Response)."""
    try:
        xml = base64.b64decode(saml_response, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise PkiError('malformed', 'SAMLResponse is not base64') from exc
    root = parse_xml(xml)
    if root.tag != _RESPONSE:
        raise PkiError('malformed', f'not a Response: {root.tag}')
    try:
        response = samlp.response_from_string(xml)
    except Exception as exc:
        raise PkiError('malformed', f'unreadable Response: {exc}') from exc
    return xml, root, response


def check_response(sp, response, idp, expected_request_ids):
    """The Response envelope; returns the method the answered request asked for."""
    if response.version != '2.0':
        raise PkiError('malformed', f'SAML version {response.version}')
    if response.issuer is not None:
        check_issuer(response, idp)
    request_id = response.in_response_to
    if not request_id:
        raise PkiError('unsolicited', 'Response without InResponseTo')
    if request_id not in expected_request_ids:
        raise PkiError('unknown_request', f'InResponseTo {request_id!r} not outstanding here')
    check_destination(response, sp.acs_url)
    check_status(response)
    if isinstance(expected_request_ids, Mapping):
        return expected_request_ids[request_id]
    return None


def check_issuer(message, idp):
    """The message (or assertion) names the IdP as its issuer."""
    issuer = message.issuer
    text = (issuer.text or '').strip() if issuer is not None else None
    if text != idp or issuer.format not in (None, NAMEID_FORMAT_ENTITY):
        raise PkiError('wrong_issuer', f'{class_name(message)} issuer {text!r}')


def check_destination(message, url):
    """A message that names its destination names the endpoint it arrived at."""
    if message.destination and message.destination != url:
        raise PkiError('wrong_destination', f'Destination {message.destination!r}')


def check_status(response):
    codes, code = [], response.status.status_code if response.status is not None else None
    while code is not None:
        codes.append(code.value)
        code = code.status_code
    if codes[:1] != [STATUS_SUCCESS]:
        raise PkiError('status', ' / '.join(codes) or 'no status')


def check_signatures(client, idp, xml, response, assertion):
    """The Response's signature if it has one, and the assertion's, which it must have."""
    if response.signature is not None:
        verify_signature(client, xml, response)
    if assertion.signature is None:
        raise PkiError('unsigned', 'assertion is not signed')
    check_issuer(assertion, idp)
    verify_signature(client, xml, assertion)


def verify_signature(client, xml, item):
    """Verify `item`'s enveloped signature with the IdP's metadata certificates only.

    pysaml2 (with only_use_keys_in_metadata) hands xmlsec1 the metadata certificate and
    disables key data taken from the message, so a certificate embedded by the signer is never
    used; it also insists on one same-document Reference to the element's own ID, the
    enveloped-signature and exclusive-c14n transforms only, and no ds:Object.
    """
    try:
        client.sec.check_signature(item, class_name(item), origdoc=xml, must=True)
    except (SigverError, SAMLError) as exc:
        raise PkiError('bad_signature', f'{class_name(item)}: {exc}') from exc
    except Exception as exc:
        # pysaml2 reads the signature's parts before it checks any, and fails on a malformed
        # one as Python does (a Reference without Transforms: AttributeError): not trusted.
        raise PkiError('bad_signature', f'{class_name(item)}: unreadable signature') from exc


def read_assertion(sp, assertion, idp, request_id, method):
    now = sp.clock()
    not_on_or_after = check_subject_confirmation(sp, assertion, request_id, now)
    check_conditions(sp, assertion, now)
    statements = assertion.authn_statement
    if len(statements) != 1:
        raise PkiError('malformed', f'{len(statements)} AuthnStatements')
    statement = statements[0]
    if statement.session_not_on_or_after and (
        parse_instant(statement.session_not_on_or_after, 'SessionNotOnOrAfter')
        <= now - sp.clock_skew
    ):
        raise PkiError('expired', 'SessionNotOnOrAfter passed')
    context = authn_context(sp, statement, method)
    attributes = {}
    for attribute_statement in assertion.attribute_statement:
        for attribute in attribute_statement.attribute:
            values = [value.text or '' for value in attribute.attribute_value]
            attributes.setdefault(attribute.name, []).extend(values)
    name_id = assertion.subject.name_id
    if sp.civil_id_attribute == 'nameid':
        civil_id = (name_id.text or '').strip() if name_id is not None else ''
    else:
        civil_id = next((value.strip() for value in attributes.get(sp.civil_id_attribute, [])), '')
    if not civil_id:
        raise PkiError('no_civil_id', f'no {sp.civil_id_attribute}')
    if name_id is None:
        raise PkiError('malformed', 'no NameID')
    return Authentication(
        civil_id=civil_id,
        name_id=encode_name_id(name_id),
        session_index=statement.session_index,
        assertion_id=assertion.id,
        authn_context=context,
        method=next(name for name, ref in sp.accepted_contexts.items() if ref == context),
        issuer=idp,
        authenticated_at=parse_instant(statement.authn_instant, 'AuthnInstant'),
        not_on_or_after=not_on_or_after,
        in_response_to=request_id,
        attributes=attributes,
    )


def check_subject_confirmation(sp, assertion, request_id, now):
    """A bearer confirmation for our ACS and this request, still valid; returns its end."""
    subject = assertion.subject
    if subject is None:
        raise PkiError('malformed', 'assertion without Subject')
    problems = []
    for confirmation in subject.subject_confirmation:
        data = confirmation.subject_confirmation_data
        if confirmation.method != SCM_BEARER or data is None:
            problems.append(PkiError('malformed', 'no bearer SubjectConfirmationData'))
        elif data.recipient != sp.acs_url:
            problems.append(PkiError('wrong_recipient', f'Recipient {data.recipient!r}'))
        elif data.in_response_to != request_id:
            problems.append(
                PkiError(
                    'in_response_to_mismatch',
                    f'confirmation for {data.in_response_to!r}, Response for {request_id!r}',
                )
            )
        elif data.not_before:
            problems.append(PkiError('malformed', 'bearer confirmation with NotBefore'))
        else:
            until = parse_instant(data.not_on_or_after, 'SubjectConfirmationData NotOnOrAfter')
            if until > now - sp.clock_skew:
                return until
            problems.append(PkiError('expired', f'confirmation ended {until.isoformat()}'))
    raise (problems[0] if problems else PkiError('malformed', 'no SubjectConfirmation'))


def check_conditions(sp, assertion, now):
    conditions = assertion.conditions
    if conditions is None:
        raise PkiError('malformed', 'assertion without Conditions')
    if (
        conditions.not_before
        and parse_instant(conditions.not_before, 'NotBefore') > now + sp.clock_skew
    ):
        raise PkiError('not_yet_valid', f'NotBefore {conditions.not_before}')
    if (
        conditions.not_on_or_after
        and parse_instant(conditions.not_on_or_after, 'NotOnOrAfter') <= now - sp.clock_skew
    ):
        raise PkiError('expired', f'NotOnOrAfter {conditions.not_on_or_after}')
    restrictions = conditions.audience_restriction
    if not restrictions:
        raise PkiError('wrong_audience', 'no AudienceRestriction')
    for restriction in restrictions:
        audiences = [(audience.text or '').strip() for audience in restriction.audience]
        if sp.entity_id not in audiences:
            raise PkiError('wrong_audience', f'audiences {audiences}')


def authn_context(sp, statement, method):
    context = statement.authn_context
    reference = context.authn_context_class_ref if context is not None else None
    class_ref = (reference.text or '').strip() if reference is not None else ''
    if class_ref not in sp.accepted_contexts.values():
        raise PkiError('weak_context', f'AuthnContextClassRef {class_ref!r} not accepted')
    if method is not None and class_ref != sp.accepted_contexts[method]:
        raise PkiError('wrong_context', f'asked for {method}, got {class_ref!r}')
    return class_ref


def remember_until(sp, assertion):
    ends = [assertion.conditions.not_on_or_after] + [
        confirmation.subject_confirmation_data.not_on_or_after
        for confirmation in assertion.subject.subject_confirmation
        if confirmation.subject_confirmation_data is not None
    ]
    return max(parse_instant(end, 'NotOnOrAfter') for end in ends if end) + sp.clock_skew


# -- single log-out ------------------------------------------------------------------------


def read_logout_response(sp, xml, idp, expected_request_ids):
    """The IdP's LogoutResponse to one of our requests, successful, or PkiError."""
    try:
        response = samlp.logout_response_from_string(xml)
    except Exception as exc:
        raise PkiError('malformed', f'unreadable LogoutResponse: {exc}') from exc
    if response is None:
        raise PkiError('malformed', 'not a LogoutResponse')
    check_issuer(response, idp)
    if not response.in_response_to or response.in_response_to not in expected_request_ids:
        raise PkiError('unknown_request', f'LogoutResponse to {response.in_response_to!r}')
    check_destination(response, sp.sls_url)
    check_status(response)
    return response


def read_logout_request(sp, xml, idp):
    """The IdP's LogoutRequest and when it expires (its NotOnOrAfter, and at most
    LOGOUT_REQUEST_LIFETIME after its IssueInstant), or PkiError."""
    try:
        request = samlp.logout_request_from_string(xml)
    except Exception as exc:
        raise PkiError('malformed', f'unreadable LogoutRequest: {exc}') from exc
    if request is None or request.name_id is None or not request.id:
        raise PkiError('malformed', 'not a LogoutRequest with an ID and a NameID')
    check_issuer(request, idp)
    check_destination(request, sp.sls_url)
    now = sp.clock()
    issued = parse_instant(request.issue_instant, 'IssueInstant')
    if issued > now + sp.clock_skew:
        raise PkiError('not_yet_valid', f'IssueInstant {request.issue_instant}')
    ends = issued + LOGOUT_REQUEST_LIFETIME
    if request.not_on_or_after:
        ends = min(ends, parse_instant(request.not_on_or_after, 'NotOnOrAfter'))
    if ends <= now - sp.clock_skew:
        raise PkiError('expired', 'LogoutRequest expired')
    return request, ends
