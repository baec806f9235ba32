"""The Workflow tab: an item's state, the transitions the person may make,
and the history of who moved it, when and why."""

import colander
import deform
from pyramid.httpexceptions import HTTPForbidden

from ...i18n import _
from ...resources.publication import HISTORY_TITLES, PUBLICATION_STATE_TITLES, Workflowed
from ...resources.types import title_of
from ..forms import text_node
from .changes import record_change
from .forms import ManageForm
from .tabs import mgmt_view


def version_seen(item):
    """Which stored version of ``item`` a page shows: its last change's serial."""
    return item._p_serial.hex()


@colander.deferred
def _version_shown(node, kw):
    return version_seen(kw['context'])


class CommentSchema(colander.Schema):
    comment = text_node(
        _('Comment'),
        500,
        missing='',
        description=_('Kept in the history: say why, for the next person.'),
    )
    # The version the person read: a transition acts on that one only.
    seen = colander.SchemaNode(
        colander.String(),
        widget=deform.widget.HiddenWidget(),
        default=_version_shown,
        missing='',
    )


def allowed_transitions(request, item):
    return [t for t in item.transitions() if request.has_permission(t.permission, item)]


@mgmt_view(
    'manage-workflow',
    _('Workflow'),
    Workflowed,
    permission='manage_content',
    order=30,
    template='workflow',
)
class WorkflowView(ManageForm):
    schema = CommentSchema
    offers_cancel = False

    def __init__(self, context, request):
        self.allowed = allowed_transitions(request, context)
        self.button_titles = tuple((t.name, t.title) for t in self.allowed)
        super().__init__(context, request)

    def show(self, rendered_form, **values):
        return super().show(
            rendered_form,
            state=PUBLICATION_STATE_TITLES[self.context.state],
            changes_wait=self.context.changes is not None,
            history=reversed(self.context.workflow_history),
            may_act=bool(self.allowed),
            states=PUBLICATION_STATE_TITLES,
            history_titles=HISTORY_TITLES,
            **values,
        )

    def move(self, name, form, appstruct):
        chosen = next((t for t in self.allowed if t.name == name), None)
        if chosen is None:
            raise HTTPForbidden()
        if appstruct['seen'] != version_seen(self.context):
            # Changed by someone else since the page was opened: what would
            # be published (or sent back) is not what the person read.  The
            # form again, the comment kept, now for the version stored.
            form['seen'].cstruct = version_seen(self.context)
            return self.invalid(
                form,
                appstruct,
                comment=_(
                    'This item was changed after you opened this page: nothing was done. '
                    'Read it again, then choose.'
                ),
            )
        self.context.transition(
            name, self.request.authenticated_userid, self.request.now, appstruct['comment']
        )
        record_change(
            self.request,
            'workflow.%s' % name,
            self.context,
            _(
                '${transition}: "${title}"',
                mapping={
                    'transition': chosen.title,
                    'title': title_of(self.context, self.request.locale_name),
                },
            ),
            comment=appstruct['comment'],
        )
        return self.back()

    def __getattr__(self, attribute):
        # Each button is a transition: ``<transition>_success`` makes it.
        name = attribute.removesuffix('_success')
        if name == attribute:
            raise AttributeError(attribute)
        return lambda form, appstruct: self.move(name, form, appstruct)
