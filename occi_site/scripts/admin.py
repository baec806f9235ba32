"""occi-admin CONFIG_URI grant|revoke CIVIL_ID ROLE | list

Grant the first administrator (or any editor, admin or finance role) to a
registered account, take a role away, or list who holds those roles.
CONFIG_URI names the portal's application, e.g. ``production.ini#portal``.
Each change is audited and described on its transaction.
"""

import argparse
import sys

from pyramid.paster import bootstrap as pyramid_bootstrap
from pyramid.paster import setup_logging

from ..resources import database

GRANTABLE = ('editor', 'admin', 'finance')
BY = 'occi-admin'


def change_role(site, civil_id, role, grant):
    """Grant or revoke ``role``; returns an error message, or None when done."""
    account = site['accounts'].get(civil_id)
    if account is None:
        return 'no account with civil ID %s: the person must register first' % civil_id
    if grant:
        account.grant(role)
    else:
        account.revoke(role)
    site['audit'].record(
        'account.grant' if grant else 'account.revoke',
        user=BY,
        path='/accounts/%s' % civil_id,
        details={'role': role},
    )
    return None


def privileged_accounts(site):
    """``(civil ID, full name, roles)`` of every account holding editor, admin or finance.

    A console command walks the accounts once; the portal's pages never do.
    """
    return [
        (account.civil_id, account.full_name, account.roles)
        for account in site['accounts'].values()
        if any(role in account.roles for role in GRANTABLE)
    ]


def parse(argv):
    parser = argparse.ArgumentParser(prog='occi-admin', description=__doc__.split('\n\n')[1])
    parser.add_argument('config_uri', help='the portal application, e.g. production.ini#portal')
    commands = parser.add_subparsers(dest='command', required=True)
    for name, text in (('grant', 'grant a role'), ('revoke', 'revoke a role')):
        command = commands.add_parser(name, help=text)
        command.add_argument('civil_id')
        command.add_argument('role', choices=GRANTABLE)
    commands.add_parser('list', help='list the editors, admins and finance staff')
    return parser.parse_args(argv)


def run(args, site, txn, out):
    """Carry out the command on ``site``; returns the exit status."""
    if args.command == 'list':
        for civil_id, full_name, roles in privileged_accounts(site):
            print('%s\t%s\t%s' % (civil_id, ' '.join(roles), full_name), file=out)
        return 0
    grant = args.command == 'grant'
    error = change_role(site, args.civil_id, args.role, grant)
    if error is not None:
        print(error, file=sys.stderr)
        return 1
    txn.note('%s: %s %s %s' % (BY, args.command, args.role, args.civil_id))
    print('%s %s: %s' % ('granted' if grant else 'revoked', args.role, args.civil_id), file=out)
    return 0


def main(argv=None, out=sys.stdout):
    args = parse(argv)
    setup_logging(args.config_uri)
    with pyramid_bootstrap(args.config_uri) as env:
        db = database(env['registry'])
        tm = env['request'].tm
        txn = tm.begin()
        txn.user = BY
        try:
            status = run(args, env['root'], txn, out)
        except BaseException:
            tm.abort()
            raise
        if status == 0:
            tm.commit()
        else:
            tm.abort()
    # After the bootstrap's own connection is closed: the script is the
    # database's last user in this process.
    db.close()
    return status
