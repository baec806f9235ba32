"""occi-remind CONFIG_URI [--days N]: remind companies whose membership
expires within N days (default 30), by e-mail to the company's address on
the chamber's record, once for each expiry date.

Run it daily (cron or a systemd timer).  It reads the expiry index, so it
costs the number of memberships due, not the number of companies.  It works
while the portal serves: one expiry day a transaction, retried when it meets
a change the servers made meanwhile (a renewal of a company it reminds);
a company reminded is not reminded again, so a run cut short is run again.
A day it cannot do is logged and left for the next run; the run then ends
with status 1.
"""

import argparse
import logging
from datetime import timedelta

from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging
from pyramid.scripting import prepare

from ..clock import OMAN
from ..i18n import _, localizer_for, render_in
from ..integrations.mail import send_mail
from ..resources import database

log = logging.getLogger(__name__)

BY = 'occi-remind'
TRIES = 5


def remind(registry, days, tries=TRIES):
    """Queue the reminders of the memberships expiring within ``days``, one
    expiry day a transaction; returns how many, and the days not done (each
    logged; the others are done all the same)."""
    sent, not_done = 0, []
    # The days counted from the run's start, however long it lasts.
    first = registry.occi_clock().astimezone(OMAN).date()
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        with prepare(registry=registry) as env:
            request = env['request']
            request.root = env['root']
            try:
                for attempt in request.tm.attempts(tries):
                    with attempt:
                        request.tm.get().note('occi-remind: memberships expiring on %s' % day)
                        queued = remind_expiring_on(request, request.root, day)
            except Exception:
                log.exception('occi-remind: the reminders of %s were not queued', day)
                not_done.append(day)
                continue
        sent += queued
    return sent, not_done


def remind_expiring_on(request, site, day):
    """Queue the reminders of the memberships expiring on ``day`` on
    ``request``'s transaction; returns how many.

    The company record has no language, so the message is in English and Arabic.
    """
    sent = 0
    for company in site['companies'].expiring_between(day, day):
        membership = company.membership
        if not company.email or membership.reminded_for == membership.expires_on:
            continue
        values = {'company': company, 'membership': membership}
        body = '\n\n'.join(
            render_in(request, language, 'mail/reminder.txt.jinja2', values)
            for language in ('en', 'ar')
        )
        subject = ' / '.join(
            localizer_for(request, language).translate(_('Your OCCI membership expires soon'))
            for language in ('en', 'ar')
        )
        send_mail(request, company.email, subject, body)
        # Audited as a change of the membership (MembershipChanged).
        site['companies'].change_membership(
            company, request.now, request, by=BY, reminded_for=membership.expires_on
        )
        sent += 1
    return sent


def main(argv=None):
    parser = argparse.ArgumentParser(prog='occi-remind', description=__doc__.split('\n\n')[0])
    parser.add_argument('config_uri', help='the portal application, e.g. production.ini#portal')
    parser.add_argument('--days', type=int, default=30)
    args = parser.parse_args(argv)
    setup_logging(args.config_uri)
    with pyramid_bootstrap(args.config_uri) as env:
        registry = env['registry']
    try:
        sent, not_done = remind(registry, args.days)
    finally:
        database(registry).close()
    print('%d reminders sent' % sent)
    if not_done:
        # The timer's run shows as failed; the next run does those still ahead.
        print('not done: %s' % ', '.join(day.isoformat() for day in not_done))
        return 1
    return 0
