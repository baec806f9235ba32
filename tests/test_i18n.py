"""How the page's language is chosen."""

from pyramid.request import Request

from occi_site import i18n


def test_the_language_chosen_for_an_accept_language_header_is_remembered_boundedly(monkeypatch):
    monkeypatch.setattr(i18n, 'ACCEPT_LANGUAGES_KEPT', 3)
    monkeypatch.setattr(i18n, '_chosen_for_header', {})

    def chosen(header, cookie=None):
        request = Request.blank('/', headers={'Accept-Language': header})
        if cookie:
            request.cookies[i18n.LANGUAGE_COOKIE] = cookie
        return i18n.locale_negotiator(request)

    assert chosen('ar-OM,ar;q=0.9') == 'ar'
    assert chosen('ar-OM,ar;q=0.9') == 'ar'
    assert chosen('ar-OM,ar;q=0.9', cookie='en') == 'en'
    assert chosen('fr-FR') == 'en'
    assert chosen('en-GB,ar;q=0.5') == 'en'
    assert len(i18n._chosen_for_header) == 3
    assert chosen('ar') == 'ar'
    assert len(i18n._chosen_for_header) == 1
    assert chosen('ar,' + 'x;q=0.1,' * 30) == 'ar'
    assert len(i18n._chosen_for_header) == 1
