"""occi-remind: expiry reminders, once per expiry date, from the expiry index."""

from datetime import UTC, date, datetime

import pytest
from ZODB.POSException import ConflictError

import occi_site
from occi_site.resources import ROOT_KEY, database
from occi_site.scripts import remind

from .conftest import portal_settings, shows


def write_ini(tmp_path):
    settings = portal_settings(tmp_path, **{'zodbconn.uri': 'file://%s' % (tmp_path / 'Data.fs')})
    lines = ['[app:portal]', 'use = egg:occi_site'] + [
        '%s = %s' % (key, value) for key, value in settings.items()
    ]
    ini = tmp_path / 'portal.ini'
    ini.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return ini, settings


@pytest.fixture
def portal_ini(tmp_path, monkeypatch):
    """``(ini, settings)`` of a portal whose day is 2027-03-01: 1229237, expiring
    on 2027-03-19, is within 30 days of it."""
    monkeypatch.setattr(
        'occi_site.clock.system_clock', lambda: datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    )
    return write_ini(tmp_path)


def test_reminders_go_once_to_memberships_expiring_soon(portal_ini, capsys):
    ini, settings = portal_ini
    assert remind.main(['%s#portal' % ini]) == 0
    assert capsys.readouterr().out.strip() == '1 reminders sent'
    assert remind.main(['%s#portal' % ini, '--days', '60']) == 0
    assert capsys.readouterr().out.strip() == '0 reminders sent'
    app = occi_site.main({}, **settings)
    messages = app.registry.occi_outbox.messages()
    assert [m['to'] for m in messages] == ['info@promising.om']
    assert shows(messages[0]['body'], '91868') and '2027-03-19' in messages[0]['body']
    assert 'المشاريع الواعدة' in messages[0]['body']
    conn = database(app.registry).open()
    membership = conn.root()[ROOT_KEY]['companies']['1229237'].membership
    assert membership.reminded_for == date(2027, 3, 19)
    [(_key, entry)] = conn.root()[ROOT_KEY]['audit'].latest(
        path='/companies/1229237', action='membership.changed'
    )
    assert (entry['user'], entry['details']) == (
        'occi-remind',
        {'reminded_for': 'None -> 2027-03-19'},
    )
    conn.close()
    database(app.registry).close()


def test_a_reminder_run_that_meets_a_servers_change_is_retried(portal_ini, monkeypatch, capsys):
    # The portal's servers change memberships while the daily run is under way.
    ini, settings = portal_ini
    queued = []
    original = remind.send_mail

    def send_while_a_server_changes_the_membership(request, to, subject, body):
        if not queued:
            conn = database(request.registry).open()
            with conn.transaction_manager:
                membership = conn.root()[ROOT_KEY]['companies']['1229237'].membership
                membership.grade = 'Third'
            conn.close()
        queued.append(to)
        return original(request, to, subject, body)

    monkeypatch.setattr(remind, 'send_mail', send_while_a_server_changes_the_membership)
    assert remind.main(['%s#portal' % ini]) == 0
    assert capsys.readouterr().out.strip() == '1 reminders sent'
    app = occi_site.main({}, **settings)
    assert [m['to'] for m in app.registry.occi_outbox.messages()] == ['info@promising.om']
    conn = database(app.registry).open()
    membership = conn.root()[ROOT_KEY]['companies']['1229237'].membership
    assert membership.reminded_for == date(2027, 3, 19) and membership.grade == 'Third'
    conn.close()
    database(app.registry).close()


def test_a_day_that_cannot_be_done_leaves_the_others_done(portal_ini, monkeypatch, capsys):
    ini, settings = portal_ini
    original = remind.remind_expiring_on

    def conflicting_on_the_second(request, site, day):
        if day == date(2027, 3, 2):
            raise ConflictError('a server changed it, every time')
        return original(request, site, day)

    monkeypatch.setattr(remind, 'remind_expiring_on', conflicting_on_the_second)
    assert remind.main(['%s#portal' % ini]) == 1
    output = capsys.readouterr().out
    assert '1 reminders sent' in output and 'not done: 2027-03-02' in output
    app = occi_site.main({}, **settings)
    assert [m['to'] for m in app.registry.occi_outbox.messages()] == ['info@promising.om']
    database(app.registry).close()
