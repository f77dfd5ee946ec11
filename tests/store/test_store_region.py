"""A durable queue's backlog beyond its RAM window stays on disk (issue 16
point 1, src/queue_region.c, src/store/scan.c).

The window is made small (WARREN_QUEUE_WINDOW=64), so a backlog of a few
thousand messages is mostly "region": counted, not held, and paged in from
the segments as consumers approach it.  Everything a client can see must be
as if it were all in RAM: order, counts, redelivered flags and delivery
counts across restarts and crashes, purge and delete, x-max-length, a
per-message TTL deep in the backlog, browse, compaction; and
warren-check-store agrees with the files.
"""
import base64
import json
import os
import subprocess
import time
import urllib.request

import pika
import pytest

from store_helpers import (alarm_seconds, BIN, ConfirmPublisher, body_id, check_store, connect,  # noqa: F401
                           consume_all, make_body, need_control, queue_depth, release_bin, rss_kib, segment_files)

WINDOW = 64
N = 3000
BIG = 16000      # 3,000 of them fill three segments: the last ones cold (checkpoints)


@pytest.fixture
def small_window(monkeypatch):
    monkeypatch.setenv('WARREN_QUEUE_WINDOW', str(WINDOW))


def fill(broker, q, n=N, start=0, arguments=None, prefix='m', size=16, persistent=True):
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(q, arguments=arguments)
    pub.publish_all(q, [make_body(prefix, i, size) for i in range(start, start + n)], window=300,
                    persistent=persistent, timeout=60)
    nacked = list(pub.nacked)
    pub.close()
    return nacked


def ids(got):
    return [body_id(b)[1] for b, _r in got]


def depth(broker, q):
    c = connect(broker)
    try:
        return queue_depth(c.channel(), q)
    finally:
        c.close()


def drain_ids(broker, q, expect=None):
    c = connect(broker)
    try:
        return consume_all(c.channel(), q, expect=expect, prefetch=200, idle=1.0)
    finally:
        c.close()


def drain_counted(broker, q, n, idle):
    """Consume and ack n messages of q: [(id, redelivered)] and their
    x-delivery-count headers, in delivery order."""
    c = connect(broker)
    ch = c.channel()
    got, counts = [], []
    ch.basic_qos(prefetch_count=200)
    for m, p, body in ch.consume(q, inactivity_timeout=idle):
        if m is None:
            break
        got.append((body_id(body)[1], m.redelivered))
        counts.append((p.headers or {}).get('x-delivery-count'))
        ch.basic_ack(m.delivery_tag)
        if len(got) == n:
            break
    ch.cancel()
    c.close()
    return got, counts


def test_backlog_past_the_window_in_order_across_restarts(small_window, broker, qname):
    """3,000 messages, 64 in RAM: counted, consumed in order, requeues in
    the window, and the same after SIGTERM and after kill -9."""
    need_control(broker)
    assert fill(broker, qname, size=BIG) == []
    assert depth(broker, qname) == N
    c = connect(broker)
    ch = c.channel()
    # take 100 unacked, requeue them: back at the head, redelivered
    ch.basic_qos(prefetch_count=100)
    taken = []
    for m, _p, body in ch.consume(qname, inactivity_timeout=2):
        taken.append((m.delivery_tag, body_id(body)[1]))
        if len(taken) == 100:
            break
    ch.cancel()
    assert [i for _t, i in taken] == list(range(100))
    ch.basic_nack(taken[-1][0], multiple=True, requeue=True)
    assert queue_depth(ch, qname) == N
    got = consume_all(ch, qname, expect=500, prefetch=100)
    assert ids(got) == list(range(500))
    assert [r for _b, r in got] == [True] * 100 + [False] * 400
    c.close()
    broker.restart()
    assert depth(broker, qname) == N - 500
    got = drain_ids(broker, qname, expect=1000)
    # the first 100 were in the consumer's prefetch when it cancelled: redelivered
    assert ids(got) == list(range(500, 1500)) and not any(r for _b, r in got[100:])
    broker.kill()
    broker.start()
    assert depth(broker, qname) == N - 1500
    got = drain_ids(broker, qname)
    assert ids(got) == list(range(1500, N))
    assert depth(broker, qname) == 0
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out


def test_crash_keeps_redelivered_flags_and_delivery_counts(small_window, broker, qname):
    """Messages delivered and unacked deep past the window come back after
    kill -9 redelivered, with x-delivery-count, in order."""
    need_control(broker)
    args = {'x-delivery-limit': 10}
    assert fill(broker, qname, n=3000, arguments=args, size=BIG) == []
    c = connect(broker)
    ch = c.channel()
    held = []
    for _ in range(300):
        m, _p, body = ch.basic_get(qname, auto_ack=False)
        held.append(body_id(body)[1])
    assert held == list(range(300))
    c.process_data_events(0.3)   # the "delivered" marks are written every turn
    broker.kill()
    c = None
    broker.start()
    assert depth(broker, qname) == 3000
    got, counts = drain_counted(broker, qname, 3000, idle=2)
    assert [i for i, _r in got] == list(range(3000))
    assert [r for _i, r in got] == [True] * 300 + [False] * 2700
    assert counts == [1] * 300 + [None] * 2700
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out


def test_purge_and_delete_drop_the_region(small_window, broker, qname):
    """A purge counts the region and nothing of it comes back, neither to
    a consumer nor after kill -9; the disk space is given back; a deleted
    queue declared again is empty."""
    need_control(broker)
    assert fill(broker, qname, n=6000, size=200) == []
    c = connect(broker)
    ch = c.channel()
    assert ch.queue_purge(qname).method.message_count == 6000
    assert queue_depth(ch, qname) == 0
    c.close()
    assert fill(broker, qname, n=10, start=90000) == []
    got = drain_ids(broker, qname, expect=10)
    assert ids(got) == list(range(90000, 90010))
    # the drainer acked every record: the old segments go
    deadline = time.monotonic() + 10
    while len(segment_files(broker.data_dir)) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(segment_files(broker.data_dir)) <= 1
    assert fill(broker, qname, n=5000) == []
    broker.kill()
    broker.start()
    assert depth(broker, qname) == 5000
    c = connect(broker)
    ch = c.channel()
    assert ch.queue_delete(qname).method.message_count == 5000
    ch.queue_declare(qname, durable=True)
    assert queue_depth(ch, qname) == 0
    c.close()
    broker.kill()
    broker.start()
    assert depth(broker, qname) == 0
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out


def test_purge_mid_region_after_a_crash_with_redelivered(small_window, broker, qname):
    """Recovered redelivered messages deep in the region are covered by a
    later purge: none comes back after another crash."""
    need_control(broker)
    assert fill(broker, qname, n=2000) == []
    c = connect(broker)
    ch = c.channel()
    for _ in range(500):
        ch.basic_get(qname, auto_ack=False)
    c.process_data_events(0.3)
    broker.kill()
    broker.start()
    c = connect(broker)
    assert c.channel().queue_purge(qname).method.message_count == 2000
    c.close()
    broker.kill()
    broker.start()
    assert depth(broker, qname) == 0
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out


def test_max_length_counts_the_region(small_window, broker, qname):
    """x-max-length with drop-head keeps the newest; reject-publish refuses
    past the limit, counting what is on disk."""
    assert fill(broker, qname, n=3000, arguments={'x-max-length': 1000}) == []
    assert depth(broker, qname) == 1000
    assert ids(drain_ids(broker, qname, expect=1000)) == list(range(2000, 3000))
    q2 = qname + '-rej'
    nacked = fill(broker, q2, n=1500, arguments={'x-max-length': 1000, 'x-overflow': 'reject-publish'})
    assert len(nacked) == 500
    assert depth(broker, q2) == 1000
    assert ids(drain_ids(broker, q2, expect=1000)) == list(range(1000))
    # once there is room again, publishes are taken and come after
    assert fill(broker, q2, n=10, start=5000, arguments={'x-max-length': 1000, 'x-overflow': 'reject-publish'}) == []
    assert ids(drain_ids(broker, q2, expect=10)) == list(range(5000, 5010))


def test_message_ttl_deep_in_the_backlog(small_window, broker, qname):
    """A message with a short expiration behind thousands that never expire
    expires on time, dead-lettered, while it is still on disk."""
    dlq = qname + '-dlq'
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(dlq, durable=True)
    ch.queue_declare(qname, durable=True, arguments={'x-dead-letter-exchange': '',
                                                     'x-dead-letter-routing-key': dlq})
    ch.confirm_delivery()
    t_start = time.monotonic()
    for i in range(2000):
        props = pika.BasicProperties(delivery_mode=2, expiration='3000' if i == 1500 else None)
        ch.basic_publish('', qname, make_body('m', i, 16), props)
    depth_now = queue_depth(ch, qname)
    assert depth_now == 2000 or time.monotonic() - t_start > 2.5
    deadline = time.monotonic() + 8
    while queue_depth(ch, dlq) == 0 and time.monotonic() < deadline:
        c.process_data_events(0.1)
    assert queue_depth(ch, dlq) == 1 and queue_depth(ch, qname) == 1999
    m, p, body = ch.basic_get(dlq, auto_ack=True)
    assert body_id(body)[1] == 1500 and p.headers['x-death'][0]['reason'] == 'expired'
    c.close()
    got = ids(drain_ids(broker, qname, expect=1999))
    assert got == [i for i in range(2000) if i != 1500]


def test_queue_ttl_expires_the_region_in_order(small_window, broker, qname):
    """x-message-ttl: the whole backlog, mostly on disk, expires."""
    assert fill(broker, qname, n=2000, arguments={'x-message-ttl': 300}) == []
    deadline = time.monotonic() + 5
    while depth(broker, qname) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert depth(broker, qname) == 0


def test_transient_messages_behind_the_region(small_window, broker, qname):
    """Transient messages published behind a region are paged out to join
    it: delivered in order; a restart keeps only the persistent ones."""
    need_control(broker)
    assert fill(broker, qname, n=1000) == []
    assert fill(broker, qname, n=500, start=1000, persistent=False) == []
    assert fill(broker, qname, n=500, start=1500) == []
    assert depth(broker, qname) == 2000
    got = drain_ids(broker, qname, expect=100)
    assert ids(got) == list(range(100))
    broker.restart()
    assert depth(broker, qname) == 1400
    got = drain_ids(broker, qname)
    assert ids(got) == list(range(100, 1000)) + list(range(1500, 2000))
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out


def test_browse_sees_past_the_window(small_window, broker_factory, qname):
    broker = broker_factory(management=True)
    assert fill(broker, qname, n=500) == []
    req = urllib.request.Request('http://127.0.0.1:%d/api/queues/%%2F/%s/messages?count=300' %
                                 (broker.mgmt_port, qname))
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    with urllib.request.urlopen(req, timeout=10) as r:
        msgs = json.loads(r.read())
    assert [int(m['payload'].split('|')[0].split('-')[1]) for m in msgs] == list(range(300))
    assert depth(broker, qname) == 500
    assert ids(drain_ids(broker, qname, expect=500)) == list(range(500))


def test_publishing_while_consuming_across_the_window_edge(small_window, broker, qname):
    """Publishing while consuming across the window's edge: every message
    once, in order for a single consumer."""
    assert fill(broker, qname, n=1000) == []
    c = connect(broker)
    ch = c.channel()
    ch.basic_qos(prefetch_count=50)
    got = []
    pub = ConfirmPublisher(broker.host, broker.port)
    nxt = 1000
    for m, _p, body in ch.consume(qname, inactivity_timeout=2):
        if m is None:
            break
        got.append(body_id(body)[1])
        ch.basic_ack(m.delivery_tag)
        if nxt < 3000 and len(got) % 10 == 0:
            pub.publish_all(qname, [make_body('m', i, 16) for i in range(nxt, nxt + 20)], window=20)
            nxt += 20
        if len(got) == 3000:
            break
    ch.cancel()
    pub.close()
    c.close()
    assert got == list(range(3000))


def wait_log(broker, text, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in broker.log_text():
            return
        time.sleep(0.05)
    raise AssertionError('no %r in the broker log after %.0fs:\n%s' % (text, timeout, broker.log_text()[-3000:]))


def test_compaction_moves_the_region_under_the_cursor(small_window, broker, qname):
    """The region's records sit in a segment that is compacted while the
    cursor is in its middle: every message is paged in once, in order, and
    the store checks clean after a kill -9."""
    need_control(broker)
    busy = qname + '-busy'
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    pub.declare(busy)
    n = 0
    for i in range(300):    # ~19.7 MB of busy messages fill the first segment
        pub.publish_all(qname, [make_body('m', k, 100) for k in range(n, n + 7)], window=50)
        n += 7
        pub.publish_all(busy, [make_body('busy', i, 64 * 1024)], window=50)
    assert not pub.nacked
    pub.close()
    assert len(segment_files(broker.data_dir)) >= 2
    first = drain_ids(broker, qname, expect=500)
    assert ids(first) == list(range(500))
    c = connect(broker)
    assert len(consume_all(c.channel(), busy, expect=300, prefetch=100)) == 300
    c.close()
    wait_log(broker, 'compacted')
    got = drain_ids(broker, qname, expect=1000)
    # the consumer's prefetch beyond 500 came back redelivered
    assert ids(got) == list(range(500, 1500))
    broker.kill()
    broker.start()
    got = drain_ids(broker, qname)
    assert ids(got) == list(range(1500, n))
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out


def test_backlog_costs_no_ram_per_message(release_bin, broker_factory):
    """400,000 persistent 16-byte messages in one durable queue (the default
    window): RSS grows by a few MB at most, where an entry per message in
    RAM took 40 bytes each (16 MB)."""
    broker = broker_factory()
    need_control(broker)
    perf = os.path.join(BIN, 'warren-perf')
    cmd = [perf, '--url', broker.url, '--quiet', '--producers', '1', '--consumers', '0', '--count', '1000',
           '--persistent', '--confirm', '1000', '--queue', 'backlog', '--durable']
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    before = rss_kib(broker.pid)
    cmd[cmd.index('--count') + 1] = '400000'
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    after = rss_kib(broker.pid)
    assert depth(broker, 'backlog') == 401000
    assert after - before < 6 * 1024, 'RSS grew by %d KiB for 400,000 messages' % (after - before)
    got = drain_ids(broker, 'backlog', expect=5000)
    assert len(got) == 5000


def test_checkpoint_then_acks_and_deliveries_in_cold_segments(small_window, broker, qname, monkeypatch):
    """A checkpoint names cold segments; after it, messages of those
    segments are paged in, acked, and delivered without an ack, and the
    broker is killed before another checkpoint.  The restart (which reads
    the checkpoint, not those segments) counts what a full recovery
    counts, brings the delivered ones back redelivered with their
    x-delivery-count, in order, and warren-check-store agrees."""
    need_control(broker)
    monkeypatch.setenv('WARREN_CHECKPOINT_MS', '20')
    broker.restart()
    args = {'x-delivery-limit': 10}
    assert fill(broker, qname, n=4000, arguments=args, size=BIG) == []
    ckpt = os.path.join(broker.data_dir, 'checkpoint')
    deadline = time.monotonic() + 10
    while not os.path.exists(ckpt) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.exists(ckpt)
    time.sleep(0.3)
    monkeypatch.setenv('WARREN_CHECKPOINT_MS', '0')   # no more: the one there is the last
    broker.restart()
    assert 'cold segments are not read' in broker.log_text()
    c = connect(broker)
    ch = c.channel()
    got = consume_all(ch, qname, expect=2500, prefetch=100)
    assert ids(got) == list(range(2500))
    held = []
    for _ in range(200):
        m, _p, body = ch.basic_get(qname, auto_ack=False)
        held.append(body_id(body)[1])
    c.process_data_events(0.3)
    broker.kill()
    # what a full recovery finds ...
    monkeypatch.setenv('WARREN_TEST_NO_CHECKPOINT', '1')
    broker.start()
    full = depth(broker, qname)
    broker.kill()
    monkeypatch.delenv('WARREN_TEST_NO_CHECKPOINT')
    # ... and one from the checkpoint
    broker.start()
    assert broker.log_text().count('cold segments are not read') >= 2
    remaining = 4000 - 2500 - (len(got) - 2500)
    assert depth(broker, qname) == full == remaining
    # warren-check-store, which reads every file, counts the same
    broker.stop()
    rc, text = check_store(broker.data_dir)
    assert rc == 0 and (', %d live messages' % remaining) in text, text
    broker.start()
    out, counts = drain_counted(broker, qname, remaining, idle=3)
    start = 4000 - remaining
    assert [i for i, _r in out] == list(range(start, 4000))
    redelivered = [i for i, r in out if r]
    assert set(held) <= set(redelivered)
    assert all(counts[k] and counts[k] >= 1 for k, (i, _r) in enumerate(out) if i in held)
    broker.stop()
    rc, text = check_store(broker.data_dir)
    assert rc == 0, text


@pytest.mark.parametrize('how', ['x-message-ttl', 'expiration'])
def test_expiry_after_a_restart_from_a_checkpoint(small_window, broker, qname, monkeypatch, how):
    """A backlog that expires, recovered from a checkpoint with nothing of
    it read (its segments cold): it still expires on time, with no consumer."""
    need_control(broker)
    monkeypatch.setenv('WARREN_CHECKPOINT_MS', '20')
    broker.restart()
    ttl = 6000
    t0 = time.monotonic()
    pub = ConfirmPublisher(broker.host, broker.port)
    if how == 'x-message-ttl':
        pub.declare(qname, arguments={'x-message-ttl': ttl})
        pub.publish_all(qname, [make_body('m', i, BIG) for i in range(3000)], window=300, timeout=60)
    else:
        pub.c.close()
        c = connect(broker)
        ch = c.channel()
        ch.queue_declare(qname, durable=True)
        ch.confirm_delivery()
        props = pika.BasicProperties(delivery_mode=2, expiration=str(ttl))
        for i in range(3000):
            ch.basic_publish('', qname, make_body('m', i, BIG), props)
        c.close()
    ckpt = os.path.join(broker.data_dir, 'checkpoint')
    while not os.path.exists(ckpt) and time.monotonic() - t0 < 10:
        time.sleep(0.05)
    time.sleep(0.2)
    broker.kill()
    broker.start()
    assert 'cold segments are not read' in broker.log_text()
    if time.monotonic() - t0 < ttl / 1000.0 - 1:
        assert depth(broker, qname) > 0
    deadline = t0 + ttl / 1000.0 + 15
    while depth(broker, qname) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert depth(broker, qname) == 0
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out


@pytest.mark.parametrize('seed', [16, 17, 18])
def test_kill_while_checkpoints_are_written(small_window, broker, qname, monkeypatch, seed):
    """Checkpoints every millisecond while a consumer works through cold
    segments; kill -9 at random moments, three times.  Nothing acked (and
    known to be) comes back, nothing is lost or doubled, what was held
    unacked comes back redelivered, and warren-check-store agrees."""
    import random
    need_control(broker)
    rng = random.Random(seed)
    monkeypatch.setenv('WARREN_CHECKPOINT_MS', '1')
    broker.restart()
    total = 5000
    assert fill(broker, qname, n=total, size=BIG) == []     # five segments
    acked, held = set(), set()
    for _round in range(3):
        c = connect(broker)
        ch = c.channel()
        for _ in range(rng.randint(200, 900)):
            m, _p, body = ch.basic_get(qname, auto_ack=False)
            i = body_id(body)[1]
            assert i not in acked
            ch.basic_ack(m.delivery_tag)
            acked.add(i)
        ch.basic_qos(prefetch_count=0)          # a round trip: those acks are in
        held = set()
        for _ in range(rng.randint(1, 30)):
            m, _p, body = ch.basic_get(qname, auto_ack=False)
            held.add(body_id(body)[1])
        c.process_data_events(rng.uniform(0.0, 0.05))
        broker.kill()
        broker.start()
        # held ones come back (they were unacked) unless the kill was
        # before their "delivered" mark: either way they are ready again
        assert depth(broker, qname) == total - len(acked)
    got = drain_ids(broker, qname)
    assert sorted(ids(got)) == sorted(set(range(total)) - acked)
    assert all(r for b, r in got if body_id(b)[1] in held)
    broker.stop()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    assert 'cold segments are not read' in broker.log_text()
