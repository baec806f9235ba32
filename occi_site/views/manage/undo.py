"""The Undo tab: recent transactions with who made them and what they did;
undo a chosen one, or the one a page just offered to undo.

ZODB undoes a transaction only while every object it wrote is unchanged
since (or the later change can be merged) and its history is not packed
away; whether it can is known only by trying, so the undo is committed here,
in the view, to tell the person plainly when it could not be done.

An undo that writes an account (a lock, a role change undone) ends the
account's sessions, as the change itself would: it puts the account's
earlier security stamp back, which a session not used since would match.
"""

import secrets
from base64 import decodebytes
from datetime import UTC, datetime

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from pyramid_zodbconn import get_connection
from ZODB.POSException import POSKeyError, UndoError
from ZODB.utils import get_pickle_metadata

from ...clock import OMAN
from ...i18n import _
from ...resources import database
from ...resources.account import Account
from ...resources.site import Site
from ...sessions import store
from ..forms import text_value
from .changes import UNDO_TOKEN, audit_apart
from .tabs import manage_page, manage_url, mgmt_view

SHOWN = 40
# How far back an Undo offer or a chosen transaction is looked for.
SEARCH_DEPTH = 400
ACCOUNT_CLASS = (Account.__module__, Account.__name__)


def recent_transactions(db, limit=SHOWN):
    """The changes made through /manage (undos included), newest first.

    Only they: each has its audit entry committed apart, before it (``record_change``). A
    member's, the gateway's or a worker's transaction writes its audit entries with its
    change, and undoing it would remove them."""
    found = [entry for entry in db.undoLog(0, SEARCH_DEPTH) if entry.get(UNDO_TOKEN)]
    return found[:limit]


def describe(entry):
    """The description a person wrote, after the request path pyramid_tm notes first."""
    lines = [line for line in entry['description'].splitlines() if line]
    return ' · '.join(lines[1:] or lines)


def accounts_written_by(db, undo_id):
    """The oids of the accounts the transaction ``undo_id`` (an undo log
    entry's id: its transaction id in base64, as FileStorage and RelStorage
    give it) wrote, known by their records' class without loading them."""
    tid = decodebytes(undo_id + b'\n')
    for written in db.storage.iterator(tid, tid):
        for record in written:
            if record.data and get_pickle_metadata(record.data) == ACCOUNT_CLASS:
                yield record.oid


def find_transaction(db, *, token=None, undo_id=None):
    for entry in recent_transactions(db, SEARCH_DEPTH):
        if (token and entry.get(UNDO_TOKEN) == token) or (
            undo_id and entry['id'].decode('ascii') == undo_id
        ):
            return entry
    return None


@mgmt_view('manage-undo', _('Undo'), Site, order=80, template='undo', request_method='GET')
def undo_list(context, request):
    db = database(request.registry)
    rows = [
        {
            'id': entry['id'].decode('ascii'),
            'when': datetime.fromtimestamp(entry['time'], UTC).astimezone(OMAN),
            'user': entry['user_name'],
            'description': describe(entry),
        }
        for entry in recent_transactions(db)
    ]
    return manage_page(request, context, rows=rows, supported=db.supportsUndo())


@view_config(name='manage-undo', context=Site, permission='manage', request_method='POST')
def undo(context, request):
    db = database(request.registry)
    translate = request.localizer.translate
    entry = find_transaction(
        db, token=text_value(request.POST, 'token'), undo_id=text_value(request.POST, 'id')
    )
    target = HTTPSeeOther(manage_url(request, context, 'manage-undo'))
    if entry is None:
        request.session.flash(
            translate(
                _(
                    'That change is no longer among the recent transactions, '
                    'so it cannot be undone here.'
                )
            )
        )
        return target
    description = describe(entry)
    user = request.authenticated_userid
    txn = request.tm.get()
    txn.note(translate(_('Undo: ${description}', mapping={'description': description})))
    # An undo is a change made here too: it may be undone in its turn.
    txn.setExtendedInfo(UNDO_TOKEN, secrets.token_urlsafe(9))
    db.undo(entry['id'], txn)
    connection, sessions = get_connection(request), store(request)
    for oid in accounts_written_by(db, entry['id']):
        try:
            civil_id = connection.get(oid).civil_id
        except POSKeyError:
            # An account whose creation was undone since: no sessions to end.
            continue
        sessions.end_all_of(civil_id)
    try:
        request.tm.commit()
    except UndoError as error:
        request.tm.abort()
        audit_apart(
            db,
            'undo',
            user=user,
            path='/',
            outcome='refused',
            details={'transaction': description, 'reason': str(error)},
        )
        message = _(
            'This change cannot be undone: something it changed has been changed again '
            'since, or the database was packed after it. Make the change by hand instead. '
            '(${reason})',
            mapping={'reason': str(error)},
        )
    else:
        audit_apart(db, 'undo', user=user, path='/', details={'transaction': description})
        message = _('Undone: ${description}', mapping={'description': description})
    # The flash message is stored in the session, in the request's next transaction.
    request.tm.begin()
    request.session.flash(translate(message))
    return target
