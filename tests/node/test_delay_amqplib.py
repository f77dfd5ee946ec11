"""Issue 15, points 2, 3 and 4 with Node amqplib (delay_checks.js): back-off
on requeue, the x-delayed-message exchange across a restart and a kill -9,
and a TTL that fires behind a longer one (doc/work-queues.md).

Warren-only: RabbitMQ 3.10 has no back-off, no delayed-message plugin on the
reference node, and expires messages at the head only.
"""
import json
import os
import time

import pytest

EXTERNAL = bool(os.environ.get('WARREN_TEST_URL'))
pytestmark = pytest.mark.skipif(EXTERNAL, reason='warren-only (see the module docstring)')


def check(node, *args):
    r = node.run('delay_checks.js', *args)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout.decode())


def test_backoff_poison_does_not_hold_up_the_others(node, amqp, qname):
    amqp.names.append(qname)
    got = check(node, 'backoff', qname)['got']
    bodies = [g['body'] for g in got]
    assert bodies[:6] == ['poison', 'ok0', 'ok1', 'ok2', 'ok3', 'ok4']
    assert bodies[6:] == ['poison'] * 3
    times = [g['t'] for g in got if g['body'] == 'poison']
    goods = [g['t'] for g in got if g['body'] != 'poison']
    assert max(goods) - times[0] < 150, got       # the others at once
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert 190 <= gaps[0] < 290, gaps             # 200 ms
    assert 290 <= gaps[1] < 390, gaps             # 300 ms (x 1.5, a double)
    assert 440 <= gaps[2] < 560, gaps             # 450 ms


@pytest.mark.parametrize('kill', [False, True], ids=['restart', 'kill9'])
def test_delayed_exchange_across_restart(broker, node, qname, kill):
    """Published and confirmed by one amqplib program, the broker restarted
    (or killed), consumed by another: every message once, in time order,
    none before its time."""
    broker.require_control()
    x = qname + '-x'
    t0 = time.monotonic()
    out = check(node, 'delayed-publish', x, qname, '1800', '1200', '1500')
    assert out == {'confirmed': 3, 'ready': 0}
    if kill:
        broker.kill()
        broker.start()
    else:
        broker.restart()
    got = check(node, 'consume', qname, '3')['got']
    elapsed = time.monotonic() - t0
    assert [g['body'] for g in got] == ['1200', '1500', '1800']
    assert [g['delay'] for g in got] == [-1200, -1500, -1800]
    assert elapsed >= 1.8


@pytest.mark.parametrize('kill', [False, True], ids=['restart', 'kill9'])
def test_backoff_hold_across_restart(broker, node, qname, kill):
    """A message nacked by one amqplib program is held back; after a
    restart (or kill -9) another program gets it only after its delay,
    marked redelivered."""
    broker.require_control()
    out = check(node, 'nack-once', qname)
    assert out == {'redelivered': False, 'ready_after_nack': 0}
    if kill:
        broker.kill()
        broker.start()
    else:
        broker.restart()
    t0 = time.monotonic()
    got = check(node, 'consume', qname, '1')['got']
    assert got[0]['body'] == 'retry me' and got[0]['redelivered']
    assert time.monotonic() - t0 >= 1.2  # held again for its delay after the start


def test_ttl_fires_behind_a_longer_one(node, amqp, qname):
    dlq = qname + '-dlq'
    amqp.names += [qname, dlq]
    out = check(node, 'ttl', qname, dlq)
    assert out['body'] == 'short'
    assert 290 <= out['after'] < 600, out
    assert out['death'][0]['reason'] == 'expired'
    assert out['left'] == 1
