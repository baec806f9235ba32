"""Accounts in /manage: find a person, lock or unlock the account, grant or
revoke the editor, admin and finance roles."""

import colander
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...resources.account import ACCOUNT_STATE_TITLES, Account, Accounts, AccountStateError
from ...resources.search import find_accounts
from ..forms import text_node
from .changes import record_change
from .forms import find_page
from .tabs import manage_page, manage_url, mgmt_view

PRIVILEGED_ROLES = {
    'editor': _('Editor'),
    'admin': _('Administrator'),
    'finance': _('Finance (reports, read only)'),
}
ACCOUNT_ROLE_TITLES = dict(PRIVILEGED_ROLES, member=_('Member'))
# What the accounts' templates name roles and states by.
TITLES = {'role_titles': ACCOUNT_ROLE_TITLES, 'state_titles': ACCOUNT_STATE_TITLES}


def account_action(button):
    """The Account tab's form sent with ``button`` pressed."""
    return view_config(
        name='manage-account',
        context=Account,
        permission='manage',
        request_method='POST',
        request_param=button,
    )


class AccountSearch(colander.Schema):
    text = text_node(_('Civil ID, name, e-mail or mobile'), 100, 2)


@mgmt_view('manage-search', _('Find'), Accounts, order=5, template='accounts')
def search(context, request):
    return find_page(request, context, AccountSearch(), find_accounts, **TITLES)


@mgmt_view(
    'manage-account', _('Account'), Account, order=5, template='account', request_method='GET'
)
def account(context, request):
    is_self = context.civil_id == request.authenticated_userid
    return manage_page(
        request, context, account=context, roles=PRIVILEGED_ROLES, is_self=is_self, **TITLES
    )


def _done(request, context, action, description, **details):
    record_change(request, action, context, description, civil_id=context.civil_id, **details)
    return HTTPSeeOther(manage_url(request, context, 'manage-account'))


def _refuse(request, context, message):
    request.session.flash(request.localizer.translate(message))
    return HTTPSeeOther(manage_url(request, context, 'manage-account'))


def _change_state(request, context, change, refusal, action, description):
    """``change()`` the account's state, or say ``refusal`` where its state forbids it."""
    try:
        change()
    except AccountStateError:
        return _refuse(request, context, refusal)
    return _done(request, context, action, _(description, mapping={'civil_id': context.civil_id}))


@account_action('lock')
def lock(context, request):
    if context.civil_id == request.authenticated_userid:
        return _refuse(request, context, _('You cannot lock your own account.'))
    refusal = _('Only an active account can be locked.')
    description = _('Locked the account of ${civil_id}')
    return _change_state(request, context, context.lock, refusal, 'account.lock', description)


@account_action('unlock')
def unlock(context, request):
    refusal = _('This account is not locked.')
    description = _('Unlocked the account of ${civil_id}')
    return _change_state(request, context, context.unlock, refusal, 'account.unlock', description)


@account_action('change_role')
def change_role(context, request):
    role = request.POST.get('role')
    grant = 'grant' in request.POST
    if role not in PRIVILEGED_ROLES:
        return _refuse(request, context, _('There is no such role.'))
    if not grant and role == 'admin' and context.civil_id == request.authenticated_userid:
        return _refuse(
            request, context, _('You cannot revoke your own admin role: ask another administrator.')
        )
    if grant:
        context.grant(role)
        description = _('Granted the role ${role} to ${civil_id}')
    else:
        context.revoke(role)
        description = _('Revoked the role ${role} of ${civil_id}')
    return _done(
        request,
        context,
        'account.grant' if grant else 'account.revoke',
        _(description, mapping={'role': PRIVILEGED_ROLES[role], 'civil_id': context.civil_id}),
        role=role,
    )
