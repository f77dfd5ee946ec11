"""Message TTL (x-message-ttl, the expiration property) and queue TTL (x-expires).

RabbitMQ 3.10 behaviour pinned here:
  - a message expires after min(x-message-ttl, expiration); the broker drops
    (or dead-letters) expired messages at the head of the queue on its own,
    without anyone consuming;
  - a message with a later expiry ahead of it keeps an expired message in
    the queue (and counted) until it reaches the head: only then is it
    dropped / dead-lettered;
  - TTL 0 (either way): delivered if a consumer can take it at once, else
    dropped;
  - a message requeued after its TTL passed is dropped;
  - expiration must be a non-negative integer string, else 406 at publish;
  - x-expires: a queue with no consumers, no basic.get and no (re)declare
    for that long is deleted; a *passive* declare counts as use, but not a
    declare with nowait (RabbitMQ reads the queue's counts only for a
    declare-ok), nor publishing to it, purging or binding it.
"""
import os
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

import amqp_raw as raw
from routing_helpers import bodies, closed_with, count, drain, get_one, wait_count, wait_for

EXTERNAL = bool(os.environ.get("WARREN_TEST_URL"))


def declare(ch, q, **args):
    ch.queue_declare(q, arguments=args or None)
    return q


def test_queue_ttl_expires_messages_without_consumers(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    declare(ch, qname, **{'x-message-ttl': 1000})
    t0 = time.monotonic()
    for i in range(3):
        ch.basic_publish('', qname, b'%d' % i)
    # not too early: the first is still there right away
    m, _p, b = get_one(ch, qname)
    assert b == b'0'
    wait_count(ch, qname, 0, timeout=6)
    assert time.monotonic() - t0 >= 0.9
    assert ch.basic_get(qname, auto_ack=True)[0] is None


def test_per_message_expiration(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    declare(ch, qname)
    ch.basic_publish('', qname, b'short', pika.BasicProperties(expiration='200'))
    ch.basic_publish('', qname, b'none')
    ch.basic_publish('', qname, b'long', pika.BasicProperties(expiration='60000'))
    wait_count(ch, qname, 2, timeout=5)
    ((_m, p, b), (_m2, p2, b2)) = drain(ch, qname)
    assert (b, b2) == (b'none', b'long')
    assert p2.expiration == '60000'        # the property is passed on as published


@pytest.mark.parametrize('queue_ttl,expiration', [(60000, '200'), (200, '60000')])
def test_shorter_of_queue_ttl_and_expiration_wins(amqp, qname, queue_ttl, expiration):
    ch = amqp.channel()
    ch.confirm_delivery()
    declare(ch, qname, **{'x-message-ttl': queue_ttl})
    ch.basic_publish('', qname, b'x', pika.BasicProperties(expiration=expiration))
    wait_count(ch, qname, 0, timeout=5)


def test_expired_message_behind_a_longer_one(amqp):
    """RabbitMQ 3.10 leaves an expired message behind a longer-lived one
    until it reaches the head; warren expires it where it is (issue 15,
    point 4: doc/work-queues.md)."""
    ch = amqp.channel()
    ch.confirm_delivery()
    q, dead = amqp.name('head'), amqp.name('dead')
    declare(ch, dead)
    declare(ch, q, **{'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead})
    ch.basic_publish('', q, b'A', pika.BasicProperties(expiration='60000'))
    ch.basic_publish('', q, b'B', pika.BasicProperties(expiration='1'))
    time.sleep(0.4)
    if EXTERNAL:
        # B expired long ago but A is ahead of it: still in the queue, counted
        assert (count(ch, q), count(ch, dead)) == (2, 0)
        m, _p, b = get_one(ch, q)
        assert b == b'A'
        # now B is at the head: dead-lettered without anyone asking for it
        wait_for(lambda: count(ch, dead) == 1, 5, what='B dead-lettered once at the head')
    else:
        assert (count(ch, q), count(ch, dead)) == (1, 1)
        m, _p, b = get_one(ch, q)
        assert b == b'A'
    assert count(ch, q) == 0
    ((m, p, b),) = drain(ch, dead)
    assert b == b'B'
    assert p.headers['x-death'][0]['reason'] == 'expired'
    assert p.headers['x-death'][0]['original-expiration'] == '1'
    assert p.expiration is None


@pytest.mark.parametrize('how', ['x-message-ttl', 'expiration'])
def test_ttl_zero_without_consumer_dropped(amqp, qname, how):
    ch = amqp.channel()
    ch.confirm_delivery()
    if how == 'x-message-ttl':
        declare(ch, qname, **{'x-message-ttl': 0})
        props = None
    else:
        declare(ch, qname)
        props = pika.BasicProperties(expiration='0')
    for i in range(3):
        ch.basic_publish('', qname, b'%d' % i, props)
    wait_count(ch, qname, 0, timeout=5)
    assert ch.basic_get(qname, auto_ack=True)[0] is None


@pytest.mark.parametrize('how', ['x-message-ttl', 'expiration'])
def test_ttl_zero_with_consumer_delivered(amqp, qname, how):
    conn = amqp.connect()
    ch = conn.channel()
    if how == 'x-message-ttl':
        declare(ch, qname, **{'x-message-ttl': 0})
        props = None
    else:
        declare(ch, qname)
        props = pika.BasicProperties(expiration='0')
    got = []
    cch = conn.channel()
    cch.basic_consume(qname, lambda _c, _m, _p, b: got.append(b), auto_ack=True)
    pub = amqp.channel()
    pub.confirm_delivery()
    for i in range(5):
        pub.basic_publish('', qname, b'%d' % i, props)
    wait_for(lambda: len(got) == 5, 5, conn=conn, what='5 deliveries')
    assert got == [b'%d' % i for i in range(5)]


def test_requeued_after_ttl_passed_is_dropped(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    declare(ch, qname, **{'x-message-ttl': 300})
    ch.basic_publish('', qname, b'late')
    m, _p, _b = get_one(ch, qname, auto_ack=False)
    time.sleep(0.5)
    ch.basic_nack(m.delivery_tag, requeue=True)
    wait_count(ch, qname, 0, timeout=5)
    assert ch.basic_get(qname, auto_ack=True)[0] is None


def test_unexpired_requeue_keeps_its_place(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    declare(ch, qname, **{'x-message-ttl': 60000})
    for i in range(3):
        ch.basic_publish('', qname, b'%d' % i)
    m, _p, _b = get_one(ch, qname, auto_ack=False)
    ch.basic_nack(m.delivery_tag, requeue=True)
    assert bodies(ch, qname) == [b'0', b'1', b'2']


@pytest.mark.parametrize('expiration,detail', [
    ('-1', '{value_negative,-1}'),
    ('abc', 'no_integer'),
    ('1.5', '{leftover_string,".5"}'),
    ('', 'no_integer'),
])
def test_invalid_expiration_406(amqp, qname, expiration, detail):
    ch = amqp.channel()
    ch.queue_declare(qname)
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.basic_publish('', qname, b'x', pika.BasicProperties(expiration=expiration))
        ch.queue_declare(qname, passive=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - invalid expiration '%s': %s" % (expiration, detail))
    assert count(amqp.channel(), qname) == 0


def test_expiration_with_leading_zero_is_a_number(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'x', pika.BasicProperties(expiration='0100'))
    wait_count(ch, qname, 0, timeout=5)


# ---------------------------------------------------------------- x-expires

def gone(conn, q):
    ch = conn.channel()
    try:
        ch.queue_declare(q, passive=True)
    except ChannelClosedByBroker as e:
        assert e.reply_code == 404
        return True
    ch.close()
    return False


def wait_gone(conn, q, ttl_s, timeout=8.0):
    """Poll with gaps longer than the queue TTL: a passive declare renews it."""
    deadline = time.monotonic() + timeout
    while not gone(conn, q):
        assert time.monotonic() < deadline, 'queue %s never expired' % q
        time.sleep(ttl_s * 1.5)


def test_unused_queue_expires(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    declare(ch, qname, **{'x-expires': 500})
    ch.basic_publish('', qname, b'messages do not keep it alive')
    t0 = time.monotonic()
    wait_gone(conn, qname, 0.5)
    assert time.monotonic() - t0 >= 0.45


RENEW_MS = 400


def use_queue(how, ch, q):
    if how == 'passive declare':
        ch.queue_declare(q, passive=True)
    elif how == 'redeclare':
        ch.queue_declare(q, arguments={'x-expires': RENEW_MS})
    elif how == 'basic.get':
        ch.basic_get(q)
    elif how == 'basic.get of a message':
        ch.basic_publish('', q, b'm')
        assert get_one(ch, q) is not None


@pytest.mark.parametrize('how', ['passive declare', 'redeclare', 'basic.get', 'basic.get of a message'])
def test_use_renews_queue_ttl(amqp, qname, how):
    """Each kind of use alone keeps the queue: used every half TTL for 2.5 TTLs."""
    conn = amqp.connect()
    ch = conn.channel()
    declare(ch, qname, **{'x-expires': RENEW_MS})
    for _ in range(5):
        time.sleep(RENEW_MS / 2000)
        use_queue(how, ch, qname)
    ch.queue_declare(qname, passive=True)      # still there (404 would close ch)
    wait_gone(conn, qname, RENEW_MS / 1000)


def publish_to(broker, ch, q):
    ch.basic_publish('', q, b'publishing is not using')


def purge(broker, ch, q):
    ch.queue_purge(q)


def bind(broker, ch, q):
    ch.queue_bind(q, 'amq.direct', q)


def nowait_declare(broker, ch, q):
    """queue.declare with nowait (passive and not): RabbitMQ reads no counts, so no use."""
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, q, True, False, False, False, True, {}))
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, q, False, False, False, False, True,
                                {'x-expires': RENEW_MS}))
        c.send(raw.method_frame(1, raw.BASIC_QOS, 0, 0, False))   # a round trip on the channel
        f = c.read_method()
        if f.method == raw.CHANNEL_CLOSE:
            raise ChannelClosedByBroker(f.args[0], f.args[1])  # 404 when it has expired
        assert f.method == (60, 11), f


@pytest.mark.parametrize('action', [publish_to, purge, bind, nowait_declare], ids=lambda f: f.__name__)
def test_other_actions_do_not_renew_queue_ttl(broker, amqp, qname, action):
    conn = amqp.connect()
    ch = conn.channel()
    declare(ch, qname, **{'x-expires': RENEW_MS})
    deadline = time.monotonic() + 2.5 * RENEW_MS / 1000
    while time.monotonic() < deadline:
        try:
            action(broker, ch, qname)
        except ChannelClosedByBroker as e:
            assert e.reply_code == 404          # expired already: not renewed
            break
        time.sleep(RENEW_MS / 4000)
    assert gone(conn, qname)


def test_queue_with_consumer_does_not_expire(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    declare(ch, qname, **{'x-expires': 300})
    cch = conn.channel()
    tag = cch.basic_consume(qname, lambda *a: None)
    time.sleep(1.0)
    conn.process_data_events(time_limit=0)
    assert not gone(conn, qname)
    cch.basic_cancel(tag)
    wait_gone(conn, qname, 0.3)
