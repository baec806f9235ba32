"""Numbered schema evolution steps.

The root records the generation its data is at; ``evolve`` runs, in order,
every step newer than that.  A step is never edited once released: a later
change to the schema is a new step.
"""
import logging

from .account import Accounts
from .audit import AuditLog
from .company import Companies
from .folder import Folder
from .settings import Settings
from .throttle import Throttle

log = logging.getLogger(__name__)


def step_1_create_tree(site):
    """The containers of the object tree (DESIGN §3)."""
    site.add('content', Folder('Content'))
    site.add('companies', Companies('Companies'))
    site.add('accounts', Accounts('Accounts'))
    site.add('requests', Folder('Service requests'))
    site.add('orders', Folder('Orders'))
    site.add('certificates', Folder('Certificates'))
    site.add('audit', AuditLog())
    site.add('settings', Settings())
    site.add('throttle', Throttle())


STEPS = (
    (1, step_1_create_tree),
)

GENERATION = STEPS[-1][0]


def evolve_site(site):
    """Bring ``site`` to ``GENERATION``; returns the numbers of the steps run."""
    ran = []
    for number, step in STEPS:
        if number > site.generation:
            log.info('evolve step %d: %s', number, step.__doc__)
            step(site)
            site.generation = number
            ran.append(number)
    return ran
