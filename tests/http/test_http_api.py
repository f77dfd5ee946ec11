"""Issue 13: the HTTP API's foundation - RabbitMQ 3.10's management API on
--management-port, driven from warren's loop (src/http/).

What RabbitMQ 3.10 answers was taken from the reference node's management
(127.0.0.1:15673) with curl; each test says where it follows it:
  - field names of /api/overview, /api/whoami, /api/users, /api/vhosts,
    /api/nodes are a subset of RabbitMQ's (RMQ_* below, from the reference);
  - 404 {"error":"Object Not Found","reason":"Not Found"} for an unknown
    path or object, answered before credentials are asked for;
  - 405 with "allow: HEAD, GET, OPTIONS", empty body;
  - 401: no credentials, empty body; wrong ones, {"error":"not_authorized",
    "reason":"Login failed"}; both with WWW-Authenticate: Basic
    realm="RabbitMQ Management"; a malformed Authorization is 400;
  - a bad %-escape in the path or query is 400 with an empty body;
  - a bad JSON body is 400 {"error":"bad_request","reason":"not_json"}, a
    body over 8,000,000 bytes 400 "Exceeded HTTP request body size limit";
  - /api/health/checks/alarms: 200 {"status":"ok"}, or 503 with
    rabbit_mgmt_wm_health_check_alarms's body while an alarm is on.
"""
import base64
import http.client
import json
import os
import re
import socket
import subprocess
import time

import pika
import pytest

from http_helpers import Api, free_port

RABBITMQADMIN = '/usr/bin/rabbitmqadmin'

# The fields RabbitMQ 3.10.8 returns (the reference node, field by field).
RMQ_OVERVIEW = {
    'management_version', 'rates_mode', 'sample_retention_policies', 'exchange_types', 'product_version',
    'product_name', 'rabbitmq_version', 'cluster_name', 'erlang_version', 'erlang_full_version',
    'release_series_support_status', 'disable_stats', 'enable_queue_totals', 'message_stats', 'churn_rates',
    'queue_totals', 'object_totals', 'statistics_db_event_queue', 'node', 'listeners', 'contexts'}
RMQ_VHOST = {
    'name', 'description', 'tags', 'default_queue_type', 'metadata', 'tracing', 'cluster_state', 'send_oct',
    'send_oct_details', 'recv_oct', 'recv_oct_details', 'messages_ready', 'messages_ready_details',
    'messages_unacknowledged', 'messages_unacknowledged_details', 'messages', 'messages_details',
    'message_stats'}
RMQ_USER = {'name', 'password_hash', 'hashing_algorithm', 'tags', 'limits'}
RMQ_NODE = {
    'partitions', 'os_pid', 'fd_total', 'sockets_total', 'mem_limit', 'mem_alarm', 'disk_free_limit',
    'disk_free_alarm', 'proc_total', 'rates_mode', 'uptime', 'run_queue', 'processors', 'exchange_types',
    'auth_mechanisms', 'applications', 'contexts', 'log_files', 'db_dir', 'config_files', 'net_ticktime',
    'enabled_plugins', 'mem_calculation_strategy', 'ra_open_file_metrics', 'name', 'type', 'running',
    'mem_used', 'mem_used_details', 'fd_used', 'fd_used_details', 'sockets_used', 'sockets_used_details',
    'proc_used', 'proc_used_details', 'disk_free', 'disk_free_details', 'gc_num', 'gc_num_details',
    'gc_bytes_reclaimed', 'gc_bytes_reclaimed_details', 'context_switches', 'context_switches_details',
    'cluster_links', 'metrics_gc_queue_length'}
RMQ_LISTENER = {'node', 'protocol', 'ip_address', 'port', 'socket_opts'}
NOT_FOUND = {'error': 'Object Not Found', 'reason': 'Not Found'}
REALM = 'Basic realm="RabbitMQ Management"'


def admin(broker, *args):
    if not os.path.exists(RABBITMQADMIN):
        pytest.skip('rabbitmqadmin is not installed (Debian package rabbitmq-server)')
    r = subprocess.run([RABBITMQADMIN, '-H', '127.0.0.1', '-P', str(broker.mgmt_port), '-u', 'guest', '-p',
                        'guest'] + list(args), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def alive(broker):
    """The broker still serves both ports."""
    assert broker.api.get('/api/whoami').status == 200
    c = pika.BlockingConnection(pika.URLParameters(broker.url))
    c.channel().queue_declare('', exclusive=True)
    c.close()


# ------------------------------------------------------------ rabbitmqadmin

def test_rabbitmqadmin_lists_users_vhosts_nodes_and_shows_overview(mgmt):
    out = admin(mgmt, 'list', 'users')
    assert 'guest' in out and 'administrator' in out, out
    out = admin(mgmt, 'list', 'vhosts')
    # columns name, messages: the vhost "/" with 0 messages
    assert '| /    | 0        |' in out, out
    out = admin(mgmt, 'show', 'overview')
    assert '3.10.8' in out and 'warren@' in out, out
    out = admin(mgmt, 'list', 'nodes')
    assert 'warren@' in out and 'disc' in out, out
    out = admin(mgmt, '-f', 'raw_json', 'list', 'users')
    # as RabbitMQ 3.10: the salted SHA-256 hash, base64 (4 + 32 bytes)
    users = json.loads(out)
    assert len(users) == 1 and len(base64.b64decode(users[0].pop('password_hash'))) == 36, users
    assert users == [{'name': 'guest', 'hashing_algorithm': 'rabbit_password_hashing_sha256',
                      'tags': ['administrator'], 'limits': {}}]


def test_rabbitmqadmin_show_overview_counts_queues_and_messages(mgmt, qname):
    c = pika.BlockingConnection(pika.URLParameters(mgmt.url))
    ch = c.channel()
    ch.queue_declare(qname)
    for i in range(3):
        ch.basic_publish('', qname, b'm%d' % i)
    ch.queue_declare(qname, passive=True)      # a round trip: the publishes are in
    out = admin(mgmt, '-f', 'raw_json', 'show', 'overview')
    o = json.loads(out)[0]
    assert o['queue_totals']['messages'] == 3 and o['object_totals']['queues'] == 1, o
    c.close()


# -------------------------------------------------------------- endpoints

def test_whoami_users_and_vhosts_have_rabbitmqs_fields(mgmt):
    api = mgmt.api
    r = api.get('/api/whoami')
    assert r.status == 200 and r.headers['content-type'] == 'application/json', r
    assert r.json() == {'name': 'guest', 'tags': ['administrator']}
    users = api.get('/api/users').json()
    assert [u['name'] for u in users] == ['guest']
    assert set(users[0]) <= RMQ_USER and users[0]['limits'] == {}
    assert api.get('/api/users/guest').json() == users[0]
    vhosts = api.get('/api/vhosts').json()
    assert [v['name'] for v in vhosts] == ['/']
    v = vhosts[0]
    assert set(v) <= RMQ_VHOST, set(v) - RMQ_VHOST
    assert v['description'] == 'Default virtual host' and v['tracing'] is False
    assert v['metadata'] == {'description': 'Default virtual host', 'tags': []}
    assert list(v['cluster_state'].values()) == ['running']
    # the vhost "/" is %2F in a path, upper or lower case; a trailing '/' is ignored
    for path in ('/api/vhosts/%2F', '/api/vhosts/%2f', '/api/vhosts/%2F/'):
        assert api.get(path).json() == v, path
    assert api.get('/api/vhosts/?x=1').json() == vhosts


def test_overview_and_nodes(mgmt, qname):
    api = mgmt.api
    c = pika.BlockingConnection(pika.URLParameters(mgmt.url))
    ch = c.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'a')
    ch.basic_publish('', qname, b'b')
    got = []
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(qname, lambda c_, m, p, b: got.append(m.delivery_tag))
    while not got:
        c.process_data_events(0.1)
    o = api.get('/api/overview').json()
    assert set(o) <= RMQ_OVERVIEW, set(o) - RMQ_OVERVIEW
    assert o['product_name'] == 'warren' and o['rabbitmq_version'] == '3.10.8'
    assert o['management_version'] == '3.10.8'
    totals = o['queue_totals']
    assert {k: totals[k] for k in ('messages', 'messages_ready', 'messages_unacknowledged')} == {
        'messages': 2, 'messages_ready': 1, 'messages_unacknowledged': 1}
    assert set(totals['messages_details']) == {'rate'}  # RabbitMQ's *_details, as the stats API samples them
    assert o['object_totals'] == {'channels': 1, 'connections': 1, 'consumers': 1, 'exchanges': 7, 'queues': 1}
    assert o['node'].startswith('warren@')
    protocols = sorted((x['protocol'], x['port']) for x in o['listeners'])
    assert ('amqp', mgmt.port) in protocols and ('http', mgmt.mgmt_port) in protocols, protocols
    assert all(set(x) == RMQ_LISTENER for x in o['listeners'])
    assert sorted(t['name'] for t in o['exchange_types']) == ['direct', 'fanout', 'headers', 'topic',
                                                              'x-delayed-message', 'x-message-deduplication']
    vh = api.get('/api/vhosts/%2F').json()
    assert (vh['messages'], vh['messages_ready'], vh['messages_unacknowledged']) == (2, 1, 1)
    nodes = api.get('/api/nodes').json()
    assert len(nodes) == 1 and set(nodes[0]) <= RMQ_NODE, set(nodes[0]) - RMQ_NODE
    n = nodes[0]
    assert n['name'] == o['node'] and n['running'] is True and n['type'] == 'disc'
    assert n['os_pid'] == str(mgmt.pid) and n['mem_alarm'] is False and n['disk_free_alarm'] is False
    assert n['mem_used'] > 0 and n['disk_free'] > 0 and n['sockets_used'] == 1
    assert api.get('/api/nodes/' + n['name']).json()['name'] == n['name']
    assert api.get('/api/nodes/rabbit@nowhere').status == 404
    c.close()


def test_columns_keeps_the_named_fields(mgmt):
    # what rabbitmqadmin asks for: ?columns=a,b.c
    r = mgmt.api.get('/api/overview?columns=node,object_totals.queues')
    o = r.json()
    assert set(o) == {'node', 'object_totals'} and o['object_totals'] == {'queues': 0}, o
    assert mgmt.api.get('/api/vhosts?columns=name').json() == [{'name': '/'}]


def test_unknown_paths_and_objects_are_404_with_rabbitmqs_body(mgmt):
    api = mgmt.api
    for path in ('/api/nosuch', '/api/whoami/extra', '/api//vhosts', '/api/vhosts/nosuch', '/api/users/nobody',
                 '/nosuch.js', '/api/' + 'a/' * 40):
        r = api.get(path)
        assert r.status == 404 and r.json() == NOT_FOUND, (path, r)
    # an unknown path is 404 before any credentials are asked for, as in RabbitMQ
    r = api.get('/api/nosuch', auth=False)
    assert r.status == 404 and r.json() == NOT_FOUND


def test_wrong_method_is_405_with_allow(mgmt):
    for method in ('POST', 'DELETE', 'PUT', 'PATCH'):
        r = mgmt.api.request(method, '/api/whoami')
        assert r.status == 405 and r.headers['allow'] == 'HEAD, GET, OPTIONS' and r.body == b'', (method, r)
    r = mgmt.api.request('DELETE', '/api/definitions')
    assert r.status == 405 and r.headers['allow'] == 'HEAD, GET, POST, OPTIONS', r
    r = mgmt.api.request('OPTIONS', '/api/whoami', auth=False)
    assert r.status == 200 and r.headers['allow'] == 'HEAD, GET, OPTIONS', r
    r = mgmt.api.request('HEAD', '/api/whoami')
    assert r.status == 200 and r.body == b'', r


def test_credentials(mgmt):
    api = mgmt.api
    r = api.get('/api/whoami', auth=False)
    assert r.status == 401 and r.body == b'' and r.headers['www-authenticate'] == REALM, r
    for user, password in (('guest', 'wrong'), ('nobody', 'guest'), ('guest', '')):
        r = api.get('/api/overview', headers={'Authorization': api.auth(user, password)})
        assert r.status == 401 and r.headers['www-authenticate'] == REALM, r
        assert r.json() == {'error': 'not_authorized', 'reason': 'Login failed'}
    # not base64 of user:password: 400, as RabbitMQ
    for bad in ('Basic !!!!', 'Basic Z3Vlc3Q='):
        r = api.get('/api/whoami', headers={'Authorization': bad})
        assert r.status == 400, (bad, r)
    assert 'login refused' in mgmt.log_text()
    alive(mgmt)


def test_other_users_log_in(broker_factory):
    b = broker_factory('--user', 'alice:s3cret', management=True)
    b.require_control()  # its own users: not an outside broker's
    api = Api(b.host, b.mgmt_port, 'alice', 's3cret')
    assert api.get('/api/whoami').json() == {'name': 'alice', 'tags': ['administrator']}
    assert api.get('/api/whoami', headers={'Authorization': api.auth('guest', 'guest')}).status == 401


# ------------------------------------------------------------------ alarms

def test_alarms_health_check(broker_factory, monkeypatch, tmp_path):
    free = tmp_path / 'free-bytes'
    free.write_text('100000000000\n')
    monkeypatch.setenv('WARREN_TEST_DISK_FREE_FILE', str(free))
    b = broker_factory('--disk-free-limit', '50000000', management=True)
    b.require_control()
    api = Api(b.host, b.mgmt_port)
    r = api.get('/api/health/checks/alarms')
    assert r.status == 200 and r.json() == {'status': 'ok'}, r
    free.write_text('1000\n')
    deadline = time.monotonic() + 5
    while True:
        r = api.get('/api/health/checks/alarms')
        if r.status != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    node = api.get('/api/overview').json()['node']
    assert r.status == 503 and r.json() == {
        'status': 'failed', 'reason': 'There are alarms in effect in the cluster',
        'alarms': [{'resource': 'disk', 'node': node}]}, r
    assert api.get('/api/nodes').json()[0]['disk_free_alarm'] is True
    free.write_text('100000000000\n')
    deadline = time.monotonic() + 5
    while api.get('/api/health/checks/alarms').status != 200:
        assert time.monotonic() < deadline, 'the alarm did not clear'
        time.sleep(0.1)


# ------------------------------------------------------------------ bodies

def test_bad_json_body_is_400_not_json(mgmt):
    for body in (b'{bad', b'[1, 2]', b'"x"', b'\xff\xfe', b'{"a": 1} trailing'):
        r = mgmt.api.request('PUT', '/api/vhosts/%2F', body=body, headers={'Content-Type': 'application/json'})
        assert r.status == 400 and r.json() == {'error': 'bad_request', 'reason': 'not_json'}, (body, r)
    r = mgmt.api.request('PUT', '/api/vhosts/%2F', body=b'{"description": "x"}')
    assert r.status == 204, r
    r = mgmt.api.request('PUT', '/api/vhosts/%2F', body=b'')
    assert r.status == 204, r
    alive(mgmt)


def test_body_over_the_limit_is_refused_and_not_held(mgmt):
    too_big = {'error': 'bad_request', 'reason': 'Exceeded HTTP request body size limit'}
    # announced with Content-Length: refused before it is read
    with socket.create_connection((mgmt.host, mgmt.mgmt_port), timeout=10) as s:
        s.sendall(b'PUT /api/vhosts/%2F HTTP/1.1\r\nHost: x\r\nAuthorization: ' + mgmt.api.auth().encode() +
                  b'\r\nContent-Length: 1000000000\r\n\r\n{')
        data = s.recv(65536)
    assert data.startswith(b'HTTP/1.1 400'), data
    assert json.loads(data.split(b'\r\n\r\n', 1)[1]) == too_big
    # chunked: read and dropped past 8,000,000 bytes
    c = http.client.HTTPConnection(mgmt.host, mgmt.mgmt_port, timeout=30)
    chunks = (b' ' * 1000000 for _ in range(9))
    c.request('PUT', '/api/vhosts/%2F', body=chunks, encode_chunked=True,
              headers={'Authorization': mgmt.api.auth(), 'Transfer-Encoding': 'chunked'})
    r = c.getresponse()
    assert r.status == 400 and json.loads(r.read()) == too_big
    c.close()
    # exactly at the limit is read (and is not JSON)
    r = mgmt.api.request('PUT', '/api/vhosts/%2F', body=b'{' + b' ' * 7999999)
    assert r.status == 400 and r.json() == {'error': 'bad_request', 'reason': 'not_json'}, r
    alive(mgmt)


# --------------------------------------------------------- malformed input

def test_bad_percent_encoding_is_400(mgmt):
    for path in ('/api/vhosts/%2', '/api/vhosts/%zz', '/api/vhosts/%00', '/api/overview?x=%zz',
                 '/api/overview?columns=%'):
        r = mgmt.api.get(path)
        assert r.status == 400 and r.body == b'', (path, r)
    alive(mgmt)


def raw_exchange(broker, data, wait=2.0):
    """Send data; what comes back: one response (by its Content-Length),
    or what came before the broker closed, or b'' when nothing came
    within `wait` seconds (a request MHD is still waiting to complete)."""
    with socket.create_connection((broker.host, broker.mgmt_port), timeout=wait) as s:
        out = b''
        try:
            s.sendall(data)
            while True:
                head, sep, rest = out.partition(b'\r\n\r\n')
                if sep:
                    m = re.search(rb'(?i)content-length: *(\d+)', head)
                    if m and len(rest) >= int(m.group(1)):
                        return out
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            return out


def test_malformed_requests_get_a_clean_error_and_the_broker_lives(mgmt):
    cases = [
        b'\x00\x01\x02\x03garbage\r\n\r\n',
        b'GET\r\n\r\n',
        b'GET /api/whoami HTTP/9.9\r\n\r\n',
        b'GET /api/whoami HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n',
        b'GET /api/whoami HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * 200000 + b'\r\n\r\n',
        b'GET /' + b'a' * 100000 + b' HTTP/1.1\r\nHost: x\r\n\r\n',
        b'GET /api/whoami HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
        b'PUT /api/vhosts/%2F HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        b'GET /api/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ' + b'A' * 5000 + b'\r\n\r\n',
        b'GET /api/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \xff\xfe\r\n\r\n',
    ]
    for data in cases:
        out = raw_exchange(mgmt, data)
        # an HTTP error, a closed connection or (a request still waiting
        # for its end) nothing yet; never a 2xx, never a crash
        assert out == b'' or re.match(rb'HTTP/1\.[01] (4\d\d|505) ', out), (data[:60], out[:200])
        assert mgmt.proc.poll() is None, 'broker died on %r' % data[:60]
    # a client that sends half a request and goes away
    with socket.create_connection((mgmt.host, mgmt.mgmt_port)) as s:
        s.sendall(b'GET /api/whoami HTTP/1.1\r\nHost:')
    # the absolute form of a target is its path
    out = raw_exchange(mgmt, b'GET http://x/api/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: ' +
                       mgmt.api.auth().encode() + b'\r\n\r\n')
    assert out.startswith(b'HTTP/1.1 200 '), out
    alive(mgmt)


def test_keep_alive_after_an_error(mgmt):
    c = http.client.HTTPConnection(mgmt.host, mgmt.mgmt_port, timeout=10)
    assert mgmt.api.get('/api/nosuch', conn=c).status == 404
    assert mgmt.api.get('/api/whoami', conn=c, auth=False).status == 401
    assert mgmt.api.get('/api/whoami', conn=c).status == 200
    c.close()


# ---------------------------------------------------------------- options

BINARY = os.environ.get('WARREN_BIN', os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'bin', 'warren-asan'))


def test_management_port_0_turns_the_api_off(broker_factory):
    b = broker_factory('--management-port', '0')
    assert 'HTTP API on' not in b.log_text()


def test_config_file_keys_management_port_and_bind(tmp_path):
    mport = free_port()
    cfg = tmp_path / 'warren.conf'
    cfg.write_text('management-port %d\nmanagement-bind 127.0.0.1\n' % mport)
    log = tmp_path / 'broker.log'
    with open(log, 'w') as f:
        p = subprocess.Popen([BINARY, '--bind', '127.0.0.1', '--port', str(free_port()), '--data-dir',
                              str(tmp_path / 'data'), '--config', str(cfg)], stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = Api('127.0.0.1', mport).get('/api/whoami')
                break
            except OSError:
                assert p.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        assert r.status == 200
        # management-bind 127.0.0.1 only: nothing on ::1
        with pytest.raises(OSError):
            socket.create_connection(('::1', mport), timeout=1).close()
    finally:
        p.terminate()
        assert p.wait(20) == 0, log.read_text()


def test_management_port_in_use_fails_the_start_when_asked_for(tmp_path):
    binary = BINARY
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([binary, '--bind', '127.0.0.1', '--port', str(free_port()), '--data-dir',
                            str(tmp_path / 'd'), '--management-port', str(port)],
                           capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and 'cannot listen on 127.0.0.1 port %d' % port in r.stderr, r.stderr
    r = subprocess.run([binary, '--management-port', 'x'], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and '--management-port: expected a number from 0 to 65535' in r.stderr


def test_default_is_loopback_port_15672(tmp_path):
    """What `make run` starts: the API on 127.0.0.1:15672 (and ::1); when
    something else holds 15672 (a RabbitMQ, a parallel test's warren) the
    broker says so and serves AMQP without it."""
    port = free_port()
    log = tmp_path / 'broker.log'
    with open(log, 'w') as f:
        p = subprocess.Popen([BINARY, '--bind', '127.0.0.1', '--port', str(port), '--data-dir',
                              str(tmp_path / 'data')], stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        # the whole line: a warning that 15692 is "already in use" says 'ready' too
        while ' ready (data in ' not in log.read_text():
            assert p.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        text = log.read_text()
        if 'HTTP API on 127.0.0.1:15672' in text:
            assert Api('127.0.0.1', 15672).get('/api/overview').json()['listeners']
        else:
            assert 'HTTP API off: its default port 15672 cannot be bound' in text, text
        c = pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', port))
        c.close()
    finally:
        p.terminate()
        assert p.wait(20) == 0, log.read_text()
