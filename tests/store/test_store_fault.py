"""Failing disk I/O: the broker nacks, logs, and recovers.

tests/fault/failio.c (built as build/failio.so) is preloaded into the
release broker (AddressSanitizer refuses to be preceded by another
LD_PRELOAD library).  While the trigger file exists, the chosen calls on
message segments (*.seg) fail.  A raw publisher in confirm mode then sees
basic.nack - never basic.ack - for every persistent message published
meanwhile, the broker log says why, and once the trigger is gone the next
messages are acked again.  After a restart every acked message is there,
once, in order, and warren-check-store finds nothing wrong.
"""
import os
import subprocess
import time

import pytest

from store_helpers import (alarm_seconds, release_bin, ROOT, FAILIO, ConfirmPublisher, check_store,  # noqa: F401
                           connect, consume_all, need_control, start_or_fail, PERSISTENT)


@pytest.fixture(scope='module')
def failio_built():
    subprocess.run(['make', '-s', 'build/failio.so'], cwd=ROOT, check=True)
    assert os.path.exists(FAILIO)
    return FAILIO


CASES = {
    # ops failed, errno, what the broker log must say, body size while failing
    'fdatasync': ('fdatasync', 'EIO', 'failed: Input/output error', 0),
    'pwrite': ('pwrite', 'EIO', 'write to segment', 0),
    # space is reserved 4 MiB ahead: only a message that does not fit in
    # the reservation needs a new fallocate, and must be refused when it fails
    'fallocate-enospc': ('fallocate', 'ENOSPC', 'No space left on device', 5 << 20),
    'all': ('fdatasync,fsync,pwrite,write,fallocate', 'EIO', 'Input/output error', 0),
}


def batch(pub, queue, tag, n, window=16, size=0):
    bodies = [('%s-%03d-' % (tag, i)).encode() + b'z' * size for i in range(n)]
    tags = pub.publish_all(queue, bodies, window=window, timeout=15)
    return dict(zip(tags, bodies))


@pytest.mark.parametrize('case', sorted(CASES))
def test_io_failure_nacks_then_recovers(failio_built, release_bin, monkeypatch, tmp_path, broker_factory,
                                        qname, case):
    ops, err, logged, size = CASES[case]
    trigger = tmp_path / 'fail-now'
    flog = tmp_path / 'failio.log'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', ops)
    monkeypatch.setenv('FAILIO_ERRNO', err)
    monkeypatch.setenv('FAILIO_LOG', str(flog))
    broker = broker_factory()
    need_control(broker)

    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    before = batch(pub, qname, 'before', 30)
    assert set(pub.acked) == set(before) and not pub.nacked

    trigger.touch()
    during = {}
    for rnd in range(3):   # several turns, so retries of a new segment fail too
        during.update(batch(pub, qname, 'during%d' % rnd, 3 if size else 10, window=5, size=size))
    os.unlink(trigger)
    assert flog.exists(), 'the shim failed nothing: is it preloaded?'
    acked_during = sorted(set(pub.acked) & set(during))
    assert not acked_during, 'messages acked while their writes/syncs failed: %s' % (
        [during[t] for t in acked_during])
    assert set(pub.nacked) == set(during)
    text = broker.log_text()
    assert any(' error ' in ln and logged in ln for ln in text.splitlines()), \
        'the failure is not logged (%r):\n%s' % (logged, text[-3000:])

    after = batch(pub, qname, 'after', 30)
    assert set(after) <= set(pub.acked), 'not acked again after the trigger was removed'
    pub.close()

    # what the publisher was told was stored is stored, once, in order
    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    monkeypatch.delenv('LD_PRELOAD')
    start_or_fail(broker)
    c = connect(broker)
    got = [b for b, _ in consume_all(c.channel(), qname, idle=0.5)]
    c.close()
    assert len(got) == len(set(got)), 'duplicates after the restart'
    acked = [before[t] for t in sorted(before)] + [after[t] for t in sorted(after)]
    assert [b for b in got if b in set(acked)] == acked
    assert set(got) - set(acked) <= set(during.values())


def test_fault_shim_passes_through_without_trigger(failio_built, release_bin, monkeypatch, tmp_path,
                                                   broker_factory, qname):
    """Preloaded but not triggered, the shim changes nothing: a whole
    publish/restart/consume cycle works and the shim logs no failure."""
    flog = tmp_path / 'failio.log'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(tmp_path / 'never-created'))
    monkeypatch.setenv('FAILIO_OPS', 'all')
    monkeypatch.setenv('FAILIO_LOG', str(flog))
    broker = broker_factory()
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    sent = batch(pub, qname, 'm', 200, window=50)
    assert set(pub.acked) == set(sent) and not pub.nacked
    pub.close()
    broker.stop()
    broker.start()
    c = connect(broker)
    ch = c.channel()
    ch.basic_publish('', qname, b'one more', PERSISTENT)
    got = [b for b, _ in consume_all(ch, qname, idle=0.5)]
    c.close()
    assert got == [sent[t] for t in sorted(sent)] + [b'one more']
    assert not flog.exists()


@pytest.mark.parametrize('when', ['later-entries', 'first-entries'])
def test_ack_file_write_failure_redelivers_never_loses(failio_built, release_bin, monkeypatch, tmp_path,
                                                      broker_factory, qname, when):
    """Writes to an ack file fail for a while: the broker logs it, and
    after a restart the messages whose acks were lost may be delivered
    again, but nothing unacked is lost and the broker starts.  With
    'first-entries' the failure hits the ack file's very first write (its
    header), so the file must still be readable when the entries that
    follow get through.  With 'later-entries' the file exists and its
    entries go into its shared mapping, which no system call can fail: what
    fails then is its sync (and a reservation of more space, had one been
    needed), and that must be logged too."""
    trigger = tmp_path / 'fail-now'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'write,pwrite,fdatasync,fsync,fallocate')
    monkeypatch.setenv('FAILIO_SUFFIX', '.ack')
    monkeypatch.setenv('FAILIO_LOG', str(tmp_path / 'failio.log'))
    broker = broker_factory()
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    sent = batch(pub, qname, 'm', 30)
    bodies = [sent[t] for t in sorted(sent)]
    pub.close()

    c = connect(broker)
    ch = c.channel()

    def ack(lo, hi):
        for i in range(lo, hi):
            m, _p, b = ch.basic_get(qname, auto_ack=False)
            assert b == bodies[i]
            ch.basic_ack(m.delivery_tag)
        ch.basic_qos(prefetch_count=0)   # round trip: the acks were handled

    failed = range(0, 5) if when == 'first-entries' else range(10, 20)
    if when == 'later-entries':
        ack(0, 10)
    trigger.touch()
    ack(failed.start, failed.stop)
    c.process_data_events(time_limit=1.2)   # the once-a-second ack sync fails too
    os.unlink(trigger)
    assert (tmp_path / 'failio.log').exists(), 'the shim failed nothing'
    log = broker.log_text()
    if when == 'first-entries':
        assert 'cannot write' in log, 'the failed ack write is not logged'
    else:
        assert 'cannot write' in log or 'of the ack file of segment' in log, 'the failed ack sync is not logged'
    ack(failed.stop, failed.stop + 5)
    c.close()

    assert broker.stop() == 0
    start_or_fail(broker)
    c = connect(broker)
    got = [b for b, _ in consume_all(c.channel(), qname, idle=0.5)]
    c.close()
    unacked = bodies[failed.stop + 5:]
    maybe = {bodies[i] for i in failed}
    assert [b for b in got if b not in maybe] == unacked, 'unacked messages lost, or acked ones back'
    assert got == sorted(got) and len(got) == len(set(got))


def test_second_sync_failure_does_not_hide_the_first(failio_built, release_bin, monkeypatch, tmp_path,
                                                     broker_factory, qname):
    """A slow failing fdatasync (FAILIO_DELAY_MS) while more publishes
    arrive: the sync thread can fail a second time before the event loop
    has heard of the first failure.  Every message of both failed syncs
    must be nacked; a basic.ack for one of them confirms a message whose
    sync failed.  Five tries, since the second failure wins the race with
    the loop most of the time, not always."""
    trigger = tmp_path / 'fail-now'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'fdatasync')
    monkeypatch.setenv('FAILIO_DELAY_MS', '100')
    broker = broker_factory()
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    batch(pub, qname, 'before', 5)
    during = []
    for attempt in range(5):
        trigger.touch()
        for i in range(4):      # one publish per loop turn, while the first sync hangs
            during.append(pub.send(qname, b'during-%d-%d' % (attempt, i)))
            time.sleep(0.03)
        while pub.pending:
            pub.read_confirms(10)
        os.unlink(trigger)
        after = batch(pub, qname, 'after%d' % attempt, 1)
        assert set(after) <= set(pub.acked), 'no recovery after the trigger was removed'
    pub.close()
    wrongly = sorted(set(during) & set(pub.acked))
    assert not wrongly, ('basic.ack for %d of %d messages whose fdatasync failed (delivery tags %s)'
                         % (len(wrongly), len(during), wrongly))
    assert sorted(set(pub.nacked) & set(during)) == during


def test_definitions_write_cut_short_is_undone(failio_built, release_bin, monkeypatch, tmp_path, broker_factory,
                                               qname):
    """A declaration whose write the disk cuts short (ENOSPC after part of
    the record went out): the declare fails, and the part written is cut
    off again, so the next declaration is not written behind half a record
    (where a restart would take it for a torn tail and drop it)."""
    import pika
    trigger = tmp_path / 'fail-now'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'write,pwrite')
    monkeypatch.setenv('FAILIO_SUFFIX', '/definitions')
    monkeypatch.setenv('FAILIO_ERRNO', 'ENOSPC')
    monkeypatch.setenv('FAILIO_SHORT', '1')
    monkeypatch.setenv('FAILIO_LOG', str(tmp_path / 'failio.log'))
    broker = broker_factory()
    need_control(broker)
    defs = os.path.join(broker.data_dir, 'definitions')
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname + '-before', durable=True)
    ch.basic_publish('', qname + '-before', b'kept', PERSISTENT)
    size = os.path.getsize(defs)

    trigger.touch()
    with pytest.raises(pika.exceptions.AMQPError):
        ch.queue_declare(qname + '-failing', durable=True)
    os.unlink(trigger)
    assert (tmp_path / 'failio.log').exists(), 'the shim failed nothing'
    assert 'cannot write %s' % defs in broker.log_text()
    assert os.path.getsize(defs) == size, 'the part of the failed record was not cut off'

    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname + '-after', durable=True)
    ch.basic_publish('', qname + '-after', b'also kept', PERSISTENT)
    ch.basic_qos(prefetch_count=0)
    c.close()
    assert broker.stop() == 0
    assert check_store(broker.data_dir)[0] == 0
    monkeypatch.delenv('LD_PRELOAD')
    start_or_fail(broker)
    c = connect(broker)
    ch = c.channel()
    assert [b for b, _ in consume_all(ch, qname + '-before', idle=0.3)] == [b'kept']
    assert [b for b, _ in consume_all(ch, qname + '-after', idle=0.3)] == [b'also kept']
    with pytest.raises(pika.exceptions.AMQPError):
        c.channel().queue_declare(qname + '-failing', passive=True)
    c.close()


def test_failed_sync_condemns_later_writes_to_the_segment(failio_built, release_bin, monkeypatch, tmp_path,
                                                           broker_factory, qname):
    """An fdatasync that fails slowly while more records are written to the
    same segment, and the disk "recovers" before the next sync: that next
    fdatasync returns 0 (the kernel reports a writeback error once), yet
    those records may never reach the disk.  Every record written to the
    segment up to the failure must be nacked, and the segment retired:
    publishes after it are acked (in a new segment) and survive a restart."""
    trigger = tmp_path / 'fail-now'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'fdatasync')
    monkeypatch.setenv('FAILIO_DELAY_MS', '400')
    monkeypatch.setenv('FAILIO_LOG', str(tmp_path / 'failio.log'))
    broker = broker_factory()
    need_control(broker)
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    before = batch(pub, qname, 'before', 3, window=1)
    segs_before = sorted(os.listdir(os.path.join(broker.data_dir, 'msgs')))
    trigger.touch()
    during = [pub.send(qname, b'first')]       # its sync hangs, then fails
    time.sleep(0.1)
    for i in range(5):                          # written while that sync hangs
        during.append(pub.send(qname, b'during-%d' % i))
        time.sleep(0.03)
    os.unlink(trigger)                          # the next fdatasync succeeds
    while pub.pending:
        pub.read_confirms(10)
    assert (tmp_path / 'failio.log').exists(), 'the shim failed nothing'
    wrongly = sorted(set(during) & set(pub.acked))
    assert not wrongly, 'acked although written to a segment whose sync failed: %s' % wrongly
    assert sorted(set(during) & set(pub.nacked)) == during
    after = batch(pub, qname, 'after', 5)
    assert set(after) <= set(pub.acked)
    pub.close()
    assert sorted(os.listdir(os.path.join(broker.data_dir, 'msgs'))) != segs_before, \
        'the failed segment was not retired'
    assert broker.stop() == 0
    monkeypatch.delenv('LD_PRELOAD')
    start_or_fail(broker)
    c = connect(broker)
    got = [b for b, _ in consume_all(c.channel(), qname, idle=0.5)]
    c.close()
    acked = [before[t] for t in sorted(before)] + [after[t] for t in sorted(after)]
    assert [b for b in got if b in set(acked)] == acked
    assert len(got) == len(set(got))


@pytest.mark.parametrize('when', ['first-entries', 'later-entries'])
def test_ack_file_enospc_is_logged_once_a_second(failio_built, release_bin, monkeypatch, tmp_path, broker_factory,
                                                 qname, when):
    """Ack-file writes fail with ENOSPC while a consumer acks one message
    per loop turn: the failure is logged at most about once a second, with
    a count of the lines left out (issue 11, point 17: 462 identical lines
    in one burst).  With 'first-entries' the ack file's header write
    fails; with 'later-entries' the file exists and its mapping is full, so
    reserving more space (fallocate) and the pwrite after it fail."""
    trigger = tmp_path / 'fail-now'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'write,pwrite,fallocate')
    monkeypatch.setenv('FAILIO_SUFFIX', '.ack')
    monkeypatch.setenv('FAILIO_ERRNO', 'ENOSPC')
    monkeypatch.setenv('FAILIO_LOG', str(tmp_path / 'failio.log'))
    broker = broker_factory()
    need_control(broker)
    n = 4000 if when == 'later-entries' else 600
    pub = ConfirmPublisher(broker.host, broker.port)
    pub.declare(qname)
    batch(pub, qname, 'm', n, window=500)
    pub.close()

    c = connect(broker)
    ch = c.channel()
    ch.basic_qos(prefetch_count=1)
    acked = 0
    t0 = None
    if when == 'later-entries':
        # 64 KiB of mapping holds 4095 entries, two per message here (its
        # "delivered" mark, then its ack): the failures start past ~2048
        for m, _p, _b in ch.consume(qname, inactivity_timeout=5):
            ch.basic_ack(m.delivery_tag)
            acked += 1
            if acked == 1500:
                break
        ch.cancel()
    trigger.touch()
    t0 = time.monotonic()
    for m, _p, _b in ch.consume(qname, inactivity_timeout=5):
        assert m is not None
        ch.basic_ack(m.delivery_tag)   # one ack per round trip: one loop turn each
        acked += 1
        if acked == n:
            break
    ch.basic_qos(prefetch_count=1)     # a round trip: every ack was handled
    elapsed = time.monotonic() - t0
    os.unlink(trigger)
    c.close()
    time.sleep(2.2)                    # the once-a-second tick reports what was left out
    assert (tmp_path / 'failio.log').exists(), 'the shim failed nothing'
    lines = [ln for ln in broker.log_text().splitlines() if 'redelivered after a restart' in ln]
    assert lines, 'the failed ack writes are not logged'
    assert len(lines) <= elapsed + 4, '%d lines in %.1f s:\n%s' % (len(lines), elapsed, '\n'.join(lines[:5]))
    # and none is forgotten: the count of those left out follows
    assert 'more failures' in lines[-1], lines


def test_failed_definitions_sync_sends_no_declare_ok(failio_built, release_bin, monkeypatch, tmp_path,
                                                     broker_factory, qname):
    """Durable declarations are synced once a loop turn, before the turn's
    replies (group commit, issue 16).  When that fdatasync fails, the
    declare-ok must not go out: the connection waiting for it is dropped
    instead (as if the broker had crashed there), others are not, and
    the declarations after the disk is back work and survive."""
    import pika
    trigger = tmp_path / 'fail-now'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'fdatasync')
    monkeypatch.setenv('FAILIO_SUFFIX', '/definitions')
    monkeypatch.setenv('FAILIO_ERRNO', 'EIO')
    monkeypatch.setenv('FAILIO_LOG', str(tmp_path / 'failio.log'))
    broker = broker_factory()
    need_control(broker)
    idle = connect(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname + '-before', durable=True)

    trigger.touch()
    with pytest.raises(pika.exceptions.AMQPError):
        ch.queue_declare(qname + '-unsynced', durable=True)
    os.unlink(trigger)
    assert (tmp_path / 'failio.log').exists(), 'the shim failed nothing'
    log = broker.log_text()
    assert 'cannot sync' in log and 'the definitions could not be synced' in log, log[-2000:]
    idle.process_data_events(0.1)
    assert idle.is_open

    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname + '-after', durable=True)
    c.close()
    idle.close()
    broker.kill()
    monkeypatch.delenv('LD_PRELOAD')
    start_or_fail(broker)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname + '-before', passive=True)
    ch.queue_declare(qname + '-after', passive=True)
    c.close()
