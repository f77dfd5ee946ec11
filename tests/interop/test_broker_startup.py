"""Issue 11: the broker process's signals and options (points 7, 16, 19).

  - SIGHUP used to kill the broker (exit 129, no log line).  RabbitMQ
    ignores it; so does warren now, with a log line: a closed terminal,
    logrotate or `systemctl reload` does not stop it.
  - --disk-free-limit: --help said 50000000, the code used 52428800.
    RabbitMQ's disk_free_limit default is 50000000 bytes; --help, README and
    the code say that now.
  - --config given a directory was silently ignored: now refused, exit 2.

These run warren's own program, so they skip against WARREN_TEST_URL.
"""
import os
import re
import signal
import subprocess
import time

import pika
import pytest

from helpers import url_params, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WARREN = os.path.join(ROOT, 'bin', 'warren')


def need_own_broker():
    if os.environ.get('WARREN_TEST_URL'):
        pytest.skip("tests warren's own program (options, log, signals), not a broker behaviour")


def test_sighup_is_ignored(broker_factory, qname):
    broker = broker_factory()
    broker.require_control()
    c = pika.BlockingConnection(url_params(broker.url))
    ch = c.channel()
    ch.queue_declare(qname)
    for n in (1, 2):         # one at a time: a pending signal does not queue twice
        broker.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: broker.log_text().count('SIGHUP') >= n, what='SIGHUP log line %d' % n)
    time.sleep(0.2)
    assert broker.proc.poll() is None, 'SIGHUP stopped the broker (exit %s)' % broker.proc.returncode
    assert 'shutting down' not in broker.log_text()
    # it still serves, on the old connection and on a new one
    ch.basic_publish('', qname, b'after-hup')
    c2 = pika.BlockingConnection(url_params(broker.url))
    m, _p, body = c2.channel().basic_get(qname, auto_ack=True)
    assert body == b'after-hup'
    c2.close()
    c.close()
    assert broker.stop() == 0       # SIGTERM: a clean exit


def test_disk_free_limit_default_is_rabbitmqs(broker_factory, monkeypatch, tmp_path):
    need_own_broker()
    r = subprocess.run([WARREN, '--help'], capture_output=True, text=True, timeout=10)
    assert re.search(r'--disk-free-limit BYTES .*\(default 50000000\)', r.stdout), r.stdout
    with open(os.path.join(ROOT, 'README.md')) as f:
        row = [ln for ln in f.read().splitlines() if ln.startswith('| `--disk-free-limit')]
    assert row and '50000000' in row[0], row
    # and the broker uses it: exactly 50000000 bytes free is not below the
    # limit (it was below 52428800), one byte less is
    free = tmp_path / 'free-bytes'
    free.write_text('50000000\n')
    monkeypatch.setenv('WARREN_TEST_DISK_FREE_FILE', str(free))
    broker = broker_factory()
    time.sleep(1.5)                  # the check runs at start and once a second
    assert 'publishers are blocked' not in broker.log_text(), broker.log_text()[-2000:]
    free.write_text('49999999\n')
    wait_for(lambda: 'free disk space 49999999 bytes is below the limit of 50000000 bytes' in broker.log_text(),
             timeout=4, what='the disk alarm')


def test_config_that_is_a_directory_is_refused(tmp_path):
    need_own_broker()
    d = tmp_path / 'conf.d'
    d.mkdir()
    r = subprocess.run([WARREN, '--config', str(d), '--data-dir', str(tmp_path / 'data'), '--port', '1'],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert 'cannot read config %s: it is a directory' % d in r.stderr, r.stderr
    assert not (tmp_path / 'data').exists()
