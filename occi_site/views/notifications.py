"""Notifications seen from outside the worker: the member's own list, and
the providers' signed delivery reports (``integrations/receipts.py``)."""

import logging

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ..clock import OMAN
from ..i18n import _
from ..integrations.receipts import SIGNATURE_HEADER, InvalidReport
from ..resources.notification import CHANNEL_TITLES, STATUS_TITLES
from . import member_page

log = logging.getLogger(__name__)
SHOWN = 100


@member_page('my_notifications', 'notifications/mine.jinja2')
def my_notifications(request):
    return {
        'rows': request.root['notifications'].for_member(request.identity.civil_id, SHOWN),
        'shown': SHOWN,
        'status_titles': STATUS_TITLES,
        'channel_titles': CHANNEL_TITLES,
        'in_oman': lambda moment: moment.astimezone(OMAN),
        'crumbs': [
            (_('My account'), request.route_url('account')),
            (_('Your notifications'), None),
        ],
    }


@view_config(
    route_name='notification_receipt', request_method='POST', require_csrf=False, renderer='json'
)
def receipt(request):
    """A provider's report on a message it took: delivered, or not deliverable."""
    channel = request.matchdict['channel']
    reports = {
        'email': request.registry.occi_mail_reports,
        'sms': request.registry.occi_sms_reports,
    }.get(channel)
    if reports is None:
        raise HTTPNotFound()
    try:
        report = reports.read(request.body, request.headers.get(SIGNATURE_HEADER), request.now)
    except InvalidReport as refused:
        log.warning('%s delivery report refused: %s', channel, refused)
        request.response.status = 400
        return {'error': str(refused)}
    notification = request.root['notifications'].for_report(report.reference)
    if notification is None or notification.channel != channel:
        request.response.status = 404
        return {'error': 'unknown reference'}
    notification.receipt(request.now, report.delivered, report.answer)
    return {'status': notification.status}


def includeme(config):
    config.add_route('my_notifications', '/account/notifications')
    config.add_route('notification_receipt', '/notifications/receipts/{channel}')
    config.scan(__name__)
