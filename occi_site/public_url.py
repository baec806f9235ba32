"""The portal's own address comes from ``occi.public_url``, never from the request.

Mail links, the gateway's return and notification URLs, SAML endpoints and
redirects are all built by Pyramid from the request's scheme, host and script
name; the request class sets those from ``occi.public_url``, so a forged Host
header changes no address the portal hands out.  Console scripts get the same
request class (``pyramid.paster.bootstrap``), so their mail links are right too.
"""

from urllib.parse import urlsplit

from pyramid.decorator import reify
from pyramid.request import Request


class PublicRequest(Request):
    """A request whose own address is the portal's public one (``public_environ``)."""

    public_environ = {}

    def __init__(self, environ, *args, **kw):
        # In place: pyramid_retry builds each attempt's request from this environ.
        environ.update(self.public_environ)
        super().__init__(environ, *args, **kw)

    # The public address does not change during a request, and a page builds
    # many links from it: worked out once.
    @reify
    def host_url(self):
        return super().host_url

    @reify
    def application_url(self):
        return super().application_url


def request_factory(public_url):
    parts = urlsplit(public_url)
    environ = {
        'wsgi.url_scheme': parts.scheme,
        'HTTP_HOST': parts.netloc,
        'SCRIPT_NAME': parts.path.rstrip('/'),
    }
    return type('PortalRequest', (PublicRequest,), {'public_environ': environ})


def includeme(config):
    config.set_request_factory(request_factory(config.registry.settings['occi.public_url']))
