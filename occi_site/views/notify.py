"""Messages to a member in the member's own language, whatever the request's.

Notifications often leave during someone else's request (the gateway's
server notification has no member at all), so the text is rendered with a
localizer for the member's language, not the request's.
"""

from ..i18n import localizer_for, render_in
from ..integrations.mail import send_mail
from ..integrations.sms import send_sms


def notify_member(request, account, subject, template, values, sms=None):
    """E-mail (and an SMS if ``sms`` is given) to ``account`` in its language.

    ``subject`` and ``sms`` are TranslationStrings; ``template`` a text mail template.
    """
    localizer = localizer_for(request, account.language)
    body = render_in(request, account.language, template, dict(values, account=account))
    send_mail(request, account.email, localizer.translate(subject), body)
    if sms is not None:
        send_sms(request, account.mobile, localizer.translate(sms))
