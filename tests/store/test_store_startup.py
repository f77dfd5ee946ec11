"""Starting on a difficult data directory (issue 11, points 8 and 9).

A full disk: the broker used to rewrite `definitions` at every start and
exit when it could not, so with 0 bytes free the consumers could not drain
the backlog that filled the disk.  Now it starts (the rewrite is skipped
with a warning; the old file says the same), the disk alarm is on, so
publishers are blocked, and consumers drain every message.  The disk is a
real tmpfs, filled to the last byte by a file beside the data.

A msgs/ directory the broker cannot write in used to start "ready" and
nack every persistent publish; now the start is refused, naming the
directory and the errno text.  The tests run as root, for whom permission
bits do not stop anything: the directory is made immutable (chattr +i), or
where the file system does not allow that, a read-only bind mount.
"""
import os
import subprocess
import time

import pytest

from store_helpers import (alarm_seconds, BASIC_PROPS_DELIVERY_MODE, body_id, check_store, connect, consume_all, make_body,  # noqa: F401
                           need_control, publish, start_refused)
import amqp_raw as raw  # noqa: E402  (on the path through store_helpers)
from test_store_disk import fs_free, tmpfs  # noqa: F401


def fill_to_the_last_byte(path):
    """Write a file at path until the file system is full."""
    chunk = b'\0' * (1 << 20)
    with open(path, 'wb', buffering=0) as f:
        for size in (1 << 20, 4096, 1):
            while True:
                try:
                    f.write(chunk[:size])
                except OSError:
                    break


def test_starts_on_a_full_disk_and_consumers_drain(tmpfs, broker_factory, qname):  # noqa: F811
    sub = tmpfs('full', '16m')
    broker = broker_factory('--disk-free-limit', '1000000', subdir=sub)
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, durable=True)
    bodies = [make_body('m', i, 4000) for i in range(2000)]
    publish(ch, qname, bodies)
    c.close()
    assert broker.stop() == 0
    filler = os.path.join(broker.data_dir, 'filler')    # on the same tmpfs
    fill_to_the_last_byte(filler)
    assert fs_free(broker.data_dir) == 0

    broker.start()          # used to exit: "cannot rewrite .../definitions: No space left on device"
    text = broker.log_text()
    assert 'starting with %s/definitions as it was' % broker.data_dir in text, text[-3000:]
    assert 'publishers are blocked' in text, text[-3000:]

    # a publisher is blocked by the alarm: connection.blocked (whether sent
    # at once or at its first publish), and no confirm
    pub = raw.RawConnection(broker.host, broker.port)
    pub.handshake()
    pub.send(raw.method_frame(1, raw.CHANNEL_OPEN, ''))
    pub.send(raw.method_frame(1, (85, 10), raw_args=b'\x00'))  # confirm.select
    pub.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False))
    pub.send(raw.header_frame(1, 4, BASIC_PROPS_DELIVERY_MODE, b'\x02'))
    pub.send(raw.body_frame(1, b'held'))
    seen = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            seen.append(pub.read_method(0.5).method)
        except (TimeoutError, OSError):
            pass
    assert (10, 60) in seen, 'no connection.blocked on a full disk: %s' % seen
    assert raw.BASIC_ACK not in seen and raw.BASIC_NACK not in seen, seen

    # a consumer drains every message
    cc = connect(broker)
    got = consume_all(cc.channel(), qname, expect=len(bodies), idle=2.0)
    assert [body_id(b) for b, _ in got] == [('m', i) for i in range(len(bodies))]
    cc.close()
    pub.close()
    assert broker.stop() == 0
    os.unlink(filler)
    # a later start, with room, compacts the definitions again
    broker.start()
    with open(broker.logs[-1]) as f:
        assert 'starting with' not in f.read()


def make_unwritable(path):
    """Make the directory path unwritable even for root; returns how to undo
    it, or skips the test when this machine allows neither way."""
    r = subprocess.run(['chattr', '+i', path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode == 0:
        return ['chattr', '-i', path]
    why = r.stdout.decode(errors='replace').strip()
    r = subprocess.run(['mount', '--bind', '-o', 'ro', path, path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if r.returncode == 0:
        return ['umount', path]
    pytest.skip('cannot make a directory unwritable for root here (chattr: %s; read-only bind mount: %s)'
                % (why, r.stdout.decode(errors='replace').strip()))


def test_unwritable_msgs_directory_refused(broker, qname):
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    publish(ch, qname, [b'kept'])
    c.close()
    assert broker.stop() == 0
    msgs = os.path.join(broker.data_dir, 'msgs')
    undo = make_unwritable(msgs)
    try:
        rc, log = start_refused(broker)
    finally:
        subprocess.run(undo, check=True)
    assert rc != 0, log[-3000:]
    errors = [ln for ln in log.splitlines() if ' error ' in ln]
    assert any('cannot create files in %s: ' % msgs in ln and
               ('Operation not permitted' in ln or 'Read-only file system' in ln) for ln in errors), log[-3000:]
    assert 'ready' not in log
    # writable again: it starts, with the message
    broker.start()
    c = connect(broker)
    assert [b for b, _ in consume_all(c.channel(), qname, expect=1)] == [b'kept']
    c.close()
    assert check_store(broker.data_dir)[0] == 0
