"""The payer's forms: Billing Information and Payment Details, checked on the server.

Each reader takes the posted form and returns ``(values, errors)``: the values
as typed (trimmed), so a page with errors shows them again, and a message per
field in error.
"""

import re
from datetime import date

from babel import Locale

from .cards import CARD_TYPES, brand_of, passes_luhn
from .i18n import _
from .store import Card

# Lengths the card gateway accepts for each billing field.
BILLING_MAX_LENGTHS = {
    'forename': 60,
    'surname': 60,
    'address_line1': 60,
    'address_city': 50,
    'phone': 15,
    'email': 255,
}
BILLING_REQUIRED = {
    'forename': _('Enter the first name.'),
    'surname': _('Enter the last name.'),
    'address_line1': _('Enter the address.'),
    'address_city': _('Enter the city.'),
    'phone': _('Enter the phone number.'),
    'email': _('Enter the email address.'),
}
DEFAULT_COUNTRY = 'OM'
# Codes CLDR names that are not ISO 3166 countries (regions, groupings, test codes).
NOT_COUNTRIES = {
    'AC',
    'CP',
    'CQ',
    'DG',
    'EA',
    'EU',
    'EZ',
    'IC',
    'QO',
    'TA',
    'UN',
    'XA',
    'XB',
    'XK',
    'ZZ',
}
EXPIRY_YEARS_AHEAD = 10

_PHONE = re.compile(r'\+?[0-9]{6,15}', re.ASCII)
_EMAIL = re.compile(r'[^@\s]+@[^@\s.]+(\.[^@\s.]+)+')
_CARD_NUMBER = re.compile(r'[0-9]{12,19}', re.ASCII)
_CVN = re.compile(r'[0-9]{3,4}', re.ASCII)


def countries(language):
    """(ISO code, name) of every country, named and sorted in the page's language."""
    names = Locale.parse(language).territories
    return sorted(
        (
            (code, name)
            for code, name in names.items()
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
        ),
        key=lambda country: country[1],
    )


def is_country(code):
    return len(code) == 2 and code not in NOT_COUNTRIES and code in Locale('en').territories


def billing_from_request(request_fields):
    """The Billing page's starting values: what the merchant already knows of the payer."""
    values = {name: request_fields.get('bill_to_' + name, '') for name in BILLING_MAX_LENGTHS}
    values['address_country'] = request_fields.get('bill_to_address_country') or DEFAULT_COUNTRY
    return values


def read_billing(post):
    values = {name: post.get(name, '').strip() for name in BILLING_MAX_LENGTHS}
    values['address_country'] = post.get('address_country', '').strip()
    errors = {}
    for name, message in BILLING_REQUIRED.items():
        if not values[name]:
            errors[name] = message
        elif len(values[name]) > BILLING_MAX_LENGTHS[name]:
            errors[name] = _(
                'Use at most ${count} characters.', mapping={'count': BILLING_MAX_LENGTHS[name]}
            )
    phone = re.sub(r'[\s-]', '', values['phone'])
    if 'phone' not in errors and not _PHONE.fullmatch(phone):
        errors['phone'] = _('Enter a phone number of 6 to 15 digits, optionally starting with +.')
    if 'email' not in errors and not _EMAIL.fullmatch(values['email']):
        errors['email'] = _('Enter a valid email address, such as name@example.com.')
    if not is_country(values['address_country']):
        errors['address_country'] = _('Choose a country from the list.')
    return values, errors


def expiry_years(today):
    return [str(year) for year in range(today.year, today.year + EXPIRY_YEARS_AHEAD + 1)]


def card_values(card):
    """The Payment Details page's values for a card already entered (coming Back to it)."""
    if card is None:
        return {
            'card_type': '',
            'card_number': '',
            'card_cvn': '',
            'card_expiry_month': '',
            'card_expiry_year': '',
        }
    return {
        'card_type': card.card_type,
        'card_number': card.number,
        'card_cvn': card.cvn,
        'card_expiry_month': card.expiry_month,
        'card_expiry_year': card.expiry_year,
    }


def read_card(post, today=None):
    """(values, errors, Card or None when there are errors)."""
    today = today or date.today()
    values = {name: post.get(name, '').strip() for name in card_values(None)}
    errors = {}
    if values['card_type'] not in CARD_TYPES:
        errors['card_type'] = _('Choose the card type.')
    number = re.sub(r'[\s-]', '', values['card_number'])
    if not number:
        errors['card_number'] = _('Enter the card number.')
    elif not _CARD_NUMBER.fullmatch(number) or not passes_luhn(number):
        errors['card_number'] = _('This card number is not valid; check it and try again.')
    elif 'card_type' not in errors and brand_of(number) != values['card_type']:
        errors['card_number'] = _(
            'This number is not a ${card_type} card number.',
            mapping={'card_type': CARD_TYPES[values['card_type']]},
        )
    if not values['card_cvn']:
        errors['card_cvn'] = _('Enter the CVN.')
    elif not _CVN.fullmatch(values['card_cvn']):
        errors['card_cvn'] = _('The CVN is the three or four digit number on the card.')
    expiry_error = _expiry_error(values['card_expiry_month'], values['card_expiry_year'], today)
    if expiry_error:
        errors['card_expiry'] = expiry_error
    if errors:
        return values, errors, None
    return (
        values,
        errors,
        Card(
            values['card_type'],
            number,
            values['card_cvn'],
            values['card_expiry_month'],
            values['card_expiry_year'],
        ),
    )


def _expiry_error(month, year, today):
    if not (
        month.isascii()
        and month.isdigit()
        and 1 <= int(month) <= 12
        and year.isascii()
        and year.isdigit()
        and len(year) == 4
    ):
        return _('Choose the expiration month and year.')
    # A card is good until the end of its expiry month.
    if (int(year), int(month)) < (today.year, today.month):
        return _('This card has expired.')
    return None
