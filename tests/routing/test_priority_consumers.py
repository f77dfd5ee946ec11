"""Priority queues (x-max-priority), single active consumer, consumer priorities.

RabbitMQ 3.10 behaviour pinned here:
  - in a queue with x-max-priority N, higher priority first, FIFO within a
    priority; no priority property means 0; above N counts as N; requeued
    messages go back to the front of their priority; without x-max-priority
    the priority property is ignored (plain FIFO);
  - x-single-active-consumer: every message goes to the first registered
    consumer; when it is cancelled or its channel closes, the next one takes
    over (with what the first left unacked, requeued); a cancel alone
    delivers nothing to the new one until the next publish or requeue;
  - x-priority on basic.consume: messages go to the highest-priority consumer
    that can take one (prefetch not full); lower ones only get the overflow.
"""
import pika

from routing_helpers import bodies, drain, get_one, wait_count, wait_for


def test_priority_order(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, arguments={'x-max-priority': 5})
    for name, pr in [('p0', None), ('p1', 1), ('p5a', 5), ('p9', 9), ('p5b', 5), ('p3', 3),
                     ('p0b', 0)]:
        ch.basic_publish('', qname, name.encode(), pika.BasicProperties(priority=pr))
    got = drain(ch, qname)
    assert [b for _m, _p, b in got] == [b'p5a', b'p9', b'p5b', b'p3', b'p1', b'p0', b'p0b']
    # the property itself is delivered as published
    assert [p.priority for _m, p, _b in got] == [5, 9, 5, 3, 1, None, 0]


def test_priority_ignored_without_max_priority(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname)
    for name, pr in [('p0', None), ('p1', 1), ('p5', 5)]:
        ch.basic_publish('', qname, name.encode(), pika.BasicProperties(priority=pr))
    assert bodies(ch, qname) == [b'p0', b'p1', b'p5']


def test_priority_requeue_goes_back_to_its_priority(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, arguments={'x-max-priority': 5})
    for name, pr in [('p1', 1), ('p5', 5), ('p3', 3)]:
        ch.basic_publish('', qname, name.encode(), pika.BasicProperties(priority=pr))
    m5, _p, b5 = get_one(ch, qname, auto_ack=False)
    m3, _p, b3 = get_one(ch, qname, auto_ack=False)
    assert (b5, b3) == (b'p5', b'p3')
    ch.basic_nack(m3.delivery_tag, requeue=True)
    ch.basic_nack(m5.delivery_tag, requeue=True)
    wait_count(ch, qname, 3)
    got = drain(ch, qname)
    assert [(m.redelivered, b) for m, _p, b in got] == [(True, b'p5'), (True, b'p3'), (False, b'p1')]


def test_priority_with_busy_consumer(amqp, qname):
    """A consumer with prefetch 1 sees the queue in priority order as it acks."""
    conn = amqp.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, arguments={'x-max-priority': 10})
    for i, pr in enumerate([1, 2, 3, 4]):
        ch.basic_publish('', qname, b'low%d' % i, pika.BasicProperties(priority=pr))
    got = []
    urgent = amqp.channel()            # its own connection: confirmed before the ack
    urgent.confirm_delivery()

    def on_message(c, method, _props, body):
        got.append(body)
        if body == b'low3':
            # while the consumer holds its first message, an urgent one arrives
            urgent.basic_publish('', qname, b'urgent', pika.BasicProperties(priority=10))
        c.basic_ack(method.delivery_tag)

    cch = conn.channel()
    cch.basic_qos(prefetch_count=1)
    cch.basic_consume(qname, on_message)
    wait_for(lambda: len(got) == 5, 5, conn=conn, what='5 deliveries')
    assert got == [b'low3', b'urgent', b'low2', b'low1', b'low0']


def test_priority_messages_survive_restart_in_order(broker, amqp, qname):
    broker.require_control()
    ch = amqp.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, durable=True, arguments={'x-max-priority': 3})
    for name, pr in [('a1', 1), ('b3', 3), ('c0', None), ('d3', 3), ('e2', 2)]:
        ch.basic_publish('', qname, name.encode(), pika.BasicProperties(priority=pr, delivery_mode=2))
    broker.restart()
    ch = amqp.channel()
    assert bodies(ch, qname) == [b'b3', b'd3', b'e2', b'a1', b'c0']


# ---------------------------------------------------------------- single active consumer

def consume_into(ch, q, sink, **kw):
    return ch.basic_consume(q, lambda c, m, _p, b: sink.append((m.delivery_tag, b)), **kw)


def test_single_active_consumer(amqp, qname):
    conn = amqp.connect()
    pub = conn.channel()
    pub.confirm_delivery()
    pub.queue_declare(qname, arguments={'x-single-active-consumer': True})
    a_ch, b_ch = conn.channel(), conn.channel()
    a, b = [], []
    a_tag = consume_into(a_ch, qname, a)
    consume_into(b_ch, qname, b)
    assert pub.queue_declare(qname, passive=True).method.consumer_count == 2
    for i in range(6):
        pub.basic_publish('', qname, b'%d' % i)
    wait_for(lambda: len(a) == 6, 5, conn=conn, what='6 deliveries to the active consumer')
    conn.process_data_events(time_limit=0.2)
    assert b == []
    a_ch.basic_ack(a[-1][0], multiple=True)
    a_ch.basic_cancel(a_tag)
    for i in range(6, 9):
        pub.basic_publish('', qname, b'%d' % i)
    wait_for(lambda: len(b) == 3, 5, conn=conn, what='the next consumer taking over')
    assert [x for _t, x in b] == [b'6', b'7', b'8']
    assert len(a) == 6


def test_single_active_consumer_takeover_gets_unacked(amqp, qname):
    conn = amqp.connect()
    pub = conn.channel()
    pub.confirm_delivery()
    pub.queue_declare(qname, arguments={'x-single-active-consumer': True})
    a_ch, b_ch = conn.channel(), conn.channel()
    a, b = [], []
    consume_into(a_ch, qname, a)
    consume_into(b_ch, qname, b)
    for i in range(4):
        pub.basic_publish('', qname, b'%d' % i)
    wait_for(lambda: len(a) == 4, 5, conn=conn, what='4 deliveries to the active consumer')
    a_ch.basic_ack(a[0][0])
    a_ch.close()                       # three unacked go back, to the new active consumer
    wait_for(lambda: len(b) == 3, 5, conn=conn, what='takeover with the requeued messages')
    assert [x for _t, x in b] == [b'1', b'2', b'3']


def test_single_active_consumer_takeover_with_prefetch(amqp, qname):
    """pika's close(): basic.cancel, then channel.close.  RabbitMQ makes the
    next consumer active at the cancel but delivers nothing then; the close
    requeues what the old one held, and that goes first."""
    pub = amqp.channel()
    pub.confirm_delivery()
    pub.queue_declare(qname, arguments={'x-single-active-consumer': True})
    a_conn, b_conn = amqp.connect(), amqp.connect()
    a_ch, b_ch = a_conn.channel(), b_conn.channel()
    a_ch.basic_qos(prefetch_count=1)
    b_ch.basic_qos(prefetch_count=1)
    a, b = [], []
    a_tag = a_ch.basic_consume(qname, lambda c, m, _p, x: a.append((m.delivery_tag, m.redelivered, x)))
    b_ch.basic_consume(qname, lambda c, m, _p, x: b.append((m.delivery_tag, m.redelivered, x)))
    for i in range(4):
        pub.basic_publish('', qname, b'%d' % i)
    wait_for(lambda: a, 5, conn=a_conn, what='the first delivery')
    b_conn.process_data_events(time_limit=0.2)
    assert ([x for _t, _r, x in a], b) == ([b'0'], [])
    a_ch.basic_cancel(a_tag)
    b_conn.process_data_events(time_limit=0.3)
    assert b == []                     # active now, but nothing delivered yet
    a_ch.close()                       # '0' goes back, first
    wait_for(lambda: b, 5, conn=b_conn, what='the takeover')
    assert b == [(1, True, b'0')]
    b_ch.basic_ack(1)
    wait_for(lambda: len(b) == 2, 5, conn=b_conn, what='the next message')
    assert b[1][1:] == (False, b'1')


# ---------------------------------------------------------------- consumer priorities

def test_consumer_priority_highest_takes_all(amqp, qname):
    conn = amqp.connect()
    pub = conn.channel()
    pub.confirm_delivery()
    pub.queue_declare(qname)
    low_ch, high_ch, neg_ch = conn.channel(), conn.channel(), conn.channel()
    low, high, neg = [], [], []
    consume_into(low_ch, qname, low)
    consume_into(high_ch, qname, high, arguments={'x-priority': 10})
    consume_into(neg_ch, qname, neg, arguments={'x-priority': -5})
    for i in range(10):
        pub.basic_publish('', qname, b'%d' % i)
    wait_for(lambda: len(high) == 10, 5, conn=conn, what='10 deliveries to the high consumer')
    conn.process_data_events(time_limit=0.2)
    assert (low, neg) == ([], [])


def test_consumer_priority_overflow_to_lower_when_prefetch_full(amqp, qname):
    conn = amqp.connect()
    pub = conn.channel()
    pub.confirm_delivery()
    pub.queue_declare(qname)
    high_ch, low_ch = conn.channel(), conn.channel()
    high, low = [], []
    high_ch.basic_qos(prefetch_count=2)
    consume_into(high_ch, qname, high, arguments={'x-priority': 5})
    consume_into(low_ch, qname, low)
    for i in range(6):
        pub.basic_publish('', qname, b'%d' % i)
    wait_for(lambda: len(high) + len(low) == 6, 5, conn=conn, what='6 deliveries')
    assert [b for _t, b in high] == [b'0', b'1']
    assert [b for _t, b in low] == [b'2', b'3', b'4', b'5']
    # the high consumer has room again: new messages go to it
    high_ch.basic_ack(high[-1][0], multiple=True)
    for i in range(6, 8):
        pub.basic_publish('', qname, b'%d' % i)
    wait_for(lambda: len(high) == 4, 5, conn=conn, what='2 more to the high consumer')
    assert [b for _t, b in high[2:]] == [b'6', b'7']
    assert len(low) == 4
