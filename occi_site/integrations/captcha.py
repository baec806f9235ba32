"""The captcha's pictures and sounds, drawn by the ``captcha`` package: no
third-party service.

A challenge is six digits, shown as a distorted image and, for people who
cannot see it, spoken in a noisy recording; either way the same answer
passes.  Nothing in the page says the answer: the challenge itself is kept
and spent on the server (``resources/captcha.py``).

``Captcha`` is the default; ``FixedCaptcha`` always asks for the same
characters, for tests.
"""

import os
import secrets

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha

ALPHABET = '0123456789'
LENGTH = 6
FONT_PATHS = (
    '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
    '/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf',
)
WIDTH, HEIGHT = 240, 80


class Captcha:
    def __init__(self):
        fonts = [path for path in FONT_PATHS if os.path.exists(path)] or None
        self.image = ImageCaptcha(width=WIDTH, height=HEIGHT, fonts=fonts)
        self.audio = AudioCaptcha()

    def new_answer(self):
        return ''.join(secrets.choice(ALPHABET) for _position in range(LENGTH))

    def png(self, answer):
        return self.image.generate(answer, format='png').getvalue()

    def wav(self, answer):
        return bytes(self.audio.generate(answer))


class FixedCaptcha(Captcha):
    def __init__(self, answer='TEST5'):
        super().__init__()
        self.answer = answer

    def new_answer(self):
        return self.answer


def captcha_from_settings(settings):
    if settings.get('occi.captcha') == 'test':
        return FixedCaptcha(settings.get('occi.captcha.answer', 'TEST5'))
    return Captcha()
