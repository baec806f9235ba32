"""The IdP pages speak English or Arabic, as the visitor chooses (kept in a cookie)."""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('pki_idp')

LANGUAGES = ('en', 'ar')
RIGHT_TO_LEFT = ('ar',)
LANGUAGE_COOKIE = 'pki_idp_language'


def negotiate_locale(request):
    language = request.cookies.get(LANGUAGE_COOKIE)
    return language if language in LANGUAGES else LANGUAGES[0]


def tries_left(request, tries):
    """ "2 tries left", in the visitor's language and its plural forms."""
    return request.localizer.pluralize(
        '${tries} try left',
        '${tries} tries left',
        tries,
        domain='pki_idp',
        mapping={'tries': tries},
    )
