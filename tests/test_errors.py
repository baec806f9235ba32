"""Error pages: a bad address is the visitor's problem (400 or 404), never a 500."""

import pytest


@pytest.mark.parametrize(
    'path', ['/static/%c0%ae', '/%ff', '/verify/%c0%ae', '/static/%c0%ae/site.css', '/%ff?x=%ff']
)
def test_invalid_utf8_in_the_path_is_a_clear_client_error(app, path):
    page = app.get(path, status=(400, 404))
    assert page.content_type == 'text/html'
    assert 'could not be read' in page.text or 'Page not found' in page.text


def test_invalid_utf8_in_the_path_in_arabic(app):
    page = app.get('/%ff', status=(400, 404), headers={'Accept-Language': 'ar'})
    assert page.html.html['dir'] == 'rtl'
