#!/usr/bin/python3
"""Crash loop and power-cut simulation: kill -9 warren again and again under
confirmed load, restart it on the same data directory, check what every
client was told against what the broker has.

    crashloop.py [--rounds N] [--seed S] [--data-dir DIR] [--broker BIN]
                 [--power-cut] [--publishers P] [--consumers C] [--queues Q]
                 [--checkpoints]

Each round, on the running broker: P publisher processes
(tests/store/crash_publisher.py: persistent messages, confirms, each
confirm recorded the moment it is read) publish to Q durable queues, and
in two rounds of three C consumer processes (crash_consumer.py: manual
acks after a round trip, some messages kept unacked on purpose, some
nacked with requeue) consume them.  At a random moment the broker gets
SIGKILL.  Then:

  * with --power-cut, each store file is cut back to what its last
    completed fdatasync/fsync covered - or, one time in two, torn at a
    random byte of the part no sync covered - as the kernel losing its page
    cache would leave it.  The broker runs with the LD_PRELOAD shim
    build/failio.so, whose FAILIO_SYNCLOG records, per inode, how much of
    the file each successful sync covered (ack files: up to their last
    entry, they are mapped over zeroed space);
  * bin/warren-check-store must find the stopped directory clean (exit 0:
    a torn tail is a NOTE);
  * the broker is started again and each queue drained, and:
    - every confirmed message is back, unless a consumer received it;
    - nothing comes back twice;
    - a message a consumer received and did not know acked, or kept, comes
      back only with redelivered=true; a consumer saw a message a second
      time (or after its requeue) only with redelivered=true;
    - (kill -9 only) nothing acked after a round trip, nor drained in an
      earlier round, comes back, and each publisher's messages come back in
      publish order.  A power cut may lose the acks of the last second
      (doc/store-format.md, "What a crash can cost"): those come back, are
      counted, and are not an error.

With --checkpoints, one start in two (by the seed) runs with a queue window
of 16 or 64 entries (WARREN_QUEUE_WINDOW: most of a backlog stays on disk,
in the queues' regions) and a checkpoint every 1 to 100 ms
(WARREN_CHECKPOINT_MS), so kills land at random moments of checkpoints
being made and restarts recover from them.

A round is then the next round's broker.  Exit status 0 when every round
passed; the first failure stops the run with the seed that repeats it.
--broker defaults to bin/warren (the release build; the power cut needs it,
the shim cannot be preloaded under ASan); tests/crash/test_crashloop.py runs
a few rounds of each under pytest.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STORE_TESTS = os.path.join(ROOT, 'tests', 'store')
sys.path.insert(0, STORE_TESTS)
from store_helpers import CHECK_STORE, FAILIO, PYTHON, body_id  # noqa: E402

import pika  # noqa: E402


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, binary, data_dir, work, power_cut, rng=None):
        self.rng = rng              # with --checkpoints: picks each start's window and interval
        self.binary = binary
        self.data_dir = data_dir
        self.work = work
        self.power_cut = power_cut
        self.synclog = os.path.join(work, 'synclog')
        self.port = free_port()
        self.url = 'amqp://guest:guest@127.0.0.1:%d/' % self.port
        self.proc = None
        self.starts = 0
        self.log = None

    def start(self):
        self.starts += 1
        self.log = os.path.join(self.work, 'broker-%d.log' % (self.starts % 2))
        env = dict(os.environ)
        env.setdefault('ASAN_OPTIONS', 'detect_leaks=0:abort_on_error=0')
        env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1')
        if self.rng and self.rng.random() < 0.5:
            env['WARREN_QUEUE_WINDOW'] = str(self.rng.choice([16, 64]))
            env['WARREN_CHECKPOINT_MS'] = str(self.rng.choice([1, 5, 20, 100]))
        if self.power_cut:
            env['LD_PRELOAD'] = FAILIO
            env['FAILIO_SYNCLOG'] = self.synclog
        cmd = [self.binary, '--bind', '127.0.0.1', '--port', str(self.port), '--data-dir', self.data_dir,
               '--management-port', '0']
        with open(self.log, 'w') as f:
            self.proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, 'the broker did not start (exit %s):\n%s'
                  % (self.proc.returncode, self.log_text()[-3000:]))
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise Failed('the broker did not listen within 30 s')

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        text = self.log_text()
        check(not any(w in text for w in ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:')),
              'the sanitizers reported:\n%s' % text[-5000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def log_text(self):
        with open(self.log, errors='replace') as f:
            return f.read()


def store_files(data_dir):
    for root, _dirs, files in os.walk(data_dir):
        for f in files:
            yield os.path.join(root, f)


def power_cut(broker, rng, plant=None):
    """Cut every file back to what its last completed sync covered (or tear
    the unsynced part at a random byte), then start a new sync log whose
    baseline is what is left: that is what is on the disk now.  plant
    'unsynced' (to show the check can fail) cuts message segments back to
    the sync before the last instead, as if the broker confirmed before
    its sync."""
    synced, before = {}, {}
    if os.path.exists(broker.synclog):
        with open(broker.synclog) as f:
            for line in f:
                if line.endswith('\n'):
                    ino, length, path = line.split(' ', 2)
                    ino, length = int(ino), int(length)
                    if length != synced.get(ino, length) and path.rstrip().endswith('.seg'):
                        before[ino] = synced[ino]
                    synced[ino] = length
    if plant == 'unsynced':
        synced.update(before)
    cut = torn = lost = 0
    for path in store_files(broker.data_dir):
        st = os.stat(path)
        keep = synced.get(st.st_ino, 0)
        if st.st_size <= keep:
            continue
        if rng.random() < 0.5:
            keep = rng.randint(keep, st.st_size - 1)
            torn += 1
        lost += st.st_size - keep
        os.truncate(path, keep)
        cut += 1
    with open(broker.synclog, 'w') as f:
        for path in store_files(broker.data_dir):
            st = os.stat(path)
            f.write('%d %d %s\n' % (st.st_ino, st.st_size, path))
    return cut, torn, lost


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [ln.split() for ln in f if ln.endswith('\n')]


def wait_first_confirm(path, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def drain(broker, queue):
    """Everything on queue: [(prefix, n, redelivered)], acked."""
    p = pika.URLParameters(broker.url)
    p.socket_timeout = 10
    c = pika.BlockingConnection(p)
    ch = c.channel()
    depth = ch.queue_declare(queue, durable=True, passive=True).method.message_count
    got = []
    if depth:
        ch.basic_qos(prefetch_count=1000)
        for m, _props, body in ch.consume(queue, inactivity_timeout=3.0):
            if m is None:
                break
            prefix, n = body_id(body)
            got.append((prefix, n, m.redelivered))
            if len(got) % 500 == 0 or len(got) >= depth:
                ch.basic_ack(m.delivery_tag, multiple=True)
            if len(got) >= depth:
                break
        ch.cancel()
    check(len(got) == depth, 'queue %s says %d messages, %d delivered' % (queue, depth, len(got)))
    c.close()
    return got


class Totals:
    def __init__(self):
        self.confirmed = self.recovered = self.received = self.acked = self.kept_back = 0
        self.requeued = self.acks_lost = self.old_back = 0
        self.cut_files = self.torn = self.cut_bytes = 0


def run_round(broker, args, rnd, rng, work, gone, tot):
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    queues = ['crashloop-%d' % i for i in range(args.queues)]
    with_consumers = rnd % 3 != 2
    procs, pubs = [], []
    try:
        for i in range(args.publishers):
            prefix = 'r%dp%d' % (rnd, i)
            size = 64 * 1024 if rng.random() < 0.1 else rng.choice([0, 100, 1000])
            window = 20 if size == 64 * 1024 else rng.choice([1, 10, 50, 100])
            out = os.path.join(work, 'pub-%d.txt' % i)
            if os.path.exists(out):
                os.unlink(out)
            p = subprocess.Popen([PYTHON, os.path.join(STORE_TESTS, 'crash_publisher.py'), '127.0.0.1',
                                  str(broker.port), queues[i % len(queues)], prefix, out, str(window), str(size)],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            procs.append(p)
            pubs.append((prefix, queues[i % len(queues)], out, p))
        cons = []
        if with_consumers:
            for j in range(args.consumers):
                out = os.path.join(work, 'con-%d.txt' % j)
                if os.path.exists(out):
                    os.unlink(out)
                p = subprocess.Popen([PYTHON, os.path.join(STORE_TESTS, 'crash_consumer.py'), broker.url,
                                      queues[j % len(queues)], out, str(rng.choice([1, 20, 100, 400])), '7'],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
                procs.append(p)
                cons.append(out)
        for prefix, _q, out, p in pubs:
            if not wait_first_confirm(out, p):
                p.kill()
                raise Failed('publisher %s confirmed nothing: %s' % (prefix, p.communicate()[0]))
        time.sleep(rng.uniform(0.0, 0.3))
        broker.kill()
        outputs = [p.communicate(timeout=30)[0].decode(errors='replace') for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, text in zip(procs, outputs):
        check(p.returncode == 0, 'a client failed: %s' % text)

    if args.plant == 'lose-acks':
        for path in store_files(broker.data_dir):
            if path.endswith('.ack'):
                os.truncate(path, 0)
    if args.plant == 'corrupt':
        segs = sorted((os.path.getsize(p), p) for p in store_files(broker.data_dir) if p.endswith('.seg'))
        with open(segs[-1][1], 'r+b') as f:   # a byte in the middle of the biggest segment's records
            f.seek(segs[-1][0] // 2)
            b = f.read(1)
            f.seek(segs[-1][0] // 2)
            f.write(bytes([b[0] ^ 0x5a]))
    if args.power_cut:
        cut, torn, nbytes = power_cut(broker, rng, args.plant)
        tot.cut_files += cut
        tot.torn += torn
        tot.cut_bytes += nbytes

    rc = subprocess.run([CHECK_STORE, broker.data_dir], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=120)
    report = rc.stdout.decode(errors='replace')
    check(rc.returncode == 0, 'warren-check-store exit %d after the %s:\n%s'
          % (rc.returncode, 'power cut' if args.power_cut else 'kill -9', report))

    confirmed, nacked = set(), set()
    for prefix, _q, out, _p in pubs:
        for kind, n in read_lines(out):
            (confirmed if kind == 'A' else nacked).add((prefix, int(n)))
    check(not nacked, 'nacks with no disk trouble: %s' % sorted(nacked)[:10])
    received, acked, kept, requeued, seen_r = set(), set(), set(), set(), {}
    for out in cons:
        for ln in read_lines(out):
            key = (ln[-1], int(ln[1]))
            if ln[0] == 'R':
                redelivered = ln[2] == '1'
                check(redelivered or (key not in seen_r and key not in requeued),
                      '%s-%d was delivered again (or after its requeue) without redelivered=true' % key)
                seen_r[key] = True
                received.add(key)
            elif ln[0] == 'A':
                acked.add(key)
            elif ln[0] == 'K':
                kept.add(key)
            elif ln[0] == 'Q':
                requeued.add(key)

    broker.start()
    back = []
    for q in queues:
        back += drain(broker, q)
    ids = [(p, n) for p, n, _r in back]
    check(len(ids) == len(set(ids)), 'duplicates after the restart: %s'
          % sorted({k for k in ids if ids.count(k) > 1})[:10])
    this_round = {prefix for prefix, _q, _o, _p in pubs}
    for p, n, redelivered in back:
        key = (p, n)
        if p not in this_round:
            check(args.power_cut and key in gone, '%s-%d came back from an earlier round' % key)
            tot.old_back += 1
            continue
        if key in acked:
            check(args.power_cut, '%s-%d was acked (and a round trip made) but came back' % key)
            tot.acks_lost += 1
        elif not args.power_cut and ((key in received) or key in kept):
            check(redelivered, '%s-%d was delivered before the crash but came back without redelivered' % key)
    if not args.power_cut:
        for prefix in this_round:
            ns = [n for p, n, _r in back if p == prefix]
            check(ns == sorted(ns), 'the messages of %s came back out of publish order' % prefix)
    lost = sorted((confirmed - received) - set(ids))
    check(not lost, '%d confirmed messages lost, e.g. %s' % (len(lost), lost[:10]))
    gone |= set(ids) | received | acked | kept
    tot.confirmed += len(confirmed)
    tot.recovered += len(back)
    tot.received += len(received)
    tot.acked += len(acked)
    tot.kept_back += len(kept & set(ids))
    tot.requeued += len(requeued)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--rounds', type=int, default=10)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--data-dir', default=None, help='kept after the run (default: a temporary one, removed '
                    'when the run passes)')
    ap.add_argument('--broker', default=os.path.join(ROOT, 'bin', 'warren'))
    ap.add_argument('--power-cut', action='store_true')
    ap.add_argument('--publishers', type=int, default=3)
    ap.add_argument('--consumers', type=int, default=2)
    ap.add_argument('--queues', type=int, default=2)
    ap.add_argument('--checkpoints', action='store_true',
                    help='one start in two: a small queue window and checkpoints every few ms')
    ap.add_argument('--plant', choices=['unsynced', 'lose-acks', 'corrupt'],
                    help='a fault for the checks to catch (tests/crash/test_crashloop.py): a power cut that '
                    'also loses the last sync, ack files emptied after the kill, a byte of a record flipped')
    ap.add_argument('--max-seconds', type=float, default=0,
                    help='stop after the round that ends past this many seconds (0: run every round)')
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix='crashloop-')
    data_dir = args.data_dir or os.path.join(work, 'data')
    os.makedirs(data_dir, exist_ok=True)
    broker = Broker(args.broker, data_dir, work, args.power_cut, random.Random(seed + 1) if args.checkpoints else None)
    tot = Totals()
    gone = set()
    t0 = time.monotonic()
    rnd = done = 0
    try:
        broker.start()
        c = pika.BlockingConnection(pika.URLParameters(broker.url))
        ch = c.channel()
        for i in range(args.queues):
            ch.queue_declare('crashloop-%d' % i, durable=True)
        c.close()
        for rnd in range(args.rounds):
            try:
                run_round(broker, args, rnd, rng, work, gone, tot)
            except (pika.exceptions.AMQPError, OSError, subprocess.TimeoutExpired) as e:
                raise Failed('%s: %s' % (type(e).__name__, e)) from None
            done = rnd + 1
            if done % 50 == 0:
                print('crashloop: %d rounds, %.0f s' % (done, time.monotonic() - t0), flush=True)
            if args.max_seconds and time.monotonic() - t0 > args.max_seconds:
                break
    except Failed as e:
        print('crashloop: FAILED in round %d: %s\n(--seed %d repeats the run; files in %s)'
              % (rnd, e, seed, work), flush=True)
        return 1
    finally:
        broker.stop()
    what = 'power cuts' if args.power_cut else 'kill -9 rounds'
    print('crashloop: %d %s passed in %.0f s (seed %d, %s, %d publishers, %d consumers, %d queues): '
          '%d confirmed, %d recovered after restarts, %d received by consumers (%d acked, %d requeued), '
          '%d kept unacked and back redelivered, 0 confirmed lost'
          % (done, what, time.monotonic() - t0, seed, os.path.basename(args.broker), args.publishers,
             args.consumers, args.queues, tot.confirmed, tot.recovered, tot.received, tot.acked, tot.requeued,
             tot.kept_back), flush=True)
    if args.power_cut:
        print('crashloop: power cuts: %d files cut back (%d torn at a random byte), %d unsynced bytes thrown away; '
              '%d acked messages came back (acks of the last second), %d from earlier rounds'
              % (tot.cut_files, tot.torn, tot.cut_bytes, tot.acks_lost, tot.old_back), flush=True)
    if not args.data_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
