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
                           consume_all, flip_byte, need_control, publish, read_segment, segment_files)


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
