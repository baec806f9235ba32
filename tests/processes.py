"""Real processes for the tests that need them: servers on free loopback
ports, each with its output in a log file, always stopped at the end."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    """A loopback port free at the moment (the server binds it soon after)."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def http_status(url, timeout=5):
    """The status of a GET to ``url``, or None if nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


class Process:
    """One program run in the background, its output in ``log``."""

    def __init__(self, name, args, log_dir, env=None, cwd=None):
        self.name = name
        self.args = [str(arg) for arg in args]
        self.log = Path(log_dir) / ('%s.log' % name)
        self.env = dict(os.environ, **(env or {}))
        self.cwd = cwd or ROOT
        self.popen = None

    def start(self):
        with self.log.open('ab') as log:
            self.popen = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        return self

    @property
    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def output(self):
        return self.log.read_text(errors='replace') if self.log.exists() else ''

    def wait_for(self, url, status=200, timeout=60):
        """Until ``url`` answers ``status``; fails with the log if the process dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise AssertionError('%s stopped:\n%s' % (self.name, self.output()[-4000:]))
            if http_status(url) == status:
                return self
            time.sleep(0.2)
        raise AssertionError(
            '%s: %s did not answer %d in %ds:\n%s'
            % (self.name, url, status, timeout, self.output()[-4000:])
        )

    def kill(self):
        """``kill -9``: no chance to finish anything."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout=10):
        if not self.running:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def run(args, log_dir, name, env=None, timeout=120):
    """Run a command to its end; its output in ``log_dir/name.log``; fails on a non-zero exit."""
    process = Process(name, args, log_dir, env=env).start()
    try:
        status = process.popen.wait(timeout)
    finally:
        process.stop()
    assert status == 0, '%s exited %s:\n%s' % (name, status, process.output()[-4000:])
    return process.output()
