"""Issue 3: RabbitMQ tutorial two ("Work Queues") runs unchanged.

tutorial/new_task.py and tutorial/worker.py are the tutorial's programs; the
tests only set TUTORIAL_HOST/PORT (the broker), TUTORIAL_QUEUE (a unique queue
name instead of task_queue), TUTORIAL_SECONDS_PER_DOT (fast "work"), and where
needed TUTORIAL_DEBUG (an extra " [debug] redelivered=..." line) or
TUTORIAL_PREFETCH=0 (the tutorial's version before fair dispatch).
"""
import os
import signal
import subprocess
import threading
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

from helpers import HERE, PYTHON, wait_for

TUTORIAL = os.path.join(HERE, 'tutorial')


def tutorial_env(broker, queue, **extra):
    env = {'TUTORIAL_HOST': broker.host, 'TUTORIAL_PORT': str(broker.port),
           'TUTORIAL_QUEUE': queue, 'PYTHONUNBUFFERED': '1'}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def new_task(broker, queue, message):
    env = dict(os.environ)
    env.update(tutorial_env(broker, queue))
    r = subprocess.run([PYTHON, os.path.join(TUTORIAL, 'new_task.py')] + message.split(),
                       env=env, capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode() == ' [x] Sent %s\n' % message
    return r


class Worker:
    """A running tutorial worker and the lines it printed, read by a thread."""

    def __init__(self, procs, broker, queue, **extra):
        self.proc = procs.start([PYTHON, os.path.join(TUTORIAL, 'worker.py')],
                                env=tutorial_env(broker, queue, **extra))
        self.lines = []            # (monotonic time, line)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw_line in iter(self.proc.stdout.readline, b''):
            with self.lock:
                self.lines.append((time.monotonic(), raw_line.decode().rstrip('\n')))

    def text(self):
        with self.lock:
            return [l for _, l in self.lines]

    def received(self):
        return [l[len(' [x] Received '):] for l in self.text() if l.startswith(' [x] Received ')]

    def done_count(self):
        return self.text().count(' [x] Done')

    def when(self, line):
        with self.lock:
            for t, l in self.lines:
                if l == line:
                    return t
        return None

    def wait_line(self, line, timeout=10):
        wait_for(lambda: line in self.text() or self.proc.poll() is not None, timeout,
                 what='worker line %r (got %r)' % (line, self.text()))
        assert line in self.text(), 'worker exited: %r' % self.text()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)


def wait_consumers(amqp, queue, n, timeout=10):
    ch = amqp.channel()
    ch.queue_declare(queue, durable=True)      # as the tutorial does; may be first

    def have():
        ok = ch.queue_declare(queue, passive=True)
        return ok.method.consumer_count == n
    wait_for(have, timeout, interval=0.05, what='%d consumers on %s' % (n, queue))
    return ch


def test_new_task_then_worker(broker, amqp, qname, procs):
    new_task(broker, qname, 'First message.')
    # durable queue, persistent message
    ch = amqp.channel()
    ok = ch.queue_declare(qname, durable=True)
    assert ok.method.message_count == 1
    w = Worker(procs, broker, qname, TUTORIAL_SECONDS_PER_DOT=0.05)
    w.wait_line(' [x] Done')
    assert w.text() == [' [*] Waiting for messages. To exit press CTRL+C',
                        ' [x] Received First message.',
                        ' [x] Done']
    wait_for(lambda: ch.queue_declare(qname, passive=True).method.message_count == 0)


def test_new_task_default_message_is_persistent(broker, amqp, qname):
    new_task(broker, qname, 'Hello World!')
    ch = amqp.channel()
    m = None
    deadline = time.monotonic() + 5
    while m is None and time.monotonic() < deadline:
        m, props, body = ch.basic_get(qname, auto_ack=True)
    assert body == b'Hello World!'
    assert props.delivery_mode == 2


def test_two_workers_share_six_tasks(broker, amqp, qname, procs):
    env = dict(TUTORIAL_SECONDS_PER_DOT=0.4)
    a = Worker(procs, broker, qname, **env)
    b = Worker(procs, broker, qname, **env)
    a.wait_line(' [*] Waiting for messages. To exit press CTRL+C')
    b.wait_line(' [*] Waiting for messages. To exit press CTRL+C')
    ch = wait_consumers(amqp, qname, 2)
    tasks = ['Task %d.' % i for i in range(1, 7)]
    for t in tasks:
        new_task(broker, qname, t)
    wait_for(lambda: a.done_count() + b.done_count() == 6, 20, what='six tasks done')
    assert sorted(a.received() + b.received()) == tasks
    assert len(a.received()) == 3 and len(b.received()) == 3
    assert ch.queue_declare(qname, passive=True).method.message_count == 0


def test_killed_worker_task_is_redone(broker, amqp, qname, procs):
    env = dict(TUTORIAL_SECONDS_PER_DOT=0.25, TUTORIAL_DEBUG=1)
    a = Worker(procs, broker, qname, **env)
    b = Worker(procs, broker, qname, **env)
    ch = wait_consumers(amqp, qname, 2)
    tasks = ['one.', 'two....', 'three.', 'four.']
    for t in tasks:
        new_task(broker, qname, t)
    wait_for(lambda: 'two....' in a.received() + b.received(), 10, what='two.... started')
    victim, survivor = (a, b) if 'two....' in a.received() else (b, a)
    victim.kill()
    assert victim.text()[-1] != ' [x] Done'      # killed in the middle of two....
    survivor.wait_line(' [x] Received two....', timeout=10)
    wait_for(lambda: survivor.done_count() + victim.done_count() == len(tasks), 10,
             what='every task done (survivor %r)' % survivor.text())
    lines = survivor.text()
    i = lines.index(' [x] Received two....')
    assert lines[i + 1] == ' [debug] redelivered=True'
    assert lines[i + 2] == ' [x] Done'
    # nothing lost, nothing done twice (apart from the one that was interrupted)
    done = []
    for w in (victim, survivor):
        text = w.text()
        for j, l in enumerate(text):
            if l.startswith(' [x] Received ') and ' [x] Done' in text[j + 1:j + 3]:
                done.append(l[len(' [x] Received '):])
    assert sorted(done) == sorted(tasks)
    wait_for(lambda: ch.queue_declare(qname, passive=True).method.message_count == 0)
    assert ch.queue_declare(qname, passive=True).method.consumer_count == 1


def test_task_queue_redeclared_non_durable_406(broker, amqp, qname, procs):
    new_task(broker, qname, 'keep me.')
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, durable=False)
    assert ei.value.reply_code == 406
    assert ei.value.reply_text == (
        "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in vhost '/': "
        "received 'false' but current is 'true'" % qname)
    # the task is still there
    assert amqp.channel().queue_declare(qname, durable=True).method.message_count == 1


def test_worker_refuses_non_durable_queue(broker, amqp, qname, procs):
    ch = amqp.channel()
    ch.queue_declare(qname, durable=False)
    env = dict(os.environ)
    env.update(tutorial_env(broker, qname))
    r = subprocess.run([PYTHON, os.path.join(TUTORIAL, 'worker.py')], env=env,
                       capture_output=True, timeout=20)
    assert r.returncode != 0
    assert b'406' in r.stderr and b'PRECONDITION_FAILED' in r.stderr


def run_heavy_then_light(broker, amqp, qname, procs, prefetch):
    """Two workers; one heavy task then five light ones, published at once."""
    env = dict(TUTORIAL_SECONDS_PER_DOT=0.1, TUTORIAL_PREFETCH=prefetch)
    a = Worker(procs, broker, qname, **env)
    b = Worker(procs, broker, qname, **env)
    wait_consumers(amqp, qname, 2)
    heavy = 'heavy' + '.' * 20                      # 2 s
    lights = ['light%d.' % i for i in range(1, 6)]  # 0.1 s each
    conn = amqp.connect()
    ch = conn.channel()
    persistent = pika.BasicProperties(delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE)
    for t in [heavy] + lights:
        ch.basic_publish('', qname, t, properties=persistent)
    wait_for(lambda: a.done_count() + b.done_count() == 6, 15, what='all tasks done')
    heavy_worker, light_worker = (a, b) if heavy in a.received() else (b, a)
    return heavy, lights, heavy_worker, light_worker


def finished_at(worker, task):
    """Time the worker printed Done for task."""
    with worker.lock:
        lines = list(worker.lines)
    for i, (_t, l) in enumerate(lines):
        if l == ' [x] Received ' + task:
            for t2, l2 in lines[i + 1:]:
                if l2 == ' [x] Done':
                    return t2
    return None


def test_fair_dispatch_with_prefetch_one(broker, amqp, qname, procs):
    heavy, lights, hw, lw = run_heavy_then_light(broker, amqp, qname, procs, prefetch=1)
    # the busy worker is given nothing more; the free one does every light task
    assert hw.received() == [heavy]
    assert lw.received() == lights
    heavy_done = finished_at(hw, heavy)
    assert all(finished_at(lw, t) < heavy_done for t in lights)


def test_without_prefetch_light_tasks_wait_behind_heavy(broker, amqp, qname, procs):
    heavy, lights, hw, lw = run_heavy_then_light(broker, amqp, qname, procs, prefetch=0)
    # round-robin regardless of load: the heavy worker was handed light tasks too,
    # and they waited until the heavy one was done
    stuck = [t for t in hw.received() if t != heavy]
    assert stuck, (hw.text(), lw.text())
    assert sorted(stuck + lw.received()) == sorted(lights)
    heavy_done = finished_at(hw, heavy)
    assert all(finished_at(hw, t) > heavy_done for t in stuck)
    # strict alternation: light2 and light4 went to the heavy worker
    assert stuck == ['light2.', 'light4.']
