"""A growing, randomised pause before pyramid_retry runs a request again.

A ConflictError means other transactions wrote the same objects at the same
moment.  Retried at once, the losers meet again within milliseconds and
spend their attempts on each other; a pause drawn at random from a window
that doubles with each attempt ("full jitter") spreads them out.  Attempt n
(0 for the first retry) waits up to ``min(occi.retry.max_pause,
occi.retry.pause * 2**n)`` seconds.
"""

import random
import time

from pyramid_retry import IBeforeRetry

DEFAULT_PAUSE = 0.05
DEFAULT_MAX_PAUSE = 1.0


def pause_window(attempt, pause, max_pause):
    """The longest pause, in seconds, before retrying after attempt ``attempt``."""
    return min(max_pause, pause * 2**attempt)


def pause_before_retry(event):
    settings = event.request.registry.settings
    window = pause_window(
        event.environ.get('retry.attempt', 0),
        float(settings.get('occi.retry.pause', DEFAULT_PAUSE)),
        float(settings.get('occi.retry.max_pause', DEFAULT_MAX_PAUSE)),
    )
    time.sleep(random.uniform(0, window))


def includeme(config):
    config.add_subscriber(pause_before_retry, IBeforeRetry)
