"""Ack files written through a shared mapping (doc/store-format.md).

The broker reserves space in an ack file ahead of its entries and copies
each turn's entries into a shared mapping of it, so after a kill -9 the file
is longer than its entries and ends in blank (all-zero) space.  These tests
crash the broker on purpose and check what recovery and the next run make
of such files: blank space is skipped, entries appended after a restart go
right after the last real one (never past the blanks), a torn last entry
followed by blanks is a torn tail, not corruption, and a clean stop cuts
the file back to its entries.
"""
import os

from store_helpers import (check_store, connect, consume_all, get_all, need_control, publish,
                           queue_depth, read_acks, segment_files)


def bodies(n):
    return [b'task-%03d' % i for i in range(n)]


def fill(broker, qname, n):
    """A durable queue of our own with n persistent messages."""
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    publish(ch, qname, bodies(n))
    c.close()


def ack_first(broker, qname, n):
    """basic.get and ack n messages; a round trip after, so the acks were
    handled (and their entries copied into the ack file) before we go on."""
    c = connect(broker)
    ch = c.channel()
    got = []
    for _ in range(n):
        m, _p, b = ch.basic_get(qname, auto_ack=False)
        got.append(b)
        ch.basic_ack(m.delivery_tag)
    ch.basic_qos(prefetch_count=0)
    c.close()
    return got


def ack_file(broker):
    segs = segment_files(broker.data_dir)
    assert len(segs) == 1, segs
    return segs[0][:-4] + '.ack'


def real_entries(path):
    _h, entries = read_acks(path)
    return [e for e in entries if any(e[1:4])]


def test_crash_leaves_reserved_space_that_recovery_skips(broker, qname):
    fill(broker, qname, 30)
    assert ack_first(broker, qname, 10) == bodies(30)[:10]
    broker.kill()

    path = ack_file(broker)
    size = os.path.getsize(path)
    n = len(real_entries(path))
    assert n >= 10
    assert size > 16 + 16 * n, 'no space reserved past the entries (%d bytes, %d entries)' % (size, n)
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out

    broker.start()
    # the next run appends after the last real entry, not after the blanks
    assert ack_first(broker, qname, 5) == bodies(30)[10:15]
    broker.kill()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    broker.start()
    c = connect(broker)
    ch = c.channel()
    assert queue_depth(ch, qname) == 15
    got = consume_all(ch, qname, expect=15, idle=0.5)
    assert [b for b, _ in got] == bodies(30)[15:]
    c.close()


def test_clean_stop_cuts_the_file_to_its_entries(broker, qname):
    fill(broker, qname, 20)
    ack_first(broker, qname, 7)
    assert broker.stop() == 0
    path = ack_file(broker)
    _h, entries = read_acks(path)
    assert entries and all(e[4] for e in entries), 'a blank or bad entry after a clean stop'
    assert os.path.getsize(path) == 16 + 16 * len(entries)


def test_torn_last_entry_before_blanks_is_a_torn_tail(broker, qname):
    """A kill -9 in the middle of copying an entry leaves a bad entry with
    blank space after it: recovery drops just that entry (its message may
    come back: at least once), start-up goes on, and entries appended next
    land where the torn one was, so the file stays valid."""
    fill(broker, qname, 20)
    ack_first(broker, qname, 6)
    broker.kill()

    path = ack_file(broker)
    last = real_entries(path)[-1]
    with open(path, 'r+b') as f:     # tear it: half of it never made it
        f.seek(last[0] + 8)
        f.write(b'\0' * 8)
    broker.start()
    c = connect(broker)
    ch = c.channel()
    left = queue_depth(ch, qname)
    assert left in (14, 15), left    # the torn ack's message may be back
    c.close()
    ack_first(broker, qname, 3)
    broker.kill()
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    broker.start()
    c = connect(broker)
    ch = c.channel()
    got = [b for b, _ in get_all(ch, qname)]
    assert got == bodies(20)[20 - (left - 3):]
    c.close()
