"""How amounts and dates read on the portal, in the page's language (Babel)."""

from babel.dates import format_date
from babel.numbers import format_decimal
from pyramid.threadlocal import get_current_request

from ..i18n import _


def rial(baisa):
    """Integer baisa as the portal shows money: ``RO 25``, ``RO 25.500``."""
    request = get_current_request()
    whole, fraction = divmod(baisa, 1000)
    number = '%d' % whole if not fraction else '%d.%03d' % (whole, fraction)
    amount = format_decimal(number, format='#,##0.###', locale=request.locale_name)
    return request.localizer.translate(_('RO ${amount}', mapping={'amount': amount}))


def day(value):
    """A date as ``2027-03-19`` in English and in Arabic digits' locale form in Arabic."""
    request = get_current_request()
    return format_date(value, format='yyyy-MM-dd', locale=request.locale_name)


# The grades are data; naming them here puts them in the catalog.
GRADE_NAMES = (_('Excellent'), _('First'), _('Second'), _('Third'), _('Fourth'))
