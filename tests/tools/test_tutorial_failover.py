"""new_task and worker with several --url: failing over between brokers,
here two warrens (the RabbitMQ cluster version is tests/cluster/).

  - the worker's broker is killed (-9): it reconnects to the next URL and
    does the tasks there; a first URL that refuses is skipped at start;
  - new_task's broker is killed mid-run: it moves to the next URL and
    publishes the unconfirmed tasks again, so every task it was given is in
    one of the two brokers (some maybe in both), and it exits 0;
  - with one URL, a lost connection still ends new_task with exit 7.
"""
import subprocess
import time

import pika
import pytest

from tutorial_progs import NEW_TASK, WORKER, wait_until

def drain(url, queue):
    """Every body in the queue (taken and acked)."""
    c = pika.BlockingConnection(pika.URLParameters(url))
    ch = c.channel()
    out = []
    while True:
        m, _p, b = ch.basic_get(queue, auto_ack=True)
        if m is None:
            break
        out.append(b.decode())
    c.close()
    return out


@pytest.fixture
def two(broker_factory):
    a = broker_factory(subdir='a')
    b = broker_factory(subdir='b')
    a.require_control()
    return a, b


def test_worker_moves_to_the_next_url_when_its_broker_dies(two, qname, tmp_path):
    a, b = two
    refused = 'amqp://guest:guest@127.0.0.1:1/'
    log = open(tmp_path / 'worker.err', 'w+')
    w = subprocess.Popen([WORKER, '--url', refused, '--url', '%s,%s' % (a.url, b.url),
                          '--queue', qname, '--dot-seconds', '0', '--reconnect-max', '0.3'],
                         stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert w.stdout.readline() == ' [*] Waiting for messages. To exit press CTRL+C\n'
        r = subprocess.run([NEW_TASK, '--url', a.url, '--queue', qname, 'on a'],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert w.stdout.readline() == " [x] Received 'on a'\n"
        assert w.stdout.readline() == ' [x] Done\n'
        a.kill()
        wait_until(lambda: 'reconnected to amqp://guest@127.0.0.1:%d/' % b.port
                   in open(tmp_path / 'worker.err').read(), 10, 'the reconnect to b')
        r = subprocess.run([NEW_TASK, '--url', b.url, '--queue', qname, 'on b'],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert w.stdout.readline() == " [x] Received 'on b'\n"
        assert w.stdout.readline() == ' [x] Done\n'
        err = open(tmp_path / 'worker.err').read()
        assert 'trying amqp://guest@127.0.0.1:%d/' % a.port in err   # the refused one skipped
    finally:
        w.terminate()
        assert w.wait(10) == 0


def test_new_task_fails_over_and_publishes_the_unconfirmed_again(two, qname):
    a, b = two
    n = 20000
    tasks = ['t%d' % i for i in range(n)]
    p = subprocess.Popen([NEW_TASK, '--url', a.url, '--url', b.url, '--queue', qname,
                          '--file', '-', '--window', '500'],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    for i, t in enumerate(tasks):
        p.stdin.write(t + '\n')
        if i == n // 2:
            p.stdin.flush()
            wait_until(lambda: a.proc is not None, 1)
            time.sleep(0.2)
            a.kill()                       # mid-run, some tasks unconfirmed
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert out == ' [x] Sent %d tasks\n' % n
    assert 'new_task: failed over to amqp://guest@127.0.0.1:%d/' % b.port in err
    a.start()                              # what a had confirmed is still there
    on_a, on_b = drain(a.url, qname), drain(b.url, qname)
    assert set(on_a) | set(on_b) == set(tasks)
    assert on_b and len(on_b) == len(set(on_b))


def test_new_task_with_one_url_still_exits_7_on_a_lost_connection(broker, qname):
    broker.require_control()
    p = subprocess.Popen([NEW_TASK, '--url', broker.url, '--queue', qname, '--file', '-'],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    p.stdin.write('one\n')
    p.stdin.flush()
    time.sleep(0.5)
    broker.kill()
    try:
        p.stdin.write('two\n' * 10000)
        p.stdin.close()
    except BrokenPipeError:
        pass
    assert p.wait(30) == 7
    assert 'failing over' not in p.stderr.read()
