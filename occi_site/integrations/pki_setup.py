"""The portal's SAML service provider, configured from the settings.

Every URL derives from ``occi.public_url``; the IdP is only its metadata
file, the attribute carrying the civil ID and the accepted contexts.
"""

import logging
import os
import tempfile

from pyramid.settings import aslist

from .pki import PkiServiceProvider

log = logging.getLogger(__name__)

DEFAULT_CONTEXTS = (
    'card urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI\n'
    'mobile urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract'
)


def service_provider_from_settings(settings):
    base = settings['occi.public_url'].rstrip('/')
    words = aslist(settings.get('occi.pki.contexts', DEFAULT_CONTEXTS))
    return PkiServiceProvider(
        entity_id=base + '/saml/metadata',
        acs_url=base + '/saml/acs',
        sls_url=base + '/saml/sls',
        key_file=settings['occi.pki.key_file'],
        cert_file=settings['occi.pki.cert_file'],
        idp_metadata_file=settings['occi.pki.idp_metadata'],
        civil_id_attribute=settings.get('occi.pki.civil_id_attribute', 'CivilNumber'),
        accepted_contexts=dict(zip(words[::2], words[1::2], strict=True)),
        xmlsec_binary=settings.get('occi.pki.xmlsec1', '/usr/bin/xmlsec1'),
    )


def publish_metadata(path, xml):
    """Write ``xml`` to ``path`` whole or not at all: several servers may start
    at once, and the IdP reads the file whenever it changes."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        'w', encoding='utf-8', dir=folder, prefix='.sp-metadata-', delete=False
    ) as stream:
        stream.write(xml)
    os.chmod(stream.name, 0o644)
    os.replace(stream.name, path)


def includeme(config):
    settings = config.registry.settings
    if 'occi.pki.key_file' not in settings:
        log.warning('PKI login is not configured (occi.pki.key_file): logins are refused')
        config.registry.occi_pki = None
        return
    provider = config.registry.occi_pki = service_provider_from_settings(settings)
    provider.check_xmlsec()
    metadata_file = settings.get('occi.pki.sp_metadata_file')
    if metadata_file:
        # Published for an IdP that reads it from disk (the development IdP).
        publish_metadata(metadata_file, provider.metadata_xml())
