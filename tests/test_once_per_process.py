"""Work done once per process, not on every request."""

from pyramid.i18n import Localizer
from pyramid_jinja2 import Jinja2TemplateRenderer, SmartAssetSpecLoader


def test_templates_are_not_looked_up_on_every_render(app, monkeypatch):
    app.get('/')
    app.get('/verify/OCCI-2026-000001/7KQ2M9XD4TPA', status=404)
    lookups = []
    original = SmartAssetSpecLoader.get_source

    def get_source(loader, environment, template):
        lookups.append(template)
        return original(loader, environment, template)

    monkeypatch.setattr(SmartAssetSpecLoader, 'get_source', get_source)
    app.get('/')
    app.get('/verify/OCCI-2026-000001/7KQ2M9XD4TPA', status=404)
    assert lookups == []


def test_template_messages_are_translated_once_per_language(app, monkeypatch):
    for lang in ('en', 'ar'):
        app.get('/', headers={'Accept-Language': lang})
    translations = []
    original = Localizer.translate

    def translate(localizer, term, *args, **kw):
        translations.append(term)
        return original(localizer, term, *args, **kw)

    monkeypatch.setattr(Localizer, 'translate', translate)
    arabic = app.get('/', headers={'Accept-Language': 'ar'})
    english = app.get('/', headers={'Accept-Language': 'en'})
    assert translations == []
    assert 'الخدمات الإلكترونية' in arabic and 'Our e-services' in english


def test_form_templates_are_not_read_again_on_every_render(app, monkeypatch):
    from chameleon.template import BaseTemplateFile

    app.get('/verify')
    checks = []
    original = BaseTemplateFile.mtime

    def mtime(template):
        checks.append(template.filename)
        return original(template)

    monkeypatch.setattr(BaseTemplateFile, 'mtime', mtime)
    assert 'Certificate serial' in app.get('/verify')
    assert checks == []


def test_a_search_form_is_rendered_once(login_app, monkeypatch):
    import deform

    admin = login_app('90000009', roles=('member', 'admin'))
    first = admin.get('/companies/@@manage-contents')
    renders = []
    original = deform.Field.render

    def render(field, *args, **kw):
        renders.append(field.name)
        return original(field, *args, **kw)

    monkeypatch.setattr(deform.Field, 'render', render)
    again = admin.get('/companies/@@manage-contents')
    assert renders == []
    assert again.html.find(id='search') is not None
    assert str(again.html.find(id='search')) == str(first.html.find(id='search'))
    # A filled form shows what was sent, and is rendered once too.
    query = {'text': 'rendered once', 'search': 'search'}
    found = admin.get('/companies/@@manage-search', query)
    assert renders and 'value="rendered once"' in found
    renders.clear()
    again = admin.get('/companies/@@manage-search', query)
    assert renders == []
    assert str(again.html.find(id='search')) == str(found.html.find(id='search'))
    other = admin.get('/companies/@@manage-search', {'text': 'promising', 'search': 'search'})
    assert 'value="promising"' in other and 'value="rendered once"' not in other


def test_the_person_is_looked_up_once_per_request(login_app, monkeypatch):
    from occi_site.resources.account import Accounts

    admin = login_app('90000009', roles=('member', 'admin'))
    admin.get('/companies/@@manage-contents')
    lookups = []
    original = Accounts.get

    def get(accounts, name, default=None):
        lookups.append(name)
        return original(accounts, name, default)

    monkeypatch.setattr(Accounts, 'get', get)
    # Every row of the listing asks what the person may do there.
    page = admin.get('/companies/@@manage-contents')
    assert page.html.select('table.manage-table tbody tr')
    assert lookups == ['90000009']


def test_requests_share_one_class_with_every_request_method(app, monkeypatch):
    classes = set()
    original = Jinja2TemplateRenderer.__call__

    def render(renderer, value, system):
        request = system['request']
        classes.add(type(request))
        assert request.now and request.text_direction and request.mailer
        return original(renderer, value, system)

    monkeypatch.setattr(Jinja2TemplateRenderer, '__call__', render)
    app.get('/')
    app.get('/verify')
    assert len(classes) == 1
