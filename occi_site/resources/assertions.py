"""SAML assertion IDs already accepted, kept until they expire, so none is
accepted twice (replay), whichever app server it reaches.

The IDs are kept in a set per hour of expiry: logins at the same moment add
random IDs all over the current hour's set (which merges them) instead of
all appending to the end of one time-ordered index, and expired hours go
whole, pruned by the first login to see them.
"""

from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree

from ..i18n import _
from .folder import Located
from .multi_index import file_under
from .types import content_type

# Assertions live minutes; an hour of expiry a day gone is long expired.
KEPT_HOURS = 24


def hour_of(moment):
    return int(moment.timestamp() // 3600)


@content_type('assertion_log', _('Accepted PKI logins'))
class AssertionLog(Located):
    title = 'Accepted SAML assertions'

    def __init__(self):
        self.expiry_by_id = OOBTree()
        self.ids_by_hour = IOBTree()

    def seen_before(self, assertion_id, not_on_or_after):
        """Record ``assertion_id`` until ``not_on_or_after``; True if it was already there."""
        hour = hour_of(not_on_or_after)
        self._prune(hour - KEPT_HOURS)
        if assertion_id in self.expiry_by_id:
            return True
        self.expiry_by_id[assertion_id] = not_on_or_after
        file_under(self.ids_by_hour, hour, assertion_id)
        return False

    def _prune(self, before_hour):
        for hour in list(self.ids_by_hour.keys(max=before_hour, excludemax=True)):
            for assertion_id in self.ids_by_hour.pop(hour):
                self.expiry_by_id.pop(assertion_id, None)

    def index_by_hour(self):
        """Evolve: the index by exact expiry (before the hourly sets) becomes hourly sets."""
        self._p_activate()
        by_expiry = self.__dict__.pop('ids_by_expiry', None)
        if by_expiry is None:
            return
        self.ids_by_hour = IOBTree()
        for _timestamp, assertion_id in by_expiry:
            file_under(self.ids_by_hour, hour_of(self.expiry_by_id[assertion_id]), assertion_id)
