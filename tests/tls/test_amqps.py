"""amqps: warren's TLS listener with real clients (pika SSLOptions, Node
amqplib, amqp-tools --ssl) and openssl s_client for what a client library
would not try (old protocol versions, wrong or expired certificates,
stalled handshakes); SIGHUP reloads the certificate under open
connections.  doc/tls.md describes what is tested here."""
import os
import shutil
import signal
import socket
import subprocess
import time

import pika
import pytest

import pki as pki_mod
from tls_helpers import connect, free_port, s_client, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_pika_ssl_options_publish_and_consume(tls_broker, ssl_context, qname):
    """pika with SSLOptions: small and large messages both ways, acked."""
    b = tls_broker()
    conn = connect(b.tls_port, ssl_context())
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname)
    bodies = [b'%d' % i for i in range(2000)] + [os.urandom(1 << 20), os.urandom(3 * (1 << 20) + 17)]
    for body in bodies:
        ch.basic_publish('', qname, body)
    got = []
    for method, props, body in ch.consume(qname, inactivity_timeout=5):
        if method is None:
            break
        got.append(body)
        ch.basic_ack(method.delivery_tag)
        if len(got) == len(bodies):
            break
    assert got == bodies
    conn.close()
    # the plain port still speaks plain AMQP
    plain = pika.BlockingConnection(pika.URLParameters(b.url))
    assert plain.channel().queue_declare(qname, passive=True).method.message_count == 0
    plain.close()


def test_tls_versions_only_1_2_and_1_3(tls_broker, pki):
    b = tls_broker()
    ok, out = s_client(b.tls_port, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', '-CAfile', pki['ca'])
    assert not ok and 'protocol version' in out, out
    ok, out = s_client(b.tls_port, '-tls1', '-cipher', 'DEFAULT@SECLEVEL=0', '-CAfile', pki['ca'])
    assert not ok, out
    for v, name in (('-tls1_2', 'TLSv1.2'), ('-tls1_3', 'TLSv1.3')):
        ok, out = s_client(b.tls_port, v, '-CAfile', pki['ca'])
        assert ok and name in out and 'Verify return code: 0 (ok)' in out, out
    assert 'protocol version' in b.log_text() or 'unsupported protocol' in b.log_text()


def test_server_cipher_preference(tls_broker, pki):
    """A client listing AES-128 first still gets the server's first choice."""
    b = tls_broker()
    ok, out = s_client(b.tls_port, '-tls1_2', '-CAfile', pki['ca'], '-cipher',
                       'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384')
    assert ok and 'Cipher is ECDHE-ECDSA-AES256-GCM-SHA384' in out, out
    # and nothing weak: a CBC/RSA-kx-only client is refused
    ok, out = s_client(b.tls_port, '-tls1_2', '-CAfile', pki['ca'], '-cipher', 'AES128-SHA')
    assert not ok, out


@pytest.mark.parametrize('version', ['-tls1_2', '-tls1_3'])
def test_session_resumption(tls_broker, pki, tmp_path, version):
    b = tls_broker()
    sess = str(tmp_path / 'sess.pem')
    ok, out = s_client(b.tls_port, version, '-CAfile', pki['ca'], '-sess_out', sess)
    assert ok and os.path.getsize(sess) > 0, out
    ok, out = s_client(b.tls_port, version, '-CAfile', pki['ca'], '-sess_in', sess)
    assert ok and 'Reused, TLSv1.' in out, out
    # a certificate reload (SIGHUP) keeps the ticket keys: still resumed
    if version == '-tls1_3':
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: 'TLS certificate, key and CA reloaded' in b.log_text(), what='reload')
        ok, out = s_client(b.tls_port, version, '-CAfile', pki['ca'], '-sess_in', sess)
        assert ok and 'Reused, TLSv1.3' in out, out


def test_client_certificates_verify_peer(tls_broker, pki):
    """--tls-verify peer (RabbitMQ's verify_peer): a certificate is checked
    if sent; none is fine."""
    b = tls_broker('peer')
    ca = ['-CAfile', pki['ca']]
    ok, out = s_client(b.tls_port, *ca)
    assert ok, out
    ok, out = s_client(b.tls_port, *ca, '-cert', pki['alice'], '-key', pki['alice.key'])
    assert ok, out
    # signed by a CA the broker does not trust
    ok, out = s_client(b.tls_port, *ca, '-cert', pki['rogue'], '-key', pki['rogue.key'])
    assert not ok, out
    # expired (January 2020), signed by the right CA
    ok, out = s_client(b.tls_port, *ca, '-cert', pki['expired'], '-key', pki['expired.key'])
    assert not ok, out
    log = b.log_text()
    assert 'certificate verify failed' in log, log
    # the server is still fine
    ok, out = s_client(b.tls_port, *ca, '-cert', pki['alice'], '-key', pki['alice.key'])
    assert ok, out


def test_client_certificates_require(tls_broker, pki):
    """--tls-verify require (fail_if_no_peer_cert): no certificate, no entry."""
    b = tls_broker('require')
    for v in ('-tls1_2', '-tls1_3'):
        ok, out = s_client(b.tls_port, v, '-CAfile', pki['ca'])
        assert not ok, out
        ok, out = s_client(b.tls_port, v, '-CAfile', pki['ca'], '-cert', pki['alice'], '-key', pki['alice.key'])
        assert ok, out
    assert 'peer did not return a certificate' in b.log_text()


def test_client_refuses_a_server_from_another_ca(tls_broker, ssl_context):
    b = tls_broker()
    with pytest.raises(Exception):
        connect(b.tls_port, ssl_context(ca='rogue-ca'),
                connection_attempts=1)
    # the broker logged the client's alert and goes on
    conn = connect(b.tls_port, ssl_context())
    conn.close()


def test_plain_amqp_on_the_tls_port_is_refused(tls_broker):
    b = tls_broker()
    s = socket.create_connection(('127.0.0.1', b.tls_port))
    s.sendall(b'AMQP\x00\x00\x09\x01')
    s.settimeout(5)
    data = b''
    try:
        while True:
            d = s.recv(100)
            if not d:
                break
            data += d
    except ConnectionResetError:
        pass
    s.close()
    assert b'AMQPLAIN' not in data
    wait_for(lambda: 'TLS connection from 127.0.0.1' in b.log_text(), what='refusal logged')


def test_stalled_handshake_is_dropped(tls_broker, pki):
    """A client that sends half a ClientHello and stalls is dropped at the
    handshake timeout (10 s, RabbitMQ's), while others are served."""
    b = tls_broker()
    s = socket.create_connection(('127.0.0.1', b.tls_port))
    s.sendall(b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')  # a record header and the start of a hello
    t0 = time.monotonic()
    ok, out = s_client(b.tls_port, '-CAfile', pki['ca'])
    assert ok, out
    s.settimeout(15)
    try:
        data = s.recv(100)
    except ConnectionResetError:
        data = b''  # closed with the unread part of its record: a reset
    assert data == b''
    took = time.monotonic() - t0
    s.close()
    assert 9 <= took <= 13, took
    assert 'handshake timeout' in b.log_text()


def test_hang_up_mid_record_is_noticed(tls_broker):
    """A client that sends part of its first record and hangs up is closed
    at once (not at the handshake timeout, and without spinning): until a
    whole record is queued the broker reads nothing (doc/tls.md)."""
    b = tls_broker()
    for part in (b'\x16', b'\x16\x03\x01\x02\x00\x01\x00'):
        s = socket.create_connection(('127.0.0.1', b.tls_port))
        s.sendall(part)
        time.sleep(0.2)
        s.close()
    wait_for(lambda: b.log_text().count('client closed socket') >= 2, timeout=5, what='both closes noticed')
    assert 'handshake timeout' not in b.log_text()


def test_amqp_tools_ssl(tls_broker, pki, qname):
    """amqp-publish / amqp-get --ssl, with a client certificate under require."""
    b = tls_broker('require')
    amqps = 'amqps://guest:guest@localhost:%d' % b.tls_port
    url = ['--url', amqps, '--ssl', '--cacert', pki['ca'], '--cert', pki['alice'], '--key', pki['alice.key']]
    subprocess.run(['amqp-declare-queue'] + url + ['-q', qname], check=True, capture_output=True, timeout=20)
    subprocess.run(['amqp-publish'] + url + ['-r', qname, '-b', 'over tls'], check=True, timeout=20)
    r = subprocess.run(['amqp-get'] + url + ['-q', qname], capture_output=True, timeout=20)
    assert r.returncode == 0 and r.stdout == b'over tls', r
    # without the client certificate: refused
    r = subprocess.run(['amqp-get', '--url', amqps, '--ssl', '--cacert', pki['ca'], '-q', qname],
                       capture_output=True, timeout=20)
    assert r.returncode != 0


NODE_AMQPS = r"""
const amqp = require('amqplib');
const fs = require('fs');
(async () => {
  const opts = {ca: [fs.readFileSync(process.env.CA)], cert: fs.readFileSync(process.env.CERT),
                key: fs.readFileSync(process.env.KEY), servername: 'localhost'};
  const conn = await amqp.connect(process.env.URL, opts);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(process.env.Q, {durable: false});
  for (let i = 0; i < 500; i++) ch.sendToQueue(process.env.Q, Buffer.from('m' + i));
  await ch.waitForConfirms();
  let n = 0;
  await new Promise((resolve) => ch.consume(process.env.Q, (m) => {
    if (m.content.toString() !== 'm' + n) { console.log('bad ' + m.content); process.exit(3); }
    ch.ack(m); if (++n === 500) resolve();
  }));
  await ch.close(); await conn.close();
  console.log('ok ' + n);
})().catch((e) => { console.log('error ' + e.message); process.exit(2); });
"""


def test_node_amqplib_amqps(tls_broker, pki, qname, tmp_path):
    node = shutil.which('node')
    assert node, 'node is needed (scripts/install-deps.sh installs it)'
    b = tls_broker('require')
    script = tmp_path / 'amqps.js'
    script.write_text(NODE_AMQPS)
    env = dict(os.environ, NODE_PATH=os.path.join(ROOT, 'tests', 'node', 'node_modules'),
               URL='amqps://guest:guest@localhost:%d/' % b.tls_port, CA=pki['ca'], CERT=pki['alice'],
               KEY=pki['alice.key'], Q=qname)
    r = subprocess.run([node, str(script)], capture_output=True, env=env, timeout=30)
    assert r.stdout.strip() == b'ok 500', r


def test_sighup_reloads_the_certificate_keeping_connections(tls_broker, pki, ssl_context, tmp_path, qname):
    d = tmp_path / 'srv'
    d.mkdir()
    cert, key = str(d / 'server.pem'), str(d / 'server.key')
    shutil.copy(pki['server'], cert)
    shutil.copy(pki['server.key'], key)
    b = tls_broker('none', '--tls-cert', cert, '--tls-key', key)

    def serial():
        with socket.create_connection(('127.0.0.1', b.tls_port)) as s:
            with ssl_context().wrap_socket(s, server_hostname='localhost') as t:
                return t.getpeercert()['serialNumber']
    before = serial()
    conn = connect(b.tls_port, ssl_context())
    ch = conn.channel()
    ch.queue_declare(qname)
    # a renewed certificate from the same CA, written over the old files
    new = pki_mod.renew_server(str(d / 'renew'), os.path.dirname(pki['ca']))
    shutil.copy(new[0], cert)
    shutil.copy(new[1], key)
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: 'TLS certificate, key and CA reloaded' in b.log_text(), what='reload')
    after = serial()
    assert after != before
    # the open connection did not notice
    ch.basic_publish('', qname, b'still here')
    m, _, body = ch.basic_get(qname, auto_ack=True)
    assert body == b'still here'
    # a broken file: the error is logged, the current certificate stays
    with open(cert, 'w') as f:
        f.write('not a certificate\n')
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: 'TLS certificate not reloaded' in b.log_text(), what='failed reload')
    assert serial() == after
    ch.basic_publish('', qname, b'and here')
    assert ch.basic_get(qname, auto_ack=True)[2] == b'and here'
    conn.close()


def test_tls_options_are_checked(broker_factory, pki, tmp_path):
    """Bad TLS settings stop the start with a clear message."""
    exe = os.path.join(ROOT, 'bin', 'warren-asan')
    base = [exe, '--data-dir', str(tmp_path / 'd'), '--port', str(free_port()), '--management-port', '0',
            '--prometheus-port', '0']
    cases = [
        (['--tls-key', pki['server.key']], 'need --tls-cert'),
        (['--tls-cert', pki['server'], '--tls-verify', 'maybe'], 'expected none, peer or require'),
        (['--tls-cert', pki['server'], '--tls-verify', 'require'], 'needs --tls-ca'),
        (['--tls-cert', pki['server'], '--tls-key', pki['alice.key'], '--tls-port', '1'],
         'does not match the certificate'),
        (['--tls-cert', str(tmp_path / 'none.pem'), '--tls-port', '1'], 'cannot load the certificate'),
    ]
    for extra, text in cases:
        r = subprocess.run(base + extra, capture_output=True, timeout=20)
        assert r.returncode != 0 and text in (r.stderr + r.stdout).decode(), (extra, r)


def test_tls_options_from_the_config_file(broker_factory, pki, tmp_path, ssl_context):
    """The TLS options go in the config file too, under their long names."""
    if os.environ.get('WARREN_TEST_URL'):
        pytest.skip("warren's own options")
    port = free_port()
    cfg = tmp_path / 'warren.conf'
    cfg.write_text('tls-port %d\ntls-cert %s\ntls-key %s\ntls-ca %s\ntls-verify require\n'
                   % (port, pki['server'], pki['server.key'], pki['ca']))
    broker_factory('--config', str(cfg))
    conn = connect(port, ssl_context('alice'))
    conn.close()
    ok, out = s_client(port, '-CAfile', pki['ca'])
    assert not ok, out


def test_tls_bind_addresses(tls_broker, pki):
    """--tls-bind (repeatable) replaces --bind's addresses for amqps."""
    b = tls_broker('none', '--tls-bind', '::1')
    ok, out = s_client(b.tls_port, '-CAfile', pki['ca'], connect='[::1]')
    assert ok, out
    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', b.tls_port), timeout=5).close()
    assert 'amqps (TLS) listening on [::1]:%d' % b.tls_port in b.log_text()


def test_an_expired_server_certificate_is_logged(tls_broker, pki):
    """warren starts with it (the operator may be renewing it), says so in
    the log, and a client checking dates refuses it."""
    b = tls_broker('none', '--tls-cert', pki['expired'], '--tls-key', pki['expired.key'])
    assert 'TLS: the certificate %s has expired: clients will refuse it' % pki['expired'] in b.log_text()
    ok, out = s_client(b.tls_port, '-CAfile', pki['ca'], '-verify_return_error')
    assert not ok and 'certificate has expired' in out, out
