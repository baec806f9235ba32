"""My account: the member's own details, and a change of e-mail or mobile.

A new e-mail address or mobile number replaces the old one only once a code
sent to it is typed back, with the same limits as registration's codes; the
old address is then told of the change.  Contacts kept from before
registration ended with a PKI login are confirmed here by their holder.
"""

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _
from ..resources.account import ContactTaken
from .codes import (
    CODE_CHECKS_PER_IP_HOUR,
    CodeSchema,
    delivery_trouble,
    limited,
    outcome_message,
    send_code,
    throttled,
)
from .forms import FormView
from .registration import TAKEN, RegistrationSchema

CHANGES_PER_ACCOUNT_HOUR = 5
TITLES = {'email': _('Change your e-mail address'), 'mobile': _('Change your mobile number')}
NEW_TITLES = {'email': _('New e-mail address'), 'mobile': _('New mobile number')}
CHANGED = {
    'email': _('Your e-mail address is changed.'),
    'mobile': _('Your mobile number is changed.'),
}


def audit(request, action, outcome='ok', **details):
    civil_id = request.authenticated_userid
    request.root['audit'].record(
        action, user=civil_id, path='/accounts/%s' % civil_id, outcome=outcome, details=details
    )


def channel_of(request):
    return request.matchdict['channel']


def account_url(request):
    return request.route_url('account')


@view_config(route_name='account', renderer='account/account.jinja2', permission='member')
def my_account(request):
    account = request.identity
    return {
        'member': account,
        'changes': {channel: account.contact_change(channel) for channel in TITLES},
        'crumbs': [(_('My account'), None)],
    }


@view_config(route_name='account_confirm_contacts', request_method='POST', permission='member')
def confirm_contacts(request):
    request.identity.confirm_contacts(request.now)
    audit(request, 'account.confirm_contacts')
    request.session.flash(
        request.localizer.translate(_('Thank you: your e-mail and mobile number are confirmed.'))
    )
    return HTTPSeeOther(account_url(request))


def new_address_schema(channel):
    """One field, the new address, checked as the registration form checks it."""
    node = RegistrationSchema()[channel].clone()
    node.name = 'address'
    node.title = NEW_TITLES[channel]
    schema = colander.Schema()
    schema.add(node)
    return schema


@view_config(route_name='account_change', renderer='account/change.jinja2', permission='member')
class ChangeContactView(FormView):
    """The new address; a code goes to it."""

    buttons = (deform.Button('send', _('Send a code')),)

    def __init__(self, context, request):
        super().__init__(context, request)
        self.channel = channel_of(request)

    def schema(self):
        return new_address_schema(self.channel)

    def show(self, rendered_form, **values):
        return dict(
            values,
            form=rendered_form,
            channel=self.channel,
            title=TITLES[self.channel],
            crumbs=[(_('My account'), account_url(self.request)), (TITLES[self.channel], None)],
        )

    def send_success(self, form, appstruct):
        request, channel = self.request, self.channel
        account = request.identity
        address = appstruct['address']
        if address.lower() == getattr(account, channel).lower():
            return self.invalid(
                form, appstruct, address=_('This is already the one on your account.')
            )
        # Counted before the address is looked up: asking whose an address
        # is counts as a change asked for.
        refused = limited(request, 'contact-change:%s' % account.civil_id, CHANGES_PER_ACCOUNT_HOUR)
        if refused:
            return self.invalid(form, appstruct, address=refused)
        holder = request.root['accounts'].holder(channel, address)
        if holder is not None:
            audit(request, 'account.change_%s' % channel, outcome='refused')
            return self.invalid(form, appstruct, address=TAKEN[channel])
        check = account.start_contact_change(channel, address)
        refused = send_code(request, check, account.full_name)
        if refused:
            account.drop_contact_change(channel)
            return self.invalid(form, appstruct, address=refused)
        audit(request, 'account.change_%s.start' % channel)
        return HTTPSeeOther(request.route_url('account_verify', channel=channel))


@view_config(route_name='account_verify', renderer='account/verify.jinja2', permission='member')
class VerifyContactView(FormView):
    """The code sent to the new address; typed back, the address is the account's."""

    schema = CodeSchema
    buttons = (deform.Button('verify', _('Verify')),)

    def __call__(self):
        request = self.request
        self.channel = channel_of(request)
        self.account = request.identity
        self.check = self.account.contact_change(self.channel)
        if self.check is None:
            return HTTPSeeOther(account_url(request))
        return super().__call__()

    def show(self, rendered_form, **values):
        return dict(
            values,
            form=rendered_form,
            channel=self.channel,
            address=self.check.address,
            title=TITLES[self.channel],
            trouble=delivery_trouble(self.request, self.check),
            next_send_at=self.check.next_send_at(self.request.now),
            crumbs=[(_('My account'), account_url(self.request)), (TITLES[self.channel], None)],
        )

    def verify_success(self, form, appstruct):
        request, channel, account = self.request, self.channel, self.account
        message = throttled(request, 'verify', CODE_CHECKS_PER_IP_HOUR)
        if message:
            return self.invalid(form, appstruct, code=message)
        outcome = self.check.verify(appstruct['code'], request.now)
        audit(request, 'account.change_%s.verify' % channel, outcome=outcome)
        if outcome != 'ok':
            return self.invalid(form, appstruct, code=outcome_message(self.check, outcome))
        account.drop_contact_change(channel)
        try:
            request.root['accounts'].change_contact(
                account, channel, self.check.address, request.now, request
            )
        except ContactTaken:
            request.session.flash(request.localizer.translate(TAKEN[channel]))
            return HTTPSeeOther(account_url(request))
        audit(request, 'account.change_%s' % channel)
        request.session.flash(request.localizer.translate(CHANGED[channel]))
        return HTTPSeeOther(account_url(request))


@view_config(route_name='account_resend', request_method='POST', permission='member')
def resend(request):
    channel = channel_of(request)
    account = request.identity
    check = account.contact_change(channel)
    if check is None:
        return HTTPSeeOther(account_url(request))
    refused = send_code(request, check, account.full_name)
    message = refused or _('A new code has been sent.')
    request.session.flash(request.localizer.translate(message))
    return HTTPSeeOther(request.route_url('account_verify', channel=channel))


@view_config(route_name='account_cancel', request_method='POST', permission='member')
def cancel(request):
    channel = channel_of(request)
    request.identity.drop_contact_change(channel)
    return HTTPSeeOther(account_url(request))


def includeme(config):
    config.add_route('account', '/account')
    config.add_route('account_confirm_contacts', '/account/confirm-contacts')
    for name, tail in (
        ('account_change', ''),
        ('account_verify', '/verify'),
        ('account_resend', '/resend'),
        ('account_cancel', '/cancel'),
    ):
        config.add_route(name, '/account/{channel:email|mobile}' + tail)
    config.scan(__name__)
