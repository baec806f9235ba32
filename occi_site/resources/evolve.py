"""Numbered schema evolution steps.

The root records the generation its data is at; ``evolve`` runs, in order,
every step newer than that.  A step is never edited once released: a later
change to the schema is a new step.
"""

import logging
from datetime import UTC, datetime, timedelta

import transaction
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree, OOTreeSet

from .account import Accounts
from .assertions import AssertionLog
from .audit import AuditLog
from .captcha import Challenges
from .certificate import Certificates, new_verification_code
from .company import Companies
from .content import ContentArea
from .counters import Counters
from .document import IssuedDocuments
from .multi_index import LargeSet
from .notification import Notifications
from .order import (
    CLOSED_UNPAID_STATES,
    FINAL_DECISIONS,
    ORDER_SERVICES,
    ORDER_STATES,
    PAYMENT_WINDOW,
    REVIEW_WINDOW,
    Orders,
)
from .registration import Registrations
from .reports import Reports, oman_day
from .search import NameIndex, index_account, index_company
from .service_request import ServiceRequests
from .settings import Settings
from .throttle import Throttle

log = logging.getLogger(__name__)


def step_1_create_tree(site):
    """The containers of the object tree (DESIGN §3)."""
    site.add('content', ContentArea('Content'))
    site.add('companies', Companies('Companies'))
    site.add('accounts', Accounts('Accounts'))
    site.add('requests', ServiceRequests('Service requests'))
    site.add('orders', Orders('Orders'))
    site.add('certificates', Certificates('Certificates'))
    site.add('audit', AuditLog())
    site.add('settings', Settings())
    site.add('throttle', Throttle())
    site.add('assertions', AssertionLog())
    site.add('counters', Counters())


def step_2_audit_pair_indexes(site):
    """The audit log's indexes by path and by user become sets of pairs
    (today's layout, sharded too: see step 11)."""
    site['audit'].reindex()


def step_3_order_refunds(site):
    """Orders keep the refunds they owe; /orders filters by refund too."""
    orders = site['orders']
    for order in orders.values():
        if getattr(order, 'refunds', None) is None:
            order.refunds = OOBTree()
    orders.reindex()


def step_4_notifications(site):
    """``/notifications``: every e-mail and SMS, queued and delivered by a worker."""
    site.add('notifications', Notifications('Notifications'))


def step_5_registrations_end_at_the_pki(site):
    """Registrations in progress move out of the accounts into a store of their own,
    which the PKI login of their civil ID empties; captcha challenges are kept on the
    server.  Unfinished registrations (accounts still 'pending') had proven no civil ID:
    they are removed, and their people register again.  Finished accounts keep working;
    with no PKI proof of their e-mail and mobile, their holders are asked to confirm them
    (``Account.contacts_proven_at``)."""
    site.add('registrations', Registrations())
    site.add('captchas', Challenges())
    accounts = site['accounts']
    unfinished = []
    for count, (civil_id, account) in enumerate(accounts.items(), 1):
        if account.state == 'pending':
            unfinished.append(civil_id)
        elif 'registration' in account.__dict__:
            del account.registration
        if count % 10_000 == 0:
            # Let the accounts already walked leave memory.
            transaction.savepoint(optimistic=True)
            site._p_jar.cacheGC()
    for civil_id in unfinished:
        accounts.remove(civil_id)
    log.info('evolve step 5: %d unfinished registrations removed', len(unfinished))


# Objects an evolve step changes between savepoints, to keep its memory flat.
BATCH = 1000


def step_6_issued_documents(site):
    """The register of signed PDFs, and a verification code for every certificate."""
    site.add('documents', IssuedDocuments())
    for count, certificate in enumerate(site['certificates'].values(), 1):
        if certificate.verification_code is None:
            certificate.verification_code = new_verification_code()
        if count % BATCH == 0:
            connection = site._p_jar
            connection.transaction_manager.get().savepoint(optimistic=True)
            connection.cacheGC()


def step_7_reports(site):
    """The tallies of the chamber's reports, counted from the records there
    are; memberships admitted through the portal learn the day they were."""
    companies, requests = site['companies'], site['requests']
    for service_request in requests.find(['new_membership'], ['fulfilled'], limit=None):
        company = companies.get(service_request.cr_number)
        membership = None if company is None else company.membership
        if membership is not None and membership.joined_on is None:
            fulfilled = [
                when for when, state, _note in service_request.history if state == 'fulfilled'
            ]
            membership.joined_on = oman_day(fulfilled[-1])
    companies.retally()
    requests.index_companies()
    if 'reports' not in site:
        site.add('reports', Reports())
    site['reports'].recount(site)


def step_8_content_change_count(site):
    """The content area counts its changes, for the revision cached pages are kept by."""
    site['content'].change_count = Length()


def step_9_throttle_slots(site):
    """Rate limits count hits in ten-minute slots dropped whole, not per-key hit lists."""
    throttle = site['throttle']
    if not hasattr(throttle, 'slots'):
        del throttle.hits
        throttle.slots = LOBTree()


def step_10_shard_record_indexes(site):
    """The filter indexes of requests and orders spread over shards (record_index.py)."""
    for container in ('requests', 'orders'):
        site[container].filter_index.spread_over_shards()


def step_11_shard_the_audit_log(site):
    """The audit log's entries and its indexes spread over shards (audit.py);
    a log step 2 just converted is in that layout already."""
    site['audit'].reindex()


def step_12_assertions_by_hour(site):
    """The accepted SAML assertions indexed by hour of expiry (assertions.py)."""
    site['assertions'].index_by_hour()


def step_13_shard_the_notifications(site):
    """The notifications' due set and indexes spread over shards (notification.py)."""
    site['notifications'].spread_over_shards()


def _walk(folder):
    """``folder``'s children, memory kept flat: each BATCH, what was changed
    goes to a savepoint and what was only read leaves the cache."""
    connection = folder._p_jar
    for count, child in enumerate(folder.values(), 1):
        yield child
        if count % BATCH == 0:
            connection.transaction_manager.get().savepoint(optimistic=True)
            connection.cacheGC()


def step_14_compact_companies_and_accounts(site):
    """The name indexes keep no words per key (search.py) and file keys in
    large-bucket sets, as the expiry index does (multi_index.py); companies,
    memberships and accounts are stored without their attributes' names
    (compact.py)."""
    companies, accounts = site['companies'], site['accounts']
    companies.name_index = NameIndex()
    for company in _walk(companies):
        index_company(companies, company)
        company._p_changed = True
        if company.membership is not None:
            company.membership._p_changed = True
    for day, crs in list(companies.by_expiry.items()):
        companies.by_expiry[day] = LargeSet(crs)
    accounts.name_index = NameIndex()
    for account in _walk(accounts):
        index_account(accounts, account)
        account._p_changed = True


def step_15_company_change_count(site):
    """The companies count their changes, for the revision the administrators'
    search results are kept by."""
    site['companies'].change_count = Length()


def step_16_orders_closed_unpaid(site):
    """Orders closed unpaid after they went to the gateway are asked about once
    their payment window has closed: those made in the last day join the queue."""
    orders = site['orders']
    orders.closed_unpaid = OOTreeSet()
    since = datetime.now(UTC) - timedelta(days=1)
    for order in orders.find(ORDER_SERVICES, CLOSED_UNPAID_STATES, first=since, limit=None):
        if order.transaction_uuids:
            orders.closed_unpaid.insert((order.created + PAYMENT_WINDOW, order.__name__))


def step_17_orders_in_review(site):
    """Payments the gateway holds for review are followed until decided:
    those of the orders made within the review window join the list."""
    orders = site['orders']
    orders.in_review = OOTreeSet()
    since = datetime.now(UTC) - REVIEW_WINDOW
    for order in orders.find(ORDER_SERVICES, ORDER_STATES, first=since, limit=None):
        answers = [
            (when, fields.get('decision'), fields.get('req_transaction_uuid'))
            for when, fields in order.gateway_messages
            if fields.get('req_transaction_uuid') in order.transaction_uuids
        ]
        order.decided = tuple(
            {attempt: None for _when, decision, attempt in answers if decision in FINAL_DECISIONS}
        )
        for when, decision, attempt in answers:
            if decision == 'REVIEW':
                order.hold_for_review(attempt, when)


STEPS = (
    (1, step_1_create_tree),
    (2, step_2_audit_pair_indexes),
    (3, step_3_order_refunds),
    (4, step_4_notifications),
    (5, step_5_registrations_end_at_the_pki),
    (6, step_6_issued_documents),
    (7, step_7_reports),
    (8, step_8_content_change_count),
    (9, step_9_throttle_slots),
    (10, step_10_shard_record_indexes),
    (11, step_11_shard_the_audit_log),
    (12, step_12_assertions_by_hour),
    (13, step_13_shard_the_notifications),
    (14, step_14_compact_companies_and_accounts),
    (15, step_15_company_change_count),
    (16, step_16_orders_closed_unpaid),
    (17, step_17_orders_in_review),
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
