"""Issue 3: queue.declare, queue.delete, queue.purge, as RabbitMQ 3.10 does them.

Reply texts asserted here are RabbitMQ's, word for word, because clients and
people match on them.  RabbitMQ quirks worth knowing:
  - redeclaring a non-exclusive queue with exclusive=True (or the reverse) is
    405 RESOURCE_LOCKED, not 406 PRECONDITION_FAILED;
  - passive declare ignores durable/auto_delete/arguments entirely;
  - only arguments RabbitMQ knows (x-max-length, x-message-ttl, ...) are
    compared on redeclare; unknown ones ("foo", "x-foo") are ignored;
  - queue.delete of a missing queue is delete-ok with message_count 0;
  - queue.purge of a missing queue is 404;
  - an exclusive queue is never durable (durable=True is ignored), so it is
    never on disk and does not come back after a crash;
  - on redeclare the owner is checked first (405), then durable, auto_delete
    and arguments (406);
  - a non-passive declare of an amq.* name is 403 even when the queue exists
    (a server-named amq.gen-... queue can be redeclared only passively);
  - an empty queue name means the channel's last declared queue, for
    delete, purge, bind, unbind, consume and get; with none declared yet it
    is 404 "no previously declared queue"; a passive declare of "" is a
    lookup of the name "" (404);
  - unbind on another connection's exclusive queue is 405 only when the
    binding exists; otherwise unbind-ok.
"""
import os
import struct
import subprocess
import time

import pytest
from pika.exceptions import ChannelClosedByBroker

import pika
import amqp_raw as raw
from helpers import wait_for

CHECK_STORE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           'bin', 'warren-check-store')
LOCKED = ("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '%s' in vhost "
          "'/'. It could be originally declared on another connection or the exclusive "
          "property value does not match that of the original declaration.")

def closed_with(excinfo, code, text=None):
    assert excinfo.value.reply_code == code, excinfo.value
    if text is not None:
        assert excinfo.value.reply_text == text
    return excinfo.value.reply_text


def count(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def publish_n(ch, q, n, prefix=b'm'):
    for i in range(n):
        ch.basic_publish('', q, prefix + b'%d' % i)


def wait_count(conn, q, n, timeout=5):
    ch = conn.channel()
    wait_for(lambda: count(ch, q) == n, timeout, what='%d messages in %s' % (n, q))
    ch.close()


# ---------------------------------------------------------------- declare

def test_declare_ok_counts(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ok = ch.queue_declare(qname)
    assert (ok.method.queue, ok.method.message_count, ok.method.consumer_count) == (qname, 0, 0)
    publish_n(ch, qname, 3)
    wait_count(conn, qname, 3)
    cch = conn.channel()
    cch.basic_consume(qname, lambda *a: None, auto_ack=False)
    # consumer took the 3 messages (unacked): declare-ok counts ready messages only
    ok = ch.queue_declare(qname)
    assert ok.method.consumer_count == 1
    wait_for(lambda: ch.queue_declare(qname, passive=True).method.message_count == 0,
             conn=conn, what='messages handed to the consumer')


def test_declare_durable_persists_flags(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname, durable=True)
    # same flags: fine, idempotent
    ok = ch.queue_declare(qname, durable=True)
    assert ok.method.queue == qname


def test_declare_server_named(amqp):
    ch = amqp.channel()
    ok1 = ch.queue_declare('', exclusive=True)
    ok2 = ch.queue_declare('', exclusive=True)
    for ok in (ok1, ok2):
        assert ok.method.queue.startswith('amq.gen-')
        assert len(ok.method.queue) > len('amq.gen-') + 8
    assert ok1.method.queue != ok2.method.queue
    # usable like any queue
    ch.basic_publish('', ok1.method.queue, b'x')
    wait_for(lambda: count(ch, ok1.method.queue) == 1)


def test_declare_nowait(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        # nowait: no declare-ok; the next reply is for the basic.get
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, True, {}))
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False)
               + raw.header_frame(1, 2) + raw.body_frame(1, b'nw'))
        got = None
        deadline = time.monotonic() + 5
        while got is None and time.monotonic() < deadline:
            c.send(raw.method_frame(1, raw.BASIC_GET, 0, qname, True))
            f = c.read_method()
            assert f.method in (raw.BASIC_GET_OK, raw.BASIC_GET_EMPTY), f
            if f.method == raw.BASIC_GET_OK:
                c.read_frame()
                got = c.read_frame().payload
        assert got == b'nw'


def test_declare_passive(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname, durable=True, arguments={'x-max-length': 100})
    ch.basic_publish('', qname, b'a')
    wait_for(lambda: count(ch, qname) == 1)
    # passive ignores the other flags and arguments
    ok = ch.queue_declare(qname, passive=True, durable=False, auto_delete=True,
                          arguments={'x-max-length': 3})
    assert (ok.method.message_count, ok.method.consumer_count) == (1, 0)


def test_declare_passive_missing_is_404(amqp, qname):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, passive=True)
    closed_with(ei, 404, "NOT_FOUND - no queue '%s' in vhost '/'" % qname)


def redeclare_refused(amqp, q, **kw):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(q, **kw)
    return ei


def test_redeclare_different_durable_406_queue_untouched(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname, durable=True)
    publish_n(ch, qname, 2)
    wait_for(lambda: count(ch, qname) == 2)
    ei = redeclare_refused(amqp, qname, durable=False)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' "
                "in vhost '/': received 'false' but current is 'true'" % qname)
    ch2 = amqp.channel()
    assert count(ch2, qname) == 2
    m, _p, body = ch2.basic_get(qname, auto_ack=True)
    assert body == b'm0'
    # and the queue is still durable
    assert ch2.queue_declare(qname, durable=True).method.message_count == 1


def test_redeclare_nondurable_as_durable_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname, durable=False)
    ei = redeclare_refused(amqp, qname, durable=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' "
                "in vhost '/': received 'true' but current is 'false'" % qname)


def test_redeclare_different_auto_delete_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ei = redeclare_refused(amqp, qname, auto_delete=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '%s' "
                "in vhost '/': received 'true' but current is 'false'" % qname)


def test_redeclare_different_exclusive_405(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ei = redeclare_refused(amqp, qname, exclusive=True)
    closed_with(ei, 405, "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue "
                "'%s' in vhost '/'. It could be originally declared on another connection "
                "or the exclusive property value does not match that of the original "
                "declaration." % qname)


def test_redeclare_exclusive_as_non_exclusive_same_connection_405(amqp, qname):
    conn = amqp.connect()
    conn.channel().queue_declare(qname, exclusive=True)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_declare(qname)
    assert ei.value.reply_code == 405
    assert ei.value.reply_text.startswith('RESOURCE_LOCKED - cannot obtain exclusive access')


def test_redeclare_added_argument_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ei = redeclare_refused(amqp, qname, arguments={'x-max-length': 10})
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' "
                "in vhost '/': received the value '10' of type 'signedint' but current is none"
                % qname)


def test_redeclare_missing_argument_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname, arguments={'x-max-length': 10})
    ei = redeclare_refused(amqp, qname)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' "
                "in vhost '/': received none but current is the value '10' of type 'signedint'"
                % qname)


def test_redeclare_different_argument_value_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname, arguments={'x-max-length': 10})
    ei = redeclare_refused(amqp, qname, arguments={'x-max-length': 11})
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' "
                "in vhost '/': received '11' but current is '10'" % qname)
    # identical arguments are fine
    ok = amqp.channel().queue_declare(qname, arguments={'x-max-length': 10})
    assert ok.method.queue == qname


def test_redeclare_different_message_ttl_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname, arguments={'x-message-ttl': 60000})
    ei = redeclare_refused(amqp, qname, arguments={'x-message-ttl': 1000})
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '%s' "
                "in vhost '/': received '1000' but current is '60000'" % qname)


def test_unknown_arguments_not_compared(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname, arguments={'x-max-length': 10})
    ok = ch.queue_declare(qname, arguments={'x-max-length': 10, 'x-foo': 'bar', 'foo': 1})
    assert ok.method.queue == qname


def test_invalid_argument_value_406(amqp, qname):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, arguments={'x-max-length': -1})
    text = closed_with(ei, 406)
    assert text.startswith("PRECONDITION_FAILED - invalid arg 'x-max-length' for queue '%s' "
                           "in vhost '/'" % qname)


def test_exclusive_queue_locked_to_other_connections(amqp, qname):
    owner = amqp.connect()
    och = owner.channel()
    och.queue_declare(qname, exclusive=True)
    other = amqp.connect()
    locked = ("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '%s' in vhost "
              "'/'. It could be originally declared on another connection or the exclusive "
              "property value does not match that of the original declaration." % qname)
    for attempt in (lambda ch: ch.queue_declare(qname, exclusive=True),
                    lambda ch: ch.queue_declare(qname, passive=True),
                    lambda ch: ch.basic_get(qname),
                    lambda ch: ch.basic_consume(qname, lambda *a: None),
                    lambda ch: ch.queue_purge(qname),
                    lambda ch: ch.queue_delete(qname)):
        with pytest.raises(ChannelClosedByBroker) as ei:
            attempt(other.channel())
        closed_with(ei, 405, locked)
    # publishing into it from elsewhere is allowed
    other.channel().basic_publish('', qname, b'from-other')
    wait_for(lambda: count(och, qname) == 1)
    owner.close()
    ch = other.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        wait_for(lambda: ch.queue_declare(qname, passive=True) and False, timeout=5)
    closed_with(ei, 404)


def test_exclusive_queue_shared_across_own_channels(amqp, qname):
    conn = amqp.connect()
    conn.channel().queue_declare(qname, exclusive=True)
    ch2 = conn.channel()
    ch2.basic_publish('', qname, b'x')
    wait_for(lambda: count(ch2, qname) == 1)
    m, _p, body = ch2.basic_get(qname, auto_ack=True)
    assert body == b'x'


def test_auto_delete_goes_with_last_consumer(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname, auto_delete=True)
    # never consumed: stays
    assert ch.queue_declare(qname, passive=True).method.queue == qname
    t1 = ch.basic_consume(qname, lambda *a: None)
    t2 = ch.basic_consume(qname, lambda *a: None)
    ch.basic_cancel(t1)
    ok = ch.queue_declare(qname, passive=True)
    assert ok.method.consumer_count == 1
    ch.basic_cancel(t2)
    with pytest.raises(ChannelClosedByBroker) as ei:
        wait_for(lambda: ch.queue_declare(qname, passive=True) and False, timeout=5)
    closed_with(ei, 404, "NOT_FOUND - no queue '%s' in vhost '/'" % qname)


def test_auto_delete_goes_when_consumer_connection_closes(amqp, qname):
    c1 = amqp.connect()
    c1.channel().queue_declare(qname, auto_delete=True)
    c1.channel().basic_consume(qname, lambda *a: None)
    c1.close()
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        wait_for(lambda: ch.queue_declare(qname, passive=True) and False, timeout=5)
    closed_with(ei, 404)


def test_reserved_amq_prefix_403(amqp, qname):
    ch = amqp.channel()
    name = 'amq.' + qname
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(name)
    closed_with(ei, 403, "ACCESS_REFUSED - queue name '%s' contains reserved prefix 'amq.*'" % name)
    # passive declare of such a name is just a lookup
    with pytest.raises(ChannelClosedByBroker) as ei:
        amqp.channel().queue_declare(name, passive=True)
    closed_with(ei, 404, "NOT_FOUND - no queue '%s' in vhost '/'" % name)


# ---------------------------------------------------------------- delete, purge

def test_delete_returns_message_count(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    publish_n(ch, qname, 4)
    wait_for(lambda: count(ch, qname) == 4)
    ok = ch.queue_delete(qname)
    assert ok.method.message_count == 4
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, passive=True)
    closed_with(ei, 404)


def test_delete_missing_queue_is_ok(amqp, qname):
    ch = amqp.channel()
    ok = ch.queue_delete('gone-' + qname)
    assert ok.method.message_count == 0


def test_delete_if_empty(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'x')
    wait_for(lambda: count(ch, qname) == 1)
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_delete(qname, if_empty=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - queue '%s' in vhost '/' not empty" % qname)
    ch = amqp.channel()
    assert count(ch, qname) == 1
    ch.basic_get(qname, auto_ack=True)
    assert ch.queue_delete(qname, if_empty=True).method.message_count == 0


def test_delete_if_unused(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    tag = ch.basic_consume(qname, lambda *a: None)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_delete(qname, if_unused=True)
    closed_with(ei, 406, "PRECONDITION_FAILED - queue '%s' in vhost '/' in use" % qname)
    ch.basic_cancel(tag)
    assert conn.channel().queue_delete(qname, if_unused=True).method.message_count == 0


def test_purge_returns_count(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    publish_n(ch, qname, 5)
    wait_for(lambda: count(ch, qname) == 5)
    # an unacked message is not purged
    m, _p, body = ch.basic_get(qname, auto_ack=False)
    assert body == b'm0'
    ok = ch.queue_purge(qname)
    assert ok.method.message_count == 4
    assert count(ch, qname) == 0
    ch.basic_nack(m.delivery_tag, requeue=True)
    wait_for(lambda: count(ch, qname) == 1)
    assert ch.queue_purge(qname).method.message_count == 1
    assert ch.queue_purge(qname).method.message_count == 0


def test_purge_missing_queue_404(amqp, qname):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_purge('gone-' + qname)
    closed_with(ei, 404, "NOT_FOUND - no queue 'gone-%s' in vhost '/'" % qname)


# ---------------------------------------------------------------- exclusive queues are not durable

def test_exclusive_queue_is_never_durable(amqp, qname):
    conn = amqp.connect()
    conn.channel().queue_declare(qname, exclusive=True, durable=True)
    # it was made non-durable, so both forms are equivalent to it
    assert conn.channel().queue_declare(qname, exclusive=True, durable=False).method.queue == qname
    assert conn.channel().queue_declare(qname, exclusive=True, durable=True).method.queue == qname


def test_exclusive_durable_queue_is_not_kept_over_a_crash(amqp, broker, qname):
    broker.require_control()
    plain = amqp.name('plain')
    conn = amqp.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare(plain, durable=True)
    ch.queue_declare(qname, exclusive=True, durable=True)
    persistent = pika.BasicProperties(delivery_mode=2)
    ch.basic_publish('', plain, b'kept', persistent)
    ch.basic_publish('', qname, b'secret', persistent)
    broker.kill()              # the owner is still connected: the queue exists at the crash
    p = subprocess.run([CHECK_STORE, broker.data_dir], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    # neither the exclusive queue nor its persistent message reached the disk
    assert '1 durable queues' in out, out
    assert '1 message records' in out, out
    broker.start()
    ch = amqp.channel()
    assert count(ch, plain) == 1
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, passive=True)
    closed_with(ei, 404, "NOT_FOUND - no queue '%s' in vhost '/'" % qname)
    assert amqp.channel().queue_declare(qname, durable=True).method.message_count == 0


# ---------------------------------------------------------------- redeclare: what is checked first

@pytest.mark.parametrize('kw', [dict(exclusive=True, durable=False), dict(exclusive=True, auto_delete=True),
                                dict(exclusive=True, arguments={'x-max-length': 1})])
def test_redeclare_owner_checked_before_other_properties(amqp, qname, kw):
    amqp.channel().queue_declare(qname, durable=True)
    ei = redeclare_refused(amqp, qname, **kw)
    closed_with(ei, 405, LOCKED % qname)


def test_redeclare_other_connections_exclusive_queue_405_before_406(amqp, qname):
    amqp.connect().channel().queue_declare(qname, exclusive=True)
    ei = redeclare_refused(amqp, qname, exclusive=True, auto_delete=True)
    closed_with(ei, 405, LOCKED % qname)


def test_redeclare_server_named_queue_by_name_403(amqp):
    conn = amqp.connect()
    name = conn.channel().queue_declare('', exclusive=True).method.queue
    assert name.startswith('amq.gen-')
    for kw in (dict(exclusive=True), {}):
        with pytest.raises(ChannelClosedByBroker) as ei:
            conn.channel().queue_declare(name, **kw)
        closed_with(ei, 403, "ACCESS_REFUSED - queue name '%s' contains reserved prefix 'amq.*'" % name)
    ok = conn.channel().queue_declare(name, passive=True)
    assert ok.method.queue == name


# ---------------------------------------------------------------- the empty queue name

@pytest.mark.parametrize('how', ['delete', 'purge', 'bind', 'bind_empty_key', 'unbind', 'unbind_missing_exchange',
                                 'bind_missing_exchange', 'bind_default_exchange', 'consume', 'get'])
def test_empty_queue_name_without_declared_queue_404(amqp, how):
    do = {
        'delete': lambda ch: ch.queue_delete(''),
        'purge': lambda ch: ch.queue_purge(''),
        'bind': lambda ch: ch.queue_bind('', 'amq.direct', 'k'),
        'bind_empty_key': lambda ch: ch.queue_bind('', 'amq.direct', ''),
        'unbind': lambda ch: ch.queue_unbind('', 'amq.direct', 'k'),
        'unbind_missing_exchange': lambda ch: ch.queue_unbind('', 'no-such-exchange', 'k'),
        'bind_missing_exchange': lambda ch: ch.queue_bind('', 'no-such-exchange', 'k'),
        'bind_default_exchange': lambda ch: ch.queue_bind('', '', 'k'),
        'consume': lambda ch: ch.basic_consume('', lambda *a: None),
        'get': lambda ch: ch.basic_get(''),
    }[how]
    with pytest.raises(ChannelClosedByBroker) as ei:
        do(amqp.channel())
    closed_with(ei, 404, 'NOT_FOUND - no previously declared queue')


def test_passive_declare_of_empty_name_is_a_lookup(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare('', passive=True)        # not the last declared queue
    closed_with(ei, 404, "NOT_FOUND - no queue '' in vhost '/'")


def test_empty_queue_name_is_the_last_declared_queue(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ch.queue_bind('', 'amq.direct', '')          # empty key too: the queue's name
    ch.basic_publish('amq.direct', qname, b'a')
    wait_for(lambda: count(ch, qname) == 1)
    ch.queue_unbind('', 'amq.direct', '')
    ch.basic_publish('amq.direct', qname, b'b')  # unroutable now
    ch.basic_publish('', qname, b'c')
    wait_for(lambda: count(ch, qname) == 2)
    time.sleep(0.1)
    assert count(ch, qname) == 2
    assert ch.queue_purge('').method.message_count == 2
    ch.basic_publish('', qname, b'd')
    wait_for(lambda: count(ch, qname) == 1)
    assert ch.basic_get('', auto_ack=True)[2] == b'd'
    assert ch.queue_delete('').method.message_count == 0
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, passive=True)
    closed_with(ei, 404)


# ---------------------------------------------------------------- unbind and exclusive queues

def test_unbind_other_connections_exclusive_queue(amqp, qname):
    owner = amqp.connect().channel()
    owner.queue_declare(qname, exclusive=True)
    owner.queue_bind(qname, 'amq.direct', 'k')
    other = amqp.connect()
    with pytest.raises(ChannelClosedByBroker) as ei:
        other.channel().queue_unbind(qname, 'amq.direct', 'k')
    closed_with(ei, 405, LOCKED % qname)
    # what is not bound can be unbound by anyone, as in RabbitMQ
    other.channel().queue_unbind(qname, 'amq.direct', 'other-key')
    other.channel().queue_unbind(qname, 'no-such-exchange-' + qname, 'k')
    # and the binding is still there
    other.channel().basic_publish('amq.direct', 'k', b'x')
    wait_for(lambda: count(owner, qname) == 1)


# ---------------------------------------------------------------- argument texts

def declare_raw(c, channel, q, table):
    """queue.declare (exclusive, auto-delete) with an encoded argument table."""
    args = raw.encode_args('sSbbbbb', [0, q, False, False, True, True, False]) + table
    c.send(raw.method_frame(channel, raw.QUEUE_DECLARE, raw_args=args))


@pytest.mark.parametrize('kind,value,shown', [
    ('d', 1000.0, '1.0e3'), ('d', 1000.5, '1000.5'), ('d', 100.0, '100.0'), ('d', 0.0001, '0.0001'),
    ('d', 100000.0, '1.0e5'), ('d', 1e-10, '1.0e-10'), ('d', 1 / 3, '0.3333333333333333'),
    ('f', 0.1, '0.10000000149011612'), ('f', 1500.0, '1.5e3'),
])
def test_inequivalent_float_argument_in_erlangs_format(broker, qname, kind, value, shown):
    """RabbitMQ prints a float argument as Erlang does (~p)."""
    key = raw.shortstr('x-message-ttl')
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        declare_raw(c, 1, qname, raw.encode_table({'x-message-ttl': 1000}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        c.open_channel(2)
        body = key + kind.encode() + struct.pack('>' + kind, value)
        declare_raw(c, 2, qname, struct.pack('>I', len(body)) + body)
        code, text, cls, meth = c.expect_channel_close(2)
        assert (code, cls, meth) == (406, 50, 10)
        assert text == ("PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue '%s' in vhost "
                        "'/': received '%s' but current is '1000'" % (qname, shown))
