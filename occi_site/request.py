"""The portal's request class carries every request method and property.

``add_request_method`` keeps what it adds apart, and Pyramid applies it to
each request; a reified or property one makes Pyramid build a new class for
every request.  Once the configuration is complete, the methods and
properties are moved onto one subclass of the request factory, made once.
"""

from pyramid.interfaces import PHASE3_CONFIG, IRequestExtensions, IRequestFactory
from pyramid.request import Request

# After every action of the default phase, add_request_method's included.
AFTER_THE_EXTENSIONS = PHASE3_CONFIG + 1


def fold_request_extensions(registry):
    """Move the registry's request extensions onto a subclass of its request
    factory, registered in its place."""
    extensions = registry.queryUtility(IRequestExtensions)
    if extensions is None or not (extensions.methods or extensions.descriptors):
        return
    factory = registry.queryUtility(IRequestFactory, default=Request)
    attributes = {**extensions.methods, **extensions.descriptors}
    attributes['__module__'] = factory.__module__
    registry.registerUtility(type(factory.__name__, (factory,), attributes), IRequestFactory)
    # Left in place but empty: what is added later still reaches requests.
    extensions.methods.clear()
    extensions.descriptors.clear()


def includeme(config):
    config.action(
        None, fold_request_extensions, args=(config.registry,), order=AFTER_THE_EXTENSIONS
    )
