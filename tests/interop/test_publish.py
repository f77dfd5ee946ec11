"""Issue 3: basic.publish through the default exchange, as RabbitMQ 3.10 does it.

Content is passed through untouched: the content header a consumer gets has
the very property bytes the publisher sent (RabbitMQ keeps the encoded
properties), body split by the *receiving* client's frame_max, and an empty
body is a header frame with body-size 0 and no body frame at all.
(basic.publish immediate=true -> 540 is in test_protocol_abuse.py.)

Content assembly follows RabbitMQ's command assembler: a frame out of place
is 505 UNEXPECTED_FRAME naming what was expected, reported for basic.publish;
a body frame larger than what the header announced is not refused at once:
the content can never complete, body frames are swallowed, and the next
other frame on that channel is the 505.
"""
import datetime
import decimal
import struct
import time

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

import amqp_raw as raw
from helpers import wait_for


def get_one(ch, q, timeout=5, auto_ack=True):
    deadline = time.monotonic() + timeout
    while True:
        m, props, body = ch.basic_get(q, auto_ack=auto_ack)
        if m is not None:
            return m, props, body
        assert time.monotonic() < deadline, 'no message arrived in %s' % q
        time.sleep(0.01)


def raw_get(c, channel, q, timeout=5):
    """basic.get over a RawConnection: (get-ok frame, header frame, [body frames])."""
    deadline = time.monotonic() + timeout
    while True:
        c.send(raw.method_frame(channel, raw.BASIC_GET, 0, q, True))
        f = c.read_method()
        if f.method == raw.BASIC_GET_OK:
            break
        assert f.method == raw.BASIC_GET_EMPTY, f
        assert time.monotonic() < deadline, 'no message arrived in %s' % q
        time.sleep(0.01)
    h = c.read_frame()
    assert h.type == raw.FRAME_HEADER and h.channel == channel
    size = struct.unpack('>Q', h.payload[4:12])[0]
    bodies, got = [], 0
    while got < size:
        b = c.read_frame()
        assert b.type == raw.FRAME_BODY and b.channel == channel, b
        bodies.append(b)
        got += len(b.payload)
    assert got == size
    return f, h, bodies


def test_publish_default_exchange_delivery_fields(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'hello')
    m, _p, body = get_one(ch, qname)
    assert body == b'hello'
    assert m.exchange == ''
    assert m.routing_key == qname
    assert m.redelivered is False


def test_publish_unroutable_is_dropped_silently(amqp, qname):
    ch = amqp.channel()
    ch.basic_publish('', 'nowhere-' + qname, b'lost')
    ch.queue_declare(qname)          # channel still fine
    assert ch.is_open


def test_large_body_over_many_frames(amqp, qname):
    conn = amqp.connect()
    assert conn._impl.params.frame_max == 131072
    ch = conn.channel()
    ch.queue_declare(qname)
    body = bytes((i * 7 + i // 256) & 0xFF for i in range(1 << 20))   # 1 MiB
    ch.basic_publish('', qname, body)
    _m, _p, got = get_one(ch, qname)
    assert len(got) == len(body) and got == body
    # and through a consumer
    ch.basic_publish('', qname, body[::-1])
    received = []
    ch.basic_consume(qname, lambda c, m, p, b: received.append(b), auto_ack=True)
    wait_for(lambda: received, conn=conn, what='1 MiB delivery')
    assert received[0] == body[::-1]


def test_delivery_split_by_client_frame_max(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake(frame_max=4096)
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        body = bytes(i & 0xFF for i in range(20000))
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False))
        c.send(raw.header_frame(1, len(body)))
        for i in range(0, len(body), 4000):
            c.send(raw.body_frame(1, body[i:i + 4000]))
        _f, _h, bodies = raw_get(c, 1, qname)
        assert b''.join(b.payload for b in bodies) == body
        for b in bodies:
            assert len(b.payload) + 8 <= 4096


def test_zero_length_body(amqp, broker, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'')
    _m, _p, body = get_one(ch, qname)
    assert body == b''
    # on the wire: header with body-size 0 and no body frame (as RabbitMQ)
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False))
        c.send(raw.header_frame(1, 0))
        _f, h, bodies = raw_get(c, 1, qname)
        assert struct.unpack('>Q', h.payload[4:12])[0] == 0
        assert bodies == []
        c.send(raw.method_frame(1, raw.CHANNEL_FLOW, True))
        nxt = c.read_frame()
        assert nxt.method == raw.CHANNEL_FLOW_OK, 'expected no body frame, got %r' % nxt


HEADER_FIELDS = [
    # every field-value type RabbitMQ accepts, as raw bytes
    ('bool', b't\x01'), ('i8', b'b\xfe'), ('u8', b'B\xfe'),
    ('i16', b's\xff\xfe'), ('u16', b'u\xff\xfe'),
    ('i32', b'I' + struct.pack('>i', -5)), ('u32', b'i' + struct.pack('>I', 4000000000)),
    ('i64', b'l' + struct.pack('>q', -2 ** 40)),
    ('f32', b'f' + struct.pack('>f', 1.5)), ('f64', b'd' + struct.pack('>d', 2.25)),
    ('dec', b'D\x02' + struct.pack('>i', 12345)),
    ('str', b'S' + raw.longstr('h\u00e9llo')),
    ('arr', b'A' + raw.longstr(b'I\x00\x00\x00\x01S\x00\x00\x00\x01x')),
    ('ts', b'T' + struct.pack('>Q', 1700000000)),
    ('tbl', b'F' + raw.encode_table({'k': 'v', 'n': 1})),
    ('void', b'V'),
    ('bytes', b'x' + raw.longstr(b'\x00\x01\xff')),
]


def all_properties():
    table = b''.join(raw.shortstr(k) + v for k, v in HEADER_FIELDS)
    props = (raw.shortstr('text/plain') + raw.shortstr('gzip')
             + struct.pack('>I', len(table)) + table
             + bytes([2]) + bytes([7])
             + raw.shortstr('corr-1') + raw.shortstr('reply.q') + raw.shortstr('60000')
             + raw.shortstr('msg-1') + struct.pack('>Q', 1700000001) + raw.shortstr('type-x')
             + raw.shortstr('guest') + raw.shortstr('app-y') + raw.shortstr('cluster-z'))
    flags = 0
    for bit in range(15, 1, -1):          # the 14 basic properties
        flags |= 1 << bit
    return flags, props


def test_properties_byte_exact_round_trip(broker, qname):
    flags, props = all_properties()
    body = b'payload'
    sent = struct.pack('>HHQH', 60, 0, len(body), flags) + props
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False)
               + raw.frame(raw.FRAME_HEADER, 1, sent) + raw.body_frame(1, body))
        _f, h, bodies = raw_get(c, 1, qname)
        assert h.payload == sent
        assert b''.join(b.payload for b in bodies) == body


def test_properties_round_trip_pika(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    headers = {'s': 'text', 'i': 42, 'neg': -7, 'big': 2 ** 40, 'dec': decimal.Decimal('1.25'), 't': True,
               'when': datetime.datetime(2023, 11, 14, 22, 13, 20), 'bin': b'\x00\xff',
               'nested': {'a': 1, 'b': 'two'}, 'list': [1, 'x', False], 'none': None}
    props = pika.BasicProperties(
        content_type='application/json', content_encoding='utf-8', headers=headers,
        delivery_mode=2, priority=3, correlation_id='c-1', reply_to='r-q',
        expiration='60000', message_id='m-1', timestamp=1700000000, type='t-1',
        user_id='guest', app_id='app', cluster_id='cl')
    ch.basic_publish('', qname, b'{}', properties=props)
    _m, got, body = get_one(ch, qname)
    assert body == b'{}'
    for name in ('content_type', 'content_encoding', 'delivery_mode', 'priority',
                 'correlation_id', 'reply_to', 'expiration', 'message_id', 'timestamp',
                 'type', 'user_id', 'app_id', 'cluster_id'):
        assert getattr(got, name) == getattr(props, name), name
    assert got.headers == headers


def test_no_properties_round_trip(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False)
               + raw.header_frame(1, 3) + raw.body_frame(1, b'abc'))
        _f, h, _b = raw_get(c, 1, qname)
        assert h.payload == struct.pack('>HHQH', 60, 0, 3, 0)


def test_user_id_must_match_login(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'x', properties=pika.BasicProperties(user_id='mallory'))
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, passive=True)
    assert ei.value.reply_code == 406
    assert ei.value.reply_text == ("PRECONDITION_FAILED - user_id property set to 'mallory' "
                                   "but authenticated user was 'guest'")
    assert amqp.channel().queue_declare(qname, passive=True).method.message_count == 0


def test_mandatory_no_route_basic_return(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m, p, b)))
    props = pika.BasicProperties(message_id='ret-1', headers={'k': 'v'})
    ch.basic_publish('', 'nowhere-' + qname, b'bounce', properties=props, mandatory=True)
    wait_for(lambda: returned, conn=conn, what='basic.return')
    m, p, b = returned[0]
    assert (m.reply_code, m.reply_text) == (312, 'NO_ROUTE')
    assert (m.exchange, m.routing_key) == ('', 'nowhere-' + qname)
    assert b == b'bounce'
    assert p.message_id == 'ret-1' and p.headers == {'k': 'v'}


def test_returned_message_has_no_bcc_header(amqp, qname):
    """A mandatory message whose BCC keys reach no queue comes back without
    its BCC header, as RabbitMQ strips it before routing (CC stays)."""
    conn = amqp.connect()
    ch = conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m, p, b)))
    props = pika.BasicProperties(headers={'CC': ['nowhere-cc-' + qname], 'BCC': ['nowhere-bcc-' + qname], 'k': 'v'})
    ch.basic_publish('', 'nowhere-' + qname, b'bounce', properties=props, mandatory=True)
    wait_for(lambda: returned, conn=conn, what='basic.return')
    m, p, b = returned[0]
    assert (m.reply_code, m.reply_text) == (312, 'NO_ROUTE')
    assert b == b'bounce'
    assert p.headers == {'CC': ['nowhere-cc-' + qname], 'k': 'v'}


def test_mandatory_routed_is_not_returned(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append(b))
    ch.basic_publish('', qname, b'routed', mandatory=True)
    ch.basic_publish('', 'nowhere-' + qname, b'bounce', mandatory=True)
    wait_for(lambda: returned, conn=conn, what='basic.return')
    conn.process_data_events(time_limit=0.1)
    assert returned == [b'bounce']
    _m, _p, body = get_one(ch, qname)
    assert body == b'routed'


def test_publish_to_missing_exchange_404(amqp, qname):
    ch = amqp.channel()
    ch.basic_publish('no-such-exchange-' + qname, 'k', b'x')
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname)
    assert ei.value.reply_code == 404
    assert ei.value.reply_text == "NOT_FOUND - no exchange 'no-such-exchange-%s' in vhost '/'" % qname


# ---------------------------------------------------------------- content frames out of place

def raw_conn(broker, qname):
    c = raw.RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, False, {}))
    c.expect(raw.QUEUE_DECLARE_OK, 1)
    return c


def publish_frame(qname):
    return raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False)


def test_body_larger_than_header_size(broker, qname):
    with raw_conn(broker, qname) as c:
        c.open_channel(2)
        c.send(publish_frame(qname) + raw.header_frame(1, 3) + raw.body_frame(1, b'12345'))
        c.send(raw.body_frame(1, b'678'))                      # swallowed too
        # the connection serves on, and nothing was enqueued
        c.send(raw.method_frame(2, raw.BASIC_GET, 0, qname, True))
        c.expect(raw.BASIC_GET_EMPTY, 2)
        c.send(raw.method_frame(2, raw.QUEUE_DECLARE, 0, qname, True, False, False, False, False, {}))
        assert c.expect(raw.QUEUE_DECLARE_OK, 2).args == [qname, 0, 0]
        # the next other frame on channel 1 closes the connection
        c.send(raw.method_frame(1, raw.BASIC_GET, 0, qname, True))
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (505, 60, 40)
        assert text == 'UNEXPECTED_FRAME - expected content body, got non content body frame instead'
        assert c.wait_closed(5)


@pytest.mark.parametrize('frames,text', [
    (lambda q: publish_frame(q) + raw.header_frame(1, 3, class_id=50) + raw.body_frame(1, b'abc'),
     'expected content header for class 60, got one for class 50 instead'),
    (lambda q: publish_frame(q) + raw.body_frame(1, b'abc'),
     'expected content header for class 60, got non content header frame instead'),
    (lambda q: publish_frame(q) + raw.header_frame(1, 5) + raw.body_frame(1, b'ab') + raw.header_frame(1, 3),
     'expected content body, got non content body frame instead'),
    (lambda q: publish_frame(q) + raw.header_frame(1, 3) + raw.body_frame(1, b'12345')
     + raw.header_frame(1, 3), 'expected content body, got non content body frame instead'),
    (lambda q: publish_frame(q) + raw.header_frame(1, 5) + raw.body_frame(1, b'ab')
     + raw.method_frame(1, raw.CHANNEL_CLOSE, 200, 'bye', 0, 0),
     'expected content body, got non content body frame instead'),
], ids=['header-of-other-class', 'body-before-header', 'header-in-body', 'header-after-overlong-body',
        'channel-close-in-body'])
def test_content_frame_out_of_place_505(broker, qname, frames, text):
    with raw_conn(broker, qname) as c:
        c.send(frames(qname))
        code, got, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (505, 60, 40)
        assert got == 'UNEXPECTED_FRAME - ' + text


def test_cc_and_bcc_route_bcc_is_not_delivered(amqp, qname):
    """The CC and BCC headers name more routing keys; every queue they reach
    gets one copy, with CC but without BCC (as RabbitMQ's rabbit_basic)."""
    conn = amqp.connect()
    ch = conn.channel()
    ch.confirm_delivery()
    names = [qname + suffix for suffix in ('-key', '-cc', '-bcc')]
    try:
        for name in names:
            ch.queue_declare(name, durable=True)
            ch.queue_bind(name, 'amq.direct', routing_key=name)
        # the BCC queue is named twice: still one copy
        headers = {'CC': [names[1]], 'BCC': [names[2], names[2]], 'k': 'v'}
        for mode in (1, 2):
            ch.basic_publish('amq.direct', names[0], b'm%d' % mode,
                             pika.BasicProperties(headers=headers, delivery_mode=mode), mandatory=True)
        for name in names:
            for mode in (1, 2):
                m, p, body = get_one(ch, name)
                assert body == b'm%d' % mode
                assert p.headers == {'CC': [names[1]], 'k': 'v'}
                assert m.routing_key == names[0]
            assert ch.basic_get(name, auto_ack=True)[0] is None
    finally:
        for name in names:
            ch.queue_delete(name)
