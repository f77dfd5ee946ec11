"""The work-queue tutorial in C (bin/new_task, bin/worker, on rabbitmq-c).

Each test runs the two programs as subprocesses against the `broker`
fixture (warren, or the broker in WARREN_TEST_URL) on a queue of its own,
and checks what a user of the tutorial would see: the output lines, the
exit codes, and where the messages end up (looked at with pika).

The fake work is shortened with --dot-seconds so the file runs in seconds.
Waits are polls with a deadline, never fixed sleeps.
"""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pika
import pytest

from fake_broker import FakeBroker
from tutorial_progs import (ACK_LOST, NEW_TASK, RECEIVED, WAITING, WORKER, Prog,  # noqa: F401
                            not_built, progs, wait_until)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, 'bin')
WARREN_RELEASE = os.path.join(BIN, 'warren')
FAILIO = os.path.join(ROOT, 'build', 'failio.so')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

pytestmark = pytest.mark.skipif(bool(not_built()), reason=str(not_built()))


@pytest.fixture
def mq(broker, qname):
    """pika helpers on the test's queue; the queue is deleted afterwards."""
    class MQ:
        url = broker.url
        queue = qname

        def channel(self):
            conn = pika.BlockingConnection(pika.URLParameters(broker.url))
            self._conns.append(conn)
            return conn.channel()

        def count(self):
            ch = self.channel()
            n = ch.queue_declare(qname, passive=True).method.message_count
            ch.connection.close()
            return n

        def drain(self):
            """Take every ready message off the queue (acked), bodies in order."""
            ch = self.channel()
            bodies = []
            while True:
                method, _props, body = ch.basic_get(qname, auto_ack=True)
                if method is None:
                    break
                bodies.append(body.decode())
            ch.connection.close()
            return bodies

        def consume_all(self, n, timeout=30):
            """Take n messages with an autoack consumer, bodies in order."""
            ch = self.channel()
            bodies = []
            for method, _props, body in ch.consume(qname, auto_ack=True,
                                                   inactivity_timeout=timeout):
                if method is None:
                    break
                bodies.append(body.decode())
                if len(bodies) == n:
                    break
            ch.cancel()
            ch.connection.close()
            return bodies
    m = MQ()
    m._conns = []
    yield m
    try:
        conn = pika.BlockingConnection(pika.URLParameters(broker.url))
        conn.channel().queue_delete(qname)
        conn.close()
    except Exception:
        pass
    for c in m._conns:
        if c.is_open:
            c.close()


def new_task(mq, *words, url=None, args=(), input=None, timeout=30):
    cmd = [NEW_TASK, '--url', url or mq.url, '--queue', mq.queue] + list(args) + list(words)
    return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)


def start_worker(progs, mq, *extra, url=None):
    w = progs(WORKER, '--url', url or mq.url, '--queue', mq.queue, *extra)
    w.wait_line(WAITING)
    return w


# ---- the tutorial as written -------------------------------------------------

def test_help_and_usage_errors(tmp_path):
    for prog in (NEW_TASK, WORKER):
        r = subprocess.run([prog, '--help'], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0 and 'usage:' in r.stdout and 'Exit status' in r.stdout
        r = subprocess.run([prog, '--no-such-option'], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and '--help' in r.stderr
        r = subprocess.run([prog, '--url', 'http://x/'], capture_output=True, text=True,
                           timeout=10)
        assert r.returncode == 2 and 'bad URL' in r.stderr
    r = subprocess.run([WORKER, '--timeout', '3'], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and 'need --exec' in r.stderr
    r = subprocess.run([WORKER, '--prefetch', 'lots'], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    r = subprocess.run([NEW_TASK, '--file', str(tmp_path / 'x'), 'word'], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2
    for prog in (NEW_TASK, WORKER):
        for bad, says in ((['--passive', '--dead-letter-exchange', 'x'], '--passive uses the queue'),
                          (['--dead-letter-routing-key', 'k'], 'needs --dead-letter-exchange')):
            r = subprocess.run([prog, '--url', 'amqp://127.0.0.1:1/'] + bad, capture_output=True,
                               text=True, timeout=10)
            assert r.returncode == 2 and says in r.stderr, (prog, bad, r.stderr)


def test_tutorial_output_and_persistent_message(mq, progs):
    r = new_task(mq)
    assert r.returncode == 0, r.stderr
    assert r.stdout == " [x] Sent 'Hello World!'\n"
    r = new_task(mq, 'First', 'message.')
    assert r.stdout == " [x] Sent 'First message.'\n"

    # What was queued is what the Python tutorial queues: persistent, on a
    # durable queue (a passive declare would not tell; re-declaring with
    # durable=True is refused unless it matches).
    ch = mq.channel()
    ch.queue_declare(mq.queue, durable=True)
    method, props, body = ch.basic_get(mq.queue, auto_ack=False)
    assert body == b'Hello World!' and props.delivery_mode == 2
    ch.basic_nack(method.delivery_tag, requeue=True)
    ch.connection.close()

    w = start_worker(progs, mq, '--dot-seconds', '0.05')
    w.wait_line(' [x] Done', count=2)
    assert w.lines == [WAITING, " [x] Received 'Hello World!'", ' [x] Done',
                       " [x] Received 'First message.'", ' [x] Done']
    assert w.stop(signal.SIGINT) == 0
    assert mq.count() == 0


def test_pika_tutorial_interop(mq, progs):
    """worker takes tasks from the Python tutorial's new_task.py, and the
    Python worker takes ours: same queue declaration, same messages."""
    ch = mq.channel()
    ch.queue_declare(queue=mq.queue, durable=True)
    ch.basic_publish(exchange='', routing_key=mq.queue, body='from pika.',
                     properties=pika.BasicProperties(delivery_mode=2))
    w = start_worker(progs, mq, '--dot-seconds', '0.05')
    w.wait_line(' [x] Done')
    assert w.done() == ['from pika.']
    assert w.stop() == 0

    assert new_task(mq, 'from', 'C').returncode == 0
    got = []

    def callback(chan, method, _props, body):
        got.append(body)
        chan.basic_ack(delivery_tag=method.delivery_tag)
        chan.stop_consuming()
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(queue=mq.queue, on_message_callback=callback)
    ch.connection.call_later(10, ch.stop_consuming)
    ch.start_consuming()
    assert got == [b'from C']


def test_round_robin_between_two_workers(mq, progs):
    # The tutorial's first section: no prefetch limit, so the broker hands
    # the tasks out in turn regardless of how busy each worker is.
    w1 = start_worker(progs, mq, '--prefetch', '0', '--dot-seconds', '0.02')
    w2 = start_worker(progs, mq, '--prefetch', '0', '--dot-seconds', '0.02')
    tasks = ['task %d.' % i for i in range(1, 7)]
    r = new_task(mq, args=['--file', '-'], input='\n'.join(tasks) + '\n')
    assert r.returncode == 0 and r.stdout == ' [x] Sent 6 tasks\n', r.stderr
    wait_until(lambda: len(w1.done()) + len(w2.done()) == 6, what='6 tasks done')
    assert len(w1.done()) == 3 and len(w2.done()) == 3
    assert sorted([w1.done(), w2.done()]) == [tasks[0::2], tasks[1::2]]
    assert w1.stop() == 0 and w2.stop() == 0
    assert mq.count() == 0


def test_fair_dispatch_with_prefetch_1(mq, progs):
    # Heavy and light tasks alternate.  Round robin would give one worker
    # every heavy task; with prefetch 1 a worker busy with a heavy task gets
    # nothing more, so the light tasks go to whoever is free.
    heavy = ['heavy %d.....' % i for i in range(3)]
    light = ['light %d' % i for i in range(3)]
    tasks = [t for pair in zip(heavy, light) for t in pair]
    w1 = start_worker(progs, mq, '--dot-seconds', '0.1')
    w2 = start_worker(progs, mq, '--dot-seconds', '0.1')
    assert new_task(mq, args=['--file', '-'], input='\n'.join(tasks) + '\n').returncode == 0
    wait_until(lambda: len(w1.done()) + len(w2.done()) == 6, what='6 tasks done')
    assert sorted(w1.done() + w2.done()) == sorted(tasks)
    # Whichever worker takes the first heavy task, the other takes the
    # first light one and then, the first worker being full, the next heavy.
    assert any(t in heavy for t in w1.done()) and any(t in heavy for t in w2.done())
    assert w1.stop() == 0 and w2.stop() == 0
    assert mq.count() == 0


def test_killed_worker_task_goes_to_another(mq, progs):
    w1 = start_worker(progs, mq, '--dot-seconds', '0.2', '--show-redelivered')
    w2 = start_worker(progs, mq, '--dot-seconds', '0.02', '--show-redelivered')
    assert new_task(mq, 'long task.....').returncode == 0
    wait_until(lambda: w1.received() or w2.received(), what='a worker to take the task')
    busy, other = (w1, w2) if w1.received() else (w2, w1)
    busy.proc.kill()          # SIGKILL mid-task: no ack was sent
    busy.proc.wait()
    assert ' [x] Done' not in busy.lines
    other.wait_line(' [x] Done')
    assert other.lines[1:] == [" [x] Received 'long task.....' (redelivered)", ' [x] Done']
    assert other.stop() == 0
    assert mq.count() == 0


# ---- stopping ------------------------------------------------------------------

@pytest.mark.parametrize('prefetch', ['1', '5'])
def test_ctrl_c_finishes_the_task_in_hand(mq, progs, prefetch):
    # With prefetch 5 'two' is already in the worker when the signal comes:
    # it is not started, and goes back to the queue.
    assert new_task(mq, 'one....').returncode == 0
    assert new_task(mq, 'two').returncode == 0
    w = start_worker(progs, mq, '--dot-seconds', '0.1', '--prefetch', prefetch)
    w.wait_line(" [x] Received 'one....'")
    w.proc.send_signal(signal.SIGINT)
    assert w.wait() == 0
    assert w.lines[1:] == [" [x] Received 'one....'", ' [x] Done']   # 'two' not taken
    assert 'stopping after this task' in '\n'.join(w.errors)
    assert mq.drain() == ['two']


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
@pytest.mark.parametrize('work', [['--dot-seconds', '0.2'], ['--exec', 'sleep 30']],
                         ids=['fake-work', 'exec'])
def test_second_signal_abandons_the_task(mq, progs, work, sig):
    assert new_task(mq, 'slow' + '.' * 50).returncode == 0
    w = start_worker(progs, mq, *work)
    w.wait_line(lambda l: l.startswith(' [x] Received'))
    w.proc.send_signal(sig)
    wait_until(lambda: w.errors, what='the first signal to be noticed')
    t0 = time.monotonic()
    assert w.stop(sig, timeout=5) == 130
    assert time.monotonic() - t0 < 2
    assert ' [x] Done' not in w.lines
    wait_until(lambda: mq.count() == 1, what='the abandoned task back in the queue')


def test_sigterm_when_idle_exits_0(mq, progs):
    w = start_worker(progs, mq)
    t0 = time.monotonic()
    assert w.stop(signal.SIGTERM, timeout=5) == 0
    assert time.monotonic() - t0 < 2


def test_signal_when_idle_takes_no_new_task(mq, progs):
    # A task published just after the signal reaches a worker still
    # waiting for deliveries: it must not be started, and goes back.
    ch = mq.channel()
    ch.queue_declare(mq.queue, durable=True)
    for _ in range(3):
        w = start_worker(progs, mq, '--dot-seconds', '0.3')
        w.proc.send_signal(signal.SIGINT)
        ch.basic_publish('', mq.queue, b'late...')
        assert w.wait(5) == 0
        assert w.lines == [WAITING], w.lines
        wait_until(lambda: mq.count() == 1, what='the late task back in the queue')
        ch.queue_purge(mq.queue)


# ---- --exec ----------------------------------------------------------------------

def test_exec_success_acks(mq, progs, tmp_path):
    out = tmp_path / 'out'
    for t in ('alpha', 'beta gamma'):
        assert new_task(mq, t).returncode == 0
    w = start_worker(progs, mq, '--exec', 'cat >> %s; echo >> %s' % (out, out))
    w.wait_line(' [x] Done', count=2)
    assert out.read_text() == 'alpha\nbeta gamma\n'
    assert w.stop() == 0
    assert mq.count() == 0


def test_exec_failure_rejects_without_requeue(mq, progs, tmp_path):
    runs = tmp_path / 'runs'
    assert new_task(mq, 'doomed').returncode == 0
    w = start_worker(progs, mq, '--exec', 'echo run >> %s; exit 3' % runs)
    w.wait_line(' [x] Failed (exit status 3): rejected')
    assert w.stop() == 0
    assert mq.count() == 0              # gone (or dead-lettered), not requeued
    assert runs.read_text() == 'run\n'  # and never run again


def test_exec_failure_requeue_runs_again(mq, progs, tmp_path):
    mark, out = tmp_path / 'mark', tmp_path / 'out'
    script = ('if [ -e {m} ]; then cat >> {o}; echo " $WORKER_REDELIVERED" >> {o}; '
              'else touch {m}; exit 1; fi').format(m=mark, o=out)
    assert new_task(mq, 'flaky').returncode == 0
    w = start_worker(progs, mq, '--exec', script, '--on-failure', 'requeue',
                     '--requeue-delay', '0.05', '--show-redelivered')
    w.wait_line(' [x] Done')
    assert w.lines[1:] == [" [x] Received 'flaky'", ' [x] Failed (exit status 1): requeued',
                           " [x] Received 'flaky' (redelivered)", ' [x] Done']
    assert out.read_text() == 'flaky 1\n'
    assert w.stop() == 0
    assert mq.count() == 0


def test_exec_timeout_kills_the_command(mq, progs, tmp_path):
    pidfile = tmp_path / 'pid'
    assert new_task(mq, 'forever').returncode == 0
    t0 = time.monotonic()
    w = start_worker(progs, mq, '--exec', 'echo $$ > %s; sleep 30' % pidfile,
                     '--timeout', '0.5')
    w.wait_line(' [x] Failed (timed out after 0.5 s): rejected', timeout=10)
    assert time.monotonic() - t0 < 5
    pid = int(pidfile.read_text())

    def gone():
        try:
            os.kill(pid, 0)
            return False
        except ProcessLookupError:
            return True
    wait_until(gone, 3, 'the timed-out command to be killed')
    assert w.stop() == 0
    assert mq.count() == 0


def test_exec_timeout_sigkills_a_command_ignoring_sigterm(mq, progs, tmp_path):
    pidfile = tmp_path / 'pid'
    assert new_task(mq, 'stubborn').returncode == 0
    w = start_worker(progs, mq, '--exec', "trap '' TERM; echo $$ > %s; sleep 30" % pidfile,
                     '--timeout', '0.3')
    failed = ' [x] Failed (timed out after 0.3 s): rejected'
    w.wait_line(failed, timeout=10)
    # SIGTERM at 0.3 s is ignored; SIGKILL follows 2 s later.
    took = w.when(failed) - w.when(" [x] Received 'stubborn'")
    assert 2.2 <= took < 4, took
    pid = int(pidfile.read_text())

    def gone():
        try:
            os.kill(pid, 0)
            return False
        except ProcessLookupError:
            return True
    wait_until(gone, 3, 'the command to be killed')
    assert w.stop() == 0
    assert mq.count() == 0


def test_dot_seconds_sets_the_length_of_the_fake_work(mq, progs):
    assert new_task(mq, 'five.....').returncode == 0
    assert new_task(mq, 'none').returncode == 0
    w = start_worker(progs, mq, '--dot-seconds', '0.2')
    w.wait_line(' [x] Done', count=2)
    st = list(w.stamps)
    assert [line for _t, line in st] == [WAITING, " [x] Received 'five.....'", ' [x] Done',
                                         " [x] Received 'none'", ' [x] Done']
    five, none = st[2][0] - st[1][0], st[4][0] - st[3][0]
    assert 0.95 <= five < 1.6, five        # 5 dots x 0.2 s
    assert none < 0.15, none
    assert w.stop() == 0


# ---- dead letters -----------------------------------------------------------------

@pytest.fixture
def dead(mq):
    """A fanout exchange and the queue bound to it, for dead letters;
    deleted afterwards."""
    names = {'exchange': mq.queue + '-dlx', 'queue': mq.queue + '-dead'}
    ch = mq.channel()
    ch.exchange_declare(names['exchange'], 'fanout')
    ch.queue_declare(names['queue'])
    ch.queue_bind(names['queue'], names['exchange'])
    yield names
    ch = mq.channel()
    ch.queue_delete(names['queue'])
    ch.exchange_delete(names['exchange'])
    ch.connection.close()


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def dead_letter(mq, dead):
    """The one message in the dead-letter queue: (properties, body)."""
    ch = mq.channel()
    got = wait_until(lambda: ch.basic_get(dead['queue'], auto_ack=True), 5,
                     'a message in the dead-letter queue')
    method, props, body = got
    assert method is not None
    assert ch.basic_get(dead['queue'], auto_ack=True)[0] is None, 'more than one dead letter'
    ch.connection.close()
    return props, body


@pytest.mark.parametrize('how', ['exchange', 'routing-key'])
def test_failed_task_is_dead_lettered(mq, progs, dead, how):
    # No policies needed: both programs declare the queue with
    # x-dead-letter-exchange (to the fanout, or to the default exchange
    # with x-dead-letter-routing-key naming the dead-letter queue).
    dl = (['--dead-letter-exchange', dead['exchange']] if how == 'exchange' else
          ['--dead-letter-exchange', '', '--dead-letter-routing-key', dead['queue']])
    assert new_task(mq, 'bad', 'task', args=dl).returncode == 0
    assert new_task(mq, 'good', args=dl).returncode == 0
    w = start_worker(progs, mq, *dl, '--exec', 'grep -q good')
    w.wait_line(' [x] Done')
    w.wait_line(' [x] Failed (exit status 1): rejected')
    assert w.stop() == 0
    assert mq.count() == 0
    props, body = dead_letter(mq, dead)
    assert body == b'bad task' and props.delivery_mode == 2
    death = props.headers['x-death'][0]
    assert text(death['reason']) == 'rejected' and text(death['queue']) == mq.queue
    # The other program without the option declares the queue differently.
    r = new_task(mq, 'x')
    assert r.returncode == 5 and 'PRECONDITION_FAILED' in r.stderr


def test_passive_uses_a_queue_declared_elsewhere(mq, progs, dead):
    # The queue was made by someone else, with arguments of its own.
    ch = mq.channel()
    ch.queue_declare(mq.queue, durable=True,
                     arguments={'x-dead-letter-exchange': dead['exchange']})
    r = new_task(mq, 'x')
    assert r.returncode == 5 and 'PRECONDITION_FAILED' in r.stderr   # plain declare: refused
    assert new_task(mq, 'doomed', args=['--passive']).returncode == 0
    w = start_worker(progs, mq, '--passive', '--exec', 'exit 4')
    w.wait_line(' [x] Failed (exit status 4): rejected')
    assert w.stop() == 0
    props, body = dead_letter(mq, dead)
    assert body == b'doomed'
    assert text(props.headers['x-death'][0]['reason']) == 'rejected'
    assert mq.count() == 0


def test_requeue_with_delivery_limit_ends_in_the_dlq_and_says_so(mq, progs, dead, broker):
    """A poison task with --on-failure requeue on a queue with a delivery
    limit: the worker fails it limit+1 times, says which attempt each was
    and that the last one gives it up, and the task is in the dead-letter
    queue with reason delivery_limit (issue 15).  warren-only: RabbitMQ
    takes x-delivery-limit on quorum queues only."""
    if broker.external:
        pytest.skip('warren-only: RabbitMQ refuses x-delivery-limit on a classic queue')
    opts = ['--dead-letter-exchange', dead['exchange'], '--delivery-limit', '2']
    assert new_task(mq, 'poison', args=opts).returncode == 0
    w = start_worker(progs, mq, *opts, '--exec', 'exit 1', '--on-failure', 'requeue',
                     '--requeue-delay', '0.05')
    w.wait_line(lambda line: 'given up' in line)
    props, body = dead_letter(mq, dead)
    assert w.stop() == 0
    assert w.lines[1:] == [" [x] Received 'poison'", ' [x] Failed (exit status 1): attempt 1 of 3, requeued',
                           " [x] Received 'poison'", ' [x] Failed (exit status 1): attempt 2 of 3, requeued',
                           " [x] Received 'poison'",
                           ' [x] Failed (exit status 1): attempt 3 of 3, given up: the broker dead-letters it']
    assert body == b'poison'
    assert text(props.headers['x-death'][0]['reason']) == 'delivery_limit'
    assert mq.count() == 0
    assert w.errors == []


def test_delivery_limit_the_queue_lacks_is_a_warning(mq, progs, broker):
    """The queue was declared without the limit (a redeclare adds no
    arguments): the worker sees a redelivery without x-delivery-count and
    says the task may come back forever, instead of counting attempts that
    the broker does not."""
    if broker.external:
        pytest.skip('warren-only: RabbitMQ refuses x-delivery-limit on a classic queue')
    assert new_task(mq, 'poison').returncode == 0
    w = start_worker(progs, mq, '--delivery-limit', '1', '--exec', 'exit 1', '--on-failure', 'requeue',
                     '--requeue-delay', '0.05')
    wait_until(lambda: w.errors, 10, 'a warning on stderr')
    assert w.stop() == 0
    assert 'has no delivery limit' in w.errors[0], w.errors


# ---- new_task errors and bulk mode ------------------------------------------------

def test_new_task_wrong_password(mq, broker):
    url = 'amqp://guest:not-the-password@%s:%d/' % (broker.host, broker.port)
    r = new_task(mq, 'x', url=url)
    assert r.returncode == 4, (r.stdout, r.stderr)
    assert 'refused' in r.stderr and 'not-the-password' not in r.stderr
    assert r.stdout == ''
    w = Prog([WORKER, '--url', url, '--queue', mq.queue])
    assert w.wait() == 4 and w.lines == []
    assert 'refused' in '\n'.join(w.errors)


def test_new_task_unreachable_port(mq):
    url = 'amqp://guest:guest@127.0.0.1:%d/' % free_port()
    r = new_task(mq, 'x', url=url)
    assert r.returncode == 3
    assert 'cannot connect' in r.stderr and r.stdout == ''
    w = Prog([WORKER, '--url', url, '--queue', mq.queue])
    assert w.wait() == 3 and 'cannot connect' in '\n'.join(w.errors)


def test_queue_with_other_settings_is_a_clear_error(mq, progs):
    ch = mq.channel()
    ch.queue_declare(mq.queue, durable=False)
    r = new_task(mq, 'x')
    assert r.returncode == 5 and 'PRECONDITION_FAILED' in r.stderr
    w = progs(WORKER, '--url', mq.url, '--queue', mq.queue)
    assert w.wait() == 5
    assert 'PRECONDITION_FAILED' in '\n'.join(w.errors)


def test_new_task_confirm_timeout_exits_7():
    fake = FakeBroker('silent')      # takes publishes, never confirms
    try:
        t0 = time.monotonic()
        r = subprocess.run([NEW_TASK, '--url', fake.url, '--confirm-timeout', '0.5', 'x'],
                           capture_output=True, text=True, timeout=30)
        took = time.monotonic() - t0
        assert r.returncode == 7, r.stderr
        assert 'no publisher confirm for 1 message(s) within 0.5 s' in r.stderr
        assert r.stdout == '' and 0.45 <= took < 5
        # From a file it publishes one window, then waits for confirms.
        r = subprocess.run([NEW_TASK, '--url', fake.url, '--file', '-', '--window', '4',
                            '--confirm-timeout', '0.5'],
                           input=''.join('t%d\n' % i for i in range(10)),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 7, r.stderr
        assert '0 of 4 task(s) were confirmed before the error' in r.stderr
        assert fake.published == 1 + 4
    finally:
        fake.close()


def test_new_task_nack_exits_6_and_names_the_line():
    fake = FakeBroker('nack:3')      # nacks the third publish, acks the others
    try:
        r = subprocess.run([NEW_TASK, '--url', fake.url, '--file', '-'],
                           input='a\nb\n\nc\nd\ne\n', capture_output=True, text=True, timeout=30)
        assert r.returncode == 6, r.stderr
        # the third task is line 4 (line 3 is empty)
        assert 'refused (nacked) 1 of 5 task(s), the first from line 4' in r.stderr
        assert r.stdout == ''
        r = subprocess.run([NEW_TASK, '--url', fake.url, 'x'], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0 and r.stdout == " [x] Sent 'x'\n"     # tag 1 of its own connection
    finally:
        fake.close()


def test_new_task_nacked_by_warren_exits_6(monkeypatch, tmp_path, broker_factory, qname):
    """A real nack: warren's fdatasync fails (tests/fault/failio.c preloaded),
    so it cannot make the message durable and nacks it."""
    if os.environ.get('WARREN_TEST_URL'):
        pytest.skip('needs a warren the test starts with the fault-injection shim')
    for path, how in ((FAILIO, 'make build/failio.so'), (WARREN_RELEASE, 'make bin/warren')):
        if not os.path.exists(path):
            pytest.fail('%s is missing: build it first (%s)' % (path, how), pytrace=False)
    trigger, flog = tmp_path / 'fail-now', tmp_path / 'failio.log'
    monkeypatch.setenv('WARREN_BIN', WARREN_RELEASE)     # ASan refuses a preload before it
    monkeypatch.setenv('LD_PRELOAD', FAILIO)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'fdatasync')
    monkeypatch.setenv('FAILIO_LOG', str(flog))
    broker = broker_factory()
    monkeypatch.delenv('LD_PRELOAD')

    def send(*args, **kw):
        return subprocess.run([NEW_TASK, '--url', broker.url, '--queue', qname] + list(args),
                              capture_output=True, text=True, timeout=30, **kw)
    assert send('before').returncode == 0
    trigger.touch()
    r = send('doomed')
    assert r.returncode == 6, (r.stdout, r.stderr)
    assert 'nacked' in r.stderr and r.stdout == ''
    r = send('--file', '-', input='x\ny\nz\n')
    assert r.returncode == 6, r.stderr
    assert 'refused (nacked) 3 of 3 task(s), the first from line 1' in r.stderr
    os.unlink(trigger)
    assert flog.exists(), 'the shim failed nothing: is it preloaded?'
    assert send('after').returncode == 0
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    ch = conn.channel()
    bodies = []
    while True:
        method, _props, body = ch.basic_get(qname, auto_ack=True)
        if method is None:
            break
        bodies.append(body.decode())
    conn.close()
    assert bodies[0] == 'before' and bodies[-1] == 'after', bodies


def test_passive_missing_queue_is_a_clear_error(mq, progs):
    r = new_task(mq, 'x', args=['--passive'])
    assert r.returncode == 5 and 'NOT_FOUND' in r.stderr, r.stderr
    w = progs(WORKER, '--url', mq.url, '--queue', mq.queue, '--passive')
    assert w.wait() == 5
    assert 'NOT_FOUND' in '\n'.join(w.errors)


def test_file_mode_10000_lines_in_one_window(mq, tmp_path):
    lines = ['task %05d' % i for i in range(10000)]
    f = tmp_path / 'tasks.txt'
    f.write_text('\n'.join(lines) + '\n')
    t0 = time.monotonic()
    r = new_task(mq, args=['--file', str(f), '--window', '10000'], timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ' [x] Sent 10000 tasks\n'
    assert time.monotonic() - t0 < 20
    assert mq.count() == 10000
    assert mq.consume_all(10000) == lines


def test_file_mode_1000_lines(mq, tmp_path):
    lines = ['line %04d' % i for i in range(1000)]
    f = tmp_path / 'tasks.txt'
    f.write_text('\n'.join(lines) + '\n')
    r = new_task(mq, args=['--file', str(f), '--window', '100'])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ' [x] Sent 1000 tasks\n'
    assert mq.drain() == lines


def test_stdin_mode_skips_blank_lines_and_crlf(mq):
    r = new_task(mq, args=['--file', '-'], input='a\r\n\nb c\n\nd.')
    assert r.returncode == 0 and r.stdout == ' [x] Sent 3 tasks\n'
    assert mq.drain() == ['a', 'b c', 'd.']


# ---- when the broker goes away ----------------------------------------------------

class Proxy:
    """A TCP relay to the broker that can cut every connection and stop
    accepting for a while: the broker going away, as the worker sees it,
    without touching the broker itself."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.port = free_port()
        self.pairs = []
        self.lock = threading.Lock()
        self.listener = None
        self.listen()

    def listen(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', self.port))
        s.listen(16)
        s.settimeout(0.05)
        self.listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, s):
        while self.listener is s:
            try:
                client, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._relay, args=(a, b), daemon=True).start()
        s.close()

    @staticmethod
    def _relay(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop_listening(self):
        """From now on connecting is refused (the listening socket is
        closed here, not when the accept thread next looks)."""
        s, self.listener = self.listener, None
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def drop_all(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for x in pair:
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                x.close()

    def close(self):
        self.stop_listening()
        self.drop_all()

    @property
    def url(self):
        return 'amqp://guest:guest@127.0.0.1:%d/' % self.port


def test_connection_lost_mid_task_reconnects_and_task_is_redone(mq, progs, broker):
    proxy = Proxy(broker.host, broker.port)
    try:
        assert new_task(mq, 'cut.....').returncode == 0
        w = start_worker(progs, mq, '--dot-seconds', '0.1', '--show-redelivered',
                         '--reconnect-max', '0.2', url=proxy.url)
        w.wait_line(" [x] Received 'cut.....'")
        # The broker "goes away" mid-task and is unreachable for a moment.
        proxy.stop_listening()
        proxy.drop_all()
        wait_until(lambda: 'retrying' in '\n'.join(w.errors), what='a failed reconnect')
        proxy.listen()
        w.wait_line(" [x] Received 'cut.....' (redelivered)")
        w.wait_line(' [x] Done', count=2)
        assert 'reconnected' in '\n'.join(w.errors)
        # The first Done could not be acked, and the worker said so.
        assert w.lines[1:5] == [" [x] Received 'cut.....'", ' [x] Done', ACK_LOST,
                                " [x] Received 'cut.....' (redelivered)"]
        # ... and carries on with new work.
        assert new_task(mq, 'after').returncode == 0
        w.wait_line(' [x] Done', count=3)
        assert w.done()[-1] == 'after'
        assert w.proc.poll() is None
        assert w.stop() == 0
        assert mq.count() == 0
    finally:
        proxy.close()


def test_queue_deleted_under_the_worker(mq, progs):
    # The broker cancels the consumer (consumer_cancel_notify); the worker
    # declares the queue again and goes on consuming.
    w = start_worker(progs, mq)
    ch = mq.channel()
    ch.queue_delete(mq.queue)
    wait_until(lambda: 'cancelled' in '\n'.join(w.errors), what='the cancel to be noticed')
    assert new_task(mq, 'still here').returncode == 0
    w.wait_line(' [x] Done')
    assert w.done() == ['still here']
    assert w.stop() == 0


def test_heartbeats_keep_a_long_task_connected(mq, progs):
    # With a 1 s heartbeat the broker drops a client silent for ~2-3 s; the
    # worker must keep beating while it works on a 4 s task.
    assert new_task(mq, 'long....').returncode == 0
    w = start_worker(progs, mq, '--heartbeat', '1', '--dot-seconds', '1', '--show-redelivered')
    w.wait_line(' [x] Done', timeout=15)
    assert w.lines[1:] == [" [x] Received 'long....'", ' [x] Done']
    assert w.stop() == 0
    assert not any('reconnect' in e or 'lost' in e for e in w.errors), w.errors
    assert mq.count() == 0


def test_broker_restart_loses_no_task(broker, mq, progs):
    broker.require_control()
    w1 = start_worker(progs, mq, '--dot-seconds', '0.1', '--reconnect-max', '0.5')
    w2 = start_worker(progs, mq, '--dot-seconds', '0.1', '--reconnect-max', '0.5')
    before = ['before %d..' % i for i in range(10)]
    assert new_task(mq, args=['--file', '-'], input='\n'.join(before) + '\n').returncode == 0
    wait_until(lambda: w1.done() or w2.done(), what='a first task done')
    broker.restart()   # SIGTERM, then start again on the same port and data dir
    after = ['after %d.' % i for i in range(4)]
    r = new_task(mq, args=['--file', '-'], input='\n'.join(after) + '\n')
    assert r.returncode == 0, r.stderr
    wait_until(lambda: set(before + after) <= set(w1.done() + w2.done()), 30,
               'every task done after the restart')
    assert w1.proc.poll() is None and w2.proc.poll() is None
    assert 'reconnected' in '\n'.join(w1.errors + w2.errors)
    assert w1.stop() == 0 and w2.stop() == 0
    assert mq.count() == 0


def test_reconnect_backoff_doubles_up_to_the_cap(mq, progs, broker):
    proxy = Proxy(broker.host, broker.port)
    try:
        w = start_worker(progs, mq, '--reconnect-max', '0.4', url=proxy.url)
        proxy.stop_listening()
        proxy.drop_all()
        pat = re.compile(r'; retrying in (\d+\.\d+) s$')

        def waits():
            return [float(m.group(1)) for m in map(pat.search, list(w.errors)) if m]
        wait_until(lambda: len(waits()) >= 6, 15, 'six failed reconnects')
        ws = waits()[:6]
        # 0.1 s, doubling, capped at --reconnect-max; each within +-20 % jitter
        assert 0.08 <= ws[0] <= 0.12 and 0.16 <= ws[1] <= 0.24 and 0.32 <= ws[2] <= 0.48, ws
        assert all(0.32 <= x <= 0.48 for x in ws[3:]), ws
        proxy.listen()
        wait_until(lambda: 'reconnected' in '\n'.join(w.errors), what='the reconnect')
        assert new_task(mq, 'after').returncode == 0
        w.wait_line(' [x] Done')
        assert w.stop() == 0
    finally:
        proxy.close()


def test_broker_restart_mid_task_says_the_ack_is_lost(broker, mq, progs):
    broker.require_control()
    assert new_task(mq, 'restart......').returncode == 0
    w = start_worker(progs, mq, '--dot-seconds', '0.2', '--reconnect-max', '0.3',
                     '--show-redelivered')
    w.wait_line(" [x] Received 'restart......'")
    broker.restart()      # warren closes with 320 and exits while the task runs
    w.wait_line(' [x] Done', count=2, timeout=20)
    assert w.lines[1:] == [" [x] Received 'restart......'", ' [x] Done', ACK_LOST,
                           " [x] Received 'restart......' (redelivered)", ' [x] Done']
    assert 'reconnected' in '\n'.join(w.errors)
    assert w.stop() == 0
    assert mq.count() == 0


def test_broker_killed_while_workers_run_loses_no_task(broker, mq, progs):
    broker.require_control()
    w1 = start_worker(progs, mq, '--dot-seconds', '0.1', '--reconnect-max', '0.3')
    w2 = start_worker(progs, mq, '--dot-seconds', '0.1', '--reconnect-max', '0.3')
    tasks = ['k%d......' % i for i in range(8)]        # 0.6 s each
    assert new_task(mq, args=['--file', '-'], input='\n'.join(tasks) + '\n').returncode == 0

    def busy(w):
        """The task w has just started (its last line, under 0.3 s old), or None."""
        st = list(w.stamps)
        if len(st) > 2 and RECEIVED.match(st[-1][1]) and time.monotonic() - st[-1][0] < 0.3:
            return RECEIVED.match(st[-1][1]).group(1)
        return None
    # Kill when both workers are early in a task (and have done one before).
    in_hand = wait_until(lambda: busy(w1) and busy(w2) and [busy(w1), busy(w2)], 20,
                         'both workers busy with a fresh task')
    broker.kill()         # SIGKILL: no goodbye, no chance to write anything more
    broker.start()        # same port, same data directory
    wait_until(lambda: set(tasks) <= set(w1.done() + w2.done()), 30,
               'every task done after the crash')
    received = w1.received() + w2.received()
    for t in in_hand:     # the task in hand was delivered again
        assert received.count(t) >= 2, (t, w1.lines, w2.lines)
    assert ACK_LOST in w1.lines and ACK_LOST in w2.lines
    assert w1.proc.poll() is None and w2.proc.poll() is None
    assert w1.stop() == 0 and w2.stop() == 0
    assert mq.count() == 0


# ---- long bodies are shown cut short -----------------------------------------

def test_long_task_body_is_shown_cut_short(mq, progs):
    """A 13 MB task prints one short line (its first 200 bytes and its
    size), not 13 MB; a body of 200 bytes still prints whole."""
    ch = mq.channel()
    ch.queue_declare(mq.queue, durable=True)
    whole = 'w' * 200
    cut_utf8 = 'a' + '\u00e9' * 200              # 401 bytes: byte 200 is inside an 'é'
    huge = 'x' * 13000000
    for body in (whole, cut_utf8, huge):
        ch.basic_publish('', mq.queue, body.encode(), pika.BasicProperties(delivery_mode=2))
    ch.connection.close()
    w = start_worker(progs, mq, '--dot-seconds', '0')
    w.wait_line(' [x] Done', count=3, timeout=30)
    assert w.lines == [WAITING,
                       " [x] Received '%s'" % whole, ' [x] Done',
                       " [x] Received 'a%s'... (401 bytes)" % ('\u00e9' * 99), ' [x] Done',
                       " [x] Received '%s'... (13000000 bytes)" % ('x' * 200), ' [x] Done']
    assert w.stop(signal.SIGINT) == 0
    assert mq.count() == 0


def test_long_redelivered_task_keeps_its_mark(mq, progs):
    ch = mq.channel()
    ch.queue_declare(mq.queue, durable=True)
    ch.basic_publish('', mq.queue, b'y' * 300, pika.BasicProperties(delivery_mode=2))
    method, _p, _b = ch.basic_get(mq.queue, auto_ack=False)
    ch.basic_nack(method.delivery_tag, requeue=True)      # now it is redelivered
    ch.connection.close()
    w = start_worker(progs, mq, '--dot-seconds', '0', '--show-redelivered')
    w.wait_line(' [x] Done')
    assert w.lines[1:] == [" [x] Received '%s'... (300 bytes) (redelivered)" % ('y' * 200), ' [x] Done']
