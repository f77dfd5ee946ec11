"""The work-queue tutorial (bin/new_task, bin/worker) on a 3-node RabbitMQ
cluster with a quorum task queue, and on warren with the same flags.

  - the tutorial's flow with `--queue-type quorum` and the cluster's three
    URLs: every task done once, the queue is a quorum queue on the cluster
    and an ordinary durable queue on warren (which accepts the declaration);
  - kill -9 of the Erlang VM of the node the worker (and new_task) is
    connected to, mid-run: every task new_task had confirmed is done at least
    once (none lost), the workers and new_task move to a surviving node; the
    counts and the failover time are printed (pytest -s) for doc/scaling.md.
"""
import subprocess
import time
import uuid

import pika
import pytest

from tutorial_progs import WORKER, NEW_TASK, not_built, progs, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(bool(not_built()), reason=str(not_built()))


@pytest.fixture
def tq():
    return 'task_queue-' + uuid.uuid4().hex[:10]


def url_args(urls):
    out = []
    for u in urls:
        out += ['--url', u]
    return out


def queue_info(cluster, name):
    """(type, messages) of a queue on the cluster, from rabbitmqctl."""
    r = cluster.nodes[0].ctl('list_queues', '-q', '--no-table-headers', 'name', 'type',
                             'messages')
    for line in r.stdout.splitlines():
        f = line.split('\t')
        if f[0] == name:
            return f[1], int(f[2])
    return None


def delete_queue(url, name):
    try:
        c = pika.BlockingConnection(pika.URLParameters(url))
        c.channel().queue_delete(name)
        c.close()
    except Exception:
        pass


def run_flow(urls, tq, progs):
    """The tutorial: a worker, new_task with three tasks, the worker does them."""
    w = progs(WORKER, *url_args(urls), '--queue', tq, '--queue-type', 'quorum',
              '--dot-seconds', '0.05')
    wait_until(lambda: ' [*] Waiting for messages. To exit press CTRL+C' in w.lines, 30,
               'the worker to start')
    tasks = ['First message.', 'Second message..', 'Third message...']
    for t in tasks:
        r = subprocess.run([NEW_TASK, *url_args(urls), '--queue', tq, '--queue-type', 'quorum']
                           + t.split(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout == " [x] Sent '%s'\n" % t
    wait_until(lambda: len(w.done()) == 3, 30, 'three tasks done')
    assert w.done() == tasks
    assert w.stop() == 0
    return w


def test_tutorial_with_quorum_queue_on_the_cluster(cluster, tq, progs):
    # the first URL is a node that is not there: both programs go on to the next
    urls = ['amqp://guest:guest@127.0.0.1:1/'] + cluster.urls
    try:
        run_flow(urls, tq, progs)
        assert queue_info(cluster, tq) == ('quorum', 0)
    finally:
        delete_queue(cluster.urls[0], tq)


def test_tutorial_with_the_same_flags_on_warren(broker, tq, progs):
    run_flow([broker.url], tq, progs)
    c = pika.BlockingConnection(pika.URLParameters(broker.url))
    ch = c.channel()
    # warren took the quorum declaration as a durable queue: the same
    # declaration again is accepted, and the queue is empty
    assert ch.queue_declare(tq, durable=True,
                            arguments={'x-queue-type': 'quorum'}).method.message_count == 0
    c.close()


def test_queue_type_is_checked():
    r = subprocess.run([WORKER, '--queue-type', 'stream'], capture_output=True, text=True)
    assert r.returncode == 2 and '--queue-type wants classic or quorum' in r.stderr
    r = subprocess.run([NEW_TASK, '--passive', '--queue-type', 'quorum', 'x'],
                       capture_output=True, text=True)
    assert r.returncode == 2 and 'takes no --queue-type' in r.stderr


def test_kill_9_of_the_workers_node_loses_no_confirmed_task(cluster, tq, progs):
    """kill -9 of c2's beam.smp while new_task publishes to it, worker 1
    consumes from it and the queue's leader is there."""
    c1, c2, c3 = cluster.nodes
    common = ['--queue', tq, '--queue-type', 'quorum']
    # declared through c2, the quorum queue's leader is on c2
    c = pika.BlockingConnection(pika.URLParameters(c2.url))
    c.channel().queue_declare(tq, durable=True, arguments={'x-queue-type': 'quorum'})
    c.close()
    r = c1.ctl('list_queues', '-q', '--no-table-headers', 'name', 'leader')
    assert '%s\t%s' % (tq, c2.name) in r.stdout.splitlines(), r.stdout
    w1 = progs(WORKER, *url_args([c2.url, c3.url, c1.url]), *common, '--dot-seconds', '0',
               '--prefetch', '20', '--reconnect-max', '1')
    w2 = progs(WORKER, *url_args([c3.url, c1.url, c2.url]), *common, '--dot-seconds', '0',
               '--prefetch', '20', '--reconnect-max', '1')
    for w in (w1, w2):
        wait_until(lambda: len(w.lines) >= 1, 30, 'the workers to start')
    total = 4000
    tasks = ['task %d' % i for i in range(total)]
    prod = progs(NEW_TASK, *url_args([c2.url, c1.url, c3.url]), *common, '--file', '-',
                 '--window', '200', stdin=subprocess.PIPE)
    try:
        killed_at = None
        for i, t in enumerate(tasks):
            prod.proc.stdin.write(t + '\n')
            if i % 50 == 49:
                prod.proc.stdin.flush()
                time.sleep(0.02)                  # about 2,000 tasks a second
            if i == total // 3:
                # mid-run, with tasks done and tasks still to send
                wait_until(lambda: len(w1.done()) > 50, 30, 'worker 1 at work')
                prod.proc.stdin.flush()
                pid = c2.kill9()
                killed_at = c2.killed_at
        prod.proc.stdin.close()
        assert prod.proc.wait(120) == 0, '\n'.join(prod.errors)
        prod.stop()
        assert prod.lines == [' [x] Sent %d tasks' % total]
        # every confirmed task (here all of them) done at least once
        wait_until(lambda: set(tasks) <= set(w1.done() + w2.done()), 120,
                   'every confirmed task done')
        done = w1.done() + w2.done()
        lost = len(set(tasks) - set(done))
        dups = len(done) - len(set(done))
        back = [t for t, l in list(w1.err_stamps) if l.startswith('worker: reconnected to')]
        assert back, w1.errors
        assert 'amqp://guest@127.0.0.1:%d' % c2.port not in ' '.join(
            l for l in w1.errors if l.startswith('worker: reconnected to'))
        moved = [t for t, l in list(prod.err_stamps) if l.startswith('new_task: failed over to')]
        assert moved, prod.errors
        # the longest time no task was done, around the kill: the queue's
        # leader election on the surviving nodes and the reconnects
        dones = sorted(t for w in (w1, w2) for t, l in list(w.stamps) if l == ' [x] Done')
        gap = max(b - a for a, b in zip(dones, dones[1:]) if b > killed_at)
        print('\nkill -9 of %s (beam.smp pid %d) mid-run: %d tasks confirmed, %d lost, '
              '%d done twice; worker reconnected after %.2f s, new_task after %.2f s; '
              'longest pause in the work %.2f s; new_task: %s'
              % (c2.name, pid, total, lost, dups, back[0] - killed_at, moved[0] - killed_at, gap,
                 ' | '.join(prod.errors)))
        assert lost == 0
        assert w1.proc.poll() is None and w2.proc.poll() is None
        assert w1.stop() == 0 and w2.stop() == 0
        wait_until(lambda: queue_info(cluster, tq) == ('quorum', 0), 30, 'an empty queue')
    finally:
        prod.kill()
        cluster.restart_node(c2)
        delete_queue(c1.url, tq)
