"""The merchant's side of a checkout: its signed request in, the signed response out."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from .cards import CARD_TYPES, masked
from .i18n import _
from .signing import amount_in_baisa, amount_text, is_signed, signed

SIGNED_DATE_TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
AUTH_TIME_FORMAT = '%Y-%m-%dT%H%M%SZ'

# Fields a checkout cannot go without; each must also be signed, or anyone
# between the merchant and the gateway could change it.
REQUIRED_FIELDS = (
    'access_key',
    'profile_id',
    'transaction_uuid',
    'signed_field_names',
    'signed_date_time',
    'locale',
    'transaction_type',
    'reference_number',
    'amount',
    'currency',
    'override_custom_receipt_page',
)
MERCHANT_URLS = ('override_custom_receipt_page', 'override_backoffice_post_url')


@dataclass(frozen=True)
class MerchantProfile:
    profile_id: str
    access_key: str
    secret_key: str


class CheckoutRefused(Exception):
    """A checkout request the gateway will not start; ``message`` says why, translatable."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _single_values(post):
    fields = {}
    for name, value in post.items():
        if name in fields:
            raise CheckoutRefused(
                _('The field ${name} was sent more than once.', mapping={'name': name})
            )
        fields[name] = value
    return fields


def _is_web_address(url):
    parts = urlsplit(url)
    return parts.scheme in ('http', 'https') and bool(parts.netloc)


def read_checkout_request(post, profile):
    """(the merchant's signed fields, the amount in baisa), or CheckoutRefused.

    Fields sent unsigned are left out: nothing vouches for them.
    """
    fields = _single_values(post)
    for name in (*REQUIRED_FIELDS, 'signature'):
        if not fields.get(name):
            raise CheckoutRefused(
                _('The payment request has no ${name} field.', mapping={'name': name})
            )
    if (fields['profile_id'], fields['access_key']) != (profile.profile_id, profile.access_key):
        raise CheckoutRefused(_('The profile or access key is not known to this gateway.'))
    if not is_signed(fields, profile.secret_key):
        raise CheckoutRefused(_('The signature of the payment request is not valid.'))
    request = {name: fields[name] for name in fields['signed_field_names'].split(',')}
    for name in REQUIRED_FIELDS:
        if name not in request:
            raise CheckoutRefused(_('The field ${name} must be signed.', mapping={'name': name}))
    return request, _check_values(request)


def _check_values(request):
    """Refuse values the gateway cannot take; the amount in baisa otherwise."""
    amount = amount_in_baisa(request['amount'])
    if not amount:
        raise CheckoutRefused(
            _('The amount ${amount} is not valid.', mapping={'amount': request['amount']})
        )
    if request['currency'] != 'OMR':
        raise CheckoutRefused(
            _(
                'The currency ${currency} is not accepted; this gateway takes OMR.',
                mapping={'currency': request['currency']},
            )
        )
    if request['transaction_type'] != 'sale':
        raise CheckoutRefused(
            _(
                'The transaction type ${type} is not supported; this gateway takes sales only.',
                mapping={'type': request['transaction_type']},
            )
        )
    try:
        datetime.strptime(request['signed_date_time'], SIGNED_DATE_TIME_FORMAT)
    except ValueError:
        raise CheckoutRefused(
            _(
                'The signed date and time ${value} is not valid.',
                mapping={'value': request['signed_date_time']},
            )
        ) from None
    for name in MERCHANT_URLS:
        if name in request and not _is_web_address(request[name]):
            raise CheckoutRefused(
                _('The field ${name} must be an http or https address.', mapping={'name': name})
            )
    return amount


def decided_response(checkout, outcome, card, profile):
    """The signed response for the merchant, the same for its browser and its server.

    It echoes the merchant's signed fields as req_*, with the billing details
    as the payer confirmed them; of the card, only the masked number and type.
    """
    now = datetime.now(UTC)
    fields = {
        'decision': outcome.decision,
        'message': outcome.message,
        'transaction_id': '%022d' % secrets.randbelow(10**22),
    }
    if outcome.reason_code:
        fields['reason_code'] = outcome.reason_code
    if outcome.decision == 'ACCEPT':
        fields['auth_amount'] = amount_text(checkout.amount_baisa)
        fields['auth_code'] = '%06d' % secrets.randbelow(10**6)
        fields['auth_time'] = now.strftime(AUTH_TIME_FORMAT)
    for name, value in checkout.request.items():
        if name not in ('signed_field_names', 'unsigned_field_names'):
            fields['req_' + name] = value
    for name, value in (checkout.billing or {}).items():
        fields['req_bill_to_' + name] = value
    if card is not None:
        fields['req_card_number'] = masked(card.number)
        fields['req_card_type'] = card.card_type
        fields['req_payment_method'] = 'card'
    fields['signed_date_time'] = now.strftime(SIGNED_DATE_TIME_FORMAT)
    return signed(fields, profile.secret_key)


def card_summary(response):
    """(card type name, masked number) of a decided checkout, or None if no card was used."""
    if 'req_card_number' not in response:
        return None
    return CARD_TYPES.get(response['req_card_type']), response['req_card_number']
