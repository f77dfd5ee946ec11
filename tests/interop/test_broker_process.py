"""Issue 2: the broker process itself - command line, config file, log,
shutdown, and a connection held by the disk alarm.

These are about warren's own program (its options, its log, signals sent
to it, an alarm forced through its test hook), so they run only on a broker
the test starts: against WARREN_TEST_URL they skip (require_control).  What
each checks against RabbitMQ's behaviour is said in the test:
  - SIGTERM: every open connection gets connection.close 320
    CONNECTION_FORCED "broker forced connection closure with reason
    'shutdown'", RabbitMQ's words; a connection still in its handshake is
    just closed (rabbit_reader:terminate sends 320 only to a running one);
  - a publisher blocked by a resource alarm is not read, so its heartbeats
    wait unread: RabbitMQ pauses its heartbeat monitor while a connection
    is blocked, so the connection is not dropped for missed heartbeats.
"""
import os
import re
import signal
import socket
import subprocess
import time

import pika
import pytest

import amqp_raw as raw
from helpers import url_params, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WARREN = os.path.join(ROOT, 'bin', 'warren')


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, 'warren exited with %s' % proc.returncode
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return
        except OSError:
            assert time.monotonic() < deadline, 'warren did not listen on port %d' % port
            time.sleep(0.02)


def need_own_broker():
    if os.environ.get('WARREN_TEST_URL'):
        pytest.skip("tests warren's own program (options, log, signals), not a broker behaviour")


# ---------------------------------------------------------------- shutdown

def test_sigterm_closes_every_connection_with_320(broker_factory):
    broker = broker_factory()
    broker.require_control()
    want = (320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'", 0, 0)
    raws = [raw.RawConnection(broker.host, broker.port).handshake() for _ in range(3)]
    raws[1].open_channel(1)
    pc = pika.BlockingConnection(url_params(broker.url))
    pc.channel()
    broker.proc.send_signal(signal.SIGTERM)
    for c in raws:
        assert c.expect_connection_close(timeout=5) == want
        assert c.wait_closed(5)
        c.close()
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pc.process_data_events(time_limit=0.1)
    assert ei.value.reply_code == 320
    assert ei.value.reply_text == want[1]
    assert broker.proc.wait(10) == 0
    broker.proc = None


def test_sigterm_during_handshake_just_closes(broker_factory):
    """Issue 11: a connection that has not finished its handshake (start,
    tune or open not yet done) gets no 320 at SIGTERM, only its socket
    closed, as RabbitMQ does (terminate/2 forces a connection that is not
    running); an open one still gets the 320."""
    broker = broker_factory()
    broker.require_control()
    starting = raw.RawConnection(broker.host, broker.port)
    starting.send_header()
    starting.read_start()
    tuning = raw.RawConnection(broker.host, broker.port)
    tuning.send_header()
    tuning.read_start()
    tuning.send_start_ok()
    tuning.read_tune()
    opening = raw.RawConnection(broker.host, broker.port)
    opening.send_header()
    opening.read_start()
    opening.send_start_ok()
    opening.read_tune()
    opening.send_tune_ok()
    running = raw.RawConnection(broker.host, broker.port).handshake()
    time.sleep(0.2)                             # the tune-ok is read
    broker.proc.send_signal(signal.SIGTERM)
    for name, c in (('starting', starting), ('tuning', tuning), ('opening', opening)):
        got = c.read_until_closed(5)
        assert got == b'', '%s: got %r instead of the socket closed' % (name, got)
        c.close()
    assert running.expect_connection_close(timeout=5)[0] == 320
    running.close()
    assert broker.proc.wait(10) == 0
    broker.proc = None
    assert 'SIGTERM: shutting down' in broker.log_text()


# ---------------------------------------------------------- held publisher

def test_blocked_publisher_is_not_dropped_for_heartbeats(broker_factory, monkeypatch, tmp_path, qname):
    free = tmp_path / 'free-bytes'
    free.write_text('1000\n')                  # below the limit from the start
    monkeypatch.setenv('WARREN_TEST_DISK_FREE_FILE', str(free))
    broker = broker_factory('--disk-free-limit', '50000000')
    broker.require_control()
    c = raw.RawConnection(broker.host, broker.port)
    c.handshake(heartbeat=1)
    c.open_channel(1)
    c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, False, False, False, {}))
    c.expect(raw.QUEUE_DECLARE_OK, 1)
    # a publish during the alarm: connection.blocked, and from now on the
    # connection is not read
    c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, '', qname, False, False))
    c.send(raw.header_frame(1, 4))
    c.send(raw.body_frame(1, b'held'))
    f = c.read_method(4)
    assert f.method == (10, 60), f             # connection.blocked
    t0 = time.monotonic()
    server_heartbeats = 0
    while time.monotonic() - t0 < 4.5:         # > 2 heartbeat intervals
        try:
            c.send(raw.heartbeat_frame())
            f = c.read_frame(0.3)
        except (TimeoutError, socket.timeout):
            continue
        except (raw.Closed, OSError) as e:
            raise AssertionError('the blocked publisher was dropped after %.1fs: %r'
                                 % (time.monotonic() - t0, e))
        assert f.type == raw.FRAME_HEARTBEAT, f
        server_heartbeats += 1
    assert server_heartbeats >= 2, 'the broker stopped sending heartbeats to a held connection'
    assert 'missed heartbeats' not in broker.log_text()
    # the alarm ends: the held publish goes through, the connection lives on
    free.write_text('100000000000\n')
    f = c.read_method(4)
    assert f.method == (10, 61), f             # connection.unblocked
    deadline = time.monotonic() + 5
    while True:
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, True, False, False, False, False, {}))
        f = c.expect(raw.QUEUE_DECLARE_OK, 1)
        if f.args[1] == 1:
            break
        assert time.monotonic() < deadline, 'the held publish never arrived'
        time.sleep(0.05)
    for _ in range(8):                         # and heartbeats still count after it
        c.send(raw.heartbeat_frame())
        time.sleep(0.25)
    c.send(raw.method_frame(1, raw.CHANNEL_FLOW, True))
    f = c.read_method(2)
    assert f.method == raw.CHANNEL_FLOW_OK, f
    c.close()


# ------------------------------------------------------------ command line

def run_warren(args, timeout=10):
    return subprocess.run([WARREN] + args, capture_output=True, timeout=timeout, text=True)


def readme_options():
    with open(os.path.join(ROOT, 'README.md')) as f:
        text = f.read()
    table = [line for line in text.splitlines() if line.startswith('| `--')]
    return sorted({o for line in table for o in re.findall(r'`(--[a-z-]+)', line)})


def test_help_names_every_option():
    need_own_broker()
    r = run_warren(['--help'])
    assert r.returncode == 0, r.stderr
    documented = readme_options()
    # the options issue 2 names, and everything in README's table
    for opt in {'--help', '--bind', '--port', '--data-dir', '--log-level'} | set(documented):
        assert re.search(r'(^|\s)%s\b' % re.escape(opt), r.stdout), '%s missing from --help' % opt
    assert len(documented) >= 10, documented
    # and README documents every option --help names
    for opt in set(re.findall(r'^\s+(--[a-z-]+)', r.stdout, re.M)) - {'--help'}:
        assert opt in documented, '%s is in --help but not in README' % opt


def test_unknown_option_is_refused():
    need_own_broker()
    r = run_warren(['--no-such-option'])
    assert r.returncode == 2
    assert 'usage: warren' in r.stderr


class Proc:
    """A warren started by hand (for options the fixtures cannot pass)."""

    def __init__(self, args, tmp_path):
        self.log = tmp_path / 'warren.log'
        with open(self.log, 'w') as f:
            self.p = subprocess.Popen([WARREN, '--data-dir', str(tmp_path / 'data')] + args,
                                      stdout=f, stderr=subprocess.STDOUT)

    def text(self):
        return self.log.read_text()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        return self.p.wait(10)


def tune_of(port, host='127.0.0.1'):
    with raw.RawConnection(host, port) as c:
        c.send_header()
        c.read_start()
        c.send_start_ok()
        return c.read_tune().args


def test_config_file_and_the_command_line_over_it(tmp_path):
    need_own_broker()
    port, other = free_port(), free_port()
    cfg = tmp_path / 'warren.conf'
    cfg.write_text('# a comment\n\nport %d\nheartbeat 7\nchannel-max 99\nframe-max 8192\n'
                   'bind 127.0.0.2\nlog-level debug\n' % other)
    # the command line wins whatever the order: --port and --bind before
    # --config, --channel-max after it
    p = Proc(['--port', str(port), '--bind', '127.0.0.1', '--config', str(cfg), '--channel-max', '50'],
             tmp_path)
    try:
        wait_port(port, p.p)
        assert tune_of(port) == [50, 8192, 7]
        listening = [line for line in p.text().splitlines() if 'listening on' in line]
        assert len(listening) == 1 and listening[0].endswith('listening on 127.0.0.1:%d' % port), listening
        assert ' debug ' in p.text()           # log-level from the file
    finally:
        assert p.stop() == 0


def test_config_file_errors(tmp_path):
    need_own_broker()
    bad = tmp_path / 'bad.conf'
    bad.write_text('port 5999\nprot 1\n')
    r = run_warren(['--config', str(bad)])
    assert r.returncode == 2
    assert '%s:2: unknown option \'prot\'' % bad in r.stderr
    bad.write_text('heartbeat soon\n')
    r = run_warren(['--config', str(bad)])
    assert r.returncode == 2 and 'heartbeat' in r.stderr
    r = run_warren(['--config', str(tmp_path / 'missing.conf')])
    assert r.returncode == 2 and 'cannot read config' in r.stderr


def test_memory_limit_default_config_and_command_line(tmp_path):
    """--memory-limit: 0.4 of the RAM by default (RabbitMQ's
    vm_memory_high_watermark), a config file line, the command line over
    it, 0 for no limit, and a bad value refused."""
    need_own_broker()
    ram = os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')

    def started(args, sub):
        port = free_port()
        (tmp_path / sub).mkdir()
        p = Proc(['--port', str(port)] + args, tmp_path / sub)
        try:
            wait_port(port, p.p)
            return [line for line in p.text().splitlines() if ' memory: ' in line]
        finally:
            assert p.stop() == 0

    lines = started([], 'default')
    assert len(lines) == 1 and 'memory: limit %d bytes of heap in use' % (ram * 2 // 5) in lines[0], lines
    cfg = tmp_path / 'warren.conf'
    cfg.write_text('memory-limit 123456789\n')
    lines = started(['--config', str(cfg)], 'file')
    assert 'memory: limit 123456789 bytes of heap in use' in lines[0], lines
    lines = started(['--memory-limit', '0', '--config', str(cfg)], 'off')
    assert 'memory: no limit' in lines[0], lines
    r = run_warren(['--memory-limit', '40%'])
    assert r.returncode == 2 and '--memory-limit: expected a number' in r.stderr, r.stderr


def test_bind_a_host_name(tmp_path):
    need_own_broker()
    port = free_port()
    p = Proc(['--bind', 'localhost', '--port', str(port)], tmp_path)
    try:
        wait_port(port, p.p)
        assert tune_of(port)[1] == 131072
        assert 'listening on 127.0.0.1:%d' % port in p.text()
    finally:
        assert p.stop() == 0


@pytest.mark.parametrize('addr,why', [
    ('no-such-host.invalid', 'cannot listen on no-such-host.invalid port'),
    ('192.0.2.7', 'cannot listen on 192.0.2.7 port'),          # not ours
])
def test_bind_errors_say_why(tmp_path, addr, why):
    need_own_broker()
    r = run_warren(['--bind', addr, '--port', str(free_port()), '--data-dir', str(tmp_path / 'data')])
    assert r.returncode == 1
    assert why in r.stderr
    assert 'Success' not in r.stderr


# -------------------------------------------------------------------- log

LOG_LINE = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (debug|info |warn |error) \S')


def test_log_lines_carry_timestamps(broker_factory):
    broker = broker_factory()
    broker.require_control()
    c = pika.BlockingConnection(url_params(broker.url))
    c.channel().queue_declare('', exclusive=True)
    c.close()
    with raw.RawConnection(broker.host, broker.port) as r:
        r.send(b'HTTP/1.1\r\n\r\n')
        r.read_until_closed()
    wait_for(lambda: 'bad protocol header' in broker.log_text(), what='the log line')
    assert broker.stop() == 0
    lines = [line for line in broker.log_text().splitlines() if line.strip()]
    assert len(lines) >= 5, lines
    for line in lines:
        assert LOG_LINE.match(line), 'log line without a timestamp: %r' % line
