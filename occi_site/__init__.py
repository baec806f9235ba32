"""occi_site: the e-services portal of the Oman Chamber of Commerce and Industry."""

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from ZConfig import SubstitutionReplacementError, SubstitutionSyntaxError
from ZConfig.substitution import substitute

from .startup_checks import check_settings


def from_environment(settings):
    """The settings with ``$(NAME)`` replaced by the environment variable NAME,
    the syntax of the database's ZConfig file, so secrets and paths can stay
    out of the ini file (``$$`` is a dollar sign)."""
    expanded = {}
    for name, value in settings.items():
        if isinstance(value, str) and '$' in value:
            try:
                value = substitute(value, {})
            except (SubstitutionReplacementError, SubstitutionSyntaxError) as error:
                raise ConfigurationError('setting %s: %s' % (name, error)) from None
        expanded[name] = value
    return expanded


def main(global_config, **settings):
    """The portal's WSGI application."""
    settings = from_environment(settings)
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
        config.include('.clock')
        config.include('.resources')
        config.include('.i18n')
        config.include('.security')
        config.include('.integrations')
        config.include('.delivery')
        config.include('.documents')
        config.include('.reconciliation')
        config.include('.views')
        config.include('.request')
    return config.make_wsgi_app()
