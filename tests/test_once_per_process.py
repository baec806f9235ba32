"""Work done once per process, not on every request."""

from pyramid_jinja2 import SmartAssetSpecLoader


def test_templates_are_not_looked_up_on_every_render(app, monkeypatch):
    app.get('/')
    app.get('/verify/OCCI-2026-000001', status=404)
    lookups = []
    original = SmartAssetSpecLoader.get_source

    def get_source(loader, environment, template):
        lookups.append(template)
        return original(loader, environment, template)

    monkeypatch.setattr(SmartAssetSpecLoader, 'get_source', get_source)
    app.get('/')
    app.get('/verify/OCCI-2026-000001', status=404)
    assert lookups == []
