"""Channel transactions (tx.select / tx.commit / tx.rollback) as RabbitMQ 3.10 does them.

  - publishes on a transactional channel reach queues only at tx.commit;
    rollback (or closing the channel) discards them; mandatory returns for
    them come at commit;
  - but a publish is routed when it arrives: bindings made or removed before
    the commit do not change where it goes, an exchange deleted meanwhile
    does not stop it; at commit it goes to those of its queues that still
    exist (by name: a queue deleted and declared again gets it), and comes
    back (mandatory) if none does; its TTL counts from the commit;
  - basic.ack / reject / nack inside a transaction take effect at commit;
    the delivery tag is checked at once (unknown or already-acked-in-this-tx
    tag: 406 "unknown delivery tag N");
  - after tx.rollback the acks are forgotten: the messages are still unacked
    on the channel (not requeued), can be acked again, and come back to the
    queue if the channel closes;
  - the channel stays transactional after commit and rollback; tx.select
    twice is fine; commit/rollback without select is 406; tx and confirm
    mode exclude each other (406 both ways).
"""
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

import amqp_raw as raw
from routing_helpers import (
    TX_COMMIT, TX_COMMIT_OK, TX_ROLLBACK, TX_ROLLBACK_OK, TX_SELECT, TX_SELECT_OK,
    bodies, closed_with, count, get_one, raw_method, wait_count, wait_for)


def sync(ch, q):
    """A round trip on ch: everything sent before it has been processed."""
    ch.queue_declare(q, passive=True)


def fill(amqp, q, n):
    ch = amqp.channel()
    ch.confirm_delivery()
    ch.queue_declare(q)
    for i in range(n):
        ch.basic_publish('', q, b'%d' % i)
    return ch


def test_publish_visible_only_after_commit(amqp, qname):
    conn = amqp.connect()
    watch = conn.channel()
    watch.queue_declare(qname)
    ch = conn.channel()
    ch.tx_select()
    for i in range(3):
        ch.basic_publish('', qname, b'%d' % i, pika.BasicProperties(delivery_mode=2))
    sync(ch, qname)
    assert count(watch, qname) == 0
    ch.tx_commit()
    assert count(watch, qname) == 3
    assert bodies(watch, qname) == [b'0', b'1', b'2']


def test_rollback_discards_publishes_channel_stays_transactional(amqp, qname):
    conn = amqp.connect()
    watch = conn.channel()
    watch.queue_declare(qname)
    ch = conn.channel()
    ch.tx_select()
    ch.basic_publish('', qname, b'dropped-1')
    ch.basic_publish('', qname, b'dropped-2')
    ch.tx_rollback()
    assert count(watch, qname) == 0
    ch.basic_publish('', qname, b'kept')
    sync(ch, qname)
    assert count(watch, qname) == 0
    ch.tx_commit()
    ch.tx_commit()                      # an empty commit is fine
    assert bodies(watch, qname) == [b'kept']


def test_uncommitted_publishes_discarded_on_channel_close(amqp, qname):
    conn = amqp.connect()
    watch = conn.channel()
    watch.queue_declare(qname)
    ch = conn.channel()
    ch.tx_select()
    ch.basic_publish('', qname, b'never')
    ch.close()
    conn.channel().basic_publish('', qname, b'after')
    wait_count(watch, qname, 1)
    assert bodies(watch, qname) == [b'after']


def test_commit_routes_through_exchanges(amqp):
    ch = amqp.channel()
    x = amqp.xname('txfan')
    qs = [amqp.name('txq') for _ in range(3)]
    ch.exchange_declare(x, 'fanout')
    for q in qs:
        ch.queue_declare(q)
        ch.queue_bind(q, x)
    ch.tx_select()
    ch.basic_publish(x, '', b'a')
    ch.basic_publish('', qs[0], b'b')
    sync(ch, qs[0])
    assert [count(ch, q) for q in qs] == [0, 0, 0]
    ch.tx_commit()
    assert [bodies(ch, q) for q in qs] == [[b'a', b'b'], [b'a'], [b'a']]


def test_acks_take_effect_at_commit(amqp, qname):
    fill(amqp, qname, 3)
    conn = amqp.connect()
    ch = conn.channel()
    tags = [get_one(ch, qname, auto_ack=False)[0].delivery_tag for _ in range(3)]
    ch.tx_select()
    ch.basic_ack(tags[0])
    ch.basic_ack(tags[1])
    ch.close()                      # uncommitted: both acks are lost, all 3 come back
    watch = amqp.channel()
    wait_count(watch, qname, 3)

    ch = conn.channel()
    tags = [get_one(ch, qname, auto_ack=False)[0].delivery_tag for _ in range(3)]
    ch.tx_select()
    ch.basic_ack(tags[1], multiple=True)
    ch.tx_commit()
    ch.close()
    wait_count(watch, qname, 1)
    assert bodies(watch, qname) == [b'2']


def test_rollback_forgets_acks_messages_stay_unacked(amqp, qname):
    fill(amqp, qname, 2)
    conn = amqp.connect()
    watch = conn.channel()
    ch = conn.channel()
    t0 = get_one(ch, qname, auto_ack=False)[0].delivery_tag
    t1 = get_one(ch, qname, auto_ack=False)[0].delivery_tag
    ch.tx_select()
    ch.basic_ack(t0)
    ch.basic_ack(t1)
    ch.tx_rollback()
    # not requeued by the rollback: still unacked on this channel
    assert count(watch, qname) == 0
    # the tags are valid again: ack one for real
    ch.basic_ack(t0)
    ch.tx_commit()
    ch.close()
    wait_count(watch, qname, 1)
    assert bodies(watch, qname) == [b'1']


def test_reject_and_nack_take_effect_at_commit(amqp, qname):
    fill(amqp, qname, 3)
    conn = amqp.connect()
    watch = conn.channel()
    ch = conn.channel()
    tags = [get_one(ch, qname, auto_ack=False)[0].delivery_tag for _ in range(3)]
    ch.tx_select()
    ch.basic_reject(tags[0], requeue=True)
    ch.basic_nack(tags[1], requeue=True)
    ch.basic_reject(tags[2], requeue=False)
    sync(ch, qname)
    assert count(watch, qname) == 0
    ch.tx_commit()
    assert count(watch, qname) == 2
    ch.close()
    assert bodies(watch, qname) == [b'0', b'1']


def test_rolled_back_reject_leaves_message_unacked(amqp, qname):
    fill(amqp, qname, 1)
    conn = amqp.connect()
    watch = conn.channel()
    ch = conn.channel()
    tag = get_one(ch, qname, auto_ack=False)[0].delivery_tag
    ch.tx_select()
    ch.basic_reject(tag, requeue=False)
    ch.tx_rollback()
    assert count(watch, qname) == 0
    ch.close()
    wait_count(watch, qname, 1)


def test_unknown_or_repeated_tag_in_tx_406_at_once(amqp, qname):
    fill(amqp, qname, 1)
    conn = amqp.connect()
    ch = conn.channel()
    tag = get_one(ch, qname, auto_ack=False)[0].delivery_tag
    ch.tx_select()
    ch.basic_ack(tag)
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.basic_ack(tag)
        sync(ch, qname)
    closed_with(ei, 406, 'PRECONDITION_FAILED - unknown delivery tag %d' % tag)
    # the channel died before commit: the message is back
    wait_count(conn.channel(), qname, 1)
    ch = conn.channel()
    ch.tx_select()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.basic_ack(99)
        sync(ch, qname)
    closed_with(ei, 406, 'PRECONDITION_FAILED - unknown delivery tag 99')


def test_mandatory_return_comes_at_commit(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    returned = []
    ch.add_on_return_callback(lambda _c, m, p, b: returned.append((m.reply_code, m.routing_key, b)))
    ch.tx_select()
    ch.basic_publish('amq.direct', 'no-route-' + qname, b'ret', mandatory=True)
    sync(ch, qname)
    conn.process_data_events(time_limit=0.2)
    assert returned == []
    ch.tx_commit()
    wait_for(lambda: returned, conn=conn, what='basic.return after commit')
    assert returned == [(312, 'no-route-' + qname, b'ret')]


def test_publish_is_routed_when_published_not_at_commit(amqp, qname):
    conn = amqp.connect()
    admin = conn.channel()
    x = amqp.xname('txroute')
    admin.exchange_declare(x, 'direct')
    admin.queue_declare(qname)
    ch = conn.channel()
    ch.tx_select()
    ch.basic_publish(x, 'k', b'before-bind')
    sync(ch, qname)
    admin.queue_bind(qname, x, 'k')
    ch.basic_publish(x, 'k', b'after-bind')
    sync(ch, qname)
    admin.queue_unbind(qname, x, 'k')
    ch.tx_commit()
    assert bodies(admin, qname) == [b'after-bind']


def test_exchange_deleted_before_commit_still_delivers(amqp, qname):
    conn = amqp.connect()
    admin = conn.channel()
    x = amqp.xname('txgone')
    admin.exchange_declare(x, 'fanout')
    admin.queue_declare(qname)
    admin.queue_bind(qname, x)
    ch = conn.channel()
    ch.tx_select()
    ch.basic_publish(x, '', b'routed-then-exchange-deleted')
    sync(ch, qname)
    admin.exchange_delete(x)
    ch.tx_commit()
    assert bodies(admin, qname) == [b'routed-then-exchange-deleted']


def test_queue_deleted_before_commit_returns_or_goes_to_its_successor(amqp, qname):
    conn = amqp.connect()
    admin = conn.channel()
    gone_q = amqp.name('txgoneq')
    admin.queue_declare(gone_q)
    admin.queue_declare(qname)
    returned = []
    ch = conn.channel()
    ch.add_on_return_callback(lambda _c, m, p, b: returned.append((m.reply_code, b)))
    ch.tx_select()
    ch.basic_publish('', gone_q, b'to-a-deleted-queue', mandatory=True)
    ch.basic_publish('', qname, b'to-a-redeclared-queue', mandatory=True)
    sync(ch, qname)
    admin.queue_delete(gone_q)
    admin.queue_delete(qname)
    admin.queue_declare(qname)          # the same name, a new queue
    ch.tx_commit()
    wait_for(lambda: returned, conn=conn, what='basic.return after commit')
    conn.process_data_events(time_limit=0.1)
    assert returned == [(312, b'to-a-deleted-queue')]
    assert bodies(admin, qname) == [b'to-a-redeclared-queue']


def test_ttl_of_a_transactional_publish_counts_from_commit(amqp, qname):
    conn = amqp.connect()
    admin = conn.channel()
    admin.queue_declare(qname, arguments={'x-message-ttl': 500})
    ch = conn.channel()
    ch.tx_select()
    ch.basic_publish('', qname, b'ttl-from-commit')
    sync(ch, qname)
    time.sleep(0.7)                     # longer than its TTL, before the commit
    ch.tx_commit()
    assert count(admin, qname) == 1
    wait_count(admin, qname, 0)


@pytest.mark.parametrize('method', ['commit', 'rollback'])
def test_commit_or_rollback_without_select_406(amqp, method):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        getattr(ch, 'tx_' + method)()
    closed_with(ei, 406, 'PRECONDITION_FAILED - channel is not transactional')


def test_tx_and_confirm_modes_exclude_each_other(amqp):
    conn = amqp.connect()
    ch = conn.channel()
    ch.tx_select()
    ch.tx_select()                      # twice is fine
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.confirm_delivery()
    closed_with(ei, 406, 'PRECONDITION_FAILED - cannot switch from tx to confirm mode')
    ch = conn.channel()
    ch.confirm_delivery()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.tx_select()
    closed_with(ei, 406, 'PRECONDITION_FAILED - cannot switch from confirm to tx mode')


def test_tx_methods_raw(broker, qname):
    """select-ok / commit-ok / rollback-ok on the wire; commit without select names tx.commit."""
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw_method(1, TX_COMMIT))
        code, text, cls, meth = c.expect_channel_close(1)
        assert (code, text, cls, meth) == (406, 'PRECONDITION_FAILED - channel is not transactional',
                                           90, 20)
        c.open_channel(2)
        c.send(raw_method(2, TX_SELECT))
        assert c.read_method().method == TX_SELECT_OK
        c.send(raw.method_frame(2, raw.QUEUE_DECLARE, 0, qname, False, False, False, True, False, {}))
        assert c.read_method().method == raw.QUEUE_DECLARE_OK
        c.send(raw.method_frame(2, raw.BASIC_PUBLISH, 0, '', qname, False, False)
               + raw.header_frame(2, 2) + raw.body_frame(2, b'tx'))
        c.send(raw_method(2, TX_ROLLBACK))
        assert c.read_method().method == TX_ROLLBACK_OK
        c.send(raw.method_frame(2, raw.BASIC_PUBLISH, 0, '', qname, False, False)
               + raw.header_frame(2, 3) + raw.body_frame(2, b'tx2'))
        c.send(raw_method(2, TX_COMMIT))
        assert c.read_method().method == TX_COMMIT_OK
        c.send(raw.method_frame(2, raw.BASIC_GET, 0, qname, True))
        f = c.read_method()
        assert f.method == raw.BASIC_GET_OK and f.args[-1] == 0
        c.read_frame()
        assert c.read_frame().payload == b'tx2'


def test_committed_persistent_publishes_survive_restart(broker, amqp, qname):
    broker.require_control()
    ch = amqp.channel()
    ch.queue_declare(qname, durable=True)
    ch.tx_select()
    ch.basic_publish('', qname, b'committed', pika.BasicProperties(delivery_mode=2))
    ch.tx_commit()
    ch.basic_publish('', qname, b'uncommitted', pika.BasicProperties(delivery_mode=2))
    sync(ch, qname)
    broker.restart()
    ch = amqp.channel()
    assert bodies(ch, qname) == [b'committed']


def test_bcc_routed_at_publish_stripped_at_commit(amqp, qname):
    """A publish with CC and BCC keys inside a transaction: routed by all its
    keys when it arrives, delivered at commit to each queue once, without
    its BCC header."""
    conn = amqp.connect()
    watch = conn.channel()
    names = [qname + suffix for suffix in ('-key', '-cc', '-bcc')]
    for name in names:
        watch.queue_declare(name)
        watch.queue_bind(name, 'amq.direct', routing_key=name)
    ch = conn.channel()
    ch.tx_select()
    ch.basic_publish('amq.direct', names[0], b'tx',
                     pika.BasicProperties(headers={'CC': [names[1]], 'BCC': [names[2]]}), mandatory=True)
    sync(ch, names[0])
    watch.queue_unbind(names[2], 'amq.direct', routing_key=names[2])  # routed already
    assert [count(watch, name) for name in names] == [0, 0, 0]
    ch.tx_commit()
    for name in names:
        _m, p, body = get_one(watch, name)
        assert body == b'tx'
        assert p.headers == {'CC': [names[1]]}
        assert count(watch, name) == 0
    for name in names:
        watch.queue_delete(name)
