"""Money in one module: baisa shown on the portal, sent to the gateway, printed
on documents and typed by administrators."""

from decimal import Decimal

import pytest

from occi_site.i18n import _
from occi_site.money import (
    DECIMALS,
    AmountError,
    document_amount,
    gateway_amount,
    parse_gateway_amount,
    parse_rials,
    portal_amount,
    rials,
    rials_text,
)


def test_babel_knows_the_rial_has_three_decimals():
    assert DECIMALS == 3
    assert rials(25500) == Decimal('25.500')


@pytest.mark.parametrize(
    'baisa, locale, number',
    [
        (25000, 'en', '25'),
        (25500, 'en', '25.5'),
        (4000, 'ar', '4'),
        (1234567, 'en', '1,234.567'),
        (5, 'en', '0.005'),
    ],
)
def test_portal_amounts(baisa, locale, number):
    shown = portal_amount(baisa, locale)
    assert shown == _('RO ${amount}') and shown.mapping == {'amount': number}


@pytest.mark.parametrize(
    'baisa, shown',
    [
        (25000, '25.000 OMR'),
        (4000, '4.000 OMR'),
        (0, '0.000 OMR'),
        (5, '0.005 OMR'),
        (1234567, '1,234.567 OMR'),
        (-4000, '-4.000 OMR'),
    ],
)
def test_document_amounts_as_the_gateway_shows_them(baisa, shown):
    assert document_amount(baisa) == shown


@pytest.mark.parametrize('value', [25.0, Decimal('25'), '25000', True, None])
def test_amounts_are_integer_baisa(value):
    for convert in (portal_amount, document_amount, rials_text):
        with pytest.raises(TypeError):
            convert(value) if convert is not portal_amount else convert(value, 'en')


@pytest.mark.parametrize(
    'text, baisa',
    [
        ('12.5', 12_500),
        ('25', 25_000),
        (' 27.250 ', 27_250),
        ('0.001', 1),
        ('.5', 500),
        ('3.', 3000),
    ],
)
def test_rials_typed_in_a_form(text, baisa):
    assert parse_rials(text) == baisa
    assert parse_rials(rials_text(baisa)) == baisa


@pytest.mark.parametrize(
    'text, why',
    [
        ('1.2345', 'three decimals'),
        ('12.0005', 'three decimals'),
        ('1.2345x', 'such as 25'),
        ('-4', 'such as 25'),
        ('1e3', 'such as 25'),
        ('RO 4', 'such as 25'),
        ('', 'such as 25'),
        ('٤', 'such as 25'),
        ('1,000', 'such as 25'),
    ],
)
def test_rials_typed_wrong_say_why(text, why):
    with pytest.raises(AmountError) as refused:
        parse_rials(text)
    assert why in refused.value.message


@pytest.mark.parametrize(
    'baisa, text',
    [
        (25000, '25.000'),
        (50000, '50.000'),
        (4000, '4.000'),
        (0, '0.000'),
        (1, '0.001'),
        (999, '0.999'),
        (1000, '1.000'),
        (1234567, '1234.567'),
        (10**12, '1000000000.000'),
    ],
)
def test_gateway_amount(baisa, text):
    assert gateway_amount(baisa) == text


def test_gateway_amount_refuses_negative():
    with pytest.raises(ValueError):
        gateway_amount(-1)


@pytest.mark.parametrize('value', [25.0, '25000', True, None])
def test_gateway_amount_refuses_non_integers(value):
    with pytest.raises(TypeError):
        gateway_amount(value)


@pytest.mark.parametrize(
    'text, baisa',
    [
        ('25.000', 25000),
        ('25', 25000),
        ('25.5', 25500),
        ('25.50', 25500),
        ('0.001', 1),
        ('0.000', 0),
        ('0', 0),
        ('1234.567', 1234567),
    ],
)
def test_parse_gateway_amount(text, baisa):
    assert parse_gateway_amount(text) == baisa


@pytest.mark.parametrize(
    'text',
    [
        '',
        ' 25.000',
        '25.000 ',
        '-1.000',
        '+1.000',
        '1e3',
        '25.0001',
        '25.',
        '.5',
        '025.000',
        '1,000.000',
        '25,000',
        '٢٥.٠٠٠',
        '25.٠٠٠',
        'nan',
        'inf',
        '1_000',
        '0x10',
        'RO 25',
        '25.000 OMR',
        '25.000\n',
    ],
)
def test_parse_gateway_amount_refuses_garbage(text):
    with pytest.raises(ValueError):
        parse_gateway_amount(text)


@pytest.mark.parametrize('value', [None, 25000, b'25.000'])
def test_parse_gateway_amount_refuses_non_text(value):
    with pytest.raises(ValueError):
        parse_gateway_amount(value)


def test_amounts_round_trip():
    for baisa in [*range(0, 2500, 7), 25000, 999999999]:
        assert parse_gateway_amount(gateway_amount(baisa)) == baisa
