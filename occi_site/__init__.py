"""occi_site: the e-services portal of the Oman Chamber of Commerce and Industry."""

from pyramid.config import Configurator


def main(global_config, **settings):
    """The portal's WSGI application."""
    settings.setdefault('jinja2.directories', 'occi_site:templates')
    settings.setdefault('jinja2.i18n.domain', 'occi_site')
    settings.setdefault(
        'jinja2.filters',
        'rial = occi_site.views.formatting:rial\nday = occi_site.views.formatting:day',
    )
    settings.setdefault('tm.manager_hook', 'pyramid_tm.explicit_manager')
    with Configurator(settings=settings) as config:
        config.include('pyramid_jinja2')
        config.include('pyramid_tm')
        config.include('pyramid_retry')
        config.include('pyramid_zodbconn')
        config.include('.clock')
        config.include('.resources')
        config.include('.i18n')
        config.include('.security')
        config.include('.integrations')
        config.include('.views')
    return config.make_wsgi_app()
