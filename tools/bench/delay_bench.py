#!/usr/bin/python3
"""Benchmarks of issue 15's delays (doc/benchmarks.md, "Delays"): run from
the repository root after `make all`, under `nice -n 10`.

  delay_bench.py tutorial [ROUNDS]  the tutorial's shape (persistent, prefetch 1,
                                    4 consumers, warren-perf) on a plain durable
                                    queue and on one with x-backoff-* and
                                    x-delivery-limit, alternated; medians
  delay_bench.py poison [ROUNDS]    a pika worker (prefetch 50) takes 20 000 good
                                    tasks from a queue that also holds 5 poison
                                    tasks it nacks with requeue every time: the
                                    good tasks' rate with back-off, without it,
                                    and with no poison at all; medians
  delay_bench.py delayed COUNT [SPREAD]  COUNT persistent messages with x-delay
                                    120 s (or, with SPREAD ms, 60 s plus 0..SPREAD
                                    at random: 3540000 spreads them over an hour)
                                    to a durable x-delayed-message exchange with
                                    confirms (warren-perf --delay): publish rate,
                                    RSS holding them, restart after kill -9, and
                                    the index files (DATA/delay/)
  delay_bench.py lateness COUNT RATE [DELAY]  COUNT delayed (3 s, or DELAY ms)
                                    messages at RATE msg/s, consumed as they
                                    fire: lateness p50/p99 (warren-perf's latency
                                    less the delay); past 120 s (or the
                                    WARREN_DELAY_HORIZON_MS the broker is given)
                                    they wait in the index on disk

WARREN_BIN runs another build (an A/B against a baseline).

Each starts its own release broker (bin/warren) on a free port with a temp
data directory and stops it after.
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import pika

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WARREN = os.environ.get('WARREN_BIN', os.path.join(ROOT, 'bin', 'warren'))
PERF = os.path.join(ROOT, 'bin', 'warren-perf')


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Broker:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='delay-bench-')
        self.port = free_port()
        self.url = 'amqp://guest:guest@127.0.0.1:%d/' % self.port
        self.start()

    def start(self):
        self.proc = subprocess.Popen([WARREN, '--port', str(self.port), '--data-dir', self.dir + '/data',
                                      '--management-port', '0', '--prometheus-port', '0', '--log-level', 'warning'],
                                     stderr=open(self.dir + '/log', 'a'))
        t0 = time.monotonic()
        while True:
            try:
                socket.create_connection(('127.0.0.1', self.port), 1).close()
                return time.monotonic() - t0
            except OSError:
                time.sleep(0.01)

    def cpu_s(self):
        with open('/proc/%d/stat' % self.proc.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def rss_kb(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            return int([l for l in f if l.startswith('VmRSS')][0].split()[1])

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        subprocess.run(['rm', '-rf', self.dir])

    def channel(self):
        self.conn = pika.BlockingConnection(pika.URLParameters(self.url))
        return self.conn.channel()


def perf(b, *args):
    r = subprocess.run([PERF, '--url', b.url, '--quiet'] + list(args), capture_output=True, text=True)
    line = [l for l in r.stdout.splitlines() if l.startswith('RESULT ')][0]
    return json.loads(line[len('RESULT '):])


def tutorial(rounds=3):
    b = Broker()
    ch = b.channel()
    ch.queue_declare('plain', durable=True)
    ch.queue_declare('backoff', durable=True, arguments={'x-backoff-initial': 1000, 'x-backoff-max': 60000,
                                                         'x-delivery-limit': 5})
    res = {'plain': [], 'backoff': []}
    cpu = {'plain': [], 'backoff': []}
    for _ in range(rounds):
        for q in ('plain', 'backoff'):
            c0 = b.cpu_s()
            r = perf(b, '--queue', q, '--predeclared', '--persistent', '--prefetch', '1', '--consumers', '4',
                     '--duration', '3', '--count', '200000')
            assert r['complete'], r
            res[q].append(r['consume_rate'])
            cpu[q].append(round((b.cpu_s() - c0) * 1e6 / r['received'], 2))
    b.stop()
    for q, v in res.items():
        print('%-8s consume msg/s %s median %.0f; broker CPU us/msg %s median %.2f' % (
            q, v, statistics.median(v), cpu[q], statistics.median(cpu[q])))
    pairs = sorted(a / p for a, p in zip(res['backoff'], res['plain']))
    print('backoff / plain: medians %.3f, per-round ratios %s (median %.3f); CPU per message %.3f' % (
        statistics.median(res['backoff']) / statistics.median(res['plain']), [round(x, 3) for x in pairs],
        statistics.median(pairs), statistics.median(cpu['backoff']) / statistics.median(cpu['plain'])))


def poison_round(args, npoison, ngood=20000):
    b = Broker()
    ch = b.channel()
    ch.queue_declare('work', durable=True, arguments=args)
    for i in range(npoison):
        ch.basic_publish('', 'work', b'poison')
    for i in range(ngood):
        ch.basic_publish('', 'work', b'good')
    ch.basic_qos(prefetch_count=50)
    state = {'good': 0, 'poison': 0, 't0': time.monotonic()}

    def on(c, m, p, body):
        if body == b'poison':
            state['poison'] += 1
            c.basic_nack(m.delivery_tag, requeue=True)
            return
        state['good'] += 1
        c.basic_ack(m.delivery_tag)
        if state['good'] == ngood:
            state['t'] = time.monotonic() - state['t0']
            c.stop_consuming()
    ch.basic_consume('work', on)
    ch.start_consuming()
    b.conn.close()
    b.stop()
    return ngood / state['t'], state['poison']


def poison(rounds=3):
    cases = [('no poison', {}, 0), ('5 poison, back-off 100 ms', {'x-backoff-initial': 100}, 5),
             ('5 poison, no back-off', {}, 5)]
    res = {c[0]: [] for c in cases}
    nacks = {c[0]: [] for c in cases}
    for _ in range(rounds):
        for name, args, n in cases:
            rate, redel = poison_round(args, n)
            res[name].append(round(rate))
            nacks[name].append(redel)
    base = statistics.median(res['no poison'])
    for name, _, _ in cases:
        print('%-28s good msg/s %s median %.0f (%.3f of no poison), poison deliveries %s' % (
            name, res[name], statistics.median(res[name]), statistics.median(res[name]) / base, nacks[name]))


def declare_delayed(b):
    ch = b.channel()
    ch.exchange_declare('dx', 'x-delayed-message', durable=True, arguments={'x-delayed-type': 'direct'})
    ch.queue_declare('dq', durable=True)
    ch.queue_bind('dq', 'dx', 'dq')
    b.conn.close()


def du_mb(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return total / 1e6


def delayed(count, spread=0):
    b = Broker()
    rss0 = b.rss_kb()
    declare_delayed(b)
    delay = ['--delay', '60000', '--delay-spread', str(spread)] if spread else ['--delay', '120000']
    r = perf(b, '--exchange', 'dx', '--queue', 'dq', '--predeclared', '--routing-key', 'dq', '--persistent',
             '--confirm', '200', '--count', str(count), '--consumers', '0', *delay)
    time.sleep(2)
    rss = b.rss_kb()
    index = du_mb(b.dir + '/data/delay')
    b.kill9()
    took = b.start()
    time.sleep(1)
    rss2 = b.rss_kb()
    b.kill9()
    took2 = b.start()
    time.sleep(1)
    rss3 = b.rss_kb()
    b.stop()
    print('%d delayed persistent publishes with confirms%s: %.0f msg/s, confirm p99 %.1f ms' % (
        count, ' (x-delay 60 s + 0..%d ms)' % spread if spread else '', r['publish_rate'],
        r['confirm_latency_us']['p99'] / 1000))
    print('RSS: %.1f MB at start, %.1f MB holding them (%.0f B/message), index on disk %.1f MB; after kill -9 and '
          'restart %.1f MB (listening after %.2f s), again %.1f MB (%.2f s)' % (
              rss0 / 1024, rss / 1024, (rss - rss0) * 1024 / count, index, rss2 / 1024, took, rss3 / 1024, took2))


def lateness(count, rate, delay=3000):
    b = Broker()
    declare_delayed(b)
    r = perf(b, '--exchange', 'dx', '--queue', 'dq', '--predeclared', '--routing-key', 'dq', '--persistent',
             '--confirm', '200', '--count', str(count), '--rate', str(rate), '--delay', str(delay), '--prefetch', '200',
             '--multi-ack', '50', '--drain-timeout', str(30 + delay // 1000))
    b.stop()
    lat = r['latency_us']
    print('%d delayed %d ms at %s msg/s: all arrived %s, reordered %d, lateness p50 %.2f ms p99 %.2f ms max %.1f ms' % (
        count, delay, rate, r['complete'], r['reordered'], lat['p50'] / 1000, lat['p99'] / 1000, lat['max'] / 1000))


if __name__ == '__main__':
    cmd, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {'tutorial': tutorial, 'poison': poison, 'delayed': delayed, 'lateness': lateness}[cmd](*args)
