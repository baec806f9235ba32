"""Registration: the form, the e-mail code (or link), the SMS code, done.

The person being registered is remembered in the session under
``registering`` (a civil ID, not a login) between the steps; the e-mailed
link carries its own proof, so it also works from another browser.
"""

import re

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render
from pyramid.view import view_config

from ..i18n import _
from ..integrations.mail import send_mail
from ..integrations.sms import send_sms
from ..resources.account import Account
from ..resources.registration import Registration
from .forms import FormView

REGISTERING = 'registering'
REGISTRATIONS_PER_IP_HOUR = 10
CODE_CHECKS_PER_IP_HOUR = 30


def normalise_mobile(value):
    """Omani mobile numbers are 8 digits; accept +968, 00968 or 968 before them."""
    if not isinstance(value, str):
        return value
    digits = re.sub(r'[\s\-()]', '', value)
    for prefix in ('+968', '00968', '968'):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 8:
            return digits[len(prefix) :]
    return digits


def strip(value):
    return value.strip() if isinstance(value, str) else value


def must_accept(node, value):
    if value is not True:
        raise colander.Invalid(node, _('Please accept the terms of use to register.'))


class RegistrationSchema(colander.Schema):
    full_name = colander.SchemaNode(
        colander.String(),
        title=_('Full name (in English)'),
        preparer=strip,
        validator=colander.All(
            colander.Length(min=3, max=120),
            colander.Regex(
                r"^[A-Za-z][A-Za-z .'\-]+$", msg=_('Write your full name in English letters.')
            ),
        ),
    )
    civil_id = colander.SchemaNode(
        colander.String(),
        title=_('Civil ID number'),
        preparer=strip,
        validator=colander.Regex(
            r'^\d{5,10}$', msg=_('Enter the civil ID number of your card: 5 to 10 digits.')
        ),
    )
    email = colander.SchemaNode(
        colander.String(),
        title=_('E-mail'),
        preparer=strip,
        validator=colander.Email(msg=_('Enter a valid e-mail address.')),
        widget=deform.widget.TextInputWidget(attributes={'type': 'email', 'autocomplete': 'email'}),
    )
    mobile = colander.SchemaNode(
        colander.String(),
        title=_('Mobile number'),
        preparer=normalise_mobile,
        description=_('An Omani mobile number, with or without +968.'),
        validator=colander.Regex(
            r'^[79]\d{7}$',
            msg=_(
                'Enter an Omani mobile number: 8 digits starting with 9 or 7, with or without +968.'
            ),
        ),
        widget=deform.widget.TextInputWidget(attributes={'type': 'tel', 'autocomplete': 'tel'}),
    )
    accept_terms = colander.SchemaNode(
        colander.Boolean(),
        title=_('I accept the terms of use'),
        validator=must_accept,
        widget=deform.widget.CheckboxWidget(),
    )


class CodeSchema(colander.Schema):
    code = colander.SchemaNode(
        colander.String(),
        title=_('Verification code'),
        preparer=strip,
        validator=colander.Length(min=1, max=20),
        widget=deform.widget.TextInputWidget(attributes={'autocomplete': 'one-time-code'}),
    )


def audit(request, action, civil_id, outcome='ok', **details):
    request.root['audit'].record(
        action, user=civil_id, path='/accounts/%s' % civil_id, outcome=outcome, details=details
    )


def throttled(request, action, limit):
    """``None``, or a message saying when ``action`` from this address may be tried again."""
    retry_at = request.root['throttle'].hit(
        '%s:ip:%s' % (action, request.client_addr), request.now, limit=limit
    )
    return None if retry_at is None else try_again_message(request, retry_at)


def try_again_message(request, retry_at):
    minutes = max(1, int((retry_at - request.now).total_seconds() + 59) // 60)
    return _(
        'Too many attempts. Please try again in ${minutes} minutes.', mapping={'minutes': minutes}
    )


def send_email_code(request, account):
    code, token = account.registration.issue_email_code(request.now)
    link = request.route_url(
        'register_verify_email', _query={'civil_id': account.civil_id, 'token': token}
    )
    values = {'account': account, 'code': code, 'link': link}
    send_mail(
        request,
        account.email,
        request.localizer.translate(_('OCCI E-services verification code')),
        render('mail/verification.txt.jinja2', values, request),
        html=render('mail/verification.html.jinja2', values, request),
    )


def send_mobile_code(request, account):
    code = account.registration.issue_mobile_code(request.now)
    send_sms(
        request,
        account.mobile,
        request.localizer.translate(
            _(
                'Your OCCI E-services mobile verification code is ${code}. '
                'It is valid for 15 minutes.',
                mapping={'code': code},
            )
        ),
    )


def resend_verification(request, account):
    """Send a new code on the step the pending account is at (used by /manage too)."""
    if account.state != 'pending' or account.registration is None:
        return False
    if account.registration.email_verified_at is None:
        send_email_code(request, account)
    else:
        send_mobile_code(request, account)
    audit(request, 'register.resend', account.civil_id)
    return True


@view_config(route_name='register', renderer='registration/register.jinja2')
class RegisterView(FormView):
    schema = RegistrationSchema
    buttons = (deform.Button('submit', _('Submit')),)

    def show(self, rendered_form, **values):
        return dict(values, form=rendered_form, crumbs=[(_('Registration'), None)])

    def submit_success(self, form, appstruct):
        request = self.request
        message = throttled(request, 'register', REGISTRATIONS_PER_IP_HOUR)
        if message:
            return self.invalid(form, appstruct, civil_id=message)
        accounts = request.root['accounts']
        errors = {}
        holders = (
            (
                'civil_id',
                accounts.get(appstruct['civil_id']),
                _('This civil ID number is already registered.'),
            ),
            (
                'email',
                accounts.find_by_email(appstruct['email']),
                _('This e-mail address is already registered.'),
            ),
            (
                'mobile',
                accounts.find_by_mobile(appstruct['mobile']),
                _('This mobile number is already registered.'),
            ),
        )
        removed = set()
        for field, holder, text in holders:
            if holder is None or holder.civil_id in removed:
                continue
            if holder.state == 'pending' and holder.registration.is_stale(request.now):
                # An unfinished registration older than 24 hours gives way.
                accounts.remove(holder.civil_id)
                removed.add(holder.civil_id)
                audit(request, 'register.replace_stale', holder.civil_id)
            else:
                errors[field] = text
        if errors:
            audit(
                request,
                'register.submit',
                appstruct['civil_id'],
                outcome='refused',
                fields=sorted(errors),
            )
            return self.invalid(form, appstruct, **errors)
        account = Account(
            appstruct['civil_id'],
            appstruct['full_name'],
            appstruct['email'],
            appstruct['mobile'],
            language=request.locale_name,
        )
        account.registration = Registration(request.now)
        accounts.add(account.civil_id, account)
        send_email_code(request, account)
        audit(request, 'register.submit', account.civil_id)
        request.session[REGISTERING] = account.civil_id
        return HTTPSeeOther(request.route_url('register_verify_email'))


def pending_account(request):
    civil_id = request.session.get(REGISTERING)
    account = request.root['accounts'].get(civil_id) if civil_id else None
    if account is None or account.state != 'pending' or account.registration is None:
        return None
    return account


class CodeStep(FormView):
    """A verification step: one code field, Verify, and "send a new code"."""

    schema = CodeSchema
    buttons = (deform.Button('verify', _('Verify')),)
    channel = None
    crumb = None

    def __call__(self):
        self.account = pending_account(self.request)
        if self.account is None:
            return HTTPSeeOther(self.request.route_url('register'))
        redirect = self.redirect_if_done()
        if redirect is not None:
            return redirect
        return super().__call__()

    def redirect_if_done(self):
        return None

    def show(self, rendered_form, **values):
        registration = self.account.registration
        return dict(
            values,
            form=rendered_form,
            account=self.account,
            channel=self.channel,
            next_send_at=registration.next_send_at(self.channel, self.request.now),
            crumbs=[(_('Registration'), None), (self.crumb, None)],
        )

    def verify_success(self, form, appstruct):
        request = self.request
        message = throttled(request, 'verify', CODE_CHECKS_PER_IP_HOUR)
        if message:
            return self.invalid(form, appstruct, code=message)
        outcome = self.check(appstruct['code'])
        audit(request, 'register.verify_%s' % self.channel, self.account.civil_id, outcome=outcome)
        if outcome == 'ok':
            return self.verified()
        return self.invalid(form, appstruct, code=self.outcome_message(outcome))

    def outcome_message(self, outcome):
        code = getattr(self.account.registration, '%s_code' % self.channel)
        if outcome == 'wrong':
            return _(
                'This code is not correct. ${tries} tries left.', mapping={'tries': code.tries_left}
            )
        if outcome == 'expired':
            return _('This code has expired. Please ask for a new code.')
        if outcome == 'locked':
            return _('Too many wrong tries: this code no longer works. Please ask for a new code.')
        return _('This code has already been used. Please ask for a new code.')


@view_config(route_name='register_verify_email', renderer='registration/verify.jinja2')
class VerifyEmailView(CodeStep):
    channel = 'email'
    crumb = _('E-mail verification')

    def __call__(self):
        if 'token' in self.request.GET:
            return self.follow_link()
        return super().__call__()

    def redirect_if_done(self):
        if self.account.registration.email_verified_at is not None:
            return HTTPSeeOther(self.request.route_url('register_verify_mobile'))
        return None

    def check(self, code):
        return self.account.registration.verify_email(code, self.request.now)

    def verified(self):
        send_mobile_code(self.request, self.account)
        return HTTPSeeOther(self.request.route_url('register_verify_mobile'))

    def follow_link(self):
        request = self.request
        civil_id = request.GET.get('civil_id', '')
        account = request.root['accounts'].get(civil_id)
        outcome = 'used'
        if (
            account is not None
            and account.state == 'pending'
            and account.registration
            and account.registration.email_verified_at is None
        ):
            outcome = account.registration.verify_email(
                request.GET['token'], request.now, link=True
            )
        audit(request, 'register.verify_email_link', civil_id, outcome=outcome)
        if outcome != 'ok':
            request.response.status = 400
            return {
                'link_failed': True,
                'form': None,
                'account': None,
                'crumbs': [(_('Registration'), None), (self.crumb, None)],
            }
        self.account = account
        request.session[REGISTERING] = account.civil_id
        return self.verified()


@view_config(route_name='register_verify_mobile', renderer='registration/verify.jinja2')
class VerifyMobileView(CodeStep):
    channel = 'mobile'
    crumb = _('Mobile verification')

    def redirect_if_done(self):
        if self.account.registration.email_verified_at is None:
            return HTTPSeeOther(self.request.route_url('register_verify_email'))
        return None

    def check(self, code):
        return self.account.registration.verify_mobile(code, self.request.now)

    def verified(self):
        request = self.request
        account = self.account
        account.state = 'active'
        audit(request, 'register.complete', account.civil_id)
        send_mail(
            request,
            account.email,
            request.localizer.translate(_('Welcome to the OCCI E-services')),
            render('mail/welcome.txt.jinja2', {'account': account}, request),
        )
        request.session.pop(REGISTERING, None)
        request.session['registered'] = account.civil_id
        return HTTPSeeOther(request.route_url('register_done'))


@view_config(route_name='register_resend', request_method='POST')
def resend(request):
    account = pending_account(request)
    if account is None:
        return HTTPSeeOther(request.route_url('register'))
    channel = 'email' if account.registration.email_verified_at is None else 'mobile'
    step = 'register_verify_%s' % channel
    retry_at = account.registration.next_send_at(channel, request.now)
    if retry_at is not None:
        seconds = int((retry_at - request.now).total_seconds()) + 1
        request.session.flash(
            request.localizer.translate(
                _(
                    'Please wait ${seconds} seconds before asking for a new code.',
                    mapping={'seconds': seconds},
                )
            )
        )
        return HTTPSeeOther(request.route_url(step))
    resend_verification(request, account)
    request.session.flash(request.localizer.translate(_('A new code has been sent.')))
    return HTTPSeeOther(request.route_url(step))


@view_config(route_name='register_done', renderer='registration/done.jinja2')
def done(request):
    if request.session.get('registered') is None:
        return HTTPSeeOther(request.route_url('register'))
    return {'crumbs': [(_('Registration'), None)]}


def includeme(config):
    config.add_route('register', '/register')
    config.add_route('register_verify_email', '/register/verify-email')
    config.add_route('register_verify_mobile', '/register/verify-mobile')
    config.add_route('register_resend', '/register/resend')
    config.add_route('register_done', '/register/done')
    config.scan(__name__)
