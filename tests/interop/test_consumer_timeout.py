"""Issue 15, point 6: the consumer timeout, opt-in and surgical
(doc/work-queues.md, src/proto/consumer_timeout.c), with pika.

x-consumer-timeout (a queue argument, ms) and --consumer-timeout (the
broker's default, off unless given).  Unlike RabbitMQ, which closes the
whole channel (406 "delivery acknowledgement on channel N timed out"), an
overdue delivery alone is requeued with its delivery count raised; the
channel and the consumer stay, and a late ack of it is ignored and counted
(the queue's consumer_timeouts and late_acks in the HTTP API).

Warren-only: RabbitMQ 3.10 (the reference node) has no x-consumer-timeout
(3.11.15 added it) and its timeout closes the channel, which is the point
of difference; these tests need a warren they start with options.
"""
import base64
import json
import os
import time
import urllib.request

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

if os.environ.get('WARREN_TEST_URL'):
    pytest.skip('warren-only (see the module docstring)', allow_module_level=True)

PERSISTENT = pika.BasicProperties(delivery_mode=2)


def queue_json(b, name):
    req = urllib.request.Request('http://127.0.0.1:%d/api/queues/%%2F/%s' % (b.mgmt_port, name))
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def consume_one(ch, queue, timeout=10):
    """Next delivery on the channel's consumer of queue: (method, props, body)."""
    got = []

    def on_msg(c, m, p, body):
        got.append((m, p, body))
    tag = ch.basic_consume(queue, on_msg)
    end = time.time() + timeout
    while not got and time.time() < end:
        ch.connection.process_data_events(time_limit=0.05)
    ch.basic_cancel(tag)
    assert got, 'nothing delivered from %s within %ss' % (queue, timeout)
    return got[0]


class Worker:
    """One pika consumer whose deliveries are kept until the test acks them."""

    def __init__(self, url, queue, prefetch=10):
        self.conn = pika.BlockingConnection(pika.URLParameters(url))
        self.ch = self.conn.channel()
        self.ch.basic_qos(prefetch_count=prefetch)
        self.got = []
        self.tag = self.ch.basic_consume(queue, lambda c, m, p, b: self.got.append((m, p, b)))

    def wait(self, n, timeout=10):
        end = time.time() + timeout
        while len(self.got) < n and time.time() < end:
            self.conn.process_data_events(time_limit=0.05)
        assert len(self.got) >= n, (len(self.got), n)
        return self.got

    def idle(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            self.conn.process_data_events(time_limit=0.05)

    def close(self):
        self.conn.close()


def test_overdue_delivery_alone_is_requeued_channel_stays(broker_factory):
    b = broker_factory(management=True)
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.queue_declare('slow', durable=True, arguments={'x-consumer-timeout': 800, 'x-delivery-limit': 5})
    ch.queue_declare('plain', durable=True)
    ch.basic_publish('', 'slow', b'hangs', PERSISTENT)
    ch.basic_publish('', 'plain', b'long job', PERSISTENT)

    w = Worker(b.url, 'slow')
    plain_tag = w.ch.basic_consume('plain', lambda c, m, p, body: w.got.append((m, p, body)))
    first = w.wait(2)
    hung = [g for g in first if g[2] == b'hangs'][0]
    long_job = [g for g in first if g[2] == b'long job'][0]
    assert not hung[0].redelivered

    # the worker sits on both; after the timeout the 'slow' one comes back,
    # to the same consumer on the same channel, redelivered and counted
    got = w.wait(3, timeout=10)
    again = got[2]
    assert again[2] == b'hangs' and again[0].redelivered
    assert again[1].headers['x-delivery-count'] == 1
    assert again[0].consumer_tag == hung[0].consumer_tag
    assert w.ch.is_open and w.conn.is_open

    # the late ack of the first delivery is ignored: no channel error
    w.ch.basic_ack(hung[0].delivery_tag)
    w.ch.basic_ack(again[0].delivery_tag)
    # the other queue's delivery, unacked as long, was never touched
    w.idle(0.3)
    w.ch.basic_ack(long_job[0].delivery_tag)
    w.ch.basic_cancel(plain_tag)
    w.idle(0.2)
    assert w.ch.is_open
    assert ch.queue_declare('slow', passive=True).method.message_count == 0
    assert ch.queue_declare('plain', passive=True).method.message_count == 0
    q = queue_json(b, 'slow')
    assert (q['consumer_timeouts'], q['late_acks'], q['messages']) == (1, 1, 0)
    assert queue_json(b, 'plain')['consumer_timeouts'] == 0
    w.close()
    conn.close()


def test_hanging_poison_message_ends_in_dlq(broker_factory):
    """A task that hangs every worker: each timeout counts a delivery, and
    x-delivery-limit dead-letters it (reason delivery_limit)."""
    b = broker_factory()
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.queue_declare('hang-dlq', durable=True)
    ch.queue_declare('hang', durable=True, arguments={
        'x-consumer-timeout': 300, 'x-delivery-limit': 2,
        'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'hang-dlq'})
    ch.basic_publish('', 'hang', b'poison', PERSISTENT)
    w = Worker(b.url, 'hang')
    w.wait(3, timeout=10)  # delivered 3 times (limit 2), never acked
    m, props, body = consume_one(ch, 'hang-dlq')
    assert body == b'poison'
    assert props.headers['x-death'][0]['reason'] == 'delivery_limit'
    ch.basic_ack(m.delivery_tag)
    # the late acks of all three: ignored, the channel stays
    for g in w.got:
        w.ch.basic_ack(g[0].delivery_tag)
    w.idle(0.2)
    assert w.ch.is_open
    w.close()
    conn.close()


def test_broker_default_and_queue_opt_out(broker_factory):
    b = broker_factory('--consumer-timeout', '500', management=True)
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.queue_declare('tasks', durable=True)
    ch.queue_declare('batch', durable=True, arguments={'x-consumer-timeout': 0})  # no timeout here
    ch.basic_publish('', 'tasks', b't', PERSISTENT)
    ch.basic_publish('', 'batch', b'b', PERSISTENT)
    w1, w2 = Worker(b.url, 'tasks'), Worker(b.url, 'batch')
    w1.wait(2, timeout=10)  # the broker's 500 ms: it came back
    assert w1.got[1][0].redelivered
    w1.ch.basic_ack(w1.got[1][0].delivery_tag)
    w1.idle(0.1)
    w2.wait(1)
    w2.idle(1.5)
    assert len(w2.got) == 1  # opted out: held 1.5 s, still the worker's
    w2.ch.basic_ack(w2.got[0][0].delivery_tag)
    w1.idle(0.2)
    w2.idle(0.2)
    assert queue_json(b, 'tasks')['messages'] == 0 and queue_json(b, 'batch')['messages'] == 0
    w1.close()
    w2.close()
    conn.close()


def test_off_by_default(broker_factory):
    """The tutorial's promise: no timeout while a task is processed."""
    b = broker_factory()
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.queue_declare('tutorial', durable=True)
    ch.basic_publish('', 'tutorial', b'long', PERSISTENT)
    w = Worker(b.url, 'tutorial')
    w.wait(1)
    w.idle(2)
    assert len(w.got) == 1
    w.ch.basic_ack(w.got[0][0].delivery_tag)
    w.idle(0.1)
    assert ch.queue_declare('tutorial', passive=True).method.message_count == 0
    w.close()
    conn.close()


def test_basic_get_delivery_times_out_and_multiple_late_ack(broker_factory):
    b = broker_factory()
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.queue_declare('gets', durable=True, arguments={'x-consumer-timeout': 300})
    ch.queue_declare('keep', durable=True)
    for body in (b'a', b'b'):
        ch.basic_publish('', 'gets', body, PERSISTENT)
    ch.basic_publish('', 'keep', b'k', PERSISTENT)
    m1, _, _ = ch.basic_get('gets')
    mk, _, _ = ch.basic_get('keep')  # no timeout: stays the channel's
    time.sleep(0.8)
    conn.process_data_events(time_limit=0.1)
    m2, _, body = ch.basic_get('gets')
    assert body == b'a' and m2.redelivered  # 'a' came back (and 'b' is next)
    # one multiple ack up to the timed-out tag: the late one ignored, the
    # live 'keep' delivery before it acked
    assert mk.delivery_tag == m1.delivery_tag + 1
    ch.basic_ack(mk.delivery_tag, multiple=True)
    ch.basic_ack(m2.delivery_tag)
    assert ch.queue_declare('keep', passive=True).method.message_count == 0
    assert ch.queue_declare('gets', passive=True).method.message_count == 1
    # an ack of a tag never delivered is still refused, as RabbitMQ does
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.basic_ack(9999)
        ch.queue_declare('gets', passive=True)
    assert e.value.reply_code == 406 and 'unknown delivery tag 9999' in e.value.reply_text
    conn.close()


@pytest.mark.parametrize('value,why', [
    (-1, '{value_negative,-1}'),
    ('abc', '"expected integer, got longstr"'),
    (2147483648, '{value_too_large,2147483648}'),
])
def test_bad_consumer_timeout_refused(broker, value, why):
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    ch = conn.channel()
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.queue_declare('bad', arguments={'x-consumer-timeout': value})
    assert e.value.reply_code == 406
    assert e.value.reply_text == ("PRECONDITION_FAILED - invalid arg 'x-consumer-timeout' for queue 'bad' in "
                                  "vhost '/': " + why)
    conn.close()


def test_bad_broker_option_refused(tmp_path):
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([os.path.join(root, 'bin', 'warren'), '--consumer-timeout', '-5', '--data-dir',
                        str(tmp_path)], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and '--consumer-timeout' in r.stderr


def test_consumer_argument_overrides_the_queue(broker_factory):
    """basic.consume's x-consumer-timeout (RabbitMQ 3.12's per-consumer
    timeout) comes before the queue's and the broker's."""
    b = broker_factory('--consumer-timeout', '300')
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.queue_declare('q', durable=True, arguments={'x-consumer-timeout': 300})
    ch.basic_publish('', 'q', b'patient', PERSISTENT)
    ch.basic_publish('', 'q', b'quick', PERSISTENT)
    wc = pika.BlockingConnection(pika.URLParameters(b.url))
    wch = wc.channel()
    wch.basic_qos(prefetch_count=1)
    got = []
    wch.basic_consume('q', lambda c, m, p, body: got.append((m, body)), arguments={'x-consumer-timeout': 0})
    end = time.time() + 1.5
    while time.time() < end:
        wc.process_data_events(time_limit=0.05)
    assert [g[1] for g in got] == [b'patient']  # its own timeout: none, though queue and broker say 300 ms
    wch.basic_ack(got[0][0].delivery_tag)
    wc.process_data_events(time_limit=0.2)
    assert [g[1] for g in got] == [b'patient', b'quick']
    wch.basic_ack(got[1][0].delivery_tag)
    # and a consumer's shorter timeout on a queue without one
    ch.queue_declare('q2', durable=True, arguments={'x-consumer-timeout': 0})
    ch.basic_publish('', 'q2', b'x', PERSISTENT)
    got2 = []
    wch.basic_consume('q2', lambda c, m, p, body: got2.append(m), arguments={'x-consumer-timeout': 200})
    end = time.time() + 5
    while len(got2) < 2 and time.time() < end:
        wc.process_data_events(time_limit=0.05)
    assert len(got2) == 2 and got2[1].redelivered
    wch.basic_ack(got2[1].delivery_tag)
    wc.process_data_events(time_limit=0.1)
    wc.close()
    conn.close()


@pytest.mark.parametrize('value,why', [
    (-1, '{value_negative,-1}'),
    ('abc', '"expected integer, got longstr"'),
])
def test_bad_consumer_argument_refused(broker, value, why):
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    ch = conn.channel()
    ch.queue_declare('cq')
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.basic_consume('cq', lambda *a: None, arguments={'x-consumer-timeout': value})
    assert e.value.reply_code == 406
    assert e.value.reply_text == ("PRECONDITION_FAILED - invalid arg 'x-consumer-timeout' for queue 'cq' in "
                                  "vhost '/': " + why)
    conn.close()


def test_transactions(broker):
    """An ack inside an open transaction stops the clock; a late ack inside
    one is ignored as outside, and the commit goes through."""
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    ch = conn.channel()
    ch.queue_declare('txq', durable=True, arguments={'x-consumer-timeout': 300})
    for body in (b'acked in tx', b'late in tx'):
        ch.basic_publish('', 'txq', body, PERSISTENT)
    ch.tx_select()
    m1, _, b1 = ch.basic_get('txq')
    m2, _, b2 = ch.basic_get('txq')
    assert (b1, b2) == (b'acked in tx', b'late in tx')
    ch.basic_ack(m1.delivery_tag)  # held by the transaction
    time.sleep(0.8)
    conn.process_data_events(time_limit=0.1)
    ch.basic_ack(m2.delivery_tag)  # m2 timed out meanwhile: a late ack, ignored
    ch.tx_commit()
    assert ch.is_open
    m, _, body = ch.basic_get('txq', auto_ack=True)  # m2 came back; m1 is gone for good
    assert body == b'late in tx' and m.redelivered
    assert ch.basic_get('txq', auto_ack=True)[0] is None
    ch.tx_commit()
    conn.close()
