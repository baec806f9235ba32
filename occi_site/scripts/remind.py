"""occi-remind CONFIG_URI [--days N]: remind companies whose membership
expires within N days (default 30), by e-mail to the company's address on
the chamber's record, once for each expiry date.

Run it daily (cron or a systemd timer).  It reads the expiry index, so it
costs the number of memberships due, not the number of companies.
"""

import argparse
from datetime import timedelta

from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging

from ..i18n import _, localizer_for, render_in
from ..integrations.mail import send_mail
from ..resources import database

BY = 'occi-remind'


def remind(request, site, days):
    """Queue the reminders due today on ``request``'s transaction; returns how many.

    The company record has no language, so the message is in English and Arabic.
    """
    today = request.today
    sent = 0
    for company in site['companies'].expiring_between(today, today + timedelta(days=days)):
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
        request = env['request']
        with request.tm:
            request.tm.get().note('occi-remind: memberships expiring within %d days' % args.days)
            sent = remind(request, env['root'], args.days)
    # The request's connection is closed now; the database can be.
    database(env['registry']).close()
    print('%d reminders sent' % sent)
    return 0
