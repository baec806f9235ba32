"""The Contents tab: a container's children, a page at a time, sortable, with
Add, Rename and Delete (after confirmation) where the container's type says
its children are managed here."""

import re
from typing import NamedTuple

import colander
from pyramid.encode import urlencode
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.traversal import quote_path_segment
from pyramid.view import view_config

from ...i18n import _, shown
from ...resources.content import ContentContainer
from ...resources.folder import Folder
from ...resources.types import DEFAULT_COLUMNS, addable_types, lookup, title_of, type_info
from ..forms import text_node, text_value
from .changes import record_change
from .forms import ManageForm, search_form
from .listing import SORTABLE_UP_TO, key_below, name_page, sorted_page
from .tabs import children_tabs, for_editors, manage_page, manage_url, mgmt_view

NAME = re.compile(r'^[a-z0-9][a-z0-9._-]{0,79}$')
# Names that would shadow the management views in a URL.
RESERVED_PREFIX = 'manage'


class Row(NamedTuple):
    """A child as Contents lists it: its name, the address of its
    management (None where the person may not manage it) and its cells."""

    name: str
    manage_url: str | None
    cells: list


def columns_of(container):
    info = type_info(container)
    return info.columns if info is not None else DEFAULT_COLUMNS


def manages_children(container):
    info = type_info(container)
    return info is not None and info.manages_children


class JumpSchema(colander.Schema):
    start_at = text_node(_('Go to the name'), 100, 1)


def _params(request, small, column_count):
    sort = request.GET.get('sort', 'name')
    if not (small and sort.isascii() and sort.isdigit() and int(sort) < column_count):
        sort = 'name'
    try:
        # Sorted by a column, a container holds at most SORTABLE_UP_TO items.
        start = min(max(int(request.GET.get('start', 0)), 0), SORTABLE_UP_TO)
    except ValueError:
        start = 0
    return sort, request.GET.get('desc') == '1', start


def _page(context, request, columns, small, jump):
    """``(items, the query of the next page or None, sort, descending)``."""
    sort, descending, start = _params(request, small, len(columns))
    if sort != 'name':
        column = columns[int(sort)]
        items, more = sorted_page(
            context,
            # By the label as shown: the portal's own names in the page's language.
            lambda child: str(shown(request, column.value(child, request.locale_name))),
            start,
            descending=descending,
        )
        following = {'start': start + len(items)} if more else None
    else:
        after = request.GET.get('after') or None
        if jump is not None:
            # The page that starts at the first name from the one typed on.
            after, descending = key_below(jump['start_at']), False
        items, more = name_page(context, after, descending=descending)
        following = {'after': items[-1][0]} if more else None
    return items, following, sort, descending


@mgmt_view(
    'manage-contents',
    _('Contents'),
    for_editors(Folder, ContentContainer),
    order=10,
    template='contents',
    member_cache=True,
)
def contents(context, request):
    lang = request.locale_name
    columns = columns_of(context)
    small = len(context) <= SORTABLE_UP_TO
    jump_form, jump = search_form(request, JumpSchema(), _('Go'))
    items, following, sort, descending = _page(context, request, columns, small, jump)

    here = request.resource_url(context)

    def url(**query):
        return '%s@@manage-contents?%s' % (here, urlencode(query))

    # Name order is the BTree's own; other columns sort only small containers.
    orders = [('name', _('Name'))] + [
        (str(number) if small else None, column.title) for number, column in enumerate(columns)
    ]
    headings = [
        {
            'title': title,
            'url': key and url(sort=key, desc='1' if key == sort and not descending else '0'),
            'sorted': key == sort,
        }
        for key, title in orders
    ]
    managed = manages_children(context)
    manageable = children_tabs(request, context)
    rows = [
        Row(
            name,
            '%s%s/@@manage' % (here, quote_path_segment(name)) if manageable(child) else None,
            [shown(request, column.value(child, lang)) for column in columns],
        )
        for name, child in items
    ]
    return manage_page(
        request,
        context,
        rows=rows,
        headings=headings,
        managed=managed,
        descending=descending,
        count=len(context),
        jump_form=jump_form,
        next_url=url(sort=sort, desc=int(descending), **following) if following else None,
        first_url=url(sort=sort, desc=int(descending)),
        addable=addable_types(context) if managed else (),
    )


def _unique_name(container, title):
    base = re.sub(r'[^a-z0-9]+', '-', title.casefold()).strip('-')[:60]
    if not base or base.startswith(RESERVED_PREFIX):
        base = 'item'
    name, number = base, 1
    while name in container:
        number += 1
        name = '%s-%d' % (base, number)
    return name


@colander.deferred
def _new_name_validator(node, kw):
    container = kw['context']

    def validate(node, value):
        if not NAME.match(value) or value.startswith(RESERVED_PREFIX):
            raise colander.Invalid(
                node,
                _(
                    'Use small English letters, digits, "-", "_" or "." (at most 80), '
                    'not starting with "manage".'
                ),
            )
        if value in container:
            raise colander.Invalid(
                node, _('Something is already named "${name}" here.', mapping={'name': value})
            )

    return validate


def _name_node(**options):
    return colander.SchemaNode(
        colander.String(),
        name='name',
        title=_('Short name (in the address)'),
        preparer=lambda value: value.strip().lower() if isinstance(value, str) else value,
        validator=_new_name_validator,
        **options,
    )


@mgmt_view('manage-add', context=ContentContainer, permission='manage_content', template='form')
class AddView(ManageForm):
    button_titles = (('add', _('Add')),)
    return_tab = 'manage-contents'

    def __init__(self, context, request):
        super().__init__(context, request)
        self.info = lookup(request.params.get('type', ''))
        if self.info not in addable_types(context):
            raise HTTPNotFound()

    def schema(self):
        schema = self.info.schema()
        schema.insert(
            0,
            _name_node(missing='', description=_('Left empty, it is made from the English title.')),
        )
        return schema

    def show(self, rendered_form, **values):
        return super().show(
            rendered_form,
            form_title=_(
                'Add a ${type}', mapping={'type': self.request.localizer.translate(self.info.title)}
            ),
            **values,
        )

    def add_success(self, form, appstruct):
        name = appstruct.pop('name') or _unique_name(
            self.context, appstruct.get('title_en') or self.info.name
        )
        child = self.info.factory()
        self.info.set_properties(child, appstruct)
        self.context.add(name, child)
        record_change(
            self.request,
            'content.add',
            child,
            _(
                'Added ${type} "${title}"',
                mapping={
                    'type': self.info.title,
                    'title': title_of(child, self.request.locale_name),
                },
            ),
            type=self.info.name,
        )
        return HTTPSeeOther(manage_url(self.request, child))


def _child(context, request):
    child = context.get(text_value(request.params, 'name'))
    if child is None:
        raise HTTPNotFound()
    return child


class RenameSchema(colander.Schema):
    name = _name_node()


@mgmt_view('manage-rename', context=ContentContainer, permission='manage_content', template='form')
class RenameView(ManageForm):
    schema = RenameSchema
    button_titles = (('rename', _('Rename')),)
    return_tab = 'manage-contents'

    def __init__(self, context, request):
        super().__init__(context, request)
        self.child = _child(context, request)

    def show(self, rendered_form, **values):
        return super().show(
            rendered_form,
            form_title=_('Rename "${name}"', mapping={'name': self.child.__name__}),
            **values,
        )

    def appstruct(self):
        return {'name': self.child.__name__}

    def rename_success(self, form, appstruct):
        old_name = self.child.__name__
        self.context.rename(old_name, appstruct['name'])
        record_change(
            self.request,
            'content.rename',
            self.child,
            _('Renamed "${old}" to "${new}"', mapping={'old': old_name, 'new': appstruct['name']}),
            old=old_name,
        )
        return self.back()


@view_config(
    name='manage-delete',
    context=ContentContainer,
    permission='manage_content',
    renderer='manage/confirm_delete.jinja2',
)
def delete(context, request):
    child = _child(context, request)
    if request.method == 'POST':
        if 'delete' in request.POST:
            title = title_of(child, request.locale_name)
            context.remove(child.__name__)
            record_change(
                request,
                'content.delete',
                context,
                _('Deleted "${title}" (${name})', mapping={'title': title, 'name': child.__name__}),
                name=child.__name__,
            )
        return HTTPSeeOther(manage_url(request, context, 'manage-contents'))
    inside = len(child) if isinstance(child, Folder) else 0
    return manage_page(request, context, child=child, inside=inside)
