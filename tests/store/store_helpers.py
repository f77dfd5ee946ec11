"""Helpers shared by the store tests (tests/store/test_store_*.py).

The tests import what they need from here; fixtures defined here (`alarm_seconds`,
`release_bin`) take effect in a test module that imports them.  Contents:

  AMQP with pika     connect(), publish(), consume_all(), queue_depth()
  AMQP by hand       ConfirmPublisher: publisher confirms with a window, over
                     tests/interop/amqp_raw.py (a codec written apart from
                     warren's), so acks and nacks are seen one by one
  the disk format    read_segment(), read_acks(), crc32c(): an independent
                     reading of doc/store-format.md, used to find the byte to
                     damage and to check that the files match the document
  the broker         start_refused() for a start that must fail,
                     check_store() runs bin/warren-check-store, rss_kib()
"""
import os
import struct
import subprocess
import sys
import time

import pika
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(ROOT, 'bin')
WARREN_RELEASE = os.path.join(BIN, 'warren')
CHECK_STORE = os.path.join(BIN, 'warren-check-store')
FAILIO = os.path.join(ROOT, 'build', 'failio.so')
PYTHON = '/usr/bin/python3'

INTEROP = os.path.join(os.path.dirname(HERE), 'interop')
if INTEROP not in sys.path:
    sys.path.insert(0, INTEROP)
import amqp_raw as raw  # noqa: E402

TEST_TIMEOUT = int(os.environ.get('STORE_TEST_TIMEOUT', '120'))


@pytest.fixture
def alarm_seconds():
    return TEST_TIMEOUT


@pytest.fixture
def release_bin(monkeypatch):
    """Brokers made after this run bin/warren (no sanitizers): for RSS
    measurements and for LD_PRELOAD, which ASan does not allow."""
    if not os.path.exists(WARREN_RELEASE):
        subprocess.run(['make', '-s', 'bin/warren'], cwd=ROOT, check=True)
    monkeypatch.setenv('WARREN_BIN', WARREN_RELEASE)
    return WARREN_RELEASE


def need_control(broker):
    """These tests restart, kill and corrupt the broker: not an outside one."""
    broker.require_control()


# ------------------------------------------------------------------ pika

def params(broker, **overrides):
    p = pika.URLParameters(broker.url)
    p.socket_timeout = 5
    p.stack_timeout = 10
    p.blocked_connection_timeout = None
    p.connection_attempts = 1
    p.heartbeat = 0
    for k, v in overrides.items():
        setattr(p, k, v)
    return p


def connect(broker, **overrides):
    return pika.BlockingConnection(params(broker, **overrides))


PERSISTENT = pika.BasicProperties(delivery_mode=2)
TRANSIENT = pika.BasicProperties(delivery_mode=1)


def publish(ch, queue, bodies, persistent=True):
    props = PERSISTENT if persistent else TRANSIENT
    for b in bodies:
        ch.basic_publish('', queue, b, props)


def queue_depth(ch, queue):
    return ch.queue_declare(queue, passive=True).method.message_count


def consume_all(ch, queue, expect=None, idle=1.0, prefetch=500, ack=True, timeout=60.0):
    """Consume until `expect` messages came, or none came for `idle` seconds.

    Returns [(body, redelivered)] in delivery order.  With ack, every message
    is acked (multiple=true in batches) and a synchronous basic.qos follows
    the last ack, so when this returns the broker has handled every ack.
    """
    out = []
    ch.basic_qos(prefetch_count=prefetch)
    last_tag = acked = None
    deadline = time.monotonic() + timeout
    for method, _props, body in ch.consume(queue, inactivity_timeout=idle):
        if method is None:
            break
        out.append((body, method.redelivered))
        last_tag = method.delivery_tag
        if ack and len(out) % 100 == 0:
            ch.basic_ack(last_tag, multiple=True)
            acked = last_tag
        if expect is not None and len(out) >= expect:
            break
        if time.monotonic() > deadline:
            raise AssertionError('still consuming after %.0fs (%d messages)' % (timeout, len(out)))
    if ack and last_tag is not None and acked != last_tag:
        ch.basic_ack(last_tag, multiple=True)
    ch.cancel()
    ch.basic_qos(prefetch_count=prefetch)  # a round trip: the acks are in
    return out


def get_all(ch, queue, ack=True):
    """basic.get until the queue is empty: [(body, redelivered)]."""
    out = []
    while True:
        m, _p, body = ch.basic_get(queue, auto_ack=False)
        if m is None:
            return out
        out.append((body, m.redelivered))
        if ack:
            ch.basic_ack(m.delivery_tag)


def wait_for(predicate, timeout=5.0, interval=0.05, conn=None, what='condition'):
    """Poll predicate until true; with conn, pump its events meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %.1fs waiting for %s' % (timeout, what))
        if conn is not None:
            conn.process_data_events(time_limit=interval)
        else:
            time.sleep(interval)


# ------------------------------------------------------- raw confirm publisher

BASIC_PROPS_DELIVERY_MODE = 0x1000   # property-flags bit of delivery-mode


class ConfirmPublisher:
    """Publishes with confirms and a window of unconfirmed messages.

    Every publish gets a delivery tag (1, 2, ...); acks and nacks (single or
    multiple) are sorted into self.acked / self.nacked as they arrive, and
    on_confirm(tags, ok) is called for each batch before anything else, so
    a caller can record confirmed ids durably as soon as it knows.
    """

    def __init__(self, host, port, timeout=10.0, on_confirm=None):
        self.c = raw.RawConnection(host, port, timeout=timeout)
        self.c.handshake()
        self.c.open_channel(1)
        self.c.send(raw.method_frame(1, (85, 10), raw_args=b'\x00'))  # confirm.select
        self.c.expect((85, 11), 1)
        self.next_tag = 1
        self.pending = set()
        self.acked = []
        self.nacked = []
        self.on_confirm = on_confirm
        self.blocked = False     # connection.blocked seen, no unblocked since
        self.fmax = self.c.frame_max - 8

    def close(self):
        self.c.close()

    def declare(self, queue, durable=True, arguments=None):
        self.c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, queue, False, durable, False, False, False,
                                     arguments or {}))
        self.c.expect(raw.QUEUE_DECLARE_OK, 1)

    def send(self, queue, body, persistent=True):
        """Publish without waiting; returns the delivery tag."""
        flags, props = (BASIC_PROPS_DELIVERY_MODE, b'\x02' if persistent else b'\x01')
        out = [raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', queue, False, False),
               raw.header_frame(1, len(body), flags, props)]
        for i in range(0, len(body), self.fmax):
            out.append(raw.body_frame(1, body[i:i + self.fmax]))
        self.c.send(b''.join(out))
        tag = self.next_tag
        self.next_tag += 1
        self.pending.add(tag)
        return tag

    def _settle(self, tag, multiple, ok):
        if multiple:
            tags = sorted(t for t in self.pending if t <= tag)
        else:
            tags = [tag] if tag in self.pending else []
        for t in tags:
            self.pending.discard(t)
        (self.acked if ok else self.nacked).extend(tags)
        if self.on_confirm and tags:
            self.on_confirm(tags, ok)

    def read_confirms(self, timeout):
        """Handle confirms until one arrives or timeout; raises raw.Closed
        (or socket errors) when the broker goes away."""
        f = self.c.read_method(timeout)
        if f.method == raw.BASIC_ACK:
            self._settle(f.args[0], f.args[1], True)
        elif f.method == raw.BASIC_NACK:
            self._settle(f.args[0], f.args[1], False)
        elif f.method in (raw.CHANNEL_CLOSE, raw.CONNECTION_CLOSE):
            raise raw.ProtocolError('broker closed: %r' % (f.args,))
        elif f.method == (10, 60):  # connection.blocked
            self.blocked = True
        elif f.method == (10, 61):
            self.blocked = False

    def publish_all(self, queue, bodies, window=200, persistent=True, timeout=10.0):
        """Publish every body, at most `window` unconfirmed; wait for the last
        confirm.  Returns the tags in publish order."""
        tags = []
        deadline = time.monotonic() + timeout
        for b in bodies:
            while len(self.pending) >= window:
                self.read_confirms(max(0.01, deadline - time.monotonic()))
            tags.append(self.send(queue, b, persistent))
        while self.pending:
            if time.monotonic() > deadline:
                raise AssertionError('%d confirms missing after %.0fs' % (len(self.pending), timeout))
            self.read_confirms(max(0.01, deadline - time.monotonic()))
        return tags


def make_body(prefix, n, size=0):
    """The body of message n of a run: its id, then `size` bytes derived
    from it, so a body damaged or swapped on disk is noticed."""
    head = ('%s-%07d|' % (prefix, n)).encode()
    if not size:
        return head
    unit = ('%07d' % n).encode()
    return head + (unit * (size // len(unit) + 1))[:size]


def body_id(body):
    """(prefix, n) of a make_body() body, checking the rest of it."""
    head, _sep, rest = body.partition(b'|')
    prefix, _d, n = head.decode().rpartition('-')
    n = int(n)
    assert body == make_body(prefix, n, len(rest)), 'body of %s-%d is damaged' % (prefix, n)
    return prefix, n


# ------------------------------------------------------------- disk format

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    """CRC-32C (Castagnoli), as the store format specifies."""
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


HEADER = 16
REC_HEADER = 8


def msgs_dir(data_dir):
    return os.path.join(data_dir, 'msgs')


def segment_files(data_dir, ext='seg'):
    d = msgs_dir(data_dir)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.' + ext))


def read_header(data):
    magic, version, ident, zero = struct.unpack('>4sIII', data[:HEADER])
    return magic, version, ident, zero


def parse_message(payload):
    """A message record's payload (type 1, or 2 with its u32 queue count),
    field by field as documented."""
    if payload[0] == 2:
        typ, flags, nq, seq, timestamp = struct.unpack('>BBIQQ', payload[:22])
        p = 22
    else:
        typ, flags, nq, seq, timestamp = struct.unpack('>BBHQQ', payload[:20])
        p = 20
    qids = list(struct.unpack('>%dI' % nq, payload[p:p + 4 * nq]))
    p += 4 * nq
    exlen = payload[p]
    exchange = payload[p + 1:p + 1 + exlen]
    p += 1 + exlen
    rklen = payload[p]
    rk = payload[p + 1:p + 1 + rklen]
    p += 1 + rklen
    (plen,) = struct.unpack('>I', payload[p:p + 4])
    props = payload[p + 4:p + 4 + plen]
    p += 4 + plen
    (blen,) = struct.unpack('>I', payload[p:p + 4])
    body = payload[p + 4:p + 4 + blen]
    assert p + 4 + blen == len(payload), 'message record has trailing bytes'
    return {'type': typ, 'flags': flags, 'seq': seq, 'timestamp': timestamp, 'qids': qids, 'exchange': exchange,
            'rk': rk, 'props': props, 'body': body}


def read_segment(path):
    """(header, [records]) of a well-formed segment; each record is a dict
    with 'off' (of its length field), 'size' (header included), 'crc_ok',
    and the parsed message fields for type 1."""
    with open(path, 'rb') as f:
        data = f.read()
    header = read_header(data)
    recs = []
    off = HEADER
    while off + REC_HEADER <= len(data):
        length, crc = struct.unpack('>II', data[off:off + REC_HEADER])
        payload = data[off + REC_HEADER:off + REC_HEADER + length]
        if len(payload) < length or length == 0:
            break
        rec = {'off': off, 'size': REC_HEADER + length, 'crc_ok': crc32c(payload) == crc,
               'kind': payload[0]}
        if payload[0] in (1, 2):
            rec.update(parse_message(payload))
        recs.append(rec)
        off += REC_HEADER + length
    return header, recs


def read_acks(path):
    """(header, [entries]) of an ack file; each entry is (file offset,
    queue id, record offset, kind, crc ok)."""
    with open(path, 'rb') as f:
        data = f.read()
    header = read_header(data)
    out = []
    for off in range(HEADER, len(data) - 15, 16):
        qid, roff, kind = struct.unpack('>IIB', data[off:off + 9])
        (crc,) = struct.unpack('>I', data[off + 12:off + 16])
        out.append((off, qid, roff, kind, crc32c(data[off:off + 12]) == crc))
    return header, out


def flip_byte(path, off):
    with open(path, 'r+b') as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0xFF]))


def dir_bytes(path):
    """(apparent bytes, allocated bytes) of the files under path."""
    size = blocks = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.stat(os.path.join(dirpath, f))
            except FileNotFoundError:
                continue
            size += st.st_size
            blocks += st.st_blocks * 512
    return size, blocks


# ----------------------------------------------------------------- broker

def start_refused(broker, detect_leaks=False):
    """Start the broker expecting it to refuse (exit non-zero before it
    listens); returns (exit status, the log of that attempt).

    LeakSanitizer is off for this start unless detect_leaks: what a refused
    start leaks is test_store_corrupt.test_refused_start_leaks_nothing's
    business, and would otherwise fail every test that refuses a start.
    """
    old = os.environ.get('ASAN_OPTIONS')
    if not detect_leaks:
        os.environ['ASAN_OPTIONS'] = 'detect_leaks=0:abort_on_error=0'
    try:
        broker.start()
    except RuntimeError:
        pass
    else:
        raise AssertionError('broker started, but it should have refused to')
    finally:
        if old is None:
            os.environ.pop('ASAN_OPTIONS', None)
        else:
            os.environ['ASAN_OPTIONS'] = old
    rc = broker.proc.wait(10)
    broker.proc = None  # nothing left for the fixture to stop
    with open(broker.logs[-1], errors='replace') as f:
        log = f.read()
    return rc, log


def start_or_fail(broker):
    """broker.start(), turning a refusal into an AssertionError that quotes
    the error lines of its log (and leaves nothing for the fixture to stop)."""
    try:
        broker.start()
    except RuntimeError as e:
        if broker.proc is not None:
            broker.proc.wait(10)
            broker.proc = None
        with open(broker.logs[-1], errors='replace') as f:
            errors = [ln for ln in f.read().splitlines() if ' error ' in ln]
        raise AssertionError('the broker refuses to start (%s):\n%s' % (e, '\n'.join(errors[-10:]))) from None


def last_log(broker):
    with open(broker.logs[-1], errors='replace') as f:
        return f.read()


def check_store(data_dir, *args):
    """Run warren-check-store; returns (exit status, stdout + stderr)."""
    p = subprocess.run([CHECK_STORE] + list(args) + [data_dir], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors='replace')


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise AssertionError('no VmRSS for pid %d' % pid)


def write_fanout_definitions(data_dir, n, exchange='fan', prefix='q'):
    """A definitions file (doc/store-format.md) declaring n durable queues,
    named prefix + a 6-digit number, each bound to the durable fanout
    exchange `exchange`: what n queue.declare and n queue.bind make, written
    in a moment instead of n synced declarations.  Returns the names."""
    def s(b):
        return bytes([len(b)]) + b

    def rec(p):
        return struct.pack('>II', len(p), crc32c(p)) + p
    names = [('%s%06d' % (prefix, i)).encode() for i in range(n)]
    out = [b'WDEF' + struct.pack('>I', 1) + b'\0' * 8]
    out.append(rec(b'\x07' + struct.pack('>I', n + 1)))
    for i, name in enumerate(names):
        out.append(rec(b'\x01' + struct.pack('>I', i + 1) + s(name) + b'\x01' + struct.pack('>I', 0)))
    out.append(rec(b'\x03' + s(exchange.encode()) + s(b'fanout') + b'\x01' + struct.pack('>I', 0)))
    for name in names:
        out.append(rec(b'\x05' + s(exchange.encode()) + b'\x00' + s(name) + s(b'') + struct.pack('>I', 0)))
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, 'definitions'), 'wb') as f:
        f.write(b''.join(out))
    return [x.decode() for x in names]


def message_counts(broker, names, batch=4000):
    """{queue: message count} by passive queue.declare, pipelined in
    batches over one raw connection (66,000 round trips one by one would
    take minutes).  A queue that does not exist fails the test."""
    c = raw.RawConnection(broker.host, broker.port, timeout=30)
    counts = {}
    try:
        c.handshake()
        c.open_channel(1)
        for i in range(0, len(names), batch):
            part = names[i:i + batch]
            c.send(b''.join(raw.method_frame(1, raw.QUEUE_DECLARE, 0, q, True, False, False, False, False, {})
                            for q in part))
            data, c.buf = c.buf, b''
            off = 0
            got = 0
            deadline = time.monotonic() + 60
            while got < len(part):
                while len(data) - off < 7 or len(data) - off < 8 + struct.unpack('>I', data[off + 3:off + 7])[0]:
                    c.sock.settimeout(max(0.1, deadline - time.monotonic()))
                    more = c.sock.recv(1 << 20)
                    if not more:
                        raise AssertionError('broker closed the connection after %d declares' % (i + got))
                    data = data[off:] + more
                    off = 0
                ftype, _ch, size = struct.unpack('>BHI', data[off:off + 7])
                f = raw.Frame(ftype, _ch, data[off + 7:off + 7 + size])
                off += 8 + size
                if f.method != raw.QUEUE_DECLARE_OK:
                    raise AssertionError('passive declare of %s: %r' % (part[got], f))
                name, count, _consumers = f.args
                counts[name] = count
                got += 1
    finally:
        c.close()
    return counts
