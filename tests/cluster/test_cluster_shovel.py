#!/usr/bin/python3
"""Moving a persistent backlog from warren to the cluster and back.

  1. N persistent messages, each with its own properties and headers, on a
     durable queue in warren;
  2. RabbitMQ's shovel plugin (rabbitmq_shovel, enabled on the cluster), a
     dynamic shovel with warren as its source and `ack-mode: on-confirm`
     (`src-delete-after: queue-length`: it moves the backlog and goes away),
     moves them into a quorum queue on the cluster: exactly N arrive, warren's
     queue ends empty (this is also RabbitMQ's Erlang AMQP client against
     warren);
  3. `warrenctl shovel` moves them back from the cluster into another queue in
     warren: the cluster's queue ends empty, and exactly N are there;
  4. `warrenctl shovel` moves them into the cluster once more (the direction
     of step 2, into a second quorum queue, so the two shovels' rates
     compare): warren ends empty, and every message is in the cluster once,
     its body, properties and headers as they were published.

`make test` runs this with a small N; as a script it moves a million
(`make cluster-shovel-1m`; figures in doc/benchmarks.md and doc/scaling.md):

    /usr/bin/python3 tests/cluster/test_cluster_shovel.py [--count 1000000]
"""
import json
import os
import subprocess
import sys
import time
import uuid

import pika
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WARRENCTL = os.path.join(ROOT, 'bin', 'warrenctl')
TEST_COUNT = int(os.environ.get('CLUSTER_SHOVEL_COUNT', '3000'))


def props(i):
    return pika.BasicProperties(
        content_type='application/json', content_encoding='utf-8', delivery_mode=2,
        priority=i % 10, correlation_id='corr-%d' % i, reply_to='replies',
        message_id='msg-%d' % i, timestamp=1700000000 + i, type='order.created',
        app_id='shop', headers={'i': i, 'tenant': 'acme', 'flag': i % 2 == 0,
                                'nested': {'a': 1, 'list': [1, 'two']}})


def body(i):
    return json.dumps({'order': i, 'pad': 'x' * (i % 50)}).encode()


def same_props(p, i):
    want = props(i)
    for f in ('content_type', 'content_encoding', 'delivery_mode', 'priority', 'correlation_id',
              'reply_to', 'message_id', 'timestamp', 'type', 'app_id'):
        if getattr(p, f) != getattr(want, f):
            return '%s: %r != %r' % (f, getattr(p, f), getattr(want, f))
    h = dict(p.headers or {})
    if h != want.headers:
        return 'headers: %r != %r' % (h, want.headers)
    return None


def connect(url):
    return pika.BlockingConnection(pika.URLParameters(url))


def queue_count(url, queue):
    c = connect(url)
    try:
        return c.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        c.close()


def settled_count(url, queue, want, timeout=30):
    """The queue's count once it is `want`, or what it is after timeout: a
    quorum queue applies the acks it got through its Raft log, so its
    count can lag the acks by a moment after the client is done."""
    deadline = time.monotonic() + timeout
    while True:
        n = queue_count(url, queue)
        if n == want or time.monotonic() > deadline:
            return n
        time.sleep(0.1)


def check_all(url, queue, n):
    """Consume every message of queue: each of 0..n-1 once, intact."""
    c = connect(url)
    ch = c.channel()
    ch.basic_qos(prefetch_count=1000)
    seen = bytearray(n)
    bad = []
    got = 0
    for method, p, b in ch.consume(queue, inactivity_timeout=10):
        if method is None:
            break
        i = (p.headers or {}).get('i')
        if not isinstance(i, int) or not 0 <= i < n:
            bad.append('unexpected message %r' % (p,))
        else:
            seen[i] += 1
            why = same_props(p, i) or (None if b == body(i) else 'body differs')
            if why and len(bad) < 5:
                bad.append('message %d: %s' % (i, why))
        got += 1
        if got % 1000 == 0 or got == n:
            ch.basic_ack(method.delivery_tag, multiple=True)
        if got == n:
            break
    ch.cancel()
    c.close()
    missing = sum(1 for s in seen if s == 0)
    twice = sum(1 for s in seen if s > 1)
    return got, missing, twice, bad


def rabbit_shovel(cluster, name, src_url, queue, dst_queue):
    """A dynamic shovel on c1 from warren into the cluster; returns seconds
    until it moved the backlog and removed itself."""
    c1 = cluster.nodes[0]
    # RabbitMQ's URIs: amqp://host:port/ is the vhost "" (refused), the
    # vhost "/" is written %2F (or no path at all)
    if src_url.endswith('/'):
        src_url += '%2F'
    value = {'src-protocol': 'amqp091', 'src-uri': src_url, 'src-queue': queue,
             'dest-protocol': 'amqp091', 'dest-uri': 'amqp://', 'dest-queue': dst_queue,
             'ack-mode': 'on-confirm', 'src-delete-after': 'queue-length'}
    t0 = time.monotonic()
    c1.ctl('set_parameter', 'shovel', name, json.dumps(value))
    deadline = t0 + 3600
    while True:
        r = c1.ctl('list_parameters', '-q', '--no-table-headers', check=False)
        if name not in r.stdout:
            return time.monotonic() - t0
        if time.monotonic() > deadline:
            raise AssertionError('shovel %s still there after an hour' % name)
        time.sleep(0.2)


def warrenctl_shovel(src_url, src_q, dst_url, dst_q):
    t0 = time.monotonic()
    r = subprocess.run([WARRENCTL, 'shovel', src_url, src_q, dst_url, dst_q],
                       capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r
    return time.monotonic() - t0, r.stdout


def round_trip(warren_url, cluster, n, log=print):
    tag = uuid.uuid4().hex[:8]
    q_src, q_cluster, q_back = 'backlog-' + tag, 'moved-' + tag, 'back-' + tag
    q_again = 'again-' + tag
    c1url = cluster.nodes[0].url
    figures = {'count': n}
    c = connect(c1url)
    for q in (q_cluster, q_again):
        c.channel().queue_declare(q, durable=True, arguments={'x-queue-type': 'quorum'})
    c.close()
    try:
        t0 = time.monotonic()
        publish(warren_url, q_src, n)
        figures['publish_s'] = time.monotonic() - t0
        log('published %d persistent messages to warren in %.1f s' % (n, figures['publish_s']))

        secs = rabbit_shovel(cluster, 'from-warren-' + tag, warren_url, q_src, q_cluster)
        figures['rabbit_shovel_s'] = secs
        log('rabbitmq_shovel warren -> cluster (quorum): %d in %.1f s, %.0f msg/s'
            % (n, secs, n / secs))
        assert queue_count(warren_url, q_src) == 0
        assert settled_count(c1url, q_cluster, n) == n

        c = connect(warren_url)
        c.channel().queue_declare(q_back, durable=True)
        c.close()
        secs, out = warrenctl_shovel(c1url, q_cluster, warren_url, q_back)
        figures['warrenctl_shovel_s'] = secs
        log('warrenctl shovel cluster -> warren: %d in %.1f s, %.0f msg/s; it said: %s'
            % (n, secs, n / secs, out.strip().splitlines()[-1]))
        assert settled_count(c1url, q_cluster, 0) == 0
        assert queue_count(warren_url, q_back) == n

        secs, out = warrenctl_shovel(warren_url, q_back, c1url, q_again)
        figures['warrenctl_shovel_to_cluster_s'] = secs
        log('warrenctl shovel warren -> cluster (quorum): %d in %.1f s, %.0f msg/s'
            % (n, secs, n / secs))
        assert queue_count(warren_url, q_back) == 0
        assert settled_count(c1url, q_again, n) == n

        got, missing, twice, bad = check_all(c1url, q_again, n)
        figures.update(got=got, missing=missing, twice=twice)
        log('in the cluster after three moves: %d messages, %d missing, %d twice, %d damaged'
            % (got, missing, twice, len(bad)))
        assert (got, missing, twice, bad) == (n, 0, 0, [])
        return figures
    finally:
        c = connect(c1url)
        for q in (q_cluster, q_again):
            c.channel().queue_delete(q)
        c.close()


def publish(url, queue, n):
    """n persistent messages on a durable queue, confirmed by the broker."""
    c = connect(url)
    ch = c.channel()
    ch.queue_declare(queue, durable=True)
    ch.tx_select()     # a commit per batch: durable before it returns
    for i in range(n):
        ch.basic_publish('', queue, body(i), props(i))
        if i % 2000 == 1999:
            ch.tx_commit()
    ch.tx_commit()
    c.close()


@pytest.mark.skipif(not os.path.exists(WARRENCTL), reason='bin/warrenctl is not built')
def test_backlog_to_the_cluster_with_rabbitmq_shovel_and_back_with_warrenctl(broker, cluster):
    broker.require_control()
    f = round_trip(broker.url, cluster, TEST_COUNT)
    assert f['missing'] == 0 and f['twice'] == 0


def test_warrenctl_shovel_refuses_a_missing_destination_queue(broker):
    c = connect(broker.url)
    c.channel().queue_declare('src-' + uuid.uuid4().hex[:6], durable=True)
    c.close()
    r = subprocess.run([WARRENCTL, 'shovel', broker.url, 'nope-src', broker.url, 'nope-dst'],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 65, r
    assert "source broker refused the passive declare of queue 'nope-src': 404 NOT_FOUND" in r.stderr


def main():
    import argparse
    import tempfile
    sys.path.insert(0, HERE)
    import rmq_cluster
    sys.path.insert(0, os.path.join(ROOT, 'tests'))
    from conftest import free_port, wait_port
    ap = argparse.ArgumentParser(description='move a backlog warren -> cluster -> warren')
    ap.add_argument('--count', type=int, default=1000000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='warren-shovel-')
    port = free_port()
    log = open(os.path.join(tmp, 'warren.log'), 'w')
    w = subprocess.Popen([os.path.join(ROOT, 'bin', 'warren'), '--bind', '127.0.0.1', '--port',
                          str(port), '--data-dir', os.path.join(tmp, 'data'),
                          '--management-port', '0', '--prometheus-port', '0'],
                         stdout=log, stderr=subprocess.STDOUT)
    cluster = rmq_cluster.Cluster(os.path.join(tmp, 'cluster'), amqp_base=None)
    try:
        wait_port('127.0.0.1', port, proc=w)
        cluster.start()
        print('cluster up in %.1f s' % cluster.start_seconds, flush=True)
        f = round_trip('amqp://guest:guest@127.0.0.1:%d/' % port, cluster, a.count,
                       log=lambda s: print(s, flush=True))
        print(json.dumps(f))
    finally:
        cluster.stop()
        w.terminate()
        w.wait(60)
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
