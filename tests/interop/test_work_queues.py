"""Issue 15, points 1 and 7: delivery counts and limits, quorum declarations
(doc/work-queues.md), with pika.

Against the reference RabbitMQ 3.10 (WARREN_TEST_URL) the quorum-queue tests
run as they are: what they assert is what RabbitMQ's quorum queues do there.
Warren-only, and skipped against an outside broker:
  - the *classic* queue tests: RabbitMQ refuses x-delivery-limit on classic
    queues (406 "... of queue type rabbit_classic_queue") and keeps no
    delivery count on them;
  - the bad-value tests: RabbitMQ 3.10 takes any x-delivery-limit on a quorum
    queue unchecked (-1, "abc", true); warren refuses them as it refuses any
    bad count;
  - the restart tests: they restart the broker.
"""
import os
import time

import pika
import pytest

from helpers import get_wait
from pika.exceptions import ChannelClosedByBroker

EXTERNAL = bool(os.environ.get('WARREN_TEST_URL'))
warren_only = pytest.mark.skipif(EXTERNAL, reason='warren-only (see the module docstring)')

PERSISTENT = pika.BasicProperties(delivery_mode=2)


def declare_poison(ch, q, dlq, args):
    ch.queue_declare(dlq, durable=True)
    a = {'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq}
    a.update(args)
    ch.queue_declare(q, durable=True, arguments=a)
    ch.basic_publish('', q, b'poison', PERSISTENT)



def count_header(props):
    return (props.headers or {}).get('x-delivery-count')


def nack_until_dead(amqp, q, dlq, args, limit):
    ch = amqp.channel()
    declare_poison(ch, q, dlq, args)
    seen = []
    for _ in range(limit + 1):
        m, props, body = get_wait(ch, q, interval=0.05)
        assert body == b'poison'
        seen.append((m.redelivered, count_header(props)))
        ch.basic_nack(m.delivery_tag, requeue=True)
    m, props, body = get_wait(ch, dlq, interval=0.05)
    assert body == b'poison'
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    return seen, props


def assert_delivery_limit_death(props, q):
    death = props.headers['x-death']
    assert len(death) == 1
    assert death[0]['reason'] == 'delivery_limit'
    assert death[0]['queue'] == q
    assert death[0]['count'] == 1
    assert death[0]['exchange'] == ''
    assert death[0]['routing-keys'] == [q]
    assert props.headers['x-first-death-reason'] == 'delivery_limit'
    assert props.headers['x-first-death-queue'] == q
    assert props.headers['x-first-death-exchange'] == ''
    assert 'x-delivery-count' not in props.headers


def test_quorum_poison_message_dead_lettered_after_limit(amqp):
    """A quorum queue with x-delivery-limit 2: delivered three times (count
    header absent, 1, 2), the third return passes the limit."""
    q, dlq = amqp.name('wq'), amqp.name('wq-dlq')
    seen, props = nack_until_dead(amqp, q, dlq, {'x-queue-type': 'quorum', 'x-delivery-limit': 2}, 2)
    # RabbitMQ 3.10 gives basic.get's first delivery x-delivery-count 0;
    # warren adds the header from the first return on, as to consumers
    assert [s[0] for s in seen] == [False, True, True]
    assert [s[1] for s in seen][1:] == [1, 2]
    assert_delivery_limit_death(props, q)


@warren_only
def test_classic_poison_message_dead_lettered_after_limit(amqp):
    q, dlq = amqp.name('wq'), amqp.name('wq-dlq')
    seen, props = nack_until_dead(amqp, q, dlq, {'x-delivery-limit': 3}, 3)
    assert seen == [(False, None), (True, 1), (True, 2), (True, 3)]
    assert_delivery_limit_death(props, q)


@warren_only
def test_classic_delivery_limit_zero_without_dlx_drops(amqp):
    """No dead-letter exchange: the message is dropped at the first return."""
    q = amqp.name('wq')
    ch = amqp.channel()
    ch.queue_declare(q, durable=True, arguments={'x-delivery-limit': 0})
    ch.basic_publish('', q, b'once', PERSISTENT)
    m, _, body = get_wait(ch, q, interval=0.05)
    assert body == b'once'
    ch.basic_reject(m.delivery_tag, requeue=True)
    assert ch.queue_declare(q, passive=True).method.message_count == 0


def test_quorum_counts_on_consume_reject_and_channel_close(amqp):
    """As RabbitMQ 3.10's quorum queues: a consumer's first delivery has no
    header; a reject with requeue and a channel closing with the message
    unacked each count one return."""
    q = amqp.name('wq')
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(q, durable=True, arguments={'x-queue-type': 'quorum'})
    ch.basic_publish('', q, b'job', pika.BasicProperties(delivery_mode=2, headers={'a': 1}))
    got = []

    def on_msg(c, m, props, body):
        got.append((m.redelivered, props.headers))
        if len(got) == 1:
            c.basic_reject(m.delivery_tag, requeue=True)

    ch.basic_consume(q, on_msg)
    end = time.time() + 5
    while len(got) < 2 and time.time() < end:
        conn.process_data_events(0.05)
    ch.close()  # the second delivery is unacked: it returns
    ch2 = conn.channel()
    m, props, _ = get_wait(ch2, q, interval=0.05)
    ch2.basic_ack(m.delivery_tag)
    assert got[0] == (False, {'a': 1})
    assert got[1] == (True, {'a': 1, 'x-delivery-count': 1})
    assert m.redelivered and props.headers == {'a': 1, 'x-delivery-count': 2}


@warren_only
def test_classic_without_limit_has_no_count_header(amqp):
    """A plain classic queue stays as RabbitMQ's: no header on redelivery."""
    q = amqp.name('wq')
    ch = amqp.channel()
    ch.queue_declare(q, durable=True)
    ch.basic_publish('', q, b'x', PERSISTENT)
    for _ in range(3):
        m, props, _ = get_wait(ch, q, interval=0.05)
        assert props.headers is None
        ch.basic_nack(m.delivery_tag, requeue=True)


@warren_only
@pytest.mark.parametrize('kill', [False, True], ids=['restart', 'kill9'])
def test_delivery_count_survives_restart(broker, amqp, kill):
    """Two returns, a restart (the unacked third delivery returns with it),
    and the count goes on: 3 after the restart, then the limit of 3 is
    passed at the next return."""
    broker.require_control()
    q, dlq = amqp.name('wq'), amqp.name('wq-dlq')
    ch = amqp.channel()
    declare_poison(ch, q, dlq, {'x-delivery-limit': 3})
    for want in (None, 1):
        m, props, _ = get_wait(ch, q, interval=0.05)
        assert count_header(props) == want
        ch.basic_nack(m.delivery_tag, requeue=True)
    m, props, _ = get_wait(ch, q, interval=0.05)
    assert count_header(props) == 2
    time.sleep(0.3)  # its "delivered" mark reaches the ack file
    if kill:
        broker.kill()
        broker.start()
    else:
        broker.restart()
    ch = amqp.channel()
    m, props, _ = get_wait(ch, q, interval=0.05)
    assert m.redelivered
    assert count_header(props) == 3
    ch.basic_nack(m.delivery_tag, requeue=True)
    m, props, body = get_wait(ch, dlq, interval=0.05)
    assert body == b'poison'
    assert props.headers['x-death'][0]['reason'] == 'delivery_limit'


@warren_only
def test_requeued_count_survives_restart(broker, amqp):
    """Returned and not delivered again before the restart: the count of
    the return is kept too."""
    broker.require_control()
    q = amqp.name('wq')
    ch = amqp.channel()
    ch.queue_declare(q, durable=True, arguments={'x-queue-type': 'quorum'})
    ch.basic_publish('', q, b'x', PERSISTENT)
    for _ in range(2):
        m, _, _ = get_wait(ch, q, interval=0.05)
        ch.basic_nack(m.delivery_tag, requeue=True)
    time.sleep(0.3)
    broker.restart()
    ch = amqp.channel()
    m, props, _ = get_wait(ch, q, interval=0.05)
    assert m.redelivered
    assert count_header(props) == 2


# ------------------------------------------------------------------ quorum

def closed_with(ch_factory, text, **kw):
    ch = ch_factory()
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.queue_declare(**kw)
    assert e.value.reply_code == 406
    assert e.value.reply_text == text


def test_quorum_declare_accepted_and_redeclared(amqp):
    q = amqp.name('wq')
    ch = amqp.channel()
    ch.queue_declare(q, durable=True, arguments={'x-queue-type': 'quorum'})
    ch.queue_declare(q, durable=True, arguments={'x-queue-type': 'quorum'})
    ch.queue_declare(q, passive=True)
    closed_with(amqp.channel,
                "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '%s' in vhost '/': received "
                "none but current is the value 'quorum' of type 'longstr'" % q, queue=q, durable=True)
    closed_with(amqp.channel,
                "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue '%s' in vhost '/': received "
                "'classic' but current is 'quorum'" % q, queue=q, durable=True,
                arguments={'x-queue-type': 'classic'})


@pytest.mark.parametrize('props,word', [
    (dict(durable=True, exclusive=True), 'exclusive-owner'),
    (dict(durable=True, auto_delete=True), 'auto-delete'),
    (dict(durable=False), 'non-durable'),
])
def test_quorum_refused_properties(amqp, props, word):
    q = amqp.name('wq')
    closed_with(amqp.channel, "PRECONDITION_FAILED - invalid property '%s' for queue '%s' in vhost '/'" % (word, q),
                queue=q, arguments={'x-queue-type': 'quorum'}, **props)


@pytest.mark.parametrize('arg,value', [('x-max-priority', 5), ('x-queue-mode', 'lazy'),
                                       ('x-queue-version', 2)])
def test_quorum_refused_arguments(amqp, arg, value):
    q = amqp.name('wq')
    closed_with(amqp.channel,
                "PRECONDITION_FAILED - invalid arg '%s' for queue '%s' in vhost '/' of queue type "
                "rabbit_quorum_queue" % (arg, q),
                queue=q, durable=True, arguments={'x-queue-type': 'quorum', arg: value})


@warren_only
@pytest.mark.parametrize('value,why', [(-1, '{value_negative,-1}'), ('abc', '"expected integer, got longstr"')])
def test_bad_delivery_limit_refused(amqp, value, why):
    q = amqp.name('wq')
    closed_with(amqp.channel, "PRECONDITION_FAILED - invalid arg 'x-delivery-limit' for queue '%s' in vhost '/': "
                "%s" % (q, why), queue=q, durable=True, arguments={'x-queue-type': 'quorum', 'x-delivery-limit': value})


@warren_only
def test_quorum_default_limit_is_20(amqp):
    """RabbitMQ 4's default: the 21st return dead-letters (3.10 has none)."""
    q, dlq = amqp.name('wq'), amqp.name('wq-dlq')
    seen, props = nack_until_dead(amqp, q, dlq, {'x-queue-type': 'quorum'}, 20)
    assert [s[1] for s in seen] == [None] + list(range(1, 21))
    assert_delivery_limit_death(props, q)


@warren_only
def test_stream_refused(amqp):
    q = amqp.name('wq')
    closed_with(amqp.channel, "PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '%s' in vhost '/': "
                "warren has classic and quorum queues, not stream queues" % q,
                queue=q, durable=True, arguments={'x-queue-type': 'stream'})
