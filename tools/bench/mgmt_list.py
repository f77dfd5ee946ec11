#!/usr/bin/python3
"""mgmt_list.py - the HTTP API's paged queue list over many queues, and
the memory an idle queue costs (issue 13's targets: GET
/api/queues?page_size=100 with 100,000 queues in under 50 ms; RSS per idle
queue with stats under 2 KB).

Starts bin/warren (the release build) on free ports with a temporary data
directory, reads its RSS, declares --queues transient queues over AMQP
(pika), waits for a statistics sample, reads the
RSS again, then times each request --runs times (median, min, max) on a
fresh HTTP connection each:

  GET /api/queues?page_size=100                       (page 1, by name)
  GET /api/queues?page=1&page_size=100&sort=messages&sort_reverse=true
  GET /api/queues?page=500&page_size=100&name=999  (a name filter)

and the whole list (GET /api/queues) and the per-object Prometheus scrape
(GET /metrics/per-object on --prometheus-port), each with AMQP round trips
made one after another while it is answered (how long the loop is held).

The warren it starts is stopped by pid in a finally block.
"""
import argparse
import base64
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import pika

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def timed_get(port, path):
    auth = 'Basic ' + base64.b64encode(b'guest:guest').decode()
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    t0 = time.perf_counter()
    c.request('GET', path, headers={'Authorization': auth})
    r = c.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    c.close()
    assert r.status == 200, (r.status, body[:200])
    return dt, len(body)


def while_probing(ch, port, path):
    """GET path on a thread; meanwhile AMQP round trips (a passive declare)
    one after another.  Returns (seconds, bytes, [round-trip ms])."""
    import threading
    result = {}

    def whole():
        result['t'], result['size'] = timed_get(port, path)
    th = threading.Thread(target=whole)
    th.start()
    probes = []
    while th.is_alive() or not probes:
        t0 = time.perf_counter()
        ch.queue_declare('q-000000', passive=True)
        probes.append((time.perf_counter() - t0) * 1e3)
    th.join()
    return result['t'], result['size'], probes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--queues', type=int, default=100000)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--binary', default=os.path.join(ROOT, 'bin', 'warren'))
    a = ap.parse_args()

    data = tempfile.mkdtemp(prefix='warren-mgmt-bench-')
    port, mport, pport = free_port(), free_port(), free_port()
    proc = subprocess.Popen([a.binary, '--bind', '127.0.0.1', '--port', str(port), '--management-port',
                             str(mport), '--prometheus-port', str(pport), '--data-dir', data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        conn = pika.BlockingConnection(pika.URLParameters('amqp://guest:guest@127.0.0.1:%d/' % port))
        ch = conn.channel()
        time.sleep(0.5)
        before = rss_kb(proc.pid)
        t0 = time.time()
        for i in range(a.queues):
            ch.queue_declare('q-%06d' % i)
        for i in range(0, a.queues, 997):
            ch.basic_publish('', 'q-%06d' % i, b'x' * (i % 7))
        declared = time.time() - t0
        time.sleep(6)  # a statistics sample (every 5 s) over every queue
        after = rss_kb(proc.pid)
        print('queues: %d declared in %.1f s; RSS %.1f MB -> %.1f MB: %.0f bytes per idle queue'
              % (a.queues, declared, before / 1e3, after / 1e3, (after - before) * 1024.0 / a.queues))
        for path in ('/api/queues?page_size=100', '/api/queues?page=1&page_size=100&sort=messages&sort_reverse=true',
                     '/api/queues?page=1&page_size=100&name=999'):
            times, size = [], 0
            for _ in range(a.runs):
                dt, size = timed_get(mport, path)
                times.append(dt * 1e3)
            print('GET %s: median %.1f ms (min %.1f, max %.1f) over %d runs, %d bytes'
                  % (path, statistics.median(times), min(times), max(times), a.runs, size))
        # the unpaged list, as RabbitMQ answers it (every queue), and the
        # per-object Prometheus scrape (every queue, 12 families): AMQP
        # round trips made while each is answered show how long the loop is
        # held at a time
        for port_, path in ((mport, '/api/queues'), (pport, '/metrics/per-object')):
            t, size, probes = while_probing(ch, port_, path)
            probes.sort()
            print('GET %s (all %d queues): %.0f ms, %.1f MB; %d AMQP round trips meanwhile: median %.2f ms, '
                  'p99 %.2f ms, max %.2f ms'
                  % (path, a.queues, t * 1e3, size / 1e6, len(probes), statistics.median(probes),
                     probes[int(len(probes) * 0.99)], probes[-1]))
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
