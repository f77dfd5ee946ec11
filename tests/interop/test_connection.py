"""Issue 2: connections from real clients (pika, rabbitmq-c's amqp-tools).

What RabbitMQ 3.10 does, and so what warren must do: connection.tune proposes
channel_max 2047, frame_max 131072, heartbeat 60; the client's tune-ok wins
(pika sends its own heartbeat when asked, else the server's); a wrong password
closes the connection with 403 ACCESS_REFUSED "Login was refused using
authentication mechanism PLAIN" (or AMQPLAIN, whichever was used) when the
client announced authentication_failure_close, else the socket is just
closed; an unknown mechanism or a malformed login response closes the socket
without a reply; an unknown vhost closes it with 530 NOT_ALLOWED.
connection.start carries server-properties with product/version/platform and
a capabilities table, mechanisms "PLAIN AMQPLAIN", locales "en_US".

Issue 11, closing and heartbeats as RabbitMQ 3.10 does them (rabbit_reader,
rabbit_heartbeat): after connection.close in either direction the socket
stays open and what the client still sends is read and dropped, until its
close-ok or hang-up, or a timeout (the negotiated heartbeat, at most 30 s,
and 30 s with heartbeats off); heartbeats go out every half interval to an
idle client, and a client silent for two intervals is dropped.
"""
import subprocess
import time

import pika
import pytest

import amqp_raw as raw
from helpers import broker_still_serves, url_params


def test_connect_open_close_channels(amqp):
    conn = amqp.connect()
    channels = [conn.channel() for _ in range(5)]
    numbers = [ch.channel_number for ch in channels]
    assert len(set(numbers)) == 5
    for ch in channels:
        assert ch.is_open
    channels[1].close()
    channels[3].close()
    assert channels[1].is_closed and channels[3].is_closed
    # the other channels still work after their siblings closed
    q = channels[0].queue_declare('', exclusive=True).method.queue
    channels[2].basic_publish('', q, b'x')
    again = conn.channel()
    assert again.is_open
    conn.close()
    assert conn.is_closed


def test_many_channels_reuse_numbers(amqp):
    conn = amqp.connect()
    for _ in range(3):
        chans = [conn.channel() for _ in range(20)]
        for ch in chans:
            ch.close()
    assert conn.is_open
    conn.close()


def test_tune_defaults_seen_by_pika(amqp):
    conn = amqp.connect(heartbeat=None)
    params = conn._impl.params
    # pika accepts the server's proposal when it has none of its own
    assert params.heartbeat == 60
    assert params.frame_max == 131072
    assert params.channel_max == 2047
    conn.close()


@pytest.mark.parametrize('asked', [0, 5, 120])
def test_heartbeat_negotiation_client_value_wins(amqp, asked):
    conn = amqp.connect(heartbeat=asked)
    assert conn._impl.params.heartbeat == asked
    ch = conn.channel()
    ch.queue_declare('', exclusive=True)
    conn.close()


def test_client_lowers_frame_max_and_channel_max(amqp):
    conn = amqp.connect(frame_max=8192, channel_max=10)
    assert conn._impl.params.frame_max == 8192
    assert conn._impl.params.channel_max == 10
    ch = conn.channel()
    q = ch.queue_declare('', exclusive=True).method.queue
    body = bytes(range(256)) * 200           # 51200 bytes: seven 8 KB frames
    ch.basic_publish('', q, body)
    m = None
    deadline = time.monotonic() + 5
    while m is None and time.monotonic() < deadline:
        m, _p, got = ch.basic_get(q, auto_ack=True)
    assert m is not None and got == body
    conn.close()


def test_raw_tune_values(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        c.read_start()
        c.send_start_ok()
        c.read_tune()
        assert c.tune_args == [2047, 131072, 60]
        c.send_tune_ok(heartbeat=0)
        c.send_open('/')
        f = c.expect(raw.CONNECTION_OPEN_OK, 0)
        assert f.args == ['']


def test_wrong_password_is_auth_error_not_hang(broker):
    params = url_params(broker.url, credentials=pika.PlainCredentials('guest', 'wrong-password'))
    t0 = time.monotonic()
    with pytest.raises((pika.exceptions.ProbableAuthenticationError,
                        pika.exceptions.AuthenticationError)):
        pika.BlockingConnection(params)
    assert time.monotonic() - t0 < 5
    broker_still_serves(broker)


def test_wrong_password_raw_403(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        c.read_start()
        c.send_start_ok(password='wrong-password')
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (403, 0, 0)
        assert text == ('ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. '
                        'For details see the broker logfile.')


def test_unknown_user_raw_403(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        c.read_start()
        c.send_start_ok(user='nobody-here', password='guest')
        code, text, _, _ = c.expect_connection_close()
        assert code == 403
        assert text.startswith('ACCESS_REFUSED')


def test_amqplain_login(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        c.read_start()
        # AMQPLAIN's response is a field table without its length prefix
        response = raw.encode_table({'LOGIN': 'guest', 'PASSWORD': 'guest'})[4:]
        c.send(raw.method_frame(0, raw.CONNECTION_START_OK,
                                {'product': 'raw'}, 'AMQPLAIN', response, 'en_US'))
        c.read_tune()
        c.send_tune_ok(heartbeat=0)
        c.send_open('/')
        c.expect(raw.CONNECTION_OPEN_OK, 0)


def amqplain_start_ok(c, login, password, capabilities=True):
    # AMQPLAIN's response is a field table without its length prefix
    response = raw.encode_table({'LOGIN': login, 'PASSWORD': password})[4:]
    props = {'product': 'raw'}
    if capabilities:
        props['capabilities'] = {'authentication_failure_close': True}
    c.send(raw.method_frame(0, raw.CONNECTION_START_OK, props, 'AMQPLAIN', response, 'en_US'))


def test_amqplain_wrong_password_names_amqplain(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        c.read_start()
        amqplain_start_ok(c, 'guest', 'wrong-password')
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (403, 0, 0)
        assert text == ('ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. '
                        'For details see the broker logfile.')
    broker_still_serves(broker)


def test_wrong_password_without_capability_closes_the_socket(broker):
    # a client that did not announce authentication_failure_close learns
    # nothing: the socket is closed (RabbitMQ's old-client behaviour)
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        c.read_start()
        amqplain_start_ok(c, 'guest', 'wrong-password', capabilities=False)
        with pytest.raises(raw.Closed):
            c.read_method(6)


@pytest.mark.parametrize('mechanism,response', [
    ('EXTERNAL', b''),                      # not offered
    ('plain', b'\x00guest\x00guest'),      # names are case-sensitive
    ('PLAIN', b'guestguest'),               # no NUL separators
    ('AMQPLAIN', b'zz'),                    # not a table
])
def test_bad_login_attempt_closes_the_socket(broker, mechanism, response):
    # not a login RabbitMQ answers: it closes the socket without a reply
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        c.read_start()
        c.send(raw.method_frame(0, raw.CONNECTION_START_OK,
                                {'capabilities': {'authentication_failure_close': True}},
                                mechanism, response, 'en_US'))
        with pytest.raises(raw.Closed):
            c.read_method(6)
    broker_still_serves(broker)


def test_unknown_vhost_pika(broker):
    url = broker.url.rstrip('/') + '/no-such-vhost'
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as ei:
        pika.BlockingConnection(url_params(url))
    assert '530' in str(ei.value)
    assert 'NOT_ALLOWED' in str(ei.value)


def test_unknown_vhost_raw_530(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        c.read_start()
        c.send_start_ok()
        c.read_tune()
        c.send_tune_ok()
        c.send_open('no-such-vhost')
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (530, 10, 40)
        assert text == 'NOT_ALLOWED - vhost no-such-vhost not found'


def test_server_properties_raw(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.send_header()
        f = c.read_start()
    major, minor, props, mechanisms, locales = f.args
    assert (major, minor) == (0, 9)
    for key in ('product', 'version', 'platform'):
        assert isinstance(props.get(key), bytes), key
        assert props[key].decode().strip(), key
    caps = props['capabilities']
    for cap in ('publisher_confirms', 'exchange_exchange_bindings', 'basic.nack',
                'consumer_cancel_notify', 'connection.blocked',
                'authentication_failure_close', 'per_consumer_qos'):
        assert caps.get(cap) is True, cap
    assert {'PLAIN', 'AMQPLAIN'} <= set(mechanisms.decode().split())
    assert 'en_US' in locales.decode().split()


def test_server_properties_pika(amqp):
    conn = amqp.connect()
    props = conn._impl.server_properties
    for key in ('product', 'version', 'platform'):
        v = props.get(key)
        v = v.decode() if isinstance(v, bytes) else v
        assert isinstance(v, str) and v.strip(), key
    assert conn.consumer_cancel_notify_supported
    assert conn.basic_nack_supported
    assert conn.publisher_confirms_supported
    assert conn.exchange_exchange_bindings_supported
    conn.close()


def test_connection_close_handshake_raw(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(0, raw.CONNECTION_CLOSE, 200, 'bye', 0, 0))
        c.expect(raw.CONNECTION_CLOSE_OK, 0)


def read_until_closed_timed(c, timeout):
    """[(seconds since the call, frame)] the broker sends, heartbeats
    included, and the seconds until it closes the socket."""
    t0 = time.monotonic()
    frames = []
    while True:
        try:
            f = c.read_frame(max(0.01, t0 + timeout - time.monotonic()))
        except raw.Closed:
            return frames, time.monotonic() - t0
        frames.append((time.monotonic() - t0, f))


def junk_after_close(qname):
    """What a client may still have queued behind its connection.close (or
    before it saw the server's): publishes, a channel.open, a basic.get, a
    frame of no known type on a channel, a heartbeat."""
    publish = (raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False) +
               raw.header_frame(1, 5) + raw.body_frame(1, b'after'))
    return (publish * 3 + raw.method_frame(2, raw.CHANNEL_OPEN, '') +
            raw.method_frame(1, raw.BASIC_GET, 0, qname, True) + raw.frame(9, 1, b'junk') +
            raw.heartbeat_frame())


def declare_and_check_empty(broker, qname, declare):
    """Declare qname (declare=True) or check that it is still empty and delete it."""
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, not declare, False, False, False, False, {}))
        f = c.expect(raw.QUEUE_DECLARE_OK, 1)
        if not declare:
            assert f.args[1] == 0, 'a publish sent after the close was enqueued: %r' % f.args
            c.send(raw.method_frame(1, raw.QUEUE_DELETE, 0, qname, False, False, False))
            c.expect(raw.QUEUE_DELETE_OK, 1)
        c.send(raw.method_frame(0, raw.CONNECTION_CLOSE, 200, 'bye', 0, 0))
        c.expect(raw.CONNECTION_CLOSE_OK, 0)


def test_frames_after_close_ok_are_discarded(broker, qname):
    """Issue 11: the spec says frames after connection.close are discarded,
    and RabbitMQ reads and drops them until the client hangs up: a client
    such as amqplib writes its close ahead of publishes it had queued, and a
    socket closed at close-ok made those writes fail (EPIPE).  Nothing is
    answered but a second close (close-ok again), nothing is enqueued, and a
    client that never hangs up is cut off after the negotiated heartbeat
    (2 s here; RabbitMQ: min(heartbeat, 30 s), 30 s with heartbeats off)."""
    declare_and_check_empty(broker, qname, declare=True)
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake(heartbeat=2)
        c.open_channel(1)
        c.send(raw.method_frame(0, raw.CONNECTION_CLOSE, 200, 'bye', 0, 0))
        c.expect(raw.CONNECTION_CLOSE_OK, 0)
        t0 = time.monotonic()
        c.send(junk_after_close(qname))
        time.sleep(0.3)
        c.send(junk_after_close(qname))          # still read, not reset
        c.send(raw.method_frame(0, raw.CONNECTION_CLOSE, 200, 'again', 0, 0))
        c.expect(raw.CONNECTION_CLOSE_OK, 0)
        frames, _ = read_until_closed_timed(c, 10)
        closed_at = time.monotonic() - t0
    # RabbitMQ goes on sending heartbeats meanwhile; nothing else comes
    assert [f for _, f in frames if f.type != raw.FRAME_HEARTBEAT] == [], frames
    assert 1.8 <= closed_at <= 3.5, 'closed %.2fs after close-ok' % closed_at
    declare_and_check_empty(broker, qname, declare=False)
    broker_still_serves(broker)


@pytest.mark.parametrize('answer', ['close-ok', 'nothing'])
def test_server_close_drops_what_follows_until_close_ok(broker, qname, answer):
    """After the server's connection.close (a hard error) what the client
    still sends is dropped; its close-ok ends the connection at once, and
    without one the socket is closed after the negotiated heartbeat, as
    RabbitMQ does."""
    declare_and_check_empty(broker, qname, declare=True)
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake(heartbeat=2)
        c.open_channel(1)
        c.send(raw.header_frame(0, 3))              # 505: a content header on channel 0
        f = c.read_method()
        t0 = time.monotonic()
        assert f.method == raw.CONNECTION_CLOSE and f.args[0] == 505, f
        c.send(junk_after_close(qname))
        if answer == 'close-ok':
            time.sleep(0.3)
            c.send(raw.method_frame(0, raw.CONNECTION_CLOSE_OK))
        frames, _ = read_until_closed_timed(c, 10)
        closed_at = time.monotonic() - t0
    assert [f for _, f in frames if f.type != raw.FRAME_HEARTBEAT] == [], frames
    if answer == 'close-ok':
        assert closed_at < 1.0, 'closed %.2fs after the close, 0.3 s after close-ok' % closed_at
    else:
        assert 1.8 <= closed_at <= 3.5, 'closed %.2fs after the close' % closed_at
    declare_and_check_empty(broker, qname, declare=False)
    broker_still_serves(broker)


def test_heartbeats_every_half_interval_silent_client_dropped(broker):
    """Issue 11: with heartbeat=1 an idle client gets a heartbeat every 0.5 s
    (RabbitMQ's rabbit_heartbeat sends at half the interval; warren sent one
    a second), and a client that sends nothing is dropped without a
    connection.close after two intervals, not before (RabbitMQ, which looks
    once an interval, after two to three: 3 s here)."""
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake(heartbeat=1)
        frames, closed_at = read_until_closed_timed(c, 6)
    assert all(f.type == raw.FRAME_HEARTBEAT for _, f in frames), frames
    beats = [t for t, _ in frames]
    early = [t for t in beats if t < 1.9]
    assert len(early) >= 3, 'heartbeats at %r' % beats
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    assert gaps and max(gaps) < 0.9, 'heartbeats at %r' % beats
    assert 1.9 <= closed_at <= 3.4, 'a silent client was dropped after %.2fs' % closed_at


def test_channel_close_from_client_raw(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.CHANNEL_CLOSE, 200, 'done', 0, 0))
        c.expect(raw.CHANNEL_CLOSE_OK, 1)
        # the number is free again
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, '', False, False, True, True, False, {}))
        f = c.expect(raw.QUEUE_DECLARE_OK, 1)
        assert f.args[0].startswith('amq.gen-')


def test_channel_close_from_server_raw(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.open_channel(2)
        # passive declare of a missing queue: the server closes channel 1
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, 'no-such-queue-raw-x', True,
                                False, False, False, False, {}))
        code, text, cls, meth = c.expect_channel_close(1)
        assert (code, cls, meth) == (404, 50, 10)
        assert text == "NOT_FOUND - no queue 'no-such-queue-raw-x' in vhost '/'"
        # channel 2 was not touched; channel 1 can be reopened after close-ok
        c.send(raw.method_frame(2, raw.CHANNEL_FLOW, True))
        assert c.expect(raw.CHANNEL_FLOW_OK, 2).args == [True]
        c.open_channel(1)


def test_channel_flow_active_true(broker):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.CHANNEL_FLOW, True))
        f = c.expect(raw.CHANNEL_FLOW_OK, 1)
        assert f.args == [True]


def test_channel_flow_active_false_not_implemented(broker):
    # RabbitMQ refuses to stop sending on request: connection error 540.
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.CHANNEL_FLOW, False))
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (540, 20, 20)
        assert text == 'NOT_IMPLEMENTED - active=false'
    broker_still_serves(broker)


# ---------------------------------------------------------------- amqp-tools

def tools_url(broker):
    # rabbitmq-c reads "amqp://h:p/" as vhost "" ; without the slash it is "/"
    return broker.url.rstrip('/')


def run_tool(args, timeout=10, input=None):
    return subprocess.run(args, capture_output=True, timeout=timeout, input=input)


def test_amqp_tools_declare_publish_get(broker, amqp, qname):
    url = tools_url(broker)
    r = run_tool(['amqp-declare-queue', '--url', url, '-d', '-q', qname])
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == qname
    r = run_tool(['amqp-publish', '--url', url, '-r', qname, '-b', 'hello from rabbitmq-c'])
    assert r.returncode == 0, r.stderr
    r = run_tool(['amqp-get', '--url', url, '-q', qname])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b'hello from rabbitmq-c'
    # queue now empty: amqp-get exits 2
    r = run_tool(['amqp-get', '--url', url, '-q', qname])
    assert r.returncode == 2, (r.stdout, r.stderr)
    # the queue is durable: pika sees it as such (redeclare durable=True is fine)
    ch = amqp.channel()
    ok = ch.queue_declare(qname, durable=True)
    assert ok.method.message_count == 0


def test_amqp_tools_consume(broker, amqp, qname):
    url = tools_url(broker)
    ch = amqp.channel()
    ch.queue_declare(qname)
    for i in range(3):
        ch.basic_publish('', qname, b'm%d;' % i)
    r = run_tool(['amqp-consume', '--url', url, '-q', qname, '-c', '3', 'cat'])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b'm0;m1;m2;'
    assert ch.queue_declare(qname, passive=True).method.message_count == 0


def test_amqp_tools_publish_persistent_headers(broker, amqp, qname):
    url = tools_url(broker)
    ch = amqp.channel()
    ch.queue_declare(qname)
    r = run_tool(['amqp-publish', '--url', url, '-r', qname, '-p', '-C', 'text/plain',
                  '-H', 'x-from: tools', '-b', 'persist me'])
    assert r.returncode == 0, r.stderr
    m = None
    deadline = time.monotonic() + 5
    while m is None and time.monotonic() < deadline:
        m, props, body = ch.basic_get(qname, auto_ack=True)
    assert body == b'persist me'
    assert props.delivery_mode == 2
    assert props.content_type == 'text/plain'
    assert props.headers == {'x-from': b'tools'} or props.headers == {'x-from': 'tools'}


def test_amqp_tools_empty_vhost_refused(broker, qname):
    # "amqp://guest:guest@host:port/" means vhost "" to rabbitmq-c
    r = run_tool(['amqp-declare-queue', '--url', broker.url.rstrip('/') + '/', '-q', qname])
    assert r.returncode != 0
    assert b'530' in r.stderr and b'NOT_ALLOWED' in r.stderr
