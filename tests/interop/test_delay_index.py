"""Issue 15, point 3: the delayed exchange's index on disk (src/delay_index.c,
doc/work-queues.md), with pika.

The broker runs with a tiny horizon and bucket width (WARREN_DELAY_HORIZON_MS,
WARREN_DELAY_BUCKET_MS: 200 ms instead of 60 s), so that messages delayed by
a second or more are in DATA/delay/<hold id>/<bucket>.idx files, not in RAM,
until their bucket comes within the horizon.  They must still fire in time
order whatever the order they came in, survive a restart and a kill -9 with
their times kept (the index is rebuilt from the store: a stale one is never
read), be counted and browsable, and go with their files when the exchange
is deleted.

Warren-only: the reference RabbitMQ has no delayed-message plugin.
"""
import glob
import os
import random
import time

import pika
import pytest

from test_delayed_exchange import declare_delayed, delayed, get_wait, mgmt_get

EXTERNAL = bool(os.environ.get('WARREN_TEST_URL'))
pytestmark = pytest.mark.skipif(EXTERNAL, reason='warren-only: the reference has no delayed-message plugin')


@pytest.fixture(autouse=True)
def tiny_horizon(monkeypatch):
    """Before the broker fixture starts its process (autouse runs first)."""
    monkeypatch.setenv('WARREN_DELAY_HORIZON_MS', '200')
    monkeypatch.setenv('WARREN_DELAY_BUCKET_MS', '200')


def index_files(broker):
    return sorted(glob.glob(os.path.join(broker.data_dir, 'delay', '*', '*.idx')))


def consume_all(ch, q, n, timeout=15):
    """n messages as they come: (body, seconds since the call)."""
    got = []
    t0 = time.monotonic()
    end = t0 + timeout
    while len(got) < n and time.monotonic() < end:
        m, props, body = ch.basic_get(q, auto_ack=True)
        if m:
            got.append((body, time.monotonic()))
        else:
            time.sleep(0.002)
    return got


def publish_timed(ch, x, delays):
    """One persistent message a delay (the body says which); returns each
    body's due time, on the monotonic clock, as the client sees it (the
    broker's stamp is a little later)."""
    due = {}
    for ms in delays:
        body = b'%d' % ms
        due[body] = time.monotonic() + ms / 1000.0
        ch.basic_publish(x, 'k', body, delayed(ms, persistent=True))
    return due


def assert_fired_in_order(got, due):
    """Each at or after its time, and in time order but for the few ms
    between the client's clock and the broker's stamp of each publish, on
    a loaded machine (a bucket read late would be 200 ms off)."""
    for body, t in got:
        assert t >= due[body] - 0.002, (body, t, due[body])
    order = [b for b, _ in got]
    for a, b in zip(order, order[1:]):
        assert due[b] >= due[a] - 0.02, order


def test_beyond_the_horizon_fire_in_time_order(broker_factory):
    """Sixty persistent messages with delays of 0.4 to 3 s, published in a
    random order: they wait in bucket files, are counted and browsed in the
    order they fire, then each fires at its time (not before it, in time
    order), and the files are gone once they have."""
    from helpers import Amqp
    broker = broker_factory(management=True)
    amqp = Amqp(broker)
    try:
        x, q = amqp.name('dx'), amqp.name('dq')
        ch = amqp.channel()
        ch.confirm_delivery()
        declare_delayed(ch, x, q, durable=True)
        delays = list(range(400, 3400, 50))
        random.Random(15).shuffle(delays)
        due = publish_timed(ch, x, delays)
        time.sleep(0.25)  # the index writes its buffers within 100 ms
        files = index_files(broker)
        assert len(files) >= 5, files
        info = mgmt_get(broker, 'exchanges/%%2F/%s' % x)
        assert info['messages_delayed'] == len(delays)
        seen = mgmt_get(broker, 'exchanges/%%2F/%s/messages?count=%d' % (x, len(delays)))
        now = time.monotonic()
        # those not fired yet, in the order they will be: RAM's, then each bucket's
        assert [m['due'] for m in seen] == sorted(m['due'] for m in seen)
        assert len(seen) >= len([b for b in due if due[b] > now + 0.01])
        assert len(set(m['payload'] for m in seen)) == len(seen)
        got = consume_all(ch, q, len(delays))
        assert sorted(b for b, _ in got) == sorted(due)
        assert_fired_in_order(got, due)
        assert mgmt_get(broker, 'exchanges/%%2F/%s' % x)['messages_delayed'] == 0
        assert index_files(broker) == []
    finally:
        amqp.close()


def test_arrivals_into_a_bucket_being_read_keep_their_order(broker, amqp):
    """Messages for the same short span published in several waves, some
    while their bucket is already being read back: one time order."""
    x, q = amqp.name('dx'), amqp.name('dq')
    ch = amqp.channel()
    ch.confirm_delivery()
    declare_delayed(ch, x, q, durable=True)
    t0 = time.monotonic()
    due = {}
    for wave in range(4):
        for i in range(10):
            at = 1.2 + 0.1 * i + 0.025 * wave  # due times interleave across waves
            ms = int((at - (time.monotonic() - t0)) * 1000)
            body = b'%d.%d' % (wave, i)
            due[body] = at
            ch.basic_publish(x, 'k', body, delayed(ms, persistent=True))
        time.sleep(0.25)
    got = consume_all(ch, q, 40)
    assert len(got) == 40
    order = [b for b, _ in got]
    # in due order, but for the ms between the client's clock and the
    # broker's stamp of each publish (a bucket read late would be 200 ms off)
    for a, b in zip(order, order[1:]):
        assert due[b] >= due[a] - 0.02, order


@pytest.mark.parametrize('kill', [False, True], ids=['restart', 'kill9'])
def test_survive_restart_with_their_times(broker, amqp, kill):
    """Confirmed, on disk in the index, the broker stopped (or killed):
    after the start the index is rebuilt from the store (a stale file
    planted in it is not read) and every message fires once, at its
    original time, in time order."""
    broker.require_control()
    x, q = amqp.name('dx'), amqp.name('dq')
    ch = amqp.channel()
    ch.confirm_delivery()
    declare_delayed(ch, x, q, durable=True)
    delays = [3000, 1500, 2600, 1800, 2200, 1600, 2900, 2000]
    due = publish_timed(ch, x, delays)
    time.sleep(0.2)
    files = index_files(broker)
    assert files
    if kill:
        broker.kill()
    else:
        broker.stop()
    # a stale entry (an index is a cache): were it read, a message
    # "due" at 0 with a bogus store position would fire or be logged
    with open(os.path.join(os.path.dirname(files[0]), '0.idx'), 'wb') as f:
        f.write(bytes(32))
    os.makedirs(os.path.join(broker.data_dir, 'delay', '99999'), exist_ok=True)
    broker.start()
    assert os.path.exists(os.path.join(os.path.dirname(files[0])))
    assert not os.path.exists(os.path.join(os.path.dirname(files[0]), '0.idx'))
    assert not os.path.exists(os.path.join(broker.data_dir, 'delay', '99999'))
    ch = amqp.channel()
    got = consume_all(ch, q, len(delays))
    assert sorted(b for b, _ in got) == sorted(due)
    assert_fired_in_order(got, due)
    time.sleep(0.3)
    assert ch.basic_get(q, auto_ack=True)[0] is None  # once each
    assert 'could not be read' not in broker.log_text()


def test_transient_beyond_the_horizon_stay_in_ram_and_fire(broker, amqp):
    """A transient message to a durable delayed exchange has no store
    record to point at: it waits in RAM, and fires in order with the
    persistent ones around it."""
    x, q = amqp.name('dx'), amqp.name('dq')
    ch = amqp.channel()
    ch.confirm_delivery()
    declare_delayed(ch, x, q, durable=True)
    for ms, persistent in ((1400, True), (1000, False), (1200, True), (800, False)):
        ch.basic_publish(x, 'k', b'%d' % ms, delayed(ms, persistent=persistent))
    got = consume_all(ch, q, 4)
    assert [int(b) for b, _ in got] == [800, 1000, 1200, 1400]


def test_delete_exchange_drops_them_and_their_files(broker, amqp):
    broker.require_control()
    x, q = amqp.name('dx'), amqp.name('dq')
    ch = amqp.channel()
    ch.confirm_delivery()
    declare_delayed(ch, x, q, durable=True)
    for ms in (1500, 2000, 2500, 1200):
        ch.basic_publish(x, 'k', b'%d' % ms, delayed(ms, persistent=True))
    time.sleep(0.2)
    files = index_files(broker)
    assert files
    ch.exchange_delete(x)
    assert index_files(broker) == []
    assert not os.path.exists(os.path.dirname(files[0]))
    broker.restart()
    ch = amqp.channel()
    declare_delayed(ch, x, q, durable=True)
    time.sleep(2.8)
    assert ch.basic_get(q)[0] is None
    # and the store let them go: nothing of them is left to recover
    broker.restart()
    ch = amqp.channel()
    time.sleep(0.3)
    assert ch.basic_get(q)[0] is None


def test_a_bucket_bigger_than_a_slice_is_read_over_turns(broker_factory, monkeypatch):
    """Twenty thousand due in three groups 300 ms apart, most likely in one
    5 s bucket (more than a slice of 16,384 entries read a turn): all
    fire, none before its time, the groups in order.  (Published without
    confirms, the broker stamps them later than the client thinks, by up
    to the backlog it has to read: hence groups rather than one order.)"""
    from helpers import Amqp
    monkeypatch.setenv('WARREN_DELAY_BUCKET_MS', '5000')
    broker = broker_factory()
    amqp = Amqp(broker)
    try:
        x, q = amqp.name('dx'), amqp.name('dq')
        ch = amqp.channel()
        declare_delayed(ch, x, q, durable=True)
        n = 20000
        t0 = time.monotonic()
        due = []
        for i in range(n):
            at = 8.0 + 0.3 * (i % 3)
            due.append(at)
            ms = int((at - (time.monotonic() - t0)) * 1000)
            ch.basic_publish(x, 'k', b'%d' % i, delayed(ms, persistent=True))
        assert time.monotonic() - t0 < 7.0, 'published too slowly for the test to mean anything'
        got = consume_all(ch, q, n, timeout=30)
        assert len(got) == n
        assert sorted(int(b) for b, _ in got) == list(range(n))
        for b, t in got:
            assert t - t0 >= due[int(b)] - 0.002
        order = [due[int(b)] for b, _ in got]
        for a, b in zip(order, order[1:]):
            assert b >= a - 0.2
        assert index_files(broker) == []
    finally:
        amqp.close()
