"""An order's Payment tab: its amount, the gateway's answers, its flags and
its refunds; here an administrator records that a refund due was made (the
order audits it and tells the member)."""

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther

from ...i18n import _
from ...resources.order import ORDER_STATE_TITLES, Order
from ..forms import text_node
from .forms import ManageForm
from .tabs import mgmt_view


@colander.deferred
def _due_widget(node, kw):
    return deform.widget.SelectWidget(
        values=[(refund.transaction_id, refund.transaction_id) for refund in kw['due']]
    )


@colander.deferred
def _due_validator(node, kw):
    return colander.OneOf([refund.transaction_id for refund in kw['due']])


class RefundMadeSchema(colander.Schema):
    transaction_id = colander.SchemaNode(
        colander.String(),
        title=_('Transaction'),
        widget=_due_widget,
        validator=_due_validator,
    )
    note = text_node(
        _('Refund reference'),
        300,
        3,
        description=_("The bank's reference of the refund, or how it was made."),
    )


@mgmt_view('manage-payment', _('Payment'), Order, order=5, template='order')
class PaymentView(ManageForm):
    schema = RefundMadeSchema
    button_titles = (('refunded', _('Mark refunded')),)
    offers_cancel = False

    def bind_values(self):
        return {'due': self.context.refunds_due}

    def __call__(self):
        if not self.context.refunds_due:
            return self.show(None)
        return super().__call__()

    def show(self, rendered_form, **values):
        order = self.context
        return super().show(
            rendered_form,
            order=order,
            state_title=ORDER_STATE_TITLES[order.state],
            answers=[
                (when, fields) for when, fields in order.gateway_messages if 'decision' in fields
            ],
            **values,
        )

    def refunded_success(self, form, appstruct):
        self.context.mark_refunded(
            appstruct['transaction_id'], appstruct['note'], self.request.now, self.request
        )
        return HTTPSeeOther(self.request.url)
