"""Issue 15, point 4: a message's TTL fires wherever it is in the queue
(doc/work-queues.md), with pika.

RabbitMQ expires messages only at the head of a queue: a 1 s message behind
a 1 h one stays until the 1 h one leaves (checked on the reference node).
Warren takes it out on time and dead-letters it with reason expired and
RabbitMQ's x-death.  Warren-only for that reason.
"""
import os
import time

import pika
import pytest

from helpers import get_wait

EXTERNAL = bool(os.environ.get('WARREN_TEST_URL'))
pytestmark = pytest.mark.skipif(EXTERNAL, reason='warren-only: RabbitMQ expires at the head only')



def declare(ch, q, dlq, args=None, durable=False):
    ch.queue_declare(dlq, durable=durable)
    a = {'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq}
    a.update(args or {})
    ch.queue_declare(q, durable=durable, arguments=a)


@pytest.mark.parametrize('persistent', [False, True], ids=['transient', 'persistent'])
def test_short_expiration_behind_long_one(amqp, persistent):
    q, dlq = amqp.name('ttl'), amqp.name('ttl-dlq')
    ch = amqp.channel()
    declare(ch, q, dlq, durable=persistent)
    mode = 2 if persistent else 1
    ch.basic_publish('', q, b'long', pika.BasicProperties(expiration='3600000', delivery_mode=mode))
    t0 = time.monotonic()
    ch.basic_publish('', q, b'short', pika.BasicProperties(expiration='300', delivery_mode=mode))
    ch.basic_publish('', q, b'forever', pika.BasicProperties(delivery_mode=mode))
    m, props, body = get_wait(ch, dlq)
    late = time.monotonic() - t0
    assert body == b'short'
    assert 0.29 <= late < 0.6, late
    d = props.headers['x-death'][0]
    assert d['reason'] == 'expired' and d['queue'] == q and d['count'] == 1
    assert d['original-expiration'] == '300'
    assert props.headers['x-first-death-reason'] == 'expired'
    assert ch.queue_declare(q, passive=True).method.message_count == 2
    assert [get_wait(ch, q)[2] for _ in range(2)] == [b'long', b'forever']


def test_expiration_behind_message_without_ttl(amqp):
    q, dlq = amqp.name('ttl'), amqp.name('ttl-dlq')
    ch = amqp.channel()
    declare(ch, q, dlq)
    ch.basic_publish('', q, b'forever')
    ch.basic_publish('', q, b'short', pika.BasicProperties(expiration='200'))
    m, props, body = get_wait(ch, dlq)
    assert body == b'short'
    assert ch.queue_declare(q, passive=True).method.message_count == 1


def test_expiration_in_time_order_whatever_the_publish_order(amqp):
    q, dlq = amqp.name('ttl'), amqp.name('ttl-dlq')
    ch = amqp.channel()
    declare(ch, q, dlq, {'x-message-ttl': 60000})
    for ms in (900, 300, 600, 100):
        ch.basic_publish('', q, b'%d' % ms, pika.BasicProperties(expiration=str(ms)))
    got = [get_wait(ch, dlq)[2] for _ in range(4)]
    assert got == [b'100', b'300', b'600', b'900']


def test_priority_queue_low_priority_expires(amqp):
    """On a priority queue a low-priority message behind nothing still
    expires while high-priority ones wait at the head."""
    q, dlq = amqp.name('ttl'), amqp.name('ttl-dlq')
    ch = amqp.channel()
    declare(ch, q, dlq, {'x-max-priority': 5})
    ch.basic_publish('', q, b'high', pika.BasicProperties(priority=5))
    ch.basic_publish('', q, b'low', pika.BasicProperties(priority=1, expiration='200'))
    m, props, body = get_wait(ch, dlq)
    assert body == b'low'


def test_requeued_message_expires_in_place(amqp):
    """A message taken and requeued behind nothing goes back to the head
    with its expiry: a consumer holding a long one does not keep it."""
    q, dlq = amqp.name('ttl'), amqp.name('ttl-dlq')
    ch = amqp.channel()
    declare(ch, q, dlq)
    ch.basic_publish('', q, b'a')
    ch.basic_publish('', q, b'b', pika.BasicProperties(expiration='400'))
    m1, _, _ = get_wait(ch, q)
    m2, _, _ = get_wait(ch, q)
    ch.basic_nack(m2.delivery_tag, requeue=True)
    ch.basic_nack(m1.delivery_tag, requeue=True)
    m, props, body = get_wait(ch, dlq)
    assert body == b'b'


@pytest.mark.parametrize('kill', [False, True], ids=['restart', 'kill9'])
def test_expires_in_place_after_restart(broker, amqp, kill):
    """Persistent: a 1.5 s message behind a 1 h one, the broker restarted
    (or killed) before it expires: after the restart it still expires on
    time, where it is, and is dead-lettered."""
    broker.require_control()
    q, dlq = amqp.name('ttl'), amqp.name('ttl-dlq')
    ch = amqp.channel()
    ch.confirm_delivery()
    declare(ch, q, dlq, durable=True)
    t0 = time.monotonic()
    ch.basic_publish('', q, b'long', pika.BasicProperties(expiration='3600000', delivery_mode=2))
    ch.basic_publish('', q, b'short', pika.BasicProperties(expiration='1500', delivery_mode=2))
    if kill:
        broker.kill()
        broker.start()
    else:
        broker.restart()
    ch = amqp.channel()
    m, props, body = get_wait(ch, dlq, timeout=5)
    assert body == b'short'
    assert 1.4 <= time.monotonic() - t0 < 3.0
    assert props.headers['x-death'][0]['reason'] == 'expired'
    assert ch.queue_declare(q, durable=True, passive=True).method.message_count == 1
