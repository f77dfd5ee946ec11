"""A tiny AMQP 0-9-1 frame encoder/decoder for raw-socket tests.

Written independently of warren's C codec (src/amqp/) so the two cannot share
a bug: the protocol-abuse tests build frames by hand here, send them over a
plain socket, and read back what the broker says.  Only what the tests need:
frames, method arguments by a small format string, field tables (RabbitMQ's
type letters), and a RawConnection that walks the handshake step by step so a
test can misbehave at any point.

Argument format letters (AMQP 0-9-1 domains):
  o octet   s short   l long   L longlong   S shortstr   X longstr
  b bit (consecutive bits pack into one octet)   F field table
"""
import socket
import struct
import time

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = 0xCE
PROTOCOL_HEADER = b'AMQP\x00\x00\x09\x01'

# (class_id, method_id)
CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_FLOW = (20, 20)
CHANNEL_FLOW_OK = (20, 21)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)
QUEUE_DELETE = (50, 40)
QUEUE_DELETE_OK = (50, 41)
BASIC_QOS = (60, 10)
BASIC_CONSUME = (60, 20)
BASIC_CONSUME_OK = (60, 21)
BASIC_CANCEL = (60, 30)
BASIC_CANCEL_OK = (60, 31)
BASIC_PUBLISH = (60, 40)
BASIC_DELIVER = (60, 60)
BASIC_GET = (60, 70)
BASIC_GET_OK = (60, 71)
BASIC_GET_EMPTY = (60, 72)
BASIC_ACK = (60, 80)
BASIC_REJECT = (60, 90)
BASIC_RECOVER = (60, 110)
BASIC_RECOVER_OK = (60, 111)
BASIC_NACK = (60, 120)

# Argument formats of the methods the tests decode or encode.
ARGS = {
    CONNECTION_START: 'ooFXX',
    CONNECTION_START_OK: 'FSXS',
    CONNECTION_TUNE: 'sls',
    CONNECTION_TUNE_OK: 'sls',
    CONNECTION_OPEN: 'SSb',
    CONNECTION_OPEN_OK: 'S',
    CONNECTION_CLOSE: 'sSss',
    CONNECTION_CLOSE_OK: '',
    CHANNEL_OPEN: 'S',
    CHANNEL_OPEN_OK: 'X',
    CHANNEL_FLOW: 'b',
    CHANNEL_FLOW_OK: 'b',
    CHANNEL_CLOSE: 'sSss',
    CHANNEL_CLOSE_OK: '',
    QUEUE_DECLARE: 'sSbbbbbF',
    QUEUE_DECLARE_OK: 'Sll',
    QUEUE_DELETE: 'sSbbb',
    QUEUE_DELETE_OK: 'l',
    BASIC_QOS: 'lsb',
    BASIC_CONSUME: 'sSSbbbbF',
    BASIC_CONSUME_OK: 'S',
    BASIC_CANCEL: 'Sb',
    BASIC_CANCEL_OK: 'S',
    BASIC_PUBLISH: 'sSSbb',
    BASIC_DELIVER: 'SLbSS',
    BASIC_GET: 'sSb',
    BASIC_GET_OK: 'LbSSl',
    BASIC_GET_EMPTY: 'S',
    BASIC_ACK: 'Lb',
    BASIC_REJECT: 'Lb',
    BASIC_RECOVER: 'b',
    BASIC_RECOVER_OK: '',
    BASIC_NACK: 'Lbb',
}


class ProtocolError(Exception):
    pass


# ---------------------------------------------------------------- encoding

def shortstr(s):
    if isinstance(s, str):
        s = s.encode()
    assert len(s) < 256
    return struct.pack('>B', len(s)) + s


def longstr(s):
    if isinstance(s, str):
        s = s.encode()
    return struct.pack('>I', len(s)) + s


def encode_value(v):
    if isinstance(v, bool):
        return b't' + struct.pack('>B', 1 if v else 0)
    if isinstance(v, int):
        if -2**31 <= v < 2**31:
            return b'I' + struct.pack('>i', v)
        return b'l' + struct.pack('>q', v)
    if isinstance(v, float):
        return b'd' + struct.pack('>d', v)
    if isinstance(v, (str, bytes)):
        return b'S' + longstr(v)
    if isinstance(v, dict):
        return b'F' + encode_table(v)
    if isinstance(v, (list, tuple)):
        body = b''.join(encode_value(x) for x in v)
        return b'A' + struct.pack('>I', len(body)) + body
    if v is None:
        return b'V'
    raise TypeError('cannot encode %r' % (v,))


def encode_table(d):
    body = b''.join(shortstr(k) + encode_value(v) for k, v in d.items())
    return struct.pack('>I', len(body)) + body


def encode_args(fmt, values):
    out = bytearray()
    values = list(values)
    assert len(values) == len(fmt), (fmt, values)
    bits, nbits = 0, 0
    for f, v in zip(fmt, values):
        if f != 'b' and nbits:
            out.append(bits)
            bits, nbits = 0, 0
        if f == 'b':
            if nbits == 8:
                out.append(bits)
                bits, nbits = 0, 0
            bits |= (1 if v else 0) << nbits
            nbits += 1
        elif f == 'o':
            out += struct.pack('>B', v)
        elif f == 's':
            out += struct.pack('>H', v)
        elif f == 'l':
            out += struct.pack('>I', v)
        elif f == 'L':
            out += struct.pack('>Q', v)
        elif f == 'S':
            out += shortstr(v)
        elif f == 'X':
            out += longstr(v)
        elif f == 'F':
            out += encode_table(v or {})
        else:
            raise ValueError(f)
    if nbits:
        out.append(bits)
    return bytes(out)


def frame(ftype, channel, payload):
    return struct.pack('>BHI', ftype, channel, len(payload)) + payload + bytes([FRAME_END])


def method_frame(channel, method, *args, raw_args=None):
    """A method frame; raw_args overrides the encoded arguments."""
    class_id, method_id = method
    if raw_args is None:
        raw_args = encode_args(ARGS[method], args) if method in ARGS else b''
    return frame(FRAME_METHOD, channel, struct.pack('>HH', class_id, method_id) + raw_args)


def header_frame(channel, body_size, flags=0, props=b'', class_id=60):
    return frame(FRAME_HEADER, channel,
                 struct.pack('>HHQH', class_id, 0, body_size, flags) + props)


def body_frame(channel, body):
    return frame(FRAME_BODY, channel, body)


def heartbeat_frame(channel=0):
    return frame(FRAME_HEARTBEAT, channel, b'')


# ---------------------------------------------------------------- decoding

class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ProtocolError('truncated: need %d at %d of %d' % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(size))[0]

    def shortstr(self):
        return self.take(self.unpack('>B')).decode('utf-8', 'replace')

    def longstr(self):
        return self.take(self.unpack('>I'))

    def table(self):
        sub = Reader(self.longstr())
        out = {}
        while sub.pos < len(sub.data):
            key = sub.shortstr()
            out[key] = sub.value()
        return out

    def array(self):
        sub = Reader(self.longstr())
        out = []
        while sub.pos < len(sub.data):
            out.append(sub.value())
        return out

    def value(self):
        t = self.take(1)
        simple = {b't': '>B', b'b': '>b', b'B': '>B', b's': '>h', b'u': '>H',
                  b'I': '>i', b'i': '>I', b'l': '>q', b'T': '>Q', b'f': '>f', b'd': '>d'}
        if t in simple:
            v = self.unpack(simple[t])
            return bool(v) if t == b't' else v
        if t == b'D':
            scale = self.unpack('>B')
            return (scale, self.unpack('>i'))
        if t == b'S':
            return self.longstr()
        if t == b'x':
            return self.longstr()
        if t == b'F':
            return self.table()
        if t == b'A':
            return self.array()
        if t == b'V':
            return None
        raise ProtocolError('unknown field type %r' % t)


def decode_args(fmt, data):
    r = Reader(data)
    out = []
    bits, nbits = 0, 8
    for f in fmt:
        if f == 'b':
            if nbits == 8:
                bits, nbits = r.unpack('>B'), 0
            out.append(bool(bits & (1 << nbits)))
            nbits += 1
            continue
        nbits = 8
        if f == 'o':
            out.append(r.unpack('>B'))
        elif f == 's':
            out.append(r.unpack('>H'))
        elif f == 'l':
            out.append(r.unpack('>I'))
        elif f == 'L':
            out.append(r.unpack('>Q'))
        elif f == 'S':
            out.append(r.shortstr())
        elif f == 'X':
            out.append(r.longstr())
        elif f == 'F':
            out.append(r.table())
    return out


class Frame:
    def __init__(self, ftype, channel, payload):
        self.type = ftype
        self.channel = channel
        self.payload = payload
        self.method = None
        self.args = None
        if ftype == FRAME_METHOD and len(payload) >= 4:
            self.method = struct.unpack('>HH', payload[:4])
            if self.method in ARGS:
                self.args = decode_args(ARGS[self.method], payload[4:])

    def __repr__(self):
        if self.method:
            return '<Frame method %r ch=%d args=%r>' % (self.method, self.channel, self.args)
        return '<Frame type=%d ch=%d len=%d>' % (self.type, self.channel, len(self.payload))


class Closed(Exception):
    """The broker closed the TCP connection."""


# ---------------------------------------------------------------- connection

class RawConnection:
    """A socket that speaks AMQP frames by hand; every step is explicit."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b''
        self.start_args = None
        self.tune_args = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def recv_some(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout('no data before deadline')
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b''
        if not data:
            raise Closed('connection closed by peer (buffered %r)' % self.buf[:64])
        self.buf += data

    def recv_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self.recv_some(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_until_closed(self, timeout=None):
        """Everything the broker sends until it closes the socket."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                self.recv_some(deadline)
            except Closed:
                out, self.buf = self.buf, b''
                return out

    def read_frame(self, timeout=None):
        hdr = self.recv_exact(7, timeout)
        ftype, channel, size = struct.unpack('>BHI', hdr)
        payload = self.recv_exact(size, timeout)
        end = self.recv_exact(1, timeout)
        if end[0] != FRAME_END:
            raise ProtocolError('bad frame end %r' % end)
        return Frame(ftype, channel, payload)

    def read_method(self, timeout=None, skip_heartbeats=True):
        while True:
            f = self.read_frame(timeout)
            if f.type == FRAME_HEARTBEAT and skip_heartbeats:
                continue
            return f

    def expect(self, method, channel=None, timeout=None):
        f = self.read_method(timeout)
        if f.method != method or (channel is not None and f.channel != channel):
            raise ProtocolError('expected %r on channel %r, got %r' % (method, channel, f))
        return f

    # -- handshake, one step at a time

    def send_header(self, header=PROTOCOL_HEADER):
        self.send(header)

    def read_start(self):
        f = self.expect(CONNECTION_START, 0)
        self.start_args = f.args
        return f

    def send_start_ok(self, user='guest', password='guest', mechanism='PLAIN',
                      client_properties=None):
        props = client_properties or {
            'product': 'warren-raw-test',
            'capabilities': {'authentication_failure_close': True,
                             'consumer_cancel_notify': True,
                             'basic.nack': True,
                             'connection.blocked': True,
                             'publisher_confirms': True},
        }
        response = b'\x00' + user.encode() + b'\x00' + password.encode()
        self.send(method_frame(0, CONNECTION_START_OK, props, mechanism, response, 'en_US'))

    def read_tune(self):
        f = self.expect(CONNECTION_TUNE, 0)
        self.tune_args = f.args
        return f

    def send_tune_ok(self, channel_max=None, frame_max=None, heartbeat=0):
        cm, fm, _hb = self.tune_args
        self.send(method_frame(0, CONNECTION_TUNE_OK,
                               cm if channel_max is None else channel_max,
                               fm if frame_max is None else frame_max,
                               heartbeat))

    def send_open(self, vhost='/'):
        self.send(method_frame(0, CONNECTION_OPEN, vhost, '', False))

    def handshake(self, vhost='/', heartbeat=0, frame_max=None, user='guest', password='guest'):
        """Header through open-ok; returns self."""
        self.send_header()
        self.read_start()
        self.send_start_ok(user, password)
        self.read_tune()
        self.send_tune_ok(frame_max=frame_max, heartbeat=heartbeat)
        self.send_open(vhost)
        self.expect(CONNECTION_OPEN_OK, 0)
        return self

    @property
    def frame_max(self):
        return self.tune_args[1]

    def open_channel(self, channel):
        self.send(method_frame(channel, CHANNEL_OPEN, ''))
        return self.expect(CHANNEL_OPEN_OK, channel)

    def expect_connection_close(self, timeout=None):
        """Read until connection.close; answer close-ok; return (code, text, class, method).

        Frames that arrive before the close (deliveries, heartbeats) are ignored.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            f = self.read_method(max(0.01, deadline - time.monotonic()))
            if f.method == CONNECTION_CLOSE:
                try:
                    self.send(method_frame(0, CONNECTION_CLOSE_OK))
                except OSError:
                    pass
                return tuple(f.args)

    def expect_channel_close(self, channel, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            f = self.read_method(max(0.01, deadline - time.monotonic()))
            if f.method == CONNECTION_CLOSE:
                raise ProtocolError('connection closed instead of channel: %r' % (f.args,))
            if f.method == CHANNEL_CLOSE and f.channel == channel:
                self.send(method_frame(channel, CHANNEL_CLOSE_OK))
                return tuple(f.args)

    def wait_closed(self, timeout=None):
        """True when the broker closes the socket within timeout."""
        try:
            self.read_until_closed(timeout)
            return True
        except (socket.timeout, TimeoutError):
            return False
