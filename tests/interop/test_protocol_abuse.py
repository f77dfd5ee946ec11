"""Issue 2: a client that breaks the protocol gets the reply code RabbitMQ 3.10
gives, and the broker keeps serving everyone else.

Each case below was run against RabbitMQ 3.10.8 first; the codes and texts
asserted are what it sent.  Notable RabbitMQ choices (vs. the spec):
  - a heartbeat frame on a non-zero channel is 505 UNEXPECTED_FRAME, not 501;
  - a frame on a channel before connection.open is 505 UNEXPECTED_FRAME;
  - a method on channel 0 that the connection's state does not expect (a
    second tune-ok, queue.declare on channel 0, ...) is 504 CHANNEL_ERROR
    "unexpected method in connection state running" (or "opening");
  - truncated method arguments are 501 FRAME_ERROR ("cannot decode"), not 502;
  - frame_max is checked against the payload size with 8 octets of slack
    (RabbitMQ's FRAME_SIZE_FUDGE): a payload of frame_max octets is
    accepted, frame_max + 1 is 501 {frame_too_large,...};
  - before tune-ok a client is not answered: a frame bigger than 4096 octets
    (the minimum frame_max, all a client may send before tuning), a bad
    tune-ok, a method out of order, get the socket closed without a
    connection.close (RabbitMQ waits 3 s first, warren does not);
  - errors that quote a frame ("type 1, all octets = <<0,60>>") print its
    first 16 payload octets as Erlang prints a binary;
  - an unknown class or method id makes RabbitMQ drop the TCP connection
    at once without a connection.close (its reader cannot name the method),
    in any state and on any channel, opened or not (issue 11: warren sent
    540 NOT_IMPLEMENTED, the spec's answer, and these tests took either);
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
    text = assert_connection_error(conn, 501, 0, 0)
    assert text == 'FRAME_ERROR - type 1, all octets = <<>>: {frame_too_large,5000,4088}'
    broker_still_serves(broker)


def publish_and_get(conn, body, frames):
    """Publish body in the given body-frame sizes on channel 1; basic.get it back."""
    conn.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, '', False, False, True, True, False, {}))
    q = conn.expect(raw.QUEUE_DECLARE_OK, 1).args[0]
    conn.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', q, False, False))
    conn.send(raw.header_frame(1, len(body)))
    off = 0
    for n in frames:
        conn.send(raw.body_frame(1, body[off:off + n]))
        off += n
    assert off == len(body)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        conn.send(raw.method_frame(1, raw.BASIC_GET, 0, q, True))
        f = conn.read_method()
        if f.method == raw.BASIC_GET_OK:
            h = conn.read_frame()
            size = struct.unpack('>Q', h.payload[4:12])[0]
            got = b''
            while len(got) < size:
                bf = conn.read_frame()
                assert bf.type == raw.FRAME_BODY
                # what the broker writes keeps to the spec's whole-frame count
                assert len(bf.payload) + 8 <= conn.frame_max
                got += bf.payload
            return got
        assert f.method == raw.BASIC_GET_EMPTY
        time.sleep(0.01)
    raise AssertionError('the message never arrived')


def test_payload_of_frame_max_is_accepted(broker, conn):
    # RabbitMQ lets a payload be as big as frame_max itself (8 octets more
    # than the spec's count of the whole frame), because clients get it wrong
    conn.handshake(frame_max=4096)
    conn.open_channel(1)
    body = bytes(range(256)) * 20                        # 5120 bytes
    assert publish_and_get(conn, body, [4096, 1024]) == body


def test_payload_of_frame_max_plus_one_is_refused(broker, conn):
    conn.handshake(frame_max=4096)
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', 'nowhere', False, False))
    conn.send(raw.header_frame(1, 100000))
    conn.send(raw.body_frame(1, b'x' * 4097))
    text = assert_connection_error(conn, 501, 0, 0)
    assert text == 'FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,4097,4088}'
    broker_still_serves(broker)


def test_frame_of_exactly_frame_max_is_accepted(broker, conn, qname):
    # the spec's count: 7 header octets + payload + frame-end = frame_max
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
    text = assert_connection_error(conn, 501, 0, 0)
    assert text == 'FRAME_ERROR - type 1, all octets = <<0,20,0,10,0>>: {invalid_frame_end_marker,0}'
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


def open_conn(c):
    c.handshake()
    c.open_channel(1)


def after_start(c):
    c.send_header()
    c.read_start()


def after_tune(c):
    after_start(c)
    c.send_start_ok()
    c.read_tune()


def after_tune_ok(c):
    after_tune(c)
    c.send_tune_ok()


@pytest.mark.parametrize('state,channel,method', [
    (open_conn, 0, (10, 99)),            # an unknown connection method
    (open_conn, 0, (999, 1)),
    (open_conn, 2, (60, 999)),           # on a channel that is not open
    (after_start, 0, (10, 99)),          # during the handshake
    (after_tune, 0, (999, 1)),
    (after_tune_ok, 0, (999, 1)),
], ids=['ch0-10.99', 'ch0-999.1', 'unopened-ch-60.999', 'starting', 'tuning', 'opening'])
def test_unknown_method_anywhere_drops_the_socket(broker, conn, state, channel, method):
    """Issue 11: RabbitMQ 3.10 drops the socket at once, whatever the
    connection's state and the channel (checked on the reference node)."""
    state(conn)
    conn.send(raw.method_frame(channel, method, raw_args=b''))
    assert_unknown_method_refused(conn)
    broker_still_serves(broker)


def assert_unknown_method_refused(conn):
    """The socket is closed at once, with no connection.close (issue 11: warren
    sent 540 NOT_IMPLEMENTED and waited for close-ok)."""
    t0 = time.monotonic()
    assert_dropped_without_reply(conn, timeout=2)
    assert time.monotonic() - t0 < 1, 'dropped only after %.1fs' % (time.monotonic() - t0)


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


# ------------------------------------------------- before tune-ok: no reply

def assert_dropped_without_reply(c, timeout=6):
    """The socket is closed with no connection.close (RabbitMQ after 3 s)."""
    try:
        f = c.read_method(timeout)
    except raw.Closed:
        return
    raise AssertionError('expected the socket closed without a reply, got %r' % (f,))


def start_ok_frame(payload_size):
    """A valid connection.start-ok whose payload is exactly payload_size octets."""
    props = {'product': 'raw', 'capabilities': {'authentication_failure_close': True}}
    base = raw.method_frame(0, raw.CONNECTION_START_OK, dict(props, pad=''), 'PLAIN',
                            b'\x00guest\x00guest', 'en_US')
    pad = payload_size - (len(base) - 8)
    assert pad >= 0
    return raw.method_frame(0, raw.CONNECTION_START_OK, dict(props, pad='y' * pad), 'PLAIN',
                            b'\x00guest\x00guest', 'en_US')


def test_start_ok_of_4096_octets_is_accepted(broker, conn):
    # before tune-ok the frame_max in force is the protocol's minimum, 4096
    conn.send_header()
    conn.read_start()
    frame = start_ok_frame(4096)
    assert len(frame) == 4096 + 8
    conn.send(frame)
    conn.read_tune()


def test_frame_over_4096_before_tune_ok_drops_the_socket(broker, conn):
    conn.send_header()
    conn.read_start()
    conn.send(start_ok_frame(4097))
    assert_dropped_without_reply(conn)
    broker_still_serves(broker)


def test_huge_frame_header_before_tune_ok_drops_the_socket(broker, conn):
    # announced, never sent: the broker must not wait for (or buffer) it
    conn.send_header()
    conn.read_start()
    conn.send(struct.pack('>BHI', raw.FRAME_METHOD, 0, 131000) + b'\x00\x0a\x00\x0b' + b'z' * 1000)
    assert_dropped_without_reply(conn)
    broker_still_serves(broker)


@pytest.mark.parametrize('channel_max,frame_max', [
    (0, None),          # 0 means "no limit": more than the server's 2047
    (2048, None),
    (None, 0),
    (None, 1000),       # below the 4096 minimum
    (None, 4095),
    (None, 131073),
])
def test_bad_tune_ok_drops_the_socket(broker, conn, channel_max, frame_max):
    # RabbitMQ: "negotiated channel_max = 0 is higher than the maximum
    # allowed value (2047)" in its log, and the socket closed, no reply
    conn.send_header()
    conn.read_start()
    conn.send_start_ok()
    conn.read_tune()
    conn.send_tune_ok(channel_max=channel_max, frame_max=frame_max)
    conn.send_open('/')
    assert_dropped_without_reply(conn)
    broker_still_serves(broker)


def test_tune_ok_of_the_minimum_is_accepted(broker, conn):
    conn.send_header()
    conn.read_start()
    conn.send_start_ok()
    conn.read_tune()
    conn.send_tune_ok(channel_max=1, frame_max=4096)
    conn.send_open('/')
    conn.expect(raw.CONNECTION_OPEN_OK, 0)
    conn.open_channel(1)


def test_method_out_of_order_before_tune_ok_drops_the_socket(broker, conn):
    conn.send_header()
    conn.read_start()
    conn.send(raw.method_frame(0, raw.CONNECTION_OPEN, '/', '', False))
    assert_dropped_without_reply(conn)


def test_connection_close_before_tune_drops_the_socket(broker, conn):
    conn.send_header()
    conn.read_start()
    conn.send(raw.method_frame(0, raw.CONNECTION_CLOSE, 200, 'bye', 0, 0))
    assert_dropped_without_reply(conn)


def test_amqp_0_9_header_is_taken_for_0_9_1(broker, conn):
    conn.send_header(b'AMQP\x01\x01\x00\x09')
    f = conn.read_start()
    assert f.args[:2] == [0, 9]
    conn.send_start_ok()
    conn.read_tune()
    conn.send_tune_ok()
    conn.send_open('/')
    conn.expect(raw.CONNECTION_OPEN_OK, 0)
    conn.open_channel(1)


def test_amqp_0_9_1_header_byte_by_byte(broker, conn):
    for b in raw.PROTOCOL_HEADER:
        conn.send(bytes([b]))
        time.sleep(0.01)
    conn.read_start()


# ------------------------------------ methods the connection does not expect

def opening(c):
    """Through tune-ok: the state RabbitMQ calls 'opening'."""
    c.send_header()
    c.read_start()
    c.send_start_ok()
    c.read_tune()
    c.send_tune_ok()
    return c


WRONG_STATE = {
    'start-ok after open': ('running', raw.CONNECTION_START_OK,
                            lambda: raw.method_frame(0, raw.CONNECTION_START_OK, {}, 'PLAIN',
                                                     b'\x00guest\x00guest', 'en_US')),
    'tune-ok after open': ('running', raw.CONNECTION_TUNE_OK,
                           lambda: raw.method_frame(0, raw.CONNECTION_TUNE_OK, 2047, 131072, 0)),
    'open twice': ('running', raw.CONNECTION_OPEN,
                   lambda: raw.method_frame(0, raw.CONNECTION_OPEN, '/', '', False)),
    'unsolicited close-ok': ('running', raw.CONNECTION_CLOSE_OK,
                             lambda: raw.method_frame(0, raw.CONNECTION_CLOSE_OK)),
    'unsolicited secure-ok': ('running', (10, 21),
                              lambda: raw.method_frame(0, (10, 21), raw_args=raw.longstr(b'x'))),
    'client connection.blocked': ('running', (10, 60),
                                  lambda: raw.method_frame(0, (10, 60), raw_args=raw.shortstr('x'))),
    'client connection.unblocked': ('running', (10, 61), lambda: raw.method_frame(0, (10, 61))),
    'queue.declare on channel 0': ('running', raw.QUEUE_DECLARE,
                                   lambda: raw.method_frame(0, raw.QUEUE_DECLARE, 0, 'q', False, False,
                                                            False, False, False, {})),
    'basic.publish on channel 0': ('running', raw.BASIC_PUBLISH,
                                   lambda: raw.method_frame(0, raw.BASIC_PUBLISH, 0, '', 'x', False, False)),
    'channel.open on channel 0': ('running', raw.CHANNEL_OPEN,
                                  lambda: raw.method_frame(0, raw.CHANNEL_OPEN, '')),
    'update-secret before open': ('opening', (10, 70),
                                  lambda: raw.method_frame(0, (10, 70),
                                                           raw_args=raw.longstr(b'guest') + raw.shortstr('r'))),
    'queue.declare on channel 0 before open': ('opening', raw.QUEUE_DECLARE,
                                               lambda: raw.method_frame(0, raw.QUEUE_DECLARE, 0, 'q', False,
                                                                        False, False, False, False, {})),
    'connection.close before open': ('opening', raw.CONNECTION_CLOSE,
                                     lambda: raw.method_frame(0, raw.CONNECTION_CLOSE, 200, 'bye', 0, 0)),
}


@pytest.mark.parametrize('case', sorted(WRONG_STATE))
def test_method_in_the_wrong_connection_state(broker, conn, case):
    state, method, build = WRONG_STATE[case]
    if state == 'running':
        conn.handshake()
    else:
        opening(conn)
    conn.send(build())
    text = assert_connection_error(conn, 504, *method)
    assert text == 'CHANNEL_ERROR - unexpected method in connection state %s' % state
    broker_still_serves(broker)


def test_update_secret_is_answered(broker, conn):
    # PLAIN has no expiring secret: RabbitMQ's internal backend says ok
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(0, (10, 70), raw_args=raw.longstr(b'new-secret') + raw.shortstr('refresh')))
    f = conn.expect((10, 71), 0)
    assert f.payload == b'\x00\x0a\x00\x47'
    # and the connection goes on as before
    conn.send(raw.method_frame(1, raw.CHANNEL_FLOW, True))
    conn.expect(raw.CHANNEL_FLOW_OK, 1)


# ------------------------------------------------- malformed and stray frames

def test_channel_frame_before_open_quotes_the_frame(broker, conn):
    opening(conn)
    conn.send(raw.method_frame(1, raw.CHANNEL_OPEN, ''))
    text = assert_connection_error(conn, 505, 0, 0)
    assert text == 'UNEXPECTED_FRAME - type 1, all octets = <<0,20,0,10,0>>'


@pytest.mark.parametrize('channel', [0, 1])
def test_method_frame_without_a_method_id(broker, conn, channel):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.frame(raw.FRAME_METHOD, channel, b'\x00\x3c'))
    text = assert_connection_error(conn, 501, 0, 0)
    assert text == 'FRAME_ERROR - type 1, all octets = <<0,60>>: unknown_frame'
    broker_still_serves(broker)


def test_heartbeat_with_a_payload(broker, conn):
    conn.handshake()
    conn.send(raw.frame(raw.FRAME_HEARTBEAT, 0, b'xx'))
    text = assert_connection_error(conn, 501, 0, 0)
    assert text == 'FRAME_ERROR - type 8, all octets = <<"xx">>: unknown_frame'


@pytest.mark.parametrize('channel', [0, 1])
def test_unknown_frame_type(broker, conn, channel):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.frame(9, channel, b'abc'))
    text = assert_connection_error(conn, 501, 0, 0)
    assert text == 'FRAME_ERROR - type 9, all octets = <<"abc">>: unknown_frame'
    broker_still_serves(broker)


def test_unknown_frame_type_long_payload_is_quoted_in_part(broker, conn):
    conn.handshake()
    conn.send(raw.frame(4, 0, b'abcdefghijklmnopqrstuvwxyz'))
    text = assert_connection_error(conn, 501, 0, 0)
    assert text == 'FRAME_ERROR - type 4, first 16 octets = <<"abcdefghijklmnop">>: unknown_frame'


def test_content_frames_on_channel_0(broker, conn):
    conn.handshake()
    conn.send(raw.header_frame(0, 3))
    text = assert_connection_error(conn, 505, 0, 0)
    assert text == 'UNEXPECTED_FRAME - type 2, all octets = <<0,60,0,0,0,0,0,0,0,0,0,3,0,0>>'


def test_content_header_of_another_class(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', 'nowhere', False, False))
    conn.send(raw.header_frame(1, 3, class_id=50))
    text = assert_connection_error(conn, 505, 60, 40)
    assert text == 'UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead'
    broker_still_serves(broker)


@pytest.mark.parametrize('method,args', [
    (raw.CHANNEL_CLOSE_OK, ()),     # nothing asked for it: the channel is open
    (raw.CHANNEL_FLOW_OK, (True,)),  # the server never sent channel.flow
    (raw.CHANNEL_OPEN_OK, None),
])
def test_server_methods_sent_by_the_client(broker, conn, method, args):
    conn.handshake()
    conn.open_channel(1)
    if args is None:
        conn.send(raw.method_frame(1, method, raw_args=raw.longstr(b'')))
    else:
        conn.send(raw.method_frame(1, method, *args))
    text = assert_connection_error(conn, 503, *method)
    assert text == 'COMMAND_INVALID - unimplemented method'
    broker_still_serves(broker)


def test_method_on_a_channel_the_client_closed(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.CHANNEL_CLOSE, 200, 'bye', 0, 0))
    conn.expect(raw.CHANNEL_CLOSE_OK, 1)
    conn.send(raw.method_frame(1, raw.BASIC_QOS, 0, 1, False))
    text = assert_connection_error(conn, 504, 60, 10)
    assert text == "CHANNEL_ERROR - expected 'channel.open'"
    broker_still_serves(broker)


def test_content_on_a_channel_the_client_closed(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.CHANNEL_CLOSE, 200, 'bye', 0, 0))
    conn.expect(raw.CHANNEL_CLOSE_OK, 1)
    conn.send(raw.header_frame(1, 3))
    text = assert_connection_error(conn, 505, 0, 0)
    assert text == 'UNEXPECTED_FRAME - expected method frame, got non method frame instead'


def test_frames_on_a_channel_the_server_is_closing_are_dropped(broker, conn):
    # after the server's channel.close only close / close-ok count there
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, 'no-such-queue-closing-x', True,
                               False, False, False, False, {}))
    f = conn.read_method()
    assert f.method == raw.CHANNEL_CLOSE and f.args[0] == 404, f
    conn.send(raw.method_frame(1, raw.BASIC_QOS, 0, 1, False))
    conn.send(raw.method_frame(1, raw.CHANNEL_CLOSE_OK))
    conn.open_channel(1)


# -------------------------------------------------------------- channel_max

def tuned(c, channel_max):
    c.send_header()
    c.read_start()
    c.send_start_ok()
    c.read_tune()
    c.send_tune_ok(channel_max=channel_max)
    c.send_open('/')
    c.expect(raw.CONNECTION_OPEN_OK, 0)
    return c


def test_channel_max_counts_open_channels(broker, conn):
    tuned(conn, 3)
    for n in (1, 2, 3):
        conn.open_channel(n)
    conn.send(raw.method_frame(4, raw.CHANNEL_OPEN, ''))
    text = assert_connection_error(conn, 530, 0, 0)
    assert text == 'NOT_ALLOWED - number of channels opened (3) has reached the negotiated channel_max (3)'
    broker_still_serves(broker)


def test_channel_numbers_above_channel_max(broker, conn):
    # the limit is on how many, not on which numbers
    tuned(conn, 3)
    for n in (65535, 4000, 5):
        conn.open_channel(n)
    conn.send(raw.method_frame(4000, raw.CHANNEL_CLOSE, 200, 'bye', 0, 0))
    conn.expect(raw.CHANNEL_CLOSE_OK, 4000)
    conn.open_channel(2)
    for n in (65535, 5, 2):
        conn.send(raw.method_frame(n, raw.CHANNEL_FLOW, True))
        conn.expect(raw.CHANNEL_FLOW_OK, n)


def test_channel_closing_by_the_server_counts_until_close_ok(broker, conn):
    tuned(conn, 2)
    conn.open_channel(1)
    conn.open_channel(2)
    conn.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, 'no-such-queue-chmax-x', True,
                               False, False, False, False, {}))
    f = conn.read_method()
    assert f.method == raw.CHANNEL_CLOSE and f.channel == 1, f
    conn.send(raw.method_frame(3, raw.CHANNEL_OPEN, ''))
    text = assert_connection_error(conn, 530, 0, 0)
    assert text == 'NOT_ALLOWED - number of channels opened (2) has reached the negotiated channel_max (2)'


def test_channel_limit_before_expected_channel_open(broker, conn):
    # RabbitMQ makes the channel before it looks at the frame
    tuned(conn, 1)
    conn.open_channel(1)
    conn.send(raw.method_frame(2, raw.BASIC_QOS, 0, 1, False))
    assert_connection_error(conn, 530, 0, 0)


def test_many_channels_on_many_numbers(broker, conn):
    conn.handshake()
    numbers = list(range(1, 2048, 7)) + [65535, 30000]
    for n in numbers:
        conn.send(raw.method_frame(n, raw.CHANNEL_OPEN, ''))
    # (RabbitMQ's channels answer in their own order)
    opened = {conn.expect(raw.CHANNEL_OPEN_OK).channel for _ in numbers}
    assert opened == set(numbers)
    for n in reversed(numbers):
        conn.send(raw.method_frame(n, raw.CHANNEL_CLOSE, 200, '', 0, 0))
    closed = {conn.expect(raw.CHANNEL_CLOSE_OK).channel for _ in numbers}
    assert closed == set(numbers)
    conn.open_channel(1)


# ------------------------------------------------- malformed UTF-8 in shortstrs
#
# RabbitMQ 3.10 checks the shortstr arguments of every method without
# content and closes the connection with 501 "Malformed UTF-8 in shortstr";
# on a channel other than 0 the close names no method (class and method 0),
# on channel 0 it names the method.  basic.publish (decoded on a fast path)
# and field-table keys are not checked.  It judges UTF-8's structure, not
# code points: surrogates and code points up to U+1FFFFF pass.

MALFORMED_UTF8 = {
    'byte ff': b'\xff',
    'stray continuation': b'\x80',
    'overlong slash': b'\xc0\xaf',
    'overlong three-byte': b'\xe0\x9f\xbf',
    'overlong four-byte': b'\xf0\x8f\xbf\xbf',
    'truncated three-byte': b'\xe2\x82',
    'cut by an ascii byte': b'\xe2\x82z',
    'five-byte form': b'\xf8\x88\x80\x80\x80',
}

UTF8_ERROR = 'FRAME_ERROR - Malformed UTF-8 in shortstr'


def queue_declare(channel, name, passive=False, auto_delete=True):
    return raw.method_frame(channel, raw.QUEUE_DECLARE, 0, name, passive, False, False, auto_delete, False, {})


@pytest.mark.parametrize('case', sorted(MALFORMED_UTF8))
def test_queue_name_with_malformed_utf8(broker, conn, case):
    conn.handshake()
    conn.open_channel(1)
    conn.send(queue_declare(1, b'warren-utf8-' + MALFORMED_UTF8[case]))
    assert assert_connection_error(conn, 501, 0, 0) == UTF8_ERROR
    broker_still_serves(broker)


@pytest.mark.parametrize('name', [b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'\xf7\xbf\xbf\xbf', b'caf\xc3\xa9 \xf0\x9f\x90\x87'],
                         ids=['surrogate', 'above U+10FFFF', 'F7 lead', 'cafe rabbit'])
def test_queue_names_rabbitmq_takes_for_utf8(broker, conn, qname, name):
    conn.handshake()
    conn.open_channel(1)
    full = qname.encode() + b'-' + name
    conn.send(queue_declare(1, full))
    f = conn.expect(raw.QUEUE_DECLARE_OK, 1)
    assert f.payload[4:5 + len(full)] == bytes([len(full)]) + full
    conn.send(raw.method_frame(1, raw.QUEUE_DELETE, 0, full, False, False, False))
    conn.expect(raw.QUEUE_DELETE_OK, 1)


def args(fmt, *values):
    return raw.encode_args(fmt, values)


BAD = b'x\xff'

# method -> its arguments with a malformed shortstr, on channel 1 (open)
UTF8_CHECKED = {
    'exchange.declare name': ((40, 10), args('sSSbbbbbF', 0, b'warren-' + BAD, 'direct', False, False, False,
                                             False, False, {})),
    'exchange.declare type': ((40, 10), args('sSSbbbbbF', 0, 'warren-x', b'dir' + BAD, False, False, False,
                                             False, False, {})),
    'exchange.delete': ((40, 20), args('sSbb', 0, BAD, False, False)),
    'queue.bind routing key': ((50, 20), args('sSSSbF', 0, 'warren-none', 'amq.direct', BAD, False, {})),
    'queue.purge': ((50, 30), args('sSb', 0, BAD, False)),
    'queue.delete': (raw.QUEUE_DELETE, args('sSbbb', 0, BAD, False, False, False)),
    'basic.consume tag': (raw.BASIC_CONSUME, args('sSSbbbbF', 0, 'warren-none', BAD, False, False, False,
                                                  False, {})),
    'basic.cancel': (raw.BASIC_CANCEL, args('Sb', BAD, False)),
    'basic.get': (raw.BASIC_GET, args('sSb', 0, BAD, False)),
    'channel.close text': (raw.CHANNEL_CLOSE, args('sSss', 200, BAD, 0, 0)),
}


@pytest.mark.parametrize('case', sorted(UTF8_CHECKED))
def test_malformed_utf8_in_any_method_shortstr(broker, conn, case):
    method, payload = UTF8_CHECKED[case]
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, method, raw_args=payload))
    assert assert_connection_error(conn, 501, 0, 0) == UTF8_ERROR
    broker_still_serves(broker)


def test_malformed_utf8_on_an_unopened_channel(broker, conn):
    # decoded before the channel looks at it: 501, not 504 "expected 'channel.open'"
    conn.handshake()
    conn.send(queue_declare(3, BAD))
    assert assert_connection_error(conn, 501, 0, 0) == UTF8_ERROR
    conn2 = raw.RawConnection(broker.host, broker.port)
    try:
        conn2.handshake()
        conn2.send(raw.method_frame(2, raw.CHANNEL_OPEN, BAD))
        assert assert_connection_error(conn2, 501, 0, 0) == UTF8_ERROR
    finally:
        conn2.close()


def test_truncated_method_is_cannot_decode_before_utf8(broker, conn):
    conn.handshake()
    conn.open_channel(1)
    # a malformed name, and the table that should follow is missing
    conn.send(raw.method_frame(1, raw.QUEUE_DECLARE, raw_args=b'\x00\x00' + raw.shortstr(BAD) + b'\x00'))
    text = assert_connection_error(conn, 501, 50, 10)
    assert text.startswith('FRAME_ERROR - cannot decode'), text


def test_malformed_utf8_on_channel_0_names_the_method(broker, conn):
    opening(conn)
    conn.send(raw.method_frame(0, raw.CONNECTION_OPEN, b'/' + BAD, '', False))
    assert assert_connection_error(conn, 501, 10, 40) == UTF8_ERROR
    conn2 = raw.RawConnection(broker.host, broker.port)
    try:
        conn2.handshake()
        conn2.send(raw.method_frame(0, raw.CONNECTION_CLOSE, 200, BAD, 0, 0))
        assert assert_connection_error(conn2, 501, 10, 50) == UTF8_ERROR
    finally:
        conn2.close()


def test_malformed_utf8_in_start_ok_drops_the_socket(broker, conn):
    conn.send_header()
    conn.read_start()
    conn.send(raw.method_frame(0, raw.CONNECTION_START_OK, {'product': 'raw'}, 'PLAIN',
                               b'\x00guest\x00guest', b'en' + BAD))
    assert_dropped_without_reply(conn)
    broker_still_serves(broker)


def test_publish_arguments_are_not_checked(broker, conn):
    # RabbitMQ does not check basic.publish: the exchange is simply not found
    conn.handshake()
    conn.open_channel(1)
    conn.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, b'amq.' + BAD, b'k' + BAD, False, False)
              + raw.header_frame(1, 1) + raw.body_frame(1, b'x'))
    code, text, cls, meth = conn.expect_channel_close(1)
    assert (code, cls, meth) == (404, 60, 40)
    assert text.encode('utf-8', 'replace').startswith(b'NOT_FOUND - no exchange')
    conn.open_channel(2)


# ------------------------------------------------- names in the log

def test_control_characters_in_names_do_not_forge_log_lines(broker, conn, qname):
    broker.require_control()   # reads the broker's log
    forged = 'FAKE LOG LINE'
    name = qname + '-a\n' + forged + '\x1b[31m'
    conn.handshake()
    conn.open_channel(1)
    conn.send(queue_declare(1, name))
    conn.expect(raw.QUEUE_DECLARE_OK, 1)
    # a passive declare of a missing one: the channel error quotes the name
    conn.send(queue_declare(1, name + '-missing', passive=True))
    code, text, _c, _m = conn.expect_channel_close(1)
    assert code == 404 and forged in text
    conn.send(raw.method_frame(0, raw.CONNECTION_CLOSE, 200, 'bye', 0, 0))
    conn.expect(raw.CONNECTION_CLOSE_OK, 0)
    escaped = qname + '-a\\n' + forged + '\\x1b[31m-missing'
    deadline = time.monotonic() + 5
    while escaped not in broker.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = broker.log_text()
    assert escaped in log, log[-3000:]
    lines = log.splitlines()
    assert not [line for line in lines if line.startswith(forged)], log[-3000:]
    assert '\x1b' not in log
