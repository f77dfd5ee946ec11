"""Issue 2: a client that breaks the protocol gets the reply code RabbitMQ 3.10
gives, and the broker keeps serving everyone else.

Each case below was run against RabbitMQ 3.10.8 first; the codes and text
prefixes asserted are what it sent.  Notable RabbitMQ choices (vs. the spec):
  - a heartbeat frame on a non-zero channel is 505 UNEXPECTED_FRAME, not 501;
  - a method before connection.open is 505 UNEXPECTED_FRAME, not 503;
  - truncated method arguments are 501 FRAME_ERROR ("cannot decode"), not 502;
  - frame_max is checked against the payload size with 8 octets of slack:
    a payload of frame_max octets is accepted, frame_max + 1 is 501;
  - an unknown class or method id makes RabbitMQ drop the TCP connection
    without a connection.close; a 540 NOT_IMPLEMENTED or 503 COMMAND_INVALID
    close is accepted as well (the spec's answer);
  - a client that misses heartbeats is disconnected without connection.close.
"""
import socket
import struct
import time

import pytest

import amqp_raw as raw
from helpers import broker_still_serves


def reply_name(code):
    return {
        501: 'FRAME_ERROR', 502: 'SYNTAX_ERROR', 503: 'COMMAND_INVALID',
        504: 'CHANNEL_ERROR', 505: 'UNEXPECTED_FRAME', 540: 'NOT_IMPLEMENTED',
        530: 'NOT_ALLOWED', 403: 'ACCESS_REFUSED', 404: 'NOT_FOUND',
        405: 'RESOURCE_LOCKED', 406: 'PRECONDITION_FAILED',
    }[code]


def assert_connection_error(c, code, class_id=None, method_id=None):
    """The broker sends connection.close with `code`, then drops the socket."""
    got_code, text, cls, meth = c.expect_connection_close()
    assert got_code == code, (got_code, text)
    assert text.startswith(reply_name(code) + ' - '), text
    if class_id is not None:
        assert (cls, meth) == (class_id, method_id), (cls, meth, text)
    # after our close-ok the broker closes the socket
    assert c.wait_closed(5), 'broker kept the socket open after close-ok'
    return text


@pytest.fixture
def conn(broker):
    c = raw.RawConnection(broker.host, broker.port)
    yield c
    c.close()


def test_wrong_protocol_header(broker, conn):
    conn.send(b'AMQP\x00\x00\x08\x00')
    assert conn.read_until_closed() == b'AMQP\x00\x00\x09\x01'
    broker_still_serves(broker)


def test_http_request_instead_of_amqp(broker, conn):
    conn.send(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    assert conn.read_until_closed() == b'AMQP\x00\x00\x09\x01'
    broker_still_serves(broker)


def test_amqp_0_10_header(broker, conn):
    conn.send(b'AMQP\x01\x01\x00\x0a')
    assert conn.read_until_closed() == b'AMQP\x00\x00\x09\x01'
    broker_still_serves(broker)


def test_frame_larger_than_default_frame_max(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', 'nowhere', False, False))
    conn.send(raw.header_frame(1, 1 << 20))
    conn.send(raw.body_frame(1, b'x' * (conn.frame_max + 1)))
    assert_connection_error(conn, 501)
    broker_still_serves(broker)


def test_frame_larger_than_client_frame_max(broker, conn):
    conn.handshake(frame_max=4096)
    # only the frame header: the broker must judge by the announced size
    conn.send(struct.pack('>BHI', raw.FRAME_METHOD, 0, 5000))
    assert_connection_error(conn, 501)
    broker_still_serves(broker)


def test_frame_of_exactly_frame_max_is_accepted(broker, conn, qname):
    # frame_max counts the whole frame: 7 header octets + payload + frame-end
    conn.handshake(frame_max=4096)
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, '', False, False, True, True, False, {}))
    q = conn.expect(raw.QUEUE_DECLARE_OK, 1).args[0]
    body = bytes(range(256)) * 16        # 4096 bytes: one frame of 4088, one of 8
    conn.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', q, False, False))
    conn.send(raw.header_frame(1, len(body)))
    conn.send(raw.body_frame(1, body[:4088]))
    conn.send(raw.body_frame(1, body[4088:]))
    got = b''
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        conn.send(raw.method_frame(1, raw.BASIC_GET, 0, q, True))
        f = conn.read_method()
        if f.method == raw.BASIC_GET_OK:
            h = conn.read_frame()
            size = struct.unpack('>Q', h.payload[4:12])[0]
            while len(got) < size:
                bf = conn.read_frame()
                assert bf.type == raw.FRAME_BODY
                assert len(bf.payload) + 8 <= 4096
                got += bf.payload
            break
        assert f.method == raw.BASIC_GET_EMPTY
        time.sleep(0.01)
    assert got == body


def test_bad_frame_end(broker, conn):
    conn.handshake()
    frame = raw.method_frame(1, raw.CHANNEL_OPEN, '')
    conn.send(frame[:-1] + b'\x00')
    assert_connection_error(conn, 501)
    broker_still_serves(broker)


def test_method_on_unopened_channel(broker, conn):
    conn.handshake()
    conn.send(raw.method_frame(3, raw.QUEUE_DECLARE, 0, 'q', False, False, False, False, False, {}))
    text = assert_connection_error(conn, 504, 50, 10)
    assert text == "CHANNEL_ERROR - expected 'channel.open'"
    broker_still_serves(broker)


def test_channel_open_twice(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.CHANNEL_OPEN, ''))
    text = assert_connection_error(conn, 504, 20, 10)
    assert text == "CHANNEL_ERROR - second 'channel.open' seen"
    broker_still_serves(broker)


def test_body_frame_without_publish(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.body_frame(1, b'stray body'))
    assert_connection_error(conn, 505)
    broker_still_serves(broker)


def test_header_frame_without_publish(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.header_frame(1, 3))
    assert_connection_error(conn, 505)
    broker_still_serves(broker)


def test_method_frame_in_the_middle_of_content(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', 'nowhere', False, False))
    conn.send(raw.header_frame(1, 10))
    conn.send(raw.body_frame(1, b'12345'))
    conn.send(raw.method_frame(1, raw.BASIC_QOS, 0, 1, False))
    assert_connection_error(conn, 505)
    broker_still_serves(broker)


def test_unknown_method_id(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, (60, 999), raw_args=b''))
    assert_unknown_method_refused(conn)
    broker_still_serves(broker)


def test_unknown_class_id(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, (999, 10), raw_args=b''))
    assert_unknown_method_refused(conn)
    broker_still_serves(broker)


def assert_unknown_method_refused(conn):
    """RabbitMQ drops the socket at once; a 540/503 connection.close is also fine."""
    try:
        f = conn.read_method()
    except raw.Closed:
        return
    assert f.method == raw.CONNECTION_CLOSE, f
    code, text = f.args[0], f.args[1]
    assert code in (540, 503), f.args
    assert text.startswith(reply_name(code) + ' - '), text
    conn.send(raw.method_frame(0, raw.CONNECTION_CLOSE_OK))
    assert conn.wait_closed(5)


def test_channel_open_before_connection_open(broker, conn):
    conn.send_header()
    conn.read_start()
    conn.send_start_ok()
    conn.read_tune()
    conn.send_tune_ok()
    conn.send(raw.method_frame(1, raw.CHANNEL_OPEN, ''))
    assert_connection_error(conn, 505)
    broker_still_serves(broker)


def test_heartbeat_on_nonzero_channel(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.heartbeat_frame(1))
    assert_connection_error(conn, 505)
    broker_still_serves(broker)


def test_truncated_method_arguments(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    # queue.declare: ticket, then a shortstr claiming 16 octets with only 2 there
    conn.send(raw.method_frame(1, raw.QUEUE_DECLARE, raw_args=b'\x00\x00\x10ab'))
    text = assert_connection_error(conn, 501, 50, 10)
    assert text.startswith('FRAME_ERROR - cannot decode')
    broker_still_serves(broker)


def test_truncated_channel_open(broker, conn):
    conn.handshake()
    conn.send(raw.method_frame(1, raw.CHANNEL_OPEN, raw_args=b''))
    assert_connection_error(conn, 501, 20, 10)
    broker_still_serves(broker)


def test_publish_immediate_not_implemented(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', 'nowhere', False, True))
    conn.send(raw.header_frame(1, 0))
    text = assert_connection_error(conn, 540, 60, 40)
    assert text == 'NOT_IMPLEMENTED - immediate=true'
    broker_still_serves(broker)


def test_silent_client_dropped_after_missed_heartbeats(broker, conn):
    conn.handshake(heartbeat=1)
    t0 = time.monotonic()
    heartbeats = 0
    while True:
        try:
            f = conn.read_frame(timeout=8)
        except raw.Closed:
            break
        except (socket.timeout, TimeoutError):
            pytest.fail('broker kept a silent heartbeat=1 client for 8s')
        if f.type == raw.FRAME_HEARTBEAT:
            assert f.channel == 0
            heartbeats += 1
        else:
            assert f.method == raw.CONNECTION_CLOSE, f
    elapsed = time.monotonic() - t0
    assert 1.5 <= elapsed <= 6, elapsed
    assert heartbeats >= 1, 'the broker sent no heartbeats of its own'
    broker_still_serves(broker)


def test_heartbeating_client_is_kept(broker, conn):
    conn.handshake(heartbeat=1)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3.5:
        conn.send(raw.heartbeat_frame(0))
        try:
            f = conn.read_frame(timeout=0.4)
            assert f.type == raw.FRAME_HEARTBEAT, f
        except (socket.timeout, TimeoutError):
            pass
    conn.open_channel(1)


def test_abuse_does_not_disturb_other_connections(broker, conn, amqp, qname):
    bystander = amqp.connect()
    ch = bystander.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'before')
    conn.handshake()
    conn.send(raw.body_frame(0, b'garbage'))
    assert_connection_error(conn, 505)
    ch.basic_publish('', qname, b'after')
    bodies = []
    deadline = time.monotonic() + 5
    while len(bodies) < 2 and time.monotonic() < deadline:
        m, _p, b = ch.basic_get(qname, auto_ack=True)
        if m:
            bodies.append(b)
    assert bodies == [b'before', b'after']
