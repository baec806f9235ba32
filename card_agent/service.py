"""The agent's HTTP service on 127.0.0.1, reached by the identity provider's PIN pad page.

Only pages of the configured origins may use it (the browser's Origin header, answered with
CORS headers for that origin alone), and only under a loopback host name, so a web page of
another site, or one reached through DNS rebinding, cannot make the card sign or spend its PIN
tries.

  GET  /card  -> {"reader", "certificate", "civil_id", "name"}
  POST /sign  {"challenge": text, "pin": digits}
              -> {"reader", "certificate", "signature"}   (base64, certificate in DER)
  errors      -> {"error": code, "tries_left": n} with status 409 (the card or reader) or
                 400 (the request)
"""

import base64
import json
import logging

from cryptography import x509
from cryptography.x509.oid import NameOID
from webob import Request, Response

from .reader import CardError

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '[::1]')
# The identity provider's challenges are short printable text.
CHALLENGE_LENGTHS = range(16, 513)
PREFLIGHT_MAX_AGE = 600


class CardAgentService:
    """The WSGI application of the agent, for `reader` (a CardReader) and the allowed origins."""

    def __init__(self, reader, origins):
        self.reader = reader
        self.origins = frozenset(origin.rstrip('/') for origin in origins)

    def __call__(self, environ, start_response):
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request):
        origin = request.headers.get('Origin', '')
        if request.host.rsplit(':', 1)[0] not in LOOPBACK_HOSTS or origin not in self.origins:
            log.warning('refused %s %s from origin %r', request.method, request.path, origin)
            return _json({'error': 'origin'}, 403)
        if request.method == 'OPTIONS':
            response = self._preflight(request)
        elif (request.method, request.path_info) == ('GET', '/card'):
            response = self._card()
        elif (request.method, request.path_info) == ('POST', '/sign'):
            response = self._sign(request)
        else:
            response = _json({'error': 'not_found'}, 404)
        response.headers['Access-Control-Allow-Origin'] = origin
        response.headers['Vary'] = 'Origin'
        return response

    def _preflight(self, request):
        response = Response(status=204)
        response.headers['Access-Control-Allow-Methods'] = 'GET, POST'
        response.headers['Access-Control-Allow-Headers'] = 'Content-Type'
        response.headers['Access-Control-Max-Age'] = str(PREFLIGHT_MAX_AGE)
        # Chromium asks before a public page may reach a service on the member's computer.
        if request.headers.get('Access-Control-Request-Private-Network') == 'true':
            response.headers['Access-Control-Allow-Private-Network'] = 'true'
        return response

    def _card(self):
        try:
            answer = self.reader.read_certificate()
        except CardError as exc:
            return _refusal(exc)
        return _json({'reader': answer.reader, **_certificate_fields(answer.certificate)})

    def _sign(self, request):
        try:
            body = json.loads(request.body or b'{}')
            challenge, pin = body['challenge'], body['pin']
        except (ValueError, TypeError, KeyError):
            return _json({'error': 'bad_request'}, 400)
        if not (
            isinstance(challenge, str)
            and challenge.isascii()
            and challenge.isprintable()
            and len(challenge) in CHALLENGE_LENGTHS
        ):
            return _json({'error': 'bad_request'}, 400)
        try:
            answer = self.reader.sign(challenge.encode('ascii'), pin)
        except CardError as exc:
            return _refusal(exc)
        return _json(
            {
                'reader': answer.reader,
                'certificate': _base64(answer.certificate),
                'signature': _base64(answer.signature),
            }
        )


def _certificate_fields(der):
    """The certificate with the civil ID and name it carries, as the page shows them."""
    fields = {'certificate': _base64(der), 'civil_id': None, 'name': None}
    try:
        subject = x509.load_der_x509_certificate(der).subject
    except ValueError:
        return fields
    for key, oid in (('civil_id', NameOID.SERIAL_NUMBER), ('name', NameOID.COMMON_NAME)):
        values = subject.get_attributes_for_oid(oid)
        if values:
            fields[key] = values[0].value
    return fields


def _refusal(error):
    log.info('card operation refused: %s (%s)', error.code, error)
    body = {'error': error.code}
    if error.tries_left is not None:
        body['tries_left'] = error.tries_left
    return _json(body, 400 if error.code == 'bad_pin' else 409)


def _json(body, status=200):
    response = Response(json=body, status=status)
    response.cache_control = 'no-store'
    return response


def _base64(data):
    return base64.b64encode(data).decode('ascii')
