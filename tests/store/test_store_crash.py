"""Crash loop: kill -9 the broker while publishers (and sometimes a
consumer) are busy, restart it, and check what publishers and consumers
were told against what is on the queue.

Each round a publisher process (crash_publisher.py) publishes persistent
messages with confirms and records every confirmed id the moment it reads
the confirm; in one round of three (and every round with 64 KiB bodies) a
consumer process (crash_consumer.py)
drains the queue meanwhile, recording what it received and, after a round
trip that proves the broker handled them, what it acked.  The broker is
killed (SIGKILL) at a random moment, warren-check-store looks at the files
(only a torn tail is allowed), the broker is started again, and the queue
must hold:

  * every confirmed message the consumer did not ack, exactly once: also
    those it was handed and kept unacked on purpose;
  * those kept messages marked redelivered=True (the "delivered" mark
    reaches the kernel before the delivery leaves the broker);
  * no message the consumer acked (its ack reached the kernel before the
    qos-ok that followed it left the broker), and no message from an
    earlier round (those were drained and acked);
  * a message the consumer received but whose ack was not known to be
    handled only with redelivered=True;
  * no message twice, every body intact, in publish order.

Then the queue must still work (a confirmed publish and a get), and it is
drained for the next round.  Some rounds use 64 KiB bodies so that kills
land around segment changes.  STORE_CRASH_ROUNDS and STORE_CRASH_SEED
override the round count (default 30) and the random seed (printed on
failure so a failing run can be repeated).
"""
import os
import random
import subprocess
import sys
import time

from store_helpers import (alarm_seconds, HERE, PYTHON, ConfirmPublisher, body_id, check_store,  # noqa: F401
                           connect, consume_all, make_body, need_control, queue_depth, raw, start_or_fail)

ROUNDS = int(os.environ.get('STORE_CRASH_ROUNDS', '30'))


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [ln.split() for ln in f if ln.endswith('\n')]


def wait_lines(path, proc, timeout=10.0):
    """Until the file has a line (the first confirm) or the process ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def run_round(broker, qname, rnd, rng, tmp, gone):
    prefix = 'r%d' % rnd
    size = 64 * 1024 if rnd % 5 == 3 else rng.choice([0, 100, 1000])
    window = rng.choice([1, 10, 100, 300]) if size < 65536 else 20
    # a consumer in one round of three, and in every round of big bodies
    # (their long writes are where an ack could once lag its reply)
    with_consumer = rnd % 3 == 1 or size == 64 * 1024
    pub_out = str(tmp / ('pub-%d.txt' % rnd))
    con_out = str(tmp / ('con-%d.txt' % rnd))
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    procs = []
    try:
        pub = subprocess.Popen([PYTHON, os.path.join(HERE, 'crash_publisher.py'), broker.host, str(broker.port),
                                qname, prefix, pub_out, str(window), str(size)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        procs.append(pub)
        if with_consumer:
            con = subprocess.Popen([PYTHON, os.path.join(HERE, 'crash_consumer.py'), broker.url, qname, con_out,
                                    str(rng.choice([1, 20, 100, 400]))],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            procs.append(con)
        assert wait_lines(pub_out, pub), 'publisher confirmed nothing: %s' % pub.communicate()[0]
        time.sleep(rng.uniform(0.0, 0.5))
        broker.kill()
        outputs = [p.communicate(timeout=15)[0].decode(errors='replace') for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, text in zip(procs, outputs):
        assert p.returncode == 0, text

    rc, out = check_store(broker.data_dir)
    problems = [ln for ln in out.splitlines() if ln.startswith('PROBLEM')]
    assert rc in (0, 1) and all('torn' in ln for ln in problems), \
        'round %d: the store after kill -9 has more than a torn tail:\n%s' % (rnd, out)

    pub_lines = read_lines(pub_out)
    confirmed = {int(n) for k, n in pub_lines if k == 'A'}
    nacked = {int(n) for k, n in pub_lines if k == 'N'}
    con_lines = read_lines(con_out)
    received = {int(ln[1]) for ln in con_lines if ln[0] == 'R'}
    con_acked = {int(ln[1]) for ln in con_lines if ln[0] == 'A'}
    kept = {int(ln[1]) for ln in con_lines if ln[0] == 'K'}
    assert not nacked, 'round %d: nacks with no disk trouble: %s' % (rnd, sorted(nacked)[:10])

    start_or_fail(broker)
    c = connect(broker)
    ch = c.channel()
    depth = queue_depth(ch, qname)
    got = consume_all(ch, qname, expect=depth, idle=3.0) if depth else []
    assert len(got) == depth, 'round %d: queue says %d messages, %d delivered' % (rnd, depth, len(got))
    ids = []
    for body, redelivered in got:
        p, n = body_id(body)
        assert (p, n) not in gone, 'round %d: %s-%d was acked before and came back' % (rnd, p, n)
        assert p == prefix, 'round %d: message %s-%d from another round' % (rnd, p, n)
        if (n in received and n not in con_acked) or n in kept:
            assert redelivered, 'round %d: %s-%d was delivered before the crash but is not ' \
                                'marked redelivered' % (rnd, p, n)
        ids.append(n)
        gone.add((p, n))
    assert len(ids) == len(set(ids)), 'round %d: duplicates: %s' % (
        rnd, sorted({n for n in ids if ids.count(n) > 1})[:10])
    assert ids == sorted(ids), 'round %d: not in publish order after recovery' % rnd
    back = set(ids)
    lost = sorted((confirmed - received) - back)
    assert not lost, 'round %d: %d confirmed messages lost, e.g. %s%s' % (
        rnd, len(lost), lost[:10], ' (kept unacked by the consumer: %s)' % sorted(kept & set(lost))[:10]
        if kept & set(lost) else '')
    resurrected = sorted(con_acked & back)
    assert not resurrected, 'round %d: %d acked messages came back, e.g. %s' % (
        rnd, len(resurrected), resurrected[:10])
    for n in received | con_acked | kept:
        gone.add((prefix, n))

    # the queue still works: a confirmed publish, then a get
    probe = ConfirmPublisher(broker.host, broker.port)
    probe.publish_all(qname, [make_body('probe%d' % rnd, 0)], window=1)
    assert probe.acked == [1] and not probe.nacked
    probe.close()
    m, _p, body = ch.basic_get(qname, auto_ack=False)
    assert body == make_body('probe%d' % rnd, 0)
    ch.basic_ack(m.delivery_tag)
    assert queue_depth(ch, qname) == 0
    c.close()
    return len(confirmed), len(back), len(received), len(con_acked), len(kept & back)


def test_crash_loop(broker, qname, tmp_path):
    need_control(broker)
    seed = int(os.environ.get('STORE_CRASH_SEED', str(int(time.time()))))
    rng = random.Random(seed)
    c = connect(broker)
    c.channel().queue_declare(qname, durable=True)
    c.close()
    gone = set()
    stats = []
    t0 = time.monotonic()
    try:
        for rnd in range(ROUNDS):
            stats.append(run_round(broker, qname, rnd, rng, tmp_path, gone))
    except AssertionError as e:
        raise AssertionError('%s\n(STORE_CRASH_SEED=%d to repeat)' % (e, seed)) from None
    elapsed = time.monotonic() - t0
    sys.stdout.write('crash loop: %d rounds in %.1fs; (confirmed, recovered, consumed, acked, kept and back) '
                     'per round: %s\n' % (ROUNDS, elapsed, stats))
    assert sum(s[0] for s in stats) > ROUNDS, 'the publishers hardly published: %s' % stats
    assert any(s[3] for s in stats), 'the consumer never acked anything: %s' % stats
    assert any(s[4] for s in stats), 'no kept (delivered, unacked) message was ever checked: %s' % stats


def crash_setup(broker_factory, monkeypatch, qname, point):
    """A broker that kills itself (WARREN_TEST_CRASH_AT=point) right after
    writing the output of the first turn that made an ack entry
    (after-ack-reply) or a "delivered" mark (after-delivery); five
    confirmed persistent messages queued."""
    monkeypatch.setenv('WARREN_TEST_CRASH_AT', point)
    broker = broker_factory()
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    pub.publish_all(qname, [make_body('m', i) for i in range(5)], window=5)
    assert len(pub.acked) == 5
    pub.close()
    return broker


def crashed(broker, monkeypatch, point):
    try:
        broker.proc.wait(5)
    except subprocess.TimeoutExpired:
        raise AssertionError('the broker did not stop at %s' % point) from None
    broker.proc = None
    assert 'WARREN_TEST_CRASH_AT=%s' % point in broker.log_text()
    monkeypatch.delenv('WARREN_TEST_CRASH_AT')
    start_or_fail(broker)
    c = connect(broker)
    got = [(body_id(b)[1], r) for b, r in consume_all(c.channel(), broker.qname, idle=0.5)]
    c.close()
    return got


def test_ack_is_in_the_kernel_before_the_reply_after_it(broker_factory, monkeypatch, qname):
    """A client acks and makes a round trip (basic.qos): once it has the
    qos-ok, the ack must survive a kill -9.  The broker is killed right
    after it wrote the qos-ok; the ack entry must have been written before
    (deterministic, where the crash loop only sometimes lands there)."""
    broker = crash_setup(broker_factory, monkeypatch, qname, 'after-ack-reply')
    broker.qname = qname
    # raw frames: pika drops a reply that arrives just before the EOF
    r = raw.RawConnection(broker.host, broker.port)
    r.handshake()
    r.open_channel(1)
    r.send(raw.method_frame(1, raw.BASIC_GET, 0, qname, False))
    tag = r.expect(raw.BASIC_GET_OK, 1).args[0]
    r.read_frame()                      # its header
    assert body_id(r.read_frame().payload)[1] == 0
    # ack, and a round trip in the same write: one turn of the broker
    r.send(raw.method_frame(1, raw.BASIC_ACK, tag, False) + raw.method_frame(1, raw.BASIC_QOS, 0, 0, False))
    assert r.read_method(5).method == (60, 11), 'no basic.qos-ok'   # the reply the ack must not lag
    got = crashed(broker, monkeypatch, 'after-ack-reply')
    r.close()
    assert [n for n, _r in got] == [1, 2, 3, 4], 'the acked message came back: %s' % got


def test_delivered_mark_is_in_the_kernel_before_the_delivery(broker_factory, monkeypatch, qname):
    """The broker is killed right after writing a basic.get-ok: the message
    must come back marked redelivered, so its "delivered" entry must have
    reached the kernel before the get-ok left."""
    broker = crash_setup(broker_factory, monkeypatch, qname, 'after-delivery')
    broker.qname = qname
    # raw frames: pika drops a reply that arrives just before the EOF
    r = raw.RawConnection(broker.host, broker.port)
    r.handshake()
    r.open_channel(1)
    r.send(raw.method_frame(1, raw.BASIC_GET, 0, qname, False))
    r.expect(raw.BASIC_GET_OK, 1)
    r.read_frame()                      # its header
    assert body_id(r.read_frame().payload)[1] == 0
    got = crashed(broker, monkeypatch, 'after-delivery')
    r.close()
    assert got == [(0, True), (1, False), (2, False), (3, False), (4, False)], got
