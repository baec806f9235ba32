"""What /manage calls the chamber's own records and the columns their
containers list, declared once per class through ``config.add_content_type``
(the content area's classes declare theirs on the class, in resources).

Columns read only what the row's object holds itself: a listing of half a
million companies loads no membership to fill a cell.
"""

import colander
from persistent.mapping import PersistentMapping

from ...clock import OMAN
from ...i18n import _
from ...money import rials_text
from ...resources.account import Account, Accounts
from ...resources.assertions import AssertionLog
from ...resources.audit import AuditLog
from ...resources.captcha import Challenges
from ...resources.certificate import Certificate, Certificates
from ...resources.company import GRADE_TITLES, Companies, Company
from ...resources.counters import Counters
from ...resources.document import IssuedDocuments
from ...resources.notification import CHANNEL_TITLES, STATUS_TITLES, Notification, Notifications
from ...resources.order import ORDER_STATE_TITLES, Order, Orders
from ...resources.registration import Registrations
from ...resources.reports import Reports
from ...resources.service_request import REQUEST_STATE_TITLES, ServiceRequest, ServiceRequests
from ...resources.services import SERVICES
from ...resources.settings import DEFAULT_ANNUAL_FEES, DEFAULT_SERVICE_FEES, FeeSchedule, Settings
from ...resources.site import Site
from ...resources.throttle import Throttle
from ...resources.types import Column, content_type
from .accounts import ACCOUNT_STATE_TITLES
from .forms import Rials, rials_between

# 100,000 rials, in baisa.
HIGHEST_FEE = 100_000_000


def _in_language(english, arabic):
    return lambda obj, lang: getattr(obj, arabic if lang == 'ar' else english) or ''


def _titled(titles, attribute):
    return lambda obj, lang: titles.get(getattr(obj, attribute), '')


def _service(obj, lang):
    service = SERVICES.get(obj.service)
    return service.title if service is not None else ''


def _made(obj, lang):
    return obj.created.astimezone(OMAN).strftime('%Y-%m-%d %H:%M')


COMPANY_COLUMNS = (
    Column(_('Name in English'), lambda company, lang: company.name_en),
    Column(_('Name in Arabic'), lambda company, lang: company.name_ar),
)
ACCOUNT_COLUMNS = (
    Column(_('Full name'), lambda account, lang: account.full_name),
    Column(_('State'), _titled(ACCOUNT_STATE_TITLES, 'state')),
)
REQUEST_COLUMNS = (
    Column(_('Service'), _service),
    Column(_('CR number'), lambda record, lang: record.cr_number),
    Column(_('State'), _titled(REQUEST_STATE_TITLES, 'state')),
    Column(_('Made'), _made),
)
ORDER_COLUMNS = (
    Column(_('Service'), _service),
    Column(_('Amount (RO)'), lambda order, lang: rials_text(order.amount_baisa)),
    Column(_('State'), _titled(ORDER_STATE_TITLES, 'state')),
    Column(_('Made'), _made),
)
CERTIFICATE_COLUMNS = (
    Column(_('Company'), _in_language('name_en', 'name_ar')),
    Column(_('Grade'), _titled(GRADE_TITLES, 'grade')),
    Column(_('Expires on'), lambda certificate, lang: certificate.expires_on.isoformat()),
)
NOTIFICATION_COLUMNS = (
    Column(_('Channel'), _titled(CHANNEL_TITLES, 'channel')),
    Column(_('Recipient'), lambda notification, lang: notification.recipient),
    Column(_('Status'), _titled(STATUS_TITLES, 'status')),
    Column(_('Made'), _made),
)


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


def add_content_type(config, factory, name, title, **options):
    """Config directive: declare ``factory`` to the type registry under ``name``
    (a conflict, two declarations of one name, stops the start)."""
    config.action(
        ('occi_site content type', name),
        lambda: content_type(name, title, **options)(factory),
    )


def includeme(config):
    config.add_directive('add_content_type', add_content_type)
    declare = config.add_content_type
    declare(Site, 'site', _('Portal'))
    declare(Settings, 'settings', _('Settings'))
    declare(FeeSchedule, 'fee_schedule', _('Fee schedule'), schema=fee_schedule_schema)
    declare(Companies, 'companies', _('Companies'), columns=COMPANY_COLUMNS)
    declare(Company, 'company', _('Company'), label=_in_language('name_en', 'name_ar'))
    declare(Accounts, 'accounts', _('Accounts'), columns=ACCOUNT_COLUMNS)
    declare(Account, 'account', _('Account'), label=lambda account, lang: account.full_name)
    declare(ServiceRequests, 'service_requests', _('Service requests'), columns=REQUEST_COLUMNS)
    declare(ServiceRequest, 'service_request', _('Service request'))
    declare(Orders, 'orders', _('Orders'), columns=ORDER_COLUMNS)
    declare(Order, 'order', _('Order'))
    declare(Certificates, 'certificates', _('Certificates'), columns=CERTIFICATE_COLUMNS)
    declare(Certificate, 'certificate', _('Certificate'))
    declare(Notifications, 'notifications', _('Notifications'), columns=NOTIFICATION_COLUMNS)
    declare(Notification, 'notification', _('Notification'))
    # The portal's own records, kept beside the chamber's.
    declare(AuditLog, 'audit_log', _('Audit log'))
    declare(IssuedDocuments, 'issued_documents', _('Signed documents'))
    declare(Reports, 'report_tallies', _('Report tallies'))
    declare(Registrations, 'registrations', _('Registrations in progress'))
    declare(Counters, 'counters', _('Number sequences'))
    declare(Throttle, 'rate_limits', _('Rate limits'))
    declare(AssertionLog, 'assertion_log', _('Accepted PKI logins'))
    declare(Challenges, 'captcha_challenges', _('Captcha challenges'))
