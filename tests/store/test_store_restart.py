"""What a restart keeps and what it drops (doc/store-format.md, issue 4).

Each test publishes through pika to its own broker, stops it (SIGTERM, or
SIGKILL where the guarantee must hold for a crash too), starts it again on
the same data directory, and looks at what comes back: persistent messages
on durable queues in publish order, nothing transient, nothing acked,
redelivered exactly where a consumer had the message, the queue
definitions with their arguments, and deleted queues still deleted.
"""
import os
import struct
import time

import pika
import pytest

from store_helpers import (alarm_seconds, connect, consume_all, crc32c, get_all, need_control,  # noqa: F401
                           publish, queue_depth, read_acks, read_header, read_segment, segment_files,
                           PERSISTENT, TRANSIENT)


def bodies(prefix, n):
    return [('%s-%04d' % (prefix, i)).encode() for i in range(n)]


def down(broker, how):
    if how == 'stop':
        assert broker.stop() == 0, broker.log_text()[-3000:]
    else:
        broker.kill()


def test_persistent_survive_transient_gone_in_order(broker, qname):
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    persistent = bodies('p', 300)
    for i, b in enumerate(persistent):
        ch.basic_publish('', qname, b, PERSISTENT)
        if i % 3 == 0:
            ch.basic_publish('', qname, b'transient-%d' % i, TRANSIENT)
        if i % 7 == 0:
            ch.basic_publish('', qname, b'no-mode-%d' % i)  # no delivery_mode: transient
    assert queue_depth(ch, qname) == 300 + 100 + 43
    c.close()

    down(broker, 'stop')
    broker.start()

    c = connect(broker)
    ch = c.channel()
    assert queue_depth(ch, qname) == 300
    got = consume_all(ch, qname, expect=300, idle=0.5)
    assert [b for b, _ in got] == persistent
    assert not any(r for _, r in got), 'never-delivered messages came back marked redelivered'
    assert queue_depth(ch, qname) == 0
    c.close()


def test_properties_survive_restart(broker, qname):
    need_control(broker)
    props = pika.BasicProperties(
        delivery_mode=2, content_type='application/json', content_encoding='utf-8',
        headers={'k': 'v', 'n': 42, 'nested': {'a': [1, 2, 'x']}}, priority=3,
        correlation_id='corr-1', reply_to='reply-q', expiration='600000', message_id='mid-1',
        timestamp=1700000000, type='task', user_id='guest', app_id='store-test')
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    body = bytes(range(256)) * 40 + b'\x00end'   # binary, spans several frames
    ch.basic_publish('', qname, body, props)
    c.close()

    down(broker, 'stop')
    broker.start()

    c = connect(broker)
    ch = c.channel()
    m, got, got_body = ch.basic_get(qname, auto_ack=True)
    assert m is not None, 'the persistent message is gone'
    assert got_body == body
    for field in ('delivery_mode', 'content_type', 'content_encoding', 'headers', 'priority',
                  'correlation_id', 'reply_to', 'expiration', 'message_id', 'timestamp', 'type',
                  'user_id', 'app_id'):
        assert getattr(got, field) == getattr(props, field), field
    assert m.routing_key == qname and m.exchange == ''
    c.close()


@pytest.mark.parametrize('how', ['stop', 'kill'])
def test_acked_gone_unacked_redelivered(broker, qname, how):
    """Acked before the restart: never again.  Delivered but unacked: back,
    redelivered=True.  Never delivered: back, redelivered=False.  Holds for
    SIGKILL too, since ack and delivered entries reach the kernel at the end
    of the turn that made them."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    msgs = bodies('m', 12)
    publish(ch, qname, msgs)
    tags = []
    for i in range(7):
        m, _p, b = ch.basic_get(qname, auto_ack=False)
        assert b == msgs[i]
        tags.append(m.delivery_tag)
    ch.basic_ack(tags[0])
    ch.basic_ack(tags[2])
    ch.basic_ack(tags[3], multiple=True)   # 0..3 acked; 4, 5, 6 held unacked
    ch.basic_qos(prefetch_count=0)         # a round trip: the acks were handled
    # a consumer on another connection holds message 7 unacked as well
    c2 = connect(broker)
    ch2 = c2.channel()
    ch2.basic_qos(prefetch_count=1)
    held = []
    ch2.basic_consume(qname, lambda _ch, m, _p, b: held.append(b))
    c2.process_data_events(time_limit=0.3)
    assert held == [msgs[7]]

    down(broker, how)
    for conn in (c, c2):
        try:
            conn.close()
        except Exception:
            pass
    broker.start()

    c = connect(broker)
    ch = c.channel()
    got = get_all(ch, qname)
    assert [b for b, _ in got] == msgs[4:], 'acked messages came back or others were lost'
    assert [r for _, r in got] == [True, True, True, True, False, False, False, False]
    c.close()


def test_queue_definitions(broker, qname):
    """Non-durable queues are gone; durable ones keep their arguments, so a
    redeclare with the same ones works and a different one is refused."""
    need_control(broker)
    args = {'x-max-length': 1000, 'x-message-ttl': 3600000, 'x-dead-letter-exchange': 'dlx',
            'x-queue-mode': 'lazy'}
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True, arguments=args)
    ch.queue_declare(qname + '-plain', durable=True)
    ch.queue_declare(qname + '-transient', durable=False)
    ch.basic_publish('', qname + '-transient', b'x', PERSISTENT)
    c.close()

    down(broker, 'stop')
    broker.start()

    c = connect(broker)
    ch = c.channel()
    assert ch.queue_declare(qname, durable=True, arguments=args).method.message_count == 0
    assert ch.queue_declare(qname + '-plain', durable=True).method.queue == qname + '-plain'
    ch.queue_declare(qname, passive=True)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(qname + '-transient', passive=True)
    assert e.value.reply_code == 404
    for other in ({'x-max-length': 999, 'x-message-ttl': 3600000, 'x-dead-letter-exchange': 'dlx',
                   'x-queue-mode': 'lazy'},
                  {'x-max-length': 1000, 'x-message-ttl': 3600000, 'x-dead-letter-exchange': 'other',
                   'x-queue-mode': 'lazy'}):
        ch = c.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            ch.queue_declare(qname, durable=True, arguments=other)
        assert e.value.reply_code == 406, e.value
    ch = c.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(qname, durable=False, arguments=args)
    assert e.value.reply_code == 406
    # and the definitions survive a second restart (they are rewritten at start)
    c.close()
    down(broker, 'stop')
    broker.start()
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True, arguments=args)
    c.close()


@pytest.mark.parametrize('how', ['stop', 'kill'])
def test_deleted_durable_queue_stays_deleted(broker, qname, how):
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    ch.queue_declare(qname + '-kept', durable=True)
    publish(ch, qname, bodies('gone', 50))
    publish(ch, qname + '-kept', bodies('kept', 5))
    assert ch.queue_delete(qname).method.message_count == 50
    c.close()

    down(broker, how)
    broker.start()

    c = connect(broker)
    ch = c.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(qname, passive=True)
    assert e.value.reply_code == 404
    ch = c.channel()
    assert [b for b, _ in get_all(ch, qname + '-kept')] == bodies('kept', 5)
    # a new queue of the same name starts empty: the old messages stay dead
    assert ch.queue_declare(qname, durable=True).method.message_count == 0
    c.close()
    down(broker, how)
    broker.start()
    c = connect(broker)
    ch = c.channel()
    assert queue_depth(ch, qname) == 0
    c.close()


def test_one_record_for_several_queues(broker, qname):
    """A message routed to two durable queues (and a non-durable one) is
    written once naming the two; acking it in one queue leaves it in the
    other after a restart."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ex = qname + '-fan'
    ch.exchange_declare(ex, 'fanout', durable=True)
    for suffix, durable in (('-a', True), ('-b', True), ('-t', False)):
        ch.queue_declare(qname + suffix, durable=durable)
        ch.queue_bind(qname + suffix, ex)
    ch.basic_publish(ex, 'rk', b'fanned', PERSISTENT)
    m, _p, body = ch.basic_get(qname + '-a', auto_ack=True)
    assert body == b'fanned'
    c.close()
    down(broker, 'stop')

    recs = [r for f in segment_files(broker.data_dir) for r in read_segment(f)[1] if r['kind'] == 1]
    assert len(recs) == 1, recs
    assert len(recs[0]['qids']) == 2 and recs[0]['body'] == b'fanned'

    broker.start()
    c = connect(broker)
    ch = c.channel()
    assert get_all(ch, qname + '-a') == []
    assert get_all(ch, qname + '-b') == [(b'fanned', False)]
    c.close()


def test_files_match_the_format_doc(broker, qname):
    """Read the data directory with an independent reader written from
    doc/store-format.md: headers, record layout, CRC-32C, ack entries."""
    need_control(broker)
    assert crc32c(b'123456789') == 0xE3069283
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    props = pika.BasicProperties(delivery_mode=2, content_type='text/plain')
    for i in range(5):
        ch.basic_publish('', qname, b'body-%d' % i, props)
    m, _p, _b = ch.basic_get(qname, auto_ack=False)
    ch.basic_ack(m.delivery_tag)
    ch.basic_qos(prefetch_count=0)
    c.close()
    down(broker, 'stop')

    with open(os.path.join(broker.data_dir, 'definitions'), 'rb') as f:
        defs = f.read()
    assert read_header(defs) == (b'WDEF', 1, 0, 0)
    off, names = 16, []
    while off < len(defs):
        length, crc = struct.unpack('>II', defs[off:off + 8])
        payload = defs[off + 8:off + 8 + length]
        assert crc32c(payload) == crc, 'definitions record at %d: bad CRC' % off
        if payload[0] == 1:
            n = payload[5]
            names.append(payload[6:6 + n].decode())
        off += 8 + length
    assert off == len(defs)
    assert qname in names

    segs = segment_files(broker.data_dir)
    assert len(segs) == 1
    header, recs = read_segment(segs[0])
    segid = int(os.path.basename(segs[0])[:-4])
    assert os.path.basename(segs[0]) == '%010d.seg' % segid
    assert header == (b'WSEG', 1, segid, 0)
    assert sum(r['size'] for r in recs) + 16 == os.path.getsize(segs[0]), 'bytes after the last record'
    assert [r['body'] for r in recs] == [b'body-%d' % i for i in range(5)]
    seqs = [r['seq'] for r in recs]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    now_ms = time.time() * 1000
    for r in recs:   # when warren received it, in ms since the epoch
        assert now_ms - 60000 < r['timestamp'] <= now_ms, r['timestamp']
    for r in recs:
        assert r['crc_ok'] and r['type'] == 1 and r['flags'] == 0
        assert r['exchange'] == b'' and r['rk'] == qname.encode()
        assert len(r['qids']) == 1
        # content properties from the property-flags word on: content-type
        # (bit 15) and delivery-mode (bit 12)
        flags, = struct.unpack('>H', r['props'][:2])
        assert flags == 0x9000, hex(flags)
        assert r['props'][2:] == b'\x0atext/plain\x02'

    acks = os.path.join(os.path.dirname(segs[0]), '%010d.ack' % segid)
    aheader, entries = read_acks(acks)
    assert aheader == (b'WACK', 1, segid, 0)
    assert os.path.getsize(acks) == 16 + 16 * len(entries)
    kinds = [(qid, roff, kind) for _o, qid, roff, kind, ok in entries if ok]
    assert len(kinds) == len(entries), 'an ack entry fails its CRC'
    assert (recs[0]['qids'][0], recs[0]['off'], 1) in kinds

    broker.start()
    c = connect(broker)
    assert [b for b, _ in get_all(c.channel(), qname)] == [b'body-%d' % i for i in range(1, 5)]
    c.close()
