"""The Security tab: local roles on an object (and those it inherits), granted
and revoked by administrators."""

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.traversal import lineage
from pyramid.view import view_config

from ...i18n import _
from ...resources.publication import CONTENT_ROLE_TITLES, LocalRoles
from ...resources.types import title_of
from .changes import record_change
from .forms import ManageForm
from .tabs import manage_url, mgmt_view

# Site roles a local role may be granted to, besides single accounts.
ROLE_PRINCIPALS = ('role:editor', 'role:member')


@colander.deferred
def _principal_validator(node, kw):
    accounts = kw['request'].root['accounts']

    def validate(node, value):
        if value not in ROLE_PRINCIPALS and value not in accounts:
            raise colander.Invalid(
                node, _('No account has the civil ID "${value}".', mapping={'value': value})
            )

    return validate


@colander.deferred
def _role_widget(node, kw):
    translate = kw['request'].localizer.translate
    return deform.widget.SelectWidget(
        values=[(role, translate(title)) for role, title in CONTENT_ROLE_TITLES.items()]
    )


class LocalRoleSchema(colander.Schema):
    principal = colander.SchemaNode(
        colander.String(),
        title=_('Civil ID'),
        validator=_principal_validator,
        preparer=lambda value: value.strip() if isinstance(value, str) else value,
        description=_('Or role:editor for every editor of the portal.'),
    )
    role = colander.SchemaNode(
        colander.String(),
        title=_('Role'),
        widget=_role_widget,
        validator=colander.OneOf(tuple(CONTENT_ROLE_TITLES)),
    )


def _grants(resource):
    local_roles = getattr(resource, '__local_roles__', {})
    return [
        (principal, role)
        for principal, roles in sorted(local_roles.items())
        for role in sorted(roles)
    ]


@mgmt_view('manage-security', _('Security'), LocalRoles, order=40, template='security')
class SecurityView(ManageForm):
    schema = LocalRoleSchema
    button_titles = (('grant', _('Grant')),)

    def show(self, rendered_form, **values):
        inherited = []
        for node in list(lineage(self.context))[1:]:
            grants = _grants(node)
            if grants:
                inherited.append((title_of(node, self.request.locale_name), grants))
        return super().show(
            rendered_form,
            grants=_grants(self.context),
            role_titles=CONTENT_ROLE_TITLES,
            inherited=inherited,
            **values,
        )

    def grant_success(self, form, appstruct):
        principal, role = appstruct['principal'], appstruct['role']
        self.context.grant_local_role(principal, role)
        record_change(
            self.request,
            'security.grant',
            self.context,
            _(
                'Granted the local role ${role} to ${principal} on "${title}"',
                mapping={
                    'role': CONTENT_ROLE_TITLES[role],
                    'principal': principal,
                    'title': title_of(self.context, self.request.locale_name),
                },
            ),
            principal=principal,
            role=role,
        )
        return HTTPSeeOther(self.request.url)


@view_config(
    name='manage-security-revoke', context=LocalRoles, permission='manage', request_method='POST'
)
def revoke(context, request):
    principal = request.POST.get('principal', '')
    role = request.POST.get('role', '')
    if role in context.__local_roles__.get(principal, ()):
        context.revoke_local_role(principal, role)
        record_change(
            request,
            'security.revoke',
            context,
            _(
                'Revoked the local role ${role} of ${principal} on "${title}"',
                mapping={
                    'role': CONTENT_ROLE_TITLES.get(role, role),
                    'principal': principal,
                    'title': title_of(context, request.locale_name),
                },
            ),
            principal=principal,
            role=role,
        )
    return HTTPSeeOther(manage_url(request, context, 'manage-security'))
