"""PKI login: the portal as a SAML 2.0 service provider of the national PKI identity provider.

Members prove who they are with their civil ID card or their Mobile ID at the identity
provider (IdP); the IdP answers with a signed assertion naming their civil ID. This package is
the portal's side of that exchange (Web SSO with an HTTP-Redirect AuthnRequest and an
HTTP-POST Response, Single Log-Out over HTTP-Redirect), built on pysaml2 with Debian's xmlsec1.

pysaml2 builds and signs our messages and verifies XML signatures against the certificates in
the IdP's metadata. Every rule about *whether to believe* an answer is checked in one place,
`checks`, because pysaml2 leaves several of them to the caller or checks them too laxly: the
request the answer belongs to, replays, the authentication method, and which assertion the
verified signature covers. `redirect` verifies the signatures of HTTP-Redirect messages,
`errors` says why an exchange was refused, `provider` holds the service provider itself.

Nothing here assumes the bundled development IdP: any standard IdP described by its metadata
file will do. The login hint (a Mobile ID number) travels the standard way, as the
AuthnRequest's <Subject><NameID Format="...:unspecified"> (the IdP may ignore it).
"""

from .checks import CLOCK_SKEW, LOGOUT_REQUEST_LIFETIME, Authentication
from .errors import PkiError, PkiSetupError
from .provider import (
    IdpLogout,
    LoginRequest,
    MemoryReplayCache,
    PkiServiceProvider,
    ReplayCache,
)

__all__ = [
    'CLOCK_SKEW',
    'LOGOUT_REQUEST_LIFETIME',
    'Authentication',
    'IdpLogout',
    'LoginRequest',
    'MemoryReplayCache',
    'PkiError',
    'PkiServiceProvider',
    'PkiSetupError',
    'ReplayCache',
]
