"""The gateway's side of the signed-field protocol, and its amounts.

The sandbox stands in for an outside system, so it carries its own small
implementation instead of importing the portal's adapter: the end-to-end tests
then hold two independent implementations against each other.

A signature is Base64(HMAC-SHA256(secret key, data)), where data lists the
fields named in ``signed_field_names``, in that order, as ``name=value`` joined
by commas.
"""

import base64
import hashlib
import hmac
import re

# Rials with up to three decimals (baisa). ASCII digits only: str.isdigit()
# would accept Arabic-Indic digits too.
_AMOUNT = re.compile(r'(0|[1-9][0-9]*)(?:\.([0-9]{1,3}))?', re.ASCII)


def signature(fields, secret_key):
    """The signature over ``fields``; KeyError if a field it names is absent."""
    names = fields['signed_field_names'].split(',')
    data = ','.join('%s=%s' % (name, fields[name]) for name in names)
    digest = hmac.new(secret_key.encode('utf-8'), data.encode('utf-8'), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode('ascii')


def is_signed(fields, secret_key):
    try:
        expected = signature(fields, secret_key)
    except KeyError:
        return False
    return hmac.compare_digest(
        expected.encode('ascii'), fields.get('signature', '').encode('utf-8')
    )


def signed(fields, secret_key):
    """``fields`` with every one of them signed, as the gateway answers."""
    answer = dict(fields)
    answer['signed_field_names'] = ','.join([*fields, 'signed_field_names'])
    answer['signature'] = signature(answer, secret_key)
    return answer


def amount_in_baisa(text):
    """ "25.000" -> 25000; None for anything that is not a plain amount."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return None
    rials, decimals = match.groups()
    return int(rials) * 1000 + int((decimals or '').ljust(3, '0'))


def amount_text(baisa):
    """25000 -> "25.000", the gateway's way of writing an amount."""
    rials, rest = divmod(baisa, 1000)
    return '%d.%03d' % (rials, rest)
