"""SAML assertion IDs already accepted, kept until they expire, so none is
accepted twice (replay), whichever app server it reaches."""

from itertools import islice

from BTrees.OOBTree import OOBTree
from persistent import Persistent

PRUNE_BATCH = 50


class AssertionLog(Persistent):
    __name__ = None
    __parent__ = None
    title = 'Accepted SAML assertions'

    def __init__(self):
        self.expiry_by_id = OOBTree()
        self.ids_by_expiry = OOBTree()

    def seen_before(self, assertion_id, not_on_or_after):
        """Record ``assertion_id`` until ``not_on_or_after``; True if it was already there."""
        self._prune(not_on_or_after)
        if assertion_id in self.expiry_by_id:
            return True
        self.expiry_by_id[assertion_id] = not_on_or_after
        self.ids_by_expiry[(not_on_or_after.timestamp(), assertion_id)] = True
        return False

    def _prune(self, not_on_or_after):
        # Assertions live minutes; anything a day older than this one has
        # expired.  A few per login keep the log small without a sweep.
        horizon = (not_on_or_after.timestamp() - 24 * 3600, '')
        expired = list(islice(self.ids_by_expiry.keys(max=horizon), PRUNE_BATCH))
        for key in expired:
            del self.ids_by_expiry[key]
            self.expiry_by_id.pop(key[1], None)
