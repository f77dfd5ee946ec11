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

Who hears connection.blocked is RabbitMQ 3.10's rule too (issue 11): a
connection that publishes while an alarm is on, at that publish; one that
only consumes, or published before the alarm and not since, is read on
and told nothing (test_blocked_only_for_connections_that_publish_during_the_alarm).
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
    # a connection that publishes now hears both reasons, in RabbitMQ's words
    # (its message goes to no queue)
    watch = raw.RawConnection(broker.host, broker.port).handshake()
    watch.open_channel(1)
    raw_publish(watch, 'nowhere-' + qname, b'watch')
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


def raw_publish(c, queue, body, channel=1):
    c.send(raw.method_frame(channel, raw.BASIC_PUBLISH, 0, '', queue, False, False) +
           raw.header_frame(channel, len(body)) + raw.body_frame(channel, body))


def raw_open(broker, capable=True):
    """A raw connection with channel 1 open; capable: it announces the
    connection.blocked capability (amqp_raw's default client properties)."""
    c = raw.RawConnection(broker.host, broker.port)
    if capable:
        c.handshake()
    else:
        c.send_header()
        c.read_start()
        c.send_start_ok(client_properties={'product': 'raw', 'capabilities': {'basic.nack': True}})
        c.read_tune()
        c.send_tune_ok()
        c.send_open()
        c.expect(raw.CONNECTION_OPEN_OK, 0)
    c.open_channel(1)
    return c


def assert_answers(c, queue, depth):
    """The connection is read: a passive declare is answered (and nothing
    else comes first: no connection.blocked)."""
    c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, queue, True, False, False, False, False, {}))
    f = c.read_method(3)
    assert f.method == raw.QUEUE_DECLARE_OK, f
    assert f.args[1] == depth, f.args


def assert_silent(c, seconds=1.2):
    with pytest.raises(socket.timeout):
        f = c.read_method(seconds)
        raise AssertionError('got %r' % (f,))


def test_blocked_only_for_connections_that_publish_during_the_alarm(broker_factory, monkeypatch, tmp_path, qname):
    """Issue 11: warren sent connection.blocked to every connection that
    announced the capability, when the alarm went on (and to a new one at
    open).  RabbitMQ 3.10 (rabbit_reader's publish_received, its "blocking"
    and "blocked" states) blocks a connection when it publishes during the
    alarm, and only then tells it; connection.unblocked goes to those it
    told.  A connection that consumes, acks or declares is read on."""
    free = tmp_path / 'free-bytes'
    free.write_text('100000000000\n')
    monkeypatch.setenv('WARREN_TEST_DISK_FREE_FILE', str(free))
    broker = broker_factory('--disk-free-limit', '50000000')
    need_control(broker)
    early = raw_open(broker)        # published before the alarm, then again during it
    early.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, False, False, False, {}))
    early.expect(raw.QUEUE_DECLARE_OK, 1)
    raw_publish(early, qname, b'before')
    consumer = raw_open(broker)     # consumes only
    consumer.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, qname, 'c1', False, False, False, False, {}))
    consumer.expect(raw.BASIC_CONSUME_OK, 1)
    f = consumer.expect(raw.BASIC_DELIVER, 1)
    consumer.read_method()
    assert consumer.read_method().payload == b'before'
    late = raw_open(broker)         # publishes during the alarm
    mute = raw_open(broker, capable=False)   # publishes during it, never told

    free.write_text('1000\n')
    wait_log(broker, r'store: free disk space 1000 bytes is below the limit.*publishers are blocked',
             what='the disk alarm')
    # nobody is told yet: whoever does not publish is read and answered
    for c in (early, consumer, late, mute):
        assert_answers(c, qname, 0)
    consumer.send(raw.method_frame(1, raw.BASIC_ACK, f.args[1], False))

    raw_publish(late, qname, b'late')
    f2 = late.read_method(3)
    assert f2.method == (10, 60), f2                      # connection.blocked
    assert raw.decode_args('S', f2.payload[4:]) == ['low on disk']
    raw_publish(mute, qname, b'mute')
    assert_silent(mute)                                   # not told, and
    mute.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, True, False, False, False, False, {}))
    assert_silent(mute, 0.5)                              # not read either
    assert_answers(early, qname, 0)                       # still read: the publishes wait
    assert_answers(consumer, qname, 0)
    raw_publish(early, qname, b'again')
    f2 = early.read_method(3)
    assert f2.method == (10, 60), f2
    assert_silent(consumer)

    free.write_text('100000000000\n')
    for c in (early, late):
        f2 = c.read_method(4)
        assert f2.method == (10, 61), f2                  # connection.unblocked
    f2 = mute.read_method(4)
    assert f2.method == raw.QUEUE_DECLARE_OK, f2          # read again, told nothing
    bodies = []
    while len(bodies) < 3:
        f2 = consumer.read_method(4)
        assert f2.method == raw.BASIC_DELIVER, f2         # no blocked, no unblocked
        consumer.read_method()
        bodies.append(consumer.read_method().payload)
        consumer.send(raw.method_frame(1, raw.BASIC_ACK, f2.args[1], False))
    assert sorted(bodies) == [b'again', b'late', b'mute']
    for c in (early, consumer, late, mute):
        c.close()
