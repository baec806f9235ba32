"""How amounts and dates read on the portal, in the page's language (Babel).

Both are Jinja2 filters that take the request from the template's context,
so a mail rendered in the member's language formats in that language.
"""

import functools

from babel.dates import format_date, format_datetime
from jinja2 import pass_context

from ..clock import OMAN
from ..i18n import _
from ..money import portal_amount


@pass_context
def rial(context, baisa):
    """Integer baisa as the portal shows money: ``RO 25``, ``RO 25.500``."""
    request = context['request']
    return _shown_amount(baisa, request.locale_name, request.localizer)


# A page shows the same few fees again and again; the localizer of a language
# is made once per process, so it keys the cache with the language.  Typed:
# ``True`` is no amount, though it equals 1.
@functools.lru_cache(maxsize=4096, typed=True)
def _shown_amount(baisa, locale_name, localizer):
    return localizer.translate(portal_amount(baisa, locale_name))


@pass_context
def day(context, value):
    """A date as ``2027-03-19`` in English and in Arabic digits' locale form in Arabic."""
    return formatted_day(value, context['request'].locale_name)


# Listings show dozens of dates, mostly the same few hundred days.
@functools.lru_cache(maxsize=4096)
def formatted_day(value, locale_name):
    return format_date(value, format='yyyy-MM-dd', locale=locale_name)


@pass_context
def moment(context, value):
    """A time as ``2027-03-19 14:05``, in Oman."""
    request = context['request']
    return format_datetime(
        value.astimezone(OMAN), format='yyyy-MM-dd HH:mm', locale=request.locale_name
    )


# The grades are data; naming them here puts them in the catalog.
GRADE_NAMES = (_('Excellent'), _('First'), _('Second'), _('Third'), _('Fourth'))
