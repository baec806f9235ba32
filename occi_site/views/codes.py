"""Codes sent to prove an e-mail address or a mobile number, for registration
and for a member's change of contact: the code form, the sending with its
limits, and what a refused code is told.

Limits: a code checked from one address at most 30 times an hour, and at
most 10 codes an hour to one e-mail address or mobile number, whoever asks
(on top of each check's own cool-down and hourly cap).

A code lives 15 minutes, while a notification that fails is retried for a
day: the page asking for the code says so when the message carrying it
failed, or has not gone out by the time a new code may be asked for.
"""

import colander
import deform
from pyramid.renderers import render

from ..i18n import _
from ..integrations.mail import send_mail
from ..integrations.sms import send_sms
from ..resources.verification import RESEND_COOL_DOWN
from .forms import typed_node

CODE_CHECKS_PER_IP_HOUR = 30
CODES_PER_ADDRESS_HOUR = 10


class CodeSchema(colander.Schema):
    code = typed_node(
        _('Verification code'),
        colander.Length(min=1, max=20),
        widget=deform.widget.TextInputWidget(attributes={'autocomplete': 'one-time-code'}),
    )


def try_again_message(request, retry_at):
    minutes = max(1, int((retry_at - request.now).total_seconds() + 59) // 60)
    return _(
        'Too many attempts. Please try again in ${minutes} minutes.', mapping={'minutes': minutes}
    )


def limited(request, key, limit):
    """Count a hit on ``key``: ``None``, or a message saying when it may be tried again."""
    retry_at = request.root['throttle'].hit(key, request.now, limit=limit)
    return None if retry_at is None else try_again_message(request, retry_at)


def address_key(request, action):
    return '%s:ip:%s' % (action, request.client_addr)


def throttled(request, action, limit):
    """``limited`` for ``action`` from this network address."""
    return limited(request, address_key(request, action), limit)


def over_limit(request, action, limit):
    """Like ``throttled`` but counting nothing: a message if this address is over ``limit``.

    For actions where only what fails counts (``count_failure``), so the
    ordinary visitor's request writes nothing.
    """
    retry_at = request.root['throttle'].refused(
        address_key(request, action), request.now, limit=limit
    )
    return None if retry_at is None else try_again_message(request, retry_at)


def count_failure(request, action):
    """Count a failed ``action`` from this network address against its limit."""
    request.root['throttle'].count(address_key(request, action), request.now)


def address_throttled(request, check):
    """``None``, or a message if too many codes went to ``check``'s address this hour."""
    key = 'code:%s:%s' % (check.channel, check.address.lower())
    return limited(request, key, CODES_PER_ADDRESS_HOUR)


def wait_message(request, retry_at):
    seconds = int((retry_at - request.now).total_seconds()) + 1
    return _(
        'Please wait ${seconds} seconds before asking for a new code.',
        mapping={'seconds': seconds},
    )


def send_code(request, check, name, link=None):
    """Send a new code to ``check``'s address, greeting ``name``; ``None`` or why not.

    ``link(token)``, if given, makes the e-mail's "Verify Account" link (its page has the
    Verify button that proves the address).
    """
    retry_at = check.next_send_at(request.now)
    if retry_at is not None:
        return wait_message(request, retry_at)
    refused = address_throttled(request, check)
    if refused:
        return refused
    code, token = check.issue(request.now, with_link=link is not None)
    if check.channel == 'email':
        values = {'name': name, 'code': code, 'link': link(token) if link else None}
        notification = send_mail(
            request,
            check.address,
            request.localizer.translate(_('OCCI E-services verification code')),
            render('mail/verification.txt.jinja2', values, request),
            html=render('mail/verification.html.jinja2', values, request),
        )
    else:
        notification = send_sms(
            request,
            check.address,
            request.localizer.translate(
                _(
                    'Your OCCI E-services mobile verification code is ${code}. '
                    'It is valid for 15 minutes.',
                    mapping={'code': code},
                )
            ),
        )
    check.carried_by(notification)
    return None


TROUBLE_MESSAGES = {
    'failed': _(
        'We could not deliver this code. If the address or number above is right, '
        'send a new code; if it is not, start again with the right one.'
    ),
    'late': _(
        'This code has not gone out yet: we keep trying to send it, but codes are valid '
        'for only 15 minutes. If it does not arrive, send a new code.'
    ),
}


def delivery_trouble(request, check):
    """What to tell the person when the message carrying ``check``'s code has
    not reached them (``None`` while all is well), found by its name."""
    if check.notification is None:
        return None
    notification = request.root['notifications'].get(check.notification)
    if notification is None:
        return None
    # Late once a new code may be asked for: then the person can act on it.
    trouble = notification.trouble(request.now, RESEND_COOL_DOWN)
    return TROUBLE_MESSAGES.get(trouble)


def outcome_message(check, outcome):
    """What a person is told when ``check`` refused the code they typed."""
    if outcome == 'wrong':
        return _(
            'This code is not correct. ${tries} tries left.', mapping={'tries': check.tries_left}
        )
    if outcome == 'expired':
        return _('This code has expired. Please ask for a new code.')
    if outcome == 'locked':
        return _('Too many wrong tries: this code no longer works. Please ask for a new code.')
    return _('This code has already been used. Please ask for a new code.')
