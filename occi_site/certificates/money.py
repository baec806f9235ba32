"""Amounts as the payment gateway shows them: baisa to "25.000 OMR"."""

BAISA_PER_RIAL = 1000


def format_omr(baisa):
    """An integer amount of baisa as rials with three decimals: 25000 -> "25.000 OMR".

    Only integers are accepted: a float here would mean money has already been
    rounded somewhere it should not have been.
    """
    if not isinstance(baisa, int) or isinstance(baisa, bool):
        raise TypeError('amounts are integer baisa, got %r' % (baisa,))
    sign = '-' if baisa < 0 else ''
    rials, rest = divmod(abs(baisa), BAISA_PER_RIAL)
    return '%s%s.%03d OMR' % (sign, f'{rials:,}', rest)
