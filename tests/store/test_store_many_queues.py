"""A persistent message for more than 65,535 durable queues (issue 11, point 2).

The message record once counted its queues in 16 bits: a message published
with confirms to a fanout exchange bound to 66,000 durable queues was
confirmed and sat in all of them, but after a restart 465 of them were
empty (the record named the first 65,535).  Now such a record names every
queue (record type 2, doc/store-format.md).

The 66,000 queues and bindings are written into the definitions file
directly (store_helpers.write_fanout_definitions) and recovered at start:
declaring them through AMQP costs 132,000 synced declarations (17 s here,
minutes where fdatasync is slow).  `make test-slow` (tests/slow/) does it through the client, and
measures recovery at 16k, 33k and 66k bindings.
"""
import time


from store_helpers import (alarm_seconds, check_store, connect, message_counts, need_control,  # noqa: F401
                           read_segment, segment_files, write_fanout_definitions, PERSISTENT)

N = 66000


def test_message_for_66000_queues_comes_back_to_all(broker):
    need_control(broker)
    broker.stop()
    names = write_fanout_definitions(broker.data_dir, N)
    broker.start()

    c = connect(broker)
    ch = c.channel()
    ch.confirm_delivery()
    # pika raises if the publish is nacked: it must be confirmed
    ch.basic_publish('fan', '', b'for every queue', PERSISTENT, mandatory=True)
    c.close()

    # one record, naming every queue
    recs = [r for f in segment_files(broker.data_dir) for r in read_segment(f)[1] if r['kind'] in (1, 2)]
    assert len(recs) == 1
    assert recs[0]['kind'] == 2 and recs[0]['crc_ok']
    assert sorted(recs[0]['qids']) == list(range(1, N + 1))

    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    assert '1 message records, %d live messages' % N in out, out
    t0 = time.monotonic()
    broker.start()
    started = time.monotonic() - t0
    counts = message_counts(broker, names)
    empty = [q for q in names if counts[q] != 1]
    assert not empty, '%d of %d queues lost the message, e.g. %s' % (len(empty), N, empty[:5])

    c = connect(broker)
    ch = c.channel()
    for q in (names[0], names[65535], names[65536], names[-1]):
        m, props, body = ch.basic_get(q, auto_ack=True)
        assert m is not None and body == b'for every queue' and props.delivery_mode == 2, q
    c.close()
    print('restart with %d queues took %.2f s' % (N, started))
