"""Slow tests, run by `make test-slow` only (not by `make test`).

66,000 durable queues, each declared and bound to one fanout exchange
through AMQP (132,000 declarations, each synced before its -ok: minutes on
a real disk), one persistent message published with confirms, a restart:
every queue has the message (issue 11, point 2; the suite's
tests/store/test_store_many_queues.py writes the definitions directly).

And recovery time against the number of bindings on one exchange: 16,000,
33,000 and 66,000 queues bound to one fanout exchange.  binding_find once
walked the exchange's list, so recovery grew with the square (0.3 s, 1.3 s,
5.5 s in the release build); it must now grow about linearly.
"""
import os
import re
import sys
import time

import pika
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'store'))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'interop'))

import amqp_raw as raw  # noqa: E402
from store_helpers import (connect, message_counts, need_control, release_bin,  # noqa: E402,F401
                           write_fanout_definitions, PERSISTENT)

N = 66000


@pytest.fixture
def alarm_seconds():
    return 1800


def declare_and_bind(broker, names, exchange, batch=2000):
    """queue.declare (durable) and queue.bind for every name, pipelined in
    batches over one raw connection."""
    c = raw.RawConnection(broker.host, broker.port, timeout=120)
    c.handshake()
    c.open_channel(1)
    c.send(raw.method_frame(1, (40, 10), raw_args=raw.encode_args(
        'sSSbbbbbF', (0, exchange, 'fanout', False, True, False, False, False, {}))))
    c.expect((40, 11), 1)
    for i in range(0, len(names), batch):
        part = names[i:i + batch]
        out = []
        for q in part:
            out.append(raw.method_frame(1, raw.QUEUE_DECLARE, 0, q, False, True, False, False, False, {}))
            out.append(raw.method_frame(1, (50, 20), raw_args=raw.encode_args(
                'sSSSbF', (0, q, exchange, '', False, {}))))
        c.send(b''.join(out))
        for _ in part:
            c.expect(raw.QUEUE_DECLARE_OK, 1)
            c.expect((50, 21), 1)
    c.close()


def test_66000_queues_declared_through_amqp(broker):
    need_control(broker)
    names = ['q%06d' % i for i in range(N)]
    t0 = time.monotonic()
    declare_and_bind(broker, names, 'fan')
    print('declared and bound %d queues in %.1f s' % (N, time.monotonic() - t0))

    c = connect(broker)
    ch = c.channel()
    ch.confirm_delivery()
    ch.basic_publish('fan', '', b'for every queue', PERSISTENT, mandatory=True)
    c.close()

    broker.restart()
    counts = message_counts(broker, names)
    empty = [q for q in names if counts[q] != 1]
    assert not empty, '%d of %d queues lost the message, e.g. %s' % (len(empty), N, empty[:5])


def recovery_ms(broker):
    m = re.findall(r'store: \d+ durable queues, .* recovered in (\d+) ms', broker.log_text())
    assert m, broker.log_text()[-2000:]
    return int(m[-1])


def test_recovery_is_linear_in_bindings(broker_factory, release_bin):
    times = {}
    for n in (16000, 33000, 66000):
        b = broker_factory()
        need_control(b)
        b.stop()
        write_fanout_definitions(b.data_dir, n)
        best = None
        for _ in range(3):
            b.start()
            ms = recovery_ms(b)
            best = ms if best is None else min(best, ms)
            b.stop()
        times[n] = best
    print('recovery with 16k / 33k / 66k bindings on one exchange: %d / %d / %d ms'
          % (times[16000], times[33000], times[66000]))
    # quadratic would be 17x from 16k to 66k; linear about 4x
    assert times[66000] <= 8 * max(times[16000], 10), times
    assert times[66000] < 2000, times
