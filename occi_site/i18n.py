"""Languages: English and Arabic, chosen by a cookie, else by Accept-Language."""

from importlib.resources import files

import deform
from pyramid.i18n import TranslationStringFactory, get_localizer
from pyramid.threadlocal import get_current_request

_ = TranslationStringFactory('occi_site')

LANGUAGES = ('en', 'ar')
RTL_LANGUAGES = ('ar',)
LANGUAGE_COOKIE = 'occi_lang'


def locale_negotiator(request):
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_language.lookup(LANGUAGES, default='en')


def text_direction(request):
    return 'rtl' if request.locale_name in RTL_LANGUAGES else 'ltr'


def translate(request, term, mapping=None):
    return get_localizer(request).translate(term, mapping=mapping)


def _deform_translator(term):
    return get_localizer(get_current_request()).translate(term)


def includeme(config):
    config.set_locale_negotiator(locale_negotiator)
    # Later directories win: ours carry the Arabic catalogs that deform and
    # colander do not ship.
    config.add_translation_dirs('colander:locale/', 'deform:locale/', 'occi_site:locale/')
    config.add_request_method(text_direction, 'text_direction', reify=True)
    # Our widget templates (the captcha) first, then deform's own.
    search_path = (
        str(files('occi_site') / 'templates' / 'deform'),
        str(files('deform') / 'templates'),
    )
    deform.Form.set_zpt_renderer(search_path, translator=_deform_translator)
