"""Messages to a member in the member's own language, whatever the request's.

Notifications often leave during someone else's request (the gateway's
server notification has no member at all), so the text is rendered with a
localizer for the member's language, not the request's.
"""

from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories
from pyramid.renderers import render
from pyramid.threadlocal import manager

from ..integrations.mail import send_mail
from ..integrations.sms import send_sms


def localizer_for(request, language):
    if language == request.locale_name:
        return request.localizer
    directories = request.registry.queryUtility(ITranslationDirectories, default=[])
    return make_localizer(language, directories)


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
    speaking = _InLanguage(request, language)
    manager.push({'request': speaking, 'registry': request.registry})
    try:
        return render(template, values, request=speaking)
    finally:
        manager.pop()


def notify_member(request, account, subject, template, values, sms=None):
    """E-mail (and an SMS if ``sms`` is given) to ``account`` in its language.

    ``subject`` and ``sms`` are TranslationStrings; ``template`` a text mail template.
    """
    localizer = localizer_for(request, account.language)
    body = render_in(request, account.language, template, dict(values, account=account))
    send_mail(request, account.email, localizer.translate(subject), body)
    if sms is not None:
        send_sms(request, account.mobile, localizer.translate(sms))
