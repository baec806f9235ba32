"""The one clock of the application, so tests can set the time.

``request.now`` is the time of the request (aware, UTC); ``request.today``
its date in Oman, where memberships expire.
"""

from datetime import UTC, date, datetime, timedelta, timezone

import colander

from .i18n import _

OMAN = timezone(timedelta(hours=4), 'Asia/Muscat')
# The days a form may name: the browser's date field offers any up to the year 9999, past
# which a period's end or a month after it cannot be counted. (Memberships loaded from the
# paper registry joined as early as the chamber.)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2099, 12, 31)
OUT_OF_REACH = _('Choose a day from 1900 to 2099.')
DAY_IN_REACH = colander.Range(
    min=FIRST_DAY, max=LAST_DAY, min_err=OUT_OF_REACH, max_err=OUT_OF_REACH
)


def system_clock():
    return datetime.now(UTC)


def includeme(config):
    config.registry.occi_clock = system_clock
    config.add_request_method(lambda request: request.registry.occi_clock(), 'now', reify=True)
    config.add_request_method(
        lambda request: request.now.astimezone(OMAN).date(), 'today', reify=True
    )
