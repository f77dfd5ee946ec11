"""Issue 14, section 2: the node's own connection limits, for an operator
whose port is reachable by more than friendly clients.

  --max-connections N            open AMQP connections (RabbitMQ's
                                 connection_max): the one too many gets
                                 530 "connection refused: node connection
                                 limit (N) is reached" at connection.open
  --handshake-timeout MS         from accept to connection.open at most
                                 (RabbitMQ's handshake_timeout, 10 s): a
                                 client that drips its handshake a byte at
                                 a time is dropped at the deadline
  --max-unauthenticated N        sockets that have not logged in: the
                                 one too many is closed unread
  --max-connections-per-address  sockets from one source address (off by
                                 default): likewise
  out of file descriptors        a connection the broker has no descriptor
                                 for is accepted and closed (a spare
                                 descriptor kept for the purpose); the
                                 broker does not spin and serves the rest
"""
import os
import resource
import socket
import subprocess
import time

import pika
import pytest

import amqp_raw as raw


def connect(b, **kw):
    return pika.BlockingConnection(pika.ConnectionParameters(
        b.host, b.port, '/', pika.PlainCredentials('guest', 'guest'), connection_attempts=1, **kw))


def closed_soon(sock, within=3.0):
    """Does the broker close this socket (EOF or reset) within `within` s
    without sending anything?"""
    sock.settimeout(within)
    try:
        return sock.recv(100) == b''
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def test_max_connections(broker_factory):
    b = broker_factory('--max-connections', '2')
    b.require_control()
    c1, c2 = connect(b), connect(b)
    with pytest.raises(pika.exceptions.AMQPConnectionError) as e:
        connect(b)
    assert 'NOT_ALLOWED - connection refused: node connection limit (2) is reached' in str(e.value)
    c1.close()
    connect(b).close()
    c2.close()


def test_handshake_deadline_counts_from_accept(broker_factory):
    b = broker_factory('--handshake-timeout', '1500')
    b.require_control()
    # a client that sends a byte of its protocol header every 0.4 s is
    # never silent for long, but its handshake never ends: dropped at 1.5 s
    s = socket.create_connection((b.host, b.port))
    t0 = time.monotonic()
    gone = None
    for byte in raw.PROTOCOL_HEADER[:7]:
        try:
            s.sendall(bytes([byte]))
        except OSError:
            gone = time.monotonic() - t0
            break
        s.settimeout(0.4)
        try:
            if s.recv(100) == b'':
                gone = time.monotonic() - t0
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            gone = time.monotonic() - t0
            break
    s.close()
    assert gone is not None and 1.3 < gone < 2.6, gone
    assert 'handshake timeout' in b.log_text()
    # a client that logs in at once is not touched by it
    c = connect(b)
    time.sleep(2)
    c.channel().queue_declare('', exclusive=True)
    c.close()


def test_max_unauthenticated(broker_factory):
    b = broker_factory('--max-unauthenticated', '3')
    b.require_control()
    logged_in = connect(b)             # past its login: not counted
    idle = [socket.create_connection((b.host, b.port)) for _ in range(3)]
    time.sleep(0.3)
    extra = socket.create_connection((b.host, b.port))
    assert closed_soon(extra, 3)
    extra.close()
    for s in idle:
        assert not closed_soon(s, 0.05)
    assert 'refused connection from 127.0.0.1' in b.log_text()
    assert '--max-unauthenticated' in b.log_text()
    for s in idle:
        s.close()
    time.sleep(0.3)
    c = connect(b)                     # room again
    c.close()
    logged_in.channel()
    logged_in.close()


def test_max_connections_per_address(broker_factory):
    b = broker_factory('--max-connections-per-address', '2')
    b.require_control()
    held = [connect(b), connect(b)]
    s = socket.create_connection((b.host, b.port))
    assert closed_soon(s, 3)
    s.close()
    # another source address has its own count (127.0.0.2 is loopback too)
    other = socket.socket()
    other.bind(('127.0.0.2', 0))
    other.connect((b.host, b.port))
    other.sendall(raw.PROTOCOL_HEADER)
    other.settimeout(3)
    assert other.recv(7)[:1] == b'\x01'          # connection.start
    other.close()
    held[0].close()
    time.sleep(0.2)
    connect(b).close()
    held[1].close()


def test_default_is_no_per_address_limit(broker):
    broker.require_control()
    conns = [connect(broker) for _ in range(12)]
    for c in conns:
        c.close()


def test_fd_limit_logged(broker):
    broker.require_control()
    assert 'file descriptor limit' in broker.log_text()
    assert 'room for about' in broker.log_text()


def test_out_of_descriptors_refuses_cleanly(broker_factory):
    b = broker_factory()
    b.require_control()
    keep = [connect(b) for _ in range(3)]
    nfds = len(os.listdir('/proc/%d/fd' % b.pid))
    soft, hard = 0, 0
    with open('/proc/%d/limits' % b.pid) as f:
        for line in f:
            if line.startswith('Max open files'):
                soft, hard = int(line.split()[3]), int(line.split()[4])
    # a few descriptors left: more connections than that are refused
    subprocess.run(['prlimit', '--pid', str(b.pid), '--nofile=%d:%d' % (nfds + 6, hard)], check=True)
    try:
        socks = []
        for _ in range(40):
            s = socket.create_connection((b.host, b.port), timeout=5)
            socks.append(s)
        time.sleep(0.5)
        closed = sum(closed_soon(s, 0.5) for s in socks)
        assert closed >= 30, closed              # refused, not left hanging in the backlog
        # the broker does not spin on its listening socket meanwhile
        before = cpu_seconds(b.pid)
        time.sleep(1.0)
        assert cpu_seconds(b.pid) - before < 0.3
        assert 'out of file descriptors' in b.log_text()
        # the connections it has are served all along
        for c in keep:
            c.channel().queue_declare('', exclusive=True)
        for s in socks:
            s.close()
    finally:
        subprocess.run(['prlimit', '--pid', str(b.pid), '--nofile=%d:%d' % (soft, hard)], check=True)
    time.sleep(0.3)
    connect(b).close()                           # and new ones again once there is room
    for c in keep:
        c.close()
