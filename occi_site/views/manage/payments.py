"""An order's Payment tab: its amount, the gateway's answers, its flags and
its refunds; here an administrator records that a refund due was made (the
order audits it and tells the member), and asks the gateway what it decided."""

import logging

import colander
import deform
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...integrations.payment import PaymentQueryError, PaymentResponseError
from ...resources.order import ORDER_STATE_TITLES, Order
from ..forms import text_node
from ..payment import settle_results
from .forms import ManageForm
from .tabs import mgmt_view

log = logging.getLogger(__name__)
# The channel of the answers an administrator's question brings (the audit log shows it).
ASKED_BY_AN_ADMINISTRATOR = 'administrator'
ANSWERS_RECORDED = _(
    'The gateway was asked about this order. Answers that had not reached the portal, '
    'recorded now: ${count}.'
)
NOTHING_NEW = _(
    'The gateway was asked about this order: the portal had every answer it gave already.'
)
NOT_ASKED = _('The gateway could not be asked about this order just now. Please try again later.')


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


@view_config(context=Order, name='ask-gateway', permission='manage', request_method='POST')
def ask_gateway(order, request):
    """The Payment tab's "Ask the gateway now": what the gateway decided for
    the order's attempts, asked at once, as reconciliation asks on its passes
    (a closed order once after its window, for a day while the gateway
    cannot say; a payment held for review until ``REVIEW_WINDOW`` has
    passed).  Answers the order has not kept take the path every answer
    takes (a payment recorded, a request completed, a refund due flagged)
    and are audited as the administrator's."""
    translate = request.localizer.translate
    try:
        results = request.payment_gateway.transactions(order.id)
    except (PaymentQueryError, PaymentResponseError) as error:
        log.error('order %s: the gateway could not say: %s', order.id, error)
        request.session.flash(translate(NOT_ASKED))
    else:
        given = settle_results(request, order, results, ASKED_BY_AN_ADMINISTRATOR)
        message = ANSWERS_RECORDED if given else NOTHING_NEW
        request.session.flash(translate(message, mapping={'count': given}))
    return HTTPSeeOther(request.resource_url(order, '@@manage-payment'))
