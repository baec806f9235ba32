"""Why a PKI exchange was refused: a reason code for logs and tests, a message for the member."""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('occi_site')

_MESSAGES = {
    'idp_unavailable': _(
        'The PKI login service is not available at the moment. Please try again later.'
    ),
    'malformed': _('The answer from the PKI login service could not be read. Please log in again.'),
    'unsolicited': _(
        'This login was not started from this browser, or it has already been completed. '
        'Please log in again.'
    ),
    'status': _('The PKI login service did not confirm your identity.'),
    'untrusted': _(
        'The answer from the PKI login service could not be trusted. Please log in again.'
    ),
    'expired': _(
        "The login took too long, or your computer's clock is wrong. Please log in again."
    ),
    'replay': _('This login answer has already been used. Please log in again.'),
    'context': _(
        'This step needs a login with the method that was asked for. Please log in again.'
    ),
    'weak_context': _(
        'The PKI login service confirmed your identity with a way of logging in that the '
        'portal does not accept. Please log in again with your smart card or Mobile ID.'
    ),
    'logout_replay': _('This log-out message has already been used.'),
    'no_civil_id': _('The PKI login service did not give your civil ID number.'),
}


class PkiError(Exception):
    """A PKI exchange that must not be trusted or could not be completed.

    `reason` is a short machine code for logs and tests, `message` a TranslationString that may
    be shown to the user, `detail` the technical explanation (for logs only), `in_response_to`
    the request ID the refused answer named, when it named one.
    """

    def __init__(self, reason, message_key, detail='', *, in_response_to=None):
        super().__init__(f'{reason}: {detail}' if detail else reason)
        self.reason = reason
        self.message = _MESSAGES[message_key]
        self.detail = detail
        self.in_response_to = in_response_to


class PkiSetupError(RuntimeError):
    """The PKI login cannot work on this machine (reported at portal start-up)."""
