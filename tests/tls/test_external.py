"""SASL EXTERNAL (RabbitMQ's rabbitmq_auth_mechanism_ssl) with pika: the
user is the verified client certificate's CN, or its subject DN with
--tls-login-from distinguished_name; no password; offered only on a TLS
connection whose client certificate was verified."""
import pika
import pytest

from tls_helpers import connect, s_client

EXTERNAL = pika.credentials.ExternalCredentials()


def test_external_login_with_the_certificate_cn(tls_broker, ssl_context, qname):
    b = tls_broker('peer', '--user', 'alice:not-used', '--user', 'guest:guest')
    conn = connect(b.tls_port, ssl_context('alice'), credentials=EXTERNAL)
    ch = conn.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'as alice')
    assert ch.basic_get(qname, auto_ack=True)[2] == b'as alice'
    conn.close()
    assert "opened by user 'alice'" in b.log_text()
    # the same certificate may still log in with a password as someone else
    conn = connect(b.tls_port, ssl_context('alice'))
    conn.close()
    assert "opened by user 'guest'" in b.log_text()


def test_external_login_with_the_subject_dn(tls_broker, ssl_context):
    b = tls_broker('require', '--tls-login-from', 'distinguished_name', '--user', 'CN=alice,O=warren tests:x')
    conn = connect(b.tls_port, ssl_context('alice'), credentials=EXTERNAL)
    conn.close()
    assert "opened by user 'CN=alice,O=warren tests'" in b.log_text()


def test_external_unknown_user_refused(tls_broker, ssl_context):
    b = tls_broker('peer')  # only guest exists; the certificate says alice
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as e:
        connect(b.tls_port, ssl_context('alice'), credentials=EXTERNAL, connection_attempts=1)
    assert 'ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL' in str(e.value)
    assert "authentication failed for user 'alice'" in b.log_text()
    assert "user 'alice' - invalid credentials" in b.log_text()


def test_external_guest_certificate_from_loopback(tls_broker, ssl_context):
    """guest keeps its loopback rule; from 127.0.0.1 its certificate logs in."""
    b = tls_broker('peer')
    conn = connect(b.tls_port, ssl_context('guest'), credentials=EXTERNAL)
    conn.close()
    assert "opened by user 'guest'" in b.log_text()


def test_external_not_offered_without_a_verified_certificate(tls_broker, ssl_context, pki):
    b = tls_broker('peer', '--user', 'alice:pw')
    # no client certificate: the mechanism list has no EXTERNAL, pika gives up
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        connect(b.tls_port, ssl_context(), credentials=EXTERNAL, connection_attempts=1)
    # nor on the plain port
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', b.port, credentials=EXTERNAL,
                                                          connection_attempts=1))
    ok, out = s_client(b.tls_port, '-CAfile', pki['ca'])
    assert ok and 'EXTERNAL' not in out.split('AMQP', 1)[-1]
    ok, out = s_client(b.tls_port, '-CAfile', pki['ca'], '-cert', pki['alice'], '-key', pki['alice.key'])
    assert ok and 'EXTERNAL PLAIN AMQPLAIN' in out
    # with --tls-verify none no certificate is asked for, so never EXTERNAL
    b2 = tls_broker('none', '--user', 'alice:pw')
    ok, out = s_client(b2.tls_port, '-CAfile', pki['ca'], '-cert', pki['alice'], '-key', pki['alice.key'])
    assert ok and 'EXTERNAL' not in out.split('AMQP', 1)[-1]


def test_connection_list_shows_tls_and_mechanism(tls_broker, ssl_context):
    """/api/connections: RabbitMQ's ssl, ssl_protocol, auth_mechanism and
    peer_cert_subject fields, for a TLS + EXTERNAL and a plain connection."""
    import json
    import urllib.request
    b = tls_broker('peer', '--user', 'alice:x', '--user', 'guest:guest', management=True)
    tls = connect(b.tls_port, ssl_context('alice'), credentials=EXTERNAL)
    plain = pika.BlockingConnection(pika.URLParameters(b.url))
    req = urllib.request.Request('http://127.0.0.1:%d/api/connections' % b.mgmt_port,
                                 headers={'Authorization': 'Basic Z3Vlc3Q6Z3Vlc3Q='})
    conns = {c['user']: c for c in json.loads(urllib.request.urlopen(req, timeout=10).read())}
    a, g = conns['alice'], conns['guest']
    assert a['ssl'] is True and a['ssl_protocol'] == 'tlsv1.3' and a['auth_mechanism'] == 'EXTERNAL'
    assert a['peer_cert_subject'] == 'CN=alice,O=warren tests' and a['ssl_cipher']
    assert g['ssl'] is False and g['ssl_protocol'] is None and g['auth_mechanism'] == 'PLAIN'
    assert g['peer_cert_subject'] is None
    tls.close()
    plain.close()
