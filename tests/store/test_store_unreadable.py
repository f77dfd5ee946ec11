"""A stored message the broker cannot read back (issue 11, point 3).

A persistent message deep in a queue (or recovered after a restart) lives
only on disk; its body is read back when its turn comes.  The broker once
dropped a message whose read failed, whatever the reason.  Now:

* a read that fails (EIO, EMFILE: tests/fault/failio.c fails pread on the
  segments while its trigger file exists) loses nothing: the message stays
  queued, the consumer's channel is closed with 541 INTERNAL_ERROR, the
  failure is logged and counted, and once reads work the consumer gets
  every message, in order;
* a record that fails its checksum (a byte flipped on disk while the
  broker runs) is moved aside: its bytes go to DATA/corrupt/, the segment
  gets a padding record in its place, the log names it, the other
  messages are delivered, the broker restarts, and warren-check-store
  reports the lost message.
"""
import os
import subprocess

import pika
import pytest

from store_helpers import (alarm_seconds, release_bin, ROOT, FAILIO, check_store, connect,  # noqa: F401
                           consume_all, flip_byte, get_all, need_control, publish, read_segment, segment_files,
                           wait_for)


@pytest.fixture(scope='module')
def failio_built():
    subprocess.run(['make', '-s', 'build/failio.so'], cwd=ROOT, check=True)
    assert os.path.exists(FAILIO)
    return FAILIO


def bodies(n):
    return [('msg-%03d-' % i).encode() + b'y' * 100 for i in range(n)]


@pytest.mark.parametrize('err', ['EIO', 'EMFILE'])
def test_failed_read_keeps_the_message_and_closes_the_channel(failio_built, release_bin, monkeypatch, tmp_path,
                                                             broker_factory, qname, err):
    trigger = tmp_path / 'fail-now'
    flog = tmp_path / 'failio.log'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'pread')
    monkeypatch.setenv('FAILIO_ERRNO', err)
    monkeypatch.setenv('FAILIO_LOG', str(flog))
    broker = broker_factory()
    need_control(broker)
    sent = bodies(20)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    publish(ch, qname, sent)
    c.close()
    # after a restart the messages are on disk only: delivering reads them
    broker.restart()

    trigger.touch()
    c = connect(broker)
    ch = c.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        for m, _p, _b in ch.consume(qname, inactivity_timeout=5):
            assert m is not None, 'neither a delivery nor a channel.close'
            raise AssertionError('a message was delivered although every read fails')
    assert ei.value.reply_code == 541, ei.value
    assert 'INTERNAL_ERROR' in ei.value.reply_text
    assert c.is_open, 'the connection should survive: only the channel is closed'
    assert flog.exists(), 'the shim failed nothing'
    log = broker.log_text()
    assert 'cannot read message' in log and 'it stays queued' in log, log[-3000:]
    assert 'read failures so far' in log
    # nothing is lost while reads fail
    ch = c.channel()
    assert ch.queue_declare(qname, passive=True).method.message_count == len(sent)
    c.close()

    os.unlink(trigger)
    c = connect(broker)
    got = consume_all(c.channel(), qname, expect=len(sent), idle=2)
    c.close()
    assert [b for b, _ in got] == sent
    assert broker.stop() == 0
    assert check_store(broker.data_dir)[0] == 0


def test_damaged_record_is_moved_aside(broker, qname):
    need_control(broker)
    sent = bodies(5)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    publish(ch, qname, sent)
    c.close()
    broker.restart()

    # damage the third record's body on disk, under the running broker
    seg = segment_files(broker.data_dir)[-1]
    _h, recs = read_segment(seg)
    bad = [r for r in recs if r.get('body') == sent[2]][0]
    flip_byte(seg, bad['off'] + bad['size'] - 10)

    c = connect(broker)
    # not acked: they go back to the queue, and keep the segment alive
    got = consume_all(c.channel(), qname, idle=1.5, ack=False)
    c.close()
    assert [b for b, _ in got] == sent[:2] + sent[3:], 'only the damaged message may be missing'
    log = broker.log_text()
    assert 'checksum mismatch' in log, log[-3000:]
    moved = [ln for ln in log.splitlines() if 'moved aside' in ln and 'offset %d' % bad['off'] in ln]
    assert moved, log[-3000:]
    aside = os.path.join(broker.data_dir, 'corrupt', '%010d-%010d.rec' % (1, bad['off']))
    assert os.path.exists(aside), os.listdir(broker.data_dir)
    with open(aside, 'rb') as f:
        assert len(f.read()) == bad['size']
    # in the segment, a padding record of the same size took its place
    _h, recs = read_segment(seg)
    pad = [r for r in recs if r['off'] == bad['off']][0]
    assert pad['kind'] == 0 and pad['crc_ok'] and pad['size'] == bad['size']

    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 1, out
    assert 'moved aside from segment 1 offset %d' % bad['off'] in out, out
    assert "LOST %s: message seq 3 of queue '%s'" % (aside, qname) in out, out
    assert '4 live messages' in out, out
    # the broker starts again (the padding reads as any record), with the
    # other messages
    broker.start()
    c = connect(broker)
    got = consume_all(c.channel(), qname, idle=1.5)
    c.close()
    assert [b for b, _ in got] == sent[:2] + sent[3:]


# --------------------------------------------------------------- basic.get
#
# basic.get reads a message only on disk just as a delivery does, and treats
# a failed read the same way: the channel (not the connection) is closed
# with 541 and the message stays; a damaged record is moved aside and the
# get goes on to the next message.

@pytest.fixture
def failing_reads(failio_built, release_bin, monkeypatch, tmp_path):
    """Brokers made after this fail pread on segments (EIO) while the
    returned trigger file exists; failio logs each failure to flog."""
    trigger = tmp_path / 'fail-now'
    flog = tmp_path / 'failio.log'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'pread')
    monkeypatch.setenv('FAILIO_ERRNO', 'EIO')
    monkeypatch.setenv('FAILIO_LOG', str(flog))
    return trigger, flog


def record_of(data_dir, body):
    """(segment path, record) of the message record holding body."""
    for seg in segment_files(data_dir):
        _h, recs = read_segment(seg)
        for r in recs:
            if r.get('body') == body:
                return seg, r
    raise AssertionError('no record holds %r' % body[:20])


def aside_path(data_dir, seg, rec):
    segid = int(os.path.basename(seg).split('.')[0])
    return os.path.join(data_dir, 'corrupt', '%010d-%010d.rec' % (segid, rec['off']))


def test_basic_get_failed_read_closes_the_channel_and_keeps_the_message(failing_reads, broker_factory, qname):
    trigger, flog = failing_reads
    broker = broker_factory()
    need_control(broker)
    sent = bodies(3)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    publish(ch, qname, sent)
    c.close()
    broker.restart()

    trigger.touch()
    c = connect(broker)
    for _ in range(2):  # every get fails the same way, and loses nothing
        ch = c.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            ch.basic_get(qname, auto_ack=False)
        assert ei.value.reply_code == 541, ei.value
        assert 'INTERNAL_ERROR' in ei.value.reply_text
        assert c.is_open, 'basic.get closed the connection: only its channel may be'
        assert c.channel().queue_declare(qname, passive=True).method.message_count == len(sent)
    assert flog.exists(), 'the shim failed nothing'
    log = broker.log_text()
    assert "queue '%s': cannot read message 1 from the store; it stays queued" % qname in log, log[-3000:]
    assert '2 read failures so far' in log, log[-3000:]

    os.unlink(trigger)
    ch = c.channel()
    m, _p, body = ch.basic_get(qname, auto_ack=False)
    assert body == sent[0]
    assert m.redelivered, 'a message put back after a failed read is marked redelivered, as for a consumer'
    ch.basic_ack(m.delivery_tag)
    assert [b for b, _ in get_all(ch, qname)] == sent[1:]
    c.close()
    assert broker.stop() == 0
    assert check_store(broker.data_dir)[0] == 0


def test_basic_get_moves_a_damaged_record_aside_and_goes_on(broker, qname):
    need_control(broker)
    sent = bodies(4)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    publish(ch, qname, sent)
    c.close()
    broker.restart()

    # the first and the last message damaged on disk, under the broker
    damaged = [record_of(broker.data_dir, sent[i]) for i in (0, 3)]
    for seg, r in damaged:
        flip_byte(seg, r['off'] + r['size'] - 10)

    c = connect(broker)
    ch = c.channel()
    m, _p, body = ch.basic_get(qname, auto_ack=False)
    assert body == sent[1], 'the get skips the damaged first message'
    assert m.message_count == 2
    ch.basic_ack(m.delivery_tag)
    m, _p, body = ch.basic_get(qname, auto_ack=False)
    assert body == sent[2]
    ch.basic_ack(m.delivery_tag)
    m, _p, body = ch.basic_get(qname, auto_ack=False)
    assert m is None, 'the damaged last message gives get-empty'
    assert ch.queue_declare(qname, passive=True).method.message_count == 0
    c.close()

    log = broker.log_text()
    for seg, r in damaged:
        assert os.path.exists(aside_path(broker.data_dir, seg, r)), os.listdir(broker.data_dir)
        assert [ln for ln in log.splitlines() if 'moved aside' in ln and 'offset %d' % r['off'] in ln], log[-3000:]
    assert "queue '%s': message 1 (segment" % qname in log and 'cannot be delivered' in log, log[-3000:]
    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 1, out
    assert "message seq 1 of queue '%s'" % qname in out and "message seq 4 of queue '%s'" % qname in out, out


# ---------------------------------------------------------- dead-lettering
#
# A message dead-lettered (expired, rejected without requeue, pushed out by
# x-max-length) is read back to be republished.  A failed read loses
# nothing: the dead-lettering waits and is tried again every second, and a
# broker stopped meanwhile finds the message back in its queue; a damaged
# record is moved aside as for a delivery.

def dlx_args(dst, **more):
    args = {'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dst}
    args.update(more)
    return args


def depth(ch, q):
    return ch.queue_declare(q, passive=True).method.message_count


def test_expired_messages_are_dead_lettered_once_reads_work(failing_reads, broker_factory, qname):
    trigger, flog = failing_reads
    broker = broker_factory()
    need_control(broker)
    src, dst = qname, qname + '.dead'
    # past the first 1,024 a queue keeps its persistent messages on disk only
    sent = bodies(1030)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(dst, durable=True)
    ch.queue_declare(src, durable=True, arguments=dlx_args(dst, **{'x-message-ttl': 1500}))
    trigger.touch()
    publish(ch, src, sent)
    wait_for(lambda: depth(ch, dst) == 1024 and depth(ch, src) == 0, timeout=20, conn=c,
             what='the messages in memory dead-lettered')
    assert flog.exists(), 'the shim failed nothing'
    log = broker.log_text()
    assert "queue '%s': cannot read message 1025 from the store to dead-letter it (expired); it is kept" % src in log, \
        log[-3000:]
    c.process_data_events(time_limit=1.5)  # retries fail too: still kept
    assert depth(ch, dst) == 1024

    os.unlink(trigger)
    wait_for(lambda: depth(ch, dst) == len(sent), timeout=10, conn=c, what='the waiting dead-letterings')
    got = consume_all(c.channel(), dst, expect=len(sent))
    assert [b for b, _ in got] == sent, 'every message dead-lettered, in order'
    m, props, body = ch.basic_get(src)
    assert m is None
    c.close()
    assert broker.stop() == 0
    assert check_store(broker.data_dir)[0] == 0


def test_rejected_messages_stay_stored_while_reads_fail(failing_reads, broker_factory, qname):
    trigger, flog = failing_reads
    broker = broker_factory()
    need_control(broker)
    src, dst = qname, qname + '.dead'
    # over the store's 1 MiB read-ahead: each read goes to the disk
    sent = [b[:8] + b'z' * (1100 * 1024) for b in bodies(3)]
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(dst, durable=True)
    ch.queue_declare(src, durable=True, arguments=dlx_args(dst))
    publish(ch, src, sent)
    c.close()
    broker.restart()

    c = connect(broker)
    ch = c.channel()
    ch.basic_qos(prefetch_count=10)
    tags = []
    for m, _p, body in ch.consume(src, inactivity_timeout=5):
        assert m is not None, 'no delivery'
        tags.append(m.delivery_tag)
        if len(tags) == len(sent):
            break
    trigger.touch()
    for t in tags:
        ch.basic_reject(t, requeue=False)
    ch.basic_qos(prefetch_count=10)  # a round trip: the rejects are in
    c.process_data_events(time_limit=1.5)
    assert depth(ch, dst) == 0 and depth(ch, src) == 0
    assert flog.exists(), 'the shim failed nothing'
    log = broker.log_text()
    assert "cannot read message 1 from the store to dead-letter it (rejected); it is kept" in log, log[-3000:]
    c.close()

    # stopped while they wait: they are back in their queue
    assert broker.stop() == 0
    os.unlink(trigger)
    broker.start()
    c = connect(broker)
    ch = c.channel()
    assert depth(ch, dst) == 0
    got = consume_all(ch, src, expect=len(sent))
    assert [b for b, _ in got] == sent
    c.close()


def test_max_length_drop_head_dead_letters_once_reads_work(failing_reads, broker_factory, qname):
    trigger, flog = failing_reads
    broker = broker_factory()
    need_control(broker)
    src, dst = qname, qname + '.dead'
    sent = bodies(4)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(dst, durable=True)
    ch.queue_declare(src, durable=True, arguments=dlx_args(dst, **{'x-max-length': 3}))
    publish(ch, src, sent[:3])
    c.close()
    broker.restart()

    trigger.touch()
    c = connect(broker)
    ch = c.channel()
    publish(ch, src, sent[3:])  # pushes out sent[0], only on disk
    c.process_data_events(time_limit=1.5)
    assert depth(ch, src) == 3 and depth(ch, dst) == 0
    assert flog.exists(), 'the shim failed nothing'
    assert "cannot read message 1 from the store to dead-letter it (maxlen); it is kept" in broker.log_text()

    os.unlink(trigger)
    wait_for(lambda: depth(ch, dst) == 1, timeout=10, conn=c, what='the waiting dead-lettering')
    m, props, body = ch.basic_get(dst, auto_ack=True)
    assert body == sent[0]
    assert props.headers['x-death'][0]['reason'] == 'maxlen'
    assert [b for b, _ in get_all(ch, src)] == sent[1:]
    c.close()
    assert broker.stop() == 0
    assert check_store(broker.data_dir)[0] == 0


def test_dead_lettering_moves_a_damaged_record_aside(broker, qname):
    need_control(broker)
    src, dst = qname, qname + '.dead'
    sent = bodies(4)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(dst, durable=True)
    ch.queue_declare(src, durable=True, arguments=dlx_args(dst, **{'x-max-length': 2}))
    publish(ch, src, sent[:2])
    c.close()
    broker.restart()

    seg, bad = record_of(broker.data_dir, sent[0])
    flip_byte(seg, bad['off'] + bad['size'] - 10)
    c = connect(broker)
    ch = c.channel()
    publish(ch, src, sent[2:])  # pushes out sent[0] (damaged), then sent[1]
    wait_for(lambda: depth(ch, dst) == 1, conn=c, what='sent[1] dead-lettered')
    assert [b for b, _ in get_all(ch, dst)] == [sent[1]]
    assert [b for b, _ in get_all(ch, src)] == sent[2:]
    c.close()
    log = broker.log_text()
    assert "queue '%s': message 1 (segment" % src in log and 'cannot be dead-lettered; moved aside' in log, \
        log[-3000:]
    assert os.path.exists(aside_path(broker.data_dir, seg, bad)), os.listdir(broker.data_dir)
    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 1, out
    assert "message seq 1 of queue '%s'" % src in out, out


def test_failed_reads_are_not_returns(failing_reads, broker_factory, qname):
    """Issue 15: a message whose read failed never reached a consumer, so it
    is put back without counting a return: with x-delivery-limit 0 it would
    otherwise be dropped at the first failed read."""
    trigger, flog = failing_reads
    broker = broker_factory()
    need_control(broker)
    sent = bodies(2)
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True, arguments={'x-delivery-limit': 0})
    publish(ch, qname, sent)
    c.close()
    broker.restart()

    trigger.touch()
    c = connect(broker)
    for _ in range(2):
        ch = c.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
            ch.basic_get(qname, auto_ack=False)
        assert ei.value.reply_code == 541, ei.value
    assert flog.exists(), 'the shim failed nothing'
    os.unlink(trigger)
    ch = c.channel()
    assert ch.queue_declare(qname, passive=True).method.message_count == len(sent)
    m, props, body = ch.basic_get(qname, auto_ack=False)
    assert body == sent[0]
    assert props.headers is None or 'x-delivery-count' not in props.headers
    ch.basic_ack(m.delivery_tag)
    c.close()
