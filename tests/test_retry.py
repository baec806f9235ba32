"""A growing, random pause before pyramid_retry runs a request again."""

import pytest

from occi_site import retry


@pytest.mark.parametrize(
    'attempt, window', [(0, 0.05), (1, 0.1), (2, 0.2), (4, 0.8), (5, 1.0), (30, 1.0)]
)
def test_the_window_doubles_up_to_its_cap(attempt, window):
    assert retry.pause_window(attempt, 0.05, 1.0) == pytest.approx(window)


def test_each_retry_waits_a_random_time_within_its_window(login_app, monkeypatch):
    app = login_app()
    drawn, slept = [], []

    def uniform(low, high):
        drawn.append((low, high))
        return high / 2

    monkeypatch.setattr(retry.random, 'uniform', uniform)
    monkeypatch.setattr(retry.time, 'sleep', slept.append)
    assert app.get('/_probe/conflict').text == 'attempt 2'
    assert drawn == [(0, 0.05), (0, 0.1)]
    assert slept == [0.025, 0.05]
