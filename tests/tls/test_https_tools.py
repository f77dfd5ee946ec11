"""https for the HTTP API (--management-tls-port: TLS ended in warren,
plaintext handed to libmicrohttpd), and the tools over TLS: new_task and
worker with amqps:// (rabbitmq-c's SSL socket), warrenctl with https://
(libcurl), each with --cacert, --cert, --key."""
import json
import os
import signal
import socket
import ssl
import subprocess
import urllib.error
import urllib.request

from tls_helpers import free_port, s_client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, 'bin')


def https_broker(tls_broker, verify='none'):
    port = free_port()
    b = tls_broker(verify, '--management-tls-port', str(port), management=True)
    b.https_port = port
    return b


def get(url, ctx, method='GET', body=None):
    req = urllib.request.Request(url, method=method, data=body)
    req.add_header('Authorization', 'Basic Z3Vlc3Q6Z3Vlc3Q=')  # guest:guest
    if body is not None:
        req.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
        return r.status, r.read()


def test_https_api_and_dashboard(tls_broker, ssl_context, qname):
    b = https_broker(tls_broker)
    base = 'https://localhost:%d' % b.https_port
    ctx = ssl_context()
    st, body = get(base + '/api/overview', ctx)
    assert st == 200 and json.loads(body)['management_version']
    st, body = get(base + '/', ctx)
    assert st == 200 and b'<html' in body.lower()
    st, _ = get(base + '/api/queues/%2F/' + qname, ctx, 'PUT', b'{"durable":false}')
    assert st == 201
    # a body larger than the proxy's buffers, both ways
    payload = 'x' * (3 << 20)
    st, body = get(base + '/api/exchanges/%2F/amq.default/publish', ctx, 'POST',
                   json.dumps({'properties': {}, 'routing_key': qname, 'payload': payload,
                               'payload_encoding': 'string'}).encode())
    assert st == 200 and json.loads(body)['routed'] is True
    st, body = get(base + '/api/queues/%2F/' + qname + '/get', ctx, 'POST',
                   b'{"count":1,"ackmode":"ack_requeue_false","encoding":"auto"}')
    assert st == 200 and json.loads(body)[0]['payload'] == payload
    # the plain port still answers, and guest's loopback rule saw a loopback peer through the proxy
    with urllib.request.urlopen(urllib.request.Request(
            'http://127.0.0.1:%d/api/whoami' % b.mgmt_port, headers={'Authorization': 'Basic Z3Vlc3Q6Z3Vlc3Q='}),
            timeout=10) as r:
        assert json.loads(r.read())['name'] == 'guest'


def test_https_refuses_old_tls_and_stalls(tls_broker, pki):
    b = https_broker(tls_broker)
    ok, out = s_client(b.https_port, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', '-CAfile', pki['ca'],
                       send=b'GET / HTTP/1.0\r\n\r\n')
    assert 'protocol version' in out and 'HTTP/1' not in out, out
    # the connection the client abandons mid-handshake is gone at the timeout,
    # and meanwhile the API answers
    s = socket.create_connection(('127.0.0.1', b.https_port))
    s.sendall(b'\x16\x03\x01\x02\x00\x01')
    st, _ = get('https://localhost:%d/api/overview' % b.https_port, ssl.create_default_context(cafile=pki['ca']))
    assert st == 200
    s.settimeout(15)
    try:
        data = s.recv(100)
    except ConnectionResetError:
        data = b''  # closed with the unread part of its record: a reset
    assert data == b''
    s.close()


def test_https_client_certificate_required(tls_broker, pki, ssl_context):
    b = https_broker(tls_broker, 'require')
    base = 'https://localhost:%d' % b.https_port
    st, _ = get(base + '/api/overview', ssl_context('alice'))
    assert st == 200
    try:
        get(base + '/api/overview', ssl_context())
        raised = False
    except (ssl.SSLError, urllib.error.URLError, ConnectionResetError):
        raised = True
    assert raised


def test_warrenctl_over_https(tls_broker, pki, qname):
    b = https_broker(tls_broker, 'require')
    url = 'https://localhost:%d' % b.https_port
    tls = ['--cacert', pki['ca'], '--cert', pki['alice'], '--key', pki['alice.key']]
    r = subprocess.run([os.path.join(BIN, 'warrenctl'), '--url', url] + tls + ['-q', 'list_queues'],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r
    # without the CA, libcurl refuses the broker's certificate
    r = subprocess.run([os.path.join(BIN, 'warrenctl'), '--url', url, 'list_queues'], capture_output=True,
                       timeout=30)
    assert r.returncode != 0 and b'certificate' in r.stderr, r


def test_new_task_and_worker_over_amqps(tls_broker, pki, qname, tmp_path):
    b = tls_broker('require')
    url = 'amqps://guest:guest@localhost:%d/' % b.tls_port
    tls = ['--cacert', pki['ca'], '--cert', pki['alice'], '--key', pki['alice.key']]
    r = subprocess.run([os.path.join(BIN, 'new_task'), '--url', url, '--queue', qname] + tls + ['over', 'tls...'],
                       capture_output=True, timeout=30)
    assert r.returncode == 0 and b"Sent 'over tls...'" in r.stdout, r
    w = subprocess.Popen([os.path.join(BIN, 'worker'), '--url', url, '--queue', qname, '--dot-seconds', '0'] + tls,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out = b''
        while b'[x] Done' not in out:
            line = w.stdout.readline()
            assert line, out
            out += line
        assert b"Received 'over tls...'" in out
    finally:
        w.send_signal(signal.SIGINT)
        w.wait(10)
    # no client certificate under require: the handshake fails (exit 4, no AMQP handshake)
    r = subprocess.run([os.path.join(BIN, 'new_task'), '--url', url, '--queue', qname, '--cacert', pki['ca'], 'x'],
                       capture_output=True, timeout=30)
    assert r.returncode != 0 and b'SSL' in r.stderr, r
    # usage errors
    r = subprocess.run([os.path.join(BIN, 'new_task'), '--url', url, 'x'], capture_output=True, timeout=30)
    assert r.returncode == 2 and b'needs --cacert' in r.stderr, r
    r = subprocess.run([os.path.join(BIN, 'new_task'), '--url', b.url, '--cacert', pki['ca'], 'x'],
                       capture_output=True, timeout=30)
    assert r.returncode == 2 and b'amqps://' in r.stderr, r


def test_warren_perf_over_amqps(tls_broker, pki, qname):
    """warren-perf (its own client on OpenSSL) over amqps: every message
    arrives, checked by its sequence tracking; a wrong CA fails clearly."""
    b = tls_broker('require')
    url = 'amqps://guest:guest@localhost:%d/' % b.tls_port
    perf = os.path.join(BIN, 'warren-perf')
    tls = ['--cacert', pki['ca'], '--cert', pki['alice'], '--key', pki['alice.key']]
    r = subprocess.run([perf, '--url', url, '--queue', qname, '--size', '2000', '--count', '20000',
                        '--prefetch', '100', '--consumers', '2', '--quiet'] + tls, capture_output=True, timeout=120)
    assert r.returncode == 0, r
    res = json.loads(r.stdout.decode().split('RESULT ', 1)[1].splitlines()[0])
    assert res['received'] == 20000 and res['lost'] == 0 and res['verified'], res
    r = subprocess.run([perf, '--url', url, '--queue', qname, '--count', '1', '--cacert', pki['rogue-ca'],
                        '--cert', pki['alice'], '--key', pki['alice.key'], '--quiet'],
                       capture_output=True, timeout=60)
    assert r.returncode != 0 and b'certificate verify failed' in r.stderr + r.stdout, r


def test_overview_lists_the_tls_listeners(tls_broker, ssl_context):
    """/api/overview's listeners: amqp/ssl and https, RabbitMQ's names."""
    b = https_broker(tls_broker)
    st, body = get('https://localhost:%d/api/overview' % b.https_port, ssl_context())
    ls = {(x['protocol'], x['port']) for x in json.loads(body)['listeners']}
    assert ('amqp/ssl', b.tls_port) in ls and ('https', b.https_port) in ls and ('amqp', b.port) in ls, ls
