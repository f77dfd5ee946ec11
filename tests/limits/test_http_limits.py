"""Issue 14: the HTTP API's own limits, so a client of the management port
cannot take it from the others (doc/limits.md#the-http-apis-own-limits).

  --management-max-connections N              open at once per HTTP port
                                              (default 1024, ranch's, as
                                              RabbitMQ's listener)
  --management-max-connections-per-address N  open at once from one
                                              address (default 64)
  --management-request-timeout MS             a request head must all come
                                              within this of the connection's
                                              start or of its last answer
                                              (default 5000, cowboy's
                                              request_timeout, RabbitMQ 3.10's)
  --management-idle-timeout MS                silence inside a request
                                              (default 60000, cowboy's)

Before, libmicrohttpd held a half-sent request for 120 s (even after the
client half-closed) and took 1,024 connections from anyone: a flood of
idle sockets from one address filled the API for two minutes.  The
flood here comes from 127.0.0.2 (a loopback address of its own, so guest
may log in); the operator's tools (rabbitmqadmin, warrenctl) come from
127.0.0.1 and are served throughout.
"""
import os
import socket
import subprocess
import time

import pytest

from held_sockets import closed_within, flood, still_open

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, 'bin')


def rabbitmqadmin(b, *args):
    p = subprocess.run(['rabbitmqadmin', '-H', '127.0.0.1', '-P', str(b.mgmt_port), '-u', 'guest', '-p', 'guest']
                       + list(args), capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def test_a_flood_from_one_address_is_capped_while_others_are_served(broker_factory):
    # a long request timeout: the flood's idle sockets stay for the test
    b = broker_factory('--management-request-timeout', '60000', management=True)
    b.require_control()
    socks = flood(b.mgmt_port, 200)
    try:
        # the default cap: 64 from one address, the rest closed at accept
        assert still_open(socks) == 64
        # rabbitmqadmin and warrenctl from another address are served
        rc, out = rabbitmqadmin(b, 'declare', 'queue', 'name=fl-0')
        assert rc == 0, out
        rc, out = rabbitmqadmin(b, 'list', 'queues', 'name')
        assert rc == 0 and 'fl-0' in out, out
        r = subprocess.run([os.path.join(BIN, 'warrenctl'), '--url', 'http://127.0.0.1:%d' % b.mgmt_port,
                            'list_queues', 'name'], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and 'fl-0' in r.stdout, r.stdout + r.stderr
        # and the flooding address itself is refused, not queued
        extra = flood(b.mgmt_port, 1)[0]
        assert closed_within(extra, 3) is not None
    finally:
        for s in socks:
            s.close()
    # once its sockets are gone, the address is served again
    time.sleep(0.3)
    s = flood(b.mgmt_port, 1)[0]
    s.sendall(b'GET /api/overview HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n\r\n')
    s.settimeout(10)
    assert s.recv(12) == b'HTTP/1.1 200'
    s.close()
    with open(b.logs[-1]) as f:
        assert '--management-max-connections-per-address (64)' in f.read()


def test_the_total_cap(broker_factory):
    b = broker_factory('--management-max-connections', '20', '--management-max-connections-per-address', '0',
                       '--management-request-timeout', '60000', management=True)
    b.require_control()
    socks = flood(b.mgmt_port, 30)
    try:
        assert still_open(socks) == 20
    finally:
        for s in socks:
            s.close()
    time.sleep(0.3)
    rc, out = rabbitmqadmin(b, 'list', 'queues')
    assert rc == 0, out


@pytest.mark.parametrize('how', ['half request line', 'headers without their end', 'half-closed', 'dripped'])
def test_a_half_sent_request_is_dropped_at_the_request_timeout(broker_factory, how):
    b = broker_factory('--management-request-timeout', '1000', management=True)
    b.require_control()
    s = socket.create_connection(('127.0.0.1', b.mgmt_port))
    head = b'GET /api/overview HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n'
    t0 = time.monotonic()
    if how == 'half request line':
        s.sendall(b'GET /api/over')
    elif how == 'headers without their end':
        s.sendall(head)
    elif how == 'half-closed':
        # what held a connection 120 s before: a client that stops and
        # half-closes in the middle of its request
        s.sendall(head)
        s.shutdown(socket.SHUT_WR)
    else:
        # a byte every 100 ms: the deadline is not reset by a byte (MHD's
        # idle timeout alone never fired for this one)
        s.settimeout(0.1)
        try:
            for ch in head + b'X-Pad: ' + b'a' * 100:
                s.send(bytes([ch]))
                time.sleep(0.1)
                if time.monotonic() - t0 > 5:
                    break
        except OSError:
            pass
    took = closed_within(s, 8 - (time.monotonic() - t0))
    assert took is not None, 'still open after 8 s'
    took = time.monotonic() - t0
    assert 0.8 <= took <= 4, took
    # others are served meanwhile and after
    rc, out = rabbitmqadmin(b, 'list', 'vhosts')
    assert rc == 0, out


def test_the_default_request_timeout_is_rabbitmqs_5_s(broker_factory):
    b = broker_factory(management=True)
    b.require_control()
    s = socket.create_connection(('127.0.0.1', b.mgmt_port))
    s.sendall(b'GET /api/overview HTTP/1.1\r\nHost: x\r\n')
    took = closed_within(s, 15)
    assert took is not None and 4.5 <= took <= 9, took
    # a kept-alive connection with no next request: closed at the same
    # deadline after its answer, as RabbitMQ's
    s = socket.create_connection(('127.0.0.1', b.mgmt_port))
    s.sendall(b'GET /api/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n\r\n')
    s.settimeout(5)
    assert s.recv(12) == b'HTTP/1.1 200'
    took = closed_within(s, 15)
    assert took is not None and 4 <= took <= 9, took


def test_a_body_that_stops_is_dropped_at_the_idle_timeout(broker_factory):
    b = broker_factory('--management-idle-timeout', '1000', management=True)
    b.require_control()
    s = socket.create_connection(('127.0.0.1', b.mgmt_port))
    s.sendall(b'PUT /api/queues/%2F/idle-body HTTP/1.1\r\nHost: x\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n'
              b'Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{"dur')
    took = closed_within(s, 10)
    assert took is not None and took <= 4, took
    # the queue was not declared from half a body
    rc, out = rabbitmqadmin(b, 'list', 'queues', 'name')
    assert rc == 0 and 'idle-body' not in out, out


def test_the_limits_in_rabbitmq_conf(broker_factory, tmp_path):
    conf = tmp_path / 'rabbitmq.conf'
    conf.write_text('management.tcp.request_timeout = 1000\nmanagement.tcp.idle_timeout = 30000\n')
    b = broker_factory('--config', str(conf), management=True)
    b.require_control()
    s = socket.create_connection(('127.0.0.1', b.mgmt_port))
    s.sendall(b'GET /api/overview HTTP/1.1\r\n')
    took = closed_within(s, 8)
    assert took is not None and took <= 4, took


def test_bad_values_are_refused(tmp_path):
    for args in (['--management-max-connections', '0'], ['--management-request-timeout', '5'],
                 ['--management-max-connections-per-address', '-1']):
        p = subprocess.run([os.path.join(BIN, 'warren'), '--data-dir', str(tmp_path / 'd')] + args,
                           capture_output=True, text=True, timeout=20)
        assert p.returncode != 0 and args[0] in p.stderr, (args, p.stderr)
