"""Cards: brands, the Luhn check, masking, and what the sandbox decides for each card."""

from dataclasses import dataclass

VISA = '001'
MASTERCARD = '002'
# Brand names are trademarks, written the same in every language.
CARD_TYPES = {VISA: 'Visa', MASTERCARD: 'Mastercard'}


@dataclass(frozen=True)
class Outcome:
    """A gateway decision with the reason code and message the protocol reports."""

    decision: str
    reason_code: str
    message: str


APPROVED = Outcome('ACCEPT', '100', 'Request was processed successfully.')
DECLINED = Outcome(
    'DECLINE',
    '203',
    'General decline of the card. No other information was provided by the issuing bank.',
)
# A cancelled checkout carries no reason code, as with the real gateway.
CANCELLED = Outcome('CANCEL', '', 'The consumer cancelled the transaction.')

TEST_CARDS = {
    '4111111111111111': APPROVED,
    '5555555555554444': APPROVED,
    '4000000000000002': DECLINED,
}


def outcome_for(number):
    """Only the test cards approve; any other number is declined like a real unknown card."""
    return TEST_CARDS.get(number, DECLINED)


def passes_luhn(number):
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def brand_of(number):
    """The card type code of a number, from its issuer prefix; None if neither brand."""
    if number.startswith('4'):
        return VISA
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return MASTERCARD
    return None


def masked(number):
    """ "4111111111111111" -> "xxxxxxxxxxxx1111", as the gateway echoes a card number."""
    return 'x' * (len(number) - 4) + number[-4:]
