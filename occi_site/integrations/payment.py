"""Card payments through a hosted checkout speaking the Secure Acceptance protocol.

The portal never sees a card number. It hands the member's browser a form of
signed fields that is posted to the card gateway; the gateway collects billing
and card details on its own pages and answers with a signed response, posted
both back through the browser (the receipt page URL) and server to server (the
back-office URL). Both directions are signed the same way: HMAC-SHA256 with the
profile's secret key over ``name=value`` pairs, joined by commas, in the order
listed by the ``signed_field_names`` field, Base64-encoded.

The portal's server can also ask the gateway, by reference number, what it
decided (the status query, signed the same way, answered with the signed
responses the notifications carried): reconciliation settles with it the
orders whose answers never arrived.

Which gateway is spoken to (the development sandbox or the bank's production
endpoint) is purely a matter of ``endpoint_url``, ``query_url`` and keys in
the settings.
"""

import base64
import hashlib
import hmac
import http.client
import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..money import gateway_amount, parse_gateway_amount

log = logging.getLogger(__name__)

SIGNED_DATE_TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
LOCALES = ('en', 'ar')
DECISIONS = ('ACCEPT', 'DECLINE', 'REVIEW', 'ERROR', 'CANCEL')
CARD_TYPES = {'001': 'Visa', '002': 'Mastercard'}

# What the caller's ``bill_to`` may hold, each sent as ``bill_to_<key>``.
BILL_TO_KEYS = (
    'forename',
    'surname',
    'email',
    'phone',
    'address_line1',
    'address_city',
    'address_country',
)

# The longest value the gateway takes in each of them: a longer one would stop
# the payer at the gateway's billing form.
BILL_TO_MAX_LENGTHS = {
    'forename': 60,
    'surname': 60,
    'email': 255,
    'phone': 15,
    'address_line1': 60,
    'address_city': 50,
}
# Cut, an address or a name still reads; an e-mail address or a phone
# number would be wrong, so the payer types one at the gateway instead.
NOT_CUT = ('email', 'phone')


def fit_billing_value(key, value):
    """``value`` as the gateway takes it in ``bill_to_<key>``: cut at the
    last whole word within its length, or '' where a cut value would be
    wrong."""
    value = str(value).strip()
    limit = BILL_TO_MAX_LENGTHS.get(key)
    if limit is None or len(value) <= limit:
        return value
    if key in NOT_CUT:
        return ''
    head = value[:limit]
    if not value[limit].isspace() and len(head.split()) > 1:
        head = head.rsplit(None, 1)[0]
    return head.rstrip(' ,;-') or value[:limit]


class PaymentResponseError(ValueError):
    """A gateway response that cannot be trusted or understood."""


class PaymentSignatureError(PaymentResponseError):
    """A gateway response whose signature is missing or does not match."""


class PaymentQueryError(Exception):
    """The gateway could not be asked, or its answer to a status query was unusable."""


def _data_to_sign(fields: Mapping[str, str]) -> str:
    names = fields['signed_field_names'].split(',')
    missing = [name for name in names if name not in fields]
    if missing:
        raise KeyError(f'signed fields missing: {", ".join(missing)}')
    return ','.join(f'{name}={fields[name]}' for name in names)


def sign_fields(fields: Mapping[str, str], secret_key: str) -> str:
    """The Base64 HMAC-SHA256 signature of the fields named in ``signed_field_names``."""
    digest = hmac.new(
        secret_key.encode('utf-8'),
        _data_to_sign(fields).encode('utf-8'),
        hashlib.sha256,
    ).digest()
    return base64.b64encode(digest).decode('ascii')


def verify_signature(fields: Mapping[str, str], secret_key: str) -> bool:
    """Whether ``fields['signature']`` signs the fields named in ``signed_field_names``."""
    given = fields.get('signature')
    if not given or 'signed_field_names' not in fields:
        return False
    try:
        expected = sign_fields(fields, secret_key)
    except KeyError:
        return False
    return hmac.compare_digest(expected.encode('ascii'), given.encode('utf-8'))


def _single_values(fields: Mapping[str, str]) -> dict:
    """The received fields as a dict, refusing any field sent twice or as a file.

    A form post can repeat a name; if it did, the value that was signed and the
    value read afterwards could differ.
    """
    single = {}
    for name, value in fields.items():
        if name in single:
            raise PaymentSignatureError(f'field {name[:100]!r} received more than once')
        if not isinstance(value, str):
            raise PaymentSignatureError(f'field {name[:100]!r} received as a file')
        single[name] = value
    return single


@dataclass
class GatewayResult:
    """What the gateway decided about one payment, from its verified response."""

    decision: str
    reason_code: str | None
    message: str
    transaction_id: str | None
    reference_number: str | None
    transaction_uuid: str | None
    amount_baisa: int | None
    currency: str | None
    card_type: str | None
    card_last4: str | None
    signed_date_time: str | None
    fields: dict = field(repr=False)

    @property
    def accepted(self) -> bool:
        return self.decision == 'ACCEPT'


def _card_last4(masked: str | None) -> str | None:
    if masked and len(masked) >= 4 and masked[-4:].isascii() and masked[-4:].isdigit():
        return masked[-4:]
    return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SecureAcceptanceGateway:
    """One merchant profile on a Secure Acceptance hosted checkout."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        profile_id: str,
        access_key: str,
        secret_key: str,
        query_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.endpoint_url = endpoint_url
        self.query_url = query_url
        self.profile_id = profile_id
        self.access_key = access_key
        self.secret_key = secret_key
        self.clock = clock or _utc_now

    def checkout(
        self,
        *,
        reference_number: str,
        transaction_uuid: str,
        amount_baisa: int,
        locale: str,
        bill_to: dict,
        return_url: str,
        notify_url: str,
        currency: str = 'OMR',
    ) -> tuple:
        """The URL and signed fields of the form that sends the browser to pay.

        ``bill_to`` holds any of BILL_TO_KEYS; those left out are for the payer
        to fill in at the gateway, except the country, which defaults to Oman.
        A value longer than the gateway takes is cut (``fit_billing_value``).
        """
        if locale not in LOCALES:
            raise ValueError(f'unsupported locale {locale!r}')
        unknown = set(bill_to) - set(BILL_TO_KEYS)
        if unknown:
            raise ValueError(f'unknown billing fields: {", ".join(sorted(unknown))}')
        billing = {'address_country': 'OM', **bill_to}
        billing = {key: fit_billing_value(key, value) for key, value in billing.items() if value}
        fields = {
            'access_key': self.access_key,
            'profile_id': self.profile_id,
            'transaction_uuid': transaction_uuid,
            'signed_date_time': self.clock().astimezone(UTC).strftime(SIGNED_DATE_TIME_FORMAT),
            'locale': locale,
            'transaction_type': 'sale',
            'reference_number': reference_number,
            'amount': gateway_amount(amount_baisa),
            'currency': currency,
        }
        for key in BILL_TO_KEYS:
            if billing.get(key):
                fields[f'bill_to_{key}'] = str(billing[key])
        fields['override_custom_receipt_page'] = return_url
        fields['override_backoffice_post_url'] = notify_url
        fields['unsigned_field_names'] = ''
        fields['signed_field_names'] = ','.join([*fields, 'signed_field_names'])
        fields['signature'] = sign_fields(fields, self.secret_key)
        return self.endpoint_url, fields

    def read_result(self, fields: Mapping[str, str]) -> GatewayResult:
        """The verified result in a response posted by the gateway (browser or server)."""
        received = _single_values(fields)
        if not verify_signature(received, self.secret_key):
            log.warning(
                'Refused a payment response with a bad or missing signature '
                '(reference %r, transaction %r)',
                received.get('req_reference_number'),
                received.get('transaction_id'),
            )
            raise PaymentSignatureError('the payment response is not signed by the gateway')
        # Only signed values are read: an unsigned one could have been added on the way.
        signed = {name: received[name] for name in received['signed_field_names'].split(',')}
        decision = signed.get('decision')
        if decision not in DECISIONS:
            raise PaymentResponseError(f'unknown decision {decision!r}')
        amount = signed.get('req_amount')
        try:
            amount_baisa = parse_gateway_amount(amount) if amount else None
        except ValueError as error:
            raise PaymentResponseError(str(error)) from None
        return GatewayResult(
            decision=decision,
            reason_code=signed.get('reason_code'),
            message=signed.get('message', ''),
            transaction_id=signed.get('transaction_id'),
            reference_number=signed.get('req_reference_number'),
            transaction_uuid=signed.get('req_transaction_uuid'),
            amount_baisa=amount_baisa,
            currency=signed.get('req_currency'),
            card_type=CARD_TYPES.get(signed.get('req_card_type')),
            card_last4=_card_last4(signed.get('req_card_number')),
            signed_date_time=signed.get('signed_date_time'),
            fields=received,
        )

    def query_fields(self, reference_number: str) -> dict:
        """The signed fields of a status query about ``reference_number``."""
        fields = {
            'access_key': self.access_key,
            'profile_id': self.profile_id,
            'reference_number': reference_number,
            'signed_date_time': self.clock().astimezone(UTC).strftime(SIGNED_DATE_TIME_FORMAT),
        }
        fields['signed_field_names'] = ','.join([*fields, 'signed_field_names'])
        fields['signature'] = sign_fields(fields, self.secret_key)
        return fields

    def read_transactions(self, reference_number: str, body: bytes) -> list:
        """The verified results in the gateway's answer to a status query, oldest first."""
        try:
            answer = json.loads(body)
            transactions = answer['transactions']
            if not isinstance(transactions, list):
                raise TypeError('transactions is not a list')
        except (ValueError, KeyError, TypeError) as error:
            raise PaymentQueryError(f'unusable answer to a status query: {error}') from None
        results = []
        for fields in transactions:
            # As a form posts them: names and values are texts, or the answer is unusable.
            if not isinstance(fields, dict) or not all(
                isinstance(value, str) for value in fields.values()
            ):
                raise PaymentQueryError('a transaction in the answer is not an object of texts')
            result = self.read_result(fields)
            if result.reference_number != reference_number:
                raise PaymentQueryError(
                    f'asked about {reference_number}, told about {result.reference_number}'
                )
            results.append(result)
        return results

    def transactions(self, reference_number: str, timeout: float = 10.0) -> list:
        """Ask the gateway what it decided for ``reference_number``: the
        verified results, oldest first (none while the payer has not paid)."""
        if not self.query_url:
            raise PaymentQueryError('no status query address (occi.payment.query_url)')
        body = urllib.parse.urlencode(self.query_fields(reference_number)).encode('ascii')
        request = urllib.request.Request(
            self.query_url,
            data=body,
            method='POST',
            headers={'Content-Type': 'application/x-www-form-urlencoded'},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = response.read()
        except (OSError, ValueError, http.client.HTTPException) as error:
            # HTTPException: an answer that is not HTTP, or one cut short.
            raise PaymentQueryError(f'the gateway could not be asked: {error!r}') from None
        return self.read_transactions(reference_number, answer)


def gateway_from_settings(settings: Mapping[str, str]) -> SecureAcceptanceGateway:
    """The gateway named by the ``occi.payment.*`` settings (sandbox or production alike)."""
    return SecureAcceptanceGateway(
        endpoint_url=settings['occi.payment.endpoint_url'],
        profile_id=settings['occi.payment.profile_id'],
        access_key=settings['occi.payment.access_key'],
        secret_key=settings['occi.payment.secret_key'],
        query_url=settings.get('occi.payment.query_url'),
    )
