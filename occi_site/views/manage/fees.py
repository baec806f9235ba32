"""The fee schedule in /manage: the annual fee of each grade and the fee of
each service, typed in rials with three decimals and kept as integer baisa."""

import colander
from pyramid.httpexceptions import HTTPSeeOther

from ...i18n import _
from ...resources.services import SERVICES
from ...resources.settings import FeeSchedule
from .changes import record_change
from .forms import ManageForm, Rials, rials_between
from .tabs import mgmt_view

# 100,000 rials, in baisa.
HIGHEST_FEE = 100_000_000


def _fee_node(name, title):
    return colander.SchemaNode(
        Rials(), name=name, title=title, validator=rials_between(0, HIGHEST_FEE)
    )


def fee_schema(fees):
    schema = colander.SchemaNode(colander.Mapping())
    annual = colander.SchemaNode(
        colander.Mapping(), name='annual', title=_('Annual fee by grade (RO)')
    )
    # The grade names are in the catalog (views/formatting.py GRADE_NAMES),
    # so ``_(grade)`` finds their Arabic.
    for grade in fees.annual_fees:
        annual.add(_fee_node(grade, _(grade)))
    service = colander.SchemaNode(
        colander.Mapping(), name='services', title=_('Fee of each service (RO)')
    )
    for name in fees.service_fees:
        service.add(_fee_node(name, SERVICES[name].title if name in SERVICES else name))
    schema.add(annual)
    schema.add(service)
    return schema


@mgmt_view('manage-fees', _('Fees'), FeeSchedule, order=5, renderer='manage/form.jinja2')
class FeesView(ManageForm):
    def schema(self):
        return fee_schema(self.context)

    def appstruct(self):
        return {
            'annual': dict(self.context.annual_fees),
            'services': dict(self.context.service_fees),
        }

    def show(self, rendered_form, **values):
        return super().show(rendered_form, form_title=_('Fee schedule'), **values)

    def save_success(self, form, appstruct):
        changes = []
        for table, typed in (
            (self.context.annual_fees, appstruct['annual']),
            (self.context.service_fees, appstruct['services']),
        ):
            for name, baisa in typed.items():
                if table[name] != baisa:
                    changes.append('%s: %d -> %d' % (name, table[name], baisa))
                    table[name] = baisa
        if changes:
            record_change(
                self.request,
                'fees',
                self.context,
                _('Changed the fee schedule: ${changes}', mapping={'changes': '; '.join(changes)}),
                changes='; '.join(changes),
            )
        return HTTPSeeOther(self.request.url)
