"""Issue 17, section 3: warren as a service, without the package.

  - sd_notify: started with $NOTIFY_SOCKET (as systemd's Type=notify does),
    the broker sends READY=1 once it listens and STOPPING=1 when SIGTERM
    starts the shutdown; on a path and on an abstract socket.
  - Logging: --log-file, reopened on SIGUSR1 after logrotate renamed it;
    --log-format json, one object per line however the message is made.
  - A rabbitmq.conf file given to --config: the keys that mean the same
    thing work end to end (listener, users, tune values, the HTTP API and
    its limits), an unknown key is reported with its line.

Each test runs bin/warren-asan itself, so these never run against
WARREN_TEST_URL (they test warren's own program, not a broker behaviour).
"""
import base64
import json
import os
import signal
import subprocess
import urllib.request

import pika
import pytest

from install_helpers import WARREN_ASAN, NotifySocket, Proc, can_connect, free_port, wait_for

pytestmark = pytest.mark.skipif(bool(os.environ.get('WARREN_TEST_URL')),
                                reason="tests warren's own program (service start-up, logs, config), "
                                       "not a broker behaviour")


def start(tmp_path, *args, env=None, name='broker.log'):
    return Proc([WARREN_ASAN, '--data-dir', str(tmp_path / 'data'), '--management-port', '0',
                 '--prometheus-port', '0'] + list(args), tmp_path / name, env=env)


@pytest.mark.parametrize('abstract', [False, True], ids=['path', 'abstract'])
def test_sd_notify_ready_once_listening_and_stopping_on_sigterm(tmp_path, abstract):
    port = free_port()
    notify = NotifySocket(abstract=abstract)
    try:
        b = start(tmp_path, '--bind', '127.0.0.1', '--port', str(port), env={'NOTIFY_SOCKET': notify.env})
        ready = notify.wait('READY=1')
        # systemd starts the units after it the moment READY=1 arrives:
        # the port must accept connections by then
        assert can_connect(port), 'READY=1 came before the broker listened'
        assert len(ready) == 1 and 'STATUS=accepting connections' in ready[0].split('\n')
        assert not [m for m in notify.messages() if 'STOPPING=1' in m]
        b.proc.send_signal(signal.SIGTERM)
        notify.wait('STOPPING=1')
        assert b.proc.wait(20) == 0
        b.assert_clean()
        # exactly one of each
        msgs = notify.messages()
        assert sum('READY=1' in m.split('\n') for m in msgs) == 1, msgs
        assert sum('STOPPING=1' in m.split('\n') for m in msgs) == 1, msgs
    finally:
        notify.close()


def test_notify_socket_that_is_gone_is_logged_not_fatal(tmp_path):
    port = free_port()
    b = start(tmp_path, '--bind', '127.0.0.1', '--port', str(port),
              env={'NOTIFY_SOCKET': str(tmp_path / 'no-such-socket')})
    wait_for(lambda: 'cannot tell the service manager that warren is ready' in b.log(), what='the warning')
    assert can_connect(port)
    assert b.stop() == 0
    b.assert_clean()


def connect(port, user='guest', password='guest', **kw):
    return pika.BlockingConnection(pika.ConnectionParameters(
        '127.0.0.1', port, credentials=pika.PlainCredentials(user, password), **kw))


def test_log_file_reopened_on_sigusr1_after_logrotate(tmp_path):
    port = free_port()
    log = tmp_path / 'warren.log'
    b = start(tmp_path, '--bind', '127.0.0.1', '--port', str(port), '--log-file', str(log), name='stderr.log')
    wait_for(lambda: log.exists() and 'ready' in log.read_text(), what='ready in the log file')
    # the log went to the file, not to stderr
    assert 'ready' not in b.log()
    # logrotate (create mode): rename, then the postrotate signal
    os.rename(str(log), str(tmp_path / 'warren.log.1'))
    c = connect(port, client_properties={'connection_name': 'before-rotate'})
    wait_for(lambda: 'opened by user' in (tmp_path / 'warren.log.1').read_text(), what='line in the renamed file')
    c.close()
    b.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: log.exists() and 'reopened' in log.read_text(), what='the new file')
    c = connect(port)
    wait_for(lambda: 'opened by user' in log.read_text(), what='a connection logged in the new file')
    c.close()
    old = (tmp_path / 'warren.log.1').read_text()
    assert old.count('opened by user') == 1     # the second connection is in the new file only
    assert 'stats end' in log.read_text()       # SIGUSR1 still dumps the statistics, now in the new file
    assert b.stop() == 0
    assert 'stopped' in log.read_text()
    b.assert_clean()
    assert oct(os.stat(str(log)).st_mode & 0o777) == oct(0o640)


def test_log_file_that_cannot_be_opened_stops_the_start(tmp_path):
    r = subprocess.run([WARREN_ASAN, '--data-dir', str(tmp_path / 'data'), '--log-file',
                        str(tmp_path / 'no' / 'such' / 'dir.log')], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert 'cannot open log file %s' % (tmp_path / 'no' / 'such' / 'dir.log') in r.stderr


def test_log_format_json_one_object_per_line(tmp_path):
    port = free_port()
    b = start(tmp_path, '--bind', '127.0.0.1', '--port', str(port), '--log-format', 'json',
              '--log-level', 'debug')
    wait_for(lambda: 'ready' in b.log(), what='ready')
    # a client-chosen name with a quote, a backslash, a newline, a control
    # character and non-ASCII text ends up in a log line (the 404)
    name = 'q"\\\n\x01\u00e9\u4e2d'
    c = connect(port)
    ch = c.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare(name, passive=True)
    assert e.value.reply_code == 404
    c.close()
    assert b.stop() == 0
    b.assert_clean()
    lines = b.log().splitlines()
    assert len(lines) > 5
    objs = [json.loads(line) for line in lines]     # every line parses
    for o in objs:
        assert set(o) == {'time', 'level', 'msg'}, o
        assert o['level'] in ('debug', 'info', 'warning', 'error')
        assert len(o['time']) == len('2026-11-26T15:40:40.123+00:00'), o['time']
    assert any(name in o['msg'] and 'NOT_FOUND' in o['msg'] for o in objs), lines
    assert objs[-1]['msg'] == 'stopped'


def test_log_format_refuses_unknown(tmp_path):
    r = subprocess.run([WARREN_ASAN, '--log-format', 'xml'], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "--log-format: expected text or json, got 'xml'" in r.stderr


def http_get(port, path, user, password):
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path))
    req.add_header('Authorization', 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode())
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_rabbitmq_conf_file_works_as_it_is(tmp_path):
    port, mgmt = free_port(), free_port()
    conf = tmp_path / 'rabbitmq.conf'
    conf.write_text('\n'.join([
        '# an operator\'s rabbitmq.conf, as RabbitMQ 3.10 reads it',
        'listeners.tcp.default = 127.0.0.1:%d' % port,
        'default_user = admin',
        'default_pass = s3cret',
        'heartbeat = 7',
        'channel_max = 0',
        'frame_max = 65536',
        'vm_memory_high_watermark.absolute = 2GB',
        'disk_free_limit.absolute = 1MB',
        'management.tcp.port = %d' % mgmt,
        'management.tcp.ip = 127.0.0.1',
        'prometheus.tcp.port = 0',
        'cluster_formation.peer_discovery_backend = classic_config',
        'log.console.level = info',
        '']))
    b = Proc([WARREN_ASAN, '--config', str(conf), '--data-dir', str(tmp_path / 'data')], tmp_path / 'broker.log')
    wait_for(lambda: can_connect(port) and 'ready' in b.log(), what='the listener of the file')
    # the unknown key is reported with its line, and the broker started anyway
    assert "%s:13: warning: unknown setting 'cluster_formation.peer_discovery_backend'" % conf in b.log()
    # default_user/default_pass replace guest, as in RabbitMQ
    c = connect(port, 'admin', 's3cret', heartbeat=None)
    assert c._impl.params.heartbeat == 7
    assert c._impl.params.channel_max == 65535      # 0: no limit, warren's largest
    assert c._impl.params.frame_max == 65536
    c.close()
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(port)
    # the HTTP API on management.tcp.port, with the limits of the file
    node = http_get(mgmt, '/api/nodes', 'admin', 's3cret')[0]
    assert node['mem_limit'] == 2000000000          # GB: powers of 1000, as RabbitMQ
    assert node['disk_free_limit'] == 1000000
    assert b.stop() == 0
    b.assert_clean()


def test_rabbitmq_conf_key_warren_cannot_honour_stops_the_start(tmp_path):
    conf = tmp_path / 'rabbitmq.conf'
    conf.write_text('heartbeat = 30\nloopback_users.bob = true\n')
    r = subprocess.run([WARREN_ASAN, '--config', str(conf), '--data-dir', str(tmp_path / 'data')],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "%s:2: 'loopback_users.bob = true': warren can restrict only guest to loopback" % conf in r.stderr
    assert not (tmp_path / 'data').exists()         # refused before anything was touched
