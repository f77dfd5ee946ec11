"""Issue 15, point 8: redrive, in the HTTP API and warrenctl (warren only:
RabbitMQ 3.10 has no such endpoint, and answers 405 to the POST).

POST /api/queues/{vhost}/{queue}/redrive {destination?, count?, rate?}
moves a queue's messages (a dead-letter queue's) back to the queue each
came from (the latest x-death entry) or to a named one, at-least-once
(published to the destination and synced there before acked in the
source) and rate-limited; GET shows the job, DELETE cancels it.  The
messages are made as a user makes them: pika consumers reject them
(requeue=false) into a dead-letter exchange.  Browse of ready and unacked
messages is tested in test_http_list.py.
"""
import json
import os
import subprocess
import time

import pika
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WARRENCTL = os.environ.get('WARRENCTL_BIN', os.path.join(ROOT, 'bin', 'warrenctl'))
PERSISTENT = pika.BasicProperties(delivery_mode=2)


def channel_of(b):
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.confirm_delivery()
    return conn, ch


def dead_letter_setup(ch, works, dlq='dlq'):
    """Work queues that dead-letter into dlq (through exchange dlx)."""
    ch.exchange_declare('dlx', 'fanout', durable=True)
    ch.queue_declare(dlq, durable=True)
    ch.queue_bind(dlq, 'dlx')
    for w in works:
        ch.queue_declare(w, durable=True, arguments={'x-dead-letter-exchange': 'dlx'})


def reject_all(ch, queue, n):
    """A worker that fails every task: reject, requeue=false."""
    for _ in range(n):
        m, _p, _b = ch.basic_get(queue)
        assert m is not None
        ch.basic_reject(m.delivery_tag, requeue=False)


def drain(ch, queue):
    """Every ready message of queue: [(body, redelivered, headers)], acked."""
    out = []
    while True:
        m, p, body = ch.basic_get(queue)
        if m is None:
            return out
        out.append((body.decode(), m.redelivered, p.headers or {}))
        ch.basic_ack(m.delivery_tag)


def count(ch, queue):
    return ch.queue_declare(queue, passive=True).method.message_count


def redrive(b, queue, body=None):
    return b.api.request('POST', '/api/queues/%2F/' + queue + '/redrive', body=json.dumps(body or {}),
                         headers={'Content-Type': 'application/json'})


def wait_done(b, queue, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = b.api.get('/api/queues/%2F/' + queue + '/redrive')
        assert r.status == 200, r
        job = r.json()
        if job['state'] != 'running' and job['in_flight'] == 0:
            return job
        time.sleep(0.05)
    raise AssertionError('redrive of %s still running after %ss: %s' % (queue, timeout, job))


def test_redrive_to_x_death_queues(mgmt):
    conn, ch = channel_of(mgmt)
    dead_letter_setup(ch, ['work-a', 'work-b'])
    for i in range(5):
        ch.basic_publish('', 'work-a', 'a%d' % i, PERSISTENT)
        ch.basic_publish('', 'work-b', 'b%d' % i, PERSISTENT)
    reject_all(ch, 'work-a', 5)
    reject_all(ch, 'work-b', 5)
    assert count(ch, 'dlq') == 10

    r = redrive(mgmt, 'dlq')
    assert r.status == 201, r
    assert r.json()['destination'] is None and r.json()['count'] == 10
    job = wait_done(mgmt, 'dlq')
    assert job['state'] == 'done' and job['moved'] == 10 and job['reason'] == ''

    assert count(ch, 'dlq') == 0
    a, bq = drain(ch, 'work-a'), drain(ch, 'work-b')
    assert [m[0] for m in a] == ['a%d' % i for i in range(5)]  # in order, each once
    assert [m[0] for m in bq] == ['b%d' % i for i in range(5)]
    # the history stays with the message: it died once in its queue
    assert a[0][2]['x-death'][0]['queue'] == 'work-a' and a[0][2]['x-death'][0]['reason'] == 'rejected'
    conn.close()


def test_redrive_to_named_queue_count_and_rate(mgmt):
    conn, ch = channel_of(mgmt)
    ch.queue_declare('parked', durable=True)
    ch.queue_declare('retry', durable=True)
    for i in range(25):
        ch.basic_publish('', 'parked', str(i), PERSISTENT)

    # count: only the first 5
    r = redrive(mgmt, 'parked', {'destination': 'retry', 'count': 5})
    assert r.status == 201, r
    job = wait_done(mgmt, 'parked')
    assert (job['state'], job['moved'], job['destination']) == ('done', 5, 'retry')
    assert count(ch, 'retry') == 5 and count(ch, 'parked') == 20

    # rate: 20 messages at 10 a second cannot take less than ~2 s
    t0 = time.time()
    r = redrive(mgmt, 'parked', {'destination': 'retry', 'rate': 10})
    assert r.status == 201 and r.json()['rate'] == 10
    job = wait_done(mgmt, 'parked')
    elapsed = time.time() - t0
    assert job['moved'] == 20 and elapsed >= 1.5, (job, elapsed)
    assert [m[0] for m in drain(ch, 'retry')] == [str(i) for i in range(25)]
    conn.close()


def test_redrive_refusals(mgmt):
    conn, ch = channel_of(mgmt)
    ch.queue_declare('src', durable=True)
    ch.basic_publish('', 'src', 'no history', PERSISTENT)

    r = redrive(mgmt, 'nosuch')
    assert r.status == 404 and "no queue 'nosuch'" in r.json()['reason']
    r = redrive(mgmt, 'src', {'destination': 'nowhere'})
    assert r.status == 404 and "no queue 'nowhere'" in r.json()['reason']
    r = redrive(mgmt, 'src', {'destination': 'src'})
    assert r.status == 400 and 'into itself' in r.json()['reason']
    for bad in ({'rate': 0}, {'rate': 'fast'}, {'count': -1}, {'destination': 5}):
        r = redrive(mgmt, 'src', bad)
        assert r.status == 400, (bad, r)
    assert mgmt.api.get('/api/queues/%2F/src/redrive').status == 404  # none ran
    assert mgmt.api.request('DELETE', '/api/queues/%2F/src/redrive').status == 404

    # a message without x-death, and no destination: the job stops and says
    # why; the message stays where it was
    r = redrive(mgmt, 'src')
    assert r.status == 201
    job = wait_done(mgmt, 'src')
    assert job['state'] == 'stopped' and job['moved'] == 0
    assert 'no x-death header' in job['reason']
    assert [m[0] for m in drain(ch, 'src')] == ['no history']
    conn.close()


def test_redrive_running_refuses_second_and_cancels(mgmt):
    conn, ch = channel_of(mgmt)
    ch.queue_declare('slow', durable=True)
    ch.queue_declare('dest', durable=True)
    for i in range(50):
        ch.basic_publish('', 'slow', str(i), PERSISTENT)
    assert redrive(mgmt, 'slow', {'destination': 'dest', 'rate': 5}).status == 201
    r = redrive(mgmt, 'slow', {'destination': 'dest'})
    assert r.status == 400 and 'is running' in r.json()['reason']
    time.sleep(0.5)
    assert mgmt.api.request('DELETE', '/api/queues/%2F/slow/redrive').status == 204
    job = wait_done(mgmt, 'slow')
    assert job['state'] == 'cancelled' and 0 < job['moved'] < 50
    assert count(ch, 'slow') + count(ch, 'dest') == 50  # nothing lost, nothing doubled
    conn.close()


def test_redrive_survives_kill_9_mid_move(mgmt):
    """kill -9 while messages move: after the restart every message is in
    the source or the destination, once, or in both with the source's copy
    marked redelivered (taken, not yet acked there)."""
    mgmt.require_control()
    n = 3000
    conn, ch = channel_of(mgmt)
    dead_letter_setup(ch, ['orders'], dlq='orders-dlq')
    for i in range(n):
        ch.basic_publish('', 'orders', 'm%d' % i, pika.BasicProperties(delivery_mode=2, message_id='m%d' % i))
    # the worker rejects them all at once (multiple nack, requeue=false)
    got = 0
    for m, _p, _b in ch.consume('orders', inactivity_timeout=5):
        assert m is not None
        got += 1
        if got == n:
            ch.basic_nack(m.delivery_tag, multiple=True, requeue=False)
            break
    ch.cancel()
    deadline = time.time() + 20
    while count(ch, 'orders-dlq') < n and time.time() < deadline:
        time.sleep(0.05)
    assert count(ch, 'orders-dlq') == n
    conn.close()

    assert redrive(mgmt, 'orders-dlq', {'rate': 2000}).status == 201
    deadline = time.time() + 20
    while True:  # kill it with some moved and some not
        job = mgmt.api.get('/api/queues/%2F/orders-dlq/redrive').json()
        if job['moved'] >= n // 4 or time.time() > deadline:
            break
        time.sleep(0.01)
    mgmt.kill()
    assert 0 < job['moved'] < n, job
    mgmt.start()

    conn, ch = channel_of(mgmt)
    src, dst = drain(ch, 'orders-dlq'), drain(ch, 'orders')
    seen_src = {body: red for body, red, _h in src}
    seen_dst = [body for body, _red, _h in dst]
    assert len(seen_src) == len(src) and len(set(seen_dst)) == len(seen_dst)  # once per queue
    assert set(seen_src) | set(seen_dst) == {'m%d' % i for i in range(n)}  # none lost
    both = set(seen_src) & set(seen_dst)
    assert all(seen_src[body] for body in both), 'a copy in both queues and the source one not redelivered'
    assert len(seen_dst) >= job['moved']
    conn.close()


def ctl(b, *args):
    return subprocess.run([WARRENCTL, '--url', 'http://127.0.0.1:%d' % b.mgmt_port] + list(args),
                          capture_output=True, text=True, timeout=60, env=dict(os.environ, HOME=str(b.tmp)))


def test_warrenctl_redrive(mgmt):
    conn, ch = channel_of(mgmt)
    dead_letter_setup(ch, ['jobs'])
    ch.queue_declare('elsewhere', durable=True)
    for i in range(4):
        ch.basic_publish('', 'jobs', 'j%d' % i, PERSISTENT)
    reject_all(ch, 'jobs', 4)

    r = ctl(mgmt, 'redrive', 'dlq', '--count', '1', '--to', 'elsewhere')
    assert r.returncode == 0, r
    assert "Moved 1 message from queue 'dlq' to queue 'elsewhere'" in r.stdout
    r = ctl(mgmt, 'redrive', 'dlq', '--rate', '100')
    assert r.returncode == 0, r
    assert "Moved 3 messages from queue 'dlq' to their x-death queues" in r.stdout
    assert [m[0] for m in drain(ch, 'jobs')] == ['j1', 'j2', 'j3']
    assert [m[0] for m in drain(ch, 'elsewhere')] == ['j0']

    r = ctl(mgmt, 'redrive', 'nosuch')
    assert r.returncode == 65 and "no queue 'nosuch'" in r.stderr, r
    ch.basic_publish('', 'dlq', 'orphan', PERSISTENT)
    r = ctl(mgmt, 'redrive', 'dlq')
    assert r.returncode == 65 and 'no x-death header' in r.stderr, r
    r = ctl(mgmt, 'redrive', 'dlq', '--rate', '0')
    assert r.returncode == 64, r
    conn.close()


def test_redriven_message_arrives_now(mgmt):
    """The destination's x-message-ttl counts from the move (as a shovel
    republishes), not from the first publish: a message that waited longer
    than that TTL in the DLQ is not expired on arrival."""
    conn, ch = channel_of(mgmt)
    ch.queue_declare('retry-ttl', durable=True, arguments={'x-message-ttl': 1000})
    ch.queue_declare('parked-ttl', durable=True)
    ch.basic_publish('', 'parked-ttl', 'old', PERSISTENT)
    time.sleep(1.3)
    assert redrive(mgmt, 'parked-ttl', {'destination': 'retry-ttl'}).status == 201
    assert wait_done(mgmt, 'parked-ttl')['moved'] == 1
    assert [m[0] for m in drain(ch, 'retry-ttl')] == ['old']
    conn.close()


def test_broker_stopped_mid_redrive_loses_nothing(mgmt):
    """A clean stop while a slow redrive runs: the job ends with the broker;
    what it held in flight goes back to the source (never acked there), so
    after the restart every message is in one of the two queues, and one
    in both only with the source's copy redelivered (at least once)."""
    mgmt.require_control()
    conn, ch = channel_of(mgmt)
    ch.queue_declare('slow-src', durable=True)
    ch.queue_declare('slow-dst', durable=True)
    for i in range(30):
        ch.basic_publish('', 'slow-src', 's%d' % i, PERSISTENT)
    conn.close()
    assert redrive(mgmt, 'slow-src', {'destination': 'slow-dst', 'rate': 10}).status == 201
    time.sleep(0.6)
    mgmt.restart()
    conn, ch = channel_of(mgmt)
    src, dst = drain(ch, 'slow-src'), drain(ch, 'slow-dst')
    in_src = {body: red for body, red, _h in src}
    in_dst = [m[0] for m in dst]
    assert len(in_src) == len(src) and len(set(in_dst)) == len(in_dst)
    assert set(in_src) | set(in_dst) == {'s%d' % i for i in range(30)}, (src, dst)
    assert all(in_src[b] for b in set(in_src) & set(in_dst)), (src, dst)
    assert 0 < len(in_dst) < 30
    assert mgmt.api.get('/api/queues/%2F/slow-src/redrive').status == 404  # jobs do not outlive the broker
    conn.close()
