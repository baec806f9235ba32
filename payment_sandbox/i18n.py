"""English and Arabic pages.

A checkout starts in the language the merchant asked for in its ``locale``
field; from then on the payer's choice is kept in a cookie.
"""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('payment_sandbox')

LANGUAGES = ('en', 'ar')
DEFAULT_LANGUAGE = 'en'
# Each language is offered under its own name, so these are never translated.
LANGUAGE_NAMES = {'en': 'English', 'ar': 'العربية'}
LANGUAGE_COOKIE = 'gateway_locale'


def language_of(locale):
    """ "ar", "ar-xn" or "AR" -> "ar"; None for a language the gateway does not speak."""
    language = (locale or '').split('-')[0].lower()
    return language if language in LANGUAGES else None


def negotiate_locale(request):
    route = request.matched_route
    if route is not None and route.name == 'pay':
        chosen = language_of(request.POST.get('locale'))
    else:
        chosen = language_of(request.cookies.get(LANGUAGE_COOKIE))
    return chosen or DEFAULT_LANGUAGE


def remember_language(request, response, language):
    response.set_cookie(
        LANGUAGE_COOKIE, language, path=request.script_name or '/', httponly=True, samesite='Lax'
    )


def text_direction(request):
    return 'rtl' if request.locale_name == 'ar' else 'ltr'


def includeme(config):
    config.set_locale_negotiator(negotiate_locale)
    config.add_translation_dirs('payment_sandbox:locale/')
    config.add_request_method(text_direction, 'text_direction', reify=True)
