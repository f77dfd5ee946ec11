"""The tutorial's two programs (bin/new_task, bin/worker) as subprocesses,
for the tests that run them: tests/tools (against warren, and failing over
between two), tests/cluster (against a RabbitMQ cluster).

Prog collects a program's output lines as they come; wait_until polls
with a deadline (never a fixed sleep); `progs` is a fixture that starts
programs and kills whatever still runs at the end of the test.
"""
import os
import re
import signal
import subprocess
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEW_TASK = os.path.join(ROOT, 'bin', 'new_task')
WORKER = os.path.join(ROOT, 'bin', 'worker')
WAITING = ' [*] Waiting for messages. To exit press CTRL+C'
ACK_LOST = ' [!] ack lost: connection closed; the broker will redeliver the task'
RECEIVED = re.compile(r"^ \[x\] Received '(.*)'( \(redelivered\))?$")


def not_built():
    """Why the tutorial's programs cannot run, or None."""
    if not (os.path.exists(NEW_TASK) and os.path.exists(WORKER)):
        return 'bin/new_task and bin/worker are not built (make bin/new_task bin/worker)'
    return None


def wait_until(cond, timeout=10.0, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(0.02)


class Prog:
    """A running program whose stdout and stderr lines are collected."""

    def __init__(self, args, stdin=subprocess.DEVNULL):
        self.args = args
        self.proc = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.errors = []
        self.stamps = []          # (monotonic time read, line) for stdout
        self.err_stamps = []      # and for stderr
        self._threads = [threading.Thread(target=self._read, args=(s, out, st), daemon=True)
                         for s, out, st in ((self.proc.stdout, self.lines, self.stamps),
                                            (self.proc.stderr, self.errors, self.err_stamps))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, out, stamps):
        for line in stream:
            line = line.rstrip('\n')
            if stamps is not None:
                stamps.append((time.monotonic(), line))
            out.append(line)

    def when(self, match):
        """When the first stdout line equal to `match` was read."""
        return next(t for t, line in list(self.stamps) if line == match)

    def wait_line(self, match, timeout=10.0, count=1):
        """Wait until `count` stdout lines equal `match` (or satisfy it)."""
        pred = match if callable(match) else (lambda line: line == match)
        return wait_until(lambda: sum(1 for l in list(self.lines) if pred(l)) >= count,
                          timeout, '%r in output of %s; got %r, stderr %r'
                          % (match, self.args[0], self.lines, self.errors))

    def received(self):
        return [m.group(1) for m in map(RECEIVED.match, list(self.lines)) if m]

    def done(self):
        """Bodies whose work finished (a Received line followed by Done)."""
        out, current = [], None
        for line in list(self.lines):
            m = RECEIVED.match(line)
            if m:
                current = m.group(1)
            elif line.startswith(' [x] Done') and current is not None:
                out.append(current)
                current = None
        return out

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout=10.0):
        """Wait for the exit; then all the output is in."""
        rc = self.proc.wait(timeout)
        for t in self._threads:
            t.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def progs():
    """Start programs; whatever is still running at the end is killed."""
    started = []

    def start(*args, **kw):
        p = Prog([str(a) for a in args], **kw)
        started.append(p)
        return p
    yield start
    for p in started:
        p.kill()
