"""The Database tab: size and object count, and packing away old history."""

import colander
from pyramid.httpexceptions import HTTPSeeOther

from ...i18n import _
from ...resources import database
from ...resources.site import Site
from .changes import audit_apart
from .forms import ManageForm
from .tabs import mgmt_view


class PackSchema(colander.Schema):
    days = colander.SchemaNode(
        colander.Integer(),
        title=_('Keep the history of the last (days)'),
        default=7,
        validator=colander.Range(min=0, max=3650),
        description=_(
            'Packing removes older versions of objects: changes older than '
            'this can no longer be undone.'
        ),
    )


@mgmt_view('manage-database', _('Database'), Site, order=90, template='database')
class DatabaseView(ManageForm):
    schema = PackSchema
    button_titles = (('pack', _('Pack')),)

    def show(self, rendered_form, **values):
        db = database(self.request.registry)
        return super().show(
            rendered_form,
            size=db.getSize(),
            objects=db.objectCount(),
            storage=db.storage.getName(),
            undo=db.supportsUndo(),
            **values,
        )

    def pack_success(self, form, appstruct):
        db = database(self.request.registry)
        days = appstruct['days']
        # Packing is not transactional: audit first, in a transaction of its own.
        audit_apart(
            db,
            'database.pack',
            user=self.request.authenticated_userid,
            path='/',
            details={'days': str(days)},
        )
        db.pack(days=days)
        self.request.session.flash(
            self.request.localizer.translate(
                _(
                    'The database was packed; the history of the last ${days} days is kept.',
                    mapping={'days': days},
                )
            )
        )
        return HTTPSeeOther(self.request.url)
