"""The HTTP API's limits hold on the https port too (doc/limits.md): the
TLS proxy (src/http/https.c) refuses past
--management-max-connections-per-address from one client address before
it spends a TLS session, and a request that stops half-way over TLS is
dropped at --management-request-timeout, as on the plain port."""
import socket
import ssl
import time
import urllib.request

from held_sockets import flood, still_open
from tls_helpers import free_port


def https_broker(tls_broker, *extra):
    port = free_port()
    b = tls_broker('none', '--management-tls-port', str(port), *extra, management=True)
    b.https_port = port
    return b


def get(b, ctx):
    req = urllib.request.Request('https://localhost:%d/api/whoami' % b.https_port)
    req.add_header('Authorization', 'Basic Z3Vlc3Q6Z3Vlc3Q=')  # guest:guest
    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
        return r.status


def test_https_flood_from_one_address_is_capped(tls_broker, ssl_context):
    b = https_broker(tls_broker, '--management-max-connections-per-address', '8')
    # TCP connections that never start TLS, from 127.0.0.2
    socks = flood(b.https_port, 30)
    try:
        assert still_open(socks) == 8
        # a client from another address is served over https meanwhile
        assert get(b, ssl_context()) == 200
    finally:
        for s in socks:
            s.close()
    with open(b.logs[-1]) as f:
        assert 'https: refused a connection from 127.0.0.2' in f.read()


def test_https_half_sent_request_is_dropped(tls_broker, ssl_context):
    b = https_broker(tls_broker, '--management-request-timeout', '1000')
    raw = socket.create_connection(('127.0.0.1', b.https_port), timeout=10)
    s = ssl_context().wrap_socket(raw, server_hostname='localhost')
    t0 = time.monotonic()
    s.sendall(b'GET /api/overview HTTP/1.1\r\nHost: x\r\n')
    try:
        got = s.recv(100)
    except (ConnectionResetError, ssl.SSLError):
        got = b''
    took = time.monotonic() - t0
    assert got == b'' and 0.8 <= took <= 4, (got, took)
    assert get(b, ssl_context()) == 200


def test_a_request_refused_on_its_headers_gets_its_answer_over_https(tls_broker, ssl_context):
    """The TLS protocol walk found an API call over https answered by a
    closed connection: a request refused on its headers (a 405 for PUT
    /api/definitions, a 404, a 401) with a body was answered at once and
    closed while its body was still coming; the proxy, finding
    libmicrohttpd's end closed as it passed the body on, dropped the
    answer with the connection.  Now the body (up to the 8 MB a body may
    have) is read and dropped before the answer, as RabbitMQ 3.10 answers
    such a request with a 2 MB body, and the proxy passes on an answer
    that comes early."""
    import http.client
    b = https_broker(tls_broker)
    auth = {'Authorization': 'Basic Z3Vlc3Q6Z3Vlc3Q=', 'Content-Type': 'application/json'}
    cases = [('PUT', '/api/definitions', auth, 405), ('POST', '/api/nosuch', auth, 404),
             ('PUT', '/api/queues/%2F/q', {'Content-Type': 'application/json'}, 401)]
    for size in (250, 500000, 2000000):
        for method, path, headers, status in cases:
            for _ in range(3):
                c = http.client.HTTPSConnection('127.0.0.1', b.https_port, timeout=20, context=ssl_context())
                try:
                    c.request(method, path, body=b'{"a":' * (size // 5), headers=headers)
                    r = c.getresponse()
                    r.read()
                    assert r.status == status, (method, path, size, r.status)
                finally:
                    c.close()
