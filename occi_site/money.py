"""Money, in one place: amounts are integer baisa everywhere; this module
turns them into rials to show or send, and rials typed or received back
into baisa.

The Omani rial has three decimals (a baisa is a thousandth of a rial);
Babel's currency data says so, and every conversion here takes the number
of decimals from it.  An amount is an ``int``, never a float: a float would
mean money was already rounded somewhere it should not have been.

Three ways of writing an amount, for three readers:

- the portal, in the page's language: ``RO 25``, ``RO 25.500``
  (``portal_amount``, a TranslationString the page translates);
- the card gateway's protocol: ``25.000``, with exactly three decimals
  (``gateway_amount``, read back strictly by ``parse_gateway_amount``);
- printed documents such as the receipt, as the gateway shows an amount:
  ``25.000 OMR`` (``document_amount``).

``parse_rials`` reads what an administrator types in /manage (``12.5``), and
``Rials`` is the colander type of such a field.
"""

import functools
import re
from decimal import Decimal, InvalidOperation

import colander
from babel import Locale
from babel.numbers import format_currency, format_decimal, get_currency_precision, parse_pattern

from .i18n import _

CURRENCY = 'OMR'
DECIMALS = get_currency_precision(CURRENCY)
BAISA_PER_RIAL = 10**DECIMALS

# The gateway's amounts: ASCII digits only (str.isdigit() would also take
# Arabic-Indic ones), no sign, no exponent, no leading zeros, at most three decimals.
_GATEWAY_AMOUNT = re.compile(r'(0|[1-9][0-9]*)(?:\.([0-9]{1,%d}))?' % DECIMALS, re.ASCII)
# What an administrator may type: digits, an optional point and decimals.
_TYPED_AMOUNT = re.compile(r'[0-9]+(?:\.[0-9]*)?|\.[0-9]+', re.ASCII)
# The portal's way of writing a number, parsed once (pages show many amounts).
_PORTAL_PATTERN = parse_pattern('#,##0.###')
_locale = functools.lru_cache(maxsize=16)(Locale.parse)


class AmountError(ValueError):
    """Text that is not an amount; ``message`` says why, for the person who typed it."""

    def __init__(self, text, message):
        super().__init__('not an amount: %r' % (text,))
        self.message = message


def require_baisa(amount):
    """``amount`` if it is an integer number of baisa, else TypeError."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError('amounts are integer baisa, got %r' % (amount,))
    return amount


def rials(baisa):
    """Integer baisa as an exact Decimal of rials: 25500 -> Decimal('25.500')."""
    return Decimal(require_baisa(baisa)).scaleb(-DECIMALS)


def portal_amount(baisa, locale):
    """How the portal shows an amount in ``locale``: ``RO 25``, ``RO 25.500``.

    A TranslationString: the catalog places the currency for each language.
    """
    number = _PORTAL_PATTERN.apply(rials(baisa), _locale(locale))
    return _('RO ${amount}', mapping={'amount': number})


def gateway_amount(baisa):
    """Baisa as the gateway's amount field: 25000 -> "25.000"."""
    if require_baisa(baisa) < 0:
        raise ValueError('an amount sent to the gateway cannot be negative: %d' % baisa)
    return format_decimal(rials(baisa), format='0.000', locale='en')


def parse_gateway_amount(text):
    """The gateway's amount in baisa: "25.000" -> 25000, "25.5" -> 25500; strict,
    ValueError for anything else."""
    if not isinstance(text, str):
        raise ValueError('an amount must be text, not %s' % type(text).__name__)
    match = _GATEWAY_AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError('not an amount: %r' % (text,))
    whole, decimals = match.groups()
    return int(whole) * BAISA_PER_RIAL + int((decimals or '').ljust(DECIMALS, '0'))


def document_amount(baisa):
    """An amount on a printed document, as the gateway shows it: "1,234.500 OMR"."""
    return format_currency(rials(baisa), CURRENCY, format='#,##0.000 ¤¤', locale='en')


def rials_text(baisa):
    """Baisa as an administrator reads and types them in a form: "25.500"."""
    return format_decimal(rials(baisa), format='0.000', locale='en')


def parse_rials(text):
    """Rials typed in a form, in baisa: "12.5" -> 12500.

    AmountError, with a message for the form, for text that is not a plain
    amount or that is more precise than a baisa.
    """
    typed = text.strip()
    if not _TYPED_AMOUNT.fullmatch(typed):
        raise AmountError(text, _('Type an amount in rials, such as 25 or 12.500.'))
    try:
        amount = Decimal(typed)
    except InvalidOperation:
        raise AmountError(text, _('Type an amount in rials, such as 25 or 12.500.')) from None
    baisa = amount.scaleb(DECIMALS)
    if baisa != baisa.to_integral_value():
        raise AmountError(text, _('Use at most three decimals: the baisa is the smallest amount.'))
    return int(baisa)


def table_amount(baisa, locale):
    """Rials in a table of figures whose heading names the currency, as
    ``locale`` writes numbers: "1,234.500"."""
    return format_decimal(rials(baisa), format='#,##0.000', locale=locale)


def chart_value(baisa):
    """Rials as a chart plots them (a float: a position on an axis, never money kept)."""
    return float(rials(baisa))


class Rials(colander.SchemaType):
    """An amount typed in rials (``12.5``) and kept as integer baisa (12500).

    A wrong amount is refused with a message next to the field, never rounded.
    """

    def serialize(self, node, appstruct):
        if appstruct is colander.null:
            return colander.null
        return rials_text(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or not cstruct.strip():
            return colander.null
        try:
            return parse_rials(cstruct)
        except AmountError as error:
            raise colander.Invalid(node, error.message) from None


def rials_between(lowest, highest):
    """A validator of a Rials field: from ``lowest`` to ``highest`` baisa, said in rials."""

    def validate(node, baisa):
        if not lowest <= baisa <= highest:
            raise colander.Invalid(
                node,
                _(
                    'Type an amount from ${lowest} to ${highest} rials.',
                    mapping={'lowest': rials_text(lowest), 'highest': rials_text(highest)},
                ),
            )

    return validate
