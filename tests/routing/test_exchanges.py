"""Exchanges and bindings: declare, delete, bind, unbind, as RabbitMQ 3.10 does them.

Reply codes and texts are RabbitMQ 3.10.8's, word for word.  Quirks worth
knowing (all checked against the reference broker):
  - an unknown exchange type is a *connection* error 503 COMMAND_INVALID, and
    the type is checked before anything else (even for '' or amq.direct);
    the empty type has its own text ("invalid exchange type ''");
  - passive declare ignores type and flags; it only checks existence;
  - of the arguments only alternate-exchange is compared on redeclare;
  - exchange.delete of a missing exchange is delete-ok; of any 'amq.*' name
    (existing or not) it is 403;
  - if_unused counts only bindings the exchange is the *source* of;
  - queue.unbind / exchange.unbind of a missing binding, queue or exchange is
    unbind-ok;
  - bind with both ends missing names the exchange (the source) in the 404;
  - an auto_delete exchange goes when its last binding *as source* goes, not
    before it ever had one, and not when it is only a destination.
"""
import uuid

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, ConnectionClosedByBroker

import amqp_raw as raw
from routing_helpers import (
    EXCHANGE_BIND, EXCHANGE_BIND_OK, EXCHANGE_DECLARE, EXCHANGE_DECLARE_OK,
    EXCHANGE_DELETE, EXCHANGE_UNBIND, QUEUE_BIND, QUEUE_BIND_OK,
    bodies, closed_with, get_one, raw_method)

DEFAULT_403 = 'ACCESS_REFUSED - operation not permitted on the default exchange'


def exists(conn, name):
    ch = conn.channel()
    try:
        ch.exchange_declare(name, 'direct', passive=True)
    except ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return False
    ch.close()
    return True


def confirming(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    return ch


def publish_routed(ch, exchange, key, queue, headers=None):
    """On a confirming channel: did one publish reach queue?  Drains queue."""
    body = uuid.uuid4().hex.encode()
    props = pika.BasicProperties(headers=headers) if headers is not None else None
    ch.basic_publish(exchange, key, body, props)
    got = bodies(ch, queue)
    # (other messages may be there when predeclared exchanges are shared)
    assert got.count(body) <= 1, got
    return body in got


# ---------------------------------------------------------------- declare

@pytest.mark.parametrize('xtype', ['direct', 'fanout', 'topic', 'headers'])
def test_declare_each_type_then_passive_and_redeclare(amqp, xtype):
    ch = amqp.channel()
    x = amqp.xname()
    ch.exchange_declare(x, xtype)
    ch.exchange_declare(x, xtype)
    ch.exchange_declare(x, xtype, passive=True)
    ch.exchange_declare(x, xtype, durable=False, auto_delete=False, internal=False)


def test_passive_ignores_type_and_flags(amqp):
    ch = amqp.channel()
    x = amqp.xname()
    ch.exchange_declare(x, 'direct')
    ch.exchange_declare(x, 'fanout', passive=True, durable=True, auto_delete=True,
                        arguments={'alternate-exchange': 'zzz'})


def test_passive_missing_404(amqp):
    ch = amqp.channel()
    x = amqp.xname()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.exchange_declare(x, 'direct', passive=True)
    closed_with(ei, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x)


@pytest.mark.parametrize('field,first,second,received,current', [
    ('type', {'exchange_type': 'direct'}, {'exchange_type': 'fanout'}, 'fanout', 'direct'),
    ('type', {'exchange_type': 'topic'}, {'exchange_type': 'headers'}, 'headers', 'topic'),
    ('durable', {'durable': False}, {'durable': True}, 'true', 'false'),
    ('durable', {'durable': True}, {'durable': False}, 'false', 'true'),
    ('auto_delete', {'auto_delete': False}, {'auto_delete': True}, 'true', 'false'),
    ('internal', {'internal': False}, {'internal': True}, 'true', 'false'),
    ('internal', {'internal': True}, {'internal': False}, 'false', 'true'),
])
def test_redeclare_inequivalent_406(amqp, field, first, second, received, current):
    x = amqp.xname()
    kw1 = dict({'exchange_type': 'direct'}, **first)
    kw2 = dict(kw1, **second)
    ch = amqp.channel()
    ch.exchange_declare(x, **kw1)
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.exchange_declare(x, **kw2)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg '%s' for exchange '%s' in "
                "vhost '/': received '%s' but current is '%s'" % (field, x, received, current))
    # the exchange is untouched and still usable as first declared
    amqp.channel().exchange_declare(x, **kw1)


def test_redeclare_alternate_exchange_compared(amqp):
    x = amqp.xname()
    conn = amqp.connect()
    conn.channel().exchange_declare(x, 'direct', arguments={'alternate-exchange': 'ae-one'})
    base = "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '%s' in vhost '/': " % x
    cases = [
        ({}, "received none but current is the value 'ae-one' of type 'longstr'"),
        ({'alternate-exchange': 'ae-two'}, "received 'ae-two' but current is 'ae-one'"),
    ]
    for args, tail in cases:
        with pytest.raises(ChannelClosedByBroker) as ei:
            conn.channel().exchange_declare(x, 'direct', arguments=args)
        closed_with(ei, 406, base + tail)
    # other arguments are not compared
    conn.channel().exchange_declare(x, 'direct', arguments={'alternate-exchange': 'ae-one',
                                                            'foo': 1, 'x-bar': 'baz'})


def test_redeclare_adding_alternate_exchange_406(amqp):
    x = amqp.xname()
    conn = amqp.connect()
    conn.channel().exchange_declare(x, 'fanout', arguments={'some': 'thing'})
    conn.channel().exchange_declare(x, 'fanout')   # unknown args not compared
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_declare(x, 'fanout', arguments={'alternate-exchange': 'ae'})
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange "
                "'%s' in vhost '/': received the value 'ae' of type 'longstr' but current is none" % x)


def test_redeclare_with_alternate_exchange_not_a_string_is_compared(amqp):
    """For an existing exchange RabbitMQ compares, it does not validate."""
    x, y = amqp.xname(), amqp.xname()
    conn = amqp.connect()
    conn.channel().exchange_declare(x, 'direct', arguments={'alternate-exchange': 'a'})
    conn.channel().exchange_declare(y, 'direct')
    base = "PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange '%s' in vhost '/': "
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_declare(x, 'direct', arguments={'alternate-exchange': 5})
    closed_with(ei, 406, base % x + "received '5' but current is 'a'")
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_declare(y, 'direct', arguments={'alternate-exchange': 5})
    closed_with(ei, 406, base % y + "received the value '5' of type 'signedint' but current is none")


def test_alternate_exchange_must_be_a_string(amqp):
    x = amqp.xname()
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.exchange_declare(x, 'direct', arguments={'alternate-exchange': 5})
    closed_with(ei, 406, "PRECONDITION_FAILED - invalid type 'signedint' for arg "
                "'alternate-exchange' in exchange '%s' in vhost '/'" % x)
    assert not exists(amqp.connect(), x)


@pytest.mark.parametrize('xtype', ['bogus', 'x-bogus', 'Direct', 'DIRECT'])
def test_unknown_type_is_connection_error_503(amqp, xtype):
    x = amqp.xname()
    conn = amqp.connect()
    with pytest.raises(ConnectionClosedByBroker) as ei:
        conn.channel().exchange_declare(x, xtype)
    closed_with(ei, 503, "COMMAND_INVALID - unknown exchange type '%s'" % xtype)
    assert not exists(amqp.connect(), x)


@pytest.mark.parametrize('xtype', ['ok', 'queue', 'true', 'undefined', 'classic'])
def test_type_that_is_an_erlang_atom_is_invalid_503(amqp, xtype):
    """RabbitMQ looks the type up as an existing atom: those get 'invalid'."""
    x = amqp.xname()
    conn = amqp.connect()
    with pytest.raises(ConnectionClosedByBroker) as ei:
        conn.channel().exchange_declare(x, xtype)
    closed_with(ei, 503, "COMMAND_INVALID - invalid exchange type '%s'" % xtype)
    assert not exists(amqp.connect(), x)


def test_empty_type_503_invalid(amqp):
    conn = amqp.connect()
    with pytest.raises(ConnectionClosedByBroker) as ei:
        conn.channel().exchange_declare(amqp.xname(), '')
    closed_with(ei, 503, "COMMAND_INVALID - invalid exchange type ''")


@pytest.mark.parametrize('name', ['', 'amq.direct'])
def test_type_checked_before_name(amqp, name):
    """Even for the default exchange or a predeclared one the type comes first."""
    conn = amqp.connect()
    with pytest.raises(ConnectionClosedByBroker) as ei:
        conn.channel().exchange_declare(name, 'bogus')
    closed_with(ei, 503, "COMMAND_INVALID - unknown exchange type 'bogus'")


def test_unknown_type_passive_is_only_existence(amqp):
    conn = amqp.connect()
    conn.channel().exchange_declare('amq.direct', 'bogus', passive=True)
    x = amqp.xname()
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_declare(x, 'bogus', passive=True)
    closed_with(ei, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x)


# ---------------------------------------------------------------- predeclared

PREDECLARED = [('amq.direct', 'direct'), ('amq.fanout', 'fanout'), ('amq.topic', 'topic'),
               ('amq.headers', 'headers'), ('amq.match', 'headers')]


@pytest.mark.parametrize('name,xtype', PREDECLARED)
def test_predeclared_exchanges(amqp, name, xtype):
    conn = amqp.connect()
    conn.channel().exchange_declare(name, xtype, passive=True)
    # durable, not auto-delete, not internal: redeclaring exactly so is fine
    conn.channel().exchange_declare(name, xtype, durable=True)
    other = 'fanout' if xtype != 'fanout' else 'direct'
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_declare(name, other, durable=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange '%s' in "
                "vhost '/': received '%s' but current is '%s'" % (name, other, xtype))
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_declare(name, xtype, durable=False)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange '%s' in "
                "vhost '/': received 'false' but current is 'true'" % name)


def test_trace_exchange_is_predeclared_internal(amqp, qname):
    conn = amqp.connect()
    conn.channel().exchange_declare('amq.rabbitmq.trace', 'topic', passive=True)
    conn.channel().exchange_declare('amq.rabbitmq.trace', 'topic', durable=True, internal=True)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_declare('amq.rabbitmq.trace', 'topic', durable=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'internal' for exchange "
                "'amq.rabbitmq.trace' in vhost '/': received 'false' but current is 'true'")
    ch = conn.channel()
    ch.queue_declare(qname, auto_delete=True)
    ch.queue_bind(qname, 'amq.rabbitmq.trace', '#')
    ch.queue_unbind(qname, 'amq.rabbitmq.trace', '#')
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.basic_publish('amq.rabbitmq.trace', 'x', b'no')
        ch.queue_declare(qname, passive=True)
    closed_with(ei, 403, "ACCESS_REFUSED - cannot publish to internal exchange 'amq.rabbitmq.trace' "
                "in vhost '/'")
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_delete('amq.rabbitmq.trace')
    closed_with(ei, 403)


def test_predeclared_exchanges_route(amqp, qname):
    ch = confirming(amqp)
    ch.queue_declare(qname, auto_delete=True)
    key = qname
    ch.queue_bind(qname, 'amq.direct', key)
    ch.queue_bind(qname, 'amq.fanout')
    ch.queue_bind(qname, 'amq.topic', key + '.*')
    ch.queue_bind(qname, 'amq.headers', arguments={'x-match': 'all', 'tag': key})
    ch.queue_bind(qname, 'amq.match', arguments={'x-match': 'any', 'tag2': key})
    try:
        assert publish_routed(ch, 'amq.direct', key, qname)
        assert not publish_routed(ch, 'amq.direct', key + 'x', qname)
        assert publish_routed(ch, 'amq.fanout', 'anything', qname)
        assert publish_routed(ch, 'amq.topic', key + '.word', qname)
        assert not publish_routed(ch, 'amq.topic', key, qname)
        assert publish_routed(ch, 'amq.headers', '', qname, headers={'tag': key})
        assert not publish_routed(ch, 'amq.headers', '', qname, headers={'tag': 'no'})
        assert publish_routed(ch, 'amq.match', '', qname, headers={'tag2': key})
    finally:
        # predeclared exchanges are shared: leave no binding behind on them
        ch.queue_delete(qname)


def test_amq_prefix_reserved_403(amqp):
    conn = amqp.connect()
    for name in ('amq.' + uuid.uuid4().hex[:8], 'amq.direct.' + uuid.uuid4().hex[:6]):
        with pytest.raises(ChannelClosedByBroker) as ei:
            conn.channel().exchange_declare(name, 'direct')
        closed_with(ei, 403, "ACCESS_REFUSED - exchange name '%s' contains reserved "
                    "prefix 'amq.*'" % name)
        # passive: only existence matters
        with pytest.raises(ChannelClosedByBroker) as ei:
            conn.channel().exchange_declare(name, 'direct', passive=True)
        closed_with(ei, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % name)
    # 'amq' without the dot, and other cases, are ordinary names
    x = 'amq' + uuid.uuid4().hex[:8]
    amqp.exchanges.append(x)
    conn.channel().exchange_declare(x, 'direct')
    x = 'AMQ.' + uuid.uuid4().hex[:8]
    amqp.exchanges.append(x)
    conn.channel().exchange_declare(x, 'direct')


@pytest.mark.parametrize('name', ['amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers',
                                  'amq.match', 'amq.no-such-exchange'])
def test_delete_system_exchange_403(amqp, name):
    conn = amqp.connect()
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_delete(name)
    closed_with(ei, 403, "ACCESS_REFUSED - deletion of system exchange '%s' in vhost '/' "
                "not allowed" % name)
    if name != 'amq.no-such-exchange':
        assert exists(conn, name)


# ---------------------------------------------------------------- default exchange

DEFAULT_OPS = {
    'declare': lambda ch, q: ch.exchange_declare('', 'direct'),
    'declare-durable': lambda ch, q: ch.exchange_declare('', 'direct', durable=True),
    'declare-passive': lambda ch, q: ch.exchange_declare('', 'direct', passive=True),
    'delete': lambda ch, q: ch.exchange_delete(''),
    'delete-if-unused': lambda ch, q: ch.exchange_delete('', if_unused=True),
    'queue.bind': lambda ch, q: ch.queue_bind(q, '', routing_key='k'),
    'queue.bind-own-name': lambda ch, q: ch.queue_bind(q, '', routing_key=q),
    'queue.unbind': lambda ch, q: ch.queue_unbind(q, '', routing_key=q),
    'exchange.bind-as-destination': lambda ch, q: ch.exchange_bind('', 'amq.direct', 'k'),
    'exchange.bind-as-source': lambda ch, q: ch.exchange_bind('amq.direct', '', 'k'),
    'exchange.unbind-as-source': lambda ch, q: ch.exchange_unbind('amq.direct', '', 'k'),
    'exchange.unbind-as-destination': lambda ch, q: ch.exchange_unbind('', 'amq.direct', 'k'),
}


@pytest.mark.parametrize('op', sorted(DEFAULT_OPS))
def test_default_exchange_refuses_403(amqp, qname, op):
    conn = amqp.connect()
    conn.channel().queue_declare(qname, auto_delete=True)
    with pytest.raises(ChannelClosedByBroker) as ei:
        DEFAULT_OPS[op](conn.channel(), qname)
    closed_with(ei, 403, DEFAULT_403)
    # the default exchange still routes by queue name
    ch = confirming(amqp)
    assert publish_routed(ch, '', qname, qname)
    if op.startswith('exchange.bind'):
        # nothing was bound to/from amq.direct
        assert not publish_routed(ch, 'amq.direct', 'k', qname)


# ---------------------------------------------------------------- delete

def test_delete_missing_exchange_is_ok(amqp):
    ch = amqp.channel()
    ch.exchange_delete(amqp.xname())
    ch.exchange_delete(amqp.xname(), if_unused=True)


def test_delete_if_unused_with_queue_binding_406(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    x = amqp.xname()
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(qname)
    ch.queue_bind(qname, x, 'k')
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.exchange_delete(x, if_unused=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - exchange '%s' in vhost '/' in use" % x)
    ch = confirming(amqp)
    assert publish_routed(ch, x, 'k', qname)       # untouched
    ch.queue_unbind(qname, x, 'k')
    ch.exchange_delete(x, if_unused=True)
    assert not exists(conn, x)


def test_delete_if_unused_counts_only_source_bindings(amqp):
    conn = amqp.connect()
    ch = conn.channel()
    src, dst = amqp.xname(), amqp.xname()
    ch.exchange_declare(src, 'fanout')
    ch.exchange_declare(dst, 'fanout')
    ch.exchange_bind(dst, src)
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.exchange_delete(src, if_unused=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - exchange '%s' in vhost '/' in use" % src)
    # dst is only a destination: unused
    conn.channel().exchange_delete(dst, if_unused=True)
    assert not exists(conn, dst)
    # and deleting it removed src's binding, so src is unused now
    conn.channel().exchange_delete(src, if_unused=True)
    assert not exists(conn, src)


def test_delete_exchange_drops_its_bindings(amqp, qname):
    ch = confirming(amqp)
    x = amqp.xname()
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(qname)
    ch.queue_bind(qname, x, 'k')
    assert publish_routed(ch, x, 'k', qname)
    ch.exchange_delete(x)
    ch.exchange_declare(x, 'direct')
    assert not publish_routed(ch, x, 'k', qname)
    # and the queue is not "in use" of the new exchange
    ch.exchange_delete(x, if_unused=True)


def test_delete_queue_drops_its_bindings(amqp, qname):
    ch = confirming(amqp)
    x = amqp.xname()
    ch.exchange_declare(x, 'fanout')
    ch.queue_declare(qname)
    ch.queue_bind(qname, x)
    ch.queue_delete(qname)
    ch.queue_declare(qname)
    assert not publish_routed(ch, x, '', qname)
    ch.exchange_delete(x, if_unused=True)


# ---------------------------------------------------------------- bind / unbind errors

def test_bind_missing_exchange_or_queue_404(amqp, qname):
    conn = amqp.connect()
    x = amqp.xname()
    conn.channel().exchange_declare(x, 'direct')
    conn.channel().queue_declare(qname)
    nox, noq = amqp.xname(), amqp.name()
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_bind(qname, nox, 'k')
    closed_with(ei, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % nox)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_bind(noq, x, 'k')
    closed_with(ei, 404, "NOT_FOUND - no queue '%s' in vhost '/'" % noq)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_bind(noq, nox, 'k')
    closed_with(ei, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % nox)


def test_exchange_bind_missing_404(amqp):
    conn = amqp.connect()
    x = amqp.xname()
    conn.channel().exchange_declare(x, 'direct')
    nosrc, nodst = amqp.xname(), amqp.xname()
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_bind(x, nosrc, 'k')
    closed_with(ei, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % nosrc)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_bind(nodst, x, 'k')
    closed_with(ei, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % nodst)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().exchange_bind(nodst, nosrc, 'k')
    closed_with(ei, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % nosrc)


def test_unbind_missing_things_is_ok(amqp, qname):
    ch = amqp.channel()
    x = amqp.xname()
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(qname)
    ch.queue_unbind(qname, x, 'never-bound')
    ch.queue_unbind(qname, amqp.xname(), 'k')
    ch.queue_unbind(amqp.name(), x, 'k')
    ch.exchange_unbind(x, 'amq.direct', 'never-bound')
    ch.exchange_unbind(amqp.xname(), x, 'k')
    ch.exchange_unbind(x, amqp.xname(), 'k')
    ch.queue_declare(qname, passive=True)


# ---------------------------------------------------------------- binding identity

def test_binding_identity_includes_arguments(amqp, qname):
    ch = confirming(amqp)
    x = amqp.xname()
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(qname)
    ch.queue_bind(qname, x, 'k', arguments={'a': 1})
    ch.queue_bind(qname, x, 'k', arguments={'a': 2})
    ch.queue_bind(qname, x, 'k', arguments={'a': 2})   # same again: idempotent
    # two bindings to one queue: one copy
    ch.basic_publish(x, 'k', b'once')
    assert bodies(ch, qname) == [b'once']
    ch.queue_unbind(qname, x, 'k')                     # no such binding (no args)
    ch.queue_unbind(qname, x, 'k', arguments={'a': 3})  # nor this
    assert publish_routed(ch, x, 'k', qname)
    ch.queue_unbind(qname, x, 'k', arguments={'a': 1})
    assert publish_routed(ch, x, 'k', qname)
    ch.queue_unbind(qname, x, 'k', arguments={'a': 2})
    assert not publish_routed(ch, x, 'k', qname)


def test_several_keys_one_queue(amqp, qname):
    ch = confirming(amqp)
    x = amqp.xname()
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(qname)
    for k in ('a', 'b', ''):
        ch.queue_bind(qname, x, k)
    for k in ('a', 'b', ''):
        assert publish_routed(ch, x, k, qname), k
    assert not publish_routed(ch, x, 'c', qname)
    ch.queue_unbind(qname, x, 'a')
    assert not publish_routed(ch, x, 'a', qname)
    assert publish_routed(ch, x, 'b', qname)


def test_direct_routes_to_every_matching_queue(amqp):
    ch = confirming(amqp)
    x = amqp.xname()
    ch.exchange_declare(x, 'direct')
    qs = [amqp.name() for _ in range(3)]
    for q, key in zip(qs, ('k', 'k', 'other')):
        ch.queue_declare(q)
        ch.queue_bind(q, x, key)
    ch.basic_publish(x, 'k', b'm')
    assert [bodies(ch, q) for q in qs] == [[b'm'], [b'm'], []]


def test_fanout_ignores_routing_key(amqp):
    ch = confirming(amqp)
    x = amqp.xname()
    ch.exchange_declare(x, 'fanout')
    qs = [amqp.name() for _ in range(3)]
    for q, key in zip(qs, ('a', '', 'zz')):
        ch.queue_declare(q)
        ch.queue_bind(q, x, key)
    ch.basic_publish(x, 'unrelated', b'm')
    assert [bodies(ch, q) for q in qs] == [[b'm']] * 3


# ---------------------------------------------------------------- internal

def test_internal_exchange(amqp, qname):
    conn = amqp.connect()
    pub, inner = amqp.xname(), amqp.xname()
    ch = conn.channel()
    ch.exchange_declare(inner, 'fanout', internal=True)
    ch.exchange_declare(pub, 'direct')
    ch.queue_declare(qname)
    ch.queue_bind(qname, inner)
    ch.exchange_bind(inner, pub, 'k')
    ch = conn.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.basic_publish(inner, '', b'direct to internal')
        ch.queue_declare(qname, passive=True)   # sync point for the async close
    closed_with(ei, 403, "ACCESS_REFUSED - cannot publish to internal exchange '%s' in "
                "vhost '/'" % inner)
    ch = confirming(amqp)
    ch.basic_publish(pub, 'k', b'via e2e')
    assert bodies(ch, qname) == [b'via e2e']


# ---------------------------------------------------------------- auto-delete

def test_auto_delete_exchange_goes_with_last_queue_binding(amqp):
    conn = amqp.connect()
    ch = conn.channel()
    x = amqp.xname()
    q1, q2 = amqp.name(), amqp.name()
    ch.exchange_declare(x, 'fanout', auto_delete=True)
    assert exists(conn, x), 'auto_delete exchange with no binding yet must stay'
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    ch.queue_bind(q1, x)
    ch.queue_bind(q2, x)
    ch.queue_unbind(q1, x)
    assert exists(conn, x)
    ch.queue_unbind(q2, x)
    assert not exists(conn, x)


def test_auto_delete_exchange_goes_when_last_bound_queue_is_deleted(amqp):
    conn = amqp.connect()
    ch = conn.channel()
    x = amqp.xname()
    q1, q2 = amqp.name(), amqp.name()
    ch.exchange_declare(x, 'direct', auto_delete=True)
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    ch.queue_bind(q1, x, 'a')
    ch.queue_bind(q2, x, 'b')
    ch.queue_delete(q1)
    assert exists(conn, x)
    ch.queue_delete(q2)
    assert not exists(conn, x)


def test_auto_delete_exchange_and_exchange_bindings(amqp):
    conn = amqp.connect()
    ch = conn.channel()
    x, other = amqp.xname(), amqp.xname()
    ch.exchange_declare(x, 'fanout', auto_delete=True)
    ch.exchange_declare(other, 'fanout')
    # as a destination only: unbinding does not delete it
    ch.exchange_bind(x, other)
    ch.exchange_unbind(x, other)
    assert exists(conn, x)
    # as a source: the last binding going deletes it
    ch.exchange_bind(other, x)
    ch.exchange_unbind(other, x)
    assert not exists(conn, x)


# ---------------------------------------------------------------- exchange-to-exchange

def test_exchange_to_exchange_routing(amqp, qname):
    ch = confirming(amqp)
    src, dst = amqp.xname(), amqp.xname()
    ch.exchange_declare(src, 'direct')
    ch.exchange_declare(dst, 'topic')
    ch.queue_declare(qname)
    ch.queue_bind(qname, dst, 'a.*')
    ch.exchange_bind(dst, src, 'a.b')
    ch.exchange_bind(dst, src, 'c.d')
    assert publish_routed(ch, src, 'a.b', qname)
    # passes src's binding but the original key does not match dst's 'a.*'
    assert not publish_routed(ch, src, 'c.d', qname)
    assert not publish_routed(ch, src, 'a.c', qname)
    # delivery names the exchange published to and the original key
    ch.basic_publish(src, 'a.b', b'fields')
    m, _p, body = get_one(ch, qname)
    assert (m.exchange, m.routing_key, body) == (src, 'a.b', b'fields')
    ch.exchange_unbind(dst, src, 'a.b')
    assert not publish_routed(ch, src, 'a.b', qname)


def test_exchange_to_exchange_one_copy_per_queue(amqp, qname):
    ch = confirming(amqp)
    x1, x2, x3 = amqp.xname(), amqp.xname(), amqp.xname()
    for x in (x1, x2, x3):
        ch.exchange_declare(x, 'fanout')
    ch.queue_declare(qname)
    ch.exchange_bind(x2, x1)
    ch.exchange_bind(x3, x1)
    ch.exchange_bind(x3, x2)
    for x in (x1, x2, x3):
        ch.queue_bind(qname, x)
    ch.basic_publish(x1, '', b'one copy')
    assert bodies(ch, qname) == [b'one copy']


def test_exchange_binding_cycle_terminates(amqp, qname):
    ch = confirming(amqp)
    x1, x2 = amqp.xname(), amqp.xname()
    ch.exchange_declare(x1, 'fanout')
    ch.exchange_declare(x2, 'fanout')
    ch.exchange_bind(x2, x1)
    ch.exchange_bind(x1, x2)
    ch.exchange_bind(x1, x1)
    ch.queue_declare(qname)
    ch.queue_bind(qname, x2)
    ch.basic_publish(x1, '', b'loop')
    ch.basic_publish(x2, '', b'loop2')
    assert bodies(ch, qname) == [b'loop', b'loop2']


def test_deleting_destination_exchange_removes_exchange_binding(amqp, qname):
    ch = confirming(amqp)
    src, dst = amqp.xname(), amqp.xname()
    ch.exchange_declare(src, 'fanout')
    ch.exchange_declare(dst, 'fanout')
    ch.exchange_bind(dst, src)
    ch.exchange_delete(dst)
    ch.exchange_declare(dst, 'fanout')
    ch.queue_declare(qname)
    ch.queue_bind(qname, dst)
    assert not publish_routed(ch, src, '', qname)
    assert publish_routed(ch, dst, '', qname)


# ---------------------------------------------------------------- nowait (raw)

def test_nowait_declare_bind_unbind_delete(broker, amqp, qname):
    x, y = amqp.xname(), amqp.xname()
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, False, False, True, {}))
        c.send(raw_method(1, EXCHANGE_DECLARE, 0, x, 'fanout', False, False, False, False, True, {}))
        c.send(raw_method(1, EXCHANGE_DECLARE, 0, y, 'direct', False, False, False, False, True, {}))
        c.send(raw_method(1, EXCHANGE_BIND, 0, y, x, 'k', True, {}))
        c.send(raw_method(1, QUEUE_BIND, 0, qname, y, 'k', True, {}))
        # a synchronous method: its reply must be the very next frame
        c.send(raw_method(1, EXCHANGE_DECLARE, 0, y, 'direct', True, False, False, False, False, {}))
        f = c.read_method()
        assert f.method == EXCHANGE_DECLARE_OK, f
        c.send(raw_method(1, QUEUE_BIND, 0, qname, x, 'sync', False, {}))
        assert c.read_method().method == QUEUE_BIND_OK
    ch = confirming(amqp)
    assert publish_routed(ch, x, 'k', qname)
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw_method(1, EXCHANGE_UNBIND, 0, y, x, 'k', True, {}))
        c.send(raw_method(1, EXCHANGE_DELETE, 0, y, False, True))
        c.send(raw_method(1, EXCHANGE_BIND, 0, x, 'amq.fanout', '', False, {}))
        assert c.read_method().method == EXCHANGE_BIND_OK
        c.send(raw_method(1, EXCHANGE_UNBIND, 0, x, 'amq.fanout', '', True, {}))
    conn = amqp.connect()
    assert not exists(conn, y)
    ch = conn.channel()
    ch.queue_unbind(qname, x, 'sync')
    ch.confirm_delivery()
    assert not publish_routed(ch, x, 'k', qname)


def test_nowait_errors_still_close_the_channel(broker, amqp):
    x = amqp.xname()
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw_method(1, EXCHANGE_DECLARE, 0, x, 'direct', False, False, False, False, True, {}))
        c.send(raw_method(1, EXCHANGE_DECLARE, 0, x, 'fanout', False, False, False, False, True, {}))
        code, text, cls, meth = c.expect_channel_close(1)
        assert (code, cls, meth) == (406, 40, 10)
        assert text == ("PRECONDITION_FAILED - inequivalent arg 'type' for exchange '%s' in "
                        "vhost '/': received 'fanout' but current is 'direct'" % x)
        c.open_channel(2)
        c.send(raw_method(2, EXCHANGE_DELETE, 0, 'amq.direct', False, True))
        code, text, cls, meth = c.expect_channel_close(2)
        assert (code, cls, meth) == (403, 40, 20)


def test_unknown_type_raw_close_names_method(broker, amqp):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw_method(1, EXCHANGE_DECLARE, 0, amqp.xname(), 'bogus', False, False, False,
                          False, False, {}))
        code, text, cls, meth = c.expect_connection_close()
        assert (code, text, cls, meth) == (503, "COMMAND_INVALID - unknown exchange type 'bogus'",
                                           40, 10)
        assert c.wait_closed(5)
