#!/usr/bin/python3
"""bench.py - warren against RabbitMQ, side by side, on this machine.

Every shape runs against a fresh warren (bin/warren, the release build) and
against an already-running RabbitMQ (--rabbitmq-url), alternating between the
two in ABBA order so slow drift in the machine's load hits both alike.  The
load comes from bin/warren-perf (doc/perf.md), which prints a `RESULT {json}`
line; this script adds what the tool cannot see: the broker's own CPU time
and memory, read from /proc/PID of the broker process (for RabbitMQ, the
owner of its listening port in `ss -ltnp`).  Topologies warren-perf cannot
make (a fanout exchange with ten queues, a topic exchange with 10,000
bindings), the 10,000 idle connections and the "serving again" probe after a
restart use the small AMQP 0-9-1 client below, written on raw sockets so the
script needs nothing but Python 3's standard library.

Shape groups (--only): throughput, tutorial, latency, confirms, routing,
memory, store.  doc/benchmarks.md explains every shape, the exact
warren-perf command lines and the targets.

Every warren this script starts is stopped by pid in a finally block; every
queue and exchange it declares on RabbitMQ has a unique name and is deleted
at the end of its run.
"""
import argparse
import datetime
import glob
import json
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
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MB = 1e6        # memory and disk figures are in MB of 10^6 bytes

# --------------------------------------------------------------------------
# A minimal AMQP 0-9-1 client: enough to declare, bind, delete, consume and
# hold connections open.  Blocking, one channel (1) per connection.
# --------------------------------------------------------------------------

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = 0xCE
PROTOCOL_HEADER = b'AMQP\x00\x00\x09\x01'


class AmqpError(Exception):
    """The server closed the channel or connection, or spoke nonsense."""

    def __init__(self, text, code=0):
        super().__init__(text)
        self.code = code


def shortstr(s):
    b = s.encode() if isinstance(s, str) else s
    if len(b) > 255:
        raise ValueError('shortstr too long')
    return bytes([len(b)]) + b


def longstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack('>I', len(b)) + b


def table(d):
    out = b''
    for k, v in (d or {}).items():
        out += shortstr(k)
        if isinstance(v, bool):
            out += b't' + bytes([1 if v else 0])
        elif isinstance(v, int):
            out += b'I' + struct.pack('>i', v)
        else:
            out += b'S' + longstr(v)
    return struct.pack('>I', len(out)) + out


def frame(ftype, channel, payload):
    return struct.pack('>BHI', ftype, channel, len(payload)) + payload + bytes([FRAME_END])


def method(channel, cls, mid, args=b''):
    return frame(FRAME_METHOD, channel, struct.pack('>HH', cls, mid) + args)


def parse_url(url):
    u = urllib.parse.urlparse(url)
    vhost = urllib.parse.unquote(u.path[1:]) if u.path not in ('', '/') else '/'
    return dict(host=u.hostname or '127.0.0.1', port=u.port or 5672,
                user=urllib.parse.unquote(u.username or 'guest'),
                password=urllib.parse.unquote(u.password or 'guest'), vhost=vhost)


def start_ok(user, password):
    return method(0, 10, 11, table({'product': 'warren-bench'}) + shortstr('PLAIN') +
                  longstr(b'\0' + user.encode() + b'\0' + password.encode()) + shortstr('en_US'))


def tune_ok_and_open(tune_payload, vhost):
    """tune-ok (heartbeats off, the server's limits) followed by connection.open."""
    channel_max, frame_max, _hb = struct.unpack_from('>HIH', tune_payload, 4)
    return (method(0, 10, 31, struct.pack('>HIH', channel_max, frame_max or 131072, 0)) +
            method(0, 10, 40, shortstr(vhost) + shortstr('') + b'\0'))


CLOSE_CONNECTION = method(0, 10, 50, struct.pack('>H', 200) + shortstr('bye') + struct.pack('>HH', 0, 0))


def split_frames(buf):
    """Whole frames at the front of buf: ([(type, channel, payload)], bytes used)."""
    frames, pos = [], 0
    while len(buf) - pos >= 8:
        ftype, ch, size = struct.unpack_from('>BHI', buf, pos)
        if len(buf) - pos < 8 + size:
            break
        if buf[pos + 7 + size] != FRAME_END:
            raise AmqpError('bad frame end')
        frames.append((ftype, ch, bytes(buf[pos + 7:pos + 7 + size])))
        pos += 8 + size
    return frames, pos


def close_reason(payload):
    code, = struct.unpack_from('>H', payload, 4)
    n = payload[6]
    return code, payload[7:7 + n].decode(errors='replace')


class Amqp:
    """One blocking connection with channel 1 open."""

    def __init__(self, url, timeout=30.0):
        p = parse_url(url)
        self.sock = socket.create_connection((p['host'], p['port']), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pending = []
        self.sock.sendall(PROTOCOL_HEADER)
        self.expect(0, 10, 10)
        self.sock.sendall(start_ok(p['user'], p['password']))
        tune = self.expect(0, 10, 30)
        self.sock.sendall(tune_ok_and_open(tune, p['vhost']))
        self.expect(0, 10, 41)
        self.sock.sendall(method(1, 20, 10, shortstr('')))
        self.expect(1, 20, 11)

    def next_frame(self):
        while not self.pending:
            frames, used = split_frames(self.buf)
            del self.buf[:used]
            self.pending.extend(frames)
            if self.pending:
                break
            data = self.sock.recv(65536)
            if not data:
                raise AmqpError('the server closed the TCP connection')
            self.buf += data
        return self.pending.pop(0)

    def expect(self, channel, cls, mid):
        """Wait for method cls.mid on channel; return its payload."""
        while True:
            ftype, ch, payload = self.next_frame()
            if ftype != FRAME_METHOD:
                continue
            c, m = struct.unpack_from('>HH', payload)
            if (c, m) == (cls, mid) and ch == channel:
                return payload
            if (c, m) == (20, 40):
                self.sock.sendall(method(ch, 20, 41))
                code, text = close_reason(payload)
                raise AmqpError('channel closed: %d %s' % (code, text), code)
            if (c, m) == (10, 50):
                self.sock.sendall(method(0, 10, 51))
                code, text = close_reason(payload)
                raise AmqpError('connection closed: %d %s' % (code, text), code)

    # --- requests; each waits for its -ok ---
    def exchange_declare(self, name, etype, durable=False, auto_delete=False):
        bits = (2 if durable else 0) | (4 if auto_delete else 0)
        self.sock.sendall(method(1, 40, 10, struct.pack('>H', 0) + shortstr(name) + shortstr(etype) +
                                 bytes([bits]) + table({})))
        self.expect(1, 40, 11)

    def exchange_delete(self, name):
        self.sock.sendall(method(1, 40, 20, struct.pack('>H', 0) + shortstr(name) + b'\0'))
        self.expect(1, 40, 21)

    def queue_declare_frame(self, name, passive=False, durable=False, args=None):
        bits = (1 if passive else 0) | (2 if durable else 0)
        return method(1, 50, 10, struct.pack('>H', 0) + shortstr(name) + bytes([bits]) + table(args))

    def queue_declare(self, name, passive=False, durable=False, args=None):
        """Returns (message_count, consumer_count)."""
        self.sock.sendall(self.queue_declare_frame(name, passive, durable, args))
        p = self.expect(1, 50, 11)
        n = p[4]
        return struct.unpack_from('>II', p, 5 + n)

    def queue_delete(self, name):
        self.sock.sendall(method(1, 50, 40, struct.pack('>H', 0) + shortstr(name) + b'\0'))
        self.expect(1, 50, 41)

    def bind_frame(self, queue, exchange, key):
        return method(1, 50, 20, struct.pack('>H', 0) + shortstr(queue) + shortstr(exchange) +
                      shortstr(key) + b'\0' + table({}))

    def pipeline(self, frames, cls, mid, batch=500):
        """Send requests in batches, each batch followed by reading its replies."""
        for i in range(0, len(frames), batch):
            chunk = frames[i:i + batch]
            self.sock.sendall(b''.join(chunk))
            for _ in chunk:
                self.expect(1, cls, mid)

    def consume(self, queue, no_ack=True):
        self.sock.sendall(method(1, 60, 20, struct.pack('>H', 0) + shortstr(queue) + shortstr('') +
                                 bytes([2 if no_ack else 0]) + table({})))
        self.expect(1, 60, 21)

    def close(self, timeout=5.0):
        """connection.close and wait for close-ok; the socket is closed either way."""
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(CLOSE_CONNECTION)
            self.expect(0, 10, 51)
        except (OSError, AmqpError):
            pass
        finally:
            self.sock.close()


def try_delete(url, queues=(), exchanges=()):
    """Best-effort cleanup on a fresh connection; returns the errors."""
    errors = []
    try:
        c = Amqp(url, timeout=15)
    except (OSError, AmqpError) as e:
        return ['cleanup: cannot connect: %s' % e]
    try:
        for q in queues:
            try:
                c.queue_delete(q)
            except AmqpError as e:
                errors.append('delete queue %s: %s' % (q, e))
                c.close()
                c = Amqp(url, timeout=15)
        for x in exchanges:
            try:
                c.exchange_delete(x)
            except AmqpError as e:
                errors.append('delete exchange %s: %s' % (x, e))
                c.close()
                c = Amqp(url, timeout=15)
    except (OSError, AmqpError) as e:
        errors.append('cleanup: %s' % e)
    finally:
        c.close()
    return errors


class Sink:
    """Autoack consumers on some queues whose deliveries are read and thrown
    away unparsed, by one thread: the fanout shape's other nine queues."""

    def __init__(self, url, queues):
        self.conns = []
        for q in queues:
            c = Amqp(url)
            c.consume(q, no_ack=True)
            c.sock.setblocking(False)
            self.conns.append(c)
        self.stop_flag = threading.Event()
        self.bytes = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        sel = selectors.DefaultSelector()
        for c in self.conns:
            sel.register(c.sock, selectors.EVENT_READ, c)
        scratch = bytearray(262144)
        quiet_since = None
        while True:
            events = sel.select(0.05)
            got = False
            for key, _ in events:
                try:
                    n = key.fileobj.recv_into(scratch)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    n = 0
                if n == 0:
                    sel.unregister(key.fileobj)
                    continue
                self.bytes += n
                got = True
            now = time.monotonic()
            if got:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            # stop only once the streams have been quiet for 200 ms: the
            # server has stopped sending, so each stream ends on a frame boundary
            if self.stop_flag.is_set() and quiet_since is not None and now - quiet_since > 0.2:
                break
        sel.close()

    def close(self):
        """Call after the queues are deleted; waits for the streams to go quiet."""
        self.stop_flag.set()
        self.thread.join(30)
        for c in self.conns:
            c.buf.clear()
            c.pending.clear()
            c.sock.setblocking(True)
            c.close(timeout=3)


def open_idle_connections(url, n, batch=200, timeout=120.0):
    """Open n AMQP connections (handshake done, heartbeats off, no channel)
    with a non-blocking state machine, batch at a time.  Returns the sockets."""
    p = parse_url(url)
    done = []
    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    try:
        for start in range(0, n, batch):
            state = {}
            for _ in range(min(batch, n - start)):
                s = socket.create_connection((p['host'], p['port']), timeout=10)
                s.sendall(PROTOCOL_HEADER)
                s.setblocking(False)
                state[s] = [0, bytearray()]      # 0 want start, 1 want tune, 2 want open-ok
                sel.register(s, selectors.EVENT_READ)
            while state:
                if time.monotonic() > deadline:
                    raise RuntimeError('handshakes took longer than %ss (%d open)' % (timeout, len(done)))
                for key, _ in sel.select(1.0):
                    s = key.fileobj
                    st = state[s]
                    try:
                        data = s.recv(65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        raise RuntimeError('server closed connection %d during the handshake' % (len(done) + 1))
                    st[1] += data
                    frames, used = split_frames(st[1])
                    del st[1][:used]
                    for ftype, _ch, payload in frames:
                        if ftype != FRAME_METHOD:
                            continue
                        cm = struct.unpack_from('>HH', payload)
                        if cm == (10, 50):
                            raise RuntimeError('server refused connection %d: %d %s' %
                                               ((len(done) + 1,) + close_reason(payload)))
                        if st[0] == 0 and cm == (10, 10):
                            s.setblocking(True)
                            s.sendall(start_ok(p['user'], p['password']))
                            s.setblocking(False)
                            st[0] = 1
                        elif st[0] == 1 and cm == (10, 30):
                            s.setblocking(True)
                            s.sendall(tune_ok_and_open(payload, p['vhost']))
                            s.setblocking(False)
                            st[0] = 2
                        elif st[0] == 2 and cm == (10, 41):
                            sel.unregister(s)
                            del state[s]
                            done.append(s)
                            break
        return done
    except BaseException:
        close_idle_connections(done)
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        raise
    finally:
        sel.close()


def close_idle_connections(socks, timeout=20.0):
    """connection.close on each, then wait (bounded) for the close-oks."""
    sel = selectors.DefaultSelector()
    for s in socks:
        try:
            s.setblocking(True)
            s.sendall(CLOSE_CONNECTION)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        except OSError:
            s.close()
    deadline = time.monotonic() + timeout
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(0.5):
            try:
                data = key.fileobj.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b''
            # close-ok is the only thing an idle connection gets back
            if not data or b'\x00\x0a\x00\x33' in data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()


# --------------------------------------------------------------------------
# Processes: CPU, memory, disk, the pid behind a port.
# --------------------------------------------------------------------------

CLK_TCK = os.sysconf('SC_CLK_TCK')


def proc_cpu_s(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, TypeError):
        return None


def proc_status_kb(pid, key='VmRSS'):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except (OSError, TypeError):
        pass
    return None


def rss_mb(pid, key='VmRSS'):
    kb = proc_status_kb(pid, key)
    return kb * 1024 / MB if kb is not None else None


def listening_pid(port):
    """The pid owning the TCP socket listening on port, from `ss -ltnp`."""
    try:
        out = subprocess.run(['ss', '-Hltnp', 'sport = :%d' % port], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        i = line.find('pid=')
        if i >= 0:
            return int(line[i + 4:].split(',')[0])
    return None


def disk_usage(path):
    """Bytes allocated on disk under path (what du counts)."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                pass
    try:
        total += os.lstat(path).st_blocks * 512
    except OSError:
        pass
    return total


def fd_soft_limit(pid):
    try:
        with open('/proc/%d/limits' % pid) as f:
            for line in f:
                if line.startswith('Max open files'):
                    return int(line.split()[3])
    except (OSError, ValueError):
        pass
    return None


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def loadavg():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


_OFF_OPTIONS = {}


def off_options(binary):
    """Options that turn off what a benchmark does not measure, for those the
    binary knows (its --help lists them): the HTTP API, which would otherwise
    listen on 15672.  An older build without the option gets nothing."""
    if binary not in _OFF_OPTIONS:
        try:
            text = subprocess.run([binary, '--help'], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            text = ''
        _OFF_OPTIONS[binary] = ['--management-port', '0'] if '--management-port' in text else []
    return _OFF_OPTIONS[binary]


class Warren:
    """A warren process of our own: fresh port, its own data directory."""

    live = set()

    def __init__(self, binary, workdir, name, extra=()):
        self.binary = binary
        self.data_dir = os.path.join(workdir, name + '-data')
        self.log = os.path.join(workdir, name + '.log')
        self.port = free_port()
        self.url = 'amqp://guest:guest@127.0.0.1:%d/' % self.port
        self.extra = off_options(binary) + list(extra)
        self.proc = None

    def spawn(self):
        cmd = [self.binary, '--bind', '127.0.0.1', '--port', str(self.port),
               '--data-dir', self.data_dir, '--log-level', 'warning'] + self.extra
        logf = open(self.log, 'a')
        try:
            self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
        finally:
            logf.close()
        Warren.live.add(self)

    def wait_accepting(self, timeout=30.0, poll=0.0005):
        """Poll connect() until the port accepts; seconds since the call."""
        t0 = time.monotonic()
        while True:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return time.monotonic() - t0
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError('warren exited with status %s; log: %s' %
                                       (self.proc.returncode, self.log_tail()))
                if time.monotonic() - t0 > timeout:
                    raise RuntimeError('warren did not listen within %ss' % timeout)
                time.sleep(poll)

    def start(self):
        self.spawn()
        self.wait_accepting()
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self, timeout=30.0):
        """SIGTERM and wait; SIGKILL if it hangs.  Returns the exit status."""
        if not self.proc:
            return None
        p, self.proc = self.proc, None
        Warren.live.discard(self)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                return p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return 'killed after %ss' % timeout
        return p.returncode

    def log_tail(self, n=1500):
        try:
            with open(self.log, errors='replace') as f:
                return f.read()[-n:]
        except OSError:
            return ''


# --------------------------------------------------------------------------
# The two brokers, as the runs see them.
# --------------------------------------------------------------------------

class Bench:
    """binaries maps the name of each warren under test to its binary: one
    ('warren') against RabbitMQ here, two in ab.py (the A/B mode)."""

    def __init__(self, args, binaries=None):
        self.a = args
        self.binaries = binaries or {'warren': args.warren_bin}
        self.workdir = tempfile.mkdtemp(prefix='warren-bench-')
        self.rabbit = parse_url(args.rabbitmq_url) if getattr(args, 'rabbitmq_url', None) else None
        self.raw = []              # every run, for the JSON file
        self.tables = []           # markdown, in order
        self.problems = []         # things that looked wrong
        self.seq = 0
        self.tag = '%d-%s' % (os.getpid(), os.urandom(3).hex())

    def name(self, what):
        self.seq += 1
        return 'bench-%s-%s-%d' % (what, self.tag, self.seq)

    def rabbit_pid(self):
        return listening_pid(self.rabbit['port'])

    def warren(self, name, extra=(), broker='warren'):
        return Warren(self.binaries[broker], self.workdir, name, extra)

    def perf(self, url, args, timeout):
        """Run warren-perf; returns (RESULT dict or None, exit status, stderr tail)."""
        cmd = [self.a.perf_bin, '--url', url, '--quiet'] + [str(x) for x in args]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            return None, 'timeout', (e.stderr or '')[-500:] if isinstance(e.stderr, str) else ''
        res = None
        for line in p.stdout.splitlines():
            if line.startswith('RESULT '):
                res = json.loads(line[7:])
        return res, p.returncode, (p.stderr or '')[-500:]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_rate(x):
    if x is None:
        return 'n/a'
    return '{:,}'.format(int(round(x))).replace(',', ' ')


def fmt_us(x):
    if x is None:
        return 'n/a'
    if x >= 1e6:
        return '%.2f s' % (x / 1e6)
    if x >= 1e3:
        return '%.2f ms' % (x / 1e3)
    return '%.0f µs' % x


def fmt_num(x, spec='%.2f'):
    return 'n/a' if x is None else spec % x


def fmt_mb(x):
    return 'n/a' if x is None else '%.1f MB' % x


def fmt_ms(x):
    return 'n/a' if x is None else '%.1f ms' % (x * 1000)


def check(target, value):
    """target is ('ge', x) / ('le', x) / ('lt', x); returns 'met', 'NOT met' or ''."""
    if value is None or target is None:
        return ''
    op, x = target
    ok = value >= x if op == 'ge' else value <= x if op == 'le' else value < x
    return 'met' if ok else 'NOT met'


# --------------------------------------------------------------------------
# Load shapes: one warren-perf run per broker per repeat.
# --------------------------------------------------------------------------

class Shape:
    """A warren-perf shape.  setup(url) -> (extra perf args, cleanup state);
    teardown(url, state) undoes it.  metric picks msg/s from a RESULT."""

    def __init__(self, key, label, perf_args, target=None, target_text='', metric='consume_rate',
                 setup=None, teardown=None, rows=None, timeout=None):
        self.key, self.label, self.perf_args = key, label, perf_args
        self.target, self.target_text, self.metric = target, target_text, metric
        self.setup, self.teardown = setup, teardown
        self.rows = rows            # extra metrics shown as their own rows
        self.timeout = timeout


def run_once(b, shape, broker):
    """One run of shape on a fresh process of a warren of b.binaries, or on
    'rabbitmq'."""
    w = None
    rec = {'shape': shape.key, 'broker': broker}
    try:
        if broker in b.binaries:
            w = b.warren('w-%s-%s-%d' % (shape.key, broker, b.seq), broker=broker).start()
            url, pid = w.url, w.pid
        else:
            url, pid = b.a.rabbitmq_url, b.rabbit_pid()
        queue = b.name(shape.key)
        args = ['--queue', queue] + shape.perf_args
        state = None
        extra = []
        if shape.setup:
            extra, state = shape.setup(b, url, queue)
        rec['perf_args'] = args + extra
        cpu0 = proc_cpu_s(pid)
        t0 = time.monotonic()
        try:
            res, rc, err = b.perf(url, args + extra, shape.timeout or 300)
        finally:
            wall = time.monotonic() - t0
            cpu1 = proc_cpu_s(pid)
            rec['broker_rss_mb_after'] = rss_mb(pid)
            if shape.teardown:
                rec['cleanup_errors'] = shape.teardown(b, url, state)
            elif broker == 'rabbitmq':
                errs = try_delete(url, queues=[queue])
                if errs:
                    rec['cleanup_errors'] = errs
        rec.update(result=res, rc=rc, stderr=err, wall_s=round(wall, 3))
        if cpu0 is not None and cpu1 is not None:
            rec['broker_cpu_s'] = round(cpu1 - cpu0, 3)
        if res:
            msgs = res['published'] if shape.metric == 'publish_rate' else res['received']
            if msgs and 'broker_cpu_s' in rec:
                rec['cpu_s_per_M'] = rec['broker_cpu_s'] / msgs * 1e6
        ok = res is not None and rc == 0 and not res.get('error')
        if not ok:
            rec['failed'] = 'exit %s, error %s, lost %s; %s' % (
                rc, res and res.get('error'), res and res.get('lost'), err.strip()[-300:])
            if w:
                rec['warren_log_tail'] = w.log_tail()
    except (OSError, AmqpError, RuntimeError) as e:
        rec['failed'] = '%s: %s' % (type(e).__name__, e)
        if w:
            rec['warren_log_tail'] = w.log_tail()
    finally:
        if w:
            rc = w.stop()
            rec['warren_exit'] = rc
            if rc not in (0, None):
                rec.setdefault('failed', 'warren exited with status %s' % rc)
                rec['warren_log_tail'] = w.log_tail()
            shutil_rmtree(w.data_dir)
    b.raw.append(rec)
    r = rec.get('result') or {}
    print('  %-9s %-28s %s msg/s  lat p99 %s  cpu %s s/M%s' % (
        broker, shape.key, fmt_rate(r.get(shape.metric)),
        fmt_us((r.get('latency_us') or {}).get('p99')), fmt_num(rec.get('cpu_s_per_M')),
        ('  FAILED: ' + rec['failed']) if 'failed' in rec else ''), file=sys.stderr, flush=True)
    return rec


def shutil_rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


def run_shapes(b, shapes, brokers=('warren', 'rabbitmq')):
    """Each shape, repeat times per broker, in ABBA order.  {key: {broker: [rec]}}"""
    out = {}
    first, second = brokers
    for s in shapes:
        out[s.key] = {first: [], second: []}
        for i in range(b.a.repeat):
            order = (first, second) if i % 2 == 0 else (second, first)
            for broker in order:
                out[s.key][broker].append(run_once(b, s, broker))
    return out


def good(recs):
    return [r for r in recs if 'failed' not in r and r.get('result')]


def pick(recs, f):
    return median([f(r) for r in good(recs)])


def lat(r, k, which='latency_us'):
    return ((r['result'] or {}).get(which) or {}).get(k)


def failures(b, shape_key, recs):
    for broker, runs in recs.items():
        bad = [r for r in runs if 'failed' in r]
        if bad:
            b.problems.append('%s on %s: %d of %d runs failed: %s' % (
                shape_key, broker, len(bad), len(runs), bad[0]['failed']))


def rate_table(b, title, shapes, res):
    lines = ['### ' + title, '',
             '| shape | warren median | RabbitMQ median | ratio | warren CPU s/M msgs | '
             'RabbitMQ CPU s/M msgs | target |', '|---|---|---|---|---|---|---|']
    for s in shapes:
        recs = res[s.key]
        failures(b, s.key, recs)
        rows = s.rows or [(s.label, s.metric, s.target, s.target_text)]
        for label, metric, target, ttext in rows:
            wv = pick(recs['warren'], lambda r: r['result'].get(metric))
            rv = pick(recs['rabbitmq'], lambda r: r['result'].get(metric))
            ratio = wv / rv if wv and rv else None
            wc = pick(recs['warren'], lambda r: r.get('cpu_s_per_M'))
            rc = pick(recs['rabbitmq'], lambda r: r.get('cpu_s_per_M'))
            verdict = check(target, ratio)
            lines.append('| %s | %s msg/s | %s msg/s | %s | %s | %s | %s%s |' % (
                label, fmt_rate(wv), fmt_rate(rv), fmt_num(ratio, '%.1f×'),
                fmt_num(wc), fmt_num(rc), ttext, (' — ' + verdict) if verdict else ''))
            if verdict == 'NOT met':
                b.problems.append('%s: warren/RabbitMQ = %s, target %s' % (label, fmt_num(ratio, '%.1f×'), ttext))
    lines.append('')
    return lines


def durations(b):
    """(seconds of publishing for throughput shapes, for the latency shape)"""
    return (1.0, 3) if b.a.quick else (5.0, 10)


def limit(b, quick, full):
    """--count cap next to --duration, whichever ends publishing first: an
    unthrottled producer can outrun the consumers many times over, and the
    run lasts until the backlog is drained."""
    return ['--count', quick if b.a.quick else full]


def throughput_shapes(b):
    d, _ = durations(b)
    cap = limit(b, 500000, 2000000)
    return [
        Shape('transient-autoack', 'transient 16 B, 1 producer + 1 consumer, autoack',
              ['--size', 16, '--autoack', '--duration', d] + cap, ('ge', 6), '≥6×'),
        Shape('ack-prefetch100', 'manual ack each message, prefetch 100',
              ['--size', 16, '--prefetch', 100, '--duration', d] + cap, ('ge', 6), '≥6×'),
        Shape('ack-prefetch100-multi10', 'manual ack, prefetch 100, multi-ack every 10',
              ['--size', 16, '--prefetch', 100, '--multi-ack', 10, '--duration', d] + cap, ('ge', 6), '≥6×'),
    ]


def group_throughput(b):
    shapes = throughput_shapes(b)
    res = run_shapes(b, shapes)
    b.tables.append(rate_table(b, 'Throughput (consume rate, msg/s)', shapes, res))


def tutorial_shapes(b):
    d, _ = durations(b)
    return [Shape('tutorial', "tutorial: persistent, durable, prefetch 1, ack each, 4 consumers",
                  ['--persistent', '--durable', '--prefetch', 1, '--consumers', 4, '--duration', d] +
                  limit(b, 50000, 200000),
                  ('ge', 8), '≥8×')]


def group_tutorial(b):
    shapes = tutorial_shapes(b)
    res = run_shapes(b, shapes)
    lines = rate_table(b, "The work-queue tutorial's shape (consume rate, msg/s)", shapes, res)
    # The ceiling of this shape with no broker at all (tools/bench/roundtrip.c):
    # four clients answering each frame at once, on one polling thread as
    # warren-perf's consumers are, and on one thread each.
    rt = os.path.join(ROOT, 'bin', 'warren-roundtrip')
    if os.path.exists(rt):
        cells = []
        for threads in (1, 4):
            rates = []
            for _ in range(b.a.repeat):
                p = subprocess.run([rt, '--clients', '4', '--client-threads', str(threads),
                                    '--seconds', '1' if b.a.quick else '3'],
                                   capture_output=True, text=True, timeout=60)
                for line in p.stdout.splitlines():
                    if line.startswith('RESULT '):
                        rates.append(json.loads(line[7:])['rate'])
            b.raw.append({'shape': 'roundtrip-ceiling', 'client_threads': threads, 'rates': rates})
            cells.append('%s msg/s with the clients on %s' % (
                fmt_rate(median(rates)), 'one thread' if threads == 1 else 'four threads'))
        lines.insert(-1, '')
        lines.insert(-1, 'The same shape with no broker (`bin/warren-roundtrip --clients 4`, median of %d): %s. '
                     'No broker can go faster here: each message costs one round trip.' % (
                         b.a.repeat, '; '.join(cells)))
    b.tables.append(lines)


def group_latency(b):
    _, d = durations(b)
    s = Shape('latency-1000', 'end-to-end latency at 1 000 msg/s',
              ['--rate', 1000, '--duration', d])
    res = run_shapes(b, [s])
    recs = res[s.key]
    failures(b, s.key, recs)
    lines = ['### Latency at a fixed 1 000 msg/s (transient 16 B, manual ack)', '',
             '| shape | warren p50 / p99 / p99.9 | RabbitMQ p50 / p99 / p99.9 | ratio of p99s | '
             'warren CPU s/M msgs | RabbitMQ CPU s/M msgs | target |', '|---|---|---|---|---|---|---|']
    w = [pick(recs['warren'], lambda r, k=k: lat(r, k)) for k in ('p50', 'p99', 'p999')]
    r = [pick(recs['rabbitmq'], lambda r, k=k: lat(r, k)) for k in ('p50', 'p99', 'p999')]
    ratio = w[1] / r[1] if w[1] and r[1] else None
    verdict = check(('le', 0.1), ratio)
    if verdict == 'NOT met':
        b.problems.append('latency p99 at 1000 msg/s: warren/RabbitMQ = %.2f, target ≤ 0.1' % ratio)
    lines.append('| %s | %s | %s | %s | %s | %s | ≤ 1/10 of RabbitMQ%s |' % (
        s.label, ' / '.join(fmt_us(x) for x in w), ' / '.join(fmt_us(x) for x in r),
        fmt_num(ratio, '%.3f'), fmt_num(pick(recs['warren'], lambda r: r.get('cpu_s_per_M'))),
        fmt_num(pick(recs['rabbitmq'], lambda r: r.get('cpu_s_per_M'))),
        (' — ' + verdict) if verdict else ''))
    # The same path with no broker (tools/bench/roundtrip.c --rate): a relay
    # that only copies bytes, so its latency is what this machine's wake-ups
    # and loopback TCP cost before any broker adds anything.
    rt = os.path.join(ROOT, 'bin', 'warren-roundtrip')
    if os.path.exists(rt):
        runs = []
        for _ in range(b.a.repeat):
            p = subprocess.run([rt, '--rate', '1000', '--seconds', str(d)],
                               capture_output=True, text=True, timeout=120)
            for line in p.stdout.splitlines():
                if line.startswith('RESULT '):
                    runs.append(json.loads(line[7:])['latency_us'])
        b.raw.append({'shape': 'latency-relay-floor', 'runs': runs})
        if runs:
            f = [median([x[k] for x in runs]) for k in ('p50', 'p99', 'p999')]
            lines.append('| the same path with no broker (`bin/warren-roundtrip --rate 1000`) | %s | | %s | | | |' % (
                ' / '.join(fmt_us(x) for x in f),
                fmt_num(f[1] / r[1] if r[1] else None, '%.3f')))
    lines.append('')
    b.tables.append(lines)


def confirm_shapes(b):
    d, _ = durations(b)
    shapes = []
    for size, sname in ((16, '16 B'), (4096, '4 KiB')):
        for w in (100, 1000):
            shapes.append(Shape('confirm-%d-w%d' % (size, w),
                                'persistent %s, confirms window %d, prefetch 100' % (sname, w),
                                ['--persistent', '--durable', '--size', size, '--confirm', w,
                                 '--prefetch', 100, '--duration', d] + limit(b, 500000, 2000000),
                                ('ge', 6), '≥6×'))
    return shapes


def group_confirms(b):
    shapes = confirm_shapes(b)
    res = run_shapes(b, shapes)
    lines = rate_table(b, 'Persistent messages with publisher confirms (consume rate, msg/s)', shapes, res)
    lines += ['Confirm latency (publish to the confirm that covers it), medians of the runs:', '',
              '| shape | warren p50 / p99 | RabbitMQ p50 / p99 |', '|---|---|---|']
    for s in shapes:
        cells = []
        for broker in ('warren', 'rabbitmq'):
            cells.append(' / '.join(fmt_us(pick(res[s.key][broker], lambda r, k=k: lat(r, k, 'confirm_latency_us')))
                                    for k in ('p50', 'p99')))
        lines.append('| %s | %s | %s |' % (s.label, cells[0], cells[1]))
    lines.append('')
    b.tables.append(lines)


EXPIRES = {'x-expires': 600000}   # a backstop: leftovers vanish 10 min after a crash


def fanout_setup(b, url, queue):
    ex = queue + '-x'
    others = ['%s-%d' % (queue, i) for i in range(1, 10)]
    try:
        c = Amqp(url)
        try:
            c.exchange_declare(ex, 'fanout')
            c.pipeline([c.queue_declare_frame(q, args=EXPIRES) for q in [queue] + others], 50, 11)
            c.pipeline([c.bind_frame(q, ex, '') for q in [queue] + others], 50, 21)
        finally:
            c.close()
        sink = Sink(url, others)
    except BaseException:
        try_delete(url, queues=[queue] + others, exchanges=[ex])
        raise
    return ['--exchange', ex, '--routing-key', 'any', '--predeclared'], (ex, [queue] + others, sink)


def fanout_teardown(b, url, state):
    if not state:
        return []
    ex, queues, sink = state
    errs = try_delete(url, queues=queues, exchanges=[ex])
    sink.close()
    return errs


TOPIC_QUEUES = 100


def topic_pattern(i):
    return ('bench.k%d.*' % i) if i % 2 == 0 else ('*.k%d.#' % i)


def topic_setup(b, url, queue):
    ex = queue + '-x'
    n = b.a.topic_bindings
    queues = [queue] + ['%s-%d' % (queue, i) for i in range(1, TOPIC_QUEUES)]
    try:
        c = Amqp(url, timeout=120)
        try:
            c.exchange_declare(ex, 'topic')
            c.pipeline([c.queue_declare_frame(q, args=EXPIRES) for q in queues], 50, 11)
            c.pipeline([c.bind_frame(queues[i % TOPIC_QUEUES], ex, topic_pattern(i)) for i in range(n)],
                       50, 21)
        finally:
            c.close()
    except BaseException:
        try_delete(url, queues=queues, exchanges=[ex])
        raise
    # `bench.k{j}.x` with j even and j % 100 == 0 matches exactly one binding,
    # `bench.k{j}.*`, which leads to the queue warren-perf consumes
    j = (n // 2) // TOPIC_QUEUES * TOPIC_QUEUES
    return ['--exchange', ex, '--routing-key', 'bench.k%d.x' % j, '--predeclared'], (ex, queues)


def topic_teardown(b, url, state):
    if not state:
        return []
    ex, queues = state
    return try_delete(url, queues=queues, exchanges=[ex])


def routing_shapes(b):
    d, _ = durations(b)
    n = b.a.topic_bindings
    # confirms keep the publisher from running ahead of the routing: without
    # them, "published" counts what sits in socket buffers and mailboxes
    base = ['--size', 16, '--autoack', '--confirm', 1000, '--duration', d] + limit(b, 1000000, 4000000)
    return [
        Shape('fanout-10', 'fanout to 10 queues', base, metric='publish_rate',
              setup=fanout_setup, teardown=fanout_teardown,
              rows=[('fanout to 10 queues: publish rate (confirmed)', 'publish_rate', ('ge', 10), '≥10×'),
                    ('fanout to 10 queues: consume rate of one queue', 'consume_rate', None, '')]),
        Shape('topic-%d' % n, 'topic, %d bindings' % n, base, metric='publish_rate',
              setup=topic_setup, teardown=topic_teardown, timeout=600,
              rows=[('topic, %s bindings: publish rate (confirmed)' % fmt_rate(n), 'publish_rate', ('ge', 10), '≥10×'),
                    ('topic, %s bindings: consume rate' % fmt_rate(n), 'consume_rate', None, '')]),
    ]


def group_routing(b):
    shapes = routing_shapes(b)
    res = run_shapes(b, shapes)
    b.tables.append(rate_table(b, 'Routing (transient 16 B, confirms window 1000, autoack; msg/s; '
                              'CPU per million messages published)', shapes, res))


# --------------------------------------------------------------------------
# Memory and start-up.
# --------------------------------------------------------------------------

def group_memory(b):
    rec = {'shape': 'memory'}
    b.raw.append(rec)
    rpid = b.rabbit_pid()
    rows = []
    # idle RSS right after start
    w = b.warren('w-idle')
    try:
        w.start()
        time.sleep(1.0)
        rec['warren_idle_rss_mb'] = rss_mb(w.pid)
    finally:
        w.stop()
    rec['rabbitmq_rss_mb_now'] = rss_mb(rpid) if rpid else None
    rows.append(('idle RSS after start', fmt_mb(rec['warren_idle_rss_mb']),
                 fmt_mb(rec['rabbitmq_rss_mb_now']) + ' (running instance, not freshly started)',
                 '< 5 MB', check(('lt', 5), rec['warren_idle_rss_mb'])))

    # idle connections
    n = b.a.connections
    w = b.warren('w-conns')
    try:
        w.start()
        before = rss_mb(w.pid)
        t0 = time.monotonic()
        socks = open_idle_connections(w.url, n)
        rec['warren_conn_open_s'] = time.monotonic() - t0
        try:
            time.sleep(2.0)
            rec['warren_conns_rss_mb'] = rss_mb(w.pid)
            rec['warren_conns_before_mb'] = before
        finally:
            close_idle_connections(socks)
    except (OSError, RuntimeError) as e:
        b.problems.append('warren with %d idle connections: %s' % (n, e))
        rec['warren_conns_error'] = str(e)
    finally:
        w.stop()
    rn = None
    if rpid:
        limit = fd_soft_limit(rpid) or 1024
        rn = min(n, limit // 2)
        rec['rabbitmq_fd_soft_limit'] = limit
        before = rss_mb(rpid)
        try:
            socks = open_idle_connections(b.a.rabbitmq_url, rn, batch=100)
            try:
                time.sleep(3.0)
                rec['rabbitmq_conns_rss_mb'] = rss_mb(rpid)
                rec['rabbitmq_conns_before_mb'] = before
                rec['rabbitmq_conns'] = rn
            finally:
                close_idle_connections(socks)
        except (OSError, RuntimeError) as e:
            rec['rabbitmq_conns_error'] = str(e)
    wv = rec.get('warren_conns_rss_mb')
    rv = rec.get('rabbitmq_conns_rss_mb')
    if rv is not None:
        per = (rv - rec['rabbitmq_conns_before_mb']) / rn
        rtext = '%s with %d connections (+%.1f kB each; ≈%s at %d)' % (
            fmt_mb(rv), rn, per * 1000, fmt_mb(rec['rabbitmq_conns_before_mb'] + per * n), n)
    else:
        rtext = 'n/a ' + rec.get('rabbitmq_conns_error', '')
    wtext = fmt_mb(wv)
    if wv is not None:
        wtext += ' (+%.1f kB each)' % ((wv - rec['warren_conns_before_mb']) / n * 1000)
    rows.append(('RSS with %s idle AMQP connections' % fmt_rate(n), wtext, rtext, '< 100 MB',
                 check(('lt', 100), wv)))

    # start-up to accepting connections
    times = []
    for i in range(b.a.startups):
        w = b.warren('w-start-%d' % i)
        try:
            t0 = time.monotonic()
            w.spawn()
            w.wait_accepting(poll=0.0002)
            times.append(time.monotonic() - t0)
        finally:
            w.stop()
    rec['warren_startup_s'] = times
    st = median(times)
    rows.append(('start-up to accepting connections (median of %d)' % len(times), fmt_ms(st),
                 'not measured (shared instance; see --rabbitmq-restart-cmd)', '< 50 ms',
                 check(('lt', 0.05), st)))
    for r in rows:
        if r[4] == 'NOT met':
            b.problems.append('%s: warren %s, target %s' % (r[0], r[1], r[3]))
    b.tables.append(['### Memory and start-up', '', '| measure | warren | RabbitMQ | target |',
                     '|---|---|---|---|'] +
                    ['| %s | %s | %s | %s%s |' % (r[0], r[1], r[2], r[3], (' — ' + r[4]) if r[4] else '')
                     for r in rows] + [''])


# --------------------------------------------------------------------------
# The store: a million persistent messages.
# --------------------------------------------------------------------------

def wait_serving(url, queue, count, timeout, proc=None):
    """Poll connect + passive queue.declare until it answers with count
    messages; seconds taken, and the time the port first accepted."""
    t0 = time.monotonic()
    accepted = None
    last = None
    while time.monotonic() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError('broker exited with status %s' % proc.returncode)
        try:
            c = Amqp(url, timeout=10)
            if accepted is None:
                accepted = time.monotonic() - t0
            try:
                last = c.queue_declare(queue, passive=True)[0]
            finally:
                c.close()
            if last >= count:
                return time.monotonic() - t0, accepted, last
        except ConnectionRefusedError:
            pass
        except (OSError, AmqpError) as e:
            last = str(e)
        time.sleep(0.001)
    raise RuntimeError('queue %s not serving %d messages after %ss (last: %s)' % (queue, count, timeout, last))


class DiskSampler:
    """measure() (bytes on disk) every 0.25 s in a thread; keeps the peak."""

    def __init__(self, measure):
        self.measure, self.peak, self.stop_flag = measure, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_flag.is_set():
            self.peak = max(self.peak, self.measure())
            self.stop_flag.wait(0.25)

    def close(self):
        self.stop_flag.set()
        self.thread.join()
        self.peak = max(self.peak, self.measure())
        return self.peak


class RabbitQueueDirs:
    """Disk use of the RabbitMQ queue directories (msg_stores/vhosts/*/queues/*)
    that were not there when this was made: the index and journal of the
    queue under test, which hold its messages when they are smaller than
    queue_index_embed_msgs_below (4096 bytes by default)."""

    def __init__(self, node_dir):
        self.pattern = os.path.join(node_dir, 'msg_stores', 'vhosts', '*', 'queues', '*')
        self.before = set(glob.glob(self.pattern))

    def __call__(self):
        return sum(disk_usage(d) for d in set(glob.glob(self.pattern)) - self.before)


def after_drain(measure, peak, seconds=10.0):
    """Disk use right after draining, at +seconds, and when it first fell
    below 1% of peak (None if not within seconds)."""
    t0 = time.monotonic()
    limit = peak * 0.01
    at0 = measure()
    below = 0.0 if at0 < limit else None
    last = at0
    while time.monotonic() - t0 < seconds:
        time.sleep(0.25)
        last = measure()
        if below is None and last < limit:
            below = time.monotonic() - t0
    return at0, last, below


def store_run(b, broker, n):
    rec = {'shape': 'store-%d' % n, 'broker': broker}
    b.raw.append(rec)
    queue = b.name('store')
    w = None
    pub = ['--producers', 1, '--consumers', 0, '--count', n, '--size', 100, '--persistent',
           '--confirm', 1000, '--queue', queue, '--durable']
    con = ['--producers', 0, '--consumers', 1, '--count', n, '--queue', queue, '--predeclared',
           '--prefetch', 1000, '--multi-ack', 100]
    rec['publish_args'], rec['consume_args'] = pub, con
    url = b.a.rabbitmq_url
    try:
        if broker == 'warren':
            w = b.warren('w-store').start()
            url, pid, data = w.url, w.pid, w.data_dir
        else:
            url, pid, data = b.a.rabbitmq_url, b.rabbit_pid(), b.a.rabbitmq_data_dir
            if data and not os.path.isdir(data):
                data = None
        measure = None
        if data and broker == 'warren':
            measure = lambda: disk_usage(data)      # noqa: E731
        elif data:
            measure = RabbitQueueDirs(data)
            rec['node_dir_before_mb'] = disk_usage(data) / MB
        rec['disk_before_mb'] = measure() / MB if measure else None
        sampler = DiskSampler(measure) if measure else None
        try:
            res, rc, err = b.perf(url, pub, 1800)
            rec['publish'] = res
            if not res or rc != 0 or res.get('error') or res.get('confirmed', 0) < n:
                raise RuntimeError('publishing %d failed: exit %s %s %s' % (n, rc, res and res.get('error'), err))
            time.sleep(1.0)
            rec['rss_queued_mb'] = rss_mb(pid)
            rec['hwm_queued_mb'] = rss_mb(pid, 'VmHWM') if broker == 'warren' else None
            rec['disk_queued_mb'] = measure() / MB if measure else None
            if broker == 'rabbitmq' and data:
                rec['node_dir_queued_mb'] = disk_usage(data) / MB
            if broker == 'warren':
                t0 = time.monotonic()
                rec['stop_exit'] = w.stop(timeout=120)
                rec['stop_s'] = time.monotonic() - t0
                t0 = time.monotonic()
                w.spawn()
                serving, accepted, count = wait_serving(w.url, queue, n, 300, w.proc)
                rec['restart_serving_s'] = time.monotonic() - t0
                rec['restart_accept_s'] = accepted
                rec['restart_count'] = count
                pid = w.pid
                rec['rss_restarted_mb'] = rss_mb(pid)
                time.sleep(2.0)
                rec['rss_restarted_2s_mb'] = rss_mb(pid)
            elif b.a.rabbitmq_restart_cmd:
                t0 = time.monotonic()
                subprocess.run(b.a.rabbitmq_restart_cmd, shell=True, timeout=600)
                serving, accepted, count = wait_serving(url, queue, n, 600)
                rec['restart_serving_s'] = time.monotonic() - t0
                rec['restart_count'] = count
                pid = b.rabbit_pid()
                rec['rss_restarted_mb'] = rss_mb(pid)
            res, rc, err = b.perf(url, con, 1800)
            rec['consume'] = res
            if not res or rc != 0 or res.get('error') or res.get('received', 0) < n:
                raise RuntimeError('consuming %d failed: exit %s %s %s' % (n, rc, res and res.get('error'), err))
        finally:
            peak = sampler.close() if sampler else None
        rec['rss_drained_mb'] = rss_mb(pid)
        if measure:
            peak = max(peak, (rec.get('disk_queued_mb') or 0) * MB)
            rec['disk_peak_mb'] = peak / MB
            at0, at10, below = after_drain(measure, peak)
            rec['disk_drained_mb'], rec['disk_10s_mb'], rec['disk_below_1pct_s'] = at0 / MB, at10 / MB, below
            if broker == 'rabbitmq':
                rec['node_dir_10s_mb'] = disk_usage(data) / MB
        c = Amqp(url)
        try:
            rec['left_in_queue'] = c.queue_declare(queue, passive=True)[0]
        finally:
            c.close()
    except (OSError, AmqpError, RuntimeError, subprocess.SubprocessError) as e:
        rec['failed'] = '%s: %s' % (type(e).__name__, e)
        b.problems.append('store, %s: %s' % (broker, rec['failed']))
        if w:
            rec['warren_log_tail'] = w.log_tail()
    finally:
        if w:
            rc = w.stop(timeout=120)
            if rc not in (0, None):
                b.problems.append('store: warren exited with %s' % rc)
            shutil_rmtree(w.data_dir)
        else:
            errs = try_delete(url, queues=[queue])
            if errs:
                rec['cleanup_errors'] = errs
    print('  %-9s store %d: %s' % (broker, n, {k: v for k, v in rec.items()
                                                if k.endswith(('_mb', '_s')) and v is not None}),
          file=sys.stderr, flush=True)
    return rec


def group_store(b):
    n = b.a.store_messages
    w = store_run(b, 'warren', n)
    r = store_run(b, 'rabbitmq', n)

    def rate(rec, part, k):
        return (rec.get(part) or {}).get(k)

    def disk(rec):
        if rec.get('disk_peak_mb') is None:
            return 'n/a'
        s = 'peak %s, drained %s, +10 s %s' % (fmt_mb(rec['disk_peak_mb']), fmt_mb(rec.get('disk_drained_mb')),
                                               fmt_mb(rec.get('disk_10s_mb')))
        if rec['broker'] == 'rabbitmq':
            s += ' (the queue\'s own directory; the whole node directory went %s → %s → %s)' % (
                fmt_mb(rec.get('node_dir_before_mb')), fmt_mb(rec.get('node_dir_queued_mb')),
                fmt_mb(rec.get('node_dir_10s_mb')))
        below = rec.get('disk_below_1pct_s')
        s += '; below 1%% of peak %s' % ('after %.1f s' % below if below is not None else 'not within 10 s')
        return s

    wb = w.get('disk_below_1pct_s')
    rows = [
        ('publish %s × 100 B persistent, confirms 1000' % fmt_rate(n),
         fmt_rate(rate(w, 'publish', 'publish_rate')) + ' msg/s',
         fmt_rate(rate(r, 'publish', 'publish_rate')) + ' msg/s', '', ''),
        ('RSS with the messages queued', fmt_mb(w.get('rss_queued_mb')) + ' (peak %s)' % fmt_mb(w.get('hwm_queued_mb')),
         fmt_mb(r.get('rss_queued_mb')), '< 100 MB', check(('lt', 100), w.get('rss_queued_mb'))),
        ('restart: SIGTERM to exit', fmt_num(w.get('stop_s'), '%.2f s'), 'n/a', '', ''),
        ('restart: start to serving the full count (passive declare)',
         fmt_num(w.get('restart_serving_s'), '%.3f s'),
         fmt_num(r.get('restart_serving_s'), '%.2f s (restart command to serving)')
         if r.get('restart_serving_s') is not None else 'skipped (shared instance; --rabbitmq-restart-cmd)',
         '< 1 s', check(('lt', 1.0), w.get('restart_serving_s'))),
        ('RSS after restart (serving / +2 s)', '%s / %s' % (fmt_mb(w.get('rss_restarted_mb')),
                                                          fmt_mb(w.get('rss_restarted_2s_mb'))),
         fmt_mb(r.get('rss_restarted_mb')), '< 100 MB', check(('lt', 100), max(
             [x for x in (w.get('rss_restarted_mb'), w.get('rss_restarted_2s_mb')) if x is not None], default=None))),
        ('consume all, prefetch 1000, multi-ack 100',
         fmt_rate(rate(w, 'consume', 'consume_rate')) + ' msg/s',
         fmt_rate(rate(r, 'consume', 'consume_rate')) + ' msg/s', '', ''),
        ('disk use of the data directory', disk(w), disk(r), '< 1% of peak within 10 s of draining',
         check(('le', 10.0), wb) if w.get('disk_peak_mb') is not None else ''),
    ]
    for row in rows:
        if row[4] == 'NOT met':
            b.problems.append('store: %s: warren %s, target %s' % (row[0], row[1], row[3]))
    b.tables.append(['### The store: %s persistent 100-byte messages' % fmt_rate(n), '',
                     '| measure | warren | RabbitMQ | target |', '|---|---|---|---|'] +
                    ['| %s | %s | %s | %s%s |' % (x[0], x[1], x[2], x[3], (' — ' + x[4]) if x[4] else '')
                     for x in rows] + [''])


# --------------------------------------------------------------------------

GROUPS = {'throughput': group_throughput, 'tutorial': group_tutorial, 'latency': group_latency,
          'confirms': group_confirms, 'routing': group_routing, 'memory': group_memory,
          'store': group_store}


def main():
    ap = argparse.ArgumentParser(description='Benchmark warren against RabbitMQ on this machine '
                                             '(see doc/benchmarks.md).')
    ap.add_argument('--rabbitmq-url', default='amqp://guest:guest@127.0.0.1:5673/')
    ap.add_argument('--rabbitmq-data-dir', default='/var/lib/rabbitmq/mnesia/rabbit@localhost',
                    help='for the store group\'s disk figures (default %(default)s)')
    ap.add_argument('--rabbitmq-restart-cmd', help='shell command that restarts RabbitMQ, for the '
                    'store group\'s restart time (default: RabbitMQ is not restarted)')
    ap.add_argument('--only', help='comma-separated groups: ' + ','.join(GROUPS))
    ap.add_argument('--repeat', type=int, help='runs per shape per broker (default 3, 1 with --quick)')
    ap.add_argument('--quick', action='store_true', help='short runs, for a smoke test')
    ap.add_argument('--out', help='also write the markdown tables to this file')
    ap.add_argument('--json', help='raw results (every RESULT line and broker figure); '
                    'default /tmp/warren-bench-TIME.json')
    ap.add_argument('--warren-bin', default=os.path.join(ROOT, 'bin', 'warren'))
    ap.add_argument('--perf-bin', default=os.path.join(ROOT, 'bin', 'warren-perf'))
    ap.add_argument('--connections', type=int, help='idle connections (default 10000, 1000 with --quick)')
    ap.add_argument('--store-messages', type=int, help='store group size (default 1000000, 100000 with --quick)')
    ap.add_argument('--topic-bindings', type=int, default=10000)
    ap.add_argument('--startups', type=int, help='start-up samples (default 5)')
    a = ap.parse_args()
    if 'asan' in os.path.basename(a.warren_bin):
        ap.error('benchmark the release build, not %s' % a.warren_bin)
    for path in (a.warren_bin, a.perf_bin):
        if not os.access(path, os.X_OK):
            ap.error('%s is missing: run make' % path)
    if a.repeat is None:
        a.repeat = 1 if a.quick else 3
    if a.connections is None:
        a.connections = 1000 if a.quick else 10000
    if a.store_messages is None:
        a.store_messages = 100000 if a.quick else 1000000
    if a.startups is None:
        a.startups = 3 if a.quick else 5
    groups = a.only.split(',') if a.only else list(GROUPS)
    for g in groups:
        if g not in GROUPS:
            ap.error('unknown group %s (have %s)' % (g, ', '.join(GROUPS)))
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    if not a.json:
        a.json = '/tmp/warren-bench-%s.json' % stamp

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if a.connections + 100 > hard:
        ap.error('--connections %d needs more than the %d descriptors allowed' % (a.connections, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    b = Bench(a)
    rpid = b.rabbit_pid()
    try:
        c = Amqp(a.rabbitmq_url, timeout=10)
        c.close()
    except (OSError, AmqpError) as e:
        sys.exit('cannot reach RabbitMQ at %s: %s' % (a.rabbitmq_url, e))
    if rpid is None:
        print('warning: no pid found listening on port %d; RabbitMQ CPU and memory will be n/a'
              % b.rabbit['port'], file=sys.stderr)
    head = ['## Run of %s' % datetime.datetime.now().strftime('%Y-%m-%d %H:%M'), '',
            '%s; %d runs per shape per broker; load average at start %s; %s CPUs; RabbitMQ pid %s at %s.' % (
                'quick pass (`--quick`)' if a.quick else 'full run', a.repeat, loadavg(), os.cpu_count(),
                rpid, a.rabbitmq_url.split('@')[-1]), '']
    t_start = time.monotonic()
    try:
        for g in groups:
            print('== %s (load %s)' % (g, loadavg()), file=sys.stderr, flush=True)
            GROUPS[g](b)
    except KeyboardInterrupt:
        b.problems.append('interrupted')
    finally:
        for w in list(Warren.live):
            w.stop()
        shutil_rmtree(b.workdir)
    head[2] += ' Load average at the end %s; %.0f s in all.' % (loadavg(), time.monotonic() - t_start)
    lines = head + [l for t in b.tables for l in t]
    if b.problems:
        lines += ['Problems seen in this run:', ''] + ['- ' + p for p in b.problems] + ['']
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text)
    with open(a.json, 'w') as f:
        json.dump({'started': stamp, 'args': vars(a), 'runs': b.raw, 'problems': b.problems}, f, indent=1)
    print('raw results: %s' % a.json, file=sys.stderr)


if __name__ == '__main__':
    main()
