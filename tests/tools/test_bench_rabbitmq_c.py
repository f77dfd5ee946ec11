"""bin/warren-bench-rabbitmq-c, the plain rabbitmq-c client that
doc/benchmarks.md compares warren-perf with: a short load in each mode
against the broker (warren, or WARREN_TEST_URL), judged by its RESULT line
and exit status."""
import json
import os
import socket
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROG = os.path.join(ROOT, 'bin', 'warren-bench-rabbitmq-c')


@pytest.fixture(scope='module', autouse=True)
def built():
    if not os.access(PROG, os.X_OK):
        pytest.fail('%s is missing: build it first with `make`' % PROG, pytrace=False)


def run(*args):
    p = subprocess.run([PROG] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=60)
    results = [ln for ln in p.stdout.splitlines() if ln.startswith('RESULT ')]
    return p, (json.loads(results[0][len('RESULT '):]) if results else None)


@pytest.mark.parametrize('mode', [['--autoack'], ['--prefetch', 100],
                                  ['--prefetch', 50, '--multi-ack', 10]],
                         ids=['autoack', 'ack-each', 'multi-ack'])
def test_every_message_arrives_in_order(broker, mode):
    p, r = run('--url', broker.url, '--count', 5000, '--size', 16, *mode)
    assert p.returncode == 0, p.stdout + p.stderr
    assert r['published'] == r['received'] == 5000
    assert r['lost'] == 0 and r['out_of_order'] == 0 and r['complete'] is True
    assert r['autoack'] is (mode == ['--autoack'])
    assert r['publish_rate'] > 0 and r['consume_rate'] > 0
    assert r['cpu_us_per_msg']['publisher'] > 0 and r['cpu_us_per_msg']['consumer'] > 0
    assert 'all 5000 messages arrived in order' in p.stdout


def test_usage_and_connection_errors():
    p, _ = run('--help')
    assert p.returncode == 0 and '--count' in p.stdout and 'Exit status' in p.stdout
    for bad in (['--size', '4'], ['--autoack', '--prefetch', '1'], ['--multi-ack', '5'],
                ['--url', 'http://x/'], ['--bogus']):
        p, _ = run(*bad)
        assert p.returncode == 2 and p.stderr, bad
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    p, r = run('--url', 'amqp://guest:guest@127.0.0.1:%d/' % port, '--count', 10)
    assert p.returncode == 2 and 'cannot connect' in p.stderr and r is None
