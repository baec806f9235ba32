"""Notifications in /manage: find them by status, channel, recipient and
date through the container's indexes; see one with its attempts and the
providers' answers; send a failed one again."""

import colander
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...clock import OMAN
from ...delivery import waiting
from ...i18n import _
from ...resources.notification import (
    ATTEMPT_OUTCOME_TITLES,
    CHANNEL_TITLES,
    CHANNELS,
    STATUS_TITLES,
    STATUSES,
    Notification,
    Notifications,
)
from ..forms import typed_node
from .changes import record_change
from .forms import choice_node, date_node, day_range, search_form
from .tabs import manage_page, manage_url, mgmt_view

LIMIT = 200
NO_FILTER = {'status': '', 'channel': '', 'recipient': '', 'date_from': None, 'date_to': None}


class NotificationFilter(colander.Schema):
    status = choice_node(_('Status'), _('Any status'), STATUS_TITLES)
    channel = choice_node(_('Channel'), _('E-mail and SMS'), CHANNEL_TITLES)
    recipient = typed_node(
        _('Recipient (e-mail address or mobile number)'),
        colander.Length(max=200),
        missing='',
    )
    date_from = date_node(_('Queued from (date)'))
    date_to = date_node(_('Queued until (date)'))


def filtered(context, filters, limit=LIMIT):
    first, last = day_range(filters['date_from'], filters['date_to'])
    return context.find(
        [filters['status']] if filters['status'] else list(STATUSES),
        [filters['channel']] if filters['channel'] else list(CHANNELS),
        recipient=filters['recipient'] or None,
        first=first,
        last=last,
        limit=limit,
    )


def in_oman(moment):
    return moment.astimezone(OMAN) if moment is not None else None


@mgmt_view('manage-search', _('Find'), Notifications, order=5, template='notifications')
def search(context, request):
    form, filters = search_form(request, NotificationFilter(), _('Filter'))
    return manage_page(
        request,
        context,
        form=form,
        rows=filtered(context, filters or NO_FILTER),
        limit=LIMIT,
        status_titles=STATUS_TITLES,
        channel_titles=CHANNEL_TITLES,
        in_oman=in_oman,
    )


@mgmt_view(
    'manage-notification',
    _('Notification'),
    Notification,
    order=5,
    template='notification',
    request_method='GET',
)
def notification(context, request):
    return manage_page(
        request,
        context,
        notification=context,
        status_titles=STATUS_TITLES,
        outcome_titles=ATTEMPT_OUTCOME_TITLES,
        channel_titles=CHANNEL_TITLES,
        in_oman=in_oman,
    )


@view_config(
    name='manage-notification',
    context=Notification,
    permission='manage',
    request_method='POST',
    request_param='resend',
)
def resend(context, request):
    if context.status != 'failed':
        request.session.flash(
            request.localizer.translate(_('Only a notification that failed can be sent again.'))
        )
    else:
        context.resend(request.now, request.authenticated_userid or '')
        waiting(request, context)
        record_change(
            request,
            'notification.resend',
            context,
            _(
                'Queued the notification to ${recipient} again',
                mapping={'recipient': context.recipient},
            ),
            channel=context.channel,
        )
    return HTTPSeeOther(manage_url(request, context, 'manage-notification'))
