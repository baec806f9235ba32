"""The type registry: one declaration, on the class, of what /manage needs to
know about a kind of object.

A class declares itself with ``@content_type(...)``; when the configuration
scans its module, the ``config.add_content_type`` directive hangs a
``TypeInfo`` on it as ``type_info`` (two classes declared under one name
stop the start): its title, the colander schema of its properties, the
containers it may be added to and the columns its children show in a
Contents listing.  The management view asks the registry and never
keeps a list of its own, so a class lights up in /manage (Properties tab, Add
menu) as soon as it is declared.

A class may carry ``properties()`` and ``update(**changes)`` when reading or
writing its properties is more than plain attributes (sanitising HTML,
keeping an index true); otherwise the schema's field names are read and set
as attributes.
"""

from collections.abc import Callable
from dataclasses import dataclass

import venusian

from ..clock import OMAN
from ..i18n import _

_TYPES = {}
SCAN_CATEGORY = 'occi_site.types'


@dataclass(frozen=True)
class Column:
    """A column of a Contents listing: a title and ``value(child, lang)``."""

    title: str
    value: Callable


def title_of(obj, lang='en'):
    """What a listing calls ``obj``: its declared label, its title, or its name."""
    info = type_info(obj)
    if info is not None and info.label is not None:
        return info.label(obj, lang)
    return getattr(obj, 'title', '') or obj.__name__ or ''


def portal_title(obj, lang):
    """The label of a container the portal made (``evolve.step_1_create_tree``): its English
    title is one of the portal's own phrases, shown in the page's language."""
    return _(obj.title) if obj.title else obj.__name__


def _type_title(obj, lang):
    info = type_info(obj)
    return info.title if info is not None else ''


DEFAULT_COLUMNS = (
    Column(_('Title'), title_of),
    Column(_('Type'), _type_title),
)


@dataclass(frozen=True)
class TypeInfo:
    name: str
    title: str
    factory: type
    schema: Callable | None = None
    addable_to: tuple = ()
    columns: tuple = DEFAULT_COLUMNS
    label: Callable | None = None
    # Whether Contents may add, rename and delete this container's children;
    # containers with indexes of their own (companies, accounts) say no.
    manages_children: bool = False

    def properties(self, obj):
        if hasattr(obj, 'properties'):
            return obj.properties()
        return {
            node.name: getattr(obj, node.name)
            for node in self.schema().children
            if hasattr(obj, node.name)
        }

    def set_properties(self, obj, appstruct):
        if hasattr(obj, 'update'):
            obj.update(**appstruct)
            return
        for name, value in appstruct.items():
            setattr(obj, name, value)


def content_type(name, title, **options):
    """Class decorator: ``cls`` is declared under ``name`` when the
    configuration scans its module (``config.add_content_type``)."""

    def attach(cls):
        def declare(scanner, _name, factory):
            scanner.config.add_content_type(factory, name, title, **options)

        venusian.attach(cls, declare, category=SCAN_CATEGORY)
        return cls

    return attach


def add_content_type(config, factory, name, title, **options):
    """Config directive: declare ``factory`` to the type registry under ``name``."""

    def declare():
        if name in _TYPES and _TYPES[name].factory is not factory:
            raise ValueError('content type %r is declared twice' % name)
        factory.type_info = _TYPES[name] = TypeInfo(
            name=name, title=title, factory=factory, **options
        )

    config.action(('occi_site content type', name), declare)


def in_language(english, arabic):
    """A column's value or a label: the attribute ``english`` or ``arabic`` by language."""
    return lambda obj, lang: getattr(obj, arabic if lang == 'ar' else english) or ''


def titled(titles, attribute):
    """A column's value: the title of the object's ``attribute`` in ``titles``."""
    return lambda obj, lang: titles.get(getattr(obj, attribute), '')


def made_on(obj, lang):
    """A column's value: when the record was made, in Oman."""
    return obj.created.astimezone(OMAN).strftime('%Y-%m-%d %H:%M')


def type_info(obj):
    """The ``TypeInfo`` of ``obj`` (or of its nearest declared base class), or None."""
    return getattr(type(obj), 'type_info', None)


def lookup(name):
    return _TYPES.get(name)


def addable_types(container):
    """The declared types that may be added to ``container``, in a stable order."""
    return sorted(
        (
            info
            for info in _TYPES.values()
            if info.addable_to and isinstance(container, info.addable_to)
        ),
        key=lambda info: info.name,
    )


def includeme(config):
    config.add_directive('add_content_type', add_content_type)
    config.scan('occi_site.resources', categories=(SCAN_CATEGORY,))
