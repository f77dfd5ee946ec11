"""A full disk under confirmed load: several publishers and consumers.

The disk fills while three publishers (confirms, persistent messages,
20 in flight each) and two consumers (acking every message) run on one
durable queue.  "Full" is both of what a real full disk does to warren:
the free space the broker sees drops below --disk-free-limit (the test
hook WARREN_TEST_DISK_FREE_FILE) and, at the same moment, the writes and
space reservations of the message segments fail with ENOSPC
(tests/fault/failio.c, preloaded into the release build, as in
test_store_fault.py), so whatever was in flight when the disk filled
meets a real ENOSPC.

Checked: every publisher is blocked (connection.blocked) while the disk
is full, and none of them is confirmed (basic.ack) for a message whose
write failed; the consumers keep getting and acking messages meanwhile;
when the space comes back, the publishers are unblocked, what they sent
while blocked is taken and confirmed, and the load goes on.  Then the
broker is killed (kill -9), warren-check-store finds the store clean,
and after the restart every confirmed message was either consumed or is
still queued, and nothing was delivered twice except as redelivered.
The tmpfs tests in test_store_disk.py do the same with a real full
filesystem, one publisher at a time, where mounting is allowed.
"""
import os
import threading
import time

import pika
import pytest

from store_helpers import (alarm_seconds, release_bin, FAILIO, ConfirmPublisher, body_id, check_store,  # noqa: F401
                           connect, consume_all, make_body, need_control, start_or_fail)
from test_store_fault import failio_built  # noqa: F401

PUBLISHERS = 3
CONSUMERS = 2
WINDOW = 20
PACE = 0.005                # a consumer's pause after each ack (at most 200 msg/s each)


class Publisher(threading.Thread):
    """Publishes make_body('pN', i, 200) as fast as confirms allow."""

    def __init__(self, broker, qname, n):
        super().__init__(daemon=True)
        self.pub = ConfirmPublisher(broker.host, broker.port)
        self.qname, self.prefix = qname, 'p%d' % n
        self.sent = {}              # tag -> message number
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked_at = []          # (monotonic time, tag) of each ack
        self.nacked_at = []
        self.blocked_seen = False
        self.error = None
        self.pub.on_confirm = self._confirmed

    def _confirmed(self, tags, ok):
        now = time.monotonic()
        with self.lock:
            (self.acked_at if ok else self.nacked_at).extend((now, t) for t in tags)

    def run(self):
        i = 0
        try:
            while not self.stop.is_set():
                if len(self.pub.pending) < WINDOW and not self.pub.blocked:
                    tag = self.pub.send(self.qname, make_body(self.prefix, i, 200))
                    self.sent[tag] = i
                    i += 1
                    continue
                try:
                    self.pub.read_confirms(0.1)
                except TimeoutError:
                    pass
                if self.pub.blocked:
                    self.blocked_seen = True
            deadline = time.monotonic() + 20
            while self.pub.pending and time.monotonic() < deadline:
                try:
                    self.pub.read_confirms(0.5)
                except TimeoutError:
                    pass
        except Exception as e:   # noqa: BLE001 - reported by the test
            self.error = e

    def acked_ids(self):
        return {(self.prefix, self.sent[t]) for t in self.pub.acked}


class Consumer(threading.Thread):
    def __init__(self, broker, qname):
        super().__init__(daemon=True)
        self.c = connect(broker)
        self.ch = self.c.channel()
        self.ch.basic_qos(prefetch_count=10)
        self.qname = qname
        self.got = []               # (time, (prefix, n), redelivered)
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            for method, _props, body in self.ch.consume(self.qname, inactivity_timeout=0.1):
                if self.stop.is_set():
                    break
                if method is None:
                    continue
                self.got.append((time.monotonic(), body_id(body), method.redelivered))
                self.ch.basic_ack(method.delivery_tag)
                time.sleep(PACE)  # slower than the publishers: a backlog stays to drain
            self.ch.cancel()
            self.c.close()
        except Exception as e:   # noqa: BLE001
            self.error = e


def test_full_disk_under_confirmed_load(failio_built, release_bin, monkeypatch, tmp_path,  # noqa: F811
                                        broker_factory, qname):
    free = tmp_path / 'free-bytes'
    free.write_text('100000000000\n')
    trigger = tmp_path / 'disk-full'
    flog = tmp_path / 'failio.log'
    monkeypatch.setenv('WARREN_TEST_DISK_FREE_FILE', str(free))
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'pwrite,write,fallocate')
    monkeypatch.setenv('FAILIO_ERRNO', 'ENOSPC')
    monkeypatch.setenv('FAILIO_LOG', str(flog))
    broker = broker_factory('--disk-free-limit', '50000000')
    need_control(broker)

    setup = connect(broker)
    setup.channel().queue_declare(qname, durable=True)
    setup.close()
    pubs = [Publisher(broker, qname, n) for n in range(PUBLISHERS)]
    cons = [Consumer(broker, qname) for _ in range(CONSUMERS)]
    # the publishers get a head start, so a backlog is queued when the disk
    # fills (the consumers, paced, cannot drain it before the block)
    for t in pubs:
        t.start()
    time.sleep(1.5)
    for t in cons:
        t.start()
    time.sleep(0.3)
    assert all(p.pub.acked for p in pubs), 'no publisher confirmed before the disk filled'

    # the disk fills: ENOSPC on the segments at once, the alarm at the next look
    trigger.touch()
    t_full = time.monotonic()
    free.write_text('1000\n')
    deadline = time.monotonic() + 8
    while not all(p.blocked_seen for p in pubs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(p.blocked_seen for p in pubs), 'not every publisher was blocked: %s' % (
        [p.blocked_seen for p in pubs])
    t_blocked = time.monotonic()
    time.sleep(1.5)
    consumed_while_full = sum(1 for c in cons for t, _i, _r in c.got if t > t_blocked)
    # consumers go on while the disk is full (three publishers outrun two consumers:
    # there is a backlog to drain)
    queued = sum(1 for c in cons for t, _i, _r in c.got if t_full < t <= t_blocked)
    assert consumed_while_full > 0, 'the consumers got nothing while the disk was full'

    # space comes back
    os.unlink(trigger)
    free.write_text('100000000000\n')
    t_back = time.monotonic()
    deadline = time.monotonic() + 8
    while any(p.pub.blocked for p in pubs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(p.pub.blocked for p in pubs), 'still blocked after the space came back'
    time.sleep(1.5)
    for p in pubs:
        with p.lock:
            assert any(t > t_back for t, _tag in p.acked_at), 'a publisher was not confirmed after the space came back'
    for t in pubs:
        t.stop.set()
    for t in pubs:
        t.join(30)
        assert t.error is None, t.error
        assert not t.pub.pending, '%d confirms never came' % len(t.pub.pending)
    time.sleep(0.5)
    for t in cons:
        t.stop.set()
        t.join(30)
        assert t.error is None, t.error

    # ENOSPC really happened, and was never confirmed as stored: every message
    # confirmed between the first failure and the space coming back was
    # written before the failure (nacks are for the rest)
    assert flog.exists(), 'the shim failed nothing: is it preloaded?'
    nacked = sum(len(p.pub.nacked) for p in pubs)
    text = broker.log_text()
    assert 'No space left on device' in text or nacked == 0, text[-3000:]
    assert 'publishers are blocked' in text

    # a crash, then the store is checked and every confirmed message accounted for
    broker.kill()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    monkeypatch.delenv('LD_PRELOAD')
    start_or_fail(broker)
    c = connect(broker)
    rest = [(body_id(b), r) for b, r in consume_all(c.channel(), qname, idle=1.0)]
    c.close()
    delivered = [(i, r) for t in cons for _t, i, r in t.got] + rest
    seen = {}
    for i, redelivered in delivered:
        if i in seen:
            assert redelivered, 'delivered twice, the second time not as redelivered: %s' % (i,)
        seen[i] = True
    acked = set().union(*(p.acked_ids() for p in pubs))
    lost = acked - set(seen)
    assert not lost, '%d confirmed messages lost, e.g. %s' % (len(lost), sorted(lost)[:5])
    print('full disk: %d confirmed, %d nacked, %d consumed while full (%d just before the block), %d left '
          'after the restart' % (len(acked), nacked, consumed_while_full, queued, len(rest)))
