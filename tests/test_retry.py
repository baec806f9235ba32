"""Conflicts are retried by the retry policy after a growing, random pause;
only a request that fails on its last attempt reaches the error page and
the log."""

import logging

import pytest
import webtest
from pyramid_retry import is_error_retryable

from occi_site import retry

ERRORS = 'occi_site.views.errors'


@pytest.fixture
def probe(make_app):
    return webtest.TestApp(make_app(**{'pyramid.includes': 'tests.probe_views'}))


@pytest.mark.parametrize(
    'attempt, window', [(0, 0.05), (1, 0.1), (2, 0.2), (4, 0.8), (5, 1.0), (30, 1.0)]
)
def test_the_window_doubles_up_to_its_cap(attempt, window):
    assert retry.pause_window(attempt, 0.05, 1.0) == pytest.approx(window)


def test_each_retry_waits_a_random_time_within_its_window(probe, monkeypatch):
    drawn, slept = [], []

    def uniform(low, high):
        drawn.append((low, high))
        return high / 2

    monkeypatch.setattr(retry.random, 'uniform', uniform)
    monkeypatch.setattr(retry.time, 'sleep', slept.append)
    assert probe.get('/_probe/conflict/view/2').text == 'done on attempt 3'
    assert drawn == [(0, 0.05), (0, 0.1)]
    assert slept == [0.025, 0.05]


@pytest.mark.parametrize('where', ['view', 'commit'])
def test_a_conflict_retried_to_success_is_not_logged(probe, caplog, where):
    with caplog.at_level(logging.INFO, logger=ERRORS):
        page = probe.get('/_probe/conflict/%s/2' % where)
    assert page.text == 'done on attempt 3'
    assert not [record for record in caplog.records if record.name == ERRORS]


@pytest.mark.parametrize('where', ['view', 'commit'])
def test_a_conflict_on_the_last_attempt_is_logged_once(probe, caplog, where):
    with caplog.at_level(logging.INFO, logger=ERRORS):
        page = probe.get('/_probe/conflict/%s/3' % where, status=500)
    assert 'Traceback' not in page
    logged = [record for record in caplog.records if record.name == ERRORS]
    assert len(logged) == 1 and logged[0].exc_info is not None


def test_relstorage_giving_up_on_a_row_lock_is_retried(probe):
    """RelStorage does not wait for a lock another transaction holds on an
    object this one read (``readCurrent``): it raises at once, a conflict
    the retry policy runs again like any other."""
    from relstorage.adapters.interfaces import UnableToLockRowsToReadCurrentError

    request = probe.app.request_factory({'retry.attempt': 0, 'retry.attempts': 3})
    assert is_error_retryable(request, UnableToLockRowsToReadCurrentError('lock_not_available'))
