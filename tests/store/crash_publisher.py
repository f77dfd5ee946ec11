"""Publisher for the crash loop (test_store_crash.py), run as a process.

    crash_publisher.py HOST PORT QUEUE PREFIX OUT [WINDOW] [SIZE]

Publishes persistent messages make_body(PREFIX, 0..) to QUEUE (which must
exist) in confirm mode with at most WINDOW unconfirmed, for as long as the
broker lives.  Each confirm is appended to OUT ("A n" or "N n") and flushed
as soon as it is read - before anything else is sent - so OUT never claims
more than the broker confirmed.  When the broker dies (the test kills it)
the publisher exits 0; it never retries, so every id is published once.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from store_helpers import ConfirmPublisher, make_body, raw  # noqa: E402


def main():
    host, port, queue, prefix, out = sys.argv[1:6]
    window = int(sys.argv[6]) if len(sys.argv) > 6 else 100
    size = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    with open(out, 'a') as f:
        def record(tags, ok):
            # delivery tag t is message t - 1
            f.write(''.join('%s %d\n' % ('A' if ok else 'N', t - 1) for t in tags))
            f.flush()

        try:
            pub = ConfirmPublisher(host, int(port), timeout=5.0, on_confirm=record)
        except (OSError, raw.Closed, raw.ProtocolError) as e:
            print('publisher: could not start: %s' % e)
            return 0
        n = 0
        try:
            while True:
                while len(pub.pending) < window:
                    pub.send(queue, make_body(prefix, n, size))
                    n += 1
                pub.read_confirms(5.0)
        except (OSError, raw.Closed, raw.ProtocolError, socket.timeout) as e:
            print('publisher: stopped after %d published, %d acked, %d nacked: %s'
                  % (n, len(pub.acked), len(pub.nacked), type(e).__name__))
    return 0


if __name__ == '__main__':
    sys.exit(main())
