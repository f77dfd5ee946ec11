"""Queue length limits: x-max-length, x-max-length-bytes, x-overflow.

RabbitMQ 3.10 behaviour pinned here:
  - drop-head (default): the oldest ready messages are dropped (dead-lettered
    with reason 'maxlen' when the queue has a DLX) to make room; but a
    message a consumer can take at once is delivered, not counted (so even
    x-max-length 0 works as "to a consumer now, or nowhere");
  - reject-publish: the new message is refused; a confirming publisher gets
    basic.nack, others lose it silently; never dead-lettered;
  - reject-publish-dlx: refused like reject-publish, and dead-lettered;
  - only *ready* messages count (unacked ones do not), and a requeue may
    take the queue above the limit;
  - x-max-length-bytes counts body bytes only (not properties / headers); a
    single message larger than the limit does not fit at all;
  - routed to several queues, one of which refuses: the publisher gets a
    nack, the other queues keep their copy.
"""
import pika
from pika.exceptions import NackError

from routing_helpers import bodies, count, drain, get_one, wait_count


def confirming(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    return ch


def publish_all(ch, exchange, key, payloads, props=None):
    """Publish on a confirming channel; list of 'ack'/'nack' per message."""
    out = []
    for b in payloads:
        try:
            ch.basic_publish(exchange, key, b, props)
            out.append('ack')
        except NackError:
            out.append('nack')
    return out


def test_max_length_drop_head(amqp, qname):
    ch = confirming(amqp)
    ch.queue_declare(qname, arguments={'x-max-length': 3})
    assert publish_all(ch, '', qname, [b'%d' % i for i in range(5)]) == ['ack'] * 5
    assert count(ch, qname) == 3
    assert bodies(ch, qname) == [b'2', b'3', b'4']


def test_max_length_drop_head_dead_letters_in_order(amqp):
    ch = confirming(amqp)
    q, dead = amqp.name('ml'), amqp.name('dead')
    ch.queue_declare(dead)
    ch.queue_declare(q, arguments={'x-max-length': 2, 'x-dead-letter-exchange': '',
                                   'x-dead-letter-routing-key': dead})
    publish_all(ch, '', q, [b'%d' % i for i in range(5)])
    assert bodies(ch, q) == [b'3', b'4']
    wait_count(ch, dead, 3)
    got = drain(ch, dead)
    assert [b for _m, _p, b in got] == [b'0', b'1', b'2']
    for _m, p, _b in got:
        assert p.headers['x-death'][0]['reason'] == 'maxlen'
        assert p.headers['x-first-death-reason'] == 'maxlen'


def test_max_length_bytes_counts_bodies_only(amqp, qname):
    ch = confirming(amqp)
    ch.queue_declare(qname, arguments={'x-max-length-bytes': 10})
    props = pika.BasicProperties(headers={'big': 'x' * 500}, message_id='m' * 100)
    publish_all(ch, '', qname, [b'%04d' % i for i in range(4)], props)
    assert bodies(ch, qname) == [b'0002', b'0003']


def test_max_length_bytes_oversized_message_dropped(amqp, qname):
    ch = confirming(amqp)
    ch.queue_declare(qname, arguments={'x-max-length-bytes': 10})
    ch.basic_publish('', qname, b'fits')
    ch.basic_publish('', qname, b'x' * 11)
    assert bodies(ch, qname) == []


def test_max_length_zero(amqp):
    ch = confirming(amqp)
    q1, q2 = amqp.name('zero'), amqp.name('zero')
    ch.queue_declare(q1, arguments={'x-max-length': 0})
    ch.queue_declare(q2, arguments={'x-max-length': 0, 'x-overflow': 'reject-publish'})
    assert publish_all(ch, '', q1, [b'a']) == ['ack']
    assert publish_all(ch, '', q2, [b'a']) == ['nack']
    assert (bodies(ch, q1), bodies(ch, q2)) == ([], [])


def test_max_length_drop_head_delivers_to_a_waiting_consumer(amqp):
    """RabbitMQ delivers (or enqueues): a consumer that can take the message
    gets it, even with x-max-length 0; nothing is dropped or dead-lettered.
    reject-publish checks the limit first: refused even with a consumer."""
    conn = amqp.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q, full, dead = amqp.name('zero'), amqp.name('zerorej'), amqp.name('dead')
    ch.queue_declare(dead)
    ch.queue_declare(q, arguments={'x-max-length': 0, 'x-dead-letter-exchange': '',
                                   'x-dead-letter-routing-key': dead})
    ch.queue_declare(full, arguments={'x-max-length': 0, 'x-overflow': 'reject-publish'})
    got = []
    cch = conn.channel()
    cch.basic_qos(prefetch_count=2)
    cch.basic_consume(q, lambda _c, m, _p, b: got.append(b))
    cch.basic_consume(full, lambda _c, m, _p, b: got.append(b))
    assert publish_all(ch, '', q, [b'0', b'1', b'2']) == ['ack'] * 3
    assert publish_all(ch, '', full, [b'refused']) == ['nack']
    conn.process_data_events(time_limit=0.3)
    # two fit the prefetch; the third found no consumer free and was pushed out
    assert got == [b'0', b'1']
    assert bodies(ch, dead) == [b'2']
    assert count(ch, q) == 0


def test_reject_publish_nacks_confirming_publisher(amqp):
    ch = confirming(amqp)
    q, dead = amqp.name('rp'), amqp.name('dead')
    ch.queue_declare(dead)
    ch.queue_declare(q, arguments={'x-max-length': 2, 'x-overflow': 'reject-publish',
                                   'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead})
    assert publish_all(ch, '', q, [b'0', b'1', b'2', b'3']) == ['ack', 'ack', 'nack', 'nack']
    # a non-confirming publisher loses the message silently
    plain = amqp.channel()
    plain.basic_publish('', q, b'silent')
    assert count(plain, q) == 2
    assert bodies(ch, q) == [b'0', b'1']
    assert count(ch, dead) == 0            # reject-publish never dead-letters
    # room again: accepted
    assert publish_all(ch, '', q, [b'4']) == ['ack']
    assert bodies(ch, q) == [b'4']


def test_reject_publish_bytes(amqp, qname):
    ch = confirming(amqp)
    ch.queue_declare(qname, arguments={'x-max-length-bytes': 10, 'x-overflow': 'reject-publish'})
    assert publish_all(ch, '', qname, [b'%04d' % i for i in range(4)]) == ['ack', 'ack', 'nack', 'nack']
    assert bodies(ch, qname) == [b'0000', b'0001']


def test_reject_publish_dlx_nacks_and_dead_letters(amqp):
    ch = confirming(amqp)
    q, dead = amqp.name('rpd'), amqp.name('dead')
    ch.queue_declare(dead)
    ch.queue_declare(q, arguments={'x-max-length': 1, 'x-overflow': 'reject-publish-dlx',
                                   'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead})
    assert publish_all(ch, '', q, [b'kept', b'refused']) == ['ack', 'nack']
    assert bodies(ch, q) == [b'kept']
    wait_count(ch, dead, 1)
    ((m, p, b),) = drain(ch, dead)
    assert b == b'refused' and m.routing_key == dead
    (death,) = p.headers['x-death']
    assert (death['reason'], death['queue'], death['count']) == ('maxlen', q, 1)


def test_only_ready_messages_count(amqp, qname):
    ch = confirming(amqp)
    ch.queue_declare(qname, arguments={'x-max-length': 1, 'x-overflow': 'reject-publish'})
    assert publish_all(ch, '', qname, [b'1']) == ['ack']
    m, _p, _b = get_one(ch, qname, auto_ack=False)     # unacked: no longer counts
    assert publish_all(ch, '', qname, [b'2', b'3']) == ['ack', 'nack']
    ch.basic_nack(m.delivery_tag, requeue=True)          # requeue may exceed the limit
    wait_count(ch, qname, 2)
    assert bodies(ch, qname) == [b'1', b'2']


def test_one_full_queue_nacks_the_publish_others_keep_it(amqp):
    ch = confirming(amqp)
    x = amqp.xname('fan')
    full, other = amqp.name('full'), amqp.name('other')
    ch.exchange_declare(x, 'fanout')
    ch.queue_declare(full, arguments={'x-max-length': 1, 'x-overflow': 'reject-publish'})
    ch.queue_declare(other)
    ch.queue_bind(full, x)
    ch.queue_bind(other, x)
    assert publish_all(ch, x, '', [b'0', b'1', b'2']) == ['ack', 'nack', 'nack']
    assert bodies(ch, full) == [b'0']
    assert bodies(ch, other) == [b'0', b'1', b'2']
