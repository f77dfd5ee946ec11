"""Helpers for the TLS tests: openssl s_client runs, pika over TLS."""
import socket
import subprocess
import threading
import time

import pika

AMQP_HEADER = b'AMQP\x00\x00\x09\x01'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def s_client(port, *opts, timeout=8.0, send=AMQP_HEADER, connect='127.0.0.1'):
    """Run `openssl s_client` against the port, send the AMQP header, and
    wait for connection.start (its mechanisms list) or the end.  Returns
    (answered, output): answered is True when the broker spoke AMQP over
    the session, i.e. the handshake was accepted."""
    cmd = ['openssl', 's_client', '-connect', '%s:%d' % (connect, port), '-ign_eof'] + list(opts)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = []

    def read():
        for chunk in iter(lambda: p.stdout.read1(4096), b''):
            out.append(chunk)
    t = threading.Thread(target=read, daemon=True)
    t.start()
    try:
        p.stdin.write(send)
        p.stdin.flush()
    except BrokenPipeError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None and b'AMQPLAIN' not in b''.join(out):
        time.sleep(0.02)
    if p.poll() is None:
        p.kill()
    p.wait()
    t.join(2)
    text = b''.join(out)
    return b'AMQPLAIN' in text, text.decode('latin-1')


def connect(port, ctx, credentials=None, **kw):
    params = pika.ConnectionParameters(host='localhost', port=port, ssl_options=pika.SSLOptions(ctx, 'localhost'),
                                       credentials=credentials or pika.PlainCredentials('guest', 'guest'), **kw)
    return pika.BlockingConnection(params)


def wait_for(pred, timeout=10.0, what='condition'):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for ' + what)
        time.sleep(0.02)
