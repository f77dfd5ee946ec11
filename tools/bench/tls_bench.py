#!/usr/bin/python3
"""tls_bench.py - warren against RabbitMQ over TLS (issue 14; doc/benchmarks.md).

Measures, on both brokers' amqps ports in the same run:
  * throughput over TLS: warren-perf's transient shape (1 producer, 1
    consumer, 16 B, autoack), its manual-ack shape (prefetch 100) and the
    work-queue tutorial's shape (persistent, durable, prefetch 1, ack each,
    4 consumers), in ABBA order, --repeat runs each, medians;
  * TLS handshakes per second: client processes doing full handshakes (no
    resumption) for a few seconds, and the broker's CPU per handshake;
  * RSS per idle TLS connection: N connections through the TLS handshake
    and the AMQP one (open-ok, heartbeats off), the broker's RSS growth / N.

warren: a fresh bin/warren (release) of its own, with amqps on a free
port and the certificate in --pki.  RabbitMQ: a node you started with TLS
on --rabbitmq-tls-url, with the same PKI's server certificate (the
commands are in doc/benchmarks.md); the harness never starts or stops it.
Its queues are deleted after each run over --rabbitmq-url (plain AMQP).

  /usr/bin/python3 tools/bench/tls_bench.py --pki /tmp/tlsbench/pki --out /tmp/tls-bench.md
"""
import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'tls'))

import bench  # noqa: E402  (the AMQP helpers, /proc readers)

SHAPES = [
    ('transient 16 B, 1 producer + 1 consumer, autoack',
     ['--size', '16', '--autoack', '--duration', '5', '--count', '500000']),
    ('transient 16 B, manual acks, prefetch 100',
     ['--size', '16', '--prefetch', '100', '--duration', '5', '--count', '500000']),
    ('tutorial: persistent, durable, prefetch 1, 4 consumers',
     ['--persistent', '--durable', '--prefetch', '1', '--consumers', '4', '--duration', '5', '--count', '200000']),
]


def start_warren(binary, workdir, pki):
    port, tls_port = bench.free_port(), bench.free_port()
    data = os.path.join(workdir, 'data-%d' % tls_port)
    log = open(os.path.join(workdir, 'warren-%d.log' % tls_port), 'w')
    p = subprocess.Popen([binary, '--bind', '127.0.0.1', '--port', str(port), '--data-dir', data,
                          '--log-level', 'warning', '--management-port', '0', '--prometheus-port', '0',
                          '--tls-port', str(tls_port), '--tls-cert', os.path.join(pki, 'server.pem'),
                          '--tls-key', os.path.join(pki, 'server.key')], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(('127.0.0.1', tls_port), timeout=1).close()
            break
        except OSError:
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('warren did not start')
            time.sleep(0.005)
    return p, 'amqps://guest:guest@localhost:%d/' % tls_port, data


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def perf(perf_bin, url, cacert, args):
    r = subprocess.run([perf_bin, '--url', url, '--cacert', cacert, '--quiet'] + args, capture_output=True,
                       text=True, timeout=600)
    for line in r.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[7:])
    raise RuntimeError('warren-perf failed: %s %s' % (r.stdout[-500:], r.stderr[-500:]))


# ---- idle connections ------------------------------------------------------

def recv_frames(s, buf):
    while True:
        frames, used = bench.split_frames(buf)
        if frames:
            del buf[:used]
            return frames
        d = s.recv(65536)
        if not d:
            raise RuntimeError('closed during the handshake')
        buf += d


def open_tls_amqp(host, port, ctx):
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=20), server_hostname='localhost')
    s.sendall(bench.PROTOCOL_HEADER)
    buf = bytearray()
    want = (10, 10)
    while True:
        for ftype, _ch, payload in recv_frames(s, buf):
            cm = struct.unpack_from('>HH', payload)
            if cm != want:
                continue
            if cm == (10, 10):
                s.sendall(bench.start_ok('guest', 'guest'))
                want = (10, 30)
            elif cm == (10, 30):
                s.sendall(bench.tune_ok_and_open(payload, '/'))
                want = (10, 41)
            elif cm == (10, 41):
                return s


def settled_rss_kb(pid, seconds=3.0):
    """The median of RSS readings over a few seconds (RabbitMQ's garbage
    collector moves it up and down)."""
    xs = []
    for _ in range(7):
        xs.append(bench.proc_status_kb(pid))
        time.sleep(seconds / 7)
    return statistics.median(xs)


def idle_rss(pid, url, ctx, n):
    p = bench.parse_url(url)
    before = settled_rss_kb(pid)
    socks = []
    try:
        for _ in range(n):
            socks.append(open_tls_amqp(p['host'], p['port'], ctx))
        time.sleep(2)
        after = settled_rss_kb(pid)
    finally:
        for s in socks:
            try:
                s.sendall(bench.CLOSE_CONNECTION)
            except OSError:
                pass
        time.sleep(0.5)
        for s in socks:
            s.close()
    return (after - before) * 1024 / n


# ---- handshakes --------------------------------------------------------------

def _handshaker(args):
    host, port, cafile, seconds = args
    ctx = ssl.create_default_context(cafile=cafile)
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with socket.create_connection((host, port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname='localhost'):
                n += 1
    return n


def handshakes(pid, url, cafile, seconds, clients):
    p = bench.parse_url(url)
    cpu0, t0 = bench.proc_cpu_s(pid), time.monotonic()
    with multiprocessing.Pool(clients) as pool:
        counts = pool.map(_handshaker, [(p['host'], p['port'], cafile, seconds)] * clients)
    cpu1, t1 = bench.proc_cpu_s(pid), time.monotonic()
    n = sum(counts)
    return n / (t1 - t0), (cpu1 - cpu0) * 1e3 / n if n else None


# ---- the run -----------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--pki', required=True, help='ca.pem, server.pem, server.key (tests/tls/pki.py makes them)')
    ap.add_argument('--rabbitmq-tls-url', default='amqps://guest:guest@localhost:5691/')
    ap.add_argument('--rabbitmq-url', default='amqp://guest:guest@127.0.0.1:5692/',
                    help='plain AMQP to the same node, for deleting the queues')
    ap.add_argument('--warren-bin', default=os.path.join(ROOT, 'bin', 'warren'))
    ap.add_argument('--perf-bin', default=os.path.join(ROOT, 'bin', 'warren-perf'))
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--idle', type=int, default=800, help='idle TLS connections for the RSS figure')
    ap.add_argument('--handshake-seconds', type=float, default=5)
    ap.add_argument('--handshake-clients', type=int, default=2)
    ap.add_argument('--only', default='throughput,handshakes,idle')
    ap.add_argument('--out')
    a = ap.parse_args()
    if 'asan' in os.path.basename(a.warren_bin):
        sys.exit('tls_bench: use the release build, not %s' % a.warren_bin)
    cafile = os.path.join(a.pki, 'ca.pem')
    rpid = bench.listening_pid(bench.parse_url(a.rabbitmq_tls_url)['port'])
    groups = a.only.split(',')
    workdir = tempfile.mkdtemp(prefix='warren-tls-bench-')
    lines = ['### TLS: warren against RabbitMQ (%s)' % time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), '',
             'load average at start: %s' % ' '.join(open('/proc/loadavg').read().split()[:3]), '']
    try:
        if 'throughput' in groups:
            lines += ['| shape (over TLS; median of %d) | warren msg/s | RabbitMQ msg/s | ratio | warren CPU s/M msgs '
                      '| RabbitMQ CPU s/M msgs | CPU ratio |' % a.repeat, '|---|---|---|---|---|---|---|']
            for title, args in SHAPES:
                res = {'warren': [], 'rabbitmq': []}
                cpu = {'warren': [], 'rabbitmq': []}
                order = ['warren', 'rabbitmq', 'rabbitmq', 'warren'] * a.repeat
                for broker in order[:2 * a.repeat]:
                    if broker == 'warren':
                        p, url, data = start_warren(a.warren_bin, workdir, a.pki)
                        try:
                            c0 = bench.proc_cpu_s(p.pid)
                            r = perf(a.perf_bin, url, cafile, args)
                            c1 = bench.proc_cpu_s(p.pid)
                        finally:
                            stop(p)
                            shutil.rmtree(data, ignore_errors=True)
                    else:
                        c0 = bench.proc_cpu_s(rpid)
                        r = perf(a.perf_bin, a.rabbitmq_tls_url, cafile, args)
                        c1 = bench.proc_cpu_s(rpid)
                        bench.try_delete(a.rabbitmq_url, [r['queue']])
                    if r.get('lost') or not r.get('verified'):
                        print('warning: %s run lost messages: %s' % (broker, r), file=sys.stderr)
                    res[broker].append(r['consume_rate'])
                    if r.get('received'):
                        cpu[broker].append((c1 - c0) * 1e6 / r['received'])
                    print('%-60s %-8s %8.0f' % (title, broker, r['consume_rate']), file=sys.stderr)
                w, q = statistics.median(res['warren']), statistics.median(res['rabbitmq'])
                cw, cq = statistics.median(cpu['warren']), statistics.median(cpu['rabbitmq'])
                lines.append('| %s | %s | %s | %.1f× | %.2f | %.2f | %.1f× |' % (
                    title, bench.fmt_rate(w), bench.fmt_rate(q), w / q, cw, cq, cq / cw))
            lines.append('')
        p, url, data = start_warren(a.warren_bin, workdir, a.pki)
        try:
            if 'handshakes' in groups:
                hw = handshakes(p.pid, url, cafile, a.handshake_seconds, a.handshake_clients)
                hr = handshakes(rpid, a.rabbitmq_tls_url, cafile, a.handshake_seconds, a.handshake_clients)
                lines += ['| TLS handshakes (%d Python clients, %.0f s, full handshakes, TLS 1.3) | warren | RabbitMQ |'
                          % (a.handshake_clients, a.handshake_seconds), '|---|---|---|',
                          '| handshakes/s | %.0f | %.0f |' % (hw[0], hr[0]),
                          '| broker CPU per handshake (ms) | %.2f | %.2f |' % (hw[1], hr[1]), '']
                print(lines[-3:], file=sys.stderr)
            if 'idle' in groups:
                ctx = ssl.create_default_context(cafile=cafile)
                iw = idle_rss(p.pid, url, ctx, a.idle)
                ir = idle_rss(rpid, a.rabbitmq_tls_url, ctx, a.idle) if rpid else None
                lines += ['| RSS per idle TLS connection (%d, AMQP open, heartbeats off) | warren | RabbitMQ |' % a.idle,
                          '|---|---|---|',
                          '| bytes | %.0f | %s |' % (iw, '%.0f' % ir if ir else 'n/a'), '']
                print(lines[-2:], file=sys.stderr)
        finally:
            stop(p)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines.append('load average at the end: %s' % ' '.join(open('/proc/loadavg').read().split()[:3]))
    text = '\n'.join(lines)
    print(text)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
