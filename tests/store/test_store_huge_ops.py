"""Huge operations in steps (issue 16, point 3): purge and delete of a big
queue, deletion of a vhost with many queues.

A purge of more than a few thousand messages is sealed on disk by one
record (a purge mark, doc/store-format.md) and its acks are written in
slices, one per loop turn (src/drain.c); a deletion is sealed by its
"queue gone" record.  So: purge-ok comes before the disk space is back,
other clients are served while it comes back, and a kill -9 at any moment
brings none of the purged messages back (the promise: they do not come
back), while the unacked ones, which a purge does not take, come back
whole, marked redelivered.
"""
import os
import subprocess
import threading
import time

import pika
import pytest

from store_helpers import (BIN, check_store, connect, need_control, publish, queue_depth)

PERF = os.path.join(BIN, 'warren-perf')


def fill_fast(broker, queue, n):
    """n persistent 16-byte messages, confirmed, with bin/warren-perf."""
    subprocess.run([PERF, '--url', broker.url, '--quiet', '--producers', '1', '--consumers', '0',
                    '--count', str(n), '--persistent', '--confirm', '500', '--queue', queue, '--durable'],
                   check=True, capture_output=True, timeout=120)


def seg_files(broker):
    d = os.path.join(broker.data_dir, 'msgs')
    return sorted(f for f in os.listdir(d) if f.endswith('.seg'))


def live_messages(out):
    """The total of live messages in warren-check-store's summary line."""
    for line in out.splitlines():
        if 'live messages' in line:
            return int(line.split(' live messages')[0].rsplit(' ', 1)[1])
    raise AssertionError('no summary in:\n' + out)


def held_and_requeued(broker, q):
    """5 messages held unacked by a consumer (c1), 3 others got and
    requeued (ready again, redelivered, with a "delivered" mark on disk)."""
    c1 = connect(broker)
    ch1 = c1.channel()
    held = []
    for _ in range(5):
        m, _p, body = ch1.basic_get(q, auto_ack=False)
        held.append(body)
    c2 = connect(broker)
    ch2 = c2.channel()
    for _ in range(3):
        m, _p, _b = ch2.basic_get(q, auto_ack=False)
        ch2.basic_nack(m.delivery_tag, requeue=True)
    ch2.basic_qos(prefetch_count=0)  # a round trip: the nacks are in
    c2.close()
    return c1, ch1, held


def test_purge_kill9_purged_stay_purged_unacked_come_back(broker_factory, monkeypatch, qname):
    """kill -9 right after the purge mark is on disk, before any ack of the
    purge is written: the restart has only the 5 unacked messages (back,
    redelivered), not one of the purged ones; the 3 requeued (ready,
    redelivered) ones are purged too; check-store agrees."""
    monkeypatch.setenv('WARREN_TEST_CRASH_AT', 'after-purge-mark')
    broker = broker_factory()
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    n = 20000
    fill_fast(broker, qname, n)
    c1, ch1, held = held_and_requeued(broker, qname)
    try:
        ch.queue_purge(qname)
    except Exception:
        pass  # the broker died at the crash point, before or after purge-ok
    try:
        broker.proc.wait(10)
    except subprocess.TimeoutExpired:
        raise AssertionError('the broker did not reach after-purge-mark:\n' + broker.log_text()[-3000:])
    broker.proc = None
    assert 'WARREN_TEST_CRASH_AT=after-purge-mark' in broker.log_text()
    rc, out = check_store(broker.data_dir)
    assert rc == 0 and 'PROBLEM' not in out, out
    assert live_messages(out) == 5, out
    monkeypatch.delenv('WARREN_TEST_CRASH_AT')
    broker.start()
    c = connect(broker)
    ch = c.channel()
    got = []
    while True:
        m, _p, body = ch.basic_get(qname, auto_ack=True)
        if m is None:
            break
        got.append((body, m.redelivered))
    assert sorted(got) == sorted((b, True) for b in held)
    c.close()
    # and the mark survives the rewrite of the definitions at each start
    broker.restart()
    c = connect(broker)
    assert queue_depth(c.channel(), qname) == 0
    c.close()
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0 and live_messages(out) == 0, out


def test_purge_answers_before_the_space_is_back_and_others_are_served(broker, qname):
    """A purge of 500,000 messages (3 segments): purge-ok comes while the
    full segments are still there (the acks are written in slices after
    it), another client's round trips are answered while they go, and then
    the disk space comes back.  Before: purge-ok came after every ack was
    written and every full segment deleted, the other client waiting."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    ch.queue_declare(qname + '-ping')
    fill_fast(broker, qname, 500000)
    assert len(seg_files(broker)) >= 3
    other = connect(broker)
    och = other.channel()
    done = threading.Event()
    rtts = []

    def ping():
        while not done.is_set():
            t0 = time.monotonic()
            och.queue_declare(qname + '-ping', passive=True)
            rtts.append((t0, time.monotonic()))

    t = threading.Thread(target=ping)
    t.start()
    try:
        time.sleep(0.2)
        ok = ch.queue_purge(qname)
        segs_at_ok = seg_files(broker)
        t_ok = time.monotonic()
        deadline = time.monotonic() + 60
        # the full segments go with their last ack; the current one, once
        # idle, at the next tick
        while len(seg_files(broker)) > 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        t_back = time.monotonic()
    finally:
        done.set()
        t.join()
    assert ok.method.message_count == 500000
    assert len(segs_at_ok) >= 2, 'purge-ok came after the disk space was back: it was not done in steps'
    assert len(seg_files(broker)) <= 1, 'the disk space did not come back'
    assert queue_depth(ch, qname) == 0
    served = [r for r in rtts if t_ok <= r[0] and r[1] <= t_back]
    assert served, 'no round trip of another client was answered while the purge was written'
    c.close()
    other.close()
    broker.restart()
    c = connect(broker)
    assert queue_depth(c.channel(), qname) == 0
    c.close()


def test_delete_big_queue_in_steps_and_kill9(broker, qname):
    """queue.delete of 100,000 messages: delete-ok at once, the space comes
    back in slices; a kill -9 right after delete-ok brings nothing back."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    fill_fast(broker, qname, 100000)
    ok = ch.queue_delete(qname)
    assert ok.method.message_count == 100000
    broker.kill()
    rc, out = check_store(broker.data_dir)
    assert rc == 0 and live_messages(out) == 0, out
    broker.start()
    c = connect(broker)
    ch = c.channel()
    try:
        ch.queue_declare(qname, passive=True)
        raise AssertionError('the deleted queue came back')
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404
    c.close()


def test_small_purge_and_purge_then_publish(broker, qname):
    """Below the slicing threshold a purge is done at once as before; and
    messages published after a sliced purge are kept by a restart (the
    mark covers only what was there)."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    publish(ch, qname, [b'small-%d' % i for i in range(100)])
    assert ch.queue_purge(qname).method.message_count == 100
    fill_fast(broker, qname, 10000)
    assert ch.queue_purge(qname).method.message_count == 10000
    publish(ch, qname, [b'after-%d' % i for i in range(10)])
    ch.confirm_delivery()
    ch.basic_publish('', qname, b'after-10', pika.BasicProperties(delivery_mode=2))
    c.close()
    broker.kill()
    broker.start()
    c = connect(broker)
    ch = c.channel()
    got = []
    while True:
        m, _p, body = ch.basic_get(qname, auto_ack=True)
        if m is None:
            break
        got.append(body)
    assert got == [b'after-%d' % i for i in range(11)]
    c.close()


def http(port, verb, path, body=None):
    import base64
    import json
    import urllib.error
    import urllib.request
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path), method=verb,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    req.add_header('content-type', 'application/json')
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_delete_vhost_of_many_queues_then_kill9(broker_factory):
    """A vhost with 2,000 durable queues (bound, each with a persistent
    message) is deleted: 204 at once, one record seals it (before: a record
    and an fdatasync per queue, 18.9 s for 10,000 with every client
    waiting), the queues go in slices; a kill -9 right after brings back
    neither the vhost nor a queue nor a message; check-store agrees; and a
    vhost made again under the name is empty."""
    broker = broker_factory(management=True)
    need_control(broker)
    port = broker.mgmt_port
    assert http(port, 'PUT', '/api/vhosts/big') == 201
    c = pika.BlockingConnection(pika.URLParameters(broker.url + 'big'))
    ch = c.channel()
    ch.confirm_delivery()
    n = 2000
    for i in range(n):
        ch.queue_declare('q%d' % i, durable=True)
        ch.queue_bind('q%d' % i, 'amq.direct', 'k%d' % i)
    for i in range(n):
        ch.basic_publish('amq.direct', 'k%d' % i, b'm', pika.BasicProperties(delivery_mode=2))
    c.close()
    other = connect(broker)
    och = other.channel()
    och.queue_declare('elsewhere', durable=True)
    och.confirm_delivery()
    och.basic_publish('', 'elsewhere', b'kept', pika.BasicProperties(delivery_mode=2))
    assert http(port, 'DELETE', '/api/vhosts/big') == 204
    assert http(port, 'GET', '/api/vhosts/big') == 404
    assert queue_depth(och, 'elsewhere') == 1   # the others are served
    other.close()
    # the deletion was answered first, its queues went after, in slices
    log = broker.log_text()
    deleted = [i for i, line in enumerate(log.splitlines()) if "deleted" in line and "queue 'q" in line]
    said = [i for i, line in enumerate(log.splitlines()) if "vhost 'big' deleted" in line]
    assert said and len(deleted) == n and said[0] < deleted[-1], (said, deleted[:3], deleted[-3:])
    broker.kill()
    rc, out = check_store(broker.data_dir)
    assert rc == 0 and 'PROBLEM' not in out, out
    assert '1 durable queues' in out and live_messages(out) == 1, out
    broker.start()
    assert http(port, 'GET', '/api/vhosts/big') == 404
    assert http(port, 'PUT', '/api/vhosts/big') == 201
    c = pika.BlockingConnection(pika.URLParameters(broker.url + 'big'))
    ch = c.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        ch.queue_declare('q7', passive=True)
    c.close()
    c = connect(broker)
    assert c.channel().basic_get('elsewhere', auto_ack=True)[2] == b'kept'
    c.close()


def test_declares_synced_once_a_turn_survive_kill9(broker_factory):
    """Durable declarations are written at once and synced once a loop
    turn, before the turn's replies leave (group commit: 84,000 declares
    a second pipelined, against 412 with an fdatasync each): every
    queue, binding and exchange whose -ok arrived (over AMQP, and over
    HTTP, which syncs before its reply) is there after a kill -9."""
    broker = broker_factory(management=True)
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.exchange_declare('gx', 'direct', durable=True)
    n = 300
    for i in range(n):
        ch.queue_declare('gq%d' % i, durable=True)
        ch.queue_bind('gq%d' % i, 'gx', 'k%d' % i)
    assert http(broker.mgmt_port, 'PUT', '/api/queues/%2F/http-q', {'durable': True}) == 201
    broker.kill()
    broker.start()
    c = connect(broker)
    ch = c.channel()
    ch.confirm_delivery()
    for i in range(n):
        ch.queue_declare('gq%d' % i, passive=True)
    ch.queue_declare('http-q', passive=True)
    # the bindings came back too: a message to each key reaches its queue
    for i in (0, n // 2, n - 1):
        ch.basic_publish('gx', 'k%d' % i, b'x', pika.BasicProperties(delivery_mode=2))
        assert queue_depth(ch, 'gq%d' % i) == 1
    c.close()


def test_purge_kill9_at_random_moments_of_the_drain(broker, qname):
    """kill -9 at random moments while a purge of 100,000 messages is
    being acked in slices (and once more with new messages published
    after it): the restart never has a purged message, always has the
    later ones, and check-store agrees with it."""
    import random
    need_control(broker)
    rnd = random.Random(16)
    kept = 0
    for round_ in range(3):
        c = connect(broker)
        ch = c.channel()
        ch.queue_declare(qname, durable=True)
        fill_fast(broker, qname, 100000)
        assert ch.queue_purge(qname).method.message_count == 100000 + kept  # the last round's too
        ch.confirm_delivery()
        for i in range(5):
            ch.basic_publish('', qname, b'after-%d-%d' % (round_, i), pika.BasicProperties(delivery_mode=2))
        kept = 5
        time.sleep(rnd.uniform(0, 0.05))
        broker.kill()
        rc, out = check_store(broker.data_dir)
        assert rc == 0 and 'PROBLEM' not in out, out
        assert live_messages(out) == kept, out
        broker.start()
        c = connect(broker)
        assert queue_depth(c.channel(), qname) == kept
        c.close()
