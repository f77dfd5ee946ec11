"""The statistics API (src/stats.c) under real pika traffic.

There is no HTTP API yet: SIGUSR1 makes the broker log every object's
statistics, one `stats <kind> key=value ...` line each, ending with
`stats end` (stats_log).  These tests drive traffic with pika, ask for a
dump and check the numbers: counters bumped where the events happen, the
unacked and ready gauges, the ages of the oldest ready and oldest unacked
messages (a body on disk included, after a restart), connection bytes and
the client's product.  warren only: RabbitMQ has no such dump (its numbers
are in the management API, issue 13).
"""
import os
import signal
import time

import pika
import pytest

from helpers import wait_for


def dump(broker):
    """Ask for a dump; return {kind: [dict, ...]} of the newest one."""
    broker.require_control()
    before = broker.log_text().count('stats end')
    os.kill(broker.pid, signal.SIGUSR1)
    wait_for(lambda: broker.log_text().count('stats end') > before, what='the stats dump')
    text = broker.log_text()
    lines = text[:text.rindex('stats end')].split('\n')
    start = max(i for i, l in enumerate(lines) if 'stats end' in l) + 1 if before else 0
    out = {}
    for line in lines[start:]:
        if ' stats ' not in line:
            continue
        words = line.split(' stats ', 1)[1].split()
        kind, fields = words[0], dict(w.split('=', 1) for w in words[1:] if '=' in w)
        out.setdefault(kind, []).append(fields)
    return out


def one(d, kind, **match):
    found = [x for x in d.get(kind, []) if all(x.get(k) == str(v) for k, v in match.items())]
    assert len(found) == 1, (kind, match, d.get(kind))
    return found[0]


def test_counters_gauges_and_ages_under_pika_traffic(broker, amqp):
    q = amqp.name('stats')
    pub = amqp.channel()
    pub.queue_declare(q)
    t_publish = time.monotonic()
    pub.confirm_delivery()
    for i in range(10):
        pub.basic_publish('', q, b'body%d' % i)
    pub.basic_publish('', 'no-such-queue', b'lost')
    with pytest.raises(pika.exceptions.UnroutableError):
        pub.basic_publish('', 'no-such-queue', b'back', mandatory=True)
    pub.queue_declare(q, passive=True)  # a round trip: the publishes are in

    # a consumer with prefetch 3 that acks its first delivery: it holds 3
    cconn = amqp.connect()
    cch = cconn.channel()
    cch.basic_qos(prefetch_count=3)
    got = []
    cch.basic_consume(q, lambda ch, m, p, b: got.append(m), consumer_tag='stats-worker')
    wait_for(lambda: len(got) == 3, conn=cconn, what='3 deliveries')
    t_first_delivery = time.monotonic()
    cch.basic_ack(got[0].delivery_tag)
    wait_for(lambda: len(got) == 4, conn=cconn, what='a 4th delivery after the ack')

    # basic.get, nack with requeue, get again: one redelivery, held by get
    gch = amqp.channel()
    m1, _, _ = gch.basic_get(q)
    assert m1 and not m1.redelivered
    gch.basic_nack(m1.delivery_tag, requeue=True)
    m2, _, _ = gch.basic_get(q)
    assert m2 and m2.redelivered
    time.sleep(0.3)

    d = dump(broker)
    elapsed_delivery = (time.monotonic() - t_first_delivery) * 1000
    elapsed_publish = (time.monotonic() - t_publish) * 1000
    s = one(d, 'queue', name=q)
    assert int(s['ready']) == 5
    assert int(s['unacked']) == 4
    assert int(s['consumers']) == 1
    assert int(s['publish']) == 10
    assert int(s['deliver_get']) == 4 + 2
    assert int(s['deliver']) == 4 and int(s['deliver_no_ack']) == 0
    assert int(s['get']) == 2 and int(s['get_no_ack']) == 0
    assert int(s['ack']) == 1
    assert int(s['redeliver']) == 1
    assert int(s['ready_bytes']) == 5 * 5
    assert int(s['unacked_bytes']) == 4 * 5
    # ages: at least the time waited, at most the time since it began
    assert 250 <= int(s['oldest_unacked_ms']) <= elapsed_delivery + 100
    assert 250 <= int(s['oldest_ready_ms']) <= elapsed_publish + 100

    x = one(d, 'exchange', name='-')
    assert int(x['publish_in']) == 12
    assert int(x['publish_out']) == 10
    c = one(d, 'channel', consumers=1)
    assert (int(c['prefetch']), int(c['unacked']), int(c['deliver']), int(c['ack'])) == (3, 3, 4, 1)
    g = one(d, 'channel', get=2)
    assert (int(g['unacked']), int(g['redeliver'])) == (1, 1)
    k = one(d, 'consumer', tag='stats-worker')
    assert (k['queue'], k['prefetch'], k['ack_required'], k['unacked']) == (q, '3', '1', '3')
    p = one(d, 'channel', confirm=1)
    assert (int(p['publish']), int(p['confirmed']), int(p['unconfirmed'])) == (12, 12, 0)
    for conn in d['connection']:
        assert conn['local'] == '127.0.0.1:%d' % broker.port
        assert conn['user'] == 'guest' and conn['state'] == 'running'
        assert conn['product'] == 'Pika_Python_Client_Library'
        assert int(conn['recv_oct']) > 0 and int(conn['send_oct']) > 0
    t = d['totals'][0]
    assert (int(t['queues']), int(t['consumers']), int(t['ready']), int(t['unacked'])) == (1, 1, 5, 4)
    assert (int(t['received']), int(t['routed']), int(t['unroutable'])) == (12, 10, 2)
    assert (int(t['returned']), int(t['confirmed'])) == (1, 12)
    assert int(t['connections']) == len(d['connection']) == 3

    # everything acked: no unacked age any more
    gch.basic_ack(m2.delivery_tag)
    gch.basic_qos(prefetch_count=0)  # a round trip: the ack is in

    def drained():
        cch.basic_ack(0, multiple=True)
        cconn.process_data_events(time_limit=0.02)
        return len(got) == 4 + 5
    wait_for(drained, what='the rest of the backlog')
    cch.basic_ack(0, multiple=True)
    cch.basic_qos(prefetch_count=3)
    s = one(dump(broker), 'queue', name=q)
    assert (int(s['ready']), int(s['unacked']), int(s['oldest_unacked_ms']), int(s['oldest_ready_ms'])) == \
        (0, 0, -1, -1)
    assert int(s['ack']) == 10


def test_age_of_a_message_whose_body_is_on_disk(broker, amqp):
    """Past the first 1024 of a queue a persistent message is only on disk,
    and after a restart every one is: the age then comes from the seq
    clock, which is never younger than the truth."""
    q = amqp.name('stats-disk')
    ch = amqp.channel()
    ch.queue_declare(q, durable=True)
    props = pika.BasicProperties(delivery_mode=2)
    t_publish = time.monotonic()
    for i in range(1100):
        ch.basic_publish('', q, b'x' * 10, props)
    ch.queue_declare(q, passive=True)
    time.sleep(1.5)
    # take the in-memory head away: the head is now a body on disk
    for i in range(1050):
        m, _, _ = ch.basic_get(q, auto_ack=True)
        assert m
    s = one(dump(broker), 'queue', name=q)
    assert int(s['ready']) == 50
    elapsed = (time.monotonic() - t_publish) * 1000
    assert 1400 <= int(s['oldest_ready_ms']) <= elapsed + 1100

    amqp.close()
    broker.restart()
    s = one(dump(broker), 'queue', name=q)
    elapsed = (time.monotonic() - t_publish) * 1000
    assert int(s['ready']) == 50
    assert 1400 <= int(s['oldest_ready_ms']) <= elapsed + 1100
