"""One form view for every Deform form: it dispatches on the pressed button.

A subclass names its schema and buttons and writes ``<button>_success``;
``invalid`` puts a server-side error next to a field while keeping every value
the person typed.
"""

import re

import colander
import deform
from pyramid.csrf import get_csrf_token

from ..i18n import _

# An Omani mobile number: 8 digits, the first 9 or 7.
MOBILE = re.compile(r'[79][0-9]{7}\Z')
MOBILE_MESSAGE = _(
    'Enter an Omani mobile number: 8 digits starting with 9 or 7, with or without +968.'
)


def text_value(values, name, default=''):
    """``values[name]`` (a request's POST, GET or params) as text: a file sent in its place
    counts as nothing sent."""
    value = values.get(name, default)
    return value if isinstance(value, str) else default


def strip(value):
    return value.strip() if isinstance(value, str) else value


def typed_node(title, validator, **options):
    """A text field checked by ``validator`` once the spaces around it are trimmed."""
    return colander.SchemaNode(
        colander.String(), title=title, preparer=strip, validator=validator, **options
    )


def text_node(title, longest, shortest=0, **options):
    """A text field of ``shortest`` to ``longest`` characters."""
    return colander.SchemaNode(
        colander.String(),
        title=title,
        validator=colander.Length(min=shortest, max=longest),
        **options,
    )


class FormView:
    schema = None
    buttons = ('submit',)
    form_options = {}

    def __init__(self, context, request):
        self.context = context
        self.request = request

    def make_form(self):
        schema = self.schema().bind(
            request=self.request, context=self.context, **self.bind_values()
        )
        schema.add(
            colander.SchemaNode(
                colander.String(),
                name='csrf_token',
                widget=deform.widget.HiddenWidget(),
                default=get_csrf_token(self.request),
                missing=colander.drop,
            )
        )
        return deform.Form(schema, buttons=self.buttons, **self.form_options)

    def bind_values(self):
        """Extra values for the schema's deferred nodes."""
        return {}

    def __call__(self):
        form = self.make_form()
        if self.request.method == 'POST':
            for button in form.buttons:
                if button.name in self.request.POST:
                    try:
                        appstruct = form.validate(self.request.POST.items())
                    except deform.ValidationFailure as failure:
                        return self.show(failure.render())
                    appstruct.pop('csrf_token', None)
                    return getattr(self, '%s_success' % button.name)(form, appstruct)
        return self.show(form.render(self.appstruct()))

    def appstruct(self):
        return colander.null

    def show(self, rendered_form, **values):
        return dict(values, form=rendered_form)

    def invalid(self, form, appstruct, **errors):
        """Render ``form`` with ``errors`` ({field: message}) next to their fields."""
        error = colander.Invalid(form.schema, _('There was a problem with your submission'))
        for name, message in errors.items():
            error[name] = message
        form.widget.handle_error(form, error)
        cstruct = form.schema.serialize(dict(appstruct, csrf_token=get_csrf_token(self.request)))
        return self.show(deform.ValidationFailure(form, cstruct, error).render())
