"""The one clock of the application, so tests can set the time.

``request.now`` is the time of the request (aware, UTC); ``request.today``
its date in Oman, where memberships expire.
"""

from datetime import UTC, datetime, timedelta, timezone

OMAN = timezone(timedelta(hours=4), 'Asia/Muscat')


def system_clock():
    return datetime.now(UTC)


def includeme(config):
    config.registry.occi_clock = system_clock
    config.add_request_method(lambda request: request.registry.occi_clock(), 'now', reify=True)
    config.add_request_method(
        lambda request: request.now.astimezone(OMAN).date(), 'today', reify=True
    )
