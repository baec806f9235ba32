"""Management forms: the site's FormView (dispatch on the pressed button),
inside the management page, with Cancel, and money typed in rials."""

from datetime import datetime, time

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from repoze.lru import LRUCache

from ...clock import DAY_IN_REACH, OMAN
from ...i18n import _
from ..forms import FormView
from .tabs import manage_page, manage_url


def day_range(date_from, date_to):
    """``(first, last)`` instants of the days from ``date_from`` to ``date_to``
    (either may be None) in Oman, as a filter's index reads them."""
    first = None if date_from is None else datetime.combine(date_from, time.min, OMAN)
    last = None if date_to is None else datetime.combine(date_to, time.max, OMAN)
    return first, last


def choices_widget(anything, titles):
    """A deferred select of ``titles`` (value -> title) after an ``anything`` choice."""

    @colander.deferred
    def widget(node, kw):
        translate = kw['request'].localizer.translate
        return deform.widget.SelectWidget(
            values=[('', translate(anything))]
            + [(value, translate(title)) for value, title in titles.items()]
        )

    return widget


def choice_node(title, anything, titles):
    """An optional choice of one of ``titles`` (value -> title), '' for ``anything``."""
    return colander.SchemaNode(
        colander.String(),
        title=title,
        missing='',
        validator=colander.OneOf(('', *titles)),
        widget=choices_widget(anything, titles),
    )


def date_input():
    """The browser's own date field: no script needed, ISO dates as colander reads them."""
    return deform.widget.TextInputWidget(attributes={'type': 'date'})


def date_node(title, missing=None):
    """A day of a filter (optional unless ``missing=colander.required``), in
    the browser's own date field."""
    return colander.SchemaNode(
        colander.Date(),
        title=title,
        missing=missing,
        validator=DAY_IN_REACH,
        widget=date_input(),
    )


class ManageForm(FormView):
    """A form on a management tab.  Subclasses set ``schema`` (a schema
    class, or a method making one), ``button_titles`` and write
    ``<button>_success``."""

    button_titles = (('save', _('Save')),)
    offers_cancel = True
    # The tab Cancel (and, by default, success) returns to.
    return_tab = None

    def __init__(self, context, request):
        super().__init__(context, request)
        translate = request.localizer.translate
        self.buttons = tuple(
            deform.Button(name, translate(title)) for name, title in self.button_titles
        )
        if self.offers_cancel:
            self.buttons += (
                deform.Button('cancel', translate(_('Cancel')), css_class='btn-default secondary'),
            )
        self.form = None

    def make_form(self):
        self.form = super().make_form()
        return self.form

    def __call__(self):
        if self.request.method == 'POST' and 'cancel' in self.request.POST:
            return self.back()
        return super().__call__()

    def back(self):
        return HTTPSeeOther(
            manage_url(self.request, self.context, self.return_tab or self.request.view_name)
        )

    def show(self, rendered_form, **values):
        resources = self.form.get_widget_resources() if self.form else {'js': (), 'css': ()}
        return manage_page(
            self.request, self.context, form=rendered_form, form_resources=resources, **values
        )


# Search forms as they first show, by schema, language and button: rendering
# one with Deform is a good part of a listing page's time, and it is the same
# HTML every time for a schema that nothing is bound into.
_BLANK_SEARCH_FORMS = {}
# And filled in, by those and the values sent: a search is often sent again
# (the next page, the same name looked up again).  The least recently used
# are forgotten past this many.
FILLED_FORMS_REMEMBERED = 1000
_FILLED_SEARCH_FORMS = LRUCache(FILLED_FORMS_REMEMBERED)


def _binds_anything(schema):
    return any(
        isinstance(value, colander.deferred)
        for node in (schema, *schema.children)
        for value in vars(node).values()
    )


def find_page(request, context, schema, find, **values):
    """A Find tab: a form of one field, ``text``, and once it is sent valid
    the results of ``find(context, text)``."""
    form, found = search_form(request, schema, _('Find'), focus='on')
    results = None if found is None else find(context, found['text'])
    return manage_page(request, context, form=form, results=results, **values)


def search_form(request, schema, button_title, focus='off', params=None, **bind):
    """A GET form (searches and filters change nothing, so no CSRF token in
    the address): ``(rendered form, appstruct)``, the appstruct None until
    the form is sent valid.  ``focus='on'`` where finding is the page's purpose.
    ``params``: where the form's values are read, the query by default (a
    POST that acts on a search's results sends them again)."""
    params = request.GET if params is None else params
    sent = 'search' in params
    # Binding clones the whole schema: only worth it where something is bound.
    binds = bool(bind) or _binds_anything(schema)
    shown_key = None if binds else (type(schema), request.locale_name, button_title, focus)
    if not sent and shown_key in _BLANK_SEARCH_FORMS:
        return _BLANK_SEARCH_FORMS[shown_key], None
    if binds:
        schema = schema.bind(request=request, **bind)
    button = deform.Button('search', request.localizer.translate(button_title))
    form = deform.Form(schema, method='GET', buttons=(button,), formid='search', focus=focus)
    if not sent:
        rendered = form.render()
        if shown_key is not None:
            _BLANK_SEARCH_FORMS[shown_key] = rendered
        return rendered, None
    try:
        appstruct = form.validate(params.items())
    except deform.ValidationFailure as failure:
        return failure.render(), None
    if shown_key is None:
        return form.render(appstruct), appstruct
    filled_key = (
        shown_key,
        tuple(sorted((name, repr(value)) for name, value in appstruct.items())),
    )
    rendered = _FILLED_SEARCH_FORMS.get(filled_key)
    if rendered is None:
        rendered = form.render(appstruct)
        _FILLED_SEARCH_FORMS.put(filled_key, rendered)
    return rendered, appstruct
