"""Site settings an administrator edits in /manage, starting with the fee schedule."""

from persistent import Persistent
from persistent.mapping import PersistentMapping

# Annual fee by grade in baisa.  Fourth is the chamber's published figure
# (RO 25); the others are starting values an administrator sets in /manage.
DEFAULT_ANNUAL_FEES = {
    'Excellent': 200_000,
    'First': 100_000,
    'Second': 75_000,
    'Third': 50_000,
    'Fourth': 25_000,
}
DEFAULT_SERVICE_FEES = {
    'new_membership': 0,
    'certificate': 4_000,
    'change_name': 4_000,
    'change_grade': 4_000,
}


class FeeSchedule(Persistent):
    """Fees in integer baisa: the annual fee per grade and a fee per service."""

    __name__ = None
    __parent__ = None
    title = 'Fee schedule'

    def __init__(self):
        self.annual_fees = PersistentMapping(DEFAULT_ANNUAL_FEES)
        self.service_fees = PersistentMapping(DEFAULT_SERVICE_FEES)

    def annual_fee(self, grade):
        return self.annual_fees[grade]

    def service_fee(self, service):
        return self.service_fees[service]


class Settings(Persistent):
    __name__ = None
    __parent__ = None
    title = 'Settings'

    def __init__(self):
        self.fees = FeeSchedule()
        self.fees.__parent__ = self
        self.fees.__name__ = 'fees'

    def __getitem__(self, name):
        if name == 'fees':
            return self.fees
        raise KeyError(name)
