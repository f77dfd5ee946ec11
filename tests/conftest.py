"""Shared pytest fixtures: a warren broker per test, on a free port.

Every test that needs a server gets its own broker process (bin/warren-asan
by default: AddressSanitizer + UBSan), listening on a free port on 127.0.0.1
with its own temporary data directory.  It is stopped by pid at the end of
the test, and the test fails if the broker's log shows a sanitizer report or
the broker exited with an error.

Environment:
  WARREN_BIN       broker binary to run (default bin/warren-asan)
  WARREN_TEST_URL  run against this already-running broker instead, e.g.
                   amqp://guest:guest@127.0.0.1:5673/ for a RabbitMQ 3.10 to
                   compare with.  Tests that must restart or kill the broker
                   are skipped then (they cannot control an outside server).
"""
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, 'bin')


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(host, port, timeout=15.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError('broker exited with %s before listening' % proc.returncode)
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError('broker did not listen on %s:%d' % (host, port))


SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'runtime error:', 'ERROR: LeakSanitizer')


class Broker:
    """A warren process the test controls, or an external broker."""

    def __init__(self, tmp_path, args=(), management=False, prometheus=False):
        self.external = os.environ.get('WARREN_TEST_URL')
        self.args = list(args)
        # the HTTP API: off unless asked for (port 0), so that brokers of
        # parallel tests do not compete for 15672; management=True gives
        # it a free port, in self.mgmt_port
        self.mgmt_port = None
        # the Prometheus endpoint likewise (15692 may be taken): off, or
        # with prometheus=True on a free port, in self.prom_port
        self.prom_port = None
        self.proc = None
        self.logs = []
        self.tmp = tmp_path
        if self.external:
            u = urllib.parse.urlparse(self.external)
            self.host, self.port = u.hostname, u.port or 5672
            self.url = self.external
            self.data_dir = None
        else:
            self.host = '127.0.0.1'
            self.port = free_port()
            self.data_dir = str(tmp_path / 'data')
            self.url = 'amqp://guest:guest@127.0.0.1:%d/' % self.port
            if management:
                self.mgmt_port = free_port()
            if prometheus:
                self.prom_port = free_port()
            self.start()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def require_control(self):
        """Skip the calling test when the broker is not ours to restart."""
        if self.external:
            pytest.skip('needs a broker the test can restart or kill')

    def start(self, extra=()):
        binary = os.environ.get('WARREN_BIN', os.path.join(BIN, 'warren-asan'))
        log = str(self.tmp / ('broker-%d.log' % len(self.logs)))
        self.logs.append(log)
        env = dict(os.environ)
        env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0')
        env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1')
        cmd = [binary, '--bind', '127.0.0.1', '--port', str(self.port),
               '--data-dir', self.data_dir, '--log-level', 'debug',
               '--management-port', str(self.mgmt_port or 0),
               '--prometheus-port', str(self.prom_port or 0)] + self.args + list(extra)
        with open(log, 'w') as f:
            self.proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        wait_port(self.host, self.port, proc=self.proc)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            self.proc = None
            raise AssertionError('broker did not stop within %ss of SIGTERM' % timeout)
        self.proc = None
        return rc

    def kill(self):
        """SIGKILL: a crash, as far as the broker can tell."""
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self, extra=()):
        self.require_control()
        self.stop()
        self.start(extra)

    def log_text(self):
        out = []
        for path in self.logs:
            try:
                with open(path, errors='replace') as f:
                    out.append(f.read())
            except OSError:
                pass
        return '\n'.join(out)

    def check_clean(self):
        text = self.log_text()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise AssertionError('sanitizer report in broker log:\n' + text[-6000:])


@pytest.fixture
def broker_factory(tmp_path):
    """Make brokers with extra command-line arguments: broker_factory('--x', 'y')."""
    made = []

    def make(*args, subdir=None, management=False, prometheus=False):
        path = tmp_path / (subdir or ('b%d' % len(made)))
        path.mkdir(exist_ok=True)
        b = Broker(path, args, management=management, prometheus=prometheus)
        made.append(b)
        return b
    yield make
    errors = []
    for b in made:
        if b.external:
            continue
        rc = b.stop() if b.proc else 0
        try:
            b.check_clean()
        except AssertionError as e:
            errors.append(str(e))
        if rc not in (0, None):
            errors.append('broker exited with status %s; log:\n%s' % (rc, b.log_text()[-4000:]))
    if errors:
        pytest.fail('\n'.join(errors))


@pytest.fixture
def broker(broker_factory):
    """A broker for this test alone (or the external one)."""
    return broker_factory()


@pytest.fixture
def qname():
    """A queue name no other test uses (matters against an external broker)."""
    return 'test-' + uuid.uuid4().hex[:12]


class AlarmTimeout(Exception):
    pass


@pytest.fixture
def alarm_seconds():
    """How long one test may run before SIGALRM fails it, so a broker that
    never answers fails the test instead of hanging the run.  A directory's
    conftest overrides this fixture; None (here) means no limit."""
    return None


@pytest.fixture(autouse=True)
def _alarm(alarm_seconds):
    if not alarm_seconds:
        yield
        return

    def on_alarm(signum, frame):
        raise AlarmTimeout('test took longer than %ds (broker not answering?)' % alarm_seconds)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(alarm_seconds)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)
