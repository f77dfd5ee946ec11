"""Consumer for the crash loop (test_store_crash.py), run as a process.

    crash_consumer.py URL QUEUE OUT [PREFETCH] [REQUEUE]

Consumes QUEUE with manual acks.  Some messages (every 11th id, at most a
quarter of the prefetch at a time) are kept: never acked, recorded as
"K id" the moment they arrive; after a crash they must come back, marked
redelivered.  For every batch of the others it appends to OUT (and
flushes) first "R id redelivered" for each, then acks each one, then makes
a round trip (basic.qos) and only after the qos-ok appends "A id" for
each: the broker has then handled those acks, so they must hold after a
crash.  With REQUEUE = k > 0, a message whose id is 5 modulo k, the first
time it arrives (not redelivered), is nacked with requeue=True, recorded
as "Q id" first: it must come again, marked redelivered.  Every line ends
with the message's prefix (its publisher), so that several publishers can
share a queue (tests/crash/crashloop.py).  Exits 0 when the broker dies.
"""
import os
import sys

import pika

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_helpers import body_id  # noqa: E402


def main():
    url, queue, out = sys.argv[1:4]
    prefetch = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    requeue = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    p = pika.URLParameters(url)
    p.socket_timeout = 5
    p.heartbeat = 0
    p.connection_attempts = 1
    received = acked = kept = 0
    max_kept = prefetch // 4
    with open(out, 'a') as f:
        try:
            c = pika.BlockingConnection(p)
            ch = c.channel()
            ch.basic_qos(prefetch_count=prefetch)
            batch = []
            for m, _props, body in ch.consume(queue, inactivity_timeout=0.02):
                if m is not None:
                    prefix, n = body_id(body)
                    if n % 11 == 0 and kept < max_kept:
                        f.write('K %d %s\n' % (n, prefix))
                        f.flush()
                        kept += 1
                        continue
                    if requeue and n % requeue == 5 and not m.redelivered:
                        f.write('Q %d %s\n' % (n, prefix))
                        f.flush()
                        ch.basic_nack(m.delivery_tag, requeue=True)
                        continue
                    batch.append((n, m.redelivered, m.delivery_tag, prefix))
                    if len(batch) < 20:
                        continue
                if not batch:
                    continue
                f.write(''.join('R %d %d %s\n' % (n, r, p) for n, r, _t, p in batch))
                f.flush()
                received += len(batch)
                for _n, _r, tag, _p in batch:   # one by one: the kept ones stay unacked
                    ch.basic_ack(tag)
                ch.basic_qos(prefetch_count=prefetch)   # round trip: the acks are handled
                f.write(''.join('A %d %s\n' % (n, p) for n, _r, _t, p in batch))
                f.flush()
                acked += len(batch)
                batch = []
        except (pika.exceptions.AMQPError, OSError) as e:
            print('consumer: stopped after %d received, %d acked, %d kept: %s'
                  % (received, acked, kept, type(e).__name__))
    return 0


if __name__ == '__main__':
    sys.exit(main())
