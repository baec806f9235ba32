"""Registration: the form, the e-mail code (or link), the SMS code, then the
PKI login of the registered civil ID, in the browser that filled the form.

The registration in progress is a record of its own (``/registrations``),
named in this browser's session only; nothing is bound to the civil ID until
the PKI login proves it (``finish_registration``), which also logs the
person in.  The e-mailed link verifies the address from any browser, but the
registration goes on only in the one that filled the form.
"""

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _
from ..resources.account import RegistrationRefused
from ..resources.verification import normalise_mobile, typed
from .auth import add_login_purpose, finish_login, start_authentication
from .codes import (
    CODE_CHECKS_PER_IP_HOUR,
    CodeSchema,
    delivery_trouble,
    outcome_message,
    send_code,
    throttled,
)
from .forms import MOBILE, MOBILE_MESSAGE, FormView, text_value, typed_node

REGISTRATION = 'registration'
INVALID_EMAIL = _('Enter a valid e-mail address.')
REGISTERED = 'registered'
REGISTRATIONS_PER_IP_HOUR = 10
TAKEN = {
    'civil_id': _('This civil ID number is already registered.'),
    'email': _('This e-mail address is already registered.'),
    'mobile': _('This mobile number is already registered.'),
}


def email_address(node, value):
    """An e-mail address, at most as long as one can be (RFC 5321): one message either way."""
    colander.Email(msg=INVALID_EMAIL)(node, value)
    if len(value) > 254:
        raise colander.Invalid(node, INVALID_EMAIL)


def must_accept(node, value):
    if value is not True:
        raise colander.Invalid(node, _('Please accept the terms of use to register.'))


class RegistrationSchema(colander.Schema):
    full_name = typed_node(
        _('Full name (in English)'),
        colander.All(
            colander.Length(min=3, max=120),
            colander.Regex(
                r"^[A-Za-z][A-Za-z .'\-]+$", msg=_('Write your full name in English letters.')
            ),
        ),
    )
    civil_id = colander.SchemaNode(
        colander.String(),
        title=_('Civil ID number'),
        preparer=typed,
        validator=colander.Regex(
            r'^[0-9]{5,10}$', msg=_('Enter the civil ID number of your card: 5 to 10 digits.')
        ),
    )
    email = typed_node(
        _('E-mail'),
        email_address,
        widget=deform.widget.TextInputWidget(attributes={'type': 'email', 'autocomplete': 'email'}),
    )
    mobile = colander.SchemaNode(
        colander.String(),
        title=_('Mobile number'),
        preparer=normalise_mobile,
        description=_('An Omani mobile number, with or without +968.'),
        validator=colander.Regex(MOBILE, msg=MOBILE_MESSAGE),
        widget=deform.widget.TextInputWidget(attributes={'type': 'tel', 'autocomplete': 'tel'}),
    )
    accept_terms = colander.SchemaNode(
        colander.Boolean(),
        title=_('I accept the terms of use'),
        validator=must_accept,
        widget=deform.widget.CheckboxWidget(),
    )


def audit(request, action, civil_id, outcome='ok', user='', **details):
    """Audit a step of the registration of ``civil_id``, under its account's path. Until
    the PKI proves who registers, nobody is named as the ``user`` who did it: anyone can type
    someone else's civil ID."""
    request.root['audit'].record(
        action, user=user, path='/accounts/%s' % civil_id, outcome=outcome, details=details
    )


def taken(accounts, civil_id, email, mobile):
    """{field: message} for what an account other than an unproven one of ``civil_id`` holds."""
    own = accounts.get(civil_id)
    errors = {}
    if accounts.registered(civil_id) is not None:
        errors['civil_id'] = TAKEN['civil_id']
    for field, value in (('email', email), ('mobile', mobile)):
        holder = accounts.holder(field, value)
        if holder is not None and holder is not own:
            errors[field] = TAKEN[field]
    return errors


def send_email_code(request, registration):
    def link(token):
        return request.route_url(
            'register_verify_email', _query={'registration': registration.key, 'token': token}
        )

    return send_code(request, registration.email_check, registration.full_name, link=link)


def send_mobile_code(request, registration):
    return send_code(request, registration.mobile_check, registration.full_name)


def current_registration(request):
    """The registration this browser filled, while it lasts."""
    key = request.session.get(REGISTRATION)
    return None if key is None else request.root['registrations'].get(key, request.now)


STEP_ROUTES = {
    'email': 'register_verify_email',
    'mobile': 'register_verify_mobile',
    'pki': 'register_confirm',
}


@view_config(route_name='register', renderer='registration/register.jinja2')
class RegisterView(FormView):
    schema = RegistrationSchema
    buttons = (deform.Button('submit', _('Submit')),)

    def __call__(self):
        if self.request.identity is not None:
            return HTTPSeeOther(self.request.route_url('account'))
        return super().__call__()

    def show(self, rendered_form, **values):
        return dict(values, form=rendered_form, crumbs=[(_('Registration'), None)])

    def submit_success(self, form, appstruct):
        request = self.request
        message = throttled(request, 'register', REGISTRATIONS_PER_IP_HOUR)
        if message:
            return self.invalid(form, appstruct, civil_id=message)
        civil_id, email, mobile = appstruct['civil_id'], appstruct['email'], appstruct['mobile']
        errors = taken(request.root['accounts'], civil_id, email, mobile)
        if errors:
            audit(request, 'register.submit', civil_id, outcome='refused', fields=sorted(errors))
            return self.invalid(form, appstruct, **errors)
        registration = request.root['registrations'].start(
            civil_id, appstruct['full_name'], email, mobile, request.locale_name, request.now
        )
        refused = send_email_code(request, registration)
        if refused:
            request.root['registrations'].pop(registration.key, request.now)
            return self.invalid(form, appstruct, email=refused)
        audit(request, 'register.submit', civil_id)
        request.session[REGISTRATION] = registration.key
        return HTTPSeeOther(request.route_url('register_verify_email'))


class CodeStep(FormView):
    """A verification step: one code field, Verify, and "send a new code"."""

    schema = CodeSchema
    buttons = (deform.Button('verify', _('Verify')),)
    channel = None
    crumb = None

    def __call__(self):
        self.registration = current_registration(self.request)
        if self.registration is None:
            return HTTPSeeOther(self.request.route_url('register'))
        if self.registration.step != self.channel:
            return HTTPSeeOther(self.request.route_url(STEP_ROUTES[self.registration.step]))
        return super().__call__()

    @property
    def check(self):
        return self.registration.check_of(self.channel)

    def show(self, rendered_form, **values):
        return dict(
            values,
            form=rendered_form,
            registration=self.registration,
            channel=self.channel,
            trouble=delivery_trouble(self.request, self.check),
            next_send_at=self.check.next_send_at(self.request.now),
            crumbs=[(_('Registration'), None), (self.crumb, None)],
        )

    def verify_success(self, form, appstruct):
        request = self.request
        message = throttled(request, 'verify', CODE_CHECKS_PER_IP_HOUR)
        if message:
            return self.invalid(form, appstruct, code=message)
        outcome = self.check.verify(appstruct['code'], request.now)
        audit(
            request,
            'register.verify_%s' % self.channel,
            self.registration.civil_id,
            outcome=outcome,
        )
        if outcome == 'ok':
            return self.verified()
        return self.invalid(form, appstruct, code=outcome_message(self.check, outcome))


def email_verified(request, registration):
    """The e-mail is proven: the SMS code goes out."""
    refused = send_mobile_code(request, registration)
    if refused:
        request.session.flash(request.localizer.translate(refused))


@view_config(route_name='register_verify_email', renderer='registration/verify.jinja2')
class VerifyEmailView(CodeStep):
    channel = 'email'
    crumb = _('E-mail verification')

    def verified(self):
        email_verified(self.request, self.registration)
        return HTTPSeeOther(self.request.route_url('register_verify_mobile'))


@view_config(
    route_name='register_verify_email',
    request_param='token',
    renderer='registration/verify.jinja2',
    # The link's secret token is its proof: no session, no CSRF token needed.
    require_csrf=False,
)
def follow_email_link(request):
    """The mailed link: opening it shows Verify, pressing Verify proves the
    address.  Mail readers fetch the links of the messages they deliver: a
    fetch alone proves nothing, and starts no session."""
    key = text_value(request.params, 'registration')
    token = text_value(request.params, 'token')
    registration = request.root['registrations'].get(key, request.now)
    values = {
        'form': None,
        'crumbs': [(_('Registration'), None), (VerifyEmailView.crumb, None)],
    }
    usable = registration is not None and registration.step == 'email'
    pressed = request.method == 'POST'
    if usable and not pressed:
        return dict(values, link_to_confirm={'registration': key, 'token': token})
    outcome = 'used'
    if usable:
        outcome = registration.email_check.verify(token, request.now, link=True)
    # A link of no registration is audited nowhere: anyone can make one up;
    # nor a fetch of a used one: mail readers fetch links again and again.
    if registration is not None and pressed:
        audit(request, 'register.verify_email_link', registration.civil_id, outcome=outcome)
    if outcome != 'ok':
        request.response.status = 400
        return dict(values, link_failed=True)
    email_verified(request, registration)
    if request.session.get(REGISTRATION) == registration.key:
        return HTTPSeeOther(request.route_url('register_verify_mobile'))
    # Another browser (the mail reader's): the registration goes on where it began.
    return dict(values, link_verified_elsewhere=True)


@view_config(route_name='register_verify_mobile', renderer='registration/verify.jinja2')
class VerifyMobileView(CodeStep):
    channel = 'mobile'
    crumb = _('Mobile verification')

    def verified(self):
        return HTTPSeeOther(self.request.route_url('register_confirm'))


@view_config(route_name='register_confirm', renderer='registration/confirm.jinja2')
def confirm(request):
    """The last step: the PKI login of the civil ID on the form, which binds it."""
    registration = current_registration(request)
    if registration is None:
        return HTTPSeeOther(request.route_url('register'))
    if registration.step != 'pki':
        return HTTPSeeOther(request.route_url(STEP_ROUTES[registration.step]))
    if request.method == 'POST':
        return start_authentication(
            request, purpose='registration', came_from=request.route_path('register_done')
        )
    return {
        'registration': registration,
        'crumbs': [(_('Registration'), None), (_('Confirm with the PKI'), None)],
    }


def refusal(request, status, message, **values):
    """The ACS page saying why the registration was not completed."""
    request.response.status = status
    return dict(values, message=message)


def finish_registration(request, pending, authentication):
    """The PKI answered for this browser's registration: if it proved the civil ID on
    the form, the account is made (or, from before such proofs, takes these details)
    and the person is logged in."""
    registration = current_registration(request)
    if registration is None or registration.step != 'pki':
        message = _('This registration has expired. Please register again.')
        return refusal(request, 400, message, register=True)
    civil_id = registration.civil_id
    if authentication.civil_id != civil_id:
        proven = authentication.civil_id
        audit(request, 'register.proof_mismatch', civil_id, 'refused', user=proven, proven=proven)
        message = _(
            'You logged in with another civil ID than the one on the registration form. '
            'Please confirm with the card or Mobile ID of civil ID ${civil_id}.',
            mapping={'civil_id': civil_id},
        )
        return refusal(request, 403, message, retry_registration=True)
    try:
        account = request.root['accounts'].register(registration, request.now, request)
    except RegistrationRefused as refused:
        audit(request, 'register.complete', civil_id, 'refused', user=civil_id, field=refused.field)
        return refusal(request, 409, TAKEN[refused.field], register=True)
    request.root['registrations'].pop(registration.key, request.now)
    audit(
        request,
        'register.complete',
        account.civil_id,
        user=account.civil_id,
        method=authentication.method,
    )
    response = finish_login(request, pending, authentication)
    request.session[REGISTERED] = account.civil_id
    return response


@view_config(route_name='register_resend', request_method='POST')
def resend(request):
    registration = current_registration(request)
    if registration is None:
        return HTTPSeeOther(request.route_url('register'))
    step = registration.step
    if step == 'pki':
        return HTTPSeeOther(request.route_url('register_confirm'))
    send = send_email_code if step == 'email' else send_mobile_code
    refused = send(request, registration)
    if refused:
        request.session.flash(request.localizer.translate(refused))
    else:
        audit(request, 'register.resend', registration.civil_id, channel=step)
        request.session.flash(request.localizer.translate(_('A new code has been sent.')))
    return HTTPSeeOther(request.route_url(STEP_ROUTES[step]))


@view_config(route_name='register_done', renderer='registration/done.jinja2')
def done(request):
    civil_id = request.authenticated_userid
    if civil_id is None or request.session.get(REGISTERED) != civil_id:
        return HTTPSeeOther(request.route_url('register'))
    return {'crumbs': [(_('Registration'), None)]}


def includeme(config):
    add_login_purpose(config, 'registration', finish_registration)
    config.add_route('register', '/register')
    # Each step after the form: route ``register_verify_email`` at /register/verify-email...
    for step in ('verify-email', 'verify-mobile', 'confirm', 'resend', 'done'):
        config.add_route('register_' + step.replace('-', '_'), '/register/' + step)
    config.scan(__name__)
