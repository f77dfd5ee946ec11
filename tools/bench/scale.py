#!/usr/bin/python3
"""scale.py - issue 16's measurements: huge operations, many queues, many
consumers, many connections (doc/benchmarks.md, the "Scale" groups).

    tools/bench/scale.py huge --messages 1000000 [--op purge|delete|vhost]
    tools/bench/scale.py queues --queues 100000
    tools/bench/scale.py consumers --consumers 10000 --messages 200000
    tools/bench/scale.py conns --connections 50000

Each run starts its own warren (--warren-bin, bin/warren by default) on a
fresh port and data directory, and stops it by pid.  `huge` fills a durable
queue with persistent 16-byte messages (bin/warren-perf), then does the
operation while a second client does round trips (queue.declare passive on
another queue) back to back, and reports the round trips' p50/p99/max from
the operation's request until the disk space has come back.  --rabbitmq-url
runs the same shape against RabbitMQ too (its disk space is not watched).

Reuses the raw AMQP client and the process helpers of bench.py.
"""
import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
from bench import Amqp, method, shortstr, table  # noqa: E402

ROOT = bench.ROOT


def pct(xs, p):
    if not xs:
        return float('nan')
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def start_warren(binary, workdir, name, extra=()):
    w = bench.Warren(binary, workdir, name, extra)
    w.start()
    return w


def fill(perf, url, queue, n, vhost_url=None):
    """n persistent 16-byte messages into durable queue `queue`, confirmed."""
    cmd = [perf, '--url', vhost_url or url, '--quiet', '--producers', '1', '--consumers', '0',
           '--count', str(n), '--persistent', '--confirm', '1000', '--queue', queue, '--durable']
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError('warren-perf failed: %s %s' % (p.stdout[-500:], p.stderr[-500:]))
    return time.monotonic() - t0


class Pinger(threading.Thread):
    """Round trips back to back on its own connection: (time sent, seconds)."""

    def __init__(self, url, queue):
        super().__init__(daemon=True)
        self.c = Amqp(url)
        self.c.queue_declare(queue)
        self.queue = queue
        self.samples = []
        self.stop_flag = False

    def run(self):
        while not self.stop_flag:
            t0 = time.monotonic()
            self.c.queue_declare(self.queue, passive=True)
            self.samples.append((t0, time.monotonic() - t0))
        self.c.close()


def purge(c, name):
    c.sock.sendall(method(1, 50, 30, struct.pack('>H', 0) + shortstr(name) + b'\0'))
    p = c.expect(1, 50, 31)
    return struct.unpack_from('>I', p, 4)[0]


def http_delete_vhost(port, name):
    import urllib.request
    import base64
    req = urllib.request.Request('http://127.0.0.1:%d/api/vhosts/%s' % (port, name), method='DELETE')
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    urllib.request.urlopen(req, timeout=600).read()


def http_put(port, path, body=None):
    import urllib.request
    import base64
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path), method='PUT',
                                 data=json.dumps(body or {}).encode())
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    req.add_header('content-type', 'application/json')
    urllib.request.urlopen(req, timeout=60).read()


def huge_rabbitmq(a):
    """The purge and delete shapes on RabbitMQ (--rabbitmq-url): the same
    fill and round trips, unique queue names, deleted after; its disk is
    not watched, so "during" ends 2 s after the answer."""
    w = External(a.rabbitmq_url)
    tag = '%d-%s' % (os.getpid(), os.urandom(3).hex())
    qn, pn = 'huge-' + tag, 'ping-' + tag
    out = {'shape': 'huge-' + a.op, 'broker': 'rabbitmq', 'messages': a.messages}
    try:
        out['fill_s'] = fill(a.perf_bin, w.url, qn, a.messages)
        p = Pinger(w.url, pn)
        p.start()
        time.sleep(1.0)
        c = Amqp(w.url)
        t0 = time.monotonic()
        if a.op == 'purge':
            out['purged'] = purge(c, qn)
        else:
            c.queue_delete(qn)
        out['op_s'] = time.monotonic() - t0
        time.sleep(2.0)
        t1 = time.monotonic()
        p.stop_flag = True
        p.join()
        c.close()
        during = [s_ for t, s_ in p.samples if t0 <= t <= t1]
        out['rtt_during_ms'] = {'p50': pct(during, 50) * 1e3, 'p99': pct(during, 99) * 1e3,
                                'max': max(during) * 1e3 if during else None, 'n': len(during)}
    finally:
        bench.try_delete(a.rabbitmq_url, queues=[qn, pn])
    return out


def huge(a):
    if a.rabbitmq_url:
        return huge_rabbitmq(a)
    workdir = a.workdir
    out = {'shape': 'huge-' + a.op, 'messages': a.messages}
    extra = []
    mport = None
    if a.op == 'vhost':
        mport = bench.free_port()
        extra = ['--management-port', str(mport)]
    w = bench.Warren(a.warren_bin, workdir, 'huge-%s-%d' % (a.op, os.getpid()), [])
    if mport:
        w.extra = [x for x in w.extra if x not in ('--management-port', '0')] + extra
    w.start()
    try:
        url = w.url
        target_url = url
        if a.op == 'vhost':
            http_put(mport, '/api/vhosts/big')
            http_put(mport, '/api/permissions/big/guest', {'configure': '.*', 'write': '.*', 'read': '.*'})
            target_url = url + 'big'
            c = Amqp(target_url)
            frames = []
            for i in range(a.queues):
                frames.append(c.queue_declare_frame('q%d' % i, durable=True))
            c.pipeline(frames, 50, 11)
            frames = [c.bind_frame('q%d' % i, 'amq.direct', 'q%d' % i) for i in range(a.queues)]
            c.pipeline(frames, 50, 21)
            c.close()
            out['queues'] = a.queues
        out['fill_s'] = fill(a.perf_bin, url, 'huge', a.messages, target_url)
        msgs = os.path.join(w.data_dir, 'msgs')
        out['disk_before_mb'] = bench.disk_usage(msgs) / bench.MB
        out['rss_before_mb'] = bench.rss_mb(w.pid)
        p = Pinger(url, 'ping')
        p.start()
        time.sleep(1.0)
        c = Amqp(url if a.op != 'vhost' else url)
        t0 = time.monotonic()
        if a.op == 'purge':
            c2 = Amqp(target_url)
            out['purged'] = purge(c2, 'huge')
            c2.close()
        elif a.op == 'delete':
            c2 = Amqp(target_url)
            c2.queue_delete('huge')
            c2.close()
        else:
            http_delete_vhost(mport, 'big')
        out['op_s'] = time.monotonic() - t0
        # the disk space comes back as the slices finish
        deadline = time.monotonic() + a.timeout
        while time.monotonic() < deadline and bench.disk_usage(msgs) > 64 * 1024 * 1024 * 0 + 1e6:
            time.sleep(0.05)
        t1 = time.monotonic()
        out['space_back_s'] = t1 - t0
        out['disk_after_mb'] = bench.disk_usage(msgs) / bench.MB
        time.sleep(0.5)
        p.stop_flag = True
        p.join()
        c.close()
        before = [s for t, s in p.samples if t < t0]
        during = [s for t, s in p.samples if t0 <= t <= t1]
        out['rtt_before_ms'] = {'p50': pct(before, 50) * 1e3, 'p99': pct(before, 99) * 1e3,
                                'max': max(before) * 1e3 if before else None, 'n': len(before)}
        out['rtt_during_ms'] = {'p50': pct(during, 50) * 1e3, 'p99': pct(during, 99) * 1e3,
                                'max': max(during) * 1e3 if during else None, 'n': len(during)}
        out['rss_after_mb'] = bench.rss_mb(w.pid)
    finally:
        w.stop()
    return out


def crash_consistency(a):
    """Purge a big queue, kill -9 during its slices, restart: how many come back."""
    w = bench.Warren(a.warren_bin, a.workdir, 'crash-%d' % os.getpid())
    w.start()
    try:
        fill(a.perf_bin, w.url, 'huge', a.messages)
        c = Amqp(w.url)
        n = purge(c, 'huge')
        os.kill(w.pid, signal.SIGKILL)
        w.proc.wait()
        w.proc = None
        w.start()
        c = Amqp(w.url)
        back = c.queue_declare('huge', passive=True)[0]
        c.close()
        return {'shape': 'purge-crash', 'purged': n, 'back_after_kill9': back}
    finally:
        w.stop()


class External:
    """An already-running broker (RabbitMQ): its url, its pid by port."""

    def __init__(self, url):
        self.url = url
        self.pid = bench.listening_pid(bench.parse_url(url)['port'])

    def stop(self):
        pass


def consumers(a):
    """n consumers (no-ack, one channel) on one queue; a producer publishes
    --messages transient 16-byte messages; the rate they are delivered at."""
    if a.rabbitmq_url:
        w = External(a.rabbitmq_url)
    else:
        w = bench.Warren(a.warren_bin, a.workdir, 'cons-%d-%d' % (a.consumers, os.getpid()))
        w.start()
    qn = 'many-%d-%s' % (os.getpid(), os.urandom(3).hex())
    try:
        c = Amqp(w.url)
        c.queue_declare(qn)
        frames = [method(1, 60, 20, struct.pack('>H', 0) + shortstr(qn) + shortstr('c%06d' % i) + bytes([2]) + table({}))
                  for i in range(a.consumers)]
        t0 = time.monotonic()
        c.pipeline(frames, 60, 21)
        consume_s = time.monotonic() - t0
        # the size of one delivery (method, header, body frames), read from the first
        got = bytearray()
        stop = threading.Event()
        count = {'bytes': 0, 'first': None, 'last': None}

        def reader():
            c.sock.settimeout(1.0)
            while not stop.is_set():
                try:
                    d = c.sock.recv(1 << 20)
                except socket.timeout:
                    continue
                if not d:
                    return
                now = time.monotonic()
                if count['first'] is None:
                    count['first'] = now
                count['bytes'] += len(d)
                count['last'] = now
                if len(got) < 4096:
                    got.extend(d[:4096])

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        cmd = [a.perf_bin, '--url', w.url, '--quiet', '--producers', '1', '--consumers', '0',
               '--count', str(a.messages), '--queue', qn, '--predeclared']
        cpu0 = bench.proc_cpu_s(w.pid)
        t0 = time.monotonic()
        subprocess.run(cmd, check=True, capture_output=True)
        pub_s = time.monotonic() - t0
        frames_, _ = bench.split_frames(got)
        per = sum(len(p) + 8 for _t, _c, p in frames_[:3])
        deadline = time.monotonic() + a.timeout
        while count['bytes'] < per * a.messages and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        th.join()
        cpu = bench.proc_cpu_s(w.pid) - cpu0
        delivered = count['bytes'] // per if per else 0
        span = (count['last'] - t0) if count['last'] else float('nan')
        rss = bench.rss_mb(w.pid)
        c.close()
        if a.rabbitmq_url:
            bench.try_delete(a.rabbitmq_url, queues=[qn])
        return {'shape': 'consumers', 'broker': 'rabbitmq' if a.rabbitmq_url else 'warren',
                'consumers': a.consumers, 'messages': a.messages,
                'basic_consume_s': consume_s, 'publish_s': pub_s, 'delivered': delivered,
                'delivered_per_s': delivered / span if span else None,
                'broker_cpu_us_per_msg': cpu / max(delivered, 1) * 1e6, 'rss_mb': rss}
    finally:
        w.stop()


def serving_after_restart(w, queue, timeout=120.0):
    """Start w and poll until a queue.declare passive of `queue` answers:
    seconds from the spawn (the listening socket is bound before the store
    is read, so accepting alone says nothing)."""
    t0 = time.monotonic()
    w.spawn()
    while True:
        try:
            c = Amqp(w.url, timeout=5)
            try:
                c.queue_declare(queue, passive=True)
                return time.monotonic() - t0
            finally:
                c.close()
        except (OSError, bench.AmqpError):
            if w.proc.poll() is not None:
                raise RuntimeError('warren exited: ' + w.log_tail())
            if time.monotonic() - t0 > timeout:
                raise
            time.sleep(0.005)


def queues(a):
    """--queues durable queues, each bound to a durable direct exchange
    (pipelined declares and binds, 500 in flight): the declare rate, RSS
    per idle queue, and the restart (spawn to the last queue answering)."""
    if a.rabbitmq_url:
        w = External(a.rabbitmq_url)
    else:
        w = bench.Warren(a.warren_bin, a.workdir, 'queues-%d' % os.getpid())
        w.start()
    out = {'shape': 'queues', 'queues': a.queues, 'broker': 'rabbitmq' if a.rabbitmq_url else 'warren'}
    # short names on a fresh warren (as the figures in doc/benchmarks.md),
    # unique ones on a shared RabbitMQ
    pre = 'q%d-%s-' % (os.getpid(), os.urandom(2).hex()) if a.rabbitmq_url else 'q'
    xn = pre + 'x'
    names = [pre + '%06d' % i for i in range(a.queues)]
    try:
        c = Amqp(w.url)
        c.exchange_declare(xn, 'direct', durable=True)
        time.sleep(0.5)
        rss0 = bench.rss_mb(w.pid)
        t0 = time.monotonic()
        c.pipeline([c.queue_declare_frame(q, durable=True) for q in names], 50, 11)
        t1 = time.monotonic()
        c.pipeline([c.bind_frame(q, xn, q) for q in names], 50, 21)
        t2 = time.monotonic()
        time.sleep(1.0)
        rss1 = bench.rss_mb(w.pid)
        if a.rabbitmq_url:
            c.pipeline([method(1, 50, 40, struct.pack('>H', 0) + shortstr(q) + b'\0') for q in names], 50, 41)
            c.exchange_delete(xn)
        c.close()
        out.update(declare_per_s=a.queues / (t1 - t0), bind_per_s=a.queues / (t2 - t1),
                   declare_and_bind_s=t2 - t0, rss_before_mb=rss0, rss_after_mb=rss1,
                   rss_per_queue_bytes=(rss1 - rss0) * bench.MB / a.queues)
        if a.rabbitmq_url:
            return out
        out['defs_file_mb'] = os.path.getsize(os.path.join(w.data_dir, 'definitions')) / bench.MB
        w.stop()
        restarts = []
        for _ in range(3):
            restarts.append(serving_after_restart(w, names[-1]))
            out.setdefault('rss_after_restart_mb', bench.rss_mb(w.pid))
            w.stop()
        out['restart_s'] = restarts
    finally:
        w.stop()
    return out


def open_hb_connections(url, n, heartbeat, sources, batch=500, timeout=600.0):
    """As bench.open_idle_connections, with heartbeats on (tune-ok asks for
    `heartbeat` s) and the client ends spread over the `sources` addresses
    (one address has only ~28,000 ephemeral ports)."""
    import selectors
    p = bench.parse_url(url)
    done = []
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + timeout
    k = 0
    for start in range(0, n, batch):
        state = {}
        for _ in range(min(batch, n - start)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((sources[k % len(sources)], 0))
            k += 1
            s.connect((p['host'], p['port']))
            s.sendall(bench.PROTOCOL_HEADER)
            s.setblocking(False)
            state[s] = [0, bytearray()]
            sel.register(s, selectors.EVENT_READ)
        while state:
            if time.monotonic() > deadline:
                raise RuntimeError('handshakes too slow (%d open)' % len(done))
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
                frames, used = bench.split_frames(st[1])
                del st[1][:used]
                for ftype, _ch, payload in frames:
                    if ftype != bench.FRAME_METHOD:
                        continue
                    cm = struct.unpack_from('>HH', payload)
                    s.setblocking(True)
                    if st[0] == 0 and cm == (10, 10):
                        s.sendall(bench.start_ok(p['user'], p['password']))
                        st[0] = 1
                    elif st[0] == 1 and cm == (10, 30):
                        channel_max, frame_max, _hb = struct.unpack_from('>HIH', payload, 4)
                        s.sendall(method(0, 10, 31, struct.pack('>HIH', channel_max, frame_max, heartbeat)) +
                                  method(0, 10, 40, shortstr(p['vhost']) + shortstr('') + b'\0'))
                        st[0] = 2
                    elif st[0] == 2 and cm == (10, 41):
                        sel.unregister(s)
                        del state[s]
                        done.append(s)
                    s.setblocking(False)
                    if st[0] == 2 and s not in state:
                        break
    sel.close()
    return done


def conns(a):
    """--connections idle AMQP connections with heartbeats (--heartbeat s):
    the broker's RSS and CPU while they idle, heartbeats answered by a
    thread here, and the tutorial shape's rate meanwhile."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    w = bench.Warren(a.warren_bin, a.workdir, 'conns-%d' % os.getpid())
    w.start()
    out = {'shape': 'conns', 'asked': a.connections, 'heartbeat_s': a.heartbeat, 'nofile_limit': hard}
    socks = []
    try:
        time.sleep(0.5)
        rss0 = bench.rss_mb(w.pid)
        t0 = time.monotonic()
        socks = open_hb_connections(w.url, a.connections, a.heartbeat,
                                    ['127.0.0.%d' % i for i in range(2, 6)])
        out['open_s'] = time.monotonic() - t0
        out['connections'] = len(socks)
        hb = method(0, 0, 0, b'')[:0] + bytes([8, 0, 0, 0, 0, 0, 0, 0xCE])
        stop = threading.Event()
        got = {'hb': 0}

        def heartbeats():
            # answer: each connection sends one every heartbeat/2 s, and
            # counts what it receives
            import selectors
            sel = selectors.DefaultSelector()
            for s in socks:
                sel.register(s, selectors.EVENT_READ)
            last = time.monotonic()
            while not stop.is_set():
                for key, _ in sel.select(0.5):
                    try:
                        d = key.fileobj.recv(4096)
                        got['hb'] += d.count(b'\x08\x00\x00\x00\x00\x00\x00\xce')
                    except BlockingIOError:
                        pass
                if time.monotonic() - last > a.heartbeat / 2:
                    last = time.monotonic()
                    for s in socks:
                        try:
                            s.send(hb)
                        except (BlockingIOError, OSError):
                            pass
            sel.close()

        th = threading.Thread(target=heartbeats, daemon=True)
        th.start()
        time.sleep(2.0)
        rss1 = bench.rss_mb(w.pid)
        cpu0 = bench.proc_cpu_s(w.pid)
        time.sleep(a.idle)
        cpu1 = bench.proc_cpu_s(w.pid)
        out.update(rss_before_mb=rss0, rss_connected_mb=rss1,
                   rss_per_connection_kb=(rss1 - rss0) * 1000 / max(len(socks), 1),
                   idle_cpu_percent=100.0 * (cpu1 - cpu0) / a.idle, idle_s=a.idle)
        # the tutorial shape meanwhile (doc/benchmarks.md): persistent,
        # durable, prefetch 1, ack each, 4 consumers
        cmd = [a.perf_bin, '--url', w.url, '--quiet', '--persistent', '--durable', '--prefetch', '1',
               '--consumers', '4', '--count', str(a.messages)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        for line in p.stdout.splitlines():
            if line.startswith('RESULT '):
                r = json.loads(line[7:])
                out['tutorial_consume_rate'] = r.get('consume_rate') or r.get('consumed_per_s') or r
        out['heartbeats_received'] = got['hb']
        out['alive_after'] = sum(1 for s in socks if s.fileno() >= 0)
        stop.set()
        th.join()
        # still connected? a last look at whether the broker dropped any
        out['broker_connections_log_drops'] = w.log_tail(100000).count('missed heartbeats')
    finally:
        for s in socks:
            s.close()
        w.stop()
    return out


def first_delivery_after_restart(w, queue, timeout=300.0):
    """Start w, then basic.get (no-ack) on `queue` until a message comes:
    seconds from the spawn to the first delivery."""
    t0 = time.monotonic()
    w.spawn()
    while True:
        try:
            c = Amqp(w.url, timeout=30)
            try:
                c.sock.sendall(method(1, 60, 70, struct.pack('>H', 0) + shortstr(queue) + b'\x01'))
                while True:
                    ftype, ch, payload = c.next_frame()
                    if ftype == bench.FRAME_METHOD:
                        cm = struct.unpack_from('>HH', payload)
                        if cm == (60, 71):
                            return time.monotonic() - t0
                        if cm == (60, 72):
                            raise RuntimeError('queue %s is empty after the restart' % queue)
            finally:
                c.close()
        except (OSError, bench.AmqpError):
            if w.proc.poll() is not None:
                raise RuntimeError('warren exited: ' + w.log_tail())
            if time.monotonic() - t0 > timeout:
                raise
            time.sleep(0.005)


def backlog(a):
    """The cost curve of a backlog: for each --sizes N, N persistent 16-byte
    messages in one durable queue; RSS, then kill -9 and the time from the
    restart's spawn to the first delivery, and RSS after it.  A PNG of both
    curves with --plot (matplotlib, Debian's python3-matplotlib)."""
    rows = []
    for n in a.sizes:
        w = bench.Warren(a.warren_bin, a.workdir, 'backlog-%d-%d' % (n, os.getpid()))
        w.start()
        try:
            fill_s = fill(a.perf_bin, w.url, 'backlog', n)
            time.sleep(1.0)
            rss = bench.rss_mb(w.pid)
            disk = bench.disk_usage(os.path.join(w.data_dir, 'msgs')) / bench.MB
            w.proc.kill()
            w.proc.wait()
            w.proc = None
            first = first_delivery_after_restart(w, 'backlog')
            time.sleep(0.5)
            rows.append({'messages': n, 'fill_s': fill_s, 'rss_mb': rss, 'disk_mb': disk,
                         'first_delivery_after_kill9_s': first, 'rss_after_restart_mb': bench.rss_mb(w.pid),
                         'bytes_per_message': rss * bench.MB / n})
            print('backlog %d: %s' % (n, json.dumps(rows[-1])), file=sys.stderr)
        finally:
            w.stop()
    if a.plot:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        xs = [r['messages'] for r in rows]
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
        ax1.plot(xs, [r['rss_mb'] for r in rows], 'o-', label='RSS, backlog built')
        ax1.plot(xs, [r['rss_after_restart_mb'] for r in rows], 's--', label='RSS after kill -9 + restart')
        ax1.axhline(50, color='grey', lw=0.8, ls=':', label='goal at 10 M: 50 MB')
        ax1.set_xscale('log')
        ax1.set_yscale('log')
        ax1.set_xlabel('persistent 16-byte messages queued')
        ax1.set_ylabel('MB')
        ax1.legend(fontsize=7)
        ax2.plot(xs, [r['first_delivery_after_kill9_s'] for r in rows], 'o-', label='kill -9 to first delivery')
        ax2.axhline(0.2, color='grey', lw=0.8, ls=':', label='goal at 10 M: 0.2 s')
        ax2.set_xscale('log')
        ax2.set_yscale('log')
        ax2.set_xlabel('persistent 16-byte messages queued')
        ax2.set_ylabel('seconds')
        ax2.legend(fontsize=7)
        fig.suptitle('warren: memory and restart against the backlog (one durable queue)', fontsize=9)
        fig.tight_layout()
        fig.savefig(a.plot, dpi=110)
    return {'shape': 'backlog', 'rows': rows}


def compact(a):
    """Compaction of many segments while another client does round trips:
    queue A gets --messages persistent messages while queue B gets one for
    every 20 (two warren-perf producers at once, so each segment holds
    both); A is consumed; the segments are then 95 % acked, pinned by B's
    messages, and compacted one after another.  The round trips from the
    end of the consume until the disk stops shrinking."""
    w = bench.Warren(a.warren_bin, a.workdir, 'compact-%d' % os.getpid(), ['--log-level', 'info'])
    w.start()
    out = {'shape': 'compact', 'messages': a.messages}
    try:
        base = [a.perf_bin, '--url', w.url, '--quiet', '--consumers', '0', '--persistent', '--confirm', '500',
                '--durable']
        pa = subprocess.Popen(base + ['--queue', 'A', '--count', str(a.messages)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pb = subprocess.Popen(base + ['--queue', 'B', '--count', str(a.messages // 20), '--rate', '5000'],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pa.wait()
        pb.terminate()
        pb.wait()
        msgs = os.path.join(w.data_dir, 'msgs')
        subprocess.run([a.perf_bin, '--url', w.url, '--quiet', '--producers', '0', '--consumers', '1',
                        '--count', str(a.messages), '--queue', 'A', '--predeclared', '--autoack'],
                       check=True, capture_output=True)
        out['disk_before_mb'] = bench.disk_usage(msgs) / bench.MB
        p = Pinger(w.url, 'ping')
        p.start()
        t0 = time.monotonic()
        last, last_change = bench.disk_usage(msgs), time.monotonic()
        while time.monotonic() - last_change < a.settle and time.monotonic() - t0 < a.timeout:
            time.sleep(0.1)
            d = bench.disk_usage(msgs)
            if d != last:
                last, last_change = d, time.monotonic()
        t1 = last_change
        p.stop_flag = True
        p.join()
        during = [s_ for t, s_ in p.samples if t0 <= t <= t1]
        out.update(disk_after_mb=last / bench.MB, compacting_s=t1 - t0,
                   rtt_during_ms={'p50': pct(during, 50) * 1e3, 'p99': pct(during, 99) * 1e3,
                                  'max': max(during) * 1e3 if during else None, 'n': len(during)},
                   compactions_logged=w.log_tail(10 ** 7).count('compacted'))
    finally:
        w.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('what', choices=['huge', 'crash', 'consumers', 'queues', 'conns', 'backlog', 'compact'])
    ap.add_argument('--connections', type=int, default=50000)
    ap.add_argument('--heartbeat', type=int, default=10)
    ap.add_argument('--idle', type=float, default=20.0)
    ap.add_argument('--consumers', type=int, default=10000)
    ap.add_argument('--warren-bin', default=os.path.join(ROOT, 'bin', 'warren'))
    ap.add_argument('--perf-bin', default=os.path.join(ROOT, 'bin', 'warren-perf'))
    ap.add_argument('--messages', type=int, default=1000000)
    ap.add_argument('--queues', type=int, default=10000, help='queues (vhost op: in the vhost)')
    ap.add_argument('--op', choices=['purge', 'delete', 'vhost'], default='purge')
    ap.add_argument('--timeout', type=float, default=300)
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--sizes', type=int, nargs='+', default=[100000, 1000000, 10000000])
    ap.add_argument('--plot', default=None, help='backlog: write the PNG here')
    ap.add_argument('--rabbitmq-url', default=None, help='queues, consumers: run against this broker instead')
    ap.add_argument('--settle', type=float, default=5.0, help='compact: seconds without change that end it')
    ap.add_argument('--keep', action='store_true', help='keep the work directory (logs, data)')
    a = ap.parse_args()
    import tempfile
    a.workdir = a.workdir or tempfile.mkdtemp(prefix='warren-scale-')
    try:
        res = {'huge': huge, 'crash': crash_consistency, 'consumers': consumers, 'queues': queues,
               'conns': conns, 'backlog': backlog, 'compact': compact}[a.what](a)
    finally:
        if not a.keep:
            bench.shutil_rmtree(a.workdir)
    print('RESULT ' + json.dumps(res))


if __name__ == '__main__':
    main()
