#!/usr/bin/python3
"""mgmt_fields.py - the HTTP API, field by field, against RabbitMQ's.

Makes the same objects on a warren of its own (bin/warren on free ports,
a temporary data directory, stopped by pid) and on a RabbitMQ node whose
management API is given (--rabbitmq-amqp, --rabbitmq-http): a durable queue
with two messages, one of them held unacked by a consumer with prefetch 1,
a direct exchange bound to it, the connection and channel that hold them.
After a statistics interval it asks both the same GETs and compares the
JSON field by field: every field path (nested objects joined with '.',
a list's items as '[]') that RabbitMQ returns and warren does not, and the
reverse.  Values are not compared (ids, times and rates differ by nature);
the tests in tests/http/ check the values that mean something.

  /usr/bin/python3 tools/mgmt_fields.py --out doc/management-fields.md
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pika

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
Q, X = 'fields-cmp-q', 'fields-cmp-x'
NAME = 'mgmt-fields'  # the connection's connection_name
OURS = set()          # its name on each broker

ENDPOINTS = [
    ('overview', '/api/overview', None),
    ('node', '/api/nodes', 'first'),
    ('whoami', '/api/whoami', None),
    ('queue (single)', '/api/queues/%2F/' + Q, None),
    ('queue (list item)', '/api/queues/%2F', ('name', Q)),
    ('exchange (single)', '/api/exchanges/%2F/' + X, None),
    ('exchange (list item)', '/api/exchanges/%2F', ('name', X)),
    ('binding', '/api/bindings/%2F/e/' + X + '/q/' + Q, 'first'),
    ('connection (list item)', '/api/connections', 'ours'),
    ('channel (list item)', '/api/channels', 'ours'),
    ('consumer', '/api/consumers/%2F', 'first'),
    ('user', '/api/users/guest', None),
    ('vhost', '/api/vhosts/%2F', None),
    ('permission', '/api/permissions/%2F/guest', None),
    ('definitions (top level)', '/api/definitions', 'top'),
    ('queues page', '/api/queues?page=1&page_size=100', 'top'),
    ('health check', '/api/health/checks/alarms', None),
    ('aliveness test', '/api/aliveness-test/%2F', None),
]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def get(http, path, method='GET', body=None):
    req = urllib.request.Request(http + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    if body is not None:
        req.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def paths(v, prefix=''):
    out = set()
    if isinstance(v, dict):
        for k, x in v.items():
            p = prefix + '.' + k if prefix else k
            out.add(p)
            out |= paths(x, p)
    elif isinstance(v, list):
        for x in v[:3]:
            out |= paths(x, prefix + '[]')
    return out


def topmost(missing):
    """The missing paths whose parent is not missing itself (a missing
    object's fields are not listed again), with RabbitMQ's `x_details`
    rate objects folded into a `x_details` mention."""
    out = []
    for p in sorted(missing):
        parent = p.rsplit('.', 1)[0] if '.' in p else None
        if parent is not None and parent in missing:
            continue
        if parent is not None and parent.endswith('[]') and parent[:-2] in missing:
            continue
        out.append(p)
    return out


def pick(doc, how):
    if how is None:
        return doc
    if how == 'first':
        return doc[0] if doc else {}
    if how == 'top':
        return {k: None for k in doc}
    if how == 'ours':  # this tool's connection, or a channel of it
        for item in doc:
            if (item.get('client_properties', {}).get('connection_name') == NAME
                    or item.get('connection_details', {}).get('name') in OURS):
                return item
        return {}
    key, want = how
    for item in doc:
        if item.get(key) == want:
            return item
    return {}


def setup(amqp_url):
    params = pika.URLParameters(amqp_url)
    params.client_properties = {'connection_name': NAME}
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    ch.queue_declare(Q, durable=True)
    ch.exchange_declare(X, 'direct', durable=True)
    ch.queue_bind(Q, X, 'k')
    ch.confirm_delivery()
    for body in (b'one', b'two'):
        ch.basic_publish(X, 'k', body, pika.BasicProperties(delivery_mode=2))
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(Q, lambda *a: None)
    conn.process_data_events(0.5)
    return conn, ch


def teardown(conn, ch):
    try:
        ch.queue_delete(Q)
        ch.exchange_delete(X)
        conn.close()
    except Exception:  # noqa: BLE001 - best effort on the way out
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--rabbitmq-amqp', default='amqp://guest:guest@127.0.0.1:5673/')
    ap.add_argument('--rabbitmq-http', default='http://127.0.0.1:15673')
    ap.add_argument('--binary', default=os.path.join(ROOT, 'bin', 'warren'))
    ap.add_argument('--out', help='write the markdown here too')
    a = ap.parse_args()

    data = tempfile.mkdtemp(prefix='warren-fields-')
    port, mport = free_port(), free_port()
    proc = subprocess.Popen([a.binary, '--bind', '127.0.0.1', '--port', str(port), '--management-port', str(mport),
                             '--prometheus-port', '0', '--data-dir', data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    held = []
    try:
        for _ in range(200):
            try:
                socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        brokers = {'rabbitmq': (a.rabbitmq_amqp, a.rabbitmq_http),
                   'warren': ('amqp://guest:guest@127.0.0.1:%d/' % port, 'http://127.0.0.1:%d' % mport)}
        for amqp, _http in brokers.values():
            held.append(setup(amqp))
        time.sleep(6)  # a statistics sample on both (RabbitMQ's is every 5 s)
        for conn, _ch in held:
            conn.process_data_events(0)
        for _amqp, http in brokers.values():
            OURS.update(c['name'] for c in get(http, '/api/connections')
                        if c.get('client_properties', {}).get('connection_name') == NAME)
        rows = []
        for title, path, how in ENDPOINTS:
            got = {}
            for name, (_amqp, http) in brokers.items():
                got[name] = paths(pick(get(http, path), how))
            r, w = got['rabbitmq'], got['warren']
            rows.append((title, path, r, w))
    finally:
        for conn, ch in held:
            teardown(conn, ch)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)

    lines = ['# The HTTP API field by field: warren and RabbitMQ 3.10', '',
             'Made by `tools/mgmt_fields.py` (its docstring says how): the same objects on both brokers, the same',
             'GETs, every JSON field path compared (values are not: ids, times and rates differ by nature).',
             '"Shared" counts the paths both return; the next columns list what one returns and the other',
             'does not (an object that is missing is listed, not its fields). [management.md](management.md)',
             'says why each difference is there.', '',
             '| endpoint | shared | RabbitMQ only | warren only |', '|---|---|---|---|']
    total_r = total_shared = 0
    for title, path, r, w in rows:
        shared = r & w
        total_r += len(r)
        total_shared += len(shared)
        only_r = topmost(r - w)
        only_w = topmost(w - r)
        lines.append('| %s `%s` | %d of %d | %s | %s |' % (
            title, path.replace('|', '\\|'), len(shared), len(r),
            ', '.join('`%s`' % p for p in only_r) or '-', ', '.join('`%s`' % p for p in only_w) or '-'))
    lines += ['', 'In all: warren returns %d of the %d field paths RabbitMQ returns for these objects (%.0f %%).'
              % (total_shared, total_r, 100.0 * total_shared / max(total_r, 1))]
    text = '\n'.join(lines) + '\n'
    sys.stdout.write(text)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
