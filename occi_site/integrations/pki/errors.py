"""Why a PKI exchange was refused: a reason code for logs and tests, a message for the member.

The reason code is the key of the message: each refusal names only its reason, and the reasons
that the member need not tell apart (every kind of untrustworthy answer) share one message.
"""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('occi_site')

_MALFORMED = _('The answer from the PKI login service could not be read. Please log in again.')
_UNSOLICITED = _(
    'This login was not started from this browser, or it has already been completed. '
    'Please log in again.'
)
_UNTRUSTED = _('The answer from the PKI login service could not be trusted. Please log in again.')
_EXPIRED = _("The login took too long, or your computer's clock is wrong. Please log in again.")

MESSAGES = {
    'idp_unavailable': _(
        'The PKI login service is not available at the moment. Please try again later.'
    ),
    'malformed': _MALFORMED,
    'doctype': _MALFORMED,
    'unsolicited': _UNSOLICITED,
    'unknown_request': _UNSOLICITED,
    'status': _('The PKI login service did not confirm your identity.'),
    'unsigned': _UNTRUSTED,
    'bad_signature': _UNTRUSTED,
    'unsupported': _UNTRUSTED,
    'wrapping': _UNTRUSTED,
    'wrong_issuer': _UNTRUSTED,
    'wrong_audience': _UNTRUSTED,
    'wrong_destination': _UNTRUSTED,
    'wrong_recipient': _UNTRUSTED,
    'in_response_to_mismatch': _UNTRUSTED,
    'expired': _EXPIRED,
    'not_yet_valid': _EXPIRED,
    'replay': _('This login answer has already been used. Please log in again.'),
    'wrong_context': _(
        'This step needs a login with the method that was asked for. Please log in again.'
    ),
    'weak_context': _(
        'The PKI login service confirmed your identity with a way of logging in that the '
        'portal does not accept. Please log in again with your smart card or Mobile ID.'
    ),
    'no_civil_id': _('The PKI login service did not give your civil ID number.'),
}

LOGOUT_REPLAY = _('This log-out message has already been used.')


class PkiError(Exception):
    """A PKI exchange that must not be trusted or could not be completed.

    `reason` is a short machine code for logs and tests (a key of MESSAGES), `message` the
    TranslationString that may be shown to the user (the reason's own, unless one is given),
    `detail` the technical explanation (for logs only), `in_response_to` the request ID the
    refused answer named, when it named one.
    """

    def __init__(self, reason, detail='', *, message=None, in_response_to=None):
        super().__init__(f'{reason}: {detail}' if detail else reason)
        self.reason = reason
        self.message = message or MESSAGES[reason]
        self.detail = detail
        self.in_response_to = in_response_to


class PkiSetupError(RuntimeError):
    """The PKI login cannot work on this machine (reported at portal start-up)."""
