"""The chamber's content as visitors read it: pages, news and folders in the
visitor's language (else the other one, saying so), the latest news for the
home page and the menu of published top-level pages.

Only what the visitor may view is shown: the ACLs hide unpublished items
from everyone but editors, who thus preview their drafts on the real page.
"""

import itertools

from markupsafe import Markup
from pyramid.authorization import ACLHelper, Everyone
from pyramid.events import BeforeRender
from pyramid.response import Response
from pyramid.traversal import lineage
from pyramid.view import view_config

from ..i18n import _, shown
from ..resources.content import ContentArea, ContentContainer, Document, NewsItem
from ..resources.publication import PUBLICATION_STATE_TITLES

LANGUAGE_NAMES = {'en': _('English'), 'ar': _('Arabic')}
AREA_TITLE = _('News and pages')
FOLDER_PAGE = 50
# The home page reads at most this many news items to find ones the visitor may see.
NEWS_LOOKAHEAD = 50


def localized(item, lang):
    """The item's texts for a reader of ``lang``: each field as ``(text,
    language)``, and ``fallback``, the other language, if any text is in it."""
    fields = {name: item.text(name, lang) for name in ('title', 'summary')}
    if isinstance(item, Document):
        body, body_lang = item.text('body', lang)
        # Sanitised when stored (ContentItem.update), so it is markup.
        fields['body'] = (Markup(body), body_lang)
    used = {text_lang for text, text_lang in fields.values() if text}
    other = next((code for code in used if code != lang), None)
    return dict(fields, fallback=other)


def visible(request, items, limit):
    found = []
    for item in items:
        if request.has_permission('view', item):
            found.append(item)
            if len(found) == limit:
                break
    return found


def content_area(request):
    return request.root['content']


def latest_news(request, limit=5):
    """The newest published news items the visitor may see (the home page's)."""
    candidates = itertools.islice(content_area(request).latest_news(), NEWS_LOOKAHEAD)
    return visible(request, candidates, limit)


def menu(request):
    """The published pages and folders at the top of /content, as menu entries."""
    lang = request.locale_name
    return [
        (item.text('title', lang)[0], request.resource_url(item))
        for item in visible(request, content_area(request).menu(), limit=12)
    ]


def content_crumbs(request, item):
    lang = request.locale_name
    crumbs = []
    for node in reversed(list(lineage(item))):
        if isinstance(node, ContentArea):
            crumbs.append((AREA_TITLE, request.resource_url(node)))
        elif isinstance(node, (ContentContainer, Document)):
            crumbs.append((node.text('title', lang)[0], request.resource_url(node)))
    crumbs[-1] = (crumbs[-1][0], None)
    return crumbs


def _page(request, item, **values):
    values.update(
        item=item,
        crumbs=content_crumbs(request, item),
        states=PUBLICATION_STATE_TITLES,
        language_names=LANGUAGE_NAMES,
        may_manage=request.has_permission('manage_content', item),
    )
    return values


@view_config(context=Document, renderer='content/document.jinja2', permission='view')
def document(context, request):
    return _page(
        request,
        context,
        texts=localized(context, request.locale_name),
        is_news=isinstance(context, NewsItem),
    )


@view_config(context=ContentContainer, renderer='content/folder.jinja2', permission='view')
def folder(context, request):
    lang = request.locale_name
    after = request.GET.get('after') or None
    batch = context.batch(after, FOLDER_PAGE)
    children = [
        (child, localized(child, lang))
        for child in visible(request, (child for _name, child in batch), FOLDER_PAGE)
    ]
    following = batch[-1][0] if len(batch) == FOLDER_PAGE else None
    texts = (
        localized(context, lang)
        if not isinstance(context, ContentArea)
        else {'title': (shown(request, AREA_TITLE), lang), 'fallback': None}
    )
    return _page(request, context, texts=texts, children=children, following=following)


@view_config(context=Document, name='image', permission='view')
def image(context, request):
    if context.image is None:
        return Response(status=404)
    with context.image.open('r') as stored:
        body = stored.read()
    response = Response(body=body, content_type=context.image_type)
    response.cache_control.max_age = 3600
    # A draft's image is kept by the browser of the person who may see it, not by shared caches.
    if ACLHelper().permits(context, [Everyone], 'view'):
        response.cache_control.public = True
    else:
        response.cache_control.private = True
    # The type was sniffed from the bytes; the browser must not guess another.
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


def _template_globals(event):
    request = event.get('request')
    if request is not None:
        event.setdefault('content_menu', lambda: menu(request))


def includeme(config):
    config.add_subscriber(_template_globals, BeforeRender)
    config.scan(__name__)
