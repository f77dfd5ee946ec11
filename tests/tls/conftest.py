"""Fixtures for the TLS tests (amqps, https, EXTERNAL): real clients
(pika with SSLOptions, Node amqplib, the amqp-tools with --ssl, openssl
s_client) against a broker with TLS on.

Builds on tests/conftest.py (`broker_factory`, `qname`).  Adds:
  pki         - the test certificates, made once per session with the
                openssl CLI into a temp dir (pki.py; no key is committed)
  tls_broker  - tls_broker(verify='none', *extra): a broker with amqps on a
                free port (.tls_port) with pki's server certificate
  ssl_context - ssl_context(cert=None): a client context trusting pki's CA,
                presenting pki's `cert` (e.g. 'alice') if given
and alarm_seconds (60) for the per-test alarm.  These tests run warren's
own options, so they are skipped against an external broker.
"""
import os
import ssl
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import pki as pki_mod  # noqa: E402
from tls_helpers import free_port  # noqa: E402


@pytest.fixture
def alarm_seconds():
    return 60


@pytest.fixture(scope='session')
def pki(tmp_path_factory):
    return pki_mod.make_pki(tmp_path_factory.mktemp('pki'))


@pytest.fixture
def tls_broker(broker_factory, pki):
    if os.environ.get('WARREN_TEST_URL'):
        pytest.skip("warren's own TLS options")

    def make(verify='none', *extra, management=False):
        port = free_port()
        args = ['--tls-port', str(port), '--tls-cert', pki['server'], '--tls-key', pki['server.key'],
                '--tls-verify', verify, '--tls-ca', pki['ca']]
        b = broker_factory(*(args + list(extra)), management=management)
        b.tls_port = port
        return b
    return make


@pytest.fixture
def ssl_context(pki):
    def make(cert=None, ca='ca'):
        ctx = ssl.create_default_context(cafile=pki[ca])
        if cert:
            ctx.load_cert_chain(pki[cert], pki[cert + '.key'])
        return ctx
    return make
