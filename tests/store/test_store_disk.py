"""Low disk: publishers are blocked, consumers drain, nothing is damaged.

The broker compares free space with --disk-free-limit once a second.  The
first test drives that figure through the test hook
WARREN_TEST_DISK_FREE_FILE (the broker reads the number from that file
instead of statvfs): connection.blocked reaches the connection that publishes,
its publishes stay unread, a consumer on another connection keeps getting
messages, and after connection.unblocked the held publishes arrive.  The
other two use a real 64 MiB tmpfs as the data directory (skipped, saying
why, where mounting is not allowed): filled by a publisher until the alarm
blocks it, and filled with the alarm off until the disk really is full and
the publisher gets basic.nack.  Each ends with a restart and
warren-check-store: what was confirmed is there, intact.
"""
import os
import subprocess
import time

import pytest

from store_helpers import (alarm_seconds, ConfirmPublisher, body_id, check_store, connect, consume_all,  # noqa: F401
                           make_body, need_control, queue_depth, wait_for, PERSISTENT)


def test_disk_alarm_blocks_publishers_not_consumers(broker_factory, monkeypatch, tmp_path, qname):
    free = tmp_path / 'free-bytes'
    free.write_text('100000000000\n')
    monkeypatch.setenv('WARREN_TEST_DISK_FREE_FILE', str(free))
    broker = broker_factory('--disk-free-limit', '50000000')
    need_control(broker)
    keep = qname + '-keep'

    pc = connect(broker)
    events = []
    pc.add_on_connection_blocked_callback(lambda _c, m: events.append(('blocked', m.method.reason)))
    pc.add_on_connection_unblocked_callback(lambda _c, _m: events.append(('unblocked', None)))
    pch = pc.channel()
    pch.queue_declare(qname, durable=True)
    pch.queue_declare(keep, durable=True)
    for i in range(200):
        pch.basic_publish('', qname, make_body('pre', i, 500), PERSISTENT)
    for i in range(100):
        pch.basic_publish('', keep, make_body('keep', i, 500), PERSISTENT)
    oc = connect(broker)            # an observer: passive declares only
    och = oc.channel()
    wait_for(lambda: queue_depth(och, qname) == 200 and queue_depth(och, keep) == 100, what='the first messages')

    free.write_text('1000\n')       # below the limit
    wait_for(lambda: 'publishers are blocked' in broker.log_text(), timeout=4, what='the disk alarm')
    # as in RabbitMQ, a connection is blocked (and told) at its first
    # publish during the alarm
    assert events == []
    for i in range(50):
        pch.basic_publish('', qname, make_body('held', i, 500), PERSISTENT)
    for i in range(100, 120):
        pch.basic_publish('', keep, make_body('keep', i, 500), PERSISTENT)
    wait_for(lambda: events, timeout=4, conn=pc, what='connection.blocked')
    assert events[0][0] == 'blocked' and events[0][1], events
    # a consumer on another connection drains what is there, and only that
    cc = connect(broker)
    cch = cc.channel()
    got = consume_all(cch, qname, expect=200, idle=2.0)
    assert [body_id(b) for b, _ in got] == [('pre', i) for i in range(200)]
    pc.process_data_events(time_limit=1.5)
    assert queue_depth(och, qname) == 0, 'a blocked publisher\'s messages got in'
    assert queue_depth(och, keep) == 100
    assert events == [events[0]], 'unblocked while the disk is still low: %s' % events

    free.write_text('100000000000\n')
    wait_for(lambda: len(events) == 2, timeout=4, conn=pc, what='connection.unblocked')
    assert events[1][0] == 'unblocked'
    wait_for(lambda: queue_depth(och, keep) == 120, timeout=5, what='the held publishes')
    got = consume_all(cch, qname, expect=50, idle=2.0)
    assert [body_id(b) for b, _ in got] == [('held', i) for i in range(50)]
    # the publishing connection works as before
    pch.basic_publish('', qname, b'after', PERSISTENT)
    wait_for(lambda: queue_depth(och, qname) == 1, what='a publish after unblocking')
    for conn in (pc, cc, oc):
        conn.close()

    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    broker.start()
    c = connect(broker)
    ch = c.channel()
    assert [body_id(b) for b, _ in consume_all(ch, keep, expect=120)] == [('keep', i) for i in range(120)]
    assert [b for b, _ in consume_all(ch, qname, expect=1)] == [b'after']
    c.close()


@pytest.fixture
def tmpfs(tmp_path):
    """tmpfs('sub', '64m') mounts a tmpfs at tmp_path/sub/data, where
    broker_factory(subdir='sub') puts its data.  Request this fixture before
    broker_factory, so the brokers are stopped before it unmounts."""
    mounts = []

    def make(subdir, size):
        d = tmp_path / subdir / 'data'
        d.mkdir(parents=True)
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%s' % size, 'tmpfs', str(d)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            pytest.skip('cannot mount a tmpfs for a really full disk (needs root or CAP_SYS_ADMIN): %s'
                        % r.stdout.decode(errors='replace').strip())
        mounts.append(d)
        return subdir
    yield make
    for d in mounts:
        if subprocess.run(['umount', str(d)], stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run(['umount', '-l', str(d)])


def fs_free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


SIZE = 256 * 1024


def fill(pub, qname, start, stop_when, max_seconds=20.0, pause=0.0):
    """Publish SIZE-byte messages (window 4) until stop_when(pub) or
    nothing has been confirmed for 2 s; returns the next message number."""
    n = start
    deadline = time.monotonic() + max_seconds
    last = time.monotonic()
    while time.monotonic() < deadline and not stop_when(pub):
        while len(pub.pending) < 4:
            pub.send(qname, make_body('m', n, SIZE))
            n += 1
            if pause:
                time.sleep(pause)
        try:
            before = len(pub.acked) + len(pub.nacked)
            pub.read_confirms(0.5)
            if len(pub.acked) + len(pub.nacked) > before:
                last = time.monotonic()
        except TimeoutError:
            pass
        if time.monotonic() - last > 2.0:
            break
    return n


def test_real_disk_alarm_on_tmpfs(tmpfs, broker_factory, qname):
    sub = tmpfs('fs', '64m')
    broker = broker_factory('--disk-free-limit', str(32 << 20), subdir=sub)
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    n = fill(pub, qname, 0, lambda p: p.blocked or p.nacked, pause=0.005)
    assert pub.blocked, 'never blocked (free %d bytes, %d acked, %d nacked)' % (
        fs_free(broker.data_dir), len(pub.acked), len(pub.nacked))
    assert not pub.nacked, 'nacked although the alarm should have stopped the publisher first'
    assert 'publishers are blocked' in broker.log_text()
    # what is sent after the block stays unconfirmed: it is not read
    for i in range(3):
        pub.send(qname, make_body('m', n, SIZE))
        n += 1
    t = time.monotonic()
    while time.monotonic() - t < 1.5:
        try:
            pub.read_confirms(0.2)
        except TimeoutError:
            pass
    held = set(pub.pending)
    assert len(held) >= 3, 'publishes were confirmed while blocked'
    assert not pub.nacked
    acked_before = set(pub.acked)

    # consumers still work; draining frees whole segments, which lifts the alarm
    c = connect(broker)
    ch = c.channel()
    depth = queue_depth(ch, qname)
    got = consume_all(ch, qname, expect=depth, idle=3.0)
    ids = [body_id(b)[1] for b, _ in got]
    assert ids == sorted(ids) and {t - 1 for t in acked_before} <= set(ids)
    assert not {t - 1 for t in held} & set(ids), 'held publishes were queued while blocked'
    deadline = time.monotonic() + 6
    while pub.blocked and time.monotonic() < deadline:
        try:
            pub.read_confirms(0.5)
        except TimeoutError:
            pass
    assert not pub.blocked, 'still blocked after the queue was drained (free %d)' % fs_free(broker.data_dir)
    pub.publish_all(qname, [make_body('m', i, SIZE) for i in range(n, n + 4)], window=4)
    assert held <= set(pub.acked), 'the held publishes were not confirmed after unblocking'
    assert not pub.nacked
    pub.close()
    after = sorted((set(pub.acked) - acked_before) | {t for t in held})
    c.close()

    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    broker.start()
    c = connect(broker)
    got = [body_id(b)[1] for b, _ in consume_all(c.channel(), qname, idle=1.5)]
    c.close()
    # tags are 1-based, message numbers 0-based; everything confirmed after the drain is there
    assert set(t - 1 for t in after) <= set(got), 'confirmed messages lost: %s' % sorted(
        set(t - 1 for t in after) - set(got))[:10]


def test_really_full_disk_nacks_cleanly(tmpfs, broker_factory, qname):
    """With the alarm off the tmpfs really fills: the space reservation
    fails, the publisher gets basic.nack (never an ack for a message not
    stored), nothing is half written, and once space is freed publishing
    works again."""
    sub = tmpfs('full', '48m')
    broker = broker_factory('--disk-free-limit', '0', subdir=sub)
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    fill(pub, qname, 0, lambda p: len(p.nacked) >= 4)
    assert pub.nacked, 'no nack though the disk is full (free %d bytes)' % fs_free(broker.data_dir)
    text = broker.log_text()
    assert 'No space left on device' in text, text[-2000:]
    while pub.pending:   # settle the window
        pub.read_confirms(5)
    acked = {t - 1 for t in pub.acked}
    pub.close()

    # no ack for anything that is not on disk: stop, check, restart, count
    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    broker.start()
    c = connect(broker)
    ch = c.channel()
    got = consume_all(ch, qname, idle=1.5)
    ids = [body_id(b)[1] for b, _ in got]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert acked <= set(ids), 'acked but lost: %s' % sorted(acked - set(ids))[:10]
    # (a nacked message may or may not have been kept: nothing to check)
    c.close()

    # drained: the space is back, and the broker takes messages again
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.publish_all(qname, [make_body('again', i, SIZE) for i in range(20)], window=4)
    assert len(pub.acked) == 20 and not pub.nacked
    pub.close()


def test_fast_publisher_blocked_before_the_disk_is_full(tmpfs, broker_factory, qname):
    """Free space is checked once a second, and also every time a quarter
    of --disk-free-limit has been written since the last look: a publisher
    as fast as it can go (4 KB bodies, 50 in flight) fills 8 MB in well
    under a second, and must meet connection.blocked, not a full disk and
    basic.nack."""
    sub = tmpfs('fast', '24m')
    broker = broker_factory('--disk-free-limit', str(8 << 20), subdir=sub)
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    body = b'x' * 4000
    deadline = time.monotonic() + 15
    while not pub.blocked and not pub.nacked and time.monotonic() < deadline:
        while len(pub.pending) < 50:
            pub.send(qname, body)
        try:
            pub.read_confirms(0.5)
        except TimeoutError:
            pass
    assert pub.blocked, 'never blocked (free %d bytes, %d acked, %d nacked)' % (
        fs_free(broker.data_dir), len(pub.acked), len(pub.nacked))
    t = time.monotonic()
    while time.monotonic() - t < 1.0:   # what was read before the block is confirmed
        try:
            pub.read_confirms(0.2)
        except TimeoutError:
            pass
    assert not pub.nacked, '%d nacks: the disk filled up before the alarm (%d acked, free %d)' % (
        len(pub.nacked), len(pub.acked), fs_free(broker.data_dir))
    assert 'No space left on device' not in broker.log_text()
    pub.close()
