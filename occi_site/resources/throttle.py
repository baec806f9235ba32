"""Rate limits on abuse-prone actions (registrations, code checks), by key.

A key is e.g. ``register:ip:203.0.113.9``; each keeps the times of its recent
hits, so a limit is "``limit`` hits in ``window``".
"""

from datetime import timedelta

from BTrees.OOBTree import OOBTree
from persistent import Persistent


class Throttle(Persistent):
    __name__ = None
    __parent__ = None
    title = 'Rate limits'

    def __init__(self):
        self.hits = OOBTree()

    def hit(self, key, now, *, limit, window=timedelta(hours=1)):
        """Count a hit; ``None`` if allowed, else the time it will be allowed."""
        recent = tuple(t for t in self.hits.get(key, ()) if now - t < window)
        if len(recent) >= limit:
            if recent != self.hits.get(key):
                self.hits[key] = recent
            return recent[0] + window
        self.hits[key] = (*recent, now)
        return None
