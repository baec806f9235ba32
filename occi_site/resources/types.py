"""The type registry: one declaration, on the class, of what /manage needs to
know about a kind of object.

A class declares itself with ``@content_type(...)``, which hangs a
``TypeInfo`` on it as ``type_info``: its title, the colander schema of its
properties, the containers it may be added to and the columns its children
show in a Contents listing.  The management view asks the registry and never
keeps a list of its own, so a class lights up in /manage (Properties tab, Add
menu) as soon as it is declared.

A class may carry ``properties()`` and ``update(**changes)`` when reading or
writing its properties is more than plain attributes (sanitising HTML,
keeping an index true); otherwise the schema's field names are read and set
as attributes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ..i18n import _

_TYPES = {}


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
    """Class decorator: declare ``cls`` to the registry under ``name``."""

    def declare(cls):
        if name in _TYPES and _TYPES[name].factory is not cls:
            raise ValueError('content type %r is declared twice' % name)
        cls.type_info = _TYPES[name] = TypeInfo(name=name, title=title, factory=cls, **options)
        return cls

    return declare


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
