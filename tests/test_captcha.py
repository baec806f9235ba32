"""The captcha: kept and spent on the server, an image and a recording of one answer,
nothing in the page that answers it."""

from datetime import UTC, datetime, timedelta

import pytest
import webtest

from occi_site.integrations.captcha import Captcha
from occi_site.resources.captcha import Challenges
from tests.conftest import SOUND_SECRET, read

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def member(login_app):
    return login_app('90000001')


def new_membership(app):
    page = app.get('/services/new_membership')
    form = page.forms['deform']
    form['cr_number'] = '1445820'
    return page, form


def test_page_shows_the_challenge_only_by_its_key(member):
    page, _form = new_membership(member)
    captcha = page.html.find(class_='captcha')
    image = captcha.find('img')['src']
    audio = captcha.find('audio')['src']
    assert image.endswith('.png') and audio.endswith('.wav')
    key = image.rsplit('/', 1)[1][: -len('.png')]
    assert audio.endswith('/captcha/%s.wav' % key)
    assert 'TEST5' not in page.text
    assert member.get(image).body.startswith(b'\x89PNG')
    sound = member.get(audio)
    assert sound.content_type == 'audio/wav' and sound.body.startswith(b'RIFF')
    assert 'no-store' in sound.headers['Cache-Control']
    assert captcha.find('input')['aria-describedby']


def test_answer_passes_once_and_a_wrong_one_spends_the_challenge(member):
    page, form = new_membership(member)
    key = page.html.find('img', class_='captcha-image')['src'].rsplit('/', 1)[1][:-4]
    form['captcha'] = 'WRONG'
    again = form.submit('next')
    assert 'does not match' in again
    # The refused challenge is gone, a new one is shown.
    member.get('/captcha/%s.png' % key, status=404)
    form = again.forms['deform']
    form['captcha'] = 'test5'
    assert form.submit('next').status_int == 303


def test_dev_tools_tell_the_current_answer_and_only_with_dev_tools(member, make_app):
    new_membership(member)
    assert member.get('/_dev/captcha.json').json == {'answer': 'TEST5'}
    quiet = webtest.TestApp(
        make_app(**{'occi.dev_tools': 'false', 'occi.session.secret': SOUND_SECRET})
    )
    quiet.get('/_dev/captcha.json', status=404)


def test_challenges_expire_and_hold_no_session_state():
    challenges = Challenges()
    key = challenges.issue('482913', T0)
    assert challenges.answer(key, T0) == '482913'
    assert not challenges.spend(key, '482913', T0 + timedelta(minutes=16))
    key = challenges.issue('482913', T0)
    assert challenges.spend(key, '٤٨٢٩١٣', T0)
    assert not challenges.spend(key, '482913', T0)
    assert len(challenges) == 0


def test_challenges_live_in_the_database(member):
    new_membership(member)
    assert read(member.app, lambda site: len(site['captchas'])) == 1


def test_real_captcha_draws_and_speaks_six_digits():
    captcha = Captcha()
    answer = captcha.new_answer()
    assert len(answer) == 6 and answer.isdigit()
    assert captcha.png(answer).startswith(b'\x89PNG')
    assert captcha.wav(answer)[:4] == b'RIFF'
