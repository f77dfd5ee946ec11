"""Regressions found by the protocol walk (tests/fuzz/protocol_walk.py).

Each test replays, by hand and deterministically, the shortest sequence of
methods the walk's minimizer left of a trace that crashed, hung or
corrupted the broker, and asserts what must hold instead.  Raw frames
(amqp_raw) where the sequence is itself malformed or depends on the frames'
order; the fixture broker fails the test on any sanitizer report.
"""
import struct
import time

import amqp_raw as raw
from helpers import broker_still_serves

QUEUE_BIND = (50, 20)
QUEUE_BIND_OK = (50, 21)


def method(ch, mid, fmt, *args):
    return raw.method_frame(ch, mid, raw_args=raw.encode_args(fmt, args))


def declare(c, ch, name, durable=False, exclusive=False, auto_delete=False, args=None):
    c.send(method(ch, raw.QUEUE_DECLARE, 'sSbbbbbF', 0, name, False, durable, exclusive, auto_delete, False,
                  args or {}))
    return c.expect(raw.QUEUE_DECLARE_OK, ch)


def publish(c, ch, rk, body, exchange='', props=b'', flags=0):
    c.send(method(ch, raw.BASIC_PUBLISH, 'sSSbb', 0, exchange, rk, False, False) +
           raw.header_frame(ch, len(body), flags, props) + raw.body_frame(ch, body))


def connect(broker):
    c = raw.RawConnection(broker.host, broker.port)
    c.handshake()
    c.open_channel(1)
    return c


def test_shutdown_with_queue_timers_armed(broker, qname):
    """Queues with an x-expires timer and queues with a message-TTL timer
    armed, then SIGTERM: freeing the queues at shutdown left a freed queue's
    timer in the loop's heap, and the next queue's purge re-armed its TTL
    timer through it (heap-use-after-free in broker_free)."""
    broker.require_control()
    c = connect(broker)
    for i in range(4):
        declare(c, 1, '%s-exp%d' % (qname, i), args={'x-expires': 600000})
        declare(c, 1, '%s-ttl%d' % (qname, i), args={'x-message-ttl': 600000})
        publish(c, 1, '%s-ttl%d' % (qname, i), b'x')
    c.send(method(1, raw.BASIC_GET, 'sSb', 0, '%s-ttl0' % qname, True))
    c.expect(raw.BASIC_GET_OK, 1)
    c.close()
    assert broker.stop() == 0
    broker.check_clean()


def decode_headers(header_payload):
    """The headers table of a content header frame's payload."""
    flags = struct.unpack('>H', header_payload[12:14])[0]
    assert flags & (1 << 13), 'no headers'
    r = raw.Reader(header_payload[14:])
    if flags & (1 << 15):
        r.shortstr()
    if flags & (1 << 14):
        r.shortstr()
    return r.table()


def test_dead_letter_count_at_int64_max_wraps(broker, qname):
    """A client may publish its own x-death; a count of 2^63-1 for the event
    the message then dead-letters with made count + 1 overflow (a UBSan
    abort: one publish stopped the broker).  RabbitMQ writes the 64-bit
    long it gets, -2^63; so does warren now."""
    c = connect(broker)
    dlx, cap = qname + '-dlx', qname + '-cap'
    try:
        c.send(method(1, (40, 10), 'sSSbbbbbF', 0, dlx, 'fanout', False, False, False, False, False, {}))
        c.expect((40, 11), 1)
        declare(c, 1, cap)
        c.send(method(1, QUEUE_BIND, 'sSSSbF', 0, cap, dlx, '', False, {}))
        c.expect(QUEUE_BIND_OK, 1)
        declare(c, 1, qname, args={'x-message-ttl': 0, 'x-dead-letter-exchange': dlx})
        for count, then in ((2 ** 63 - 1, -2 ** 63), (7, 8)):
            headers = raw.encode_table({'x-death': [{'count': count, 'exchange': '', 'queue': qname,
                                                     'reason': 'expired', 'routing-keys': [qname]}]})
            publish(c, 1, qname, b'x', props=headers, flags=1 << 13)
            deadline = time.monotonic() + 5
            while True:
                c.send(method(1, raw.BASIC_GET, 'sSb', 0, cap, True))
                f = c.read_method()
                if f.method == raw.BASIC_GET_OK:
                    break
                assert time.monotonic() < deadline, 'the message was not dead-lettered'
                time.sleep(0.02)
            h = c.read_method()
            c.read_method()
            deaths = decode_headers(h.payload)['x-death']
            assert len(deaths) == 1 and deaths[0]['count'] == then, deaths
        broker_still_serves(broker)
    finally:
        for q in (qname, cap):
            c.send(method(1, raw.QUEUE_DELETE, 'sSbbb', 0, q, False, False, False))
            c.expect(raw.QUEUE_DELETE_OK, 1)
        c.send(method(1, (40, 20), 'sSbb', 0, dlx, False, False))
        c.expect((40, 21), 1)
        c.close()
