"""occi_site: the e-services portal of the Oman Chamber of Commerce and Industry."""

from pyramid.config import Configurator

from .startup_checks import check_settings


def main(global_config, **settings):
    """The portal's WSGI application."""
    check_settings(settings)
    settings.setdefault('jinja2.directories', 'occi_site:templates')
    settings.setdefault('jinja2.i18n.domain', 'occi_site')
    settings.setdefault('jinja2.i18n.gettext', 'occi_site.i18n.TemplateGettext')
    settings.setdefault(
        'jinja2.filters',
        'rial = occi_site.views.formatting:rial\n'
        'day = occi_site.views.formatting:day\n'
        'moment = occi_site.views.formatting:moment',
    )
    settings.setdefault('tm.manager_hook', 'pyramid_tm.explicit_manager')
    with Configurator(settings=settings) as config:
        config.include('.public_url')
        config.include('.headers')
        config.include('.rendering')
        config.include('.page_cache')
        config.include('pyramid_tm')
        config.include('pyramid_retry')
        config.include('.retry')
        config.include('pyramid_zodbconn')
        config.include('.clock')
        config.include('.resources')
        config.include('.i18n')
        config.include('.security')
        config.include('.integrations')
        config.include('.delivery')
        config.include('.documents')
        config.include('.views')
        config.include('.request')
    return config.make_wsgi_app()
