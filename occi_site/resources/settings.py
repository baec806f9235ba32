"""Site settings an administrator edits in /manage, starting with the fee schedule."""

import colander
from persistent.mapping import PersistentMapping

from ..i18n import _
from ..money import Rials, rials_between
from .company import GRADE_TITLES
from .folder import Located
from .services import SERVICES
from .types import content_type

# 100,000 rials, in baisa.
HIGHEST_FEE = 100_000_000

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


def _fee_table(name, title, fees, title_of_fee):
    table = colander.SchemaNode(
        colander.Mapping(), name=name, title=title, preparer=PersistentMapping
    )
    for name in fees:
        table.add(
            colander.SchemaNode(
                Rials(),
                name=name,
                title=title_of_fee(name),
                validator=rials_between(0, HIGHEST_FEE),
            )
        )
    return table


def fee_schedule_schema():
    """The fee schedule, in rials with three decimals, kept as integer baisa.

    Each table is replaced whole on a change (a new PersistentMapping),
    which also keeps an undo of it whole."""
    schema = colander.SchemaNode(colander.Mapping())
    # The grade names are in the catalog (GRADE_TITLES), so their Arabic shows.
    schema.add(
        _fee_table(
            'annual_fees',
            _('Annual fee by grade (RO)'),
            DEFAULT_ANNUAL_FEES,
            lambda grade: GRADE_TITLES.get(grade, grade),
        )
    )
    schema.add(
        _fee_table(
            'service_fees',
            _('Fee of each service (RO)'),
            DEFAULT_SERVICE_FEES,
            lambda name: SERVICES[name].title if name in SERVICES else name,
        )
    )
    return schema


@content_type('fee_schedule', _('Fee schedule'), schema=fee_schedule_schema)
class FeeSchedule(Located):
    """Fees in integer baisa: the annual fee per grade and a fee per service."""

    title = _('Fee schedule')

    def __init__(self):
        self.annual_fees = PersistentMapping(DEFAULT_ANNUAL_FEES)
        self.service_fees = PersistentMapping(DEFAULT_SERVICE_FEES)

    def annual_fee(self, grade):
        return self.annual_fees[grade]

    def service_fee(self, service):
        return self.service_fees[service]


@content_type('settings', _('Settings'))
class Settings(Located):
    title = _('Settings')

    def __init__(self):
        self.fees = FeeSchedule()
        self.fees.__parent__ = self
        self.fees.__name__ = 'fees'

    def __getitem__(self, name):
        if name == 'fees':
            return self.fees
        raise KeyError(name)
