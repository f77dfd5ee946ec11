"""warren-perf, the load generator, against the broker.

Each run is short (a few thousand messages) and is judged by the RESULT line
(JSON) and the exit status: every message published arrives exactly once,
confirms and acks add up, and a run that really loses messages (another
consumer steals some) is caught and exits 1.  Queues get unique names, and
the tests delete what they declare, so they can run against a shared
RabbitMQ (WARREN_TEST_URL) as well as against warren.
"""
import json
import os
import signal
import socket
import subprocess
import time

import pika
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PERF = os.path.join(ROOT, 'bin', 'warren-perf')


@pytest.fixture(scope='module', autouse=True)
def built():
    """The binary comes from the build that runs before the tests (`make`,
    `make test`); the tests do not build anything themselves."""
    if not os.access(PERF, os.X_OK):
        pytest.fail('%s is missing: build it first with `make` (or `make bin/warren-perf`)'
                    % PERF, pytrace=False)


def perf(broker, *args, timeout=120):
    """Run warren-perf; returns (completed process, parsed RESULT)."""
    cmd = [PERF, '--url', broker.url, '--quiet'] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    results = [line for line in p.stdout.splitlines() if line.startswith('RESULT ')]
    assert len(results) == 1, 'no RESULT line:\n%s\n%s' % (p.stdout, p.stderr)
    return p, json.loads(results[0][len('RESULT '):])


def channel(broker):
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    return conn, conn.channel()


def delete_queue(broker, name):
    conn, ch = channel(broker)
    try:
        ch.queue_delete(name)
    finally:
        conn.close()


def assert_all_arrived(p, r, published, received=None):
    assert p.returncode == 0, p.stdout + p.stderr
    assert r['error'] is None
    assert r['published'] == published
    assert r['received'] == (published if received is None else received)
    assert r['unique'] == published
    assert r['lost'] == 0 and r['duplicates'] == 0
    assert r['verified'] and r['complete']
    assert 'all %d messages arrived' % published in p.stdout
    lat = r['latency_us']
    assert 0 < lat['p50'] <= lat['p99'] <= lat['p999'] <= lat['max']


def test_autoack_run_all_arrive(broker):
    p, r = perf(broker, '--count', 20000, '--size', 16, '--autoack')
    assert_all_arrived(p, r, 20000)
    assert r['producers'] == 1 and r['consumers'] == 1 and r['size'] == 16
    assert r['autoack'] is True and r['persistent'] is False
    assert r['confirm_latency_us'] is None
    assert r['publish_rate'] > 0 and r['consume_rate'] > 0
    assert r['stale'] == 0 and r['foreign'] == 0


def test_persistent_confirms_manual_ack(broker):
    p, r = perf(broker, '--count', 20000, '--persistent', '--confirm', 100, '--prefetch', 100)
    assert_all_arrived(p, r, 20000)
    assert r['persistent'] is True and r['autoack'] is False
    assert r['confirmed'] == 20000 and r['nacked'] == 0
    conf = r['confirm_latency_us']
    assert 0 < conf['p50'] <= conf['p99'] <= conf['max']


def test_many_producers_and_consumers_multi_ack(broker):
    p, r = perf(broker, '--producers', 3, '--consumers', 2, '--count', 4000, '--size', 300,
                '--confirm', 200, '--prefetch', 50, '--multi-ack', 20)
    assert_all_arrived(p, r, 12000)
    assert r['confirmed'] == 12000
    # each consumer sees each producer's messages in order
    assert r['reordered'] == 0


def test_body_larger_than_a_frame(broker):
    # 300 KB bodies take several body frames at RabbitMQ's frame_max (128 KiB)
    p, r = perf(broker, '--count', 50, '--size', 300000, '--confirm', 10, '--autoack')
    assert_all_arrived(p, r, 50)


def test_duration_and_rate(broker):
    p, r = perf(broker, '--duration', 2, '--rate', 1000, '--confirm', 50)
    assert p.returncode == 0, p.stdout + p.stderr
    assert 1700 <= r['published'] <= 2300, r
    assert r['unique'] == r['published'] and r['lost'] == 0 and r['complete']
    assert r['confirmed'] == r['published']
    assert 1.9 <= r['elapsed_s'] < 10


def test_progress_lines_every_second(broker):
    cmd = [PERF, '--url', broker.url, '--duration', 2.5, '--rate', 500]
    p = subprocess.run([str(a) for a in cmd], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = [ln for ln in p.stdout.splitlines() if 'published' in ln and '/s' in ln]
    assert len(lines) >= 2, p.stdout
    assert 'consumed' in lines[0] and 'latency p50' in lines[0]


def test_publish_only_then_consume_only(broker, qname):
    try:
        p, r = perf(broker, '--queue', qname, '--consumers', 0, '--count', 3000, '--confirm', 100)
        assert p.returncode == 0, p.stdout + p.stderr
        assert r['published'] == 3000 and r['confirmed'] == 3000
        assert r['verified'] is False            # nobody consumed: nothing to check
        p, r = perf(broker, '--queue', qname, '--predeclared', '--producers', 0, '--count', 3000)
        assert p.returncode == 0, p.stdout + p.stderr
        assert r['received'] == 3000
        assert r['latency_us']['p50'] > 0        # stamped by the earlier process
    finally:
        delete_queue(broker, qname)


def test_leftover_messages_are_not_counted(broker, qname):
    conn, ch = channel(broker)
    try:
        ch.queue_declare(qname)
        for _ in range(3):
            ch.basic_publish('', qname, b'short')          # not ours: too short
        for _ in range(2):
            ch.basic_publish('', qname, bytes(16))         # our layout, stamped at 0
        p, r = perf(broker, '--queue', qname, '--count', 2000, '--autoack')
        assert_all_arrived(p, r, 2000, received=2005)
        assert r['foreign'] == 3 and r['stale'] == 2
    finally:
        ch.queue_delete(qname)
        conn.close()


def test_stolen_messages_are_reported_lost(broker, qname):
    """Another consumer on the same queue takes some of the messages: the
    run must say they are missing and exit 1."""
    conn, ch = channel(broker)
    ch.queue_declare(qname)
    thief = subprocess.Popen([PERF, '--url', broker.url, '--queue', qname, '--predeclared',
                              '--producers', '0', '--consumers', '1', '--autoack', '--quiet'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while ch.queue_declare(qname, passive=True).method.consumer_count < 1:
            assert time.monotonic() < deadline, 'the second consumer did not subscribe'
            time.sleep(0.05)
        p, r = perf(broker, '--queue', qname, '--count', 2000, '--rate', 4000, '--autoack',
                    '--drain-timeout', 1)
        assert p.returncode == 1, p.stdout + p.stderr
        assert r['published'] == 2000
        assert 0 < r['lost'] < 2000
        assert r['lost'] == r['published'] - r['unique']
        assert r['complete'] is False and r['timed_out'] is True
        assert 'MISSING' in p.stdout
    finally:
        thief.send_signal(signal.SIGINT)
        try:
            thief.wait(20)
        except subprocess.TimeoutExpired:
            thief.kill()
            thief.wait()
        ch.queue_delete(qname)
        conn.close()


def test_missing_queue_is_a_clear_error(broker, qname):
    p, r = perf(broker, '--queue', qname, '--predeclared', '--count', 10)
    assert p.returncode == 2
    assert '404' in p.stderr and qname in p.stderr
    assert '404' in r['error'] and r['published'] == 0


def test_connection_refused():
    with socket.socket() as s:       # a port nobody listens on
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    url = 'amqp://guest:guest@127.0.0.1:%d/' % port
    p = subprocess.run([PERF, '--url', url, '--count', '10'], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2
    assert 'cannot connect' in p.stderr


def test_usage():
    p = subprocess.run([PERF, '--help'], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and '--url' in p.stdout and '--count' in p.stdout
    for bad in (['--size', '8'], ['--autoack', '--multi-ack', '5'], ['--producers', '0',
                '--consumers', '0'], ['--url', 'http://x'], ['--bogus']):
        p = subprocess.run([PERF] + bad, capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, bad
        assert p.stderr, bad
