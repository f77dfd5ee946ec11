"""Regressions found by the protocol walk (tests/fuzz/protocol_walk.py).

Each test replays, by hand and deterministically, the shortest sequence of
methods the walk's minimizer left of a trace that crashed, hung or
corrupted the broker, and asserts what must hold instead.  Raw frames
(amqp_raw) where the sequence is itself malformed or depends on the frames'
order; the fixture broker fails the test on any sanitizer report.
"""
import struct

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
