"""What tests/fuzz/fuzz_store.c found in the store's recovery, each
checked the way an operator meets it: a data directory, a start, another
start.

  - A definitions record of a queue or an exchange whose durable flag is
    off (a damaged or hand-edited file: warren writes durable ones only)
    was recovered as a transient queue or exchange; the rewrite of the
    definitions that ends recovery keeps durable ones only, so at the
    next start the exchange, the queue and the queue's persistent
    messages were gone.  The log holds durable things only: they are
    recovered durable now, and a second start finds what the first did.
  - A queue record with id 0 (ids start at 1; 0 is "no number" to the
    store) was recovered, then left out of the same rewrite: the queue
    was gone at the next start.  It is a bad definition now: the start
    is refused, naming its offset, and warren-check-store reports it.
"""
import os
import struct

from store_helpers import (alarm_seconds, check_store, connect, crc32c, get_all, need_control,  # noqa: F401
                           queue_depth, read_segment, segment_files, start_or_fail, start_refused, PERSISTENT)


def clear_durable_flags(data_dir, names):
    """Turn the durable bit off in the records of queues and exchanges
    named in names (CRCs made right again, as a hand edit would)."""
    path = os.path.join(data_dir, 'definitions')
    data = bytearray(open(path, 'rb').read())
    off, changed = 16, []
    while off + 8 <= len(data):
        n = struct.unpack('>I', data[off:off + 4])[0]
        p = data[off + 8:off + 8 + n]
        if len(p) < n:
            break
        at = None
        if p[0] == 1:                              # queue: id, name, flags
            nl = p[5]
            name, at = bytes(p[6:6 + nl]), 6 + nl
        elif p[0] == 3:                            # exchange: name, type, flags
            nl = p[1]
            name = bytes(p[2:2 + nl])
            at = 2 + nl + 1 + p[2 + nl]
        if at is not None and name.decode() in names and p[at] & 1:
            p[at] &= ~1
            data[off + 8:off + 8 + n] = p
            data[off + 4:off + 8] = struct.pack('>I', crc32c(bytes(p)))
            changed.append(name.decode())
        off += 8 + n
    open(path, 'wb').write(bytes(data))
    return changed


def test_record_without_durable_flag_survives_two_restarts(broker, qname):
    need_control(broker)
    ex = qname + '-x'
    c = connect(broker)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, durable=True)
    ch.exchange_declare(ex, 'fanout', durable=True)
    ch.queue_bind(qname, ex)
    for i in range(3):
        ch.basic_publish(ex, '', b'm%d' % i, PERSISTENT)
    c.close()
    broker.stop()
    assert sorted(clear_durable_flags(broker.data_dir, {qname, ex})) == sorted([qname, ex])

    for start in ('first', 'second'):
        start_or_fail(broker)
        c = connect(broker)
        ch = c.channel()
        assert queue_depth(ch, qname) == 3, 'after the %s start' % start
        ch.exchange_declare(ex, 'fanout', passive=True)
        q = ch.queue_declare(qname, durable=True)      # durable: an equivalent redeclare
        assert q.method.message_count == 3
        c.close()
        broker.stop()


def test_queue_record_with_id_0_is_refused_not_lost(broker, qname):
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    c.close()
    broker.stop()
    path = os.path.join(broker.data_dir, 'definitions')
    data = bytearray(open(path, 'rb').read())
    off, at = 16, None
    while off + 8 <= len(data):
        n = struct.unpack('>I', data[off:off + 4])[0]
        p = data[off + 8:off + 8 + n]
        if p[0] == 1 and bytes(p[6:6 + p[5]]) == qname.encode():
            p[1:5] = b'\0\0\0\0'
            data[off + 8:off + 8 + n] = p
            data[off + 4:off + 8] = struct.pack('>I', crc32c(bytes(p)))
            at = off
        off += 8 + n
    assert at is not None
    open(path, 'wb').write(bytes(data))
    rc, out = check_store(broker.data_dir)
    assert rc == 1 and 'a queue record with id 0' in out, out
    rc, log = start_refused(broker)
    assert rc != 0
    assert 'bad definition at offset %d' % at in log, log[-2000:]


def append_def_record(data_dir, payload):
    """Append one definitions record (length, CRC-32C, payload), as a
    damaged or hand-edited file could hold it."""
    with open(os.path.join(data_dir, 'definitions'), 'ab') as f:
        f.write(struct.pack('>II', len(payload), crc32c(payload)) + payload)


def test_records_deleting_or_redeclaring_predeclared_exchanges_are_ignored(broker, qname):
    """fuzz_store: an "exchange gone" record for the default exchange (name
    '') deleted it at the first start only: publishing to a queue by its
    name found no exchange (404), and the rewrite, which never writes the
    predeclared exchanges, brought it back at the next start.  Such
    records (and one redeclaring amq.direct as a topic exchange) are
    ignored now, with a warning: no client can declare or delete them
    (RabbitMQ refuses it with 403), so only a damaged file has them."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    c.close()
    broker.stop()
    append_def_record(broker.data_dir, bytes([4, 0]))                          # exchange gone: ''
    append_def_record(broker.data_dir, bytes([3, 10]) + b'amq.direct' + bytes([5]) + b'topic'
                      + bytes([1]) + struct.pack('>I', 0))                       # amq.direct, a topic one

    for start in ('first', 'second'):
        start_or_fail(broker)
        c = connect(broker)
        ch = c.channel()
        ch.confirm_delivery()
        ch.basic_publish('', qname, b'by name', PERSISTENT)                    # the default exchange
        ch.queue_bind(qname, 'amq.direct', routing_key='k')
        ch.basic_publish('amq.direct', 'k', b'direct', PERSISTENT)
        ch.basic_publish('amq.direct', 'k.#', b'not a topic', PERSISTENT)      # direct: no match
        assert queue_depth(ch, qname) == 2, 'after the %s start' % start
        ch.queue_purge(qname)
        c.close()
        if start == 'first':
            assert 'ignored a record deleting the predeclared exchange' in broker.log_text()
            assert 'ignored a record redeclaring the predeclared exchange' in broker.log_text()
        broker.stop()


def set_timestamps(data_dir, ts):
    """Write ts into the timestamp of every message record of every
    segment (CRCs made right again, as a hand edit would)."""
    n = 0
    for path in segment_files(data_dir):
        _header, recs = read_segment(path)
        data = bytearray(open(path, 'rb').read())
        for r in recs:
            if r['kind'] not in (1, 2):
                continue
            p0 = r['off'] + 8                                  # the payload
            at = p0 + (14 if r['kind'] == 2 else 12)           # type, flags, nq, seq: then the timestamp
            data[at:at + 8] = struct.pack('>Q', ts)
            payload = bytes(data[p0:r['off'] + r['size']])
            data[r['off'] + 4:r['off'] + 8] = struct.pack('>I', crc32c(payload))
            n += 1
        open(path, 'wb').write(bytes(data))
    return n


def test_message_timestamp_past_int64_is_recovered(broker, qname):
    """fuzz_store: a message record whose timestamp does not fit in a
    signed 64-bit number (a damaged or hand-made record with a good
    checksum) made the recovery of a queue with a message TTL overflow
    (UBSan stopped the broker: it could not start on that data
    directory).  Such a timestamp is read as 2^62 ms now: the message is
    recovered, and its TTL, counted from then, does not fire."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, durable=True, arguments={'x-message-ttl': 3600000})
    for i in range(3):
        ch.basic_publish('', qname, b'm%d' % i, PERSISTENT)
    c.close()
    broker.stop()
    assert set_timestamps(broker.data_dir, 0xFFFF8000000000FF) == 3
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    for start in ('first', 'second'):
        start_or_fail(broker)
        c = connect(broker)
        ch = c.channel()
        assert queue_depth(ch, qname) == 3, 'after the %s start' % start
        c.close()
        broker.stop()
    start_or_fail(broker)
    c = connect(broker)
    assert get_all(c.channel(), qname) == [(b'm0', False), (b'm1', False), (b'm2', False)]
    c.close()


def test_checkpoint_naming_billions_of_queues_is_not_used(broker, qname):
    """fuzz_store: a checkpoint file (DATA/checkpoint, with a good
    checksum) whose header named 4 billion queues had the recovery
    allocate for all of them before it looked at the file's length: an
    allocation of about 200 GB (AddressSanitizer stopped the start; a
    release build depended on the allocator refusing).  Such a file is
    now cut short by its own length: not used, every segment is read."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, durable=True)
    for i in range(3):
        ch.basic_publish('', qname, b'm%d' % i, PERSISTENT)
    c.close()
    broker.stop()
    body = struct.pack('>QII', 0, 0, 0xFFFFFFFF) + bytes(16)     # max seq, no segments, 2^32-1 queues
    with open(os.path.join(broker.data_dir, 'checkpoint'), 'wb') as f:
        f.write(b'WCKP' + struct.pack('>III', 1, crc32c(body), len(body)) + body)
    start_or_fail(broker)
    assert 'not used: it is cut short' in broker.log_text()
    c = connect(broker)
    assert get_all(c.channel(), qname) == [(b'm0', False), (b'm1', False), (b'm2', False)]
    c.close()
