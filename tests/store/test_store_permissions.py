"""The data directory is private: made 0700, its files 0600.

The messages, and the users' password hashes in the definitions file, are
in the data directory; doc/security.md says it is not readable by other
local users.  After a broker has made it (messages stored, a durable
queue, exchange and binding declared, a user added, a restart that
rewrites the definitions and recovers the segments), every directory in
it is 0700 and every file 0600, whatever the umask.  A data directory
made beforehand by someone else with wider permissions is used as it
is, with a warning in the log that says how to fix it.
"""
import os
import stat

from store_helpers import alarm_seconds, connect, need_control, start_or_fail, PERSISTENT  # noqa: F401


def modes(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            out[os.path.relpath(p, root)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def test_data_directory_is_0700_and_its_files_0600(broker_factory, qname):
    old = os.umask(0o022)            # the usual umask: the broker must not rely on it
    try:
        broker = broker_factory()
    finally:
        os.umask(old)
    need_control(broker)
    c = connect(broker)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, durable=True)
    ch.exchange_declare(qname + '-x', 'direct', durable=True)
    ch.queue_bind(qname, qname + '-x', 'k')
    for i in range(50):
        ch.basic_publish('', qname, b'secret %d' % i, PERSISTENT)
    m, _p, _b = ch.basic_get(qname)
    ch.basic_ack(m.delivery_tag)
    c.close()
    broker.stop()
    start_or_fail(broker)            # recovery rewrites the definitions
    broker.stop()

    assert stat.S_IMODE(os.stat(broker.data_dir).st_mode) == 0o700
    found = modes(broker.data_dir)
    assert any(p.endswith('.seg') for p in found) and 'definitions' in found, found
    wrong = {p: oct(m) for p, m in found.items()
             if m != (0o700 if os.path.isdir(os.path.join(broker.data_dir, p)) else 0o600)}
    assert not wrong, 'not private: %s' % wrong
    assert 'can be read by other users' not in broker.log_text()


def test_wider_data_directory_is_used_with_a_warning(broker_factory, tmp_path):
    d = tmp_path / 'wide' / 'data'
    d.mkdir(parents=True)
    os.chmod(d, 0o755)
    broker = broker_factory(subdir='wide')
    need_control(broker)
    assert broker.data_dir == str(d)
    c = connect(broker)
    c.channel().queue_declare('q', durable=True)
    c.close()
    text = broker.log_text()
    assert 'data directory %s can be read by other users (mode 755)' % d in text, text[-2000:]
    assert 'chmod 700' in text
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o755    # left as it is
