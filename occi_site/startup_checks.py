"""Settings the portal refuses to start with.

A secret that is a placeholder, short, or published (shipped in this
repository for development and tests) lets anyone forge what it protects: the
session keys, the gateway's signed answers, the providers' signed delivery
reports.  Outside development (``occi.dev_tools`` off) such a secret, or any
setting still reading ``CHANGE-ME``, stops the start with a message naming
each setting.  The public
address (``occi.public_url``) is needed everywhere: every absolute URL the
portal hands out is built from it; and so is the sessions database
(``zodbconn.uri.sessions``).
"""

import re
from urllib.parse import urlsplit

from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool

SECRETS = (
    'occi.session.secret',
    'occi.payment.secret_key',
    'occi.sms.report_secret',
    'occi.mail.report_secret',
)
# Set only where the provider sends signed delivery reports.
REPORT_SECRETS = ('occi.sms.report_secret', 'occi.mail.report_secret')
MIN_SECRET_BYTES = 32
MIN_DISTINCT_CHARACTERS = 10
# Shipped in development.ini and the tests: public, so never a production secret.
PUBLISHED_SECRETS = frozenset(
    {
        'dev-only-secret-change-me-0b7d3f6c9e',
        'sandbox-secret-key-for-development-only',
        'test-secret',
        'test-secret-key-for-the-sandbox',
        'test-report-secret',
    }
)
PLACEHOLDER = re.compile(r'change[-_ ]?me|placeholder|replace[-_ ]?(me|this)|your[-_ ]', re.I)
GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def secret_problem(value):
    """Why ``value`` is no secret, or None."""
    if PLACEHOLDER.search(value):
        return 'is a placeholder'
    if value in PUBLISHED_SECRETS:
        return 'is a published development value'
    if len(value.encode('utf-8')) < MIN_SECRET_BYTES:
        return 'is shorter than %d bytes' % MIN_SECRET_BYTES
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return 'is not random'
    return None


def problems(settings):
    found = []
    if not settings.get('zodbconn.uri.sessions'):
        found.append('zodbconn.uri.sessions: the database of the sessions is required')
    public_url = urlsplit(settings.get('occi.public_url') or '')
    if public_url.scheme not in ('http', 'https') or not public_url.netloc:
        found.append("occi.public_url: the portal's public address (https://...) is required")
    if asbool(settings.get('occi.dev_tools', False)):
        return found
    for name in SECRETS:
        if name == 'occi.payment.secret_key' and 'occi.payment.endpoint_url' not in settings:
            continue
        if name in REPORT_SECRETS and name not in settings:
            continue
        problem = secret_problem(settings.get(name) or '')
        if problem:
            found.append(
                '%s %s; set a long random value, e.g. from: %s' % (name, problem, GENERATE)
            )
    for name, value in sorted(settings.items()):
        if name not in SECRETS and isinstance(value, str) and 'change-me' in value.lower():
            found.append('%s still reads CHANGE-ME' % name)
    return found


def check_settings(settings):
    """Raise ConfigurationError naming every setting the portal cannot start with."""
    found = problems(settings)
    if found:
        raise ConfigurationError('The portal cannot start:\n  ' + '\n  '.join(found))
