"""Views that exist only in tests, included through ``pyramid.includes``,
to exercise the foundation's transaction and form machinery."""

import colander
import deform
from pyramid.csrf import get_csrf_token
from pyramid.security import remember
from pyramid.view import view_config
from ZODB.POSException import ConflictError

from occi_site.integrations.mail import send_mail
from occi_site.integrations.sms import send_sms


class ProbeError(Exception):
    pass


@view_config(route_name='probe_mail_then_fail')
def mail_then_fail(request):
    send_mail(request, 'someone@example.om', 'Probe', 'This must never be sent.')
    send_sms(request, '99000001', 'This must never be sent.')
    raise ProbeError('the request fails after queuing mail')


@view_config(route_name='probe_mail', renderer='string')
def mail(request):
    send_mail(request, 'someone@example.om', 'Probe', 'Committed mail.')
    send_sms(request, '99000001', 'Committed SMS.')
    return 'sent'


class AgeSchema(colander.Schema):
    age = colander.SchemaNode(colander.Integer(), validator=colander.Range(min=18))


@view_config(route_name='probe_form', renderer='string')
def form(request):
    form = deform.Form(AgeSchema(), buttons=('submit',))
    try:
        form.validate(request.params.items())
    except deform.ValidationFailure as failure:
        return failure.render()
    return 'valid'


@view_config(route_name='probe_post', request_method='GET', renderer='string')
def token(request):
    return get_csrf_token(request)


@view_config(route_name='probe_post', request_method='POST', renderer='string')
def post(request):
    return 'accepted'


@view_config(route_name='probe_company', renderer='json')
def company(request):
    found = request.commercial_registry.company(request.matchdict['cr'])
    return {'name_en': found.name_en if found else None}


@view_config(route_name='probe_login', renderer='string')
def login(request):
    """Start a session for an existing active account, as PKI login does."""
    remember(request, request.matchdict['civil_id'])
    return 'logged in'


@view_config(route_name='probe_flash', renderer='string')
def flash(request):
    """A message for the next page, as a view that redirects leaves one."""
    request.session.flash(request.GET['message'])
    return 'flashed'


@view_config(route_name='probe_kept', renderer='json', member_cache=True)
def kept(request):
    """A member's page kept rendered, shown as text or accepted (202) where
    the request says so, as a view can choose another renderer or status for
    one request."""
    if 'X-Probe-As-Text' in request.headers:
        request.override_renderer = 'string'
    if 'X-Probe-Accepted' in request.headers:
        request.response.status = 202
    return {'civil_id': request.identity.civil_id}


class ConflictAtCommit:
    """A data manager whose vote fails as a conflicting storage's does."""

    transaction_manager = None

    def sortKey(self):
        return 'probe-conflict'

    def abort(self, transaction):
        pass

    tpc_begin = commit = tpc_finish = tpc_abort = abort

    def tpc_vote(self, transaction):
        raise ConflictError('probe: conflict at commit')


@view_config(route_name='probe_conflict', renderer='string')
def conflict(request):
    """Conflicts on the first ``times`` attempts, in the view or at commit."""
    attempt = request.environ.get('retry.attempt', 0)
    if attempt < int(request.matchdict['times']):
        if request.matchdict['where'] == 'view':
            raise ConflictError('probe: conflict in the view')
        request.tm.get().join(ConflictAtCommit())
    return 'done on attempt %d' % (attempt + 1)


def includeme(config):
    config.add_route('probe_conflict', '/_probe/conflict/{where}/{times}')
    config.add_route('probe_login', '/_probe/login/{civil_id}')
    config.add_route('probe_flash', '/_probe/flash')
    config.add_route('probe_kept', '/_probe/kept')
    config.add_route('probe_company', '/_probe/company/{cr}')
    config.add_route('probe_post', '/_probe/post')
    config.add_route('probe_mail_then_fail', '/_probe/mail-then-fail')
    config.add_route('probe_mail', '/_probe/mail')
    config.add_route('probe_form', '/_probe/form')
    config.scan(__name__)
