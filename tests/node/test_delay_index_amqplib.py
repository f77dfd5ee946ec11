"""Issue 15, point 3 with Node amqplib (delay_checks.js): delayed messages
past the horizon wait in the index on disk (src/delay_index.c), and survive
a restart and a kill -9 with their times kept, in time order.

The broker runs with a 200 ms horizon and 200 ms buckets
(WARREN_DELAY_HORIZON_MS, WARREN_DELAY_BUCKET_MS), so delays of a second or
more are on disk, not in RAM.  Warren-only: RabbitMQ 3.10 has no
delayed-message plugin on the reference node.
"""
import glob
import json
import os
import time

import pytest

EXTERNAL = bool(os.environ.get('WARREN_TEST_URL'))
pytestmark = pytest.mark.skipif(EXTERNAL, reason='warren-only (see the module docstring)')


@pytest.fixture(autouse=True)
def tiny_horizon(monkeypatch):
    """Set before the broker fixture starts its process (autouse runs first)."""
    monkeypatch.setenv('WARREN_DELAY_HORIZON_MS', '200')
    monkeypatch.setenv('WARREN_DELAY_BUCKET_MS', '200')


def check(node, *args):
    r = node.run('delay_checks.js', *args)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout.decode())


@pytest.mark.parametrize('kill', [False, True], ids=['restart', 'kill9'])
def test_index_on_disk_across_restart(broker, node, qname, kill):
    """Published and confirmed by one amqplib program in a mixed order, on
    disk in bucket files, the broker restarted (or killed); consumed by
    another: every message once, in time order, none before its time."""
    broker.require_control()
    x = qname + '-x'
    delays = ['2700', '1200', '2100', '1500', '3000', '1800', '2400']
    t0 = time.monotonic()
    out = check(node, 'delayed-publish', x, qname, *delays)
    assert out == {'confirmed': len(delays), 'ready': 0}
    time.sleep(0.2)
    files = glob.glob(os.path.join(broker.data_dir, 'delay', '*', '*.idx'))
    assert len(files) >= 3, files
    if kill:
        broker.kill()
        broker.start()
    else:
        broker.restart()
    got = check(node, 'consume', qname, str(len(delays)))['got']
    elapsed = time.monotonic() - t0
    assert [g['body'] for g in got] == sorted(delays, key=int)
    assert [g['delay'] for g in got] == [-int(d) for d in sorted(delays, key=int)]
    assert elapsed >= 3.0
    assert glob.glob(os.path.join(broker.data_dir, 'delay', '*', '*.idx')) == []
