"""The memory alarm: above --memory-limit bytes of heap in use, publishers are
blocked as RabbitMQ blocks them at vm_memory_high_watermark, and consumers
drain until the heap is below the limit again.

Each test first starts the broker with no limit to read its idle heap from
the log, then restarts it with a limit a few MiB above that, and publishes
4 KiB transient messages from a pika BlockingConnection on a thread of its
own: once the broker stops reading that connection, basic_publish blocks
in the client (its output cannot be written), so the thread stops part
way, the queue stops growing, and the held publishes go through when the
alarm clears.  Every message is counted at the end: consumed, or purged
and consumed.  The disk alarm comes from the test hook
WARREN_TEST_DISK_FREE_FILE, as in test_store_disk.py.

warren-only (require_control): they restart the broker, read its log for
the heap figure, and force the disk alarm through a test hook; RabbitMQ's
own alarms cannot be raised from a client.  The texts the client sees are
RabbitMQ 3.10's (rabbit_reader:blocked_by_message): "low on memory", and
with both alarms on "low on disk & memory".
"""
import re
import socket
import threading
import time

import pytest

from store_helpers import (alarm_seconds, connect, make_body, need_control, queue_depth,  # noqa: F401
                           raw, release_bin, wait_for, TRANSIENT)

SIZE = 4096
HEADROOM = 4 << 20          # the limit: idle heap + this
TOTAL = 2500                # 10 MiB of bodies, 2.5 times the headroom


def limited_broker(broker_factory, *args):
    """A broker whose --memory-limit is HEADROOM above its idle heap."""
    broker = broker_factory('--memory-limit', '0', *args)
    need_control(broker)
    m = re.search(r'memory: no limit, heap in use now (\d+)', broker.log_text())
    assert m, broker.log_text()
    idle = int(m.group(1))
    limit = idle + HEADROOM
    broker.restart(extra=('--memory-limit', str(limit)))
    assert 'memory: limit %d bytes of heap in use' % limit in broker.log_text()
    return broker, idle, limit


class Publisher(threading.Thread):
    """Publishes TOTAL transient messages on its own pika connection, and
    records connection.blocked / unblocked as pika reports them."""

    def __init__(self, broker, queue, total=TOTAL):
        super().__init__(daemon=True)
        self.queue, self.total = queue, total
        self.events = []
        self.sent = 0
        self.error = None
        self.conn = connect(broker)
        self.conn.add_on_connection_blocked_callback(
            lambda _c, m: self.events.append(('blocked', m.method.reason)))
        self.conn.add_on_connection_unblocked_callback(lambda _c, _m: self.events.append(('unblocked', None)))
        self.ch = self.conn.channel()

    def run(self):
        try:
            for i in range(self.total):
                self.ch.basic_publish('', self.queue, make_body('m', i, SIZE), TRANSIENT)
                self.sent = i + 1
                if i % 16 == 0:
                    self.conn.process_data_events(time_limit=0)   # run the callbacks
            self.conn.process_data_events(time_limit=0.2)
        except Exception as e:  # noqa: BLE001 - reported by finish()
            self.error = e

    def finish(self, timeout=15):
        self.join(timeout)
        assert not self.is_alive(), 'the publisher is still stuck after %ds (%d sent)' % (timeout, self.sent)
        assert self.error is None, repr(self.error)
        assert self.sent == self.total
        # the last unblocked may come after the last publish
        wait_for(lambda: len(self.events) % 2 == 0, timeout=3, conn=self.conn, what='the last unblocked')
        self.conn.close()


def assert_alternating(events, reasons):
    """blocked, unblocked, blocked, ... ending unblocked; the reasons given."""
    assert events and len(events) % 2 == 0, events
    for i, (kind, reason) in enumerate(events):
        assert kind == ('blocked' if i % 2 == 0 else 'unblocked'), events
        if kind == 'blocked':
            assert reason in reasons, events


def wait_log(broker, pattern, after=0, timeout=5.0, what=None):
    """Wait for a log line matching pattern past offset `after`; returns the match."""
    deadline = time.monotonic() + timeout
    while True:
        m = re.search(pattern, broker.log_text()[after:])
        if m:
            return m
        assert time.monotonic() < deadline, 'no log line %r (%s)' % (pattern, what or '')
        time.sleep(0.05)


def wait_still(ch, queue, seconds=0.6):
    """The queue's depth once it has not changed for `seconds`."""
    time.sleep(0.2)
    last = queue_depth(ch, queue)
    deadline = time.monotonic() + 10
    while True:
        time.sleep(seconds)
        now = queue_depth(ch, queue)
        if now == last:
            return now
        assert time.monotonic() < deadline, 'the queue keeps growing (%d)' % now
        last = now


def consume_ids(ch, queue, n, timeout=30.0):
    """Consume (and ack) n messages; their ids in delivery order."""
    ids = []
    ch.basic_qos(prefetch_count=100)
    deadline = time.monotonic() + timeout
    for method, _props, body in ch.consume(queue, inactivity_timeout=0.5):
        if method is not None:
            ids.append(int(body.split(b'|')[0].split(b'-')[1]))
            if len(ids) % 50 == 0 or len(ids) == n:
                ch.basic_ack(method.delivery_tag, multiple=True)
            if len(ids) == n:
                break
        assert time.monotonic() < deadline, 'only %d of %d messages after %.0fs' % (len(ids), n, timeout)
    ch.cancel()
    return ids


def block_publisher(broker, limit, qname):
    """Start a publisher and wait until the memory alarm holds it."""
    oc = connect(broker)
    och = oc.channel()
    och.queue_declare(qname)
    pub = Publisher(broker, qname)
    pub.start()
    m = wait_log(broker, r'memory: heap in use (\d+) bytes is above the limit of (\d+) bytes: '
                         r'publishers are blocked', timeout=10, what='the memory alarm')
    assert int(m.group(1)) > limit and int(m.group(2)) == limit
    # the broker stops reading the publisher: the queue stops growing, at
    # about the limit (the check every 32nd of it received), and the rest
    # of the publishes wait on the way, in the client or the sockets (the
    # kernel may buffer megabytes, so the client need not be stuck yet)
    depth = wait_still(och, qname)
    assert 0 < depth < TOTAL
    assert depth * SIZE <= limit + (2 << 20), 'the alarm came late: %d messages queued' % depth
    assert pub.sent > depth, 'no publish is held back (%d sent, %d queued)' % (pub.sent, depth)
    return pub, oc, och, depth


@pytest.mark.parametrize('build', ['asan', 'release'])
def test_memory_alarm_blocks_publisher_until_a_consumer_drains(broker_factory, request, qname, build):
    if build == 'release':
        request.getfixturevalue('release_bin')     # memstat.c's own count, not ASan's
    broker, idle, limit = limited_broker(broker_factory)
    pub, oc, och, depth = block_publisher(broker, limit, qname)

    # a consumer on another connection drains: the alarm clears (maybe more
    # than once, as the publisher refills), and every message arrives once
    cc = connect(broker)
    ids = consume_ids(cc.channel(), qname, TOTAL)
    assert ids == list(range(TOTAL))
    pub.finish()
    assert pub.events[0] == ('blocked', 'low on memory'), pub.events
    assert_alternating(pub.events, {'low on memory'})
    log = broker.log_text()
    assert re.search(r'memory: heap in use \d+ bytes is below the limit of %d bytes again' % limit, log)
    assert 'publishers unblocked' in log
    assert queue_depth(och, qname) == 0
    cc.close()
    oc.close()


@pytest.mark.parametrize('clear_first', ['memory', 'disk'])
def test_both_alarms_clearing_one_keeps_publishers_blocked(broker_factory, monkeypatch, tmp_path, qname,
                                                           clear_first):
    free = tmp_path / 'free-bytes'
    free.write_text('100000000000\n')
    monkeypatch.setenv('WARREN_TEST_DISK_FREE_FILE', str(free))
    broker, idle, limit = limited_broker(broker_factory, '--disk-free-limit', '50000000')
    pub, oc, och, depth = block_publisher(broker, limit, qname)

    free.write_text('1000\n')       # and now the disk is low too
    wait_log(broker, r'store: free disk space 1000 bytes is below the limit', what='the disk alarm')
    # a connection opened now hears both reasons, in RabbitMQ's words (a
    # raw one: pika drops a connection.blocked that comes with open-ok,
    # before a callback can be added)
    watch = raw.RawConnection(broker.host, broker.port).handshake()
    f = watch.read_method(3)
    assert f.method == (10, 60), f                      # connection.blocked
    assert raw.decode_args('S', f.payload[4:]) == ['low on disk & memory']

    mark = len(broker.log_text())
    if clear_first == 'memory':
        purged = och.queue_purge(qname).method.message_count
        assert purged == depth
        wait_log(broker, r'memory: heap in use \d+ bytes is below the limit', mark, what='memory clear')
        wait_log(broker, r'publishers stay blocked: low on disk', mark)
    else:
        free.write_text('100000000000\n')
        wait_log(broker, r'store: free disk space \d+ bytes is above the limit', mark, what='disk clear')
        wait_log(broker, r'publishers stay blocked: low on memory', mark)
    # still blocked: no unblocked, and the publisher is still not read
    with pytest.raises(socket.timeout):
        f = watch.read_method(1.1)           # longer than a tick
        raise AssertionError('got %r while one alarm is still on' % f)
    assert queue_depth(och, qname) == (0 if clear_first == 'memory' else depth)
    assert 'publishers unblocked' not in broker.log_text()[mark:]

    # clear the other: unblocked, and publishing goes on
    if clear_first == 'memory':
        free.write_text('100000000000\n')
    else:
        purged = och.queue_purge(qname).method.message_count
        assert purged == depth
    f = watch.read_method(3)
    assert f.method == (10, 61), f                      # connection.unblocked
    watch.close()
    cc = connect(broker)
    ids = consume_ids(cc.channel(), qname, TOTAL - purged)
    assert ids == list(range(purged, TOTAL)), 'lost or repeated: %d purged, %d consumed' % (purged, len(ids))
    pub.finish()
    assert pub.events[0] == ('blocked', 'low on memory'), pub.events
    assert_alternating(pub.events, {'low on memory'})
    for c in (cc, oc):
        c.close()
