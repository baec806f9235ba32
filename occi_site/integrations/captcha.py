"""A self-hosted captcha for New Membership: no third-party service.

A challenge is a distorted image of five characters, with a text
alternative for people who cannot see it (a small sum, answered in digits);
either answer passes.  The image travels inside the page, so the session
keeps only keyed hashes of the answers, and a challenge is used once.

``ImageCaptcha`` is the default; ``FixedCaptcha`` always asks for the same
characters, for tests.
"""

import base64
import hashlib
import hmac
import io
import random
import secrets

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ..i18n import _

ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
LENGTH = 5
SESSION_KEY = 'captcha'
DEV_SESSION_KEY = 'captcha_dev_answer'
FONT_PATHS = (
    '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
    '/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf',
)


def _font(size):
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


class ImageCaptcha:
    def new_answer(self):
        return ''.join(secrets.choice(ALPHABET) for _position in range(LENGTH))

    def png(self, answer):
        noise = random.Random(secrets.randbits(64))
        image = Image.new('RGB', (220, 70), (246, 244, 238))
        draw = ImageDraw.Draw(image)
        for _line in range(6):
            draw.line(
                [
                    (noise.randint(0, 220), noise.randint(0, 70)),
                    (noise.randint(0, 220), noise.randint(0, 70)),
                ],
                fill=(noise.randint(90, 170),) * 3,
                width=2,
            )
        font = _font(38)
        for index, char in enumerate(answer):
            glyph = Image.new('RGBA', (48, 56), (0, 0, 0, 0))
            ImageDraw.Draw(glyph).text((6, 4), char, font=font, fill=(40, 40, 60, 255))
            glyph = glyph.rotate(noise.uniform(-28, 28), resample=Image.BICUBIC, expand=False)
            image.paste(
                glyph, (10 + index * 40 + noise.randint(-4, 4), noise.randint(2, 12)), glyph
            )
        image = image.filter(ImageFilter.SMOOTH)
        buffer = io.BytesIO()
        image.save(buffer, format='PNG', optimize=False)
        return buffer.getvalue()


class FixedCaptcha(ImageCaptcha):
    def __init__(self, answer='TEST5'):
        self.answer = answer

    def new_answer(self):
        return self.answer


def _digest(request, answer):
    key = request.registry.settings['occi.session.secret'].encode('utf-8')
    return hmac.new(
        key, b'captcha:' + answer.strip().upper().encode('utf-8'), hashlib.sha256
    ).hexdigest()


def new_challenge(request):
    """A fresh challenge for this session.

    Returns ``{'image': data URI, 'question': TranslationString}``.
    """
    backend = request.captcha
    answer = backend.new_answer()
    first, second = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    request.session[SESSION_KEY] = [_digest(request, answer), _digest(request, str(first + second))]
    if request.registry.settings.get('occi.dev_tools') in ('true', True):
        request.session[DEV_SESSION_KEY] = answer
    image = base64.b64encode(backend.png(answer)).decode('ascii')
    return {
        'image': 'data:image/png;base64,' + image,
        'question': _(
            'Or, if you cannot read the image: what is ${first} plus ${second}? Answer in digits.',
            mapping={'first': first, 'second': second},
        ),
    }


def check_answer(request, response):
    """True if ``response`` answers this session's challenge; the challenge is spent."""
    digests = request.session.pop(SESSION_KEY, None)
    request.session.pop(DEV_SESSION_KEY, None)
    if not digests or not response:
        return False
    given = _digest(request, response)
    return any(hmac.compare_digest(given, expected) for expected in digests)


def captcha_from_settings(settings):
    if settings.get('occi.captcha') == 'test':
        return FixedCaptcha(settings.get('occi.captcha.answer', 'TEST5'))
    return ImageCaptcha()
