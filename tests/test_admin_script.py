"""occi-admin and the initial editors and admins named in the settings."""

import io

import pytest

import occi_site
from occi_site.resources import ROOT_KEY, database
from occi_site.resources.account import Account
from occi_site.resources.roles import apply_initial_roles
from occi_site.scripts.admin import main
from tests.conftest import add_account, portal_settings


def settings_for(tmp_path, **extra):
    return portal_settings(
        tmp_path, **{'zodbconn.uri': 'file://%s' % (tmp_path / 'Data.fs'), **extra}
    )


def with_site(tmp_path, change=None, **extra):
    """Start the portal on the test's FileStorage, run ``change(site)`` and stop it."""
    wsgi = occi_site.main({}, **settings_for(tmp_path, **extra))
    db = database(wsgi.registry)
    conn = db.open()
    try:
        result = change(conn.root()[ROOT_KEY]) if change else None
        conn.transaction_manager.commit()
    finally:
        conn.close()
        db.close()
    return result


@pytest.fixture
def config_uri(tmp_path):
    with_site(tmp_path, lambda site: add_account(site, '90000042', full_name='Aisha Al Said'))
    lines = ['[app:portal]', 'use = egg:occi_site'] + [
        '%s = %s' % item for item in settings_for(tmp_path).items()
    ]
    ini = tmp_path / 'portal.ini'
    ini.write_text('\n'.join(lines) + '\n')
    return '%s#portal' % ini


def run(config_uri, *args):
    out = io.StringIO()
    status = main([config_uri, *args], out=out)
    return status, out.getvalue()


def test_grant_list_and_revoke(tmp_path, config_uri):
    assert run(config_uri, 'grant', '90000042', 'admin') == (0, 'granted admin: 90000042\n')
    status, listing = run(config_uri, 'list')
    assert status == 0
    assert listing.splitlines() == ['90000042\tmember admin\tAisha Al Said']
    assert run(config_uri, 'revoke', '90000042', 'admin')[0] == 0
    assert run(config_uri, 'list') == (0, '')

    def audited(site):
        return [
            (entry['action'], entry['user'], entry['details']['role'])
            for _key, entry in site['audit'].latest(5, path='/accounts/90000042')
        ]

    assert with_site(tmp_path, audited) == [
        ('account.revoke', 'occi-admin', 'admin'),
        ('account.grant', 'occi-admin', 'admin'),
    ]


def test_unknown_civil_id_changes_nothing(config_uri, capsys):
    assert run(config_uri, 'grant', '12345', 'admin') == (1, '')
    assert 'must register first' in capsys.readouterr().err


def test_only_editor_and_admin_can_be_granted(config_uri):
    with pytest.raises(SystemExit):
        run(config_uri, 'grant', '90000042', 'member')


def test_apply_initial_roles_from_the_settings():
    settings = {'occi.initial_admins': '90000009, 90000010', 'occi.initial_editors': '90000008'}
    admin = Account('90000010', 'A', 'a@example.om', '99000010')
    assert apply_initial_roles(settings, admin) == ['admin']
    assert apply_initial_roles(settings, admin) == []
    editor = Account('90000008', 'E', 'e@example.om', '99000008')
    assert apply_initial_roles(settings, editor) == ['editor']
    member = Account('90000001', 'M', 'm@example.om', '99000001')
    assert apply_initial_roles(settings, member) == [] and member.roles == ('member',)


def test_a_role_taken_away_from_someone_the_settings_name_stays_away():
    settings = {'occi.initial_admins': '90000009', 'occi.initial_editors': ''}
    admin = Account('90000009', 'A', 'a@example.om', '99000009')
    assert apply_initial_roles(settings, admin) == ['admin']
    # Taken away in /manage: the next login does not grant it again.
    admin.revoke('admin')
    assert apply_initial_roles(settings, admin) == [] and 'admin' not in admin.roles
    # A role the settings name later is granted, once.
    settings['occi.initial_editors'] = '90000009'
    assert apply_initial_roles(settings, admin) == ['editor']
    admin.revoke('editor')
    assert apply_initial_roles(settings, admin) == [] and admin.roles == ('member',)
