"""Helpers for the Node.js amqplib tests (imported by conftest.py and tests).

wait_for polls instead of sleeping; NodeRun runs this directory's .js files
against the test's broker (NodeProc: one in the background, its lines read
with their times by a thread); Amqp is a pika channel to look at the broker
from outside and deletes what the tests declared on an external one.
"""
import json
import os
import signal
import subprocess
import threading
import time

import pika

HERE = os.path.dirname(os.path.abspath(__file__))
TASK_QUEUE = 'task_queue'


def wait_for(predicate, timeout=5.0, interval=0.01, what='condition'):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %.1fs waiting for %s' % (timeout, what))
        time.sleep(interval)
    return True


class NodeProc:
    """A node program running in the background and the lines it printed."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []            # (monotonic time, line)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b''):
            with self.lock:
                self.lines.append((time.monotonic(), raw.decode(errors='replace').rstrip('\n')))

    def text(self):
        with self.lock:
            return [l for _, l in self.lines]

    def timed(self):
        with self.lock:
            return list(self.lines)

    def wait_line(self, line, timeout=10):
        wait_for(lambda: line in self.text() or self.proc.poll() is not None, timeout,
                 what='line %r (got %r)' % (line, self.text()))
        if line not in self.text():
            self.thread.join(2)
            raise AssertionError('exited with %s before printing %r: %r'
                                 % (self.proc.returncode, line, self.text()))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self.thread.join(5)             # every line it printed before it died


class NodeRun:
    def __init__(self, node, broker):
        self.node = node
        self.broker = broker
        self.procs = []

    def env(self, extra):
        env = dict(os.environ)
        env['AMQP_URL'] = self.broker.url
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, script, *args, preload=None, **env):
        cmd = [self.node]
        if preload:
            cmd += ['--require', os.path.join(HERE, preload)]
        cmd += [os.path.join(HERE, script)] + list(args)
        p = subprocess.Popen(cmd, cwd=HERE, env=self.env(env), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        self.procs.append(p)
        return NodeProc(p)

    def run(self, script, *args, timeout=30, **env):
        r = subprocess.run([self.node, os.path.join(HERE, script)] + list(args), cwd=HERE,
                           env=self.env(env), capture_output=True, timeout=timeout)
        return r

    def check(self, name, *args):
        """Run one amqplib_checks.js subcommand; its JSON result."""
        r = self.run('amqplib_checks.js', name, *args)
        assert r.returncode == 0, r.stderr.decode()
        return json.loads(r.stdout.decode())

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            p.stdout.close()


class Amqp:
    """One pika channel on the test's broker, and the names to delete after."""

    def __init__(self, broker):
        self.broker = broker
        self.names = [TASK_QUEUE]
        self.exchanges = []
        self.conn = pika.BlockingConnection(self.params())
        self.ch = self.conn.channel()

    def params(self):
        p = pika.URLParameters(self.broker.url)
        p.socket_timeout = 5
        p.blocked_connection_timeout = 10
        p.connection_attempts = 1
        return p

    def passive(self, queue):
        """(message_count, consumer_count) of a queue that must exist."""
        ok = self.ch.queue_declare(queue, passive=True).method
        return ok.message_count, ok.consumer_count

    def cleanup(self):
        if not self.broker.external:
            return
        c = pika.BlockingConnection(self.params())
        ch = c.channel()
        for q in self.names:
            ch.queue_delete(q)
        for x in self.exchanges:
            ch.exchange_delete(x)
        c.close()

    def close(self):
        try:
            if self.conn.is_open:
                self.conn.close()
        finally:
            self.cleanup()
