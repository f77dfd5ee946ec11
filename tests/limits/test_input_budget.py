"""Issue 14, section 2: a connection that pipelines thousands of frames (a
flood of channel.open) holds the loop at most about 1 ms per turn; the rest
of its input waits in its buffer for the next turn (src/proto/conn.c,
INPUT_BUDGET_NS), so other clients are served in between.  And one that
opens channels faster than 1,000 a second (after 2,048 at once) is slowed,
not refused (proto/limits.h, LIMITS_CHANNEL_OPEN_RATE).  These tests check
that both are invisible to the client but for the time: every frame is
handled, in order, whatever the turn it falls in, publishes included.
"""
import time

import amqp_raw as raw


def test_pipelined_channel_flood_answered_in_order(broker):
    with raw.RawConnection(broker.host, broker.port, timeout=30) as c:
        c.handshake()
        rounds = 3
        opens = b''.join(raw.method_frame(ch, raw.CHANNEL_OPEN, '') for ch in range(1, 2048))
        closes = b''.join(raw.method_frame(ch, raw.CHANNEL_CLOSE, 200, 'bye', 0, 0) for ch in range(1, 2048))
        t0 = time.monotonic()
        c.send((opens + closes) * rounds)          # 12,282 frames in one write
        for _ in range(rounds):
            for ch in range(1, 2048):
                c.expect(raw.CHANNEL_OPEN_OK, ch)
            for ch in range(1, 2048):
                c.expect(raw.CHANNEL_CLOSE_OK, ch)
        elapsed = time.monotonic() - t0
        # and the connection is still whole
        c.send(raw.method_frame(1, raw.CHANNEL_OPEN, ''))
        c.expect(raw.CHANNEL_OPEN_OK, 1)
    if not broker.external:
        # 2,048 at once, the other 4,093 at 1,000 a second: slowed, never refused
        assert elapsed > 3.0, elapsed
        assert 'opens channels faster than 1000 a second; slowed' in broker.log_text()


def test_pipelined_publishes_all_arrive(broker, qname):
    n = 20000
    with raw.RawConnection(broker.host, broker.port, timeout=30) as c:
        c.handshake()
        c.send(raw.method_frame(1, raw.CHANNEL_OPEN, ''))
        c.expect(raw.CHANNEL_OPEN_OK, 1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, False, False, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        one = (raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False) +
               raw.header_frame(1, 3) + raw.body_frame(1, b'abc'))
        c.send(one * n)                              # 60,000 frames in one write
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, True, False, False, False, False, {}))
        f = c.expect(raw.QUEUE_DECLARE_OK, 1, timeout=60)
        assert f.args[1] == n, f.args


def test_budget_splits_a_big_read(broker):
    """200,000 heartbeats in one write (the cheapest frame there is, and no
    channel.open to be slowed): more than one turn's budget, so the budget
    splits them, and the channel.close behind them is still answered."""
    with raw.RawConnection(broker.host, broker.port, timeout=30) as c:
        c.handshake()
        c.send(raw.method_frame(1, raw.CHANNEL_OPEN, ''))
        c.expect(raw.CHANNEL_OPEN_OK, 1)
        hb = raw.heartbeat_frame() * 200000          # 1.6 MB of the cheapest frame there is
        c.send(hb + raw.method_frame(1, raw.CHANNEL_CLOSE, 200, 'bye', 0, 0))
        c.expect(raw.CHANNEL_CLOSE_OK, 1, timeout=60)
    if not broker.external:
        assert 'input budget used' in broker.log_text()   # the split did happen
