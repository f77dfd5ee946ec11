#!/usr/bin/python3
"""abuse.py - what one misbehaving client costs everyone else (issue 14, section 2).

Starts a warren of its own (bin/warren, release build) on a free port with
a temporary data directory, and runs one scenario at a time while a
well-behaved client (the probe, in this process) measures its round trips:

  baseline     nobody else
  slow         a consumer with prefetch 5000 that acks 20 messages a second,
               while a publisher sends 1,000 msg/s of 1 KiB to its queue
  noread       a consumer (no-ack) of a queue of 100,000 1-KiB messages
               that never reads its socket; a publisher keeps the queue fed
  channels     4 connections opening and closing channels as fast as they
               can (channel.open pipelined up to channel_max, then close)
  idle         N idle connections (--idle, default 50,000), logged in with
               heartbeats off, from several client processes of 18,000
               each with a source address each (127.0.1.x: one address has
               ~28,000 ephemeral ports); beyond the broker's descriptor
               limit, the refused ones are counted
  blocked      a publisher that ignores connection.blocked: it writes
               publishes and never reads, against a broker started with a
               small --memory-limit, so the memory alarm goes on

The probe does two round trips every 10 ms on its own connection: an RPC
(queue.declare passive of its queue -> declare-ok) and a publish to its own
queue until the delivery comes back to its consumer (skipped in "blocked":
a publisher is rightly held during a memory alarm, the probe too).  Each
scenario reports the probe's p50/p99/max in ms, the broker's RSS before and
at the end (VmRSS) and its peak (VmHWM), and the abuser's own progress.

Every abuser runs in a process of its own (the probe's timings are not
bent by the abuser's Python).  Run under nice on a shared machine:

  nice -n 10 tools/bench/abuse.py                  # every scenario, 10 s each
  nice -n 10 tools/bench/abuse.py idle --idle 10000 --seconds 5

The broker needs a hard RLIMIT_NOFILE above the idle count (raised here
when the process may: CAP_SYS_RESOURCE).
The figures are in doc/benchmarks.md ("Under abuse").
"""
import argparse
import multiprocessing
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FRAME_END = b'\xce'

# ------------------------------------------------------------------ the wire


def frame(ftype, ch, payload):
    return struct.pack('>BHI', ftype, ch, len(payload)) + payload + FRAME_END


def short(s):
    b = s.encode() if isinstance(s, str) else s
    return bytes([len(b)]) + b


def method(ch, cls, mid, args=b''):
    return frame(1, ch, struct.pack('>HH', cls, mid) + args)


EMPTY_TABLE = struct.pack('>I', 0)


def handshake_bytes(user='guest', password='guest', vhost='/', heartbeat=0):
    """The whole client side of a handshake, pipelined: the broker answers
    each step in order (start, tune, open-ok)."""
    resp = b'\0' + user.encode() + b'\0' + password.encode()
    start_ok = EMPTY_TABLE + short('PLAIN') + struct.pack('>I', len(resp)) + resp + short('en_US')
    return (b'AMQP\x00\x00\x09\x01' + method(0, 10, 11, start_ok) +
            method(0, 10, 31, struct.pack('>HIH', 2047, 131072, heartbeat)) +
            method(0, 10, 40, short(vhost) + short('') + b'\0'))


OPEN_OK = struct.pack('>HH', 10, 41)


def channel_open(ch):
    return method(ch, 20, 10, short(''))


def channel_close(ch):
    return method(ch, 20, 40, struct.pack('>H', 200) + short('bye') + struct.pack('>HH', 0, 0))


def queue_declare(ch, name, passive=False, exclusive=False, auto_delete=False):
    bits = (1 if passive else 0) | (4 if exclusive else 0) | (8 if auto_delete else 0)
    return method(ch, 50, 10, struct.pack('>H', 0) + short(name) + bytes([bits]) + EMPTY_TABLE)


def basic_qos(ch, count):
    return method(ch, 60, 10, struct.pack('>IHB', 0, count, 0))


def basic_consume(ch, queue, no_ack):
    return method(ch, 60, 20, struct.pack('>H', 0) + short(queue) + short('') + bytes([2 if no_ack else 0]) +
                  EMPTY_TABLE)


def basic_publish(ch, rk, body):
    return (method(ch, 60, 40, struct.pack('>H', 0) + short('') + short(rk) + b'\0') +
            frame(2, ch, struct.pack('>HHQH', 60, 0, len(body), 0)) + frame(3, ch, body))


def basic_ack(ch, tag, multiple=False):
    return method(ch, 60, 80, struct.pack('>QB', tag, 1 if multiple else 0))


class Conn:
    """A blocking raw AMQP connection: send bytes, read frames."""

    def __init__(self, port, source=None):
        self.s = socket.socket()
        if source:
            self.s.bind((source, 0))
        self.s.connect(('127.0.0.1', port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''
        self.s.sendall(handshake_bytes())
        while True:
            f = self.frame()
            if f[0] == 1 and f[2][:4] == OPEN_OK:
                break

    def send(self, data):
        self.s.sendall(data)

    def frame(self):
        while True:
            if len(self.buf) >= 7:
                t, ch, n = struct.unpack('>BHI', self.buf[:7])
                if len(self.buf) >= 8 + n:
                    f = (t, ch, self.buf[7:7 + n])
                    self.buf = self.buf[8 + n:]
                    return f
            d = self.s.recv(1 << 16)
            if not d:
                raise ConnectionError('closed by the broker')
            self.buf += d

    def method(self, cls, mid):
        """Read until a method frame cls.mid; the frames before are dropped."""
        while True:
            t, ch, p = self.frame()
            if t == 1 and struct.unpack('>HH', p[:4]) == (cls, mid):
                return ch, p


# ------------------------------------------------------------------ the broker


class Warren:
    def __init__(self, args=()):
        self.dir = tempfile.mkdtemp(prefix='warren-abuse-')
        self.port = free_port()
        self.log = open(os.path.join(self.dir, 'log'), 'w')
        binary = os.environ.get('WARREN_BIN', os.path.join(ROOT, 'bin', 'warren'))
        self.proc = subprocess.Popen([binary, '--bind', '127.0.0.1', '--port', str(self.port), '--data-dir',
                                      os.path.join(self.dir, 'data'), '--management-port', '0',
                                      '--prometheus-port', '0'] + list(args),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('warren did not start')

    def mem(self):
        out = {}
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith(('VmRSS:', 'VmHWM:')):
                    out[line.split(':')[0]] = int(line.split()[1]) * 1024
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the probe


class Probe:
    def __init__(self, port):
        self.c = Conn(port)
        self.c.send(channel_open(1))
        self.c.method(20, 11)
        self.q = 'probe-%d' % os.getpid()
        self.c.send(queue_declare(1, self.q, exclusive=True))
        self.c.method(50, 11)
        self.c.send(basic_consume(1, self.q, no_ack=True))
        self.c.method(60, 21)

    def rpc(self):
        t = time.perf_counter()
        self.c.send(queue_declare(1, self.q, passive=True))
        self.c.method(50, 11)
        return (time.perf_counter() - t) * 1000

    def publish(self):
        t = time.perf_counter()
        self.c.send(basic_publish(1, self.q, b'x' * 100))
        self.c.method(60, 60)          # basic.deliver (its header and body follow)
        self.c.frame()
        self.c.frame()
        return (time.perf_counter() - t) * 1000

    def run(self, seconds, publish=True):
        rpc, pub = [], []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rpc.append(self.rpc())
            if publish:
                pub.append(self.publish())
            time.sleep(0.01)
        return rpc, pub


def pct(xs, p):
    if not xs:
        return float('nan')
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


# ------------------------------------------------------------------ the abusers (each in its own process)


def slow_consumer(port, ready, stop, stats):
    q = 'slow'
    c = Conn(port)
    c.send(channel_open(1) + queue_declare(1, q) + basic_qos(1, 5000) + basic_consume(1, q, no_ack=False))
    c.method(60, 21)
    pub = Conn(port)
    pub.send(channel_open(1))
    pub.method(20, 11)
    body = b'm' * 1024
    ready.set()
    c.s.settimeout(0.05)
    got = acked = sent = 0
    next_ack = next_pub = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_pub:            # 1,000 msg/s in bursts of 10
            pub.send(basic_publish(1, q, body) * 10)
            sent += 10
            next_pub += 0.01
        if now >= next_ack and acked < got:   # 20 acks a second, one at a time
            acked += 1
            c.send(basic_ack(1, acked))
            next_ack += 0.05
        try:
            d = c.s.recv(1 << 16)
            got += d.count(struct.pack('>HH', 60, 60))
        except socket.timeout:
            pass
        time.sleep(0.001)
    stats.update(sent=sent, delivered=got, acked=acked)


def never_reads(port, ready, stop, stats):
    q = 'unread'
    pub = Conn(port)
    pub.send(channel_open(1) + queue_declare(1, q))
    pub.method(50, 11)
    body = b'n' * 1024
    for _ in range(100):
        pub.send(basic_publish(1, q, body) * 1000)
    c = Conn(port)
    c.send(channel_open(1) + basic_consume(1, q, no_ack=True))
    # and never reads again
    ready.set()
    sent = 100000
    while not stop.is_set():
        pub.send(basic_publish(1, q, body) * 100)
        sent += 100
        time.sleep(0.1)
    stats.update(sent=sent)


def channel_flood(port, ready, stop, stats):
    conns = [Conn(port) for _ in range(4)]
    opened = 0
    ready.set()
    batch = b''.join(channel_open(i) for i in range(1, 2048))
    closes = b''.join(channel_close(i) for i in range(1, 2048))
    while not stop.is_set():
        for c in conns:
            c.send(batch)
        for c in conns:
            for _ in range(2047):
                c.method(20, 11)
            c.send(closes)
        for c in conns:
            for _ in range(2047):
                c.method(20, 41)
        opened += 4 * 2047
    stats.update(channels_opened=opened)


PER_PROCESS = 18000     # idle sockets per client process (under a 20,000 descriptor limit)


def idle_connections(port, ready, stop, stats, n, idx=0):
    """n idle connections from this process, source address 127.0.1.<idx+1>
    (one address has ~28,000 ephemeral ports).  One the broker refuses
    (closed without an answer: out of descriptors, or a limit) is counted
    and closed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    hs = handshake_bytes()
    sel = selectors.DefaultSelector()
    socks, t0, done, refused = [], time.monotonic(), 0, 0
    batch = 1000
    for start in range(0, n, batch):
        pending = {}
        for _ in range(start, min(n, start + batch)):
            s = socket.socket()
            s.bind(('127.0.1.%d' % (idx + 1), 0))
            s.settimeout(5)
            try:
                s.connect(('127.0.0.1', port))
                s.sendall(hs)
            except OSError:
                refused += 1
                s.close()
                continue
            s.setblocking(False)
            pending[s] = b''
            sel.register(s, selectors.EVENT_READ)
        while pending:
            events = sel.select(10)
            if not events:
                break
            for key, _ in events:
                s = key.fileobj
                try:
                    d = s.recv(4096)
                except OSError:
                    d = b''
                if not d:
                    sel.unregister(s)
                    del pending[s]
                    s.close()
                    refused += 1
                    continue
                pending[s] += d
                if OPEN_OK in pending[s]:
                    sel.unregister(s)
                    del pending[s]
                    socks.append(s)
                    done += 1
    stats['p%d' % idx] = (done, refused, round(time.monotonic() - t0, 1))
    ready.set()
    stop.wait()
    for s in socks:
        s.close()


def blocked_publisher(port, ready, stop, stats):
    q = 'flood'
    c = Conn(port)
    c.send(channel_open(1) + queue_declare(1, q))
    c.method(50, 11)
    c.s.settimeout(0.5)
    body = b'b' * 4096
    chunk = basic_publish(1, q, body) * 100
    sent = 0
    ready.set()
    while not stop.is_set():
        try:
            c.s.send(chunk)          # never reads: connection.blocked goes unheard
            sent += 100
        except socket.timeout:
            pass
        except BlockingIOError:
            pass
    stats.update(publishes_written=sent)


SCENARIOS = {
    'baseline': (None, ()),
    'slow': (slow_consumer, ()),
    'noread': (never_reads, ()),
    'channels': (channel_flood, ()),
    'idle': (idle_connections, ()),
    'blocked': (blocked_publisher, ('--memory-limit', '134217728')),
}


def run(name, args):
    fn, broker_args = SCENARIOS[name]
    w = Warren(broker_args)
    try:
        mgr = multiprocessing.Manager()
        stats = mgr.dict()
        stop = multiprocessing.Event()
        before = w.mem()['VmRSS']
        probe = Probe(w.port)          # first: it must not be the one refused
        procs = []
        if fn:
            if name == 'idle':
                jobs = [(args.idle - k, ) for k in range(0, args.idle, PER_PROCESS)]
                jobs = [(min(PER_PROCESS, j[0]), i) for i, j in enumerate(jobs)]
            else:
                jobs = [()]
            for extra in jobs:
                ready = multiprocessing.Event()
                p = multiprocessing.Process(target=fn, args=(w.port, ready, stop, stats) + extra)
                p.start()
                procs.append((p, ready))
            for p, ready in procs:
                if not ready.wait(900):
                    raise RuntimeError('%s: the abuser did not get ready' % name)
            time.sleep(args.settle)
        if name == 'idle':
            opened = sum(v[0] for v in stats.values())
            refused = sum(v[1] for v in stats.values())
            secs = max(v[2] for v in stats.values())
            stats.clear()
            stats.update(open=opened, refused=refused, seconds_to_open=secs)
        mid = w.mem()['VmRSS']
        rpc, pub = probe.run(args.seconds, publish=name != 'blocked')
        m = w.mem()
        stop.set()
        for p, _ in procs:
            p.join(120)
        row = {'scenario': name, 'rpc_p50': pct(rpc, 50), 'rpc_p99': pct(rpc, 99), 'rpc_max': max(rpc),
               'pub_p50': pct(pub, 50), 'pub_p99': pct(pub, 99), 'pub_max': max(pub) if pub else float('nan'),
               'rss_before': before, 'rss_loaded': mid, 'rss_end': m['VmRSS'], 'rss_peak': m['VmHWM'],
               'n': len(rpc), 'abuser': dict(stats), 'alive': w.proc.poll() is None}
        return row
    finally:
        w.stop()


def mib(b):
    return '%.1f' % (b / 1048576.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('scenarios', nargs='*', default=list(SCENARIOS), help=' '.join(SCENARIOS))
    ap.add_argument('--seconds', type=float, default=10.0, help='probe time per scenario (default 10)')
    ap.add_argument('--settle', type=float, default=2.0, help='abuse time before the probe starts (default 2)')
    ap.add_argument('--idle', type=int, default=50000, help='idle connections (default 50000)')
    args = ap.parse_args()
    for s in args.scenarios:
        if s not in SCENARIOS:
            ap.error('unknown scenario %r' % s)
    # the broker inherits the hard limit: room for the idle connections
    # (raised when allowed: CAP_SYS_RESOURCE; otherwise the broker holds
    # what the limit allows and refuses the rest, which is measured too)
    want = args.idle + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, want))
        except (ValueError, OSError):
            print('the hard limit on open files is %d and cannot be raised here: the broker holds what it '
                  'allows and refuses the rest' % hard)
    print('load average before: %.1f %.1f %.1f on %d CPUs' % (os.getloadavg() + (os.cpu_count(),)))
    print('| scenario | RPC p50 / p99 / max ms | publish->deliver p50 / p99 / max ms | broker RSS before / '
          'loaded / end / peak MiB | the abuser |')
    print('|---|---|---|---|---|')
    for s in args.scenarios:
        r = run(s, args)
        print('| %s | %.2f / %.2f / %.2f | %s | %s / %s / %s / %s | %s%s |' % (
            s, r['rpc_p50'], r['rpc_p99'], r['rpc_max'],
            '%.2f / %.2f / %.2f' % (r['pub_p50'], r['pub_p99'], r['pub_max']) if s != 'blocked' else 'held (alarm)',
            mib(r['rss_before']), mib(r['rss_loaded']), mib(r['rss_end']), mib(r['rss_peak']),
            ', '.join('%s %s' % kv for kv in sorted(r['abuser'].items())), '' if r['alive'] else ' BROKER DIED'),
            flush=True)


if __name__ == '__main__':
    main()
