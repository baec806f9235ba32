"""The chamber's own content under /content: folders, pages and news items,
each in English and Arabic, published through the workflow of
``publication``.

``ContentArea`` is /content itself: always public, holding the index of
published news (publication date, uid) that the home page reads newest
first; every transition, edit, addition and removal keeps it true.
"""

import secrets
import shutil
from datetime import UTC, datetime

import colander
import deform
import nh3
from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from pyramid.traversal import find_interface
from ZODB.blob import Blob
from ZODB.interfaces import IBlobStorage

from ..clock import DAY_IN_REACH
from ..i18n import _
from .folder import ChangeCounted, Folder
from .publication import PUBLICATION_STATE_TITLES, LocalRoles, Workflowed, content_acl
from .types import DEFAULT_COLUMNS, Column, content_type, portal_title

LANGUAGES = ('en', 'ar')

# Rich text as editors may keep it: structure, emphasis, links, tables,
# images by address.  No scripts, styles, forms, frames or event handlers.
ALLOWED_TAGS = {
    'p',
    'br',
    'hr',
    'h2',
    'h3',
    'h4',
    'strong',
    'b',
    'em',
    'i',
    'u',
    's',
    'sub',
    'sup',
    'blockquote',
    'ul',
    'ol',
    'li',
    'a',
    'img',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'caption',
    'span',
    'div',
    'pre',
    'code',
}
ALLOWED_ATTRIBUTES = {
    '*': {'dir', 'lang'},
    'a': {'href', 'title'},
    'img': {'src', 'alt', 'width', 'height'},
    'th': {'colspan', 'rowspan', 'scope'},
    'td': {'colspan', 'rowspan'},
    'ol': {'start'},
}

IMAGE_TYPES = (
    (b'\x89PNG\r\n\x1a\n', 'image/png'),
    (b'\xff\xd8\xff', 'image/jpeg'),
    (b'GIF87a', 'image/gif'),
    (b'GIF89a', 'image/gif'),
)
MAX_IMAGE_BYTES = 2 * 1024 * 1024
# Characters: a summary is a sentence or two; a text, a long page's worth with its markup.
SUMMARY_LONGEST = 1000
TEXT_LONGEST = 100_000
# A text is measured as it will be stored (``sanitise_html`` is its fields' preparer), which
# is longer than what the editor shows: its markup, and each link marked rel="noopener noreferrer".
TEXT_IN_REACH = colander.Length(
    max=TEXT_LONGEST,
    max_err=_('Longer than ${max} characters once stored, its markup and links included.'),
)


def sanitise_html(html):
    """``html`` with everything that could run in a visitor's browser removed."""
    return nh3.clean(
        html or '',
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        clean_content_tags={'script', 'style'},
        url_schemes={'http', 'https', 'mailto'},
    )


def sniff_image(fp):
    """The media type of the image in ``fp`` by its first bytes (never the
    browser's word for it), or None."""
    head = fp.read(12)
    fp.seek(0)
    for magic, media_type in IMAGE_TYPES:
        if head.startswith(magic):
            return media_type
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'image/webp'
    return None


def stored_image(fp, filename):
    """The image fields of an upload, its bytes in a new blob."""
    media_type = sniff_image(fp)
    if media_type is None:
        raise ValueError('not an image the portal shows')
    blob = Blob()
    with blob.open('w') as target:
        shutil.copyfileobj(fp, target)
    return {'image': blob, 'image_type': media_type, 'image_filename': filename}


def _utcnow():
    return datetime.now(UTC)


def _walk(node):
    yield node
    if isinstance(node, Folder):
        for child in node.values():
            yield from _walk(child)


class Bilingual:
    """Mixin: fields kept as ``<field>_en`` and ``<field>_ar``."""

    def text(self, field, lang):
        """``(text, language)``: the field in ``lang``, else in the other
        language (the caller then says so to the reader)."""
        value = getattr(self, '%s_%s' % (field, lang), '')
        if value or lang not in LANGUAGES:
            return value, lang
        other = next(code for code in LANGUAGES if code != lang)
        return getattr(self, '%s_%s' % (field, other), ''), other


class UploadStore(dict):
    """Where Deform keeps an upload between validation and saving: this
    request only (a failed form asks for the file again)."""

    def preview_url(self, uid):
        return None


def _stores_blobs(request):
    return IBlobStorage.providedBy(request.root._p_jar.db().storage)


def _valid_image(node, value):
    fp = value['fp']
    if sniff_image(fp) is None:
        raise colander.Invalid(node, _('Choose a PNG, JPEG, GIF or WebP image.'))
    fp.seek(0, 2)
    size = fp.tell()
    fp.seek(0)
    if size > MAX_IMAGE_BYTES:
        raise colander.Invalid(node, _('The image is larger than 2 MB.'))


def _arabic(widget_class, **options):
    return widget_class(attributes={'dir': 'rtl', 'lang': 'ar'}, **options)


def _english(widget_class, **options):
    # English text keeps its direction on Arabic pages too.
    return widget_class(attributes={'dir': 'ltr', 'lang': 'en'}, **options)


class FolderSchema(colander.Schema):
    title_en = colander.SchemaNode(
        colander.String(),
        title=_('Title (English)'),
        missing='',
        validator=colander.Length(max=200),
        widget=_english(deform.widget.TextInputWidget),
    )
    title_ar = colander.SchemaNode(
        colander.String(),
        title=_('Title (Arabic)'),
        missing='',
        validator=colander.Length(max=200),
        widget=_arabic(deform.widget.TextInputWidget),
    )
    summary_en = colander.SchemaNode(
        colander.String(),
        title=_('Summary (English)'),
        missing='',
        validator=colander.Length(max=SUMMARY_LONGEST),
        widget=_english(deform.widget.TextAreaWidget, rows=3),
    )
    summary_ar = colander.SchemaNode(
        colander.String(),
        title=_('Summary (Arabic)'),
        missing='',
        validator=colander.Length(max=SUMMARY_LONGEST),
        widget=_arabic(deform.widget.TextAreaWidget, rows=3),
    )

    def validator(self, node, value):
        if not (value.get('title_en') or value.get('title_ar')):
            error = colander.Invalid(node)
            error['title_en'] = _('Give a title in English or in Arabic.')
            raise error


class DocumentSchema(FolderSchema):
    body_en = colander.SchemaNode(
        colander.String(),
        title=_('Text (English)'),
        missing='',
        preparer=sanitise_html,
        validator=TEXT_IN_REACH,
        widget=deform.widget.RichTextWidget(options={'directionality': 'ltr'}),
    )
    body_ar = colander.SchemaNode(
        colander.String(),
        title=_('Text (Arabic)'),
        missing='',
        preparer=sanitise_html,
        validator=TEXT_IN_REACH,
        widget=deform.widget.RichTextWidget(options={'directionality': 'rtl'}),
    )
    image = colander.SchemaNode(
        deform.FileData(),
        title=_('Image'),
        missing=colander.drop,
        validator=_valid_image,
        description=_('PNG, JPEG, GIF or WebP, up to 2 MB.'),
    )
    remove_image = colander.SchemaNode(
        colander.Boolean(), title=_('Remove the image'), missing=False
    )

    def after_bind(self, node, kw):
        request = kw['request']
        if _stores_blobs(request):
            self['image'].widget = deform.widget.FileUploadWidget(UploadStore())
        else:
            # A database without blob storage (the in-memory one of tests
            # and demos) cannot keep images.
            del self['image']
            del self['remove_image']


@colander.deferred
def _today(node, kw):
    return kw['request'].today


class NewsSchema(DocumentSchema):
    publication_date = colander.SchemaNode(
        colander.Date(),
        title=_('Publication date'),
        default=_today,
        validator=DAY_IN_REACH,
        widget=deform.widget.TextInputWidget(attributes={'type': 'date'}),
    )


def _label(obj, lang):
    return obj.text('title', lang)[0]


def _state(obj, lang):
    return PUBLICATION_STATE_TITLES.get(getattr(obj, 'state', None), '')


def _modified(obj, lang):
    modified = getattr(obj, 'modified', None)
    return modified.strftime('%Y-%m-%d %H:%M') if modified else ''


CONTENT_COLUMNS = (*DEFAULT_COLUMNS, Column(_('State'), _state), Column(_('Modified'), _modified))


def content_changed(item):
    """Tell the content area of ``item``, if it is in one, that its content changed."""
    area = find_interface(item, ContentArea)
    if area is not None:
        area.changed()


class ContentContainer(LocalRoles, Folder):
    """A folder of content that keeps the news index true as children come and go."""

    def add(self, name, child):
        super().add(name, child)
        for node in _walk(child):
            if isinstance(node, NewsItem):
                node.reindex()
        content_changed(self)
        return child

    def remove(self, name):
        for node in _walk(self[name]):
            if isinstance(node, NewsItem):
                node.unindex()
        content_changed(self)
        return super().remove(name)

    def rename(self, old_name, new_name):
        if new_name in self:
            raise KeyError('%r already exists' % new_name)
        return self.add(new_name, self.remove(old_name))


@content_type(
    'content_area',
    _('Content area'),
    columns=CONTENT_COLUMNS,
    manages_children=True,
    label=portal_title,
)
class ContentArea(ChangeCounted, ContentContainer):
    """``/content``: always public; the root of the editors' folders, pages and news."""

    def __init__(self, title=''):
        super().__init__(title)
        # (-publication day, uid) -> news item: ascending order is newest first.
        self.news = OOBTree()
        # Every change to the content counts: pages showing it are kept by ``revision``.
        self.change_count = Length()

    @property
    def __acl__(self):
        return content_acl(self, public=True)

    def index_news(self, item):
        self.unindex_news(item)
        if item.is_published and item.publication_date is not None:
            item.news_key = (-item.publication_date.toordinal(), item.uid)
            self.news[item.news_key] = item

    def unindex_news(self, item):
        if item.news_key is not None:
            self.news.pop(item.news_key, None)
            item.news_key = None

    def latest_news(self):
        """Published news items, newest first, read lazily from the index."""
        return iter(self.news.values())

    def menu(self, limit=12):
        """The published pages and folders at the top of the area, in name order."""
        found = []
        for _name, child in self.batch(size=100):
            if isinstance(child, (Page, ContentFolder)) and child.is_published:
                found.append(child)
                if len(found) == limit:
                    break
        return found


class ContentItem(Workflowed, Bilingual, LocalRoles):
    """What every workflowed content object has: a uid, times, bilingual titles."""

    title_en = ''
    title_ar = ''
    summary_en = ''
    summary_ar = ''
    title = ''
    fields = ('title_en', 'title_ar', 'summary_en', 'summary_ar')

    def _start(self):
        self.uid = secrets.token_hex(8)
        self.created = self.modified = _utcnow()

    @property
    def __acl__(self):
        return content_acl(self, public=self.is_published)

    @property
    def version_fields(self):
        return self.fields

    def properties(self):
        """The fields as an editor continues them: the changes waiting for review, if any."""
        version = self.changes or self.version()
        return {name: version[name] for name in self.fields}

    def version(self):
        return {name: getattr(self, name) for name in self.version_fields}

    def prepared(self, changes):
        """The stored values of the fields ``changes`` sets (rich text sanitised)."""
        return {
            name: sanitise_html(value) if name.startswith('body_') else value
            for name, value in changes.items()
            if name in self.fields
        }

    def apply_version(self, version):
        for name, value in version.items():
            setattr(self, name, value)
        # ``title`` is what listings outside the content area read.
        self.title = self.title_en or self.title_ar
        self.modified = _utcnow()
        content_changed(self)

    def update(self, **changes):
        self.apply_version(self.prepared(changes))

    def transition(self, name, user, when, comment=''):
        chosen = super().transition(name, user, when, comment)
        content_changed(self)
        return chosen


@content_type(
    'folder',
    _('Folder'),
    columns=CONTENT_COLUMNS,
    manages_children=True,
    label=_label,
    schema=FolderSchema,
    addable_to=(ContentContainer,),
)
class ContentFolder(ContentItem, ContentContainer):
    """A section of the content area: published, it is a menu entry and an index page."""

    def __init__(self, **fields):
        ContentContainer.__init__(self)
        self._start()
        self.update(**fields)


class Document(ContentItem, Persistent):
    """A page of rich text in both languages, with an optional image kept as a ZODB blob."""

    __name__ = None
    __parent__ = None
    body_en = ''
    body_ar = ''
    image = None
    image_type = ''
    image_filename = ''
    fields = (*ContentItem.fields, 'body_en', 'body_ar')

    def __init__(self, **fields):
        self._start()
        self.update(**fields)

    @property
    def version_fields(self):
        return (*self.fields, 'image', 'image_type', 'image_filename')

    def prepared(self, changes):
        """As for any item, and ``image`` (an upload: {'fp', 'filename', ...}) kept as a
        blob, or ``remove_image``."""
        prepared = super().prepared(changes)
        if changes.get('remove_image'):
            prepared.update(image=None, image_type='', image_filename='')
        image = changes.get('image')
        if image:
            prepared.update(stored_image(image['fp'], image.get('filename') or ''))
        return prepared


@content_type(
    'page',
    _('Page'),
    columns=CONTENT_COLUMNS,
    label=_label,
    schema=DocumentSchema,
    addable_to=(ContentContainer,),
)
class Page(Document):
    """A page of the chamber; published at the top of /content, it is in the menu."""


@content_type(
    'news',
    _('News item'),
    columns=CONTENT_COLUMNS,
    label=_label,
    schema=NewsSchema,
    addable_to=(ContentContainer,),
)
class NewsItem(Document):
    """News of the chamber, dated; the latest published ones are on the home page."""

    publication_date = None
    news_key = None
    fields = (*Document.fields, 'publication_date')

    def _area(self):
        return find_interface(self, ContentArea)

    def reindex(self):
        area = self._area()
        if area is not None:
            area.index_news(self)

    def unindex(self):
        area = self._area()
        if area is not None:
            area.unindex_news(self)

    def apply_version(self, version):
        super().apply_version(version)
        self.reindex()

    def transition(self, name, user, when, comment=''):
        chosen = super().transition(name, user, when, comment)
        self.reindex()
        return chosen
