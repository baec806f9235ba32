"""Security headers on every response of the portal, the development IdP and the
sandbox gateway, built with the ``secure`` library.

No page may be framed (clickjacking of confirm buttons, admin actions, the PIN
pad), no inline script runs (scripts are static files), nothing is sniffed,
no address leaks to other sites in the Referer, and browser features the
pages never use are switched off.  HSTS is sent where the site is served over
HTTPS only (``occi.session.secure``).  A response in a session (the request
carries the session's cookie, or the response sets it) is not stored by the
browser or any cache on the way, unless its view said how long it may be
kept: on a shared computer, Back or the disk cache would show a member's
pages after the logout.
"""

from urllib.parse import urlsplit

import secure
from pyramid.settings import asbool

from .sessions import COOKIE_NAME as SESSION_COOKIE

HSTS_SECONDS = 365 * 24 * 3600
UNUSED_FEATURES = (
    'accelerometer',
    'camera',
    'geolocation',
    'gyroscope',
    'magnetometer',
    'microphone',
    'payment',
    'usb',
)


def content_security_policy(connect_src=()):
    return (
        secure.ContentSecurityPolicy()
        .default_src("'self'")
        .script_src("'self'")
        # TinyMCE, the rich text editor of the management forms, styles its editor inline.
        .style_src("'self'", "'unsafe-inline'")
        .img_src("'self'", 'data:', 'blob:')
        .connect_src("'self'", *connect_src)
        .object_src("'none'")
        .base_uri("'self'")
        .frame_ancestors("'none'")
    )


def security_headers(*, connect_src=(), hsts=False):
    permissions = secure.PermissionsPolicy()
    for feature in UNUSED_FEATURES:
        permissions.add_directive(feature)
    return secure.Secure(
        csp=content_security_policy(connect_src),
        hsts=(
            secure.StrictTransportSecurity().max_age(HSTS_SECONDS).include_subdomains()
            if hsts
            else None
        ),
        permissions=permissions,
        referrer=secure.ReferrerPolicy().same_origin(),
        xcto=secure.XContentTypeOptions().nosniff(),
        xfo=secure.XFrameOptions().deny(),
    )


def origin(url):
    """``scheme://host[:port]`` of ``url``, as CSP source lists name it."""
    parts = urlsplit(url)
    return '%s://%s' % (parts.scheme, parts.netloc)


def send_security_headers(request, response):
    """Give ``response`` to ``request`` the headers every response of the
    application carries."""
    for name, value in request.registry.occi_security_headers:
        response.headers[name] = value
    keep_out_of_caches(request, response)
    return response


def keep_out_of_caches(request, response):
    """``Cache-Control: private, no-store`` on a response in a session whose
    view did not say how long it may be kept."""
    personal = request.registry.occi_personal_cookie
    if personal is None:
        return
    if personal in request.cookies or any(
        value.startswith(personal + '=') for value in response.headers.getall('Set-Cookie')
    ):
        kept_for = response.cache_control
        if kept_for.max_age is None and not kept_for.public:
            kept_for.private = True
            kept_for.no_store = True


def security_headers_tween_factory(handler, registry):
    def security_headers_tween(request):
        response = send_security_headers(request, handler(request))
        # A session the request started sets its cookie after the tweens.
        request.add_response_callback(keep_out_of_caches)
        return response

    return security_headers_tween


def add_security_headers(config, *, connect_src=(), hsts=False, personal_cookie=None):
    """Send the headers on every response of ``config``'s application, error
    pages and kept pages (``page_cache``) included; responses to a request
    with the cookie named ``personal_cookie`` are not to be stored."""
    # Serialised once: the configuration does not change while serving.
    config.registry.occi_security_headers = tuple(
        security_headers(connect_src=connect_src, hsts=hsts).headers.items()
    )
    config.registry.occi_personal_cookie = personal_cookie
    config.add_tween('occi_site.headers.security_headers_tween_factory')


def includeme(config):
    add_security_headers(
        config,
        hsts=asbool(config.registry.settings.get('occi.session.secure')),
        personal_cookie=SESSION_COOKIE,
    )
