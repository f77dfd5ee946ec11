"""Helpers for the routing and queue-feature tests (imported by tests and conftest).

Builds on tests/interop/helpers.py (wait_for, Amqp) and tests/interop/amqp_raw.py.
Adds:
  RoutingAmqp     - Amqp that also names exchanges and deletes them at teardown
                    when the broker is external (so runs can share a RabbitMQ);
  drain           - every message in a queue, by basic.get, until get-empty;
  typed headers   - a raw basic.get that decodes the content header with the
                    AMQP type letter of every field kept, so a test can assert
                    what type the broker wrote (x-death's count is 'l', its
                    time 'T', ...), which pika's decoder throws away;
  closed_with     - assert a ChannelClosedByBroker/ConnectionClosedByBroker.
"""
import os
import struct
import sys
import time
import uuid

import pika

HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.join(os.path.dirname(HERE), 'interop')
if INTEROP not in sys.path:
    sys.path.insert(0, INTEROP)

import amqp_raw as raw  # noqa: E402
from helpers import Amqp, wait_for  # noqa: E402


class RoutingAmqp(Amqp):
    """Amqp plus exchange names that are deleted at teardown on an external broker."""

    def __init__(self, broker):
        super().__init__(broker)
        self.exchanges = []

    def xname(self, prefix='x'):
        n = '%s-%s' % (prefix, uuid.uuid4().hex[:12])
        self.exchanges.append(n)
        return n

    def close(self):
        super().close()
        if not (self.broker.external and self.exchanges):
            return
        try:
            c = pika.BlockingConnection(self.params())
            for n in self.exchanges:
                if not c.is_open:
                    c = pika.BlockingConnection(self.params())
                try:
                    c.channel().exchange_delete(n)
                except Exception:
                    pass
            c.close()
        except Exception:
            pass


def closed_with(excinfo, code, text=None):
    assert excinfo.value.reply_code == code, excinfo.value
    if text is not None:
        assert excinfo.value.reply_text == text
    return excinfo.value.reply_text


def count(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def wait_count(ch, q, n, timeout=5.0, conn=None):
    """Poll the ready-message count of q until it is n (bounded)."""
    seen = []

    def check():
        seen.append(count(ch, q))
        return seen[-1] == n
    try:
        wait_for(check, timeout, conn=conn, what='%d messages in %s' % (n, q))
    except AssertionError as e:
        raise AssertionError('%s (last count %s)' % (e, seen[-1] if seen else '?')) from None


def drain(ch, q, limit=10000):
    """All messages ready in q, acked, as (method, properties, body) in order."""
    out = []
    while len(out) < limit:
        m, p, b = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append((m, p, b))
    raise AssertionError('queue %s never ran empty' % q)


def bodies(ch, q):
    return [b for _m, _p, b in drain(ch, q)]


def get_one(ch, q, timeout=5.0, auto_ack=True):
    """basic.get until a message comes (polled, bounded)."""
    got = []

    def poll():
        m, p, b = ch.basic_get(q, auto_ack=auto_ack)
        if m is not None:
            got.append((m, p, b))
            return True
        return False
    wait_for(poll, timeout, what='a message in %s' % q)
    return got[0]


# ---------------------------------------------------------------- typed decoding

class Typed:
    """A field value with the AMQP type letter it came with."""

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value

    def __repr__(self):
        return 'Typed(%r, %r)' % (self.kind, self.value)


def _typed_value(r):
    t = r.take(1).decode()
    simple = {'t': '>B', 'b': '>b', 'B': '>B', 's': '>h', 'u': '>H', 'I': '>i',
              'i': '>I', 'l': '>q', 'L': '>Q', 'T': '>Q', 'f': '>f', 'd': '>d'}
    if t in simple:
        return Typed(t, r.unpack(simple[t]))
    if t == 'D':
        scale = r.unpack('>B')
        return Typed(t, (scale, r.unpack('>i')))
    if t in ('S', 'x'):
        return Typed(t, r.longstr())
    if t == 'F':
        return Typed(t, _typed_table(r))
    if t == 'A':
        sub = raw.Reader(r.longstr())
        out = []
        while sub.pos < len(sub.data):
            out.append(_typed_value(sub))
        return Typed(t, out)
    if t == 'V':
        return Typed(t, None)
    raise raw.ProtocolError('unknown field type %r' % t)


def _typed_table(r):
    """A table as a list of (key, Typed), in wire order."""
    sub = raw.Reader(r.longstr())
    out = []
    while sub.pos < len(sub.data):
        k = sub.shortstr()
        out.append((k, _typed_value(sub)))
    return out


PROPERTY_NAMES = ('content_type', 'content_encoding', 'headers', 'delivery_mode',
                  'priority', 'correlation_id', 'reply_to', 'expiration',
                  'message_id', 'timestamp', 'type', 'user_id', 'app_id', 'cluster_id')


def decode_properties(payload):
    """Content header payload -> dict of present properties (headers typed)."""
    r = raw.Reader(payload)
    r.unpack('>H')
    r.unpack('>H')
    r.unpack('>Q')
    flags = r.unpack('>H')
    out = {}
    for i, name in enumerate(PROPERTY_NAMES):
        if not flags & (1 << (15 - i)):
            continue
        if name == 'headers':
            out[name] = _typed_table(r)
        elif name in ('delivery_mode', 'priority'):
            out[name] = r.unpack('>B')
        elif name == 'timestamp':
            out[name] = r.unpack('>Q')
        else:
            out[name] = r.shortstr()
    return out


def raw_get(broker, queue, timeout=5.0):
    """basic.get over a raw socket: (routing_key, exchange, properties, body) or None.

    Polls until a message arrives or timeout.  Properties come from
    decode_properties, so headers keep their wire types and order.
    """
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        deadline = time.monotonic() + timeout
        while True:
            c.send(raw.method_frame(1, raw.BASIC_GET, 0, queue, True))
            f = c.read_method()
            if f.method == raw.BASIC_GET_OK:
                _tag, _redelivered, exchange, rk, _count = f.args
                hdr = c.read_frame()
                size = struct.unpack('>Q', hdr.payload[4:12])[0]
                body = b''
                while len(body) < size:
                    body += c.read_frame().payload
                return rk, exchange, decode_properties(hdr.payload), body
            assert f.method == raw.BASIC_GET_EMPTY, f
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)


def typed_lookup(table, key):
    for k, v in table:
        if k == key:
            return v
    raise KeyError(key)


# ---------------------------------------------------------------- raw methods

# (class_id, method_id) and argument formats (amqp_raw letters) of the methods
# amqp_raw.py does not list; encode with raw_method().
EXCHANGE_DECLARE, EXCHANGE_DECLARE_OK = (40, 10), (40, 11)
EXCHANGE_DELETE, EXCHANGE_DELETE_OK = (40, 20), (40, 21)
EXCHANGE_BIND, EXCHANGE_BIND_OK = (40, 30), (40, 31)
EXCHANGE_UNBIND, EXCHANGE_UNBIND_OK = (40, 40), (40, 51)
QUEUE_BIND, QUEUE_BIND_OK = (50, 20), (50, 21)
QUEUE_UNBIND, QUEUE_UNBIND_OK = (50, 50), (50, 51)
TX_SELECT, TX_SELECT_OK = (90, 10), (90, 11)
TX_COMMIT, TX_COMMIT_OK = (90, 20), (90, 21)
TX_ROLLBACK, TX_ROLLBACK_OK = (90, 30), (90, 31)

RAW_ARGS = {
    EXCHANGE_DECLARE: 'sSSbbbbbF',   # ticket exchange type passive durable auto_delete internal nowait args
    EXCHANGE_DELETE: 'sSbb',         # ticket exchange if_unused nowait
    EXCHANGE_BIND: 'sSSSbF',         # ticket destination source routing_key nowait args
    EXCHANGE_UNBIND: 'sSSSbF',
    QUEUE_BIND: 'sSSSbF',            # ticket queue exchange routing_key nowait args
    QUEUE_UNBIND: 'sSSSF',           # ticket queue exchange routing_key args
}


def raw_method(channel, method, *args):
    fmt = RAW_ARGS.get(method, '')
    return raw.method_frame(channel, method, raw_args=raw.encode_args(fmt, args))
