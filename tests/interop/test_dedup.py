"""Issue 15, point 5: de-duplication with the rabbitmq-message-deduplication
plugin's interface (doc/work-queues.md), with pika.

The exchange type x-message-deduplication (a fanout that routes a message
whose x-deduplication-header value it has seen nowhere), its arguments
x-cache-size (required), x-cache-ttl and x-cache-persistence, and the
per-message x-cache-ttl header; the window of a durable exchange survives
a restart and a kill -9.

Warren-only: the reference RabbitMQ 3.10 has no such plugin (it refuses
the exchange type: 503 "unknown exchange type 'x-message-deduplication'").
"""
import os
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

if os.environ.get('WARREN_TEST_URL'):
    pytest.skip('warren-only (see the module docstring)', allow_module_level=True)

DEDUP = 'x-message-deduplication'


def chan(b):
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.confirm_delivery()
    return conn, ch


def declare(ch, name='orders', durable=True, **args):
    a = {'x-cache-size': 100}
    a.update(args)
    ch.exchange_declare(name, DEDUP, durable=durable, arguments=a)
    ch.queue_declare(name + '-q', durable=durable)
    ch.queue_bind(name + '-q', name)


def send(ch, body, key=None, exchange='orders', ttl=None, mandatory=False):
    headers = {}
    if key is not None:
        headers['x-deduplication-header'] = key
    if ttl is not None:
        headers['x-cache-ttl'] = ttl
    ch.basic_publish(exchange, '', body, pika.BasicProperties(delivery_mode=2, headers=headers or None),
                     mandatory=mandatory)


def drain(ch, queue='orders-q'):
    out = []
    while True:
        m, _p, body = ch.basic_get(queue, auto_ack=True)
        if m is None:
            return out
        out.append(body.decode())


def test_duplicates_are_not_routed(broker):
    conn, ch = chan(broker)
    declare(ch)
    ch.queue_declare('audit', durable=True)
    ch.queue_bind('audit', 'orders', 'any-key')  # a fanout: every binding, whatever its key
    send(ch, 'order 1', 'o-1')
    send(ch, 'order 1 again', 'o-1')
    send(ch, 'order 2', 'o-2')
    send(ch, 'no header')
    send(ch, 'no header either')
    send(ch, 'order 1, third time', 'o-1')
    send(ch, 'int 7', 7)
    send(ch, 'int 7 again', 7)
    send(ch, 'string 7', '7')  # another value: 7 and '7' differ, as in the plugin
    want = ['order 1', 'order 2', 'no header', 'no header either', 'int 7', 'string 7']
    assert drain(ch) == want
    assert drain(ch, 'audit') == want
    conn.close()


def test_duplicate_is_unroutable_mandatory_returns(broker):
    conn, ch = chan(broker)
    declare(ch)
    returned = []
    ch.add_on_return_callback(lambda c, m, p, body: returned.append((m.reply_code, body)))
    send(ch, 'first', 'k', mandatory=True)
    with pytest.raises(pika.exceptions.UnroutableError):
        send(ch, 'second', 'k', mandatory=True)
    conn.process_data_events(time_limit=0.1)
    assert returned == [(312, b'second')]
    assert drain(ch) == ['first']
    conn.close()


def test_ttl_and_per_message_ttl(broker):
    conn, ch = chan(broker)
    declare(ch, **{'x-cache-ttl': 300})
    send(ch, 'a1', 'a')
    send(ch, 'b1', 'b', ttl=5000)  # the header's 5 s beats the exchange's 300 ms
    send(ch, 'a2', 'a')
    time.sleep(0.5)
    send(ch, 'a3', 'a')  # the first 'a' expired
    send(ch, 'b2', 'b')
    assert drain(ch) == ['a1', 'b1', 'a3']
    conn.close()


def test_window_size_pushes_out_the_oldest(broker):
    conn, ch = chan(broker)
    declare(ch, **{'x-cache-size': 2})
    for k in ('a', 'b', 'c'):
        send(ch, k + '1', k)
    send(ch, 'c2', 'c')  # still in the window
    send(ch, 'a2', 'a')  # pushed out by c: routed again
    assert drain(ch) == ['a1', 'b1', 'c1', 'a2']
    conn.close()


@pytest.mark.parametrize('how', ['restart', 'kill'])
def test_window_survives_restart_and_kill_9(broker, how):
    broker.require_control()
    conn, ch = chan(broker)
    declare(ch)
    declare(ch, name='volatile', **{'x-cache-persistence': 'memory'})
    declare(ch, name='transient', durable=False)
    for i in range(50):
        send(ch, 'o%d' % i, 'o-%d' % i)
    send(ch, 'v', 'v-1', exchange='volatile')
    send(ch, 't', 't-1', exchange='transient')
    conn.close()
    if how == 'kill':
        broker.kill()
        broker.start()
    else:
        broker.restart()
    conn, ch = chan(broker)
    ch.queue_declare('transient-q')
    ch.exchange_declare('transient', DEDUP, arguments={'x-cache-size': 100})
    ch.queue_bind('transient-q', 'transient')
    for i in range(50):
        send(ch, 'again o%d' % i, 'o-%d' % i)  # every one a duplicate still
    send(ch, 'new', 'o-new')
    send(ch, 'v again', 'v-1', exchange='volatile')  # "memory": forgotten
    send(ch, 't again', 't-1', exchange='transient')  # a transient exchange: forgotten
    assert drain(ch) == ['o%d' % i for i in range(50)] + ['new']
    assert drain(ch, 'volatile-q') == ['v', 'v again']
    assert drain(ch, 'transient-q') == ['t again']
    conn.close()


def test_redeclared_exchange_starts_empty(broker):
    broker.require_control()
    conn, ch = chan(broker)
    declare(ch)
    send(ch, 'x1', 'x')
    ch.exchange_delete('orders')
    declare(ch)
    send(ch, 'x2', 'x')  # a new exchange: a new window
    conn.close()
    broker.restart()
    conn, ch = chan(broker)
    send(ch, 'x3', 'x')  # the new window, from disk
    assert drain(ch) == ['x1', 'x2']
    conn.close()


@pytest.mark.parametrize('args,text', [
    ({}, "Missing or invalid argument, 'x-cache-size' must be an integer greater than 0"),
    ({'x-cache-size': 0}, "Missing or invalid argument, 'x-cache-size' must be an integer greater than 0"),
    ({'x-cache-size': 'ten'}, "Missing or invalid argument, 'x-cache-size' must be an integer greater than 0"),
    ({'x-cache-size': 10, 'x-cache-ttl': -5}, "Invalid argument, 'x-cache-ttl' must be an integer greater than 0"),
    ({'x-cache-size': 10, 'x-cache-persistence': 'tape'},
     "Invalid argument, 'x-cache-persistence' must be either 'disk' or 'memory'"),
])
def test_bad_arguments_refused(broker, args, text):
    conn, ch = chan(broker)
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.exchange_declare('bad', DEDUP, arguments=args)
    assert e.value.reply_code == 406 and e.value.reply_text == 'PRECONDITION_FAILED - ' + text
    conn.close()


def test_numeric_string_size_accepted(broker):
    conn, ch = chan(broker)
    declare(ch, **{'x-cache-size': '10', 'x-cache-ttl': '60000'})  # the plugin takes strings of digits
    send(ch, 'a', 'k')
    send(ch, 'b', 'k')
    assert drain(ch) == ['a']
    conn.close()


# ---- queue level: x-message-deduplication ----------------------------------------

def qsend(ch, queue, body, key):
    ch.basic_publish('', queue, body, pika.BasicProperties(delivery_mode=2,
                                                           headers={'x-deduplication-header': key}))


def test_queue_refuses_a_value_it_holds_until_acked(broker):
    conn, ch = chan(broker)
    ch.queue_declare('jobs', durable=True, arguments={'x-message-deduplication': True})
    qsend(ch, 'jobs', 'a1', 'a')
    qsend(ch, 'jobs', 'a2', 'a')  # confirmed (no error), not enqueued
    qsend(ch, 'jobs', 'b1', 'b')
    assert ch.queue_declare('jobs', passive=True).method.message_count == 2
    m, _p, body = ch.basic_get('jobs')
    assert body == b'a1'
    qsend(ch, 'jobs', 'a3', 'a')  # a1 is unacked: still held
    ch.basic_nack(m.delivery_tag, requeue=True)  # back in the queue: still held
    qsend(ch, 'jobs', 'a4', 'a')
    m, _p, body = ch.basic_get('jobs')
    assert body == b'a1'
    ch.basic_ack(m.delivery_tag)  # gone: the value may come again
    qsend(ch, 'jobs', 'a5', 'a')
    assert drain(ch, 'jobs') == ['b1', 'a5']
    # dead-lettered or purged: gone too
    qsend(ch, 'jobs', 'c1', 'c')
    m, _p, _b = ch.basic_get('jobs')
    ch.basic_reject(m.delivery_tag, requeue=False)
    qsend(ch, 'jobs', 'c2', 'c')
    ch.queue_purge('jobs')
    qsend(ch, 'jobs', 'c3', 'c')
    assert drain(ch, 'jobs') == ['c3']
    # a queue without the argument keeps every copy
    ch.queue_declare('plain', durable=True)
    qsend(ch, 'plain', 'p1', 'p')
    qsend(ch, 'plain', 'p2', 'p')
    assert drain(ch, 'plain') == ['p1', 'p2']
    conn.close()


def test_queue_values_survive_restart(broker):
    broker.require_control()
    conn, ch = chan(broker)
    ch.queue_declare('jobs', durable=True, arguments={'x-message-deduplication': True})
    qsend(ch, 'jobs', 'k1', 'k')
    conn.close()
    broker.kill()
    broker.start()
    conn, ch = chan(broker)
    qsend(ch, 'jobs', 'k2', 'k')  # k1 is still in the queue
    assert drain(ch, 'jobs') == ['k1']
    qsend(ch, 'jobs', 'k3', 'k')
    assert drain(ch, 'jobs') == ['k3']
    conn.close()


def test_queue_argument_must_be_a_boolean(broker):
    conn, ch = chan(broker)
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.queue_declare('bad', arguments={'x-message-deduplication': 'yes'})
    assert e.value.reply_code == 406
    assert e.value.reply_text == ("PRECONDITION_FAILED - invalid arg 'x-message-deduplication' for queue 'bad' "
                                  "in vhost '/': {unacceptable_type,longstr}")
    conn.close()


def test_duplicate_goes_to_the_alternate_exchange(broker):
    conn, ch = chan(broker)
    ch.exchange_declare('dups', 'fanout')
    ch.queue_declare('dups-q')
    ch.queue_bind('dups-q', 'dups')
    declare(ch, **{'alternate-exchange': 'dups'})
    send(ch, 'first', 'k')
    send(ch, 'second', 'k')
    assert drain(ch) == ['first']
    assert drain(ch, 'dups-q') == ['second']  # unroutable here: to the alternate exchange, as with the plugin
    conn.close()
