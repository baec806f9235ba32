"""Languages: English and Arabic, chosen by a cookie, else by Accept-Language."""

from datetime import date
from importlib.resources import files

import deform
from babel.dates import format_date
from jinja2 import pass_context
from pyramid.i18n import (
    TranslationString,
    TranslationStringFactory,
    get_localizer,
    make_localizer,
)
from pyramid.interfaces import ITranslationDirectories
from pyramid.renderers import render
from pyramid.settings import asbool
from pyramid.threadlocal import get_current_request, manager
from pyramid_jinja2 import ENV_CONFIG_PHASE, IJinja2Environment

from .rendering import WidgetRenderer

_ = TranslationStringFactory('occi_site')

LANGUAGES = ('en', 'ar')
RTL_LANGUAGES = ('ar',)
LANGUAGE_COOKIE = 'occi_lang'


# Accept-Language headers seen, and the language each chose: parsing one
# takes longer than serving a kept page's other checks.  Browsers send few
# distinct headers, and short ones; the dict is emptied when it grows past
# this, and a longer header is parsed every time.
ACCEPT_LANGUAGES_KEPT = 1000
ACCEPT_LANGUAGE_KEPT_UP_TO = 200
_chosen_for_header = {}


def locale_negotiator(request):
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    header = request.environ.get('HTTP_ACCEPT_LANGUAGE')
    chosen = _chosen_for_header.get(header)
    if chosen is None:
        chosen = request.accept_language.lookup(LANGUAGES, default='en')
        if header is None or len(header) <= ACCEPT_LANGUAGE_KEPT_UP_TO:
            if len(_chosen_for_header) >= ACCEPT_LANGUAGES_KEPT:
                _chosen_for_header.clear()
            _chosen_for_header[header] = chosen
    return chosen


def text_direction(request):
    return 'rtl' if request.locale_name in RTL_LANGUAGES else 'ltr'


def translate(request, term, mapping=None):
    return get_localizer(request).translate(term, mapping=mapping)


def shown(request, value):
    """``value`` as a page shows it: the portal's own phrase translated, anything else (what
    an editor or a member wrote) as it is, even where it reads like one of those phrases."""
    return request.localizer.translate(value) if isinstance(value, TranslationString) else value


@pass_context
def shown_in_page(context, value):
    """``{{ value|shown }}``: ``shown`` in a template, for a value that may be the portal's
    own phrase or what someone wrote (a breadcrumb's label)."""
    return shown(context['request'], value)


class TemplateGettext:
    """``_()`` and ``ngettext`` in templates (``jinja2.i18n.gettext``).

    pyramid_jinja2's own made a translation string and asked the localizer
    for every message on every render; a page has dozens.  A plain message
    is translated once per language here; messages with a mapping, and
    translation strings made in Python, still go through the localizer.
    """

    # Templates hold a few hundred messages; this bounds what other text
    # (e.g. titles passed through ``_()``) may add.
    REMEMBERED = 5000

    def __init__(self, domain):
        self.domain = domain
        self.translated = {}

    def gettext(self, message, mapping=None):
        localizer = get_current_request().localizer
        if mapping is not None or type(message) is not str:
            return localizer.translate(message, domain=self.domain, mapping=mapping)
        key = (localizer.locale_name, message)
        translated = self.translated.get(key)
        if translated is None:
            translated = localizer.translate(message, domain=self.domain)
            if len(self.translated) < self.REMEMBERED:
                self.translated[key] = translated
        return translated

    def ngettext(self, singular, plural, n):
        return get_current_request().localizer.pluralize(singular, plural, n, domain=self.domain)


def translate_all(localizer, text, locale):
    """``text`` in the localizer's language, with the TranslationStrings in its
    mapping translated too and its dates written out in ``locale``: ``19 March
    2027``, ``19 مارس 2027``.  Not ``2027-03-19``: inside Arabic text the
    bidirectional algorithm shows such a date's parts right to left."""
    mapping = {}
    for name, value in (text.mapping or {}).items():
        if isinstance(value, TranslationString):
            value = localizer.translate(value)
        elif isinstance(value, date):
            value = format_date(value, format='d MMMM y', locale=locale)
        mapping[name] = value
    return localizer.translate(text, mapping=mapping)


def _deform_translator(term):
    return get_localizer(get_current_request()).translate(term)


def localizer_for(request, language):
    """A localizer for ``language``, whatever the request's own language.

    Made once per language and kept on the registry: building one reads
    every catalog from disk.
    """
    if language == request.locale_name:
        return request.localizer
    localizers = request.registry.occi_localizers
    localizer = localizers.get(language)
    if localizer is None:
        directories = request.registry.queryUtility(ITranslationDirectories, default=[])
        localizer = localizers[language] = make_localizer(language, directories)
    return localizer


class _InLanguage:
    """The request as templates see it, speaking ``language``."""

    def __init__(self, request, language):
        self._request = request
        self.localizer = localizer_for(request, language)
        self.locale_name = language
        self.text_direction = 'rtl' if language == 'ar' else 'ltr'

    def __getattr__(self, name):
        return getattr(self._request, name)


def render_in(request, language, template, values):
    """Render ``template`` as a request in ``language`` would (mail, PDFs)."""
    speaking = _InLanguage(request, language)
    manager.push({'request': speaking, 'registry': request.registry})
    try:
        return render(template, values, request=speaking)
    finally:
        manager.pop()


def includeme(config):
    config.set_locale_negotiator(locale_negotiator)

    def template_filters():
        environment = config.registry.getUtility(IJinja2Environment, name='.jinja2')
        environment.filters['shown'] = shown_in_page

    # After pyramid_jinja2 made the environment.
    config.action(None, template_filters, order=ENV_CONFIG_PHASE + 1)
    config.registry.occi_localizers = {}
    # Later directories win: ours carry the Arabic catalogs that deform and
    # colander do not ship.
    config.add_translation_dirs('colander:locale/', 'deform:locale/', 'occi_site:locale/')
    config.add_request_method(text_direction, 'text_direction', reify=True)
    # Our widget templates (the captcha) first, then deform's own.
    search_path = (
        str(files('occi_site') / 'templates' / 'deform'),
        str(files('deform') / 'templates'),
    )
    # Deform's renderer stats every widget template on every render unless
    # told not to; like Jinja2's, they reload only with pyramid.reload_templates.
    deform.Form.set_default_renderer(
        WidgetRenderer(
            search_path,
            translator=_deform_translator,
            auto_reload=asbool(config.registry.settings.get('pyramid.reload_templates', False)),
        )
    )
