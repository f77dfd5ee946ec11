#!/usr/bin/python3
"""mgmt_overhead.py - what watching warren costs the work it does (issue 13:
"the tutorial shape with the dashboard open (polling every 5 s) and
Prometheus scraping every 5 s stays within 3 % of the same run without
them").

Each run starts a fresh release warren (bench.py's Warren: free ports, its
own data directory, stopped by pid) with the HTTP API and the Prometheus
endpoint on, declares --idle-queues idle durable queues beside the one under
load (so a scrape has queues to walk), and runs warren-perf in the
tutorial's shape (persistent, durable queue, prefetch 1, an ack each, 4
consumers) for --duration seconds.  Runs alternate between two conditions,
in ABBA order so that a change of the machine's load hits both alike:

  quiet     nothing but the load;
  watched   a real Prometheus (Debian's /usr/bin/prometheus, its own config
            and TSDB directory, stopped by pid) scraping /metrics and
            /metrics/per-object every 5 s, and a poller making the requests
            the dashboard's overview and queues pages make every 5 s
            (GET /api/whoami, /api/overview with the 10-minute chart
            history, /api/nodes, /api/queues?page=1&page_size=20, each on a
            new connection as a browser's refresh would).

Reported per condition: the median consume rate and its spread, the
broker's CPU seconds per million messages (from /proc; less noisy than the
rate on a shared machine), and the watched/quiet ratios.  The poller counts
its requests and Prometheus's own `up` query is checked at the end, so a run
where nothing was actually watched is reported as such, not as a pass.

  /usr/bin/python3 tools/bench/mgmt_overhead.py --repeat 6 --duration 20
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

PROMETHEUS = '/usr/bin/prometheus'
AUTH = 'Basic ' + base64.b64encode(b'guest:guest').decode()
DASHBOARD_GETS = ['/api/whoami',
                  '/api/overview?lengths_age=600&lengths_incr=5&msg_rates_age=600&msg_rates_incr=5',
                  '/api/nodes',
                  '/api/queues?page=1&page_size=20&name=&use_regex=false&sort=name']


class Poller(threading.Thread):
    """The dashboard's refresh, every `every` seconds, until stopped."""

    def __init__(self, port, every=5.0):
        super().__init__(daemon=True)
        self.port, self.every = port, every
        self.stop_ev = threading.Event()
        self.ok = self.failed = 0

    def run(self):
        while not self.stop_ev.is_set():
            for path in DASHBOARD_GETS:
                try:
                    c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
                    c.request('GET', path, headers={'Authorization': AUTH})
                    r = c.getresponse()
                    r.read()
                    c.close()
                    if r.status == 200:
                        self.ok += 1
                    else:
                        self.failed += 1
                except OSError:
                    self.failed += 1
            self.stop_ev.wait(self.every)

    def stop(self):
        self.stop_ev.set()
        self.join(15)


class Prometheus:
    """A real Prometheus scraping warren's /metrics and /metrics/per-object."""

    def __init__(self, workdir, target_port, every='5s'):
        self.dir = tempfile.mkdtemp(prefix='prom-', dir=workdir)
        self.port = bench.free_port()
        cfg = os.path.join(self.dir, 'prometheus.yml')
        with open(cfg, 'w') as f:
            f.write('global:\n  scrape_interval: %s\n  scrape_timeout: 4s\nscrape_configs:\n'
                    '  - job_name: warren\n    static_configs:\n      - targets: ["127.0.0.1:%d"]\n'
                    '  - job_name: warren-per-object\n    metrics_path: /metrics/per-object\n'
                    '    static_configs:\n      - targets: ["127.0.0.1:%d"]\n' % (every, target_port, target_port))
        self.log = open(os.path.join(self.dir, 'log'), 'w')
        self.proc = subprocess.Popen([PROMETHEUS, '--config.file=' + cfg,
                                      '--storage.tsdb.path=' + os.path.join(self.dir, 'tsdb'),
                                      '--web.listen-address=127.0.0.1:%d' % self.port],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen('http://127.0.0.1:%d/-/ready' % self.port, timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError('prometheus did not become ready')

    def scrapes_up(self):
        """How many of the two targets were last scraped successfully."""
        q = urllib.parse.urlencode({'query': 'sum(up)'})
        with urllib.request.urlopen('http://127.0.0.1:%d/api/v1/query?%s' % (self.port, q), timeout=5) as r:
            d = json.load(r)
        res = d['data']['result']
        return float(res[0]['value'][1]) if res else 0.0

    def samples_scraped(self):
        q = urllib.parse.urlencode({'query': 'sum(count_over_time(scrape_samples_scraped[10m]))'})
        with urllib.request.urlopen('http://127.0.0.1:%d/api/v1/query?%s' % (self.port, q), timeout=5) as r:
            d = json.load(r)
        res = d['data']['result']
        return float(res[0]['value'][1]) if res else 0.0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def declare_idle(url, n):
    if n <= 0:
        return
    conn = bench.Amqp(url)
    frames = [conn.queue_declare_frame('idle-%06d' % i, durable=True) for i in range(n)]
    conn.pipeline(frames, 50, 11)
    conn.close()


def one_run(a, workdir, watched, seq):
    mport, pport = bench.free_port(), bench.free_port()
    w = bench.Warren(a.warren_bin, workdir, 'w%d' % seq,
                     extra=['--management-port', str(mport), '--prometheus-port', str(pport)])
    w.start()
    rec = {'watched': watched}
    prom = poller = None
    try:
        declare_idle(w.url, a.idle_queues)
        if watched:
            prom = Prometheus(workdir, pport)
            poller = Poller(mport)
            poller.start()
        cpu0 = bench.proc_cpu_s(w.pid)
        cmd = [a.perf_bin, '--url', w.url, '--quiet', '--queue', 'task_queue', '--persistent', '--durable',
               '--prefetch', '1', '--consumers', '4', '--duration', str(a.duration), '--count', str(a.count)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.duration * 10 + 120)
        cpu1 = bench.proc_cpu_s(w.pid)
        res = None
        for line in p.stdout.splitlines():
            if line.startswith('RESULT '):
                res = json.loads(line[7:])
        if not res or p.returncode != 0 or res.get('error'):
            rec['error'] = 'warren-perf: rc %s %s' % (p.returncode, (p.stderr or '')[-300:])
            return rec
        rec['rate'] = res['consume_rate']
        rec['received'] = res['received']
        rec['cpu_s_per_M'] = (cpu1 - cpu0) / res['received'] * 1e6 if res['received'] else None
        rec['rss_mb'] = bench.rss_mb(w.pid)
        if watched:
            rec['polls_ok'], rec['polls_failed'] = poller.ok, poller.failed
            rec['prom_up'] = prom.scrapes_up()
            rec['prom_samples'] = prom.samples_scraped()
    finally:
        if poller:
            poller.stop()
        if prom:
            prom.stop()
        w.stop()
        shutil.rmtree(w.data_dir, ignore_errors=True)
    return rec


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--repeat', type=int, default=6, help='runs per condition (default 6)')
    ap.add_argument('--duration', type=int, default=20, help='seconds of load per run (default 20)')
    ap.add_argument('--count', type=int, default=1000000,
                    help='cap on messages published (publishing stops at --duration or here; default 1000000)')
    ap.add_argument('--idle-queues', type=int, default=1000, help='idle durable queues beside the loaded one')
    ap.add_argument('--warren-bin', default=os.path.join(root, 'bin', 'warren'))
    ap.add_argument('--perf-bin', default=os.path.join(root, 'bin', 'warren-perf'))
    ap.add_argument('--json', help='write every run here')
    a = ap.parse_args()
    if not os.path.exists(PROMETHEUS):
        sys.exit('%s is missing: scripts/install-deps.sh installs Debian\'s prometheus' % PROMETHEUS)
    workdir = tempfile.mkdtemp(prefix='warren-mgmt-overhead-')
    # a SIGTERM unwinds like ^C, so every process of ours is stopped by pid
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    runs = []
    order = []
    for i in range(a.repeat):
        order += [False, True] if i % 2 == 0 else [True, False]
    try:
        for seq, watched in enumerate(order):
            rec = one_run(a, workdir, watched, seq)
            runs.append(rec)
            print(json.dumps(rec), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(runs, f, indent=1)

    def col(watched, key):
        return [r[key] for r in runs if r['watched'] == watched and r.get(key) is not None and 'error' not in r]
    q_rate, w_rate = col(False, 'rate'), col(True, 'rate')
    q_cpu, w_cpu = col(False, 'cpu_s_per_M'), col(True, 'cpu_s_per_M')
    errors = [r['error'] for r in runs if 'error' in r]
    unwatched = [r for r in runs if r['watched'] and 'error' not in r
                 and (r.get('polls_ok', 0) == 0 or r.get('polls_failed') or r.get('prom_up') != 2.0)]
    print()
    print('| condition | runs | median msg/s | min–max msg/s | median broker CPU s / M msgs |')
    print('|---|---|---|---|---|')
    for name, rate, cpu in (('quiet', q_rate, q_cpu), ('watched', w_rate, w_cpu)):
        if rate:
            print('| %s | %d | %s | %s–%s | %.2f |' % (name, len(rate), bench.fmt_rate(statistics.median(rate)),
                                                       bench.fmt_rate(min(rate)), bench.fmt_rate(max(rate)),
                                                       statistics.median(cpu)))
    if q_rate and w_rate:
        print()
        print('watched/quiet: rate %.3f, broker CPU per message %.3f'
              % (statistics.median(w_rate) / statistics.median(q_rate), statistics.median(w_cpu) / statistics.median(q_cpu)))
    polls = sum(r.get('polls_ok', 0) for r in runs)
    print('dashboard requests answered: %d; Prometheus samples ingested (last run): %s'
          % (polls, next((r.get('prom_samples') for r in reversed(runs) if r['watched']), None)))
    if errors:
        print('ERRORS: %s' % errors)
    if unwatched:
        print('WARNING: %d watched runs where a poll failed or a target was not up' % len(unwatched))
    return 1 if errors or unwatched else 0


if __name__ == '__main__':
    sys.exit(main())
