"""Jinja2 templates through pyramid_jinja2, with each view's template found once
and ``_()`` calling the translation directly.

pyramid_jinja2 looks a view's template up first beside the view's package
(``occi_site.views:home.jinja2``), then on the search path.  Jinja2 caches
the templates it found, not the names it did not find, so every render
searched the file system for the first name before reaching the cached
template.  Here each renderer remembers the name its template was found
under, and Jinja2's cache does the rest; the factory, which Pyramid asks
for a renderer on every request, makes each renderer once.

Jinja2's i18n extension makes ``_`` an alias that looks ``gettext`` up in
the template's context on every call, through two of Jinja2's generic calls;
a page holds dozens of ``_()``.  ``_`` is made the installed ``gettext``
itself (``occi_site.i18n.TemplateGettext``), which is what the alias finds.

Deform's widget templates are Chameleon's, compiled on their first render
(``WidgetRenderer``).
"""

import threading

from deform.template import ZPTRendererFactory
from jinja2 import TemplateNotFound
from pyramid_jinja2 import ENV_CONFIG_PHASE, IJinja2Environment, Jinja2TemplateRenderer


class Jinja2Renderers:
    """The ``.jinja2`` renderer factory, over pyramid_jinja2's environment:
    one renderer per template name and view package, made once."""

    def __init__(self):
        self.renderers = {}

    def __call__(self, info):
        key = (info.name, info.package)
        renderer = self.renderers.get(key)
        if renderer is None:
            renderer = self.renderers[key] = self._renderer(info)
        return renderer

    @staticmethod
    def _renderer(info):
        environment = info.registry.getUtility(IJinja2Environment, name='.jinja2')
        candidates = (info.name,)
        if ':' not in info.name and info.package is not None:
            # pyramid_jinja2's order: beside the view's package first.
            candidates = ('%s:%s' % (info.package.__name__, info.name), info.name)
        found = []

        def template_loader():
            if found:
                return environment.get_template(found[0])
            for name in candidates[:-1]:
                try:
                    template = environment.get_template(name)
                except TemplateNotFound:
                    continue
                found.append(name)
                return template
            template = environment.get_template(candidates[-1])
            found.append(candidates[-1])
            return template

        return Jinja2TemplateRenderer(template_loader)


class WidgetRenderer(ZPTRendererFactory):
    """Deform's renderer, compiling one widget template at a time.

    Chameleon compiles a template through Python's ast module on its first
    render; Python 3.11 keeps the ast module's recursion count for all
    threads at once, so two app server threads compiling together can fail
    with "SystemError: AST constructor recursion depth mismatch" (CPython
    gh-106905), a 500 on the first forms a new process shows under load."""

    # Reentrant: compiling a template may load another.
    compiling = threading.RLock()

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        # Once compiled, a template is loaded without the lock (a form loads dozens).
        self.compiled = set()

    def load(self, template_name):
        template = super().load(template_name)
        if template_name not in self.compiled:
            with self.compiling:
                template.cook_check()
                self.compiled.add(template_name)
        return template


def includeme(config):
    config.include('pyramid_jinja2')
    # Replaces the ``.jinja2`` renderer pyramid_jinja2 registered (an
    # includer's registration wins over its include's); the environment and
    # its settings stay pyramid_jinja2's.
    config.add_renderer('.jinja2', Jinja2Renderers())

    def direct_gettext():
        environment = config.registry.getUtility(IJinja2Environment, name='.jinja2')
        environment.globals['_'] = environment.globals['gettext']

    # After pyramid_jinja2 made the environment.
    config.action(None, direct_gettext, order=ENV_CONFIG_PHASE + 1)
