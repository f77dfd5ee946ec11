"""warren-perf's consumer threads: several consumers multiplexed on one thread.

By default all consumers share one thread (one poll() for all of them);
--consumer-threads N deals them out over N threads.  Whatever the split,
every message must arrive exactly once and the acks must add up, with
prefetch windows and multiple=true acks that have to be flushed by the
idle timer rather than by a full batch.
"""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PERF = os.path.join(ROOT, 'bin', 'warren-perf')


def perf(broker, *args, timeout=120):
    assert os.path.exists(PERF), 'bin/warren-perf is missing: run make first'
    cmd = [PERF, '--url', broker.url, '--quiet'] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    results = [line for line in p.stdout.splitlines() if line.startswith('RESULT ')]
    assert len(results) == 1, 'no RESULT line:\n%s\n%s' % (p.stdout, p.stderr)
    return p, json.loads(results[0][len('RESULT '):])


def assert_complete(p, r, n):
    assert p.returncode == 0, p.stdout + p.stderr
    assert r['error'] is None
    assert r['published'] == n and r['unique'] == n and r['received'] == n
    assert r['lost'] == 0 and r['duplicates'] == 0 and r['complete']


@pytest.mark.parametrize('threads', [None, 1, 2, 4])
def test_prefetch_one_four_consumers_any_thread_split(broker, threads):
    args = ['--consumers', 4, '--prefetch', 1, '--count', 3000, '--persistent', '--durable']
    if threads:
        args += ['--consumer-threads', threads]
    p, r = perf(broker, *args)
    assert_complete(p, r, 3000)
    assert r['consumers'] == 4


def test_grouped_multi_ack_partial_batches_are_flushed(broker):
    # 2003 messages, acks every 10 with no prefetch limit: each consumer's
    # last partial batch is acked by the idle timer, or the queue would keep
    # unacked messages and the run would not end cleanly.
    p, r = perf(broker, '--consumers', 3, '--consumer-threads', 1, '--multi-ack', 10,
                '--count', 2003, '--size', 100)
    assert_complete(p, r, 2003)


def test_more_threads_than_consumers_is_fine(broker):
    p, r = perf(broker, '--consumers', 2, '--consumer-threads', 8, '--count', 2000, '--autoack')
    assert_complete(p, r, 2000)


def test_zero_consumer_threads_is_a_usage_error():
    p = subprocess.run([PERF, '--consumer-threads', '0'], capture_output=True, text=True)
    assert p.returncode == 2
    assert 'consumer-threads' in p.stderr
