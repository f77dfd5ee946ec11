"""Fixtures for the Celery tests: a per-test alarm and the `celery_run` helper.

Builds on tests/conftest.py (`broker`).  celery_run (a CeleryRun) hands out
Celery apps on a task queue unique to the test, starts workers as
subprocesses (each in its own session) and stops them by pid at teardown;
on an external broker (WARREN_TEST_URL) it deletes the queue and exchange it
used so runs can share one RabbitMQ.
"""
import os
import signal
import subprocess
import sys
import time
import uuid

import pika
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

PYTHON = '/usr/bin/python3'
TEST_TIMEOUT = int(os.environ.get('CELERY_TEST_TIMEOUT', '90'))


@pytest.fixture
def alarm_seconds():
    return TEST_TIMEOUT


class Worker:
    def __init__(self, proc, log, name):
        self.proc = proc
        self.log = log
        self.name = name

    @property
    def pid(self):
        return self.proc.pid

    def log_text(self):
        with open(self.log, errors='replace') as f:
            return f.read()

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ' ready.' in self.log_text():
                return
            if self.proc.poll() is not None:
                raise AssertionError('worker %s exited (%s):\n%s'
                                     % (self.name, self.proc.returncode, self.log_text()[-4000:]))
            time.sleep(0.05)
        raise AssertionError('worker %s not ready after %.0fs:\n%s'
                             % (self.name, timeout, self.log_text()[-4000:]))


class CeleryRun:
    def __init__(self, broker, tmp_path):
        self.broker = broker
        self.tmp = tmp_path
        self.queue = 'celery-test-' + uuid.uuid4().hex[:12]
        # Celery's spelling of the '/' vhost
        self.broker_url = 'amqp://guest:guest@%s:%d//' % (broker.host, broker.port)
        self.workers = []
        self.apps = []

    def app(self):
        from warren_celery_tasks import make_app
        a = make_app(self.broker_url, self.queue)
        self.apps.append(a)
        return a

    def start_worker(self, pool='solo', concurrency=1, extra=()):
        name = 'w%d-%s' % (len(self.workers), uuid.uuid4().hex[:8])
        log = str(self.tmp / ('%s.log' % name))
        env = dict(os.environ)
        env.update(WARREN_CELERY_BROKER=self.broker_url, WARREN_CELERY_QUEUE=self.queue,
                   PYTHONPATH=HERE, PYTHONUNBUFFERED='1', C_FORCE_ROOT='1')
        cmd = [PYTHON, '-m', 'celery', '-A', 'warren_celery_tasks', 'worker',
               '--pool=%s' % pool, '-c', str(concurrency), '-n', '%s@localhost' % name,
               '--loglevel=INFO', '-Q', self.queue] + list(extra)
        with open(log, 'w') as f:
            proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env,
                                    cwd=str(self.tmp), start_new_session=True)
        w = Worker(proc, log, name)
        self.workers.append(w)
        return w

    def stop_all(self):
        for w in self.workers:
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGTERM)       # warm shutdown
        for w in self.workers:
            try:
                w.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait(5)
            # prefork children left behind by a SIGKILLed parent share its session
            try:
                os.killpg(w.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for a in self.apps:
            try:
                a.close()
            except Exception:
                pass
        if self.broker.external:
            try:
                c = pika.BlockingConnection(pika.URLParameters(self.broker.url))
                ch = c.channel()
                ch.queue_delete(self.queue)
                ch.exchange_delete(self.queue)
                c.close()
            except Exception:
                pass


@pytest.fixture
def celery_run(broker, tmp_path):
    run = CeleryRun(broker, tmp_path)
    yield run
    run.stop_all()
