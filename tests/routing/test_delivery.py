"""Where routed messages end up: shared copies, mandatory returns, alternate
exchanges, and what survives a restart.

RabbitMQ 3.10 behaviour pinned here:
  - a message routed to several queues is one message: every queue delivers
    it byte-identical, and each queue's copy is acked, requeued or purged on
    its own;
  - mandatory + no route: basic.return 312 NO_ROUTE naming the exchange and
    key published to, then (with confirms) basic.ack;
  - the alternate-exchange is looked up at publish time (it may be declared
    later, may be missing: then unroutable), chains through AEs, stops on a
    cycle, and deliveries through it keep the original exchange and key;
  - the AE of an exchange reached through an exchange-to-exchange binding is
    used too when that exchange routes nowhere;
  - durable exchanges and bindings between durable ends survive a restart;
    transient ones and bindings to transient ends do not (restart tests need
    a broker the test controls: skipped against WARREN_TEST_URL).
"""
import os

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, UnroutableError

from routing_helpers import bodies, count, drain, get_one, wait_for


def declare_fanout_with_queues(ch, amqp, n, durable=False):
    x = amqp.xname('fan')
    ch.exchange_declare(x, 'fanout', durable=durable)
    qs = [amqp.name('shared') for _ in range(n)]
    for q in qs:
        ch.queue_declare(q, durable=durable)
        ch.queue_bind(q, x)
    return x, qs


FULL_PROPS = dict(content_type='application/octet-stream', content_encoding='identity',
                  headers={'h': 'v', 'n': 7, 'nested': {'a': [1, 'two']}}, priority=3,
                  correlation_id='corr-1', reply_to='nowhere', message_id='mid-1',
                  timestamp=1700000000, type='kind', app_id='warren-tests')


def check_props(p, delivery_mode=None):
    for k, v in FULL_PROPS.items():
        assert getattr(p, k) == v, k
    if delivery_mode is not None:
        assert p.delivery_mode == delivery_mode


# ---------------------------------------------------------------- one message, many queues

def test_routed_to_many_queues_arrives_intact_in_each(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    x, qs = declare_fanout_with_queues(ch, amqp, 5)
    body = os.urandom(300 * 1024)
    ch.basic_publish(x, 'rk', body, pika.BasicProperties(**FULL_PROPS))
    ch.basic_publish(x, 'rk', b'second')
    for q in qs:
        m, p, b = get_one(ch, q, auto_ack=False)
        assert b == body
        assert (m.exchange, m.routing_key, m.redelivered) == (x, 'rk', False)
        check_props(p)
        if q == qs[0]:
            ch.basic_ack(m.delivery_tag)
        elif q == qs[1]:
            ch.basic_nack(m.delivery_tag, requeue=True)
        elif q == qs[2]:
            ch.basic_reject(m.delivery_tag, requeue=False)
        else:
            ch.basic_ack(m.delivery_tag)
    ch.queue_purge(qs[3])
    # each queue's copy went its own way
    assert [len(drain(ch, q)) for q in qs] == [1, 2, 1, 0, 1]


def test_requeued_copy_is_still_intact(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    x, qs = declare_fanout_with_queues(ch, amqp, 3)
    body = os.urandom(200 * 1024)
    ch.basic_publish(x, '', body, pika.BasicProperties(**FULL_PROPS))
    m, _p, b = get_one(ch, qs[0], auto_ack=False)
    ch.basic_ack(m.delivery_tag)
    m, _p, b = get_one(ch, qs[1], auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, p, b = get_one(ch, qs[1])
    assert m.redelivered and b == body
    check_props(p)
    m, p, b = get_one(ch, qs[2])
    assert not m.redelivered and b == body
    check_props(p)


def test_persistent_shared_message_survives_restart_in_each_queue(broker, amqp):
    broker.require_control()
    ch = amqp.channel()
    ch.confirm_delivery()
    x, qs = declare_fanout_with_queues(ch, amqp, 3, durable=True)
    body = os.urandom(100 * 1024)
    ch.basic_publish(x, 'rk', body, pika.BasicProperties(delivery_mode=2, **FULL_PROPS))
    ch.basic_publish(x, 'rk', b'transient', pika.BasicProperties(delivery_mode=1))
    m, _p, _b = get_one(ch, qs[0], auto_ack=False)
    ch.basic_ack(m.delivery_tag)          # consumed from one queue before the restart
    broker.restart()
    ch = amqp.channel()
    assert count(ch, qs[0]) == 0
    for q in qs[1:]:
        assert count(ch, q) == 1
    m, p, b = get_one(ch, qs[1])
    assert b == body and m.exchange == x and m.routing_key == 'rk'
    check_props(p, delivery_mode=2)
    broker.restart()
    ch = amqp.channel()
    assert [count(ch, q) for q in qs] == [0, 0, 1]
    m, p, b = get_one(ch, qs[2])
    assert b == body
    check_props(p, delivery_mode=2)


# ---------------------------------------------------------------- mandatory

def collect_returns(ch):
    returned = []
    ch.add_on_return_callback(lambda _ch, method, props, body: returned.append((method, props, body)))
    return returned


def test_mandatory_unroutable_topic_returned(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    returned = collect_returns(ch)
    x = amqp.xname('topic')
    ch.exchange_declare(x, 'topic')
    ch.queue_declare(qname)
    ch.queue_bind(qname, x, 'a.*')
    ch.basic_publish(x, 'b.c', b'lost', pika.BasicProperties(message_id='m1'), mandatory=True)
    ch.basic_publish(x, 'a.c', b'routed', mandatory=True)
    wait_for(lambda: returned, conn=conn, what='basic.return')
    method, props, body = returned[0]
    assert (method.reply_code, method.reply_text, method.exchange, method.routing_key) == \
        (312, 'NO_ROUTE', x, 'b.c')
    assert (props.message_id, body) == ('m1', b'lost')
    assert bodies(ch, qname) == [b'routed']
    conn.process_data_events(time_limit=0.1)
    assert len(returned) == 1


def test_mandatory_with_confirms_and_fanout_without_queues(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    x = amqp.xname('fan')
    ch.exchange_declare(x, 'fanout')
    with pytest.raises(UnroutableError) as ei:
        ch.basic_publish(x, 'k', b'nobody', mandatory=True)
    (msg,) = ei.value.messages
    assert (msg.method.reply_code, msg.method.exchange, msg.body) == (312, x, b'nobody')
    ch.basic_publish(x, 'k', b'not mandatory: dropped quietly')


# ---------------------------------------------------------------- alternate exchanges

def test_alternate_exchange_catches_unroutable(amqp):
    conn = amqp.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    x, ae = amqp.xname('main'), amqp.xname('ae')
    q, aq = amqp.name('main'), amqp.name('unrouted')
    ch.exchange_declare(ae, 'fanout')
    ch.exchange_declare(x, 'direct', arguments={'alternate-exchange': ae})
    ch.queue_declare(q)
    ch.queue_declare(aq)
    ch.queue_bind(q, x, 'k')
    ch.queue_bind(aq, ae)
    ch.basic_publish(x, 'k', b'routed', mandatory=True)
    ch.basic_publish(x, 'other', b'caught', pika.BasicProperties(headers={'h': 1}), mandatory=True)
    assert bodies(ch, q) == [b'routed']
    ((m, p, b),) = drain(ch, aq)
    assert (m.exchange, m.routing_key, b, p.headers) == (x, 'other', b'caught', {'h': 1})


def test_alternate_exchange_missing_or_routing_nowhere(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    x1, x2, ae = amqp.xname('main'), amqp.xname('main'), amqp.xname('ae')
    ch.exchange_declare(x1, 'direct', arguments={'alternate-exchange': amqp.xname('missing')})
    ch.exchange_declare(ae, 'direct')
    ch.exchange_declare(x2, 'direct', arguments={'alternate-exchange': ae})
    for x in (x1, x2):
        ch.basic_publish(x, 'k', b'dropped')
        with pytest.raises(UnroutableError):
            ch.basic_publish(x, 'k', b'returned', mandatory=True)
    ch.queue_declare('', exclusive=True)      # channel still fine


def test_alternate_exchange_declared_later_and_chained(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    x, ae1, ae2 = amqp.xname('main'), amqp.xname('ae1'), amqp.xname('ae2')
    ch.exchange_declare(x, 'topic', arguments={'alternate-exchange': ae1})
    ch.queue_declare(qname)
    with pytest.raises(UnroutableError):
        ch.basic_publish(x, 'k', b'before', mandatory=True)
    # ae1 exists now but routes nowhere itself: its own AE takes over
    ch.exchange_declare(ae1, 'direct', arguments={'alternate-exchange': ae2})
    ch.exchange_declare(ae2, 'fanout')
    ch.queue_bind(qname, ae2)
    ch.basic_publish(x, 'k', b'after', mandatory=True)
    ((m, _p, b),) = drain(ch, qname)
    assert (m.exchange, m.routing_key, b) == (x, 'k', b'after')


def test_alternate_exchange_cycle_terminates(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    a, b = amqp.xname('cyc'), amqp.xname('cyc')
    ch.exchange_declare(a, 'direct', arguments={'alternate-exchange': b})
    ch.exchange_declare(b, 'direct', arguments={'alternate-exchange': a})
    with pytest.raises(UnroutableError):
        ch.basic_publish(a, 'k', b'loop', mandatory=True)
    own = amqp.xname('self')
    ch.exchange_declare(own, 'direct', arguments={'alternate-exchange': own})
    with pytest.raises(UnroutableError):
        ch.basic_publish(own, 'k', b'loop', mandatory=True)


def test_alternate_exchange_not_used_when_routed(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    x, ae = amqp.xname('main'), amqp.xname('ae')
    q, aq = amqp.name(), amqp.name()
    ch.exchange_declare(ae, 'fanout')
    ch.exchange_declare(x, 'fanout', arguments={'alternate-exchange': ae})
    ch.queue_declare(q)
    ch.queue_declare(aq)
    ch.queue_bind(aq, ae)
    ch.queue_bind(q, x)
    ch.basic_publish(x, 'k', b'fan')
    assert (bodies(ch, q), bodies(ch, aq)) == ([b'fan'], [])


def test_alternate_exchange_of_bound_destination_exchange(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    src, dst, ae = amqp.xname('src'), amqp.xname('dst'), amqp.xname('ae')
    ch.exchange_declare(ae, 'fanout')
    ch.exchange_declare(src, 'direct')
    ch.exchange_declare(dst, 'direct', arguments={'alternate-exchange': ae})
    ch.exchange_bind(dst, src, 'k')
    ch.queue_declare(qname)
    ch.queue_bind(qname, ae)
    ch.basic_publish(src, 'k', b'via dst ae')
    ((m, _p, b),) = drain(ch, qname)
    assert (m.exchange, m.routing_key, b) == (src, 'k', b'via dst ae')
    # src's own miss is not dst's business
    with pytest.raises(UnroutableError):
        ch.basic_publish(src, 'other', b'no', mandatory=True)


# ---------------------------------------------------------------- restarts

def test_durable_topology_survives_restart(broker, amqp):
    broker.require_control()
    ch = amqp.channel()
    topic, fan, hdr, transient = (amqp.xname('dtopic'), amqp.xname('dfan'), amqp.xname('dhdr'),
                                  amqp.xname('trans'))
    q1, q2, q3, tq = amqp.name('dq'), amqp.name('dq'), amqp.name('dq'), amqp.name('tq')
    ch.exchange_declare(topic, 'topic', durable=True)
    ch.exchange_declare(fan, 'fanout', durable=True)
    ch.exchange_declare(hdr, 'headers', durable=True)
    ch.exchange_declare(transient, 'fanout', durable=False)
    for q in (q1, q2, q3):
        ch.queue_declare(q, durable=True)
    ch.queue_declare(tq, durable=False)
    ch.queue_bind(q1, topic, 'a.*')
    ch.queue_bind(q1, topic, '#.z')
    ch.exchange_bind(fan, topic, 'e2e.#')
    ch.queue_bind(q2, fan)
    ch.queue_bind(q3, hdr, arguments={'x-match': 'any', 'color': 'red', 'size': 3})
    ch.queue_bind(tq, fan)
    ch.queue_bind(q3, transient)
    ch.exchange_bind(transient, topic, 'a.b')

    broker.restart()
    conn = amqp.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    for x, t in ((topic, 'topic'), (fan, 'fanout'), (hdr, 'headers')):
        ch.exchange_declare(x, t, durable=True)        # same flags: equivalent
    with pytest.raises(ChannelClosedByBroker):
        conn.channel().exchange_declare(transient, 'fanout', passive=True)
    ch = amqp.channel()
    ch.confirm_delivery()
    with pytest.raises(ChannelClosedByBroker):
        amqp.channel().queue_declare(tq, passive=True)
    ch.basic_publish(topic, 'a.b', b'1')
    ch.basic_publish(topic, 'x.y.z', b'2')
    ch.basic_publish(topic, 'e2e.go', b'3')
    ch.basic_publish(topic, 'b.b', b'none')
    ch.basic_publish(hdr, '', b'4', pika.BasicProperties(headers={'size': 3}))
    ch.basic_publish(hdr, '', b'none', pika.BasicProperties(headers={'size': '3'}))
    assert bodies(ch, q1) == [b'1', b'2']
    assert bodies(ch, q2) == [b'3']
    assert bodies(ch, q3) == [b'4']
    # nothing left of the bindings to the transient queue and exchange
    ch.queue_unbind(q1, topic, 'a.*')
    ch.queue_unbind(q1, topic, '#.z')
    ch.exchange_unbind(fan, topic, 'e2e.#')
    ch.exchange_delete(topic, if_unused=True)
    ch.queue_unbind(q2, fan)
    ch.exchange_delete(fan, if_unused=True)


def test_durable_exchange_arguments_survive_restart(broker, amqp, qname):
    broker.require_control()
    ch = amqp.channel()
    x, ae = amqp.xname('dx'), amqp.xname('dae')
    ch.exchange_declare(ae, 'fanout', durable=True)
    ch.exchange_declare(x, 'direct', durable=True, arguments={'alternate-exchange': ae})
    ch.queue_declare(qname, durable=True)
    ch.queue_bind(qname, ae)
    broker.restart()
    conn = amqp.connect()
    with pytest.raises(ChannelClosedByBroker):
        conn.channel().exchange_declare(x, 'direct', durable=True)   # AE is compared
    ch = conn.channel()
    ch.exchange_declare(x, 'direct', durable=True, arguments={'alternate-exchange': ae})
    ch.confirm_delivery()
    ch.basic_publish(x, 'nowhere', b'to ae', mandatory=True)
    assert bodies(ch, qname) == [b'to ae']


def test_deleted_durable_exchange_stays_deleted_after_restart(broker, amqp, qname):
    broker.require_control()
    ch = amqp.channel()
    x, gone = amqp.xname('dx'), amqp.xname('gone')
    ch.exchange_declare(x, 'direct', durable=True)
    ch.exchange_declare(gone, 'direct', durable=True)
    ch.queue_declare(qname, durable=True)
    ch.queue_bind(qname, x, 'k1')
    ch.queue_bind(qname, x, 'k2')
    ch.queue_bind(qname, gone, 'k')
    ch.queue_unbind(qname, x, 'k1')
    ch.exchange_delete(gone)
    broker.restart()
    conn = amqp.connect()
    with pytest.raises(ChannelClosedByBroker):
        conn.channel().exchange_declare(gone, 'direct', passive=True)
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish(x, 'k1', b'unbound')
    ch.basic_publish(x, 'k2', b'bound')
    assert bodies(ch, qname) == [b'bound']
