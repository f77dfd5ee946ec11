#!/usr/bin/python3
"""protocol_walk.py - a seeded, stateful random walk over AMQP methods.

The libFuzzer targets beside this file feed the codec's decoders; this one
drives the broker's state machine.  Several connections at once each make a
handshake (now and then a broken one), then take random steps: channels,
queue and exchange declare/bind/unbind/delete/purge, consume/cancel/get,
ack/nack/reject/recover, qos, confirms, transactions, publishes whose
header and body frames are split, interleaved with other channels' frames,
truncated, oversized or cut off by a close, and abrupt disconnects.  The
arguments come from small pools (a few queue and exchange names, routing
keys, consumer tags, delivery tags near the ones seen, real x- arguments:
TTLs, x-expires, length limits and overflow modes, dead-letter exchanges,
priorities, single active consumer, alternate exchanges, x-match), so most
steps mean something and the state gets deep.  It answers what the
protocol needs (close-ok to a close, heartbeats).

With the management API on (a port given to the broker, as BrokerProc
does), the session also makes a vhost (fz-v) and users (fz-u1 with
permissions on part of the names, fz-u2 read-only on fz-v); connections
log in as any of them into either vhost, and a walker step calls the API:
lists with random pagination, queue and binding declares and deletes,
publish and get, browse, users, permissions and vhosts made and deleted
(the walkers' own among them, now and then), connections closed, the
definitions exported and imported again, malformed bodies and bad
credentials.  No answer may be a 5xx, and a JSON answer must parse.

After each round it checks that the broker still runs, that its log has no
sanitizer report, that every connection still open answers a channel.open,
and that a fresh connection can declare, publish and get a message within a
few seconds.  Every few rounds the broker is restarted on the same data
directory (SIGTERM, or kill -9), must come back, and must have kept the
persistent messages of its plain durable queues.

With --tls, every connection the walk makes is TLS: the walkers' and the
checks' AMQP connections over amqps (--tls-port) and the API over https
(--management-tls-port, through the broker's TLS proxy), with a CA, a
server certificate and client certificates made at the start with the
openssl CLI (tests/tls/pki.py); the broker checks client certificates
(--tls-verify peer), walkers present one or none, and some log in with
EXTERNAL as their certificate's CN (guest, or alice, who does not exist).

Each session (a broker with a fresh data directory) is recorded as a trace
of the bytes each connection sent; when a check fails the trace is saved,
and --replay runs it again (--minimize shrinks it to the ops that still
make the check fail).

  protocol_walk.py --seed 1 --seconds 60 --connections 4
  protocol_walk.py --seconds 1800 --tls
  protocol_walk.py --replay build/walk/fail-1.json --minimize

Exit status: 0 every check passed, 1 a check failed, 2 bad usage.
Uses the stdlib and tests/interop/amqp_raw.py only.
"""
import argparse
import base64
import http.client
import json
import os
import random
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'interop'))

import amqp_raw as raw  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, 'tests', 'tls'))

SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'runtime error:', 'ERROR: LeakSanitizer')
PROBE_CHANNEL = 65535

# ------------------------------------------------------------------ methods

METHODS = {
    'connection.start-ok': ((10, 11), 'FSXS'),
    'connection.tune-ok': ((10, 31), 'sls'),
    'connection.open': ((10, 40), 'SSb'),
    'connection.close': ((10, 50), 'sSss'),
    'connection.close-ok': ((10, 51), ''),
    'channel.open': ((20, 10), 'S'),
    'channel.flow': ((20, 20), 'b'),
    'channel.flow-ok': ((20, 21), 'b'),
    'channel.close': ((20, 40), 'sSss'),
    'channel.close-ok': ((20, 41), ''),
    'access.request': ((30, 10), 'Sbbbbb'),
    'exchange.declare': ((40, 10), 'sSSbbbbbF'),
    'exchange.delete': ((40, 20), 'sSbb'),
    'exchange.bind': ((40, 30), 'sSSSbF'),
    'exchange.unbind': ((40, 40), 'sSSSbF'),
    'queue.declare': ((50, 10), 'sSbbbbbF'),
    'queue.bind': ((50, 20), 'sSSSbF'),
    'queue.purge': ((50, 30), 'sSb'),
    'queue.delete': ((50, 40), 'sSbbb'),
    'queue.unbind': ((50, 50), 'sSSSF'),
    'basic.qos': ((60, 10), 'lsb'),
    'basic.consume': ((60, 20), 'sSSbbbbF'),
    'basic.cancel': ((60, 30), 'Sb'),
    'basic.publish': ((60, 40), 'sSSbb'),
    'basic.get': ((60, 70), 'sSb'),
    'basic.ack': ((60, 80), 'Lb'),
    'basic.reject': ((60, 90), 'Lb'),
    'basic.recover-async': ((60, 100), 'b'),
    'basic.recover': ((60, 110), 'b'),
    'basic.nack': ((60, 120), 'Lbb'),
    'confirm.select': ((85, 10), 'b'),
    'tx.select': ((90, 10), ''),
    'tx.commit': ((90, 20), ''),
    'tx.rollback': ((90, 30), ''),
}


def method(ch, name, *args):
    mid, fmt = METHODS[name]
    return raw.method_frame(ch, mid, raw_args=raw.encode_args(fmt, args))


PROP_FIELDS = [('content_type', 'S'), ('content_encoding', 'S'), ('headers', 'F'), ('delivery_mode', 'o'),
               ('priority', 'o'), ('correlation_id', 'S'), ('reply_to', 'S'), ('expiration', 'S'),
               ('message_id', 'S'), ('timestamp', 'L'), ('type', 'S'), ('user_id', 'S'), ('app_id', 'S'),
               ('cluster_id', 'S')]


def encode_props(p):
    flags, out = 0, b''
    for i, (name, fmt) in enumerate(PROP_FIELDS):
        if name in p:
            flags |= 1 << (15 - i)
            out += raw.encode_args(fmt, [p[name]])
    return flags, out


def decode_props(payload):
    """The properties of a content header payload, as a dict (best effort)."""
    try:
        flags = struct.unpack('>H', payload[12:14])[0]
        r = raw.Reader(payload[14:])
        out = {}
        for i, (name, fmt) in enumerate(PROP_FIELDS):
            if flags & (1 << (15 - i)):
                if fmt == 'S':
                    out[name] = r.shortstr()
                elif fmt == 'F':
                    out[name] = r.table()
                elif fmt == 'o':
                    out[name] = r.unpack('>B')
                else:
                    out[name] = r.unpack('>Q')
        return out
    except Exception:
        return {}


# ---------------------------------------------------------------- the pools

# Each name has the declaration the walk mostly uses (so most declares
# succeed and the queues and exchanges exist); now and then it declares
# the name otherwise, which RabbitMQ's equivalence rules refuse or, when
# the name is free, make a queue of another shape under it.
#   name: (durable, exclusive, auto_delete, arguments)
QUEUE_DECLS = {
    'fz-q0': (False, False, False, {}),
    'fz-q1': (False, False, False, {'x-max-length': 3, 'x-dead-letter-exchange': 'fz-dlx'}),
    'fz-q2': (True, False, False, {'x-message-ttl': 40, 'x-dead-letter-exchange': 'fz-dlx',
                                   'x-dead-letter-routing-key': 'fz-dl'}),
    'fz-q3': (True, False, False, {'x-max-priority': 5, 'x-single-active-consumer': True}),
    'fz-rej': (True, False, False, {'x-max-length': 2, 'x-overflow': 'reject-publish-dlx',
                                    'x-dead-letter-exchange': 'fz-dlx'}),
    'fz-exp': (False, False, True, {'x-expires': 300, 'x-max-length-bytes': 5000}),
    'fz-excl': (False, True, False, {}),
    'fz-dl': (True, False, False, {'x-dead-letter-exchange': 'fz-topic'}),
    'fz-plain0': (True, False, False, {}),
    'fz-plain1': (True, False, False, {}),
}
QUEUES = sorted(QUEUE_DECLS)
PLAIN = ['fz-plain0', 'fz-plain1']      # durable, no arguments, when declared so
#   name: (type, durable, auto_delete, internal, arguments)
EXCHANGE_DECLS = {
    'fz-direct': ('direct', True, False, False, {'alternate-exchange': 'fz-ae'}),
    'fz-topic': ('topic', True, False, False, {}),
    'fz-fanout': ('fanout', False, False, False, {}),
    'fz-headers': ('headers', False, False, False, {}),
    'fz-dlx': ('fanout', True, False, False, {}),
    'fz-ae': ('fanout', True, False, False, {}),
    'fz-auto': ('topic', False, True, False, {}),
    'fz-int': ('direct', False, False, True, {}),
}
EXCHANGES = ['', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match'] + sorted(EXCHANGE_DECLS)
KEYS = ['', 'a', 'a.b', 'a.*', '#', '*.b.#'] + QUEUES
TAGS = ['', 'c0', 'c1', 'c2', 'amq.ctag-x']


def pick(rng, pool):
    return pool[rng.randrange(len(pool))]


def queue_args(rng):
    """A random table of the x- arguments a queue takes (sometimes bad ones)."""
    choices = {
        'x-message-ttl': [0, 1, 30, 200, 5000, 60000, -1, 'ten'],
        'x-expires': [1, 150, 3000, 600000, 0],
        'x-max-length': [0, 1, 2, 5, 100],
        'x-max-length-bytes': [0, 10, 2000, 100000],
        'x-overflow': ['drop-head', 'reject-publish', 'reject-publish-dlx', 'bogus'],
        'x-dead-letter-exchange': ['fz-dlx', '', 'fz-topic', 'fz-missing', 'amq.fanout'],
        'x-dead-letter-routing-key': ['fz-dl', 'fz-q0', 'a.b'],
        'x-max-priority': [1, 3, 10, 255, 0, 300],
        'x-single-active-consumer': [True, False, 1],
        'x-queue-type': ['classic', 'classic', 'quorum'],
        'x-queue-mode': ['lazy', 'default'],
    }
    args = {}
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4])):
        k = pick(rng, sorted(choices))
        args[k] = pick(rng, choices[k])
    return args


def exchange_args(rng):
    r = rng.random()
    if r < 0.6:
        return {}
    if r < 0.95:
        return {'alternate-exchange': pick(rng, ['fz-ae', 'amq.fanout', 'fz-missing', 'fz-topic'])}
    return {'alternate-exchange': 5}


def binding_args(rng):
    r = rng.random()
    if r < 0.5:
        return {}
    args = {'x-match': pick(rng, ['all', 'any', 'all-with-x', 'any-with-x', 'bogus'])} if r < 0.9 else {}
    for k in ('h1', 'h2'):
        if rng.random() < 0.5:
            args[k] = pick(rng, ['x', 'y', 1])
    return args


def message_props(rng):
    p = {}
    if rng.random() < 0.6:
        p['delivery_mode'] = pick(rng, [1, 2, 2])
    if rng.random() < 0.3:
        p['priority'] = rng.randrange(0, 13)
    if rng.random() < 0.2:
        p['expiration'] = pick(rng, ['0', '10', '100', '1000', '60000', 'bad', '-1'])
    if rng.random() < 0.3:
        h = {}
        if rng.random() < 0.5:
            h['h1'] = pick(rng, ['x', 'y', 1])
        if rng.random() < 0.3:
            h['CC'] = [pick(rng, KEYS)]
        if rng.random() < 0.2:
            h['BCC'] = [pick(rng, KEYS)]
        if rng.random() < 0.1:
            # a client may send its own x-death: dead-lettering reads it
            h['x-death'] = pick(rng, [
                [{'queue': pick(rng, QUEUES), 'reason': pick(rng, ['expired', 'rejected', 'maxlen']),
                  'count': pick(rng, [1, 7, 2 ** 63 - 1, -2 ** 63, 'x'])}],
                [{'queue': q, 'reason': r, 'count': pick(rng, [1, 2 ** 63 - 1])}
                 for q in QUEUES for r in ('expired', 'rejected', 'maxlen')],
                [{'queue': pick(rng, QUEUES)}, 'not a table', 5],
                'not an array'])
        p['headers'] = h
    if rng.random() < 0.05:
        p['user_id'] = pick(rng, ['guest', 'mallory'])
    return p


# ------------------------------------------------------------------- broker

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------- TLS

class Tls:
    """The walk's TLS side (--tls): certificates made once per run, the
    broker's options for them, and the client contexts (one presenting
    no certificate, one per client certificate)."""

    CLIENT_CERTS = ('guest', 'alice')

    def __init__(self, workdir, paths=None):
        import pki  # tests/tls/pki.py: the openssl CLI, no key committed
        self.paths = paths or pki.make_pki(os.path.join(workdir, 'pki'))
        self.contexts = {None: self.context(None)}
        for name in self.CLIENT_CERTS:
            self.contexts[name] = self.context(name)

    def context(self, cert):
        ctx = ssl.create_default_context(cafile=self.paths['ca'])
        if cert:
            ctx.load_cert_chain(self.paths[cert], self.paths[cert + '.key'])
        return ctx

    def broker_args(self, tls_port, https_port):
        return ['--tls-port', str(tls_port), '--tls-bind', '127.0.0.1', '--tls-cert', self.paths['server'],
                '--tls-key', self.paths['server.key'], '--tls-ca', self.paths['ca'], '--tls-verify', 'peer',
                '--management-tls-port', str(https_port)]

    def wrap(self, sock, cert=None):
        """The TLS handshake on a connected blocking socket (its timeout)."""
        try:
            return self.contexts[cert].wrap_socket(sock, server_hostname='localhost')
        except BaseException:
            sock.close()
            raise


TLS = None      # a Tls with --tls: every connection of the walk is TLS


def connect(port, timeout, cert=None):
    """A connected socket to the broker's AMQP port (amqps with --tls,
    presenting the client certificate `cert`)."""
    sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    return TLS.wrap(sock, cert) if TLS else sock


def raw_connection(port, timeout=5.0):
    """tests/interop/amqp_raw.py's RawConnection, over TLS with --tls."""
    c = raw.RawConnection('127.0.0.1', port, timeout=timeout)
    if TLS:
        c.sock = TLS.wrap(c.sock, 'guest')
    return c


class BrokerProc:
    """A warren process on its own port and data directory; logs to a file.
    With --tls, .port and .mgmt_port are the amqps and https ports (what
    the walk uses), the plain ones are .plain_port and .plain_mgmt_port."""

    def __init__(self, binary, workdir, extra=()):
        self.binary = binary
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, 'data')
        self.port = free_port()
        self.mgmt_port = free_port()
        self.plain_port, self.plain_mgmt_port = self.port, self.mgmt_port
        self.extra = list(extra)
        if TLS:
            self.plain_port, self.plain_mgmt_port = free_port(), free_port()
            self.extra = TLS.broker_args(self.port, self.mgmt_port) + self.extra
        self.proc = None
        self.logs = []
        self.problems = []

    def start(self, timeout=20):
        """Start; a port taken meanwhile (free_port's ports are ephemeral
        ones, which any client socket of this machine may be given between
        two starts) is retried on fresh ports: a port the broker is told
        to use and cannot is the harness's problem, not a finding."""
        for _ in range(5):
            why = self.start_once(timeout)
            if not why or 'at start' not in why or 'Address already in use' not in self.log_text_last():
                return why
            self.port, self.mgmt_port = free_port(), free_port()
            if TLS:
                self.extra = TLS.broker_args(self.port, self.mgmt_port) + self.extra[len(TLS.broker_args(0, 0)):]
                self.plain_port, self.plain_mgmt_port = free_port(), free_port()
            else:
                self.plain_port, self.plain_mgmt_port = self.port, self.mgmt_port
        return why

    def log_text_last(self):
        try:
            with open(self.logs[-1], errors='replace') as f:
                return f.read()
        except (OSError, IndexError):
            return ''

    def start_once(self, timeout):
        log = os.path.join(self.workdir, 'broker-%d.log' % len(self.logs))
        self.logs.append(log)
        env = dict(os.environ)
        env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0')
        env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1')
        cmd = [self.binary, '--bind', '127.0.0.1', '--port', str(self.plain_port), '--data-dir', self.data_dir,
               '--log-level', 'info', '--management-port', str(self.plain_mgmt_port), '--management-bind', '127.0.0.1',
               '--prometheus-port', '0'] + self.extra
        with open(log, 'w') as f:
            self.proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return 'broker exited with %s at start' % self.proc.returncode
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5), \
                        socket.create_connection(('127.0.0.1', self.mgmt_port), timeout=0.5):
                    return None
            except OSError:
                time.sleep(0.02)
        return 'broker did not listen within %ss of starting' % timeout

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def exit_status(self):
        return 'exit %s' % (self.proc.returncode if self.proc else 'unknown')

    def stop(self, timeout=20):
        """SIGTERM; returns a problem string or None."""
        if not self.proc:
            return None
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self.proc = None
            return 'broker had exited with %s' % rc
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            return 'broker did not stop within %ss of SIGTERM' % timeout
        self.proc = None
        return None if rc == 0 else 'broker exited with %s after SIGTERM' % rc

    def kill(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def log_text(self):
        out = []
        for p in self.logs:
            try:
                with open(p, errors='replace') as f:
                    out.append(f.read())
            except OSError:
                pass
        return '\n'.join(out)

    def sanitizer_report(self):
        text = self.log_text()
        for mark in SANITIZER_MARKS:
            i = text.find(mark)
            if i >= 0:
                i = text.rfind('\n', 0, i) + 1
                return text[i:i + 6000] + '\n--- log before it:\n' + text[max(0, i - 1500):i]
        return None


# --------------------------------------------------------------------- links

class Link:
    """A non-blocking socket with an output queue and a frame parser."""

    def __init__(self, port, cert=None):
        self.sock = connect(port, 2, cert)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.inbuf = b''
        self.out = b''
        self.eof = False
        self.header_seen = False    # the broker's protocol header back (a refused header)
        self.opened = False         # connection.open-ok seen
        self.closed_by_peer = False  # connection.close seen

    def send(self, data):
        if not self.eof:
            self.out += data
            self.flush()

    def flush(self):
        while self.out and not self.eof:
            try:
                n = self.sock.send(self.out)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except OSError:
                self.eof = True
                return
            self.out = self.out[n:]

    def fileno(self):
        return self.sock.fileno()

    def read(self):
        """Take what the socket has; returns the complete frames."""
        frames = []
        while not self.eof:
            try:
                data = self.sock.recv(262144)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except OSError:
                self.eof = True
                break
            if not data:
                self.eof = True
                break
            self.inbuf += data
        while True:
            if self.inbuf[:4] == b'AMQP' and len(self.inbuf) >= 8:
                self.header_seen = True
                self.inbuf = self.inbuf[8:]
                continue
            if len(self.inbuf) < 7:
                break
            ftype, ch, size = struct.unpack('>BHI', self.inbuf[:7])
            if len(self.inbuf) < 8 + size:
                break
            payload = self.inbuf[7:7 + size]
            self.inbuf = self.inbuf[8 + size:]
            try:
                f = raw.Frame(ftype, ch, payload)
            except Exception:
                f = raw.Frame(ftype, ch, b'')
            if f.method == raw.CONNECTION_OPEN_OK:
                self.opened = True
            if f.method == raw.CONNECTION_CLOSE:
                self.closed_by_peer = True
            frames.append(f)
        return frames

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.eof = True

    @property
    def live(self):
        return self.opened and not self.closed_by_peer and not self.eof


# -------------------------------------------------------------------- trace

class Trace:
    """The session as ops: what each connection sent, when it connected,
    closed, paused, and when the broker was checked or restarted."""

    def __init__(self):
        self.ops = []
        self.t0 = time.monotonic()

    def add(self, op, **kw):
        kw['op'] = op
        kw['t'] = round(time.monotonic() - self.t0, 4)   # replay keeps the pace (TTLs)
        self.ops.append(kw)

    def save(self, path, meta):
        with open(path, 'w') as f:
            json.dump({'meta': meta, 'ops': self.ops}, f, indent=0)


# ------------------------------------------------------------------- walker

class Chan:
    def __init__(self, n):
        self.n = n
        self.confirm = False
        self.tx = False
        self.max_tag = 0
        self.tags = []          # delivery tags seen, not yet settled by us
        self.consumers = []
        self.pending = []       # content frames still to send


class Walker:
    """One client: a connection at a time, a random walk of steps."""

    def __init__(self, session, idx, rng):
        self.s = session
        self.idx = idx
        self.rng = rng
        self.cid = None         # the trace's id of the current connection
        self.link = None
        self.cert = None        # the client certificate it presents (--tls)
        self.state = 'none'     # none, handshake, open
        self.chans = {}
        self.frame_max = 131072
        self.heartbeat = 0
        self.last_hb = 0.0
        self.steps = 0
        self.published = 0

    def next_id(self):
        """A message id no other publish of the session has."""
        self.published += 1
        return 'w%d-%d' % (self.idx, self.published)

    # -- sending, through the trace

    def send(self, data, what):
        self.s.trace.add('send', c=self.cid, what=what, hex=data.hex())
        self.link.send(data)

    def m(self, ch, name, *args, what=None):
        self.send(method(ch, name, *args), what or '%s ch=%d %r' % (name, ch, args[1:] if args else ()))

    # -- connection lifecycle

    def connect(self):
        self.cid = self.s.new_cid()
        # over TLS: a client certificate or none (the broker asks for one)
        self.cert = pick(self.rng, [None] + list(Tls.CLIENT_CERTS)) if TLS else None
        try:
            self.link = Link(self.s.broker.port, self.cert)
        except OSError as e:
            self.s.note('connect failed: %s' % e)
            self.link = None
            self.state = 'none'
            return
        self.s.trace.add('connect', c=self.cid, cert=self.cert)
        self.s.links[self.cid] = self.link
        self.chans = {}
        self.state = 'handshake'
        self.handshake()

    def drop(self):
        if self.link:
            self.s.trace.add('close', c=self.cid)
            self.link.close()
        self.link = None
        self.state = 'none'
        self.chans = {}

    def handshake(self):
        """Header, start-ok, tune-ok, open sent at once (the broker answers
        in order); one time in ten something is wrong with it."""
        rng = self.rng
        bad = rng.random() < 0.08
        kind = rng.randrange(9) if bad else -1
        if kind == 0:
            self.send(pick(rng, [b'AMQP\x00\x00\x08\x00', b'GET / HTTP/1.1\r\n\r\n', b'AMQP\x01\x01\x00\x0a']),
                      'bad protocol header')
            return
        self.send(raw.PROTOCOL_HEADER, 'protocol header')
        if kind == 1:
            self.drop()
            return
        user, password = 'guest', 'guest'
        if self.s.api_port and rng.random() < 0.3:
            user, password = pick(rng, WALK_USERS)
        if kind == 2:
            password = 'wrong'
        caps = {'authentication_failure_close': rng.random() < 0.8, 'consumer_cancel_notify': rng.random() < 0.8,
                'basic.nack': True, 'connection.blocked': True, 'publisher_confirms': True}
        resp = b'\x00' + user.encode() + b'\x00' + password.encode()
        mech = 'PLAIN'
        if self.cert and kind != 2 and rng.random() < 0.4:
            # the certificate's CN: guest logs in, alice is no user (refused)
            mech, resp = 'EXTERNAL', b''
        if kind == 3:
            mech, resp = pick(rng, [('AMQPLAIN', b'\x05LOGINS'), ('EXTERNAL', b''), ('PLAIN', b'guest')])
        self.send(method(0, 'connection.start-ok', {'product': 'protocol_walk', 'capabilities': caps}, mech,
                         resp, 'en_US'), 'start-ok %s' % mech)
        self.frame_max = pick(rng, [4096, 8192, 131072, 131072])
        channel_max = pick(rng, [0, 2047, 2047, 8]) if kind == 4 else pick(rng, [2047, 2047, 16, 3])
        self.heartbeat = pick(rng, [0, 0, 0, 0, 1, 3])
        if kind == 5:
            self.send(raw.frame(1, 0, b'\x00' * 5000), 'oversized frame before tune-ok')
        fm = self.frame_max if kind != 6 else pick(rng, [1024, 0, 200000])
        self.send(method(0, 'connection.tune-ok', channel_max, fm, self.heartbeat),
                  'tune-ok cm=%d fm=%d hb=%d' % (channel_max, fm, self.heartbeat))
        if kind == 7:
            self.m(1, 'channel.open', '', what='channel.open before connection.open')
        vhost = '/' if kind != 8 else pick(rng, ['/x', ''])
        if self.s.api_port and kind != 8 and rng.random() < 0.3:
            vhost = WALK_VHOST
        self.send(method(0, 'connection.open', vhost, '', False), 'connection.open %r' % vhost)
        self.last_hb = time.monotonic()
        self.state = 'open'

    # -- what the broker says

    def on_frame(self, f):
        self.s.count_frame(f)
        if f.type == raw.FRAME_METHOD and f.method:
            if f.method == raw.CONNECTION_CLOSE:
                self.send(method(0, 'connection.close-ok'), 'connection.close-ok (answer)')
                self.link.flush()
                self.drop()
                return
            if f.method == raw.CONNECTION_CLOSE_OK:
                self.drop()
                return
            ch = self.chans.get(f.channel)
            if f.method == raw.CHANNEL_CLOSE:
                self.m(f.channel, 'channel.close-ok', what='channel.close-ok ch=%d (answer)' % f.channel)
                self.chans.pop(f.channel, None)
            elif f.method == raw.CHANNEL_CLOSE_OK:
                self.chans.pop(f.channel, None)
            elif f.method in (raw.BASIC_DELIVER, raw.BASIC_GET_OK) and ch and f.args:
                tag = f.args[1] if f.method == raw.BASIC_DELIVER else f.args[0]
                ch.max_tag = max(ch.max_tag, tag)
                ch.tags.append(tag)
                if len(ch.tags) > 64:
                    ch.tags = ch.tags[-64:]
            elif f.method == raw.QUEUE_DECLARE_OK and f.args and f.args[0].startswith('amq.gen-'):
                if f.args[0] not in self.s.server_named:
                    self.s.server_named.append(f.args[0])
                    del self.s.server_named[:-8]
            elif f.method == raw.BASIC_CONSUME_OK and ch and f.args:
                if f.args[0] not in ch.consumers:
                    ch.consumers.append(f.args[0])

    # -- one step

    def step(self):
        self.steps += 1
        if self.state == 'none':
            self.connect()
            return
        if self.link is None or self.link.eof:
            self.drop()
            return
        if self.heartbeat and time.monotonic() - self.last_hb > self.heartbeat / 2:
            self.send(raw.heartbeat_frame(), 'heartbeat')
            self.last_hb = time.monotonic()
        if self.link.out and len(self.link.out) > 1 << 20:
            return  # the broker is not reading us: wait
        rng = self.rng
        # content frames owed on a channel go first, mostly
        owing = [c for c in self.chans.values() if c.pending]
        if owing and rng.random() < 0.8:
            c = pick(rng, owing)
            k = rng.randrange(1, 4)
            data, c.pending = c.pending[:k], c.pending[k:]
            self.send(b''.join(data), 'content frames ch=%d (%d)' % (c.n, len(data)))
            return
        if not self.chans or rng.random() < 0.04:
            return self.open_channel()
        action = rng.choices(ACTIONS, weights=WEIGHTS)[0]
        action(self)

    # -- helpers for the actions

    def chan(self):
        """An open channel, mostly one not in the middle of a content; now
        and then one that is, or a number never opened."""
        rng = self.rng
        if rng.random() < 0.002:
            return Chan(rng.choice([0, 7, 300, 65534]))
        chans = sorted(self.chans.values(), key=lambda c: c.n)
        free = [c for c in chans if not c.pending]
        if free and rng.random() < 0.97:
            return pick(rng, free)
        return pick(rng, chans)

    def chan_rng(self):
        return self.rng, self.chan()

    def open_channel(self):
        rng = self.rng
        n = rng.choice([1, 2, 3, 4, 5, rng.randrange(1, 65535)])
        if n in self.chans and rng.random() < 0.9:
            return
        self.m(n, 'channel.open', '')
        self.chans[n] = Chan(n)

    def qname(self):
        r = self.rng.random()
        if r < 0.03:
            return ''
        if r < 0.04:
            return 'amq.gen-fz'
        if r < 0.06 and self.s.server_named:
            return pick(self.rng, self.s.server_named)
        return pick(self.rng, QUEUES)

    def tag_for(self, ch):
        rng = self.rng
        r = rng.random()
        if ch.tags and r < 0.85:
            return pick(rng, ch.tags)
        if r < 0.9:
            return ch.max_tag
        if r < 0.97:
            return ch.max_tag + rng.randrange(1, 4)
        return pick(rng, [0, 1, 2 ** 63, 2 ** 64 - 1])


# ------------------------------------------------------------------ actions

def a_queue_declare(w):
    rng, ch = w.chan_rng()
    name = w.qname()
    nowait = rng.random() < 0.1
    if name in QUEUE_DECLS and rng.random() < 0.8:
        durable, exclusive, auto_delete, args = QUEUE_DECLS[name]
        w.m(ch.n, 'queue.declare', 0, name, False, durable, exclusive, auto_delete, nowait, args)
    else:
        w.m(ch.n, 'queue.declare', 0, name, rng.random() < 0.1, rng.random() < 0.4, rng.random() < 0.2,
            rng.random() < 0.2, nowait, queue_args(rng))
    if rng.random() < 0.5:
        # and bind it where the walk publishes
        x = pick(rng, EXCHANGES[1:])
        w.m(ch.n, 'queue.bind', 0, name, x, pick(rng, KEYS), False, binding_args(rng) if 'head' in x or
            'match' in x else {})


def a_queue_delete(w):
    rng, ch = w.chan_rng()
    w.m(ch.n, 'queue.delete', 0, w.qname(), rng.random() < 0.3, rng.random() < 0.3, rng.random() < 0.1)


def a_queue_purge(w):
    ch = w.chan()
    w.m(ch.n, 'queue.purge', 0, w.qname(), w.rng.random() < 0.1)


def a_queue_bind(w):
    rng, ch = w.chan_rng()
    x = pick(rng, EXCHANGES)
    name = 'queue.bind' if rng.random() < 0.75 else 'queue.unbind'
    if name == 'queue.bind':
        w.m(ch.n, name, 0, w.qname(), x, pick(rng, KEYS), rng.random() < 0.1, binding_args(rng))
    else:
        w.m(ch.n, name, 0, w.qname(), x, pick(rng, KEYS), binding_args(rng))


def a_exchange_declare(w):
    rng, ch = w.chan_rng()
    x = pick(rng, sorted(EXCHANGE_DECLS) + ['amq.fz', 'amq.direct'])
    if x in EXCHANGE_DECLS and rng.random() < 0.8:
        t, durable, auto_delete, internal, args = EXCHANGE_DECLS[x]
        w.m(ch.n, 'exchange.declare', 0, x, t, False, durable, auto_delete, internal, rng.random() < 0.1, args)
        return
    t = pick(rng, ['direct', 'fanout', 'topic', 'headers', 'x-bogus', '', 'queue'])
    w.m(ch.n, 'exchange.declare', 0, x, t, rng.random() < 0.1, rng.random() < 0.5, rng.random() < 0.15,
        rng.random() < 0.05, rng.random() < 0.1, exchange_args(rng))


def a_exchange_delete(w):
    rng, ch = w.chan_rng()
    w.m(ch.n, 'exchange.delete', 0, pick(rng, EXCHANGES), rng.random() < 0.3, rng.random() < 0.1)


def a_exchange_bind(w):
    rng, ch = w.chan_rng()
    name = 'exchange.bind' if rng.random() < 0.75 else 'exchange.unbind'
    w.m(ch.n, name, 0, pick(rng, EXCHANGES), pick(rng, EXCHANGES), pick(rng, KEYS), rng.random() < 0.1,
        binding_args(rng))


def a_qos(w):
    rng, ch = w.chan_rng()
    w.m(ch.n, 'basic.qos', 0 if rng.random() < 0.97 else 10, pick(rng, [0, 1, 2, 3, 10, 65535]),
        rng.random() < 0.4)


def a_consume(w):
    rng, ch = w.chan_rng()
    args = {}
    if rng.random() < 0.2:
        args['x-priority'] = pick(rng, [-1, 0, 5, 'x'])
    if rng.random() < 0.03:
        args['x-cancel-on-ha-failover'] = pick(rng, [True, 1])
    tag = pick(rng, TAGS)
    w.m(ch.n, 'basic.consume', 0, w.qname(), tag, False, rng.random() < 0.3, rng.random() < 0.1,
        rng.random() < 0.1, args)
    if tag and tag not in ch.consumers:
        ch.consumers.append(tag)


def a_cancel(w):
    rng, ch = w.chan_rng()
    tag = pick(rng, ch.consumers) if ch.consumers and rng.random() < 0.8 else pick(rng, TAGS)
    w.m(ch.n, 'basic.cancel', tag, rng.random() < 0.2)
    if tag in ch.consumers:
        ch.consumers.remove(tag)


def a_get(w):
    rng, ch = w.chan_rng()
    w.m(ch.n, 'basic.get', 0, w.qname(), rng.random() < 0.3)


def a_ack(w):
    rng, ch = w.chan_rng()
    if not ch.tags and rng.random() < 0.9:
        return a_get(w) if rng.random() < 0.5 else a_consume(w)
    tag = w.tag_for(ch)
    r = rng.random()
    multiple = rng.random() < 0.25
    if r < 0.55:
        w.m(ch.n, 'basic.ack', tag, multiple)
    elif r < 0.8:
        w.m(ch.n, 'basic.nack', tag, multiple, rng.random() < 0.5)
    else:
        w.m(ch.n, 'basic.reject', tag, rng.random() < 0.5)
    if tag in ch.tags and not (r >= 0.55 and rng.random() < 0.3):
        ch.tags.remove(tag)


def a_recover(w):
    rng, ch = w.chan_rng()
    if rng.random() < 0.5:
        w.m(ch.n, 'basic.recover', rng.random() < 0.9)
    else:
        w.m(ch.n, 'basic.recover-async', rng.random() < 0.9)


def a_confirm(w):
    rng, ch = w.chan_rng()
    w.m(ch.n, 'confirm.select', rng.random() < 0.2)
    ch.confirm = True


def a_tx(w):
    rng, ch = w.chan_rng()
    r = rng.random()
    if not ch.tx or r < 0.15:
        w.m(ch.n, 'tx.select')
        ch.tx = True
    elif r < 0.7:
        w.m(ch.n, 'tx.commit')
    else:
        w.m(ch.n, 'tx.rollback')


def a_flow(w):
    ch = w.chan()
    w.m(ch.n, 'channel.flow', w.rng.random() < 0.9)


def a_channel_close(w):
    rng, ch = w.chan_rng()
    w.m(ch.n, 'channel.close', 200, 'bye', 0, 0)
    w.chans.pop(ch.n, None)
    if rng.random() < 0.2:
        # reuse the number at once: the close-ok may still be on its way
        w.m(ch.n, 'channel.open', '', what='channel.open ch=%d right after close' % ch.n)
        w.chans[ch.n] = Chan(ch.n)


def a_connection_close(w):
    rng = w.rng
    if rng.random() < 0.5:
        w.m(0, 'connection.close', 200, 'bye', 0, 0)
        w.link.flush()
        if rng.random() < 0.5:
            w.s.trace.add('pause', ms=20)
            w.s.pump(0.02)
    w.drop()


def a_publish(w):
    rng, ch = w.chan_rng()
    r = rng.random()
    if r < 0.3:
        x, key = '', pick(rng, QUEUES)      # straight to a queue
    else:
        x = pick(rng, EXCHANGES) if r < 0.97 else pick(rng, ['fz-missing', 'amq.rabbitmq.trace'])
        key = pick(rng, KEYS)
    mandatory = rng.random() < 0.2
    immediate = rng.random() < 0.002
    props = message_props(rng)
    props['message_id'] = w.next_id()
    flags, props = encode_props(props)
    size = rng.choice([0, 1, 10, 100, 100, 1000, 5000, w.frame_max - 8, w.frame_max * 2 + 3, 300000])
    body = bytes([rng.randrange(256)]) * size
    frames = [method(ch.n, 'basic.publish', 0, x, key, mandatory, immediate)]
    r = rng.random()
    chunk = w.frame_max - 8
    if r < 0.01:
        # a header of another class, or one that says more than comes
        frames.append(raw.header_frame(ch.n, size, flags, props, class_id=pick(rng, [50, 60])))
        frames.append(raw.body_frame(ch.n, body[:max(0, size - 1)]))
    elif r < 0.015:
        # body frame bigger than frame_max
        frames.append(raw.header_frame(ch.n, size + chunk + 1, flags, props))
        frames.append(raw.body_frame(ch.n, b'x' * (chunk + 1)))
    elif r < 0.025:
        # more body than announced
        frames.append(raw.header_frame(ch.n, size, flags, props))
        frames.append(raw.body_frame(ch.n, body + b'extra'))
    elif r < 0.03:
        # no header at all: the body or another method comes instead
        frames.append(raw.body_frame(ch.n, body[:10]) if rng.random() < 0.5 else method(ch.n, 'basic.qos', 0, 1, False))
    else:
        frames.append(raw.header_frame(ch.n, size, flags, props))
        step = rng.choice([chunk, chunk, max(1, chunk // 3), 1000])
        for i in range(0, size, step):
            frames.append(raw.body_frame(ch.n, body[i:i + step]))
    r = rng.random()
    if r < 0.8 or len(frames) == 1:
        w.send(b''.join(frames), 'publish ch=%d x=%r rk=%r size=%d frames=%d' % (ch.n, x, key, size, len(frames)))
    elif r < 0.99:
        # the rest goes out in later steps, interleaved with other frames
        k = rng.randrange(1, len(frames))
        w.send(b''.join(frames[:k]), 'publish (first %d of %d frames) ch=%d x=%r rk=%r size=%d' % (
            k, len(frames), ch.n, x, key, size))
        ch.pending = frames[k:]
    else:
        # cut short: what follows is whatever the walk does next
        k = rng.randrange(1, len(frames))
        w.send(b''.join(frames[:k]), 'publish cut after %d of %d frames ch=%d size=%d' % (k, len(frames), ch.n,
                                                                                          size))


def a_burst(w):
    """Many small messages at once: a backlog past the queue's in-memory
    head, so deliveries come back from the store."""
    rng, ch = w.chan_rng()
    q = pick(rng, QUEUES)
    n = pick(rng, [50, 300, 1200])
    persistent = rng.random() < 0.8
    frames = []
    for _ in range(n):
        flags, props = encode_props({'delivery_mode': 2 if persistent else 1, 'message_id': w.next_id()})
        frames.append(method(ch.n, 'basic.publish', 0, '', q, False, False) +
                      raw.header_frame(ch.n, 16, flags, props) + raw.body_frame(ch.n, b'b' * 16))
    w.send(b''.join(frames), 'burst of %d to %s ch=%d persistent=%s' % (n, q, ch.n, persistent))


def a_garbage(w):
    """A frame the broker must refuse."""
    rng, ch = w.chan_rng()
    r = rng.randrange(7)
    if r == 0:
        data = raw.frame(9, ch.n, b'abc')
    elif r == 1:
        data = raw.frame(1, ch.n, b'\x00\x3c')                 # method id cut
    elif r == 2:
        data = raw.frame(1, ch.n, struct.pack('>HH', 60, 999))  # unknown method
    elif r == 3:
        data = raw.frame(1, ch.n, struct.pack('>HH', 50, 10) + b'\x00')  # truncated args
    elif r == 4:
        data = raw.frame(8, ch.n, b'')                           # heartbeat on a channel
    elif r == 5:
        data = method(ch.n, 'basic.ack', 1, False)[:-1] + b'\x00'  # bad frame end
    else:
        data = raw.frame(1, ch.n, b'\x00' * (w.frame_max + 1))   # too big
    w.send(data, 'garbage %d ch=%d' % (r, ch.n))


def a_wait(w):
    ms = pick(w.rng, [1, 5, 20, 60])
    w.s.trace.add('pause', ms=ms)
    w.s.pump(ms / 1000.0)


def a_access(w):
    ch = w.chan()
    w.m(ch.n, 'access.request', '/data', False, False, True, True, True)


# ---------------------------------------------------------- the HTTP API

WALK_VHOST = 'fz-v'
WALK_USERS = [('fz-u1', 'p1'), ('fz-u2', 'p2')]


def api_setup(s):
    """The session's vhost and users, made through the API at its start
    (kept in the data directory: they come back after each restart)."""
    s.api('PUT', '/api/vhosts/' + WALK_VHOST, {'description': 'protocol walk'})
    s.api('PUT', '/api/users/fz-u1', {'password': 'p1', 'tags': 'management'})
    s.api('PUT', '/api/users/fz-u2', {'password': 'p2', 'tags': ''})
    for vh in ('%2F', WALK_VHOST):
        s.api('PUT', '/api/permissions/%s/guest' % vh, {'configure': '.*', 'write': '.*', 'read': '.*'})
        s.api('PUT', '/api/permissions/%s/fz-u1' % vh, {'configure': '^fz-(q|plain|dl)', 'write': '.*', 'read': '.*'})
    s.api('PUT', '/api/permissions/%s/fz-u2' % WALK_VHOST, {'configure': '', 'write': '', 'read': '.*'})


def a_api(w):
    """One call of the management API, mostly meaningful."""
    s, rng = w.s, w.rng
    if not s.api_port:
        return
    vh = pick(rng, ['%2F', '%2F', '%2F', WALK_VHOST, 'fz-gone'])
    q = w.qname() or 'fz-q0'
    x = pick(rng, EXCHANGES) or 'amq.default'
    r = rng.randrange(16)
    if r == 0:
        s.api('GET', pick(rng, ['/api/overview', '/api/whoami', '/api/nodes', '/api/health/checks/alarms',
                                '/api/channels', '/api/consumers', '/api/exchanges/' + vh, '/api/bindings/' + vh,
                                '/api/vhosts', '/api/users', '/api/permissions', '/api/aliveness-test/' + vh]))
    elif r == 1:
        query = []
        if rng.random() < 0.7:
            query += ['page=%s' % pick(rng, ['1', '2', '0', '-1', 'x', '99']),
                      'page_size=%s' % pick(rng, ['1', '5', '100', '500', '501', '0'])]
        if rng.random() < 0.5:
            query += ['name=%s' % pick(rng, ['fz', 'fz-q.*', '%5B', '(', 'plain']),
                      'use_regex=%s' % pick(rng, ['true', 'false', 'maybe'])]
        if rng.random() < 0.5:
            query += ['sort=%s' % pick(rng, ['name', 'messages', 'consumers', 'nope', 'message_stats.publish']),
                      'sort_reverse=%s' % pick(rng, ['true', 'false'])]
        path = pick(rng, ['/api/queues/', '/api/exchanges/', '/api/connections', '/api/channels'])
        path += vh if path.endswith('/') else ''
        s.api('GET', path + ('?' + '&'.join(query) if query else ''))
    elif r == 2:
        durable, _excl, auto_delete, args = QUEUE_DECLS.get(q, (True, False, False, {}))
        if rng.random() < 0.3:
            durable, args = rng.random() < 0.5, queue_args(rng)
        s.api('PUT', '/api/queues/%s/%s' % (vh, q), {'durable': durable, 'auto_delete': auto_delete,
                                                      'arguments': args})
    elif r == 3:
        s.api('DELETE', '/api/queues/%s/%s%s' % (vh, q, pick(rng, ['', '?if-unused=true', '?if-empty=true'])))
    elif r == 4:
        props = {k: v for k, v in message_props(rng).items() if k != 'headers'}
        props['message_id'] = w.next_id()
        s.api('POST', '/api/exchanges/%s/%s/publish' % (vh, x),
              {'routing_key': pick(rng, KEYS), 'properties': props, 'payload': pick(rng, ['', 'x' * 100, 'aGk=']),
               'payload_encoding': pick(rng, ['string', 'base64', 'base64', 'rot13'])})
    elif r == 5:
        s.api('POST', '/api/queues/%s/%s/get' % (vh, q),
              {'count': pick(rng, [1, 3, 50, 0, -1]),
               'ackmode': pick(rng, ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true',
                                     'reject_requeue_false', 'bogus']),
               'encoding': pick(rng, ['auto', 'base64', 'hex']), 'truncate': pick(rng, [5, 50000, 0])})
    elif r == 6:
        dest = pick(rng, ['q/' + q, 'e/' + (pick(rng, EXCHANGES) or 'amq.default')])
        if rng.random() < 0.7:
            s.api('POST', '/api/bindings/%s/e/%s/%s' % (vh, x, dest),
                  {'routing_key': pick(rng, KEYS), 'arguments': binding_args(rng)})
        else:
            s.api('DELETE', '/api/bindings/%s/e/%s/%s/%s' % (vh, x, dest, pick(rng, ['~', 'a', '%7E'])))
    elif r == 7:
        status, body = s.api('GET', '/api/connections')
        names = [c.get('name') for c in body] if status == 200 and isinstance(body, list) else []
        if names and rng.random() < 0.5:
            from urllib.parse import quote
            s.api('DELETE', '/api/connections/' + quote(pick(rng, names), safe=''),
                  headers={'X-Reason': 'protocol walk'})
    elif r == 8:
        user = pick(rng, ['fz-u3', 'fz-u3', 'fz-u2'])
        if rng.random() < 0.6:
            s.api('PUT', '/api/users/' + user, {'password': 'p2' if user == 'fz-u2' else 'p3',
                                                'tags': pick(rng, ['', 'management', 'administrator,monitoring'])})
        else:
            s.api('DELETE', '/api/users/' + user)
    elif r == 9:
        user = pick(rng, ['fz-u2', 'fz-u3', 'nobody'])
        if rng.random() < 0.7:
            s.api('PUT', '/api/permissions/%s/%s' % (vh, user),
                  {k: pick(rng, ['.*', '', '^fz-q', '[', 'fz-(plain|q0)']) for k in ('configure', 'write', 'read')})
        else:
            s.api('DELETE', '/api/permissions/%s/%s' % (vh, user))
    elif r == 10:
        if rng.random() < 0.1:
            # the walkers' own vhost: its connections are closed, and it comes back
            s.api('DELETE', '/api/vhosts/' + WALK_VHOST)
            api_setup(s)
        else:
            s.api(pick(rng, ['PUT', 'DELETE']), '/api/vhosts/fz-v2')
    elif r == 11:
        status, body = s.api('GET', '/api/definitions')
        if status == 200 and isinstance(body, dict):
            s.api('POST', '/api/definitions', body)
    elif r == 12:
        s.api('GET', '/api/queues/%s/%s/messages?state=%s' % (vh, q, pick(rng, ['ready', 'unacked', 'all', 'x'])))
    elif r == 13:
        # what a broken client sends
        s.api(pick(rng, ['PUT', 'POST']), pick(rng, ['/api/queues/%2F/fz-q0', '/api/definitions',
                                                    '/api/users/fz-u3', '/api/exchanges/%2F/amq.direct/publish']),
              raw_body=pick(rng, [b'{', b'[]', b'{"durable": "yes"}', b'\xff\xfe', b'{"a":' * 50, b'null']))
    elif r == 14:
        s.api('GET', '/api/overview', auth=pick(rng, [('guest', 'wrong'), ('fz-u2', 'p2'), ('fz-u1', 'p1'),
                                                      ('nobody', 'x'), None]))
    else:
        s.api('PUT', '/api/exchanges/%s/%s' % (vh, pick(rng, sorted(EXCHANGE_DECLS))),
              {'type': pick(rng, ['direct', 'topic', 'fanout', 'headers', 'x-nope']), 'durable': rng.random() < 0.5,
               'auto_delete': False, 'internal': False, 'arguments': exchange_args(rng)})


def api_request(port, method_, path, body=None, raw_body=None, auth=('guest', 'guest'), headers=None,
                timeout=10.0):
    """One HTTP request: (status, parsed JSON or None, raw bytes)."""
    h = dict(headers or {})
    if auth:
        h['Authorization'] = 'Basic ' + base64.b64encode(('%s:%s' % auth).encode()).decode()
    data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        h['Content-Type'] = 'application/json'
    if TLS:
        c = http.client.HTTPSConnection('127.0.0.1', port, timeout=timeout, context=TLS.contexts[None])
    else:
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        c.request(method_, path, body=data, headers=h)
        r = c.getresponse()
        out = r.read()
        ctype = r.getheader('Content-Type') or ''
    finally:
        c.close()
    parsed = None
    if out and 'json' in ctype:
        parsed = json.loads(out)
    return r.status, parsed, out


ACTIONS = [a_queue_declare, a_queue_delete, a_queue_purge, a_queue_bind, a_exchange_declare, a_exchange_delete,
           a_exchange_bind, a_qos, a_consume, a_cancel, a_get, a_ack, a_recover, a_confirm, a_tx, a_flow,
           a_channel_close, a_connection_close, a_publish, a_garbage, a_wait, a_access, a_burst, a_api]
WEIGHTS = [12, 1.5, 2, 6, 6, 1, 3, 3, 8, 3, 8, 14, 2, 2, 4, 0.4, 2, 0.4, 24, 0.15, 3, 0.3, 0.3, 1.5]


# ------------------------------------------------------------------- checks

def round_trip(port, timeout=5.0):
    """A fresh connection declares, publishes, gets; None or what failed."""
    t0 = time.monotonic()
    try:
        with raw_connection(port, timeout) as c:
            c.handshake()
            c.open_channel(1)
            c.send(method(1, 'queue.declare', 0, '', False, False, True, True, False, {}))
            q = c.expect(raw.QUEUE_DECLARE_OK, 1).args[0]
            body = b'probe-%d' % os.getpid()
            c.send(method(1, 'basic.publish', 0, '', q, False, False) + raw.header_frame(1, len(body)) +
                   raw.body_frame(1, body) + method(1, 'basic.get', 0, q, True))
            c.expect(raw.BASIC_GET_OK, 1)
            h = c.read_method()
            b = c.read_method()
            if h.type != raw.FRAME_HEADER or b.type != raw.FRAME_BODY or b.payload != body:
                return 'round trip got back %r %r' % (h, b)
            c.send(method(0, 'connection.close', 200, 'bye', 0, 0))
            c.expect(raw.CONNECTION_CLOSE_OK, 0)
    except Exception as e:
        return 'round trip failed after %.1fs: %s: %s' % (time.monotonic() - t0, type(e).__name__, e)
    return None


def stuck_queues(port, names, timeout=5.0):
    """With no client left, a queue with ready messages delivers to a new
    consumer: the names of those that did not within 2 s (nor emptied)."""
    stuck = []
    with raw_connection(port, timeout) as c:
        c.handshake()
        n = 0
        for q in names:
            n += 1
            c.open_channel(n)
            c.send(method(n, 'queue.declare', 0, q, True, False, False, False, False, {}))
            f = c.read_method()
            if f.method == raw.CHANNEL_CLOSE:
                c.send(method(n, 'channel.close-ok'))
                continue
            if f.method != raw.QUEUE_DECLARE_OK:
                raise raw.ProtocolError('declare %s: %r' % (q, f))
            if f.args[1] == 0:
                c.send(method(n, 'channel.close', 200, 'bye', 0, 0))
                c.expect(raw.CHANNEL_CLOSE_OK, n)
                continue
            c.send(method(n, 'basic.consume', 0, q, 'stuck-check', False, False, False, False, {}))
            got = False
            deadline = time.monotonic() + 2.0
            while not got and time.monotonic() < deadline:
                try:
                    f = c.read_method(timeout=max(0.01, deadline - time.monotonic()))
                except (socket.timeout, TimeoutError):
                    break
                if f.method == raw.CHANNEL_CLOSE and f.channel == n:
                    c.send(method(n, 'channel.close-ok'))
                    break
                got = f.method == raw.BASIC_DELIVER and f.channel == n
            if f.method == raw.CHANNEL_CLOSE and f.channel == n:
                continue
            if not got:
                c.send(method(n + 1000, 'channel.open', ''))
                c.expect(raw.CHANNEL_OPEN_OK, n + 1000)
                c.send(method(n + 1000, 'queue.declare', 0, q, True, False, False, False, False, {}))
                f = c.expect(raw.QUEUE_DECLARE_OK, n + 1000)
                if f.args[1] > 0:
                    stuck.append('%s (%d ready, %d consumers)' % (q, f.args[1], f.args[2]))
            c.send(method(n, 'channel.close', 200, 'bye', 0, 0))
            while True:
                f = c.read_method()
                if f.method == raw.CHANNEL_CLOSE_OK and f.channel == n:
                    break
        c.send(method(0, 'connection.close', 200, 'bye', 0, 0))
        c.expect(raw.CONNECTION_CLOSE_OK, 0)
    return stuck


def existing(port, queues, exchanges, timeout=5.0):
    """The names of the queues and of the exchanges that exist now."""
    out = set()
    with raw_connection(port, timeout) as c:
        c.handshake()
        n = 0
        for kind, names in (('q', queues), ('x', exchanges)):
            for name in names:
                n += 1
                c.open_channel(n)
                if kind == 'q':
                    c.send(method(n, 'queue.declare', 0, name, True, False, False, False, False, {}))
                else:
                    c.send(method(n, 'exchange.declare', 0, name, 'direct', True, False, False, False, False, {}))
                f = c.read_method()
                if f.method == raw.CHANNEL_CLOSE:
                    c.send(method(n, 'channel.close-ok'))
                    if f.args[0] == 405:
                        out.add(kind + ':' + name)  # there, but exclusive
                    continue
                out.add(kind + ':' + name)
                c.send(method(n, 'channel.close', 200, 'bye', 0, 0))
                c.expect(raw.CHANNEL_CLOSE_OK, n)
        c.send(method(0, 'connection.close', 200, 'bye', 0, 0))
        c.expect(raw.CONNECTION_CLOSE_OK, 0)
    return out


def snapshot(port, names, timeout=5.0):
    """What every queue of `names` holds, fetched unacked (it goes back when
    the channel closes): {queue: [(message_id, persistent, expiring)]}, and
    which of them are plain (a durable declare without arguments fits)."""
    out, plain = {}, set()
    with raw_connection(port, timeout) as c:
        c.handshake()
        n = 0
        for q in names:
            n += 1
            c.open_channel(n)
            c.send(method(n, 'queue.declare', 0, q, True, False, False, False, False, {}))
            f = c.read_method()
            if f.method == raw.CHANNEL_CLOSE:
                c.send(method(n, 'channel.close-ok'))
                continue   # not there (or exclusive to someone)
            msgs = []   # (messages dead-lettered from elsewhere may come in meanwhile)
            while True:
                c.send(method(n, 'basic.get', 0, q, False))
                f = c.read_method()
                if f.method == raw.BASIC_GET_EMPTY:
                    break
                if f.method != raw.BASIC_GET_OK:
                    raise raw.ProtocolError('get %s: %r' % (q, f))
                h = c.read_method()
                size = struct.unpack('>Q', h.payload[4:12])[0]
                have = 0
                while have < size:
                    have += len(c.read_method().payload)
                p = decode_props(h.payload)
                msgs.append((p.get('message_id'), p.get('delivery_mode') == 2, 'expiration' in p))
            out[q] = msgs
            c.send(method(n, 'channel.close', 200, 'bye', 0, 0))
            c.expect(raw.CHANNEL_CLOSE_OK, n)
            if q in PLAIN:
                n += 1
                c.open_channel(n)
                c.send(method(n, 'queue.declare', 0, q, False, True, False, False, False, {}))
                f = c.read_method()
                if f.method == raw.QUEUE_DECLARE_OK:
                    plain.add(q)
                    c.send(method(n, 'channel.close', 200, 'bye', 0, 0))
                    c.expect(raw.CHANNEL_CLOSE_OK, n)
                else:
                    c.send(method(n, 'channel.close-ok'))
        c.send(method(0, 'connection.close', 200, 'bye', 0, 0))
        c.expect(raw.CONNECTION_CLOSE_OK, 0)
    return out, plain


def compare_snapshots(before, plain, after):
    """What a restart must keep: a plain queue's persistent messages (but
    those with an expiration: they may expire meanwhile); and no message
    anywhere that was nowhere before (an ack forgotten)."""
    seen = {m[0] for msgs in before.values() for m in msgs}
    for q, msgs in after.items():
        for mid, _, _ in msgs:
            if mid not in seen:
                return 'queue %s has message %r, which no queue had before the restart' % (q, mid)
    for q in plain:
        kept = [m[0] for m in after.get(q, [])]
        for mid, persistent, expiring in before[q]:
            if persistent and not expiring:
                if mid not in kept:
                    return 'queue %s lost persistent message %r (%d of its %d messages back)' % (
                        q, mid, len(after.get(q, [])), len(before[q]))
                kept.remove(mid)
    return None


# ------------------------------------------------------------------ session

class Failure(Exception):
    pass


class Session:
    """A broker on a fresh data directory, and what is done to it."""

    def __init__(self, args, broker, replaying=False):
        self.args = args
        self.broker = broker
        self.trace = Trace()
        self.links = {}
        self.next_cid = 0
        self.replaying = replaying
        self.walkers = []
        self.log = []
        self.stats = {}
        self.server_named = []
        self.api_port = getattr(broker, 'mgmt_port', None)
        self.api_calls = 0

    def api(self, method_, path, body=None, raw_body=None, auth=('guest', 'guest'), headers=None):
        """A management API call, in the trace; a 5xx, a JSON answer that
        does not parse, or no answer in 10 s is a failure."""
        self.trace.add('api', method=method_, path=path, body=body,
                       raw=raw_body.hex() if raw_body is not None else None, auth=auth, headers=headers)
        self.api_calls += 1
        try:
            status, parsed, out = api_request(self.broker.mgmt_port, method_, path, body, raw_body, auth, headers)
        except (OSError, http.client.HTTPException) as e:
            raise Failure('API %s %s: no answer: %s: %s' % (method_, path, type(e).__name__, e))
        except ValueError as e:
            raise Failure('API %s %s: the JSON answer does not parse: %s' % (method_, path, e))
        if status >= 500:
            raise Failure('API %s %s answered %d: %s' % (method_, path, status, out[:500]))
        self.note('api %s %s -> %d' % (method_, path, status))
        return status, parsed

    def count_frame(self, f):
        if not self.args.stats:
            return
        key = f.method if f.type == raw.FRAME_METHOD else 'type%d' % f.type
        if f.method in (raw.CHANNEL_CLOSE, raw.CONNECTION_CLOSE) and f.args:
            key = (f.method, f.args[1][:60])
        self.stats[key] = self.stats.get(key, 0) + 1

    def note(self, text):
        self.log.append(text)
        if self.args.verbose:
            print(text, flush=True)

    def new_cid(self):
        self.next_cid += 1
        return self.next_cid

    def start(self):
        why = self.broker.start()
        if why:
            raise Failure('start: ' + why)

    def pump(self, timeout=0.0):
        """Read (and answer) what every live link has, for up to timeout."""
        deadline = time.monotonic() + timeout
        while True:
            links = [(cid, l) for cid, l in self.links.items() if not l.eof]
            if not links:
                if timeout:
                    time.sleep(max(0.0, deadline - time.monotonic()))
                return
            wait = max(0.0, deadline - time.monotonic())
            try:
                r, w, _ = select.select([l for _, l in links], [l for _, l in links if l.out], [], wait)
            except (ValueError, OSError):
                r, w = [l for _, l in links], []
            for l in w:
                l.flush()
            for l in r:
                frames = l.read()
                owner = self.owner_of(l)
                for f in frames:
                    if owner is not None:
                        owner.on_frame(f)
            for cid, l in list(self.links.items()):
                if l.eof:
                    del self.links[cid]
            if time.monotonic() >= deadline:
                return

    def owner_of(self, link):
        for w in self.walkers:
            if w.link is link:
                return w
        return None

    # -- the checks, the same when replaying

    def check(self, label):
        self.trace.add('check', label=label)
        rep = self.broker.sanitizer_report()
        if rep:
            raise Failure('%s: sanitizer report:\n%s' % (label, rep))
        if not self.broker.alive():
            raise Failure('%s: broker died (%s)' % (label, self.broker.exit_status()))
        self.probe_links(label)
        why = round_trip(self.broker.port)
        if why:
            raise Failure('%s: %s' % (label, why))
        rep = self.broker.sanitizer_report()
        if rep:
            raise Failure('%s: sanitizer report:\n%s' % (label, rep))

    def probe_links(self, label):
        """Every connection still open answers a channel.open (or closes)."""
        probing = {cid: l for cid, l in self.links.items() if l.live}
        for l in probing.values():
            l.send(method(PROBE_CHANNEL, 'channel.open', ''))
        deadline = time.monotonic() + 5.0
        answered = set()
        while len(answered) < len(probing) and time.monotonic() < deadline:
            live = [l for cid, l in probing.items() if cid not in answered and not l.eof]
            for cid, l in probing.items():
                if l.eof or l.closed_by_peer:
                    answered.add(cid)
            if not live:
                break
            r, _, _ = select.select(live, [], [], 0.05)
            for l in r:
                owner = self.owner_of(l)
                for f in l.read():
                    if f.channel == PROBE_CHANNEL and f.method == raw.CHANNEL_OPEN_OK:
                        answered.update(cid for cid, x in probing.items() if x is l)
                    if owner is not None:
                        owner.on_frame(f)
                    elif f.method == raw.CONNECTION_CLOSE:
                        l.send(method(0, 'connection.close-ok'))
        for cid, l in probing.items():
            if l.eof or l.closed_by_peer:
                answered.add(cid)
        missing = sorted(set(probing) - answered)
        if missing:
            raise Failure('%s: connection(s) %s did not answer channel.open within 5 s' % (label, missing))
        for l in probing.values():
            if not l.eof:
                l.send(method(PROBE_CHANNEL, 'channel.close', 200, 'probe', 0, 0))

    def restart(self, how):
        """Stop (term or kill) and start on the same data directory; plain
        durable queues keep their persistent messages."""
        self.trace.add('restart', how=how)
        for w in self.walkers:
            w.drop()
        for l in self.links.values():
            l.close()
        self.links = {}
        time.sleep(0.2)   # let the broker take the disconnects in
        try:
            stuck = stuck_queues(self.broker.port, QUEUES + [q for q in self.server_named if q not in QUEUES])
        except Exception as e:
            raise Failure('before restart: checking for stuck queues failed: %s: %s' % (type(e).__name__, e))
        if stuck:
            raise Failure('before restart: queues with ready messages deliver nothing: %s' % ', '.join(stuck))
        qnames = QUEUES + [q for q in self.server_named if q not in QUEUES]
        xnames = sorted(EXCHANGE_DECLS)
        try:
            before, plain = snapshot(self.broker.port, qnames)
            there = existing(self.broker.port, qnames, xnames)
        except Exception as e:
            raise Failure('before restart: reading the queues failed: %s: %s' % (type(e).__name__, e))
        if how == 'kill':
            self.broker.kill()
        else:
            why = self.broker.stop()
            rep = self.broker.sanitizer_report()
            if rep:
                raise Failure('stop: sanitizer report:\n%s' % rep)
            if why:
                raise Failure('stop: ' + why + '\n' + self.broker.log_text()[-3000:])
        why = self.broker.start()
        if why:
            raise Failure('restart after %s: %s\n%s' % (how, why, self.broker.log_text()[-3000:]))
        try:
            after, _ = snapshot(self.broker.port, qnames)
            back = existing(self.broker.port, qnames, xnames)
        except Exception as e:
            raise Failure('after restart (%s): reading the queues failed: %s: %s' % (how, type(e).__name__, e))
        if back - there:
            raise Failure('restart (%s): deleted before the restart, back after it: %s' % (
                how, ', '.join(sorted(back - there))))
        why = compare_snapshots(before, plain, after)
        if why:
            raise Failure('restart (%s): %s' % (how, why))
        self.check('after restart (%s)' % how)

    def finish(self):
        for w in self.walkers:
            w.drop()
        for l in self.links.values():
            l.close()
        self.links = {}
        time.sleep(0.1)
        why = self.broker.stop()
        rep = self.broker.sanitizer_report()
        if rep:
            raise Failure('final stop: sanitizer report:\n%s' % rep)
        if why:
            raise Failure('final stop: %s\n%s' % (why, self.broker.log_text()[-3000:]))


def run_session(args, seed, deadline, broker, stats):
    """Rounds of walking against one broker (started here, stopped at the
    end) until args.rounds or the deadline; returns None, or (failure
    text, path of the saved trace)."""
    rng = random.Random(seed)
    s = Session(args, broker)
    try:
        s.start()
    except Failure as e:
        return str(e), None
    rounds = 0
    try:
        if s.api_port:
            api_setup(s)
        s.walkers = [Walker(s, i, random.Random('%d/%d' % (seed, i))) for i in range(args.connections)]
        while True:
            rounds += 1
            for _ in range(args.steps * args.connections):
                w = s.walkers[rng.randrange(len(s.walkers))]
                w.step()
                stats['ops'] += 1
                s.pump(0.0)
            s.pump(0.05)
            s.check('round %d' % rounds)
            stats['rounds'] += 1
            stats['api'] = stats.get('api', 0) + s.api_calls
            s.api_calls = 0
            if rounds % args.restart_every == 0:
                s.restart('kill' if rng.random() < 0.5 else 'term')
                stats['restarts'] += 1
            if time.monotonic() > deadline or rounds >= args.rounds:
                break
        s.finish()
        if args.stats:
            for k, v in sorted(s.stats.items(), key=lambda kv: -kv[1]):
                print('  %6d %s' % (v, k))
    except Failure as e:
        path = os.path.join(args.out, 'fail-seed%d.json' % seed)
        os.makedirs(args.out, exist_ok=True)
        s.trace.save(path, {'seed': seed, 'connections': args.connections, 'failure': str(e)[:4000]})
        with open(path + '.log', 'w') as f:
            f.write(s.broker.log_text())
        s.broker.kill()
        return str(e), path
    finally:
        s.broker.kill()
    return None


# ------------------------------------------------------------------- replay

def replay(args, ops, workdir):
    """Run a trace against a fresh broker: None, or (failure text, index of
    the op it failed at)."""
    s = Session(args, BrokerProc(args.binary, workdir, args.broker_arg or ()), replaying=True)
    at = -1
    try:
        s.start()
        t0 = time.monotonic()
        for at, op in enumerate(ops):
            kind = op['op']
            wait = t0 + op.get('t', 0) - time.monotonic()
            if wait > 0:
                s.pump(wait)
            if kind == 'connect':
                try:
                    s.links[op['c']] = Link(s.broker.port, op.get('cert'))
                except OSError as e:
                    raise Failure('connect failed: %s' % e)
            elif kind == 'send':
                l = s.links.get(op['c'])
                if l is not None and not l.eof:
                    l.send(bytes.fromhex(op['hex']))
            elif kind == 'close':
                l = s.links.pop(op['c'], None)
                if l is not None:
                    l.close()
            elif kind == 'pause':
                s.pump(op['ms'] / 1000.0)
            elif kind == 'check':
                s.pump(0.05)
                s.check(op['label'])
            elif kind == 'restart':
                s.restart(op['how'])
            elif kind == 'api':
                s.api(op['method'], op['path'], op.get('body'),
                      bytes.fromhex(op['raw']) if op.get('raw') is not None else None,
                      tuple(op['auth']) if op.get('auth') else None, op.get('headers'))
            s.pump(0.0)
        at = len(ops)
        s.pump(0.05)
        s.check('end of replay')
        s.finish()
    except Failure as e:
        return str(e), at
    finally:
        s.broker.kill()
        for l in s.links.values():
            l.close()
    return None


def minimize(args, ops, workdir):
    """Shrink a failing trace: cut what comes after the failure, drop whole
    connections, the pauses, then ever smaller runs of ops, keeping each
    cut that still fails (the same way, with --match)."""
    def run(candidate):
        d = tempfile.mkdtemp(prefix='walk-min-', dir=workdir)
        try:
            res = replay(args, candidate, d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        if res is None or (args.match and args.match not in res[0]):
            return None
        return res

    def note():
        print('  minimize: %d ops' % len(ops), flush=True)

    res = run(ops)
    if res is None:
        print('  minimize: the trace does not fail (as asked) when replayed')
        return ops
    ops = ops[:res[1] + 1]
    note()
    for cid in sorted({o['c'] for o in ops if 'c' in o}):
        cand = [o for o in ops if o.get('c') != cid]
        if cand and run(cand):
            ops = cand
            note()
    cand = [o for o in ops if o['op'] != 'pause']
    if run(cand):
        ops = cand
        note()
    chunk = max(1, len(ops) // 2)
    while True:
        i = 0
        while i < len(ops):
            cand = ops[:i] + ops[i + chunk:]
            res = run(cand) if cand else None
            if res:
                ops = cand[:res[1] + 1]
                note()
            else:
                i += chunk
        if chunk == 1:
            break
        chunk = max(1, chunk // 2)
    return ops


def describe(ops):
    lines = []
    for op in ops:
        if op['op'] == 'send':
            lines.append('c%d send %s' % (op['c'], op.get('what', '')))
        elif op['op'] in ('connect', 'close'):
            lines.append('c%d %s' % (op['c'], op['op']))
        else:
            lines.append('%s %s' % (op['op'], {k: v for k, v in op.items() if k != 'op'}))
    return '\n'.join(lines)


# --------------------------------------------------------------------- main

def options(argv=None):
    """The command line's options; options([]) gives the defaults, for a
    caller that runs sessions itself (tests/interop/test_protocol_walk.py)."""
    return parser().parse_args(argv)


def parser():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seed', type=int, default=1, help='first seed; each session uses the next (default 1)')
    p.add_argument('--seeds', type=int, default=0, help='stop after this many sessions (default: no limit)')
    p.add_argument('--seconds', type=float, default=60, help='wall time to run for (default 60)')
    p.add_argument('--connections', type=int, default=4, help='concurrent connections (default 4)')
    p.add_argument('--steps', type=int, default=150, help='steps per connection per round (default 150)')
    p.add_argument('--rounds', type=int, default=6, help='rounds per session (default 6)')
    p.add_argument('--restart-every', type=int, default=3, help='restart the broker every N rounds (default 3)')
    p.add_argument('--binary', default=os.path.join(ROOT, 'bin', 'warren-asan'), help='broker to run')
    p.add_argument('--broker-arg', action='append', help='extra broker argument (repeat)')
    p.add_argument('--out', default=os.path.join(ROOT, 'build', 'walk'), help='where failing traces go')
    p.add_argument('--keep-going', action='store_true', help='after a failure, go on with the next seed')
    p.add_argument('--replay', help='run a saved trace instead of walking')
    p.add_argument('--minimize', action='store_true', help='with --replay: shrink the trace first')
    p.add_argument('--match', help='with --minimize: only failures whose text contains this count')
    p.add_argument('--stats', action='store_true', help='print what the broker answered, per session')
    p.add_argument('--tls', action='store_true',
                   help='amqps and https for every connection, with certificates made now (openssl CLI)')
    p.add_argument('--verbose', '-v', action='store_true')
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.connections < 1 or args.steps < 1 or args.rounds < 1 or args.restart_every < 1:
        p.error('counts must be positive')
    if not os.access(args.binary, os.X_OK):
        p.error('no broker binary %s (make first)' % args.binary)
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='protocol-walk-')
    global TLS
    try:
        if args.tls:
            TLS = Tls(tmp)
        if args.replay:
            with open(args.replay) as f:
                ops = json.load(f)['ops']
            if args.minimize:
                ops = minimize(args, ops, tmp)
                path = args.replay.replace('.json', '') + '.min.json'
                with open(path, 'w') as f:
                    json.dump({'ops': ops}, f, indent=0)
                print('minimal trace (%d ops) in %s:\n%s' % (len(ops), path, describe(ops)))
            d = tempfile.mkdtemp(dir=tmp)
            res = replay(args, ops, d)
            print('replay: %s' % ('failed at op %d: %s' % (res[1], res[0]) if res else 'all checks passed'))
            return 1 if res else 0
        stats = {'ops': 0, 'rounds': 0, 'restarts': 0, 'sessions': 0}
        t0 = time.monotonic()
        deadline = t0 + args.seconds
        seed = args.seed
        failures = []
        while True:
            d = tempfile.mkdtemp(dir=tmp)
            res = run_session(args, seed, deadline, BrokerProc(args.binary, d, args.broker_arg or ()), stats)
            stats['sessions'] += 1
            shutil.rmtree(d, ignore_errors=True)
            if res:
                failures.append((seed, res))
                print('seed %d FAILED: %s\n  trace: %s' % (seed, res[0][:2000], res[1]), flush=True)
                if not args.keep_going:
                    break
            elif args.verbose:
                print('seed %d ok' % seed, flush=True)
            seed += 1
            if time.monotonic() > deadline or (args.seeds and stats['sessions'] >= args.seeds):
                break
        print('protocol_walk: %d sessions (seeds %d..%d), %d rounds, %d restarts, %d ops (%d API calls) in %.0fs; '
              '%d failed' % (stats['sessions'], args.seed, seed - (0 if failures and not args.keep_going else 1),
                             stats['rounds'], stats['restarts'], stats['ops'], stats.get('api', 0),
                             time.monotonic() - t0, len(failures)), flush=True)
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
