"""A definitions import is synced once, not once per definition (issue 13:
importing thousands of durable queues cost an fdatasync each).

The failio shim's FAILIO_SYNCLOG logs every fdatasync that succeeds, with
the file it covered: an import of 600 durable queues, 600 bindings, 5
exchanges and a user must sync the definitions file a handful of times (the
import's one, and at most a rewrite), where it did 1,200 before.  What was
imported is there after a restart.  When the sync fails, the import answers
500 with a reason, and the broker keeps serving.
"""
import base64
import json
import os
import subprocess
import urllib.error
import urllib.request

import pika
import pytest

from store_helpers import release_bin, need_control, ROOT, FAILIO  # noqa: F401

N = 600


@pytest.fixture(scope='module')
def failio_built():
    subprocess.run(['make', '-s', 'build/failio.so'], cwd=ROOT, check=True)
    assert os.path.exists(FAILIO)
    return FAILIO


def post(port, path, body):
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path), data=json.dumps(body).encode(),
                                 method='POST')
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    req.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def definitions(tag):
    return {
        'users': [{'name': 'imp-' + tag, 'password_hash': '', 'hashing_algorithm': 'rabbit_password_hashing_sha256',
                   'tags': ''}],
        'queues': [{'name': '%s-q%04d' % (tag, i), 'vhost': '/', 'durable': True, 'auto_delete': False,
                    'arguments': {}} for i in range(N)],
        'exchanges': [{'name': '%s-x%d' % (tag, i), 'vhost': '/', 'type': 'direct', 'durable': True,
                       'auto_delete': False, 'internal': False, 'arguments': {}} for i in range(5)],
        'bindings': [{'source': '%s-x%d' % (tag, i % 5), 'vhost': '/', 'destination': '%s-q%04d' % (tag, i),
                      'destination_type': 'queue', 'routing_key': 'k', 'arguments': {}} for i in range(N)],
    }


def defs_syncs(synclog):
    if not os.path.exists(synclog):
        return 0
    with open(synclog) as f:
        return sum(1 for line in f if line.rstrip().endswith('/definitions'))


def test_import_syncs_once_and_survives_restart(failio_built, release_bin, monkeypatch, tmp_path, broker_factory):
    synclog = str(tmp_path / 'synclog')
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_SYNCLOG', synclog)
    b = broker_factory(management=True)
    need_control(b)
    before = defs_syncs(synclog)
    status, text = post(b.mgmt_port, '/api/definitions', definitions('a'))
    assert status == 204, text
    syncs = defs_syncs(synclog) - before
    assert 1 <= syncs <= 3, 'the import synced the definitions file %d times' % syncs
    b.stop()
    b.start()
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    for i in (0, N // 2, N - 1):
        ch.queue_declare('a-q%04d' % i, durable=True, passive=True)
    # the bindings came back too: a message routed through one arrives
    ch.basic_publish('a-x%d' % ((N - 1) % 5), 'k', b'routed')
    assert ch.queue_declare('a-q%04d' % (N - 1), durable=True, passive=True).method.message_count == 1
    conn.close()


def test_import_whose_sync_fails_says_so(failio_built, release_bin, monkeypatch, tmp_path, broker_factory):
    trigger = tmp_path / 'fail-now'
    monkeypatch.setenv('LD_PRELOAD', failio_built)
    monkeypatch.setenv('FAILIO_TRIGGER', str(trigger))
    monkeypatch.setenv('FAILIO_OPS', 'fdatasync')
    monkeypatch.setenv('FAILIO_SUFFIX', '/definitions')
    monkeypatch.setenv('FAILIO_LOG', str(tmp_path / 'failio.log'))
    b = broker_factory(management=True)
    need_control(b)
    trigger.touch()
    status, text = post(b.mgmt_port, '/api/definitions', definitions('f'))
    os.unlink(trigger)
    assert status == 500, text
    assert json.loads(text)['reason'].startswith('the definitions could not be synced to disk')
    assert os.path.exists(tmp_path / 'failio.log')
    # the broker goes on: AMQP and a later import work
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    conn.channel().queue_declare('after', durable=True)
    conn.close()
    assert post(b.mgmt_port, '/api/definitions', definitions('g'))[0] == 204
