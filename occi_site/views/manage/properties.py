"""The Properties tab: any object whose type declares a schema, edited through it."""

from collections.abc import Mapping

from pyramid.httpexceptions import HTTPSeeOther

from ...i18n import _
from ...resources.content import ContentItem
from ...resources.types import title_of, type_info
from .changes import record_change
from .forms import ManageForm
from .tabs import decided_by_class, for_editors, mgmt_view


@decided_by_class
def has_schema(context):
    info = type_info(context)
    return info is not None and info.schema is not None


@mgmt_view(
    'manage-properties',
    _('Properties'),
    for_editors(object, ContentItem),
    condition=has_schema,
    order=20,
    template='form',
)
class PropertiesView(ManageForm):
    def __init__(self, context, request):
        super().__init__(context, request)
        self.info = type_info(context)

    def schema(self):
        return self.info.schema()

    def appstruct(self):
        return self.info.properties(self.context)

    def save_success(self, form, appstruct):
        request, context = self.request, self.context
        before = self.info.properties(context)
        if isinstance(context, ContentItem):
            # On a published item, without the right to publish it, the edit waits for review.
            online = context.edit(
                appstruct,
                request.authenticated_userid,
                request.now,
                may_publish=request.has_permission('publish', context),
            )
            if not online:
                request.session.flash(
                    request.localizer.translate(
                        _(
                            'Your changes wait for review: visitors see the published '
                            'version until they are published.'
                        )
                    )
                )
        else:
            self.info.set_properties(context, appstruct)
        # Fields outside ``before`` (an upload, "remove the image") count when set.
        changed = sorted(
            name
            for name, value in appstruct.items()
            if (before[name] != value if name in before else bool(value))
        )
        # A table of values (the fee schedule) says which of its entries changed.
        entries = [
            '%s: %s -> %s' % (key, before[name].get(key), value)
            for name in changed
            if isinstance(before.get(name), Mapping)
            for key, value in appstruct[name].items()
            if before[name].get(key) != value
        ]
        record_change(
            request,
            'properties',
            context,
            _(
                'Changed the properties of "${title}"',
                mapping={'title': title_of(context, request.locale_name)},
            ),
            fields=', '.join(changed),
            **({'changes': '; '.join(entries)} if entries else {}),
        )
        return HTTPSeeOther(request.url)
