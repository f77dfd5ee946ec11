"""Issue 15, point 2: back-off on requeue (doc/work-queues.md), with pika.

A queue declared with x-backoff-initial (and -multiplier, -max, -jitter)
holds a message that came back unacked (nack/reject with requeue, its
consumer's channel closing) for its delay before it is ready again, and the
messages behind it flow meanwhile.  Warren-only: RabbitMQ has no back-off
(it takes the unknown x- arguments and ignores them).
"""
import json
import os
import time
import urllib.request
from decimal import Decimal

import pika
import pytest

from helpers import get_wait
from pika.exceptions import ChannelClosedByBroker

EXTERNAL = bool(os.environ.get('WARREN_TEST_URL'))
pytestmark = pytest.mark.skipif(EXTERNAL, reason='warren-only: RabbitMQ has no back-off')

PERSISTENT = pika.BasicProperties(delivery_mode=2)



def ready(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def test_nacked_message_waits_its_delay_and_does_not_block_others(amqp):
    """A nacked message comes back after 200 ms, 300 ms (multiplier 1.5):
    meanwhile the messages behind it are delivered at once."""
    q = amqp.name('bo')
    ch = amqp.channel()
    ch.queue_declare(q, durable=True, arguments={'x-backoff-initial': 200, 'x-backoff-multiplier': Decimal('1.5'),
                                                 'x-backoff-jitter': Decimal('0.0')})
    ch.basic_publish('', q, b'poison', PERSISTENT)
    for i in range(5):
        ch.basic_publish('', q, b'ok%d' % i, PERSISTENT)
    waits = []
    for attempt in range(3):
        t0 = time.monotonic()
        m, props, body = get_wait(ch, q)
        assert body == b'poison'
        waits.append(time.monotonic() - t0)
        ch.basic_nack(m.delivery_tag, requeue=True)
        if attempt == 0:
            # held back: the others come first, at once
            t1 = time.monotonic()
            for i in range(5):
                m2, _, body2 = ch.basic_get(q)
                assert body2 == b'ok%d' % i
                ch.basic_ack(m2.delivery_tag)
            assert time.monotonic() - t1 < 0.25
    assert 0.18 <= waits[1] < 0.28, waits
    assert 0.28 <= waits[2] < 0.38, waits
    m, props, body = get_wait(ch, q)
    assert m.redelivered and body == b'poison'


def test_backoff_capped_by_max(amqp):
    q = amqp.name('bo')
    ch = amqp.channel()
    ch.queue_declare(q, arguments={'x-backoff-initial': 100, 'x-backoff-multiplier': 10,
                                   'x-backoff-max': 200})
    ch.basic_publish('', q, b'x')
    m, _, _ = get_wait(ch, q)
    ch.basic_nack(m.delivery_tag, requeue=True)  # 100 ms
    m, _, _ = get_wait(ch, q)
    ch.basic_nack(m.delivery_tag, requeue=True)  # 1000 ms, capped at 200
    t0 = time.monotonic()
    m, _, _ = get_wait(ch, q)
    assert m is not None and 0.18 <= time.monotonic() - t0 < 0.5


def test_consumer_channel_closed_backs_off(amqp):
    """A consumer that dies with the message unacked: it comes back after
    the delay, not at once."""
    q = amqp.name('bo')
    ch = amqp.channel()
    ch.queue_declare(q, arguments={'x-backoff-initial': 400})
    ch.basic_publish('', q, b'x')
    ch2 = amqp.channel()
    m, _, _ = get_wait(ch2, q)
    assert m is not None
    ch2.close()
    t0 = time.monotonic()
    assert ready(ch, q) == 0  # held back
    m, _, body = get_wait(ch, q)
    assert body == b'x' and m.redelivered
    assert time.monotonic() - t0 >= 0.3


def test_purge_drops_held_messages(amqp):
    q = amqp.name('bo')
    ch = amqp.channel()
    ch.queue_declare(q, arguments={'x-backoff-initial': 60000})
    ch.basic_publish('', q, b'x')
    m, _, _ = get_wait(ch, q)
    ch.basic_nack(m.delivery_tag, requeue=True)
    assert ready(ch, q) == 0  # held back, not ready
    assert ch.queue_purge(q).method.message_count == 1
    ch.queue_delete(q)


def test_backoff_with_delivery_limit_dead_letters(amqp):
    """Back-off and x-delivery-limit together: each return waits, the one
    past the limit dead-letters at once."""
    q, dlq = amqp.name('bo'), amqp.name('bo-dlq')
    ch = amqp.channel()
    ch.queue_declare(dlq)
    ch.queue_declare(q, arguments={'x-backoff-initial': 50, 'x-delivery-limit': 2,
                                   'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq})
    ch.basic_publish('', q, b'x')
    for i in range(3):
        t0 = time.monotonic()
        m, _, _ = get_wait(ch, q)
        if i:
            assert time.monotonic() - t0 >= 0.04  # 50 ms, 100 ms
        ch.basic_nack(m.delivery_tag, requeue=True)
    t0 = time.monotonic()
    m, props, body = get_wait(ch, dlq)
    assert time.monotonic() - t0 < 0.04  # the return past the limit does not wait
    assert body == b'x'
    assert props.headers['x-death'][0]['reason'] == 'delivery_limit'


@pytest.mark.parametrize('kill', [False, True], ids=['restart', 'kill9'])
def test_held_message_survives_restart(broker, amqp, kill):
    """A persistent message held back survives a restart and a kill -9,
    and is held again for its delay after it."""
    broker.require_control()
    q = amqp.name('bo')
    ch = amqp.channel()
    ch.queue_declare(q, durable=True, arguments={'x-backoff-initial': 1000})
    ch.basic_publish('', q, b'x', PERSISTENT)
    m, _, _ = get_wait(ch, q)
    ch.basic_nack(m.delivery_tag, requeue=True)
    time.sleep(0.3)
    if kill:
        broker.kill()
        broker.start()
    else:
        broker.restart()
    ch = amqp.channel()
    t0 = time.monotonic()
    assert ready(ch, q) == 0
    m, _, body = get_wait(ch, q)
    assert body == b'x' and m.redelivered
    assert time.monotonic() - t0 >= 0.5


@pytest.mark.parametrize('arg,value,why', [
    ('x-backoff-initial', -1, '{value_negative,-1}'),
    ('x-backoff-initial', 'abc', '"expected integer, got longstr"'),
    ('x-backoff-multiplier', Decimal('0.5'), '{value_too_small,0.5}'),
    ('x-backoff-multiplier', 'two', '"expected number, got longstr"'),
    ('x-backoff-jitter', Decimal('1.5'), '{value_out_of_range,1.5}'),
    ('x-backoff-max', -5, '{value_negative,-5}'),
])
def test_bad_backoff_arguments_refused(amqp, arg, value, why):
    q = amqp.name('bo')
    args = {'x-backoff-initial': 100}
    args[arg] = value
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.queue_declare(q, arguments=args)
    assert e.value.reply_code == 406
    assert e.value.reply_text == "PRECONDITION_FAILED - invalid arg '%s' for queue '%s' in vhost '/': %s" % (arg, q, why)


def test_backoff_needs_initial(amqp):
    q = amqp.name('bo')
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.queue_declare(q, arguments={'x-backoff-max': 100})
    assert e.value.reply_code == 406
    assert e.value.reply_text == ("PRECONDITION_FAILED - invalid arg 'x-backoff-max' for queue '%s' in vhost '/': "
                                  "backoff_but_no_initial_delay" % q)


def test_held_messages_counted_and_browsed_in_management(broker_factory):
    """messages_delayed in the queue's JSON, and state=delayed browses the
    held messages (in the order they are ready again) without taking them."""
    from helpers import Amqp
    broker = broker_factory(management=True)
    amqp = Amqp(broker)
    try:
        q = amqp.name('bo')
        ch = amqp.channel()
        ch.queue_declare(q, arguments={'x-backoff-initial': 5000})
        ch.basic_publish('', q, b'a')
        ch.basic_publish('', q, b'b')
        m1, _, _ = get_wait(ch, q)
        m2, _, _ = get_wait(ch, q)
        ch.basic_nack(m2.delivery_tag, requeue=True)
        time.sleep(0.05)
        ch.basic_nack(m1.delivery_tag, requeue=True)  # b is ready again first

        def get(path):
            req = urllib.request.Request('http://127.0.0.1:%d/api/%s' % (broker.mgmt_port, path))
            req.add_header('Authorization', 'Basic Z3Vlc3Q6Z3Vlc3Q=')  # guest:guest
            return json.load(urllib.request.urlopen(req, timeout=5))
        info = get('queues/%%2F/%s' % q)
        assert (info['messages_ready'], info['messages_delayed'], info['messages_unacknowledged']) == (0, 2, 0)
        seen = get('queues/%%2F/%s/messages?state=delayed' % q)
        assert [m['payload'] for m in seen] == ['b', 'a']
        assert all(m['redelivered'] and 4000 < m['due_in_ms'] <= 5000 for m in seen)
        assert get('queues/%%2F/%s' % q)['messages_delayed'] == 2
    finally:
        amqp.close()
