"""Reconciliation: orders whose gateway answers never arrived are settled by
asking the gateway, through the path a notification takes."""

import io
from datetime import UTC, date, datetime, timedelta

from pyramid.scripting import prepare

from occi_site.scripts.reconcile import reconcile

from . import test_payment_portal
from .test_payment_portal import in_db, membership, pay, renewal_order, switch, to_gateway

# The payment tests' own: a member logged in, the gateway beside the portal.
stack = test_payment_portal.stack


def run_reconcile(stack, after=timedelta(0)):
    out = io.StringIO()
    with prepare(registry=stack.portal.registry) as env:
        env['request'].root = env['root']
        outcome = reconcile(env['request'], after, out=out)
    return outcome, out.getvalue()


def order_states(stack, request_id):
    return in_db(stack, lambda site: [o.state for o in site['orders'].for_request(request_id)])


def test_a_payment_whose_answers_were_both_lost_is_settled(stack):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page)  # and the browser never comes back
    assert order_states(stack, request_id) == ['pending']
    assert run_reconcile(stack, after=timedelta(minutes=15))[0] == {}  # too recent to ask
    outcome, printed = run_reconcile(stack)
    assert outcome == {'paid': 1}
    assert printed.endswith(': paid\n')
    assert order_states(stack, request_id) == ['paid']
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'fulfilled'
    assert membership(stack)[0] == date(2029, 3, 19)
    fulfilled = [
        m for m in stack.outbox() if m['subject'] == 'Your OCCI e-service request is complete'
    ]
    assert len(fulfilled) == 1
    audit = in_db(stack, lambda site: site['audit'].latest(action='payment.accept'))
    assert [entry['details']['channel'] for _key, entry in audit] == ['reconciliation']
    assert run_reconcile(stack)[0] == {}


def test_a_declined_payment_gives_the_request_back(stack):
    switch(stack, 'drop_notification')
    request_id, order_page = renewal_order(stack)
    pay(stack, order_page, number='4000000000000002')
    assert run_reconcile(stack)[0] == {'declined': 1}
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'verified'


def test_a_member_still_at_the_gateway_is_left_alone_until_the_window_closes(stack):
    request_id, order_page = renewal_order(stack)
    to_gateway(stack, order_page)
    assert run_reconcile(stack)[0] == {'pending': 1}
    later = datetime.now(UTC) + timedelta(minutes=91)
    stack.portal.registry.occi_clock = lambda: later
    assert run_reconcile(stack)[0] == {'expired': 1}
    assert in_db(stack, lambda site: site['requests'][request_id].state) == 'verified'
