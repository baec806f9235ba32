"""The Audit tab: the audit log of an object, or of the whole site at the
root, newest first, filtered by user, action and dates, a page at a time."""

from datetime import datetime, time, timedelta

import colander
from pyramid.traversal import resource_path

from ...clock import OMAN
from ...i18n import _
from ...resources.publication import LocalRoles
from .forms import date_node, search_form
from .tabs import for_editors, manage_page, mgmt_view

PAGE_SIZE = 50


class AuditFilter(colander.Schema):
    user = colander.SchemaNode(colander.String(), title=_('Civil ID of the user'), missing='')
    action = colander.SchemaNode(
        colander.String(),
        title=_('Action'),
        missing='',
        description=_('For example login, properties, workflow.publish'),
    )
    date_from = date_node(_('From (date)'))
    date_to = date_node(_('To (date)'))


def key_at(day):
    """The audit log's key at the start of ``day`` in Oman (AuditLog.record
    keys entries by microseconds since the epoch, times 1000)."""
    moment = datetime.combine(day, time(), OMAN)
    return int(moment.timestamp() * 1_000_000) * 1000


def entries(log, path, filters, before=None, limit=PAGE_SIZE):
    """``(entries, next before-key or None)`` of ``log`` under the filters."""
    if filters['date_to'] is not None:
        to_key = key_at(filters['date_to'] + timedelta(days=1))
        before = to_key if before is None else min(before, to_key)
    found = log.latest(
        limit,
        path=path,
        user=filters['user'] or None,
        action=filters['action'] or None,
        before=before,
    )
    kept = found
    if filters['date_from'] is not None:
        from_key = key_at(filters['date_from'])
        kept = [(key, entry) for key, entry in found if key >= from_key]
    more = len(found) == limit and len(kept) == limit
    return kept, (found[-1][0] if more else None)


@mgmt_view('manage-audit', _('Audit'), for_editors(object, LocalRoles), order=70, template='audit')
def audit(context, request):
    form, filters = search_form(request, AuditFilter(), _('Filter'))
    filters = filters or {'user': '', 'action': '', 'date_from': None, 'date_to': None}
    try:
        before = int(request.GET['before'])
    except (KeyError, ValueError):
        before = None
    whole_site = context.__parent__ is None
    path = None if whole_site else resource_path(context)
    found, older = entries(request.root['audit'], path, filters, before)
    rows = [
        dict(entry, key=key, when=datetime.fromisoformat(entry['when']).astimezone(OMAN))
        for key, entry in found
    ]
    older_url = (
        None
        if older is None
        else request.resource_url(context, '@@manage-audit', query=dict(request.GET, before=older))
    )
    return manage_page(
        request, context, form=form, rows=rows, older_url=older_url, whole_site=whole_site
    )
