"""Compaction: an old segment that is mostly acked is rewritten in place
(doc/store-format.md, "Reclaiming space"), so a few unacked messages do not
pin 16 MiB each, and nothing about those messages changes: their bodies,
their order, their acks and "delivered" marks, made before, during or
after the rewrite, all hold after a kill -9.

Each test fills one segment with a few small "pin" messages and 16 MiB of
"busy" ones, consumes the busy ones, and lets the broker compact the
segment.  Two test hooks of the store make the moments of a compaction
reachable from outside: WARREN_TEST_COMPACT_HOLD_FILE holds a compaction
before its swap while the file exists, and WARREN_TEST_CRASH_AT=point
makes the broker SIGKILL itself at that point (warren-only: RabbitMQ has
neither the hooks nor this file layout).
"""
import os
import time

import pytest

from store_helpers import (alarm_seconds, ConfirmPublisher, body_id, check_store, connect, consume_all,  # noqa: F401
                           dir_bytes, get_all, make_body, msgs_dir, need_control, read_header, segment_files,
                           start_or_fail)

BUSY, BUSY_SIZE = 300, 64 * 1024     # ~19.7 MB: fills the first 16 MiB segment


def wait_log(broker, text, timeout=8.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in broker.log_text():
            return
        time.sleep(0.05)
    raise AssertionError('no %r in the broker log after %.0fs:\n%s' % (text, timeout, broker.log_text()[-3000:]))


def fill(broker, pins_q, busy_q, npins):
    """npins small persistent messages, then BUSY big ones, confirmed."""
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(pins_q)
    pub.declare(busy_q)
    pub.publish_all(pins_q, [make_body('pin', i, 100) for i in range(npins)], window=200)
    pub.publish_all(busy_q, (make_body('busy', i, BUSY_SIZE) for i in range(BUSY)), window=50, timeout=60)
    assert not pub.nacked
    pub.close()
    assert len(segment_files(broker.data_dir)) >= 2, 'the busy messages did not fill a segment'


def drain(broker, q):
    c = connect(broker)
    got = consume_all(c.channel(), q, expect=BUSY, prefetch=100)
    c.close()
    assert len(got) == BUSY


def msgs_bytes(broker):
    return dir_bytes(msgs_dir(broker.data_dir))


def get_unacked(ch, q, n):
    """basic.get n messages without acking: {id: delivery tag}."""
    out = {}
    for _ in range(n):
        m, _p, body = ch.basic_get(q, auto_ack=False)
        assert m is not None
        out[body_id(body)[1]] = m.delivery_tag
    return out


def ack(ch, tags, ids):
    for i in ids:
        ch.basic_ack(tags[i])
    ch.basic_qos(prefetch_count=0)   # a round trip: the acks were handled


def contents(broker, q):
    c = connect(broker)
    try:
        return [(body_id(b)[1], r) for b, r in get_all(c.channel(), q, ack=False)]
    finally:
        c.close()


def test_pinned_segment_is_compacted(broker, qname):
    need_control(broker)
    pins, busy = qname + '-pins', qname + '-busy'
    npins = 1100                    # past the 1024 kept in RAM: the tail is read back from disk
    fill(broker, pins, busy, npins)
    c = connect(broker)
    ch = c.channel()
    held = get_unacked(ch, pins, 5)          # delivered before the compaction
    peak = msgs_bytes(broker)[0]
    drain(broker, busy)
    wait_log(broker, 'compacted')
    deadline = time.monotonic() + 5
    while msgs_bytes(broker)[1] > 1 << 20:
        assert time.monotonic() < deadline, 'msgs/ still holds %r bytes (peak %d): %s' % (
            msgs_bytes(broker), peak, sorted(os.listdir(msgs_dir(broker.data_dir))))
        time.sleep(0.1)
    size = msgs_bytes(broker)[0]
    assert size < npins * 300, 'after compaction msgs/ holds %d bytes for %d small messages' % (size, npins)
    seg = segment_files(broker.data_dir)[0]
    with open(seg, 'rb') as f:
        assert read_header(f.read(16))[3] == 1, 'the compacted segment is not generation 1'

    # the others are still there, intact and in order, read through the
    # moved offsets
    c2 = connect(broker)
    ch2 = c2.channel()
    got = consume_all(ch2, pins, expect=npins - 5, prefetch=200)
    assert [body_id(b)[1] for b, _ in got] == list(range(5, npins))
    c2.close()
    ack(ch, held, [0, 1, 2])       # acks after the compaction: at the new offsets

    broker.kill()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    start_or_fail(broker)
    assert contents(broker, pins) == [(3, True), (4, True)]


def test_acks_and_marks_during_compaction_hold(broker_factory, monkeypatch, tmp_path, qname):
    hold = tmp_path / 'hold'
    monkeypatch.setenv('WARREN_TEST_COMPACT_HOLD_FILE', str(hold))
    broker = broker_factory()
    need_control(broker)
    pins, busy = qname + '-pins', qname + '-busy'
    fill(broker, pins, busy, 200)
    c = connect(broker)
    ch = c.channel()
    tags = get_unacked(ch, pins, 10)          # 0..9 delivered before
    hold.touch()
    drain(broker, busy)
    wait_log(broker, 'held before its swap')
    ack(ch, tags, range(0, 5))                # delivered before, acked during
    tags.update(get_unacked(ch, pins, 10))    # 10..19 delivered during
    ack(ch, tags, range(10, 15))
    os.unlink(hold)
    wait_log(broker, 'compacted')
    ack(ch, tags, [5, 6, 15, 16])             # acked after
    tags.update(get_unacked(ch, pins, 5))     # 20..24 delivered after
    ack(ch, tags, [20, 21])

    broker.kill()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    monkeypatch.delenv('WARREN_TEST_COMPACT_HOLD_FILE')
    start_or_fail(broker)
    want = [(i, True) for i in (7, 8, 9, 17, 18, 19, 22, 23, 24)] + [(i, False) for i in range(25, 200)]
    assert contents(broker, pins) == want


CRASH_POINTS = ['compact-acks-read', 'compact-copying', 'compact-synced', 'compact-swap', 'compact-renamed',
                'compact-done']


@pytest.mark.parametrize('point', CRASH_POINTS)
def test_crash_during_compaction(broker_factory, monkeypatch, qname, point):
    """kill -9 at each step of a compaction: the restart has every message
    once, in order, with the right redelivered flags; check-store finds no
    problem; and the compaction happens (again, if it had not finished)."""
    monkeypatch.setenv('WARREN_TEST_CRASH_AT', point)
    broker = broker_factory()
    need_control(broker)
    pins, busy = qname + '-pins', qname + '-busy'
    fill(broker, pins, busy, 200)
    c = connect(broker)
    ch = c.channel()
    tags = get_unacked(ch, pins, 10)
    ack(ch, tags, range(0, 5))
    drain(broker, busy)
    try:
        broker.proc.wait(8)
    except Exception:
        raise AssertionError('the broker did not reach %s:\n%s' % (point, broker.log_text()[-3000:]))
    broker.proc = None
    assert 'WARREN_TEST_CRASH_AT=%s' % point in broker.log_text()

    rc, out = check_store(broker.data_dir)
    assert rc == 0 and 'PROBLEM' not in out, out
    monkeypatch.delenv('WARREN_TEST_CRASH_AT')
    want = [(i, True) for i in range(5, 10)] + [(i, False) for i in range(10, 200)]
    start_or_fail(broker)
    assert contents(broker, pins) == want
    # compacted by now, or soon: then the same again after another crash
    deadline = time.monotonic() + 8
    while msgs_bytes(broker)[1] > 1 << 20:
        assert time.monotonic() < deadline, 'not compacted after the restart: %r %s' % (
            msgs_bytes(broker), sorted(os.listdir(msgs_dir(broker.data_dir))))
        time.sleep(0.1)
    broker.kill()
    assert check_store(broker.data_dir)[0] == 0
    start_or_fail(broker)
    assert contents(broker, pins) == [(i, True) for i in range(5, 200)]


def returned(ch, q, times):
    """basic.get the head message `times` times, nacking it back each time
    but the last: it stays unacked, its count `times - 1`."""
    for i in range(times):
        m, p, _ = ch.basic_get(q, auto_ack=False)
        assert m is not None
        if i < times - 1:
            ch.basic_nack(m.delivery_tag, requeue=True)
    return (p.headers or {}).get('x-delivery-count')


def test_delivery_counts_through_compaction(broker_factory, monkeypatch, tmp_path, qname):
    """Issue 15: the delivery count rides in the "delivered" marks, which
    compaction rewrites: marks made before and during the rewrite keep their
    counts, through a kill -9 (doc/store-format.md)."""
    import pika
    hold = tmp_path / 'hold'
    monkeypatch.setenv('WARREN_TEST_COMPACT_HOLD_FILE', str(hold))
    broker = broker_factory()
    need_control(broker)
    pins, busy = qname + '-pins', qname + '-busy'
    c = pika.BlockingConnection(pika.URLParameters(broker.url))
    c.channel().queue_declare(pins, durable=True, arguments={'x-delivery-limit': 10})
    c.close()
    fill(broker, pins, busy, 20)
    c = connect(broker)
    ch = c.channel()
    assert returned(ch, pins, 3) == 2         # pin 0: marked with count 2 before
    hold.touch()
    drain(broker, busy)
    wait_log(broker, 'held before its swap')
    assert returned(ch, pins, 2) == 1         # pin 1: marked with count 1 during
    os.unlink(hold)
    wait_log(broker, 'compacted')

    broker.kill()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    monkeypatch.delenv('WARREN_TEST_COMPACT_HOLD_FILE')
    start_or_fail(broker)
    c = pika.BlockingConnection(pika.URLParameters(broker.url))
    ch = c.channel()
    counts = []
    for _ in range(3):
        m, p, body = ch.basic_get(pins, auto_ack=True)
        counts.append((body_id(body)[1], m.redelivered, (p.headers or {}).get('x-delivery-count')))
    c.close()
    assert counts == [(0, True, 3), (1, True, 2), (2, False, None)]
