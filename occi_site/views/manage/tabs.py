"""Management tabs: ordinary views registered with a tab title and a permission.

``@mgmt_view(...)`` registers the view and records its tab; the tab bar of
an object is built from those records (the most specific registration of
each tab name for the object's class, as Pyramid's own view lookup picks
it), keeping only the tabs the person may use.  Tabs need the ``manage``
permission unless they say otherwise; ``context`` may map classes to
permissions to register one view for several contexts, e.g. ``manage`` on
any folder and ``manage_content`` on the editors' folders (``for_editors``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import venusian
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.interfaces import ISecurityPolicy
from pyramid.traversal import lineage, quote_path_segment
from pyramid.view import view_config

from ...i18n import _, shown
from ...resources.types import title_of, type_info


@dataclass(frozen=True)
class Tab:
    name: str
    title: str
    context: type
    permission: str
    order: int
    condition: Callable | None

    def applies_to(self, context):
        return isinstance(context, self.context) and (
            self.condition is None or self.condition(context)
        )


def decided_by_class(condition):
    """Marks a tab's condition whose answer depends only on the context's
    class, so that a listing asks it once per class rather than once per row."""
    condition.decided_by_class = True
    return condition


class ConditionPredicate:
    """View predicate ``manage_if=callable(context)``: the view applies only
    where the callable says so (e.g. to the /orders folder, not every folder)."""

    def __init__(self, condition, config):
        self.condition = condition

    def text(self):
        return 'manage_if = %s' % self.condition.__qualname__

    phash = text

    def __call__(self, context, request):
        return self.condition(context)


def add_mgmt_view(
    config,
    view,
    name,
    title=None,
    context=object,
    permission='manage',
    order=100,
    condition=None,
    template=None,
    **view_options,
):
    """Config directive: the view, and its tab when it has a ``title``;
    ``context`` is a class, a tuple of classes, or a mapping of classes to
    their permissions (see ``for_editors``); ``template`` names the page's
    template in ``templates/manage``."""
    if template is not None:
        view_options['renderer'] = 'manage/%s.jinja2' % template
    if condition is not None:
        view_options['manage_if'] = condition
    if isinstance(context, dict):
        contexts = context
    else:
        contexts = dict.fromkeys(context if isinstance(context, tuple) else (context,), permission)
    for cls, needed in contexts.items():
        config.add_view(view, name=name, context=cls, permission=needed, **view_options)
        if title is not None:
            config.registry.occi_mgmt_tabs.append(Tab(name, title, cls, needed, order, condition))


def for_editors(anywhere, within_content):
    """The contexts of a tab the administrators use on ``anywhere`` and the
    editors on ``within_content`` (the content area's objects)."""
    return {anywhere: 'manage', within_content: 'manage_content'}


class mgmt_view:
    """Decorator form of ``config.add_mgmt_view``, found by ``config.scan``."""

    def __init__(self, name, title=None, context=object, **settings):
        self.settings = dict(settings, name=name, title=title, context=context)

    def __call__(self, wrapped):
        settings = self.settings

        def callback(scanner, name, ob):
            scanner.config.with_package(info.module).add_mgmt_view(ob, **settings)

        info = venusian.attach(wrapped, callback, category='pyramid')
        return wrapped


def _tabs_by_specificity(registry, cls):
    """The tabs that may apply to instances of ``cls``, each name's most
    specific registration first; worked out once per class."""
    known = registry.occi_mgmt_tabs_by_class
    tabs = known.get(cls)
    if tabs is None:
        mro = cls.__mro__
        tabs = known[cls] = sorted(
            (tab for tab in registry.occi_mgmt_tabs if issubclass(cls, tab.context)),
            key=lambda tab: (tab.name, mro.index(tab.context)),
        )
    return tabs


def _applicable_tabs(request, context):
    """Each tab name's most specific registration that applies to ``context``."""
    chosen = {}
    for tab in _tabs_by_specificity(request.registry, type(context)):
        if tab.name not in chosen and tab.applies_to(context):
            chosen[tab.name] = tab
    return sorted(chosen.values(), key=lambda tab: (tab.order, tab.name))


def _allowed(request, context, tabs):
    """The tabs the person may use, asking once per permission."""
    permitted = {}
    for tab in tabs:
        if tab.permission not in permitted:
            permitted[tab.permission] = bool(request.has_permission(tab.permission, context))
        if permitted[tab.permission]:
            yield tab


def tabs_for(request, context):
    """The tabs of ``context`` that the person may use, in tab order."""
    return list(_allowed(request, context, _applicable_tabs(request, context)))


def has_tabs(request, context):
    """Whether the person may use any tab of ``context``."""
    return next(_allowed(request, context, _applicable_tabs(request, context)), None) is not None


def children_tabs(request, container):
    """``has_tabs`` for the children of ``container``, for a listing: a child
    whose own ACL names none of the person's principals inherits every
    answer from ``container`` (as Pyramid's ACL walk would give it), so each
    permission is asked once per listing rather than once per row."""
    registry = request.registry
    principals = registry.getUtility(ISecurityPolicy).principals(request)
    inherited = {}
    # The answer for every child of a class whose tabs' conditions, if any,
    # are decided by the class.
    by_class = {}

    def permitted(permission):
        if permission not in inherited:
            inherited[permission] = bool(request.has_permission(permission, container))
        return inherited[permission]

    def inherits_answer(child):
        """Each tab name's most specific registration that applies decides."""
        decided = set()
        for tab in _tabs_by_specificity(registry, type(child)):
            if tab.name not in decided and tab.applies_to(child):
                decided.add(tab.name)
                if permitted(tab.permission):
                    return True
        return False

    def may_use(child):
        acl = getattr(child, '__acl__', ())
        if callable(acl):
            acl = acl()
        if child.__parent__ is not container or any(ace[1] in principals for ace in acl):
            return has_tabs(request, child)
        cls = type(child)
        if cls in by_class:
            return by_class[cls]
        answer = inherits_answer(child)
        if all(
            tab.condition is None or getattr(tab.condition, 'decided_by_class', False)
            for tab in _tabs_by_specificity(registry, cls)
        ):
            by_class[cls] = answer
        return answer

    return may_use


def manage_url(request, resource, tab='manage'):
    # '@@' keeps a child that happens to share the tab's name out of the way.
    return request.resource_url(resource, '@@' + tab)


def manage_crumbs(request, context):
    lang = request.locale_name
    crumbs = []
    for node in reversed(list(lineage(context))[1:]):
        # An editor may manage /content but not the site above it: no crumb there.
        if has_tabs(request, node):
            label = _('Manage') if node.__parent__ is None else title_of(node, lang)
            crumbs.append((label, manage_url(request, node)))
    crumbs.append(
        (title_of(context, lang) if context.__parent__ is not None else _('Manage'), None)
    )
    return crumbs


def manage_page(request, context, **values):
    """The values every management page needs besides its own."""
    info = type_info(context)
    offers = request.session.pop_flash('undo')
    may_undo = request.has_permission('manage', request.root)
    values.update(
        context=context,
        heading=shown(
            request,
            _('Manage the portal')
            if context.__parent__ is None
            else title_of(context, request.locale_name),
        ),
        type_title=info.title if info is not None else '',
        tabs=tabs_for(request, context),
        crumbs=manage_crumbs(request, context),
        undo_offers=offers if may_undo else (),
        manage_url=manage_url_in(request, context),
    )
    return values


@dataclass(frozen=True)
class ManageUrlIn:
    """``manage_url`` for the page of ``context``: the children it lists get
    their container's address and their name, not each one's worked out
    from the root again.  Compared by that address alone (what it makes of
    any other resource depends only on the resource), so a kept management
    page (``page_cache.member_cache``) is recognised."""

    here: str
    context: object = field(compare=False)
    request: object = field(compare=False)

    def __call__(self, resource, tab='manage'):
        if resource.__parent__ is self.context and resource.__name__:
            return '%s%s/@@%s' % (self.here, quote_path_segment(resource.__name__), tab)
        return manage_url(self.request, resource, tab)


def manage_url_in(request, context):
    return ManageUrlIn(request.resource_url(context), context, request)


@view_config(name='manage')
def manage(context, request):
    """``/manage`` on any object: its first tab, if the person may use any."""
    tabs = tabs_for(request, context)
    if not tabs:
        raise HTTPForbidden()
    return HTTPSeeOther(manage_url(request, context, tabs[0].name))


def includeme(config):
    config.registry.occi_mgmt_tabs = []
    config.registry.occi_mgmt_tabs_by_class = {}
    config.add_view_predicate('manage_if', ConditionPredicate)
    config.add_directive('add_mgmt_view', add_mgmt_view)
    config.scan(__name__)
