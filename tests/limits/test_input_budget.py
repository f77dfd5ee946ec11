"""Issue 14, section 2: a connection that pipelines thousands of frames (a
flood of channel.open) holds the loop at most about 1 ms per turn; the rest
of its input waits in its buffer for the next turn (src/proto/conn.c,
INPUT_BUDGET_NS), so other clients are served in between.  These tests
check that the split is invisible to the client: every frame is handled,
in order, whatever the turn it falls in, publishes included.
"""
import struct

import amqp_raw as raw


def test_pipelined_channel_flood_answered_in_order(broker):
    with raw.RawConnection(broker.host, broker.port, timeout=30) as c:
        c.handshake()
        rounds = 6
        opens = b''.join(raw.method_frame(ch, raw.CHANNEL_OPEN, '') for ch in range(1, 2048))
        closes = b''.join(raw.method_frame(ch, raw.CHANNEL_CLOSE, 200, 'bye', 0, 0) for ch in range(1, 2048))
        c.send((opens + closes) * rounds)          # 24,564 frames in one write
        for _ in range(rounds):
            for ch in range(1, 2048):
                c.expect(raw.CHANNEL_OPEN_OK, ch)
            for ch in range(1, 2048):
                c.expect(raw.CHANNEL_CLOSE_OK, ch)
        # and the connection is still whole
        c.send(raw.method_frame(1, raw.CHANNEL_OPEN, ''))
        c.expect(raw.CHANNEL_OPEN_OK, 1)
    if not broker.external:
        assert 'input budget used' in broker.log_text()   # the split did happen


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
