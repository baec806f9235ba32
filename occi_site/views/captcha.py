"""The captcha of a form: a new challenge each time the form is shown, its
image and its recording fetched by the challenge's key, and the check that
spends it.  The session remembers only which challenge this browser was
shown; the answer stays in the database (``resources/captcha.py``)."""

import colander
import deform
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ..i18n import _

SESSION_KEY = 'captcha'


def new_challenge(request):
    """A fresh challenge for this browser; its key."""
    key = request.root['captchas'].issue(request.captcha.new_answer(), request.now)
    request.session[SESSION_KEY] = key
    return key


def check_answer(request, reply):
    """True if ``reply`` answers the challenge this browser was shown, which is then spent."""
    key = request.session.pop(SESSION_KEY, None)
    return key is not None and request.root['captchas'].spend(key, reply, request.now)


def current_answer(request):
    """The answer to this browser's challenge (the development tools' captcha.json)."""
    key = request.session.get(SESSION_KEY)
    return None if key is None else request.root['captchas'].answer(key, request.now)


class CaptchaWidget(deform.widget.Widget):
    """The captcha field: each rendering shows a new, single-use challenge."""

    template = 'captcha'
    image_alt = _('Captcha: type the characters shown in this image')
    help = _(
        'Type the characters shown in the image. If you cannot see it, play the recording: '
        'it says the same characters, in English.'
    )
    audio_label = _('Listen to the characters')

    def serialize(self, field, cstruct, **kw):
        request = self.request
        key = new_challenge(request)
        return field.renderer(
            self.template,
            field=field,
            cstruct=cstruct,
            image_url=request.route_url('captcha_image', key=key),
            audio_url=request.route_url('captcha_audio', key=key),
            **kw,
        )

    def deserialize(self, field, pstruct):
        # Anything but text (a list, from a crafted form) is no answer.
        return pstruct.strip() if isinstance(pstruct, str) and pstruct else colander.null


def _media(request, render, content_type):
    answer = request.root['captchas'].answer(request.matchdict['key'], request.now)
    if answer is None:
        raise HTTPNotFound()
    response = request.response
    response.content_type = content_type
    response.body = render(answer)
    response.cache_control.no_store = True
    return response


@view_config(route_name='captcha_image', request_method='GET')
def image(request):
    return _media(request, request.captcha.png, 'image/png')


@view_config(route_name='captcha_audio', request_method='GET')
def audio(request):
    return _media(request, request.captcha.wav, 'audio/wav')


def includeme(config):
    config.add_route('captcha_image', '/captcha/{key}.png')
    config.add_route('captcha_audio', '/captcha/{key}.wav')
    config.scan(__name__)
