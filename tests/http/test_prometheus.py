"""Issue 13, section 3: the Prometheus endpoint (--prometheus-port,
src/http/metrics.c).

The real thing: Debian's `prometheus` runs here with its own config
(scraping warren's free port every second), its own TSDB in the test's
temp dir and its own free port, and its query API must return what pika
did to warren.  The exposition text is checked line by line by a strict
parser written here (the grammar of the text format 0.0.4) and by
python3-prometheus-client's parser.

What RabbitMQ 3.10's rabbitmq_prometheus answers was read from the
reference node (curl http://127.0.0.1:15692/metrics and
/metrics/per-object): the names, TYPE before HELP, the HELP texts, the
labels (vhost="/",queue="q" per queue; protocol="amqp091" and
queue_type="rabbit_classic_queue" on the global counters), Content-Type
"text/plain; version=0.0.4", no login, 404/405 as the management API's.
"""
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pika
import pytest

from http_helpers import Api, free_port

BINARY = os.environ.get('WARREN_BIN', os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'bin', 'warren-asan'))
PROMETHEUS = '/usr/bin/prometheus'

# Every metric doc/management.md lists, and its type.
METRICS = {
    'rabbitmq_alarms_file_descriptor_limit': 'untyped',
    'rabbitmq_alarms_free_disk_space_watermark': 'untyped',
    'rabbitmq_alarms_memory_used_watermark': 'untyped',
    'rabbitmq_process_resident_memory_bytes': 'gauge',
    'rabbitmq_disk_space_available_bytes': 'gauge',
    'rabbitmq_resident_memory_limit_bytes': 'gauge',
    'rabbitmq_disk_space_available_limit_bytes': 'gauge',
    'rabbitmq_process_open_fds': 'gauge',
    'rabbitmq_process_max_fds': 'gauge',
    'rabbitmq_process_open_tcp_sockets': 'gauge',
    'rabbitmq_process_max_tcp_sockets': 'gauge',
    'rabbitmq_queue_messages_ready': 'gauge',
    'rabbitmq_queue_messages_unacked': 'gauge',
    'rabbitmq_queue_messages': 'gauge',
    'rabbitmq_queue_consumers': 'gauge',
    'rabbitmq_queue_messages_bytes': 'gauge',
    'rabbitmq_queue_messages_ready_bytes': 'gauge',
    'rabbitmq_queue_messages_unacked_bytes': 'gauge',
    'rabbitmq_queue_process_memory_bytes': 'gauge',
    'rabbitmq_queue_messages_published_total': 'counter',
    'warren_queue_messages_redelivered_total': 'counter',
    'warren_queue_oldest_ready_seconds': 'gauge',
    'warren_queue_oldest_unacked_seconds': 'gauge',
    'rabbitmq_connections': 'gauge',
    'rabbitmq_channels': 'gauge',
    'rabbitmq_consumers': 'gauge',
    'rabbitmq_queues': 'gauge',
    'rabbitmq_connections_opened_total': 'counter',
    'rabbitmq_connections_closed_total': 'counter',
    'rabbitmq_channels_opened_total': 'counter',
    'rabbitmq_channels_closed_total': 'counter',
    'rabbitmq_queues_declared_total': 'counter',
    'rabbitmq_queues_created_total': 'counter',
    'rabbitmq_queues_deleted_total': 'counter',
    'rabbitmq_build_info': 'untyped',
    'rabbitmq_identity_info': 'untyped',
    'rabbitmq_global_consumers': 'gauge',
    'rabbitmq_global_messages_received_total': 'counter',
    'rabbitmq_global_messages_received_confirm_total': 'counter',
    'rabbitmq_global_messages_routed_total': 'counter',
    'rabbitmq_global_messages_unroutable_dropped_total': 'counter',
    'rabbitmq_global_messages_unroutable_returned_total': 'counter',
    'rabbitmq_global_messages_confirmed_total': 'counter',
    'rabbitmq_global_messages_delivered_total': 'counter',
    'rabbitmq_global_messages_delivered_consume_manual_ack_total': 'counter',
    'rabbitmq_global_messages_delivered_consume_auto_ack_total': 'counter',
    'rabbitmq_global_messages_delivered_get_manual_ack_total': 'counter',
    'rabbitmq_global_messages_delivered_get_auto_ack_total': 'counter',
    'rabbitmq_global_messages_get_empty_total': 'counter',
    'rabbitmq_global_messages_redelivered_total': 'counter',
    'rabbitmq_global_messages_acknowledged_total': 'counter',
    'warren_store_bytes': 'gauge',
    'warren_store_fdatasync_seconds': 'histogram',
    'warren_confirm_latency_seconds': 'histogram',
}
QUEUE_METRICS = [m for m in METRICS if m.startswith(('rabbitmq_queue_', 'warren_queue_'))]


# ------------------------------------------------------ a strict parser

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
VALUE = r'(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)'
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(r'^(%s)(?:\{((?:%s=%s)(?:,%s=%s)*)?,?\})? (%s)(?: (-?\d+))?$'
                       % (NAME, LABEL, LABEL_VALUE, LABEL, LABEL_VALUE, VALUE))
PAIR_RE = re.compile(r'(%s)=(%s)' % (LABEL, LABEL_VALUE))
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {'n': '\n'}.get(m.group(1), m.group(1)), v[1:-1])


def parse_strict(text):
    """{family: {'type', 'help', 'samples': [(name, labels, value)]}}; fails
    on any line the text format 0.0.4 does not allow, a sample before its
    family's TYPE and HELP, a family declared twice or split up, a
    histogram whose buckets are not cumulative or do not end in +Inf."""
    assert text.endswith('\n'), 'the last line must end with a newline'
    fams, current = {}, None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        assert line, 'line %d is empty' % n
        if line.startswith('#'):
            m = re.match(r'^# (TYPE|HELP) (%s) (.*)$' % NAME, line)
            assert m, 'line %d: bad comment %r' % (n, line)
            kind, name, rest = m.groups()
            f = fams.setdefault(name, {'type': None, 'help': None, 'samples': []})
            assert not f['samples'], 'line %d: %s declared after its samples' % (n, name)
            if kind == 'TYPE':
                assert f['type'] is None and rest in TYPES, 'line %d: %r' % (n, line)
                f['type'] = rest
            else:
                assert f['help'] is None and rest, 'line %d: %r' % (n, line)
                f['help'] = rest
            current = name
            continue
        m = SAMPLE_RE.match(line)
        assert m, 'line %d does not parse: %r' % (n, line)
        name, labels, value = m.group(1), m.group(2), m.group(3)
        fam = current
        assert fam is not None, 'line %d: a sample before any TYPE' % n
        f = fams[fam]
        suffixes = {'histogram': ('_bucket', '_sum', '_count')}.get(f['type'], ('',))
        assert any(name == fam + s for s in suffixes), 'line %d: %s outside its family %s' % (n, name, fam)
        assert f['type'] and f['help'], 'line %d: %s has no TYPE or HELP before it' % (n, fam)
        pairs = PAIR_RE.findall(labels or '')
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), 'line %d: a label twice' % n
        f['samples'].append((name, {k: unescape(v) for k, v in pairs}, float(value)))
    for name, f in fams.items():
        assert f['type'] and f['help'], '%s lacks TYPE or HELP' % name
        if f['type'] == 'histogram':
            buckets = [(s[1]['le'], s[2]) for s in f['samples'] if s[0] == name + '_bucket']
            assert buckets and buckets[-1][0] == '+Inf', name
            bounds = [float(le) for le, _ in buckets]
            counts = [c for _, c in buckets]
            assert bounds == sorted(bounds) and counts == sorted(counts), name
            count = [s[2] for s in f['samples'] if s[0] == name + '_count']
            assert count == [counts[-1]], name
    return fams


def value(fams, name, **labels):
    fam = name if name in fams else re.sub(r'_(bucket|sum|count)$', '', name)
    found = [s[2] for s in fams[fam]['samples'] if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, fams[fam]['samples'])
    return found[0]


def scrape(port, path='/metrics'):
    with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=10) as r:
        assert r.status == 200
        assert r.headers['Content-Type'] == 'text/plain; version=0.0.4'
        return r.read().decode()


def check_with_client_parser(text):
    """python3-prometheus-client's parser reads it too, to the same values."""
    from prometheus_client.parser import text_string_to_metric_families
    names = {f.name: f for f in text_string_to_metric_families(text)}
    assert names, 'prometheus_client found nothing'
    return names


# ------------------------------------------------------------------ tests

def test_metrics_text_parses_and_counts_what_pika_did(broker_factory):
    b = broker_factory(prometheus=True)
    params = pika.URLParameters(b.url)
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    ch.confirm_delivery()
    odd = 'odd "name" \\ with\nnewline'
    ch.queue_declare('q1')
    ch.queue_declare(odd)
    for i in range(4):
        ch.basic_publish('', 'q1', b'12345')
    ch.basic_publish('', odd, b'x')
    ch.basic_publish('', 'no-such-queue', b'dropped')
    # one unacked (consumer, manual ack), one got and acked, one got no-ack
    m, _, _ = ch.basic_get('q1', auto_ack=False)
    ch.basic_ack(m.delivery_tag)
    ch.basic_get('q1', auto_ack=True)
    ch.basic_qos(prefetch_count=1)
    got = []
    ch.basic_consume('q1', lambda c, meth, p, body: got.append(meth.delivery_tag))
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        conn.process_data_events(0.1)
    assert got
    ch2 = conn.channel()
    ch2.basic_get('q1', auto_ack=True)  # the last ready one
    ch2.basic_get('q1', auto_ack=True)  # and nothing: get_empty

    text = scrape(b.prom_port)
    fams = parse_strict(text)
    assert {n: f['type'] for n, f in fams.items()} == METRICS
    check_with_client_parser(text)
    assert value(fams, 'rabbitmq_queue_messages_ready') == 1       # odd's
    assert value(fams, 'rabbitmq_queue_messages_unacked') == 1     # the consumer's
    assert value(fams, 'rabbitmq_queue_messages') == 2
    assert value(fams, 'rabbitmq_queue_consumers') == 1
    assert value(fams, 'rabbitmq_queues') == 2
    assert value(fams, 'rabbitmq_connections') == 1
    assert value(fams, 'rabbitmq_channels') == 2
    assert value(fams, 'rabbitmq_consumers') == 1
    assert value(fams, 'rabbitmq_queue_messages_published_total') == 5
    q = dict(protocol='amqp091', queue_type='rabbit_classic_queue')
    assert value(fams, 'rabbitmq_global_messages_received_total', protocol='amqp091') == 6
    assert value(fams, 'rabbitmq_global_messages_received_confirm_total', protocol='amqp091') == 6
    assert value(fams, 'rabbitmq_global_messages_routed_total', protocol='amqp091') == 5
    assert value(fams, 'rabbitmq_global_messages_unroutable_dropped_total', protocol='amqp091') == 1
    assert value(fams, 'rabbitmq_global_messages_unroutable_returned_total', protocol='amqp091') == 0
    assert value(fams, 'rabbitmq_global_messages_confirmed_total', protocol='amqp091') == 6
    assert value(fams, 'rabbitmq_global_messages_delivered_get_manual_ack_total', **q) == 1
    assert value(fams, 'rabbitmq_global_messages_delivered_get_auto_ack_total', **q) == 2
    assert value(fams, 'rabbitmq_global_messages_delivered_consume_manual_ack_total', **q) == 1
    assert value(fams, 'rabbitmq_global_messages_delivered_total', **q) == 4
    assert value(fams, 'rabbitmq_global_messages_get_empty_total', **q) == 1
    assert value(fams, 'rabbitmq_global_messages_acknowledged_total', **q) == 1
    assert value(fams, 'warren_confirm_latency_seconds_count') == 6
    assert value(fams, 'rabbitmq_build_info', rabbitmq_version='3.10.8') == 1
    ident = fams['rabbitmq_identity_info']['samples'][0][1]
    assert set(ident) == {'rabbitmq_node', 'rabbitmq_cluster', 'rabbitmq_cluster_permanent_id'}
    assert ident['rabbitmq_node'].startswith('warren@')
    assert value(fams, 'rabbitmq_process_resident_memory_bytes') > 1 << 20
    assert value(fams, 'rabbitmq_disk_space_available_bytes') > 0
    assert value(fams, 'rabbitmq_disk_space_available_limit_bytes') == 50000000
    assert value(fams, 'rabbitmq_alarms_memory_used_watermark') == 0
    assert value(fams, 'rabbitmq_process_open_tcp_sockets') == 1
    assert 0 < value(fams, 'rabbitmq_process_open_fds') < value(fams, 'rabbitmq_process_max_fds')
    # the oldest ready message (odd's) is older than the scrape was late
    assert value(fams, 'warren_queue_oldest_ready_seconds') > 0

    text = scrape(b.prom_port, '/metrics/per-object')
    fams = parse_strict(text)
    assert {n: f['type'] for n, f in fams.items()} == METRICS
    client = check_with_client_parser(text)
    for name in QUEUE_METRICS:
        assert sorted(s[1]['queue'] for s in fams[name]['samples']) == sorted(['q1', odd]), name
        assert all(s[1] == {'vhost': '/', 'queue': s[1]['queue']} for s in fams[name]['samples']), name
    assert value(fams, 'rabbitmq_queue_messages_ready', vhost='/', queue=odd) == 1
    assert value(fams, 'rabbitmq_queue_messages_ready', vhost='/', queue='q1') == 0
    assert value(fams, 'rabbitmq_queue_messages_unacked', vhost='/', queue='q1') == 1
    assert value(fams, 'rabbitmq_queue_messages_unacked_bytes', vhost='/', queue='q1') == 5
    assert value(fams, 'rabbitmq_queue_consumers', vhost='/', queue='q1') == 1
    assert value(fams, 'rabbitmq_queue_messages_published_total', vhost='/', queue='q1') == 4
    assert value(fams, 'warren_queue_oldest_unacked_seconds', vhost='/', queue='q1') >= 0
    assert value(fams, 'warren_queue_oldest_ready_seconds', vhost='/', queue='q1') == 0
    # the client library's parser reads the escaped name back the same
    ready = [s for s in client['rabbitmq_queue_messages_ready'].samples if s.labels['queue'] == odd]
    assert len(ready) == 1 and ready[0].value == 1
    conn.close()


def test_churn_counters(broker_factory):
    """Connections and channels opened and closed, queues declared (a
    redeclare too, a passive one not), created and deleted.  As the
    reference RabbitMQ counts them: a connection is opened once its
    connection.open is answered, and closed whenever its socket ends (a
    bare TCP connection too: the test's own wait for the port is one)."""
    b = broker_factory(prometheus=True)
    for i in range(3):
        conn = pika.BlockingConnection(pika.URLParameters(b.url))
        ch = conn.channel()
        conn.channel().close()
        ch.queue_declare('churn-%d' % i)
        ch.queue_declare('churn-%d' % i)
        ch.queue_declare('churn-%d' % i, passive=True)
        if i < 2:
            ch.queue_delete('churn-%d' % i)
        if i < 2:
            conn.close()
    fams = parse_strict(scrape(b.prom_port))
    assert value(fams, 'rabbitmq_connections_opened_total') == 3
    closed_before = value(fams, 'rabbitmq_connections_closed_total') - 2
    assert closed_before >= 0
    socket.create_connection(('127.0.0.1', b.port)).close()
    deadline = time.monotonic() + 10
    while value(fams, 'rabbitmq_connections_closed_total') != closed_before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
        fams = parse_strict(scrape(b.prom_port))
    assert value(fams, 'rabbitmq_connections_closed_total') == closed_before + 3
    assert value(fams, 'rabbitmq_connections_opened_total') == 3
    assert value(fams, 'rabbitmq_channels_opened_total') == 6
    assert value(fams, 'rabbitmq_channels_closed_total') == 3 + 2
    assert value(fams, 'rabbitmq_queues_declared_total') == 6
    assert value(fams, 'rabbitmq_queues_created_total') == 3
    assert value(fams, 'rabbitmq_queues_deleted_total') == 2
    assert value(fams, 'rabbitmq_queues') == 1
    conn.close()


def test_redeliveries_and_oldest_unacked_per_queue(broker_factory):
    b = broker_factory(prometheus=True)
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.queue_declare('rq')
    ch.basic_publish('', 'rq', b'a')
    m, _, _ = ch.basic_get('rq', auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, _, _ = ch.basic_get('rq', auto_ack=False)
    assert m.redelivered
    time.sleep(1.2)
    fams = parse_strict(scrape(b.prom_port, '/metrics/per-object'))
    assert value(fams, 'warren_queue_messages_redelivered_total', vhost='/', queue='rq') == 1
    assert value(fams, 'warren_queue_oldest_unacked_seconds', vhost='/', queue='rq') >= 1.0
    fams = parse_strict(scrape(b.prom_port))
    assert value(fams, 'warren_queue_oldest_unacked_seconds') >= 1.0
    assert value(fams, 'rabbitmq_global_messages_redelivered_total', protocol='amqp091',
                 queue_type='rabbit_classic_queue') == 1
    conn.close()


def test_fdatasync_and_confirm_latency_histograms(broker_factory):
    """Persistent messages to a durable queue, with confirms: the store's
    sync thread timed its fdatasyncs and every confirm was timed from its
    publish; a confirm waits for the sync, so it takes at least as long as
    the fastest fdatasync bucket says nothing about, and no longer than the
    test did."""
    b = broker_factory(prometheus=True)
    before = parse_strict(scrape(b.prom_port))
    assert value(before, 'warren_confirm_latency_seconds_count') == 0
    started = time.monotonic()
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    ch.confirm_delivery()
    ch.queue_declare('dq', durable=True)
    for i in range(20):
        ch.basic_publish('', 'dq', b'p' * 1000, pika.BasicProperties(delivery_mode=2))
    elapsed = time.monotonic() - started
    fams = parse_strict(scrape(b.prom_port))
    assert value(fams, 'warren_store_fdatasync_seconds_count') > value(before, 'warren_store_fdatasync_seconds_count')
    assert value(fams, 'warren_store_fdatasync_seconds_sum') > 0
    assert value(fams, 'warren_confirm_latency_seconds_count') == 20
    assert 0 < value(fams, 'warren_confirm_latency_seconds_sum') < elapsed
    assert value(fams, 'warren_confirm_latency_seconds_bucket', le='+Inf') == 20
    assert value(fams, 'warren_store_bytes') > 20 * 1000
    assert value(fams, 'rabbitmq_queue_messages_ready') == 20
    conn.close()


def test_alarms_and_limits(broker_factory):
    """The alarm families are 1 while the alarm is on (a disk limit above
    any free space, a memory limit of 1 byte: both on from the start),
    and the limits are the options."""
    b = broker_factory('--disk-free-limit', str(10 ** 18), '--memory-limit', '1', prometheus=True)
    deadline = time.monotonic() + 10
    while True:
        fams = parse_strict(scrape(b.prom_port))
        on = (value(fams, 'rabbitmq_alarms_free_disk_space_watermark'),
              value(fams, 'rabbitmq_alarms_memory_used_watermark'))
        if on == (1, 1) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert on == (1, 1)
    assert value(fams, 'rabbitmq_disk_space_available_limit_bytes') == 10 ** 18
    assert value(fams, 'rabbitmq_resident_memory_limit_bytes') == 1
    assert value(fams, 'rabbitmq_alarms_file_descriptor_limit') == 0


def test_no_login_and_rabbitmq_errors(broker_factory):
    b = broker_factory(prometheus=True)
    port = b.prom_port
    req = urllib.request.Request('http://127.0.0.1:%d/metrics' % port, method='POST', data=b'')
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 405 and e.value.headers['Allow'] == 'HEAD, GET, OPTIONS'
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen('http://127.0.0.1:%d/api/overview' % port, timeout=10)
    assert e.value.code == 404
    assert json.loads(e.value.read()) == {'error': 'Object Not Found', 'reason': 'Not Found'}
    # and AMQP still works
    pika.BlockingConnection(pika.URLParameters(b.url)).close()


def test_overview_lists_the_prometheus_listener(broker_factory):
    """As RabbitMQ's /api/overview lists its plugin's: protocol
    "http/prometheus" on its port."""
    b = broker_factory(management=True, prometheus=True)
    listeners = Api(b.host, b.mgmt_port).get('/api/overview').json()['listeners']
    prom = [entry for entry in listeners if entry['protocol'] == 'http/prometheus']
    assert prom and all(entry['port'] == b.prom_port for entry in prom), listeners
    assert '127.0.0.1' in {entry['ip_address'] for entry in prom}


# --------------------------------------------------------------- options

def start(tmp_path, args, name='broker'):
    log = tmp_path / (name + '.log')
    port = free_port()
    with open(log, 'w') as f:
        p = subprocess.Popen([BINARY, '--bind', '127.0.0.1', '--port', str(port), '--management-port', '0',
                              '--data-dir', str(tmp_path / (name + '-data'))] + args,
                             stdout=f, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while ' ready (data in ' not in log.read_text():
        assert p.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    p.amqp_port = port
    return p, log


def stop(p, log):
    p.terminate()
    assert p.wait(20) == 0, log.read_text()
    text = log.read_text()
    assert 'ERROR: AddressSanitizer' not in text and 'runtime error' not in text, text


def test_port_0_turns_it_off_and_config_file_keys(tmp_path):
    p, log = start(tmp_path, ['--prometheus-port', '0'], 'off')
    try:
        assert 'Prometheus on' not in log.read_text()
    finally:
        stop(p, log)
    port = free_port()
    cfg = tmp_path / 'warren.conf'
    cfg.write_text('prometheus-port %d\nprometheus-bind 127.0.0.1\n' % port)
    p, log = start(tmp_path, ['--config', str(cfg)], 'cfg')
    try:
        assert 'Prometheus on 127.0.0.1:%d' % port in log.read_text()
        parse_strict(scrape(port))
        with pytest.raises(OSError):
            socket.create_connection(('::1', port), timeout=1).close()
    finally:
        stop(p, log)


def test_port_in_use_fails_the_start_when_asked_for(tmp_path):
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([BINARY, '--bind', '127.0.0.1', '--port', str(free_port()), '--management-port', '0',
                            '--data-dir', str(tmp_path / 'd'), '--prometheus-port', str(port)],
                           capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and 'cannot listen on 127.0.0.1 port %d' % port in r.stderr, r.stderr
    r = subprocess.run([BINARY, '--prometheus-port', '70000'], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and '--prometheus-port: expected a number from 0 to 65535' in r.stderr


def test_default_port_15692_taken_only_warns(tmp_path):
    """The default port: 15692 on loopback, or, when something holds it (a
    RabbitMQ with its prometheus plugin, another warren), a warning and
    AMQP served without it.  The test holds 127.0.0.1:15692 itself when it
    is free, so it never depends on who has it."""
    busy = socket.socket()
    try:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(('127.0.0.1', 15692))
        busy.listen()
    except OSError:
        busy.close()
        busy = None  # held by someone else: just as good
    try:
        p, log = start(tmp_path, [], 'default')
        try:
            text = log.read_text()
            assert 'Prometheus off: its default port 15692 cannot be bound (give --prometheus-port)' in text, text
            pika.BlockingConnection(pika.ConnectionParameters('127.0.0.1', p.amqp_port)).close()
        finally:
            stop(p, log)
    finally:
        if busy:
            busy.close()


# ------------------------------------------------------ a real Prometheus

class Prometheus:
    """Debian's prometheus on a free port, scraping warren every second:
    the aggregated /metrics as job "warren" and /metrics/per-object as job
    "warren-per-object"; its TSDB in the test's temp dir; stopped by pid."""

    def __init__(self, tmp_path, target_port):
        self.port = free_port()
        self.dir = tmp_path / 'prometheus'
        self.dir.mkdir()
        cfg = self.dir / 'prometheus.yml'
        cfg.write_text(
            'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
            'scrape_configs:\n'
            '  - job_name: warren\n    metrics_path: /metrics\n'
            '    static_configs:\n      - targets: ["127.0.0.1:%d"]\n'
            '  - job_name: warren-per-object\n    metrics_path: /metrics/per-object\n'
            '    static_configs:\n      - targets: ["127.0.0.1:%d"]\n' % (target_port, target_port))
        self.log = self.dir / 'prometheus.log'
        with open(self.log, 'w') as f:
            self.proc = subprocess.Popen(
                [PROMETHEUS, '--config.file', str(cfg), '--storage.tsdb.path', str(self.dir / 'data'),
                 '--web.listen-address', '127.0.0.1:%d' % self.port, '--log.level', 'info'],
                stdout=f, stderr=subprocess.STDOUT)

    def api(self, path, **params):
        url = 'http://127.0.0.1:%d%s?%s' % (self.port, path, urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.loads(r.read())
        assert body['status'] == 'success', body
        return body['data']

    def query(self, q):
        """The values of an instant vector query, as {frozenset(labels): float}."""
        data = self.api('/api/v1/query', query=q)
        return {frozenset(r['metric'].items()): float(r['value'][1]) for r in data['result']}

    def wait_for(self, q, want, timeout=30):
        """Until the query's single value equals want (the last answer is in
        the failure)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                res = self.query(q)
            except OSError as e:  # not listening yet
                last = e
            else:
                last = res
                if len(res) == 1 and math.isclose(list(res.values())[0], want):
                    return
            time.sleep(0.25)
        raise AssertionError('%s never became %s; last answer %r\n%s' % (q, want, last,
                                                                         self.log.read_text()[-3000:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def alarm_seconds():
    return 120


def test_real_prometheus_scrapes_warren(broker_factory, tmp_path):
    assert shutil.which(PROMETHEUS), 'Debian package prometheus is missing (scripts/install-deps.sh installs it)'
    b = broker_factory(prometheus=True)
    prom = Prometheus(tmp_path, b.prom_port)
    try:
        conn = pika.BlockingConnection(pika.URLParameters(b.url))
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare('q')
        for i in range(7):
            ch.basic_publish('', 'q', b'hello')
        prom.wait_for('rabbitmq_queue_messages_ready{job="warren-per-object",vhost="/",queue="q"}', 7)
        prom.wait_for('rabbitmq_queue_messages_ready{job="warren"}', 7)
        # a consumer takes two and holds them
        ch.basic_qos(prefetch_count=2)
        held = []
        tag = ch.basic_consume('q', lambda c, m, p, body: held.append(m.delivery_tag))
        deadline = time.monotonic() + 10
        while len(held) < 2 and time.monotonic() < deadline:
            conn.process_data_events(0.1)
        assert len(held) == 2
        prom.wait_for('rabbitmq_queue_messages_ready{job="warren-per-object",queue="q"}', 5)
        prom.wait_for('rabbitmq_queue_messages_unacked{job="warren-per-object",queue="q"}', 2)
        prom.wait_for('rabbitmq_queue_consumers{job="warren-per-object",queue="q"}', 1)
        prom.wait_for('rabbitmq_connections{job="warren"}', 1)
        prom.wait_for('rabbitmq_global_messages_confirmed_total{job="warren",protocol="amqp091"}', 7)
        prom.wait_for('warren_confirm_latency_seconds_count{job="warren"}', 7)
        # a dashboard's join: the identity labels onto a metric
        prom.wait_for('rabbitmq_queues{job="warren"} * on(instance) group_left(rabbitmq_cluster, rabbitmq_node) '
                      'rabbitmq_identity_info{job="warren"}', 1)
        # a histogram Prometheus can take a quantile of
        res = prom.query('histogram_quantile(0.5, warren_confirm_latency_seconds_bucket{job="warren"})')
        assert len(res) == 1 and 0 <= list(res.values())[0] < 10, res
        ch.basic_cancel(tag)  # so that no more come once these are acked
        ch.basic_ack(held[-1], multiple=True)
        prom.wait_for('rabbitmq_queue_messages_unacked{job="warren-per-object",queue="q"}', 0)
        prom.wait_for('rabbitmq_queue_messages_ready{job="warren-per-object",queue="q"}', 5)
        prom.wait_for('rabbitmq_global_messages_acknowledged_total{job="warren"}', 2)
        # both targets healthy, and the samples of every scrape accepted
        targets = prom.api('/api/v1/targets')['activeTargets']
        assert sorted(t['labels']['job'] for t in targets) == ['warren', 'warren-per-object']
        assert all(t['health'] == 'up' and not t['lastError'] for t in targets), targets
        conn.close()
    finally:
        prom.stop()


def test_per_object_is_streamed_in_slices_and_consistent(broker_factory):
    """/metrics/per-object is written as the client reads it (chunked, not
    built whole in one loop turn): while a slow reader holds it half-read,
    AMQP clients are served and queues come and go; every family then lists
    the same queues, each queue once, with the values read for it."""
    b = broker_factory(prometheus=True)
    conn = pika.BlockingConnection(pika.URLParameters(b.url))
    ch = conn.channel()
    n = 1000
    for i in range(n):
        ch.queue_declare('po-%05d' % i)
    ch.basic_publish('', 'po-00007', b'x')
    ch.basic_publish('', 'po-00999', b'y')
    ch.basic_publish('', 'po-00999', b'y')
    s = socket.create_connection(('127.0.0.1', b.prom_port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b'GET /metrics/per-object HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    head = b''
    while b'\r\n\r\n' not in head:
        head += s.recv(1024)
    headers, _, body = head.partition(b'\r\n\r\n')
    assert b' 200 ' in headers.split(b'\r\n')[0]
    assert b'transfer-encoding: chunked' in headers.lower(), headers
    assert b'content-type: text/plain; version=0.0.4' in headers.lower()
    # half-read: the broker still serves AMQP, and queues are deleted and made
    ch.queue_declare('po-late')
    for i in range(n - 10, n - 1):
        ch.queue_delete('po-%05d' % i)
    assert ch.queue_declare('po-00007', passive=True).method.message_count == 1
    while True:
        piece = s.recv(65536)
        if not piece:
            break
        body += piece
    s.close()
    # undo the chunked encoding
    text, rest = b'', body
    while True:
        size_line, _, rest = rest.partition(b'\r\n')
        size = int(size_line.split(b';')[0], 16)
        if size == 0:
            break
        text += rest[:size]
        rest = rest[size + 2:]
    fams = parse_strict(text.decode())
    sets = {}
    for m in QUEUE_METRICS:
        names = [labels['queue'] for (_n, labels, _v) in fams[m]['samples']]
        assert len(names) == len(set(names)), m
        sets[m] = set(names)
    first = sets[QUEUE_METRICS[0]]
    assert all(v == first for v in sets.values())
    assert 'po-00000' in first and 'po-00007' in first and len(first) >= n - 9
    assert value(fams, 'rabbitmq_queue_messages_ready', vhost='/', queue='po-00007') == 1
    assert 'rabbitmq_connections' in fams and 'warren_confirm_latency_seconds' in fams
    fams2 = parse_strict(scrape(b.prom_port, '/metrics/per-object'))
    names2 = {labels['queue'] for (_n, labels, _v) in fams2['rabbitmq_queue_messages']['samples']}
    assert 'po-late' in names2 and 'po-00995' not in names2 and len(names2) == n - 9 + 1
    conn.close()
