"""A bare Pyramid "hello": the yardstick the load benchmark measures pages against.

Served by pserve with the portal's own waitress settings, in the same run, so
a page's requests per second divided by hello's hold across machines.
"""

from pyramid.config import Configurator
from pyramid.response import Response


def hello(request):
    return Response('Hello', content_type='text/plain')


def main(global_config, **settings):
    with Configurator(settings=settings) as config:
        config.add_route('hello', '/')
        config.add_view(hello, route_name='hello')
    return config.make_wsgi_app()
