"""Issue 3: consumers, prefetch, acks, redelivery, basic.get, as RabbitMQ 3.10 does them.

RabbitMQ behaviour pinned here (the broker implementer needs these):
  - a server-generated consumer tag starts "amq.ctag-";
  - a consumer tag reused on the same channel is connection error 530
    "NOT_ALLOWED - attempt to reuse consumer tag 'T'";
  - exclusive consume: 403 "ACCESS_REFUSED - queue 'Q' in vhost '/' in exclusive use"
    both for consuming beside an exclusive consumer and for exclusive beside any;
  - deleting a queue sends basic.cancel (nowait=true) to its consumers, but only
    to clients that announced capability consumer_cancel_notify;
  - basic.qos global=false limits each consumer created after it; in
    RabbitMQ changing it does not touch existing consumers, in warren (as in
    LavinMQ) it sets their limit too, at once (kombu sends global=false to any
    broker but RabbitMQ and relies on the spec's meaning: issue 11, point 4);
    global=true is one limit shared by the channel and takes effect
    immediately; both may be in force together, but a global=false qos lifts
    the channel-wide limit at once (RabbitMQ 3.10's unlimit_prefetch);
  - the channel-wide limit counts consumer deliveries only: basic.get ones
    neither count nor free room when acked, except that a limit set while
    messages are unacked starts counting from all of them; a full limit
    holds back no-ack consumers of the channel too;
  - basic.consume nowait=true sends no consume-ok, deliveries follow;
  - there is no delivery timeout: a delivery may stay unacked for as long as
    its channel lives;
  - requeued messages (reject, nack, recover, channel/connection close, a dead
    consumer) go back to their original place: ahead of never-delivered ones,
    in publish order, with redelivered=true;
  - unknown/already acked delivery tag: 406 "PRECONDITION_FAILED - unknown delivery tag N";
    ack of tag 0 with multiple=true and nothing outstanding is fine;
  - basic.recover requeue=false is connection error 540 "NOT_IMPLEMENTED - requeue=false".
"""
import signal
import time

import pytest
from pika.exceptions import ChannelClosedByBroker

import amqp_raw as raw
from helpers import HERE, PYTHON, wait_for


class Collector:
    """on_message_callback that records (body, method) and optionally acks."""

    def __init__(self, ack=False):
        self.ack = ack
        self.got = []

    def __call__(self, ch, method, props, body):
        self.got.append((body, method))
        if self.ack:
            ch.basic_ack(method.delivery_tag)

    @property
    def bodies(self):
        return [b for b, _ in self.got]

    @property
    def redelivered(self):
        return [m.redelivered for _, m in self.got]

    @property
    def tags(self):
        return [m.delivery_tag for _, m in self.got]


def pump(conns, predicate, timeout=5.0, what='deliveries'):
    """Process events on several pika connections until predicate() holds."""
    if not isinstance(conns, (list, tuple)):
        conns = [conns]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError('timed out waiting for %s' % what)
        for c in conns:
            c.process_data_events(time_limit=0.01)


def settle(conns, seconds=0.3):
    """Give the broker a moment to (wrongly) deliver more, then stop."""
    if not isinstance(conns, (list, tuple)):
        conns = [conns]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for c in conns:
            c.process_data_events(time_limit=0.02)


def fill(ch, q, n, prefix='m'):
    for i in range(n):
        ch.basic_publish('', q, b'%s%d' % (prefix.encode(), i))
    wait_for(lambda: ch.queue_declare(q, passive=True).method.message_count == n,
             what='%d messages in %s' % (n, q))
    return [b'%s%d' % (prefix.encode(), i) for i in range(n)]


def ready(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def drain_get(ch, q):
    out = []
    while True:
        m, _p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((b, m.redelivered))


# ---------------------------------------------------------------- 4. basic.consume

def test_server_generated_consumer_tag(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, qname, '', False, False, False, False, {}))
        tag1 = c.expect(raw.BASIC_CONSUME_OK, 1).args[0]
        c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, qname, '', False, False, False, False, {}))
        tag2 = c.expect(raw.BASIC_CONSUME_OK, 1).args[0]
        assert tag1.startswith('amq.ctag-') and tag2.startswith('amq.ctag-')
        assert tag1 != tag2
        c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, qname, 'my-tag', False, False, False, False, {}))
        assert c.expect(raw.BASIC_CONSUME_OK, 1).args == ['my-tag']
        # delivery names the consumer
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False)
               + raw.header_frame(1, 1) + raw.body_frame(1, b'z'))
        d = c.expect(raw.BASIC_DELIVER, 1)
        assert d.args[0] in (tag1, tag2, 'my-tag')
        assert d.args[1:] == [1, False, '', qname]


def test_consumer_tag_reuse_530(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, qname, 'dup', False, False, False, False, {}))
        c.expect(raw.BASIC_CONSUME_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, qname, 'dup', False, False, False, False, {}))
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (530, 60, 20)
        assert text == "NOT_ALLOWED - attempt to reuse consumer tag 'dup'"


def test_consume_nowait(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, False, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, qname, 'nw', False, False, False, True, {}))
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False)
               + raw.header_frame(1, 1) + raw.body_frame(1, b'z'))
        d = c.read_method()                     # no consume-ok before it
        assert d.method == raw.BASIC_DELIVER, d
        assert d.args == ['nw', 1, False, '', qname]
        assert c.read_frame().type == raw.FRAME_HEADER
        assert c.read_frame().payload == b'z'
        # the consumer exists under its tag
        c.send(raw.method_frame(1, raw.BASIC_CANCEL, 'nw', False))
        assert c.expect(raw.BASIC_CANCEL_OK, 1).args == ['nw']
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, True, False, False, False, False, {}))
        assert c.expect(raw.QUEUE_DECLARE_OK, 1).args == [qname, 0, 0]


def test_consume_missing_queue_404(amqp, qname):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.basic_consume('gone-' + qname, lambda *a: None)
    assert ei.value.reply_code == 404
    assert ei.value.reply_text == "NOT_FOUND - no queue 'gone-%s' in vhost '/'" % qname


def test_consume_no_ack(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    sent = fill(ch, qname, 5)
    col = Collector()
    ch.basic_consume(qname, col, auto_ack=True)
    pump(conn, lambda: len(col.got) == 5)
    assert col.bodies == sent
    conn.close()
    # nothing was outstanding, so nothing comes back
    ch2 = amqp.channel()
    assert ready(ch2, qname) == 0


def test_exclusive_consumer_blocks_others(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    tag = ch.basic_consume(qname, Collector(), exclusive=True)
    text = "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use" % qname
    for exclusive in (False, True):
        with pytest.raises(ChannelClosedByBroker) as ei:
            conn.channel().basic_consume(qname, Collector(), exclusive=exclusive)
        assert (ei.value.reply_code, ei.value.reply_text) == (403, text)
    ch.basic_cancel(tag)
    conn.channel().basic_consume(qname, Collector())


def test_exclusive_consume_beside_existing_consumer_403(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    ch.basic_consume(qname, Collector())
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().basic_consume(qname, Collector(), exclusive=True)
    assert ei.value.reply_code == 403
    assert ei.value.reply_text == "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use" % qname


def test_basic_cancel_stops_deliveries_keeps_unacked(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 2)
    col = Collector()
    ch.basic_qos(prefetch_count=2)
    tag = ch.basic_consume(qname, col)
    pump(conn, lambda: len(col.got) == 2)
    ch.basic_cancel(tag)
    assert ch.queue_declare(qname, passive=True).method.consumer_count == 0
    ch.basic_publish('', qname, b'after-cancel')
    settle(conn)
    assert len(col.got) == 2
    # the cancelled consumer's messages are still unacked on the channel: ack works
    ch.basic_ack(col.got[-1][1].delivery_tag, multiple=True)
    wait_for(lambda: ready(ch, qname) == 1)
    ch.close()
    assert ready(conn.channel(), qname) == 1


def test_queue_deleted_under_consumer_sends_cancel(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    cancels = []
    ch.add_on_cancel_callback(lambda frame: cancels.append(frame))
    tag = ch.basic_consume(qname, Collector())
    amqp.channel().queue_delete(qname)
    pump(conn, lambda: cancels, what='basic.cancel from the broker')
    assert cancels[0].method.consumer_tag == tag
    assert ch.is_open


def test_queue_deleted_cancel_raw_needs_capability(broker, amqp, qname):
    """basic.cancel (nowait) goes only to clients announcing consumer_cancel_notify."""
    other = amqp.channel()
    for announce in (True, False):
        q = amqp.name()
        other.queue_declare(q)
        caps = {'consumer_cancel_notify': True} if announce else {}
        with raw.RawConnection(broker.host, broker.port) as c:
            c.send_header()
            c.read_start()
            c.send_start_ok(client_properties={'product': 'raw', 'capabilities': caps})
            c.read_tune()
            c.send_tune_ok()
            c.send_open()
            c.expect(raw.CONNECTION_OPEN_OK)
            c.open_channel(1)
            c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, q, 'ct', False, False, False, False, {}))
            c.expect(raw.BASIC_CONSUME_OK, 1)
            other.queue_delete(q)
            c.send(raw.method_frame(1, raw.CHANNEL_FLOW, True))
            f = c.read_method()
            if announce:
                assert f.method == raw.BASIC_CANCEL and f.channel == 1, f
                assert f.args == ['ct', True]
                f = c.read_method()
            assert f.method == raw.CHANNEL_FLOW_OK, f


# ---------------------------------------------------------------- 5. dispatch

def test_round_robin_over_consumers(amqp, qname):
    conn = amqp.connect()
    ch1, ch2 = conn.channel(), conn.channel()
    ch1.queue_declare(qname)
    a, b = Collector(ack=True), Collector(ack=True)
    ch1.basic_consume(qname, a)
    ch2.basic_consume(qname, b)
    pub = conn.channel()
    for i in range(8):
        pub.basic_publish('', qname, b'%d' % i)
    pump(conn, lambda: len(a.got) + len(b.got) == 8)
    assert len(a.got) == 4 and len(b.got) == 4
    # strictly alternating: one takes the even, the other the odd messages
    halves = sorted([a.bodies, b.bodies])
    assert halves == [[b'0', b'2', b'4', b'6'], [b'1', b'3', b'5', b'7']]


def test_delivery_tags_per_channel(amqp, qname):
    conn = amqp.connect()
    ch1, ch2 = conn.channel(), conn.channel()
    ch1.queue_declare(qname)
    a, b = Collector(), Collector()
    ch1.basic_consume(qname, a)
    ch2.basic_consume(qname, b)
    pub = conn.channel()
    for i in range(6):
        pub.basic_publish('', qname, b'%d' % i)
    pump(conn, lambda: len(a.got) + len(b.got) == 6)
    assert a.tags == [1, 2, 3] and b.tags == [1, 2, 3]
    # basic.get shares the channel's tag sequence
    ch1.basic_cancel(a.got[0][1].consumer_tag)
    ch2.basic_cancel(b.got[0][1].consumer_tag)
    pub.basic_publish('', qname, b'g')
    m = None
    deadline = time.monotonic() + 5
    while m is None and time.monotonic() < deadline:
        m, _p, _b = ch1.basic_get(qname)
    assert m.delivery_tag == 4


def test_delivery_fields_and_redelivered(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'once')
    col = Collector()
    tag = ch.basic_consume(qname, col)
    pump(conn, lambda: col.got)
    m = col.got[0][1]
    assert (m.exchange, m.routing_key, m.redelivered, m.consumer_tag) == ('', qname, False, tag)
    ch.basic_reject(m.delivery_tag, requeue=True)
    pump(conn, lambda: len(col.got) == 2)
    m2 = col.got[1][1]
    assert col.bodies == [b'once', b'once']
    assert m2.redelivered is True
    assert (m2.exchange, m2.routing_key) == ('', qname)
    assert m2.delivery_tag == m.delivery_tag + 1


# ---------------------------------------------------------------- 6. basic.qos

def test_prefetch_per_consumer(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_qos(prefetch_count=2)                 # global=false: each new consumer
    a, b = Collector(), Collector()
    ch.basic_consume(qname, a)
    ch.basic_consume(qname, b)
    pump(conn, lambda: len(a.got) == 2 and len(b.got) == 2)
    settle(conn)
    assert len(a.got) == 2 and len(b.got) == 2
    assert ready(conn.channel(), qname) == 6
    ch.basic_ack(a.tags[0])
    pump(conn, lambda: len(a.got) == 3)
    settle(conn)
    assert len(a.got) == 3 and len(b.got) == 2


def test_prefetch_global_is_per_channel(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    a, b = Collector(), Collector()
    ch.basic_consume(qname, a)
    ch.basic_consume(qname, b)
    pump(conn, lambda: len(a.got) + len(b.got) == 3)
    settle(conn)
    assert len(a.got) + len(b.got) == 3
    assert ready(conn.channel(), qname) == 7


def test_prefetch_global_and_per_consumer_together(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    # per-consumer first, then per-channel (RabbitMQ's documented order: a later
    # global=false qos clears the channel-wide limit in RabbitMQ 3.10)
    ch.basic_qos(prefetch_count=1, global_qos=False)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    a, b = Collector(), Collector()
    ch.basic_consume(qname, a)
    ch.basic_consume(qname, b)
    pump(conn, lambda: len(a.got) == 1 and len(b.got) == 1)
    settle(conn)
    assert (len(a.got), len(b.got)) == (1, 1)
    c = Collector()
    ch.basic_consume(qname, c)
    pump(conn, lambda: len(c.got) == 1)
    d = Collector()
    ch.basic_consume(qname, d)
    settle(conn)
    assert len(d.got) == 0                 # the channel's 3 are in use
    ch.basic_ack(a.tags[0])
    pump(conn, lambda: len(a.got) + len(d.got) == 2)


def test_prefetch_one_busy_consumer_gets_nothing_until_ack(amqp, qname):
    conn = amqp.connect()
    busy_ch = conn.channel()
    busy_ch.queue_declare(qname)
    busy_ch.basic_qos(prefetch_count=1)
    busy = Collector()
    busy_ch.basic_consume(qname, busy)
    pub = conn.channel()
    pub.basic_publish('', qname, b'first')
    pump(conn, lambda: busy.got)
    for i in range(3):
        pub.basic_publish('', qname, b'more%d' % i)
    settle(conn)
    assert busy.bodies == [b'first']
    free_ch = conn.channel()
    free_ch.basic_qos(prefetch_count=1)
    free = Collector(ack=True)
    free_ch.basic_consume(qname, free)
    pump(conn, lambda: len(free.got) == 3)
    assert busy.bodies == [b'first']
    assert free.bodies == [b'more0', b'more1', b'more2']
    busy_ch.basic_ack(busy.tags[0])
    pub.basic_publish('', qname, b'last')
    pump(conn, lambda: len(busy.got) + len(free.got) == 5)


def is_rabbitmq(conn):
    return conn._impl.server_properties.get('product') == 'RabbitMQ'


def test_qos_change_per_consumer_sets_existing_consumers_too(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_qos(prefetch_count=2)
    a = Collector()
    ch.basic_consume(qname, a)
    pump(conn, lambda: len(a.got) == 2)
    ch.basic_qos(prefetch_count=4)
    if is_rabbitmq(conn):
        settle(conn)
        assert len(a.got) == 2              # RabbitMQ: the old consumer keeps its limit of 2
    else:
        # warren, as LavinMQ: the running consumer's limit is 4 now
        pump(conn, lambda: len(a.got) == 4, what='the raised limit to reach the running consumer')
        settle(conn)
        assert len(a.got) == 4
    held = len(a.got)
    b = Collector()
    ch.basic_consume(qname, b)
    pump(conn, lambda: len(b.got) == 4)
    settle(conn)
    assert len(b.got) == 4 and len(a.got) == held


def test_qos_global_false_raises_running_consumer_as_kombu_does(amqp, qname):
    """kombu's QoS on a broker it takes for a spec-reading one: a consumer made
    under prefetch 1, then basic.qos(global=false) with 2, 3 as Celery holds
    ETA tasks, and back down to 1: each change reaches the running consumer."""
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_qos(prefetch_count=1, global_qos=False)
    a = Collector()
    ch.basic_consume(qname, a)
    pump(conn, lambda: len(a.got) == 1)
    ch.basic_qos(prefetch_count=2, global_qos=False)
    if is_rabbitmq(conn):
        settle(conn)
        assert len(a.got) == 1              # RabbitMQ: later consumers only
        return
    pump(conn, lambda: len(a.got) == 2, what='a second delivery once the limit is 2')
    ch.basic_qos(prefetch_count=3, global_qos=False)
    pump(conn, lambda: len(a.got) == 3, what='a third delivery once the limit is 3')
    settle(conn)
    assert len(a.got) == 3
    ch.basic_qos(prefetch_count=1, global_qos=False)    # lowered: nothing until it has room
    ch.basic_ack(a.tags[0])
    ch.basic_ack(a.tags[1])
    settle(conn)
    assert len(a.got) == 3
    ch.basic_ack(a.tags[2])
    pump(conn, lambda: len(a.got) == 4)
    settle(conn)
    assert len(a.got) == 4
    assert ready(conn.channel(), qname) == 6


def test_qos_change_global_takes_effect_at_once(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_qos(prefetch_count=2, global_qos=True)
    a = Collector()
    ch.basic_consume(qname, a)
    pump(conn, lambda: len(a.got) == 2)
    settle(conn)
    assert len(a.got) == 2
    ch.basic_qos(prefetch_count=5, global_qos=True)
    pump(conn, lambda: len(a.got) == 5, what='more deliveries after raising the limit')
    settle(conn)
    assert len(a.got) == 5
    ch.basic_qos(prefetch_count=0, global_qos=True)        # 0 = unlimited
    pump(conn, lambda: len(a.got) == 10)


def test_qos_per_consumer_lifts_channel_limit_at_once(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    a = Collector()
    ch.basic_consume(qname, a)
    pump(conn, lambda: len(a.got) == 3)
    settle(conn)
    assert len(a.got) == 3
    # global=false: the channel-wide limit goes, for the running consumer too;
    # in RabbitMQ its own limit stays the one it was made with (none), in
    # warren it is the new one (5)
    ch.basic_qos(prefetch_count=5, global_qos=False)
    want = 10 if is_rabbitmq(conn) else 5
    pump(conn, lambda: len(a.got) == want, what='more once the channel limit is lifted')
    settle(conn)
    assert len(a.got) == want


def test_qos_per_consumer_zero_after_global_leaves_no_limit(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_qos(prefetch_count=3, global_qos=True)
    ch.basic_qos(prefetch_count=0, global_qos=False)
    a = Collector()
    ch.basic_consume(qname, a)
    pump(conn, lambda: len(a.got) == 10)


def test_basic_get_does_not_count_toward_channel_limit(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_qos(prefetch_count=2, global_qos=True)
    g1 = ch.basic_get(qname)[0].delivery_tag
    g2 = ch.basic_get(qname)[0].delivery_tag
    a = Collector()
    ch.basic_consume(qname, a)
    pump(conn, lambda: len(a.got) == 2, what='2 deliveries beside 2 unacked gets')
    settle(conn)
    assert len(a.got) == 2
    ch.basic_ack(g2, multiple=True)         # acks the gets only: frees nothing
    settle(conn)
    assert len(a.got) == 2
    ch.basic_ack(a.tags[0])
    pump(conn, lambda: len(a.got) == 3)
    settle(conn)
    assert len(a.got) == 3
    assert g1 < g2 < a.tags[0]


def test_channel_limit_counts_what_is_unacked_when_set(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 10)
    ch.basic_get(qname)
    g2 = ch.basic_get(qname)[0].delivery_tag
    ch.basic_qos(prefetch_count=3, global_qos=True)   # starts at 2: the unacked gets
    a = Collector()
    ch.basic_consume(qname, a)
    pump(conn, lambda: len(a.got) == 1)
    settle(conn)
    assert len(a.got) == 1
    ch.basic_ack(g2, multiple=True)                   # get acks never free room
    settle(conn)
    assert len(a.got) == 1
    ch.basic_ack(a.tags[0])
    pump(conn, lambda: len(a.got) == 2)
    settle(conn)
    assert len(a.got) == 2


def test_full_channel_limit_holds_back_no_ack_consumer(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    other = amqp.name('noack')
    ch.queue_declare(qname)
    ch.queue_declare(other)
    fill(ch, qname, 1)
    fill(ch, other, 5)
    ch.basic_qos(prefetch_count=1, global_qos=True)
    a, b = Collector(), Collector()
    ch.basic_consume(qname, a)
    pump(conn, lambda: len(a.got) == 1)
    ch.basic_consume(other, b, auto_ack=True)
    settle(conn, 0.5)
    assert (len(a.got), len(b.got)) == (1, 0)
    ch.basic_ack(a.tags[0])
    # room again (and nothing more for a): the no-ack deliveries do not use
    # it up, so they all go
    pump(conn, lambda: len(b.got) == 5, what='no-ack deliveries once there is room')


def test_qos_prefetch_size_not_implemented(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_QOS, 1000, 0, False))
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (540, 60, 10)
        assert text == 'NOT_IMPLEMENTED - prefetch_size!=0 (1000)'


# ---------------------------------------------------------------- 7. ack, nack, reject

def consume_all(conn, ch, q, n, prefetch=0):
    col = Collector()
    ch.basic_qos(prefetch_count=prefetch)
    ch.basic_consume(q, col)
    pump(conn, lambda: len(col.got) == n)
    return col


def test_ack_multiple(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 5)
    col = consume_all(conn, ch, qname, 5)
    ch.basic_ack(col.tags[2], multiple=True)        # acks 1..3
    ch.close()
    ch2 = conn.channel()
    wait_for(lambda: ready(ch2, qname) == 2)
    assert drain_get(ch2, qname) == [(b'm3', True), (b'm4', True)]


def test_nack_multiple_requeue_order_preserved(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 6)
    col = consume_all(conn, ch, qname, 3, prefetch=3)
    assert col.bodies == [b'm0', b'm1', b'm2']
    ch.basic_cancel(col.got[0][1].consumer_tag)
    ch.basic_nack(col.tags[2], multiple=True, requeue=True)
    g = conn.channel()
    wait_for(lambda: ready(g, qname) == 6)
    assert drain_get(g, qname) == [(b'm0', True), (b'm1', True), (b'm2', True),
                                   (b'm3', False), (b'm4', False), (b'm5', False)]


def test_nack_and_reject_without_requeue_discard(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 4)
    col = consume_all(conn, ch, qname, 4)
    ch.basic_cancel(col.got[0][1].consumer_tag)
    ch.basic_reject(col.tags[0], requeue=False)
    ch.basic_nack(col.tags[2], multiple=True, requeue=False)    # tags 2 and 3
    ch.basic_nack(col.tags[3], multiple=False, requeue=True)
    g = conn.channel()
    wait_for(lambda: ready(g, qname) == 1)
    assert drain_get(g, qname) == [(b'm3', True)]


def test_requeued_message_returns_to_its_place(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 5, prefix='')
    got = [ch.basic_get(qname)[0] for _ in range(3)]            # 0, 1, 2 unacked
    ch.basic_reject(got[1].delivery_tag, requeue=True)
    m, _p, body = ch.basic_get(qname)
    assert (body, m.redelivered) == (b'1', True)               # ahead of 3 and 4
    # requeue out of order: they still come back in publish order
    ch.basic_nack(got[2].delivery_tag, requeue=True)
    ch.basic_nack(got[0].delivery_tag, requeue=True)
    ch.basic_nack(m.delivery_tag, requeue=True)
    wait_for(lambda: ready(ch, qname) == 5)
    assert drain_get(ch, qname) == [(b'0', True), (b'1', True), (b'2', True),
                                    (b'3', False), (b'4', False)]


def test_unknown_delivery_tag_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ch.basic_ack(7)
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname)
    assert ei.value.reply_code == 406
    assert ei.value.reply_text == 'PRECONDITION_FAILED - unknown delivery tag 7'


@pytest.mark.parametrize('how', ['reject', 'nack', 'ack_multiple'])
def test_unknown_delivery_tag_other_methods_406(amqp, qname, how):
    ch = amqp.channel()
    ch.queue_declare(qname)
    {'reject': lambda: ch.basic_reject(3),
     'nack': lambda: ch.basic_nack(3),
     'ack_multiple': lambda: ch.basic_ack(3, multiple=True)}[how]()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname)
    assert ei.value.reply_code == 406
    assert ei.value.reply_text == 'PRECONDITION_FAILED - unknown delivery tag 3'


def test_double_ack_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 1)
    m, _p, _b = ch.basic_get(qname)
    ch.basic_ack(m.delivery_tag)
    ch.basic_ack(m.delivery_tag)
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname)
    assert ei.value.reply_code == 406
    assert ei.value.reply_text == 'PRECONDITION_FAILED - unknown delivery tag %d' % m.delivery_tag
    # the ack before the error counted: nothing comes back
    assert ready(amqp.channel(), qname) == 0


def test_ack_zero_multiple_with_nothing_outstanding_is_fine(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ch.basic_ack(0, multiple=True)
    assert ch.queue_declare(qname).method.queue == qname


def test_ack_on_channel_closes_with_unknown_tag_keeps_other_channel(amqp, qname):
    conn = amqp.connect()
    ch1 = conn.channel()
    ch1.queue_declare(qname)
    fill(ch1, qname, 1)
    m, _p, _b = ch1.basic_get(qname)
    ch2 = conn.channel()
    ch2.basic_ack(m.delivery_tag)          # tags are per channel: unknown on ch2
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch2.queue_declare(qname)
    assert ei.value.reply_code == 406
    assert ch1.is_open and conn.is_open
    ch1.basic_ack(m.delivery_tag)
    assert ready(ch1, qname) == 0


# ---------------------------------------------------------------- 8. consumer death

def test_channel_close_requeues_in_order(amqp, qname):
    conn = amqp.connect()
    dying = conn.channel()
    dying.queue_declare(qname)
    fill(dying, qname, 5)
    col = consume_all(conn, dying, qname, 5)
    dying.basic_ack(col.tags[1])                      # m1 done, the rest unacked
    survivor = conn.channel()
    rest = Collector(ack=True)
    survivor.basic_consume(qname, rest)
    settle(conn, 0.2)
    assert rest.got == []
    dying.close()
    pump(conn, lambda: len(rest.got) == 4, what='redelivery after channel close')
    assert rest.bodies == [b'm0', b'm2', b'm3', b'm4']
    assert rest.redelivered == [True] * 4


def test_connection_close_requeues_in_order(amqp, qname):
    dying_conn = amqp.connect()
    dying = dying_conn.channel()
    dying.queue_declare(qname)
    fill(dying, qname, 4)
    col = consume_all(dying_conn, dying, qname, 4)
    assert col.redelivered == [False] * 4
    conn = amqp.connect()
    survivor = conn.channel()
    rest = Collector(ack=True)
    survivor.basic_consume(qname, rest)
    dying_conn.close()
    pump(conn, lambda: len(rest.got) == 4, what='redelivery after connection close')
    assert rest.bodies == [b'm0', b'm1', b'm2', b'm3']
    assert rest.redelivered == [True] * 4


def test_sigkilled_consumer_process_requeues_in_order(amqp, qname, broker, procs):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 6)
    holder = procs.start([PYTHON, HERE + '/hold_consumer.py', broker.url, qname, '3'])
    lines = []
    deadline = time.monotonic() + 10
    while len([l for l in lines if l.startswith('got ')]) < 3:
        assert time.monotonic() < deadline, lines
        line = holder.stdout.readline().decode()
        assert line, 'consumer process exited: %r' % lines
        lines.append(line.strip())
    assert [l for l in lines if l.startswith('got ')] == [
        'got m0 redelivered=False', 'got m1 redelivered=False', 'got m2 redelivered=False']
    rest = Collector(ack=True)
    ch.basic_consume(qname, rest)
    pump(conn, lambda: len(rest.got) == 3)            # m3..m5, never delivered before
    holder.send_signal(signal.SIGKILL)
    holder.wait(5)
    # no timeout involved: the broker sees the socket close and requeues at once
    pump(conn, lambda: len(rest.got) == 6, timeout=5, what='redelivery after SIGKILL')
    assert rest.bodies == [b'm3', b'm4', b'm5', b'm0', b'm1', b'm2']
    assert rest.redelivered == [False, False, False, True, True, True]
    assert ready(conn.channel(), qname) == 0


def test_sigkilled_consumer_requeued_ahead_of_fresh_messages(amqp, qname, broker, procs):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 5)
    holder = procs.start([PYTHON, HERE + '/hold_consumer.py', broker.url, qname, '2'])
    got = []
    while len(got) < 2:
        line = holder.stdout.readline().decode()
        assert line, 'consumer process exited'
        if line.startswith('got '):
            got.append(line.split()[1])
    assert got == ['m0', 'm1']
    holder.send_signal(signal.SIGKILL)
    holder.wait(5)
    wait_for(lambda: ready(ch, qname) == 5, what='requeue after SIGKILL')
    assert drain_get(ch, qname) == [(b'm0', True), (b'm1', True), (b'm2', False),
                                    (b'm3', False), (b'm4', False)]


def test_no_delivery_timeout_by_default(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 1)
    col = Collector()
    ch.basic_consume(qname, col)
    pump(conn, lambda: col.got)
    settle(conn, 3.0)                       # hold it unacked; the connection stays up
    ch.basic_ack(col.tags[0])
    ok = ch.queue_declare(qname, passive=True)   # the channel is still open: the ack was good
    assert (ok.method.message_count, ok.method.consumer_count) == (0, 1)
    settle(conn)
    assert col.bodies == [b'm0']            # and it never came back


# ---------------------------------------------------------------- 9. basic.get, basic.recover

def test_basic_get_ok_and_empty(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    m, _p, _b = ch.basic_get(qname)
    assert m is None                                        # get-empty
    fill(ch, qname, 3)
    counts = []
    for expected in (b'm0', b'm1', b'm2'):
        m, _p, body = ch.basic_get(qname, auto_ack=True)
        assert body == expected
        assert (m.exchange, m.routing_key, m.redelivered) == ('', qname, False)
        counts.append(m.message_count)
    assert counts == [2, 1, 0]                              # messages left after this one
    assert ch.basic_get(qname)[0] is None


def test_basic_get_empty_raw(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_GET, 0, qname, False))
        f = c.expect(raw.BASIC_GET_EMPTY, 1)
        assert f.args == ['']


def test_basic_get_missing_queue_404(amqp, qname):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.basic_get('gone-' + qname)
    assert ei.value.reply_code == 404


def test_basic_get_unacked_then_requeued_on_close(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 2)
    m, _p, body = ch.basic_get(qname)             # needs an ack
    assert body == b'm0' and m.message_count == 1
    ch.close()
    ch2 = conn.channel()
    wait_for(lambda: ready(ch2, qname) == 2)
    assert drain_get(ch2, qname) == [(b'm0', True), (b'm1', False)]


def test_basic_recover_requeue(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    fill(ch, qname, 3)
    col = consume_all(conn, ch, qname, 3)
    ch.basic_ack(col.tags[1])
    ch.basic_recover(requeue=True)
    pump(conn, lambda: len(col.got) == 5, what='redelivery after basic.recover')
    assert col.bodies[3:] == [b'm0', b'm2']
    assert col.redelivered == [False, False, False, True, True]
    assert col.tags[3:] == [4, 5]
    ch.basic_ack(col.tags[-1], multiple=True)
    # the old tags died with the recover
    ch.basic_ack(col.tags[0])
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, passive=True)
    assert ei.value.reply_text == 'PRECONDITION_FAILED - unknown delivery tag 1'


def test_basic_recover_without_requeue_not_implemented(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_RECOVER, False))
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (540, 60, 110)
        assert text == 'NOT_IMPLEMENTED - requeue=false'


def test_basic_recover_raw_ok(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_RECOVER, True))
        c.expect(raw.BASIC_RECOVER_OK, 1)
