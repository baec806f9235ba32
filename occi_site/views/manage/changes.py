"""Every change made through /manage is audited and described on its ZODB
transaction (user and description), so the Undo tab lists it meaningfully
and the page after it can offer "Undo" of that very transaction.

The audit entry is committed in a transaction of its own just before the
change's: undo reverts every object a transaction wrote, so an entry written
with the change would vanish with it (or make the undo fail on the log's
buckets).  A change whose commit then fails gets a second entry saying so.
"""

import secrets

import transaction
from pyramid.traversal import resource_path
from ZODB.POSException import ConflictError

from ...i18n import translate_all
from ...resources import ROOT_KEY, database

# The key of a transaction's extended info that marks a change made through /manage.
UNDO_TOKEN = 'occi_undo'
AUDIT_ATTEMPTS = 3


def audit_apart(db, action, *, user, path, outcome='ok', details=None):
    """Record an audit entry in a transaction of its own."""
    for attempt in range(AUDIT_ATTEMPTS):
        tm = transaction.TransactionManager(explicit=True)
        conn = db.open(transaction_manager=tm)
        try:
            with tm:
                txn = tm.get()
                txn.user = user
                txn.note('audit: %s %s' % (action, path))
                conn.root()[ROOT_KEY]['audit'].record(
                    action, user=user, path=path, outcome=outcome, details=details
                )
            return
        except ConflictError:
            if attempt == AUDIT_ATTEMPTS - 1:
                raise
        finally:
            conn.close()


def _audit_failed_commit(status, db, action, **entry):
    if not status:
        audit_apart(db, action, outcome='rolled back', **entry)


def record_change(request, action, context, description, **details):
    """Audit a change of ``context`` made in this request, describe the
    request's transaction with ``description`` and offer to undo it."""
    # The portal's own names in its mapping (a container's title) in the page's language too.
    text = translate_all(request.localizer, description, request.locale_name)
    entry = {
        'user': request.authenticated_userid or '',
        'path': resource_path(context),
        'details': {name: str(value) for name, value in details.items()},
    }
    token = secrets.token_urlsafe(9)
    txn = request.tm.get()
    txn.note(text)
    txn.setExtendedInfo(UNDO_TOKEN, token)
    db = database(request.registry)
    txn.addBeforeCommitHook(audit_apart, (db, action), entry)
    txn.addAfterCommitHook(_audit_failed_commit, (db, action), entry)
    request.session.flash(text)
    request.session.flash(token, 'undo')
