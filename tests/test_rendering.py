"""Deform's widget templates compiled one at a time."""

import threading
import time
from importlib.resources import files

from chameleon.zpt.template import PageTemplateFile

from occi_site.rendering import WidgetRenderer

TEMPLATES = ('textinput', 'password', 'select', 'checkbox', 'textarea', 'hidden')


def test_widget_templates_are_compiled_one_at_a_time(monkeypatch):
    """Python 3.11's ast module fails when two threads compile at once
    (CPython gh-106905): each template is compiled alone, however many app
    server threads render forms for the first time together."""
    compiling, most = [], []
    cook = PageTemplateFile.cook

    def slow_cook(template, body):
        compiling.append(template)
        most.append(len(compiling))
        # Long enough for every other thread to reach its own compilation.
        time.sleep(0.05)
        try:
            return cook(template, body)
        finally:
            compiling.remove(template)

    monkeypatch.setattr(PageTemplateFile, 'cook', slow_cook)
    renderer = WidgetRenderer((str(files('deform') / 'templates'),), auto_reload=False)
    start = threading.Barrier(len(TEMPLATES))

    def first_render(name):
        start.wait()
        renderer.load(name)

    threads = [threading.Thread(target=first_render, args=(name,)) for name in TEMPLATES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(most) == len(TEMPLATES) and max(most) == 1
