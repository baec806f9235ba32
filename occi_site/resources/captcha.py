"""Captcha challenges, kept on the server and spent on their first use.

The page shows a challenge only by its random key (the image and the sound
are fetched by it); its answer never leaves the server.  Whatever a reply
says, checking it removes the challenge, so a copied cookie or a replayed
form cannot try it again.
"""

import hmac
import secrets
from datetime import timedelta

from ..i18n import _
from .expiring import ExpiringStore
from .types import content_type, portal_title
from .verification import typed

CHALLENGE_LIFETIME = timedelta(minutes=15)


@content_type('captcha_challenges', _('Captcha challenges'), label=portal_title)
class Challenges(ExpiringStore):
    """``/captchas``: challenge key -> answer, for 15 minutes or until checked."""

    title = 'Captcha challenges'

    def issue(self, answer, now):
        key = secrets.token_urlsafe(18)
        self.add(key, answer, now + CHALLENGE_LIFETIME, now)
        return key

    def answer(self, key, now):
        """The answer to show (as an image or a sound), or None."""
        return self.get(key, now)

    def spend(self, key, reply, now):
        """True if ``reply`` answers the challenge ``key``; the challenge is gone either way."""
        answer = self.pop(key, now)
        if answer is None or not reply:
            return False
        return hmac.compare_digest(typed(reply).upper().encode(), answer.upper().encode())
