"""Disk and memory: a drained broker gives its disk back, and a backlog
larger than it should hold in RAM is served from disk.

Segments are 16 MiB; a segment other than the current one is deleted once
nothing in it is live, and the current one after a second of idleness
(doc/store-format.md, "Reclaiming space").  Queues keep only the head of a
long backlog in memory (src/store/store.c, "Memory"), so after a restart
with 200 MB of bodies queued the broker's resident size stays far below
that, also while the backlog is consumed.  The memory test runs the
release build: AddressSanitizer's shadow memory and quarantine would
swamp the figure.
"""
import os
import sys
import time

from store_helpers import (alarm_seconds, release_bin, ConfirmPublisher, body_id, connect, consume_all,  # noqa: F401
                           dir_bytes, make_body, msgs_dir, need_control, queue_depth, rss_kib)


def test_drained_store_shrinks_to_nothing(broker, qname):
    need_control(broker)
    n = 20000
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    pub.publish_all(qname, (make_body('s', i, 1024) for i in range(n)), window=500, timeout=60)
    assert len(pub.acked) == n and not pub.nacked
    pub.close()
    size, alloc = dir_bytes(msgs_dir(broker.data_dir))
    assert size > n * 1024, 'the messages are not on disk (%d bytes)' % size

    c = connect(broker)
    ch = c.channel()
    got = consume_all(ch, qname, expect=n, prefetch=1000)
    assert [body_id(b)[1] for b, _ in got] == list(range(n))
    t0 = time.monotonic()
    while True:
        size, alloc = dir_bytes(msgs_dir(broker.data_dir))
        if size < 64 * 1024 and alloc < 1 << 20:
            break
        assert time.monotonic() - t0 < 3.0, \
            'msgs/ still holds %d bytes (%d allocated) 3 s after the queue was drained: %s' % (
                size, alloc, sorted(os.listdir(msgs_dir(broker.data_dir))))
        time.sleep(0.1)
    # still serving, and nothing comes back from the deleted segments
    ch.basic_publish('', qname, b'later', properties=None)
    c.close()
    assert broker.stop() == 0
    broker.start()
    c = connect(broker)
    assert queue_depth(c.channel(), qname) == 0
    c.close()


def test_backlog_served_from_disk_in_little_memory(release_bin, broker_factory, qname):
    n, size = 20000, 10 * 1024          # 200 MB of bodies
    limit_kib = 100 * 1024              # the broker must stay well under 100 MB
    broker = broker_factory()
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    pub.publish_all(qname, (make_body('big', i, size) for i in range(n)), window=200, timeout=90)
    assert len(pub.acked) == n and not pub.nacked
    pub.close()
    before = rss_kib(broker.pid)
    assert before < limit_kib, 'RSS %d KiB with %d MB queued, before any restart' % (before, n * size >> 20)

    assert broker.stop() == 0
    broker.start()
    after = rss_kib(broker.pid)
    assert after < limit_kib, 'RSS %d KiB right after recovering %d MB of messages' % (after, n * size >> 20)

    c = connect(broker)
    ch = c.channel()
    assert queue_depth(ch, qname) == n
    peak = after
    ch.basic_qos(prefetch_count=200)
    expect = 0
    for m, _p, body in ch.consume(qname, inactivity_timeout=5):
        assert m is not None, 'deliveries stopped at %d of %d' % (expect, n)
        assert body_id(body) == ('big', expect)
        expect += 1
        if expect % 100 == 0:
            ch.basic_ack(m.delivery_tag, multiple=True)
        if expect % 1000 == 0:
            peak = max(peak, rss_kib(broker.pid))
        if expect == n:
            break
    ch.cancel()
    c.close()
    sys.stdout.write('backlog RSS (KiB): before restart %d, after %d, peak while consuming %d\n'
                     % (before, after, peak))
    assert peak < limit_kib, 'RSS peaked at %d KiB while serving the backlog' % peak
