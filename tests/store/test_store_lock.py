"""One process at a time in a data directory (issue 11, point 1).

A second warren started on a directory a running one uses used to recover
and rewrite it before it tried to listen: even a start that then failed
with "Address already in use" replaced the running broker's `definitions`
(which went on appending to the deleted file, so queues declared after it
were gone at the next restart), and with another port both ran on one
directory.  Now the directory is locked (DIR/lock, an fcntl lock held for
the process's life) before anything in it is read: the second broker exits
non-zero naming the directory and the holder's pid, having changed
nothing; warren-check-store --repair refuses a locked directory, a
read-only check warns and goes on.  The brokers here are real processes:
the fixture's, and a second one started by hand.
"""
import os
import signal
import subprocess

from store_helpers import (alarm_seconds, BIN, check_store, connect, consume_all, need_control,  # noqa: F401
                           publish, queue_depth)


def broker_binary():
    return os.environ.get('WARREN_BIN', os.path.join(BIN, 'warren-asan'))


def free_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def second_broker(data_dir, port, timeout=20):
    """Start another warren on data_dir and port; it must exit by itself.
    Returns (exit status, its output)."""
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = 'detect_leaks=1:abort_on_error=0'
    p = subprocess.run([broker_binary(), '--bind', '127.0.0.1', '--port', str(port), '--data-dir', data_dir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(errors='replace')


def snapshot(data_dir):
    """Every file under data_dir: (inode, bytes)."""
    out = {}
    for root, _d, files in os.walk(data_dir):
        for f in files:
            path = os.path.join(root, f)
            with open(path, 'rb') as fh:
                out[path] = (os.stat(path).st_ino, fh.read())
    return out


def setup_queues(broker, qname, n=20):
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    publish(ch, qname, [b'before-%d' % i for i in range(n)])
    c.close()


def test_second_broker_on_the_same_directory_touches_nothing(broker, qname):
    need_control(broker)
    setup_queues(broker, qname)
    defs = os.path.join(broker.data_dir, 'definitions')
    before = snapshot(broker.data_dir)
    # same port (fails to listen too) and another port (would have run)
    for port in (broker.port, free_port()):
        rc, out = second_broker(broker.data_dir, port)
        assert rc != 0, 'a second broker started on a directory in use:\n' + out
        assert 'data directory %s is in use by another process (pid %d' % (broker.data_dir, broker.pid) in out, out
        assert 'AddressSanitizer' not in out and 'LeakSanitizer' not in out, out
        assert snapshot(broker.data_dir) == before, 'the second broker changed files of the first:\n' + out
    assert os.stat(defs).st_ino == before[defs][0]

    # the first broker is unharmed: what is declared now survives a restart
    c = connect(broker)
    ch = c.channel()
    ch.queue_declare(qname + '-after', durable=True)
    publish(ch, qname + '-after', [b'after-%d' % i for i in range(10)])
    assert queue_depth(ch, qname) == 20
    c.close()
    assert broker.stop() == 0
    assert check_store(broker.data_dir)[0] == 0
    broker.start()
    c = connect(broker)
    ch = c.channel()
    assert [b for b, _ in consume_all(ch, qname, expect=20)] == [b'before-%d' % i for i in range(20)]
    assert [b for b, _ in consume_all(ch, qname + '-after', expect=10)] == [b'after-%d' % i for i in range(10)]
    c.close()


def test_port_in_use_refused_before_the_directory_is_touched(broker, tmp_path):
    """Another directory, the first broker's port: the bind fails before
    the new directory's store is created (let alone rewritten)."""
    need_control(broker)
    other = str(tmp_path / 'other')
    rc, out = second_broker(other, broker.port)
    assert rc != 0, out
    assert 'cannot listen on 127.0.0.1 port %d: Address already in use' % broker.port in out, out
    assert sorted(os.listdir(other)) == ['lock'], os.listdir(other)


def test_lock_does_not_outlive_a_crash(broker, qname):
    """The kernel drops the lock with the process: after a kill -9 the next
    start is not refused."""
    need_control(broker)
    setup_queues(broker, qname, 5)
    os.kill(broker.pid, signal.SIGKILL)
    broker.proc.wait()
    broker.proc = None
    broker.start()
    c = connect(broker)
    assert queue_depth(c.channel(), qname) == 5
    c.close()


def test_check_store_repair_refuses_a_live_directory(broker, qname):
    need_control(broker)
    setup_queues(broker, qname, 5)
    before = snapshot(broker.data_dir)
    rc, out = check_store(broker.data_dir, '--repair')
    assert rc == 2, out
    assert '%s is in use by another process (pid %d)' % (broker.data_dir, broker.pid) in out, out
    assert 'not repairing' in out, out
    assert snapshot(broker.data_dir) == before

    # a read-only check goes on, saying the directory is in use
    rc, out = check_store(broker.data_dir)
    assert rc == 0, out
    assert 'warning: %s is in use by a running warren (pid %d)' % (broker.data_dir, broker.pid) in out, out
    assert '5 live messages' in out, out
    assert snapshot(broker.data_dir) == before

    # stopped: both run, without the warning
    assert broker.stop() == 0
    rc, out = check_store(broker.data_dir)
    assert rc == 0 and 'in use' not in out, out
    rc, out = check_store(broker.data_dir, '--repair')
    assert rc == 0 and 'in use' not in out, out
