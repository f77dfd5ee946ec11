"""warrenctl (tools/warrenctl/, issue 13 section 4): rabbitmqctl's verbs over
the HTTP API.

The expected texts, columns and exit codes are rabbitmqctl 3.10.8's, taken
on the reference node (`rabbitmqctl -n ref@localhost list_queues name
messages`, `-q`, `-s`, `--formatter json`, and each verb's errors): the
banner lines ("Listing users ...") on stdout unless -q or -s, a header line
only when there are rows, tab-separated cells, `[administrator, monitoring]`
for tags and `[{"k",v}]` for arguments; JSON as "[", one object a line,
"]".  Exit codes as rabbitmqctl's (64 usage, 65 no such queue/vhost,
67 no such user, 69 unavailable, 70 already exists); 77 (EX_NOPERM) for
credentials the broker refuses, which rabbitmqctl never meets (it logs in
with the Erlang cookie).

Each test runs against a warren with its HTTP API on (broker_factory,
management=True), or with WARREN_TEST_URL set against that RabbitMQ's
management API (the AMQP port + 10000, so 5673 -> 15673, or
WARREN_TEST_MGMT_URL): warrenctl must work against RabbitMQ too.  With
WARREN_TEST_RABBITMQCTL as well (e.g. "rabbitmqctl -n ref@localhost"),
its output is compared with rabbitmqctl's on the same node.
WARRENCTL_BIN runs another build (e.g. one with -fsanitize=address).
"""
import json
import os
import subprocess
import time
import urllib.parse
import uuid

import pika
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WARRENCTL = os.environ.get('WARRENCTL_BIN', os.path.join(ROOT, 'bin', 'warrenctl'))
EXTERNAL = os.environ.get('WARREN_TEST_URL')


def mgmt_url_of(broker):
    if broker.external:
        if os.environ.get('WARREN_TEST_MGMT_URL'):
            return os.environ['WARREN_TEST_MGMT_URL']
        u = urllib.parse.urlparse(broker.external)
        return 'http://%s:%d' % (u.hostname, (u.port or 5672) + 10000)
    return 'http://127.0.0.1:%d' % broker.mgmt_port


class Ctl:
    def __init__(self, url, home):
        self.url = url
        self.home = str(home)

    def run(self, *args, url=True, input=None, env=None):
        cmd = [WARRENCTL] + (['--url', self.url] if url else []) + list(args)
        e = dict(os.environ)
        e['HOME'] = self.home  # no ~/.warrenctl of the machine's
        e.update(env or {})
        return subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=30, env=e)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
        return r.stdout


@pytest.fixture
def target(broker_factory, tmp_path):
    b = broker_factory(management=True)
    home = tmp_path / 'home'
    home.mkdir()
    return b, Ctl(mgmt_url_of(b), home)


@pytest.fixture
def ctl(target):
    return target[1]


def uname(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:10])


def amqp(broker):
    return pika.BlockingConnection(pika.URLParameters(broker.url))


def declare_with_messages(broker, name, n, durable=False):
    c = amqp(broker)
    ch = c.channel()
    ch.queue_declare(name, durable=durable)
    for i in range(n):
        ch.basic_publish('', name, b'm%d' % i)
    c.close()


def ready_count(broker, name):
    c = amqp(broker)
    try:
        return c.channel().queue_declare(name, passive=True).method.message_count
    finally:
        c.close()


def queue_exists(broker, name):
    c = amqp(broker)
    try:
        c.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404
        return False
    finally:
        if c.is_open:
            c.close()


def delete_queue(broker, name):
    c = amqp(broker)
    c.channel().queue_delete(name)
    c.close()


# ---- against warren now (and RabbitMQ with WARREN_TEST_URL) ----

def test_list_users_prints_rabbitmqctls_table_and_json(ctl):
    assert ctl.ok('list_users') == 'Listing users ...\nuser\ttags\nguest\t[administrator]\n'
    assert ctl.ok('-q', 'list_users') == 'user\ttags\nguest\t[administrator]\n'
    assert ctl.ok('list_users', '--silent') == 'guest\t[administrator]\n'
    assert ctl.ok('list_users', '--no-table-headers', '-q') == 'guest\t[administrator]\n'
    # rabbitmqctl's JSON: no banner, one object a line
    out = ctl.ok('list_users', '--formatter', 'json')
    assert out == '[\n{"user":"guest","tags":["administrator"]}\n]\n'
    assert json.loads(out) == [{'user': 'guest', 'tags': ['administrator']}]


def test_list_vhosts(ctl):
    assert ctl.ok('list_vhosts') == 'Listing vhosts ...\nname\n/\n'
    assert json.loads(ctl.ok('--formatter=json', 'list_vhosts')) == [{'name': '/'}]


def test_status_names_the_node_and_its_totals(target):
    b, ctl = target
    out = ctl.ok('status')
    assert out.startswith('Status of node ')
    assert 'RabbitMQ version: 3.10.8' in out
    assert '\nDisk alarm: false\n' in out
    assert '\nqueues: ' in out and '\nconnections: ' in out
    doc = json.loads(ctl.ok('status', '--formatter', 'json'))
    assert doc['overview']['node'] == doc['node']['name']
    assert doc['overview']['rabbitmq_version'] == '3.10.8'


def test_purge_queue_empties_it(target):
    b, ctl = target
    q = uname('ctl-purge')
    declare_with_messages(b, q, 3)
    try:
        assert ready_count(b, q) == 3
        out = ctl.ok('purge_queue', q)
        assert out == "Purging queue '%s' in vhost '/' ...\n" % q
        assert ready_count(b, q) == 0
    finally:
        delete_queue(b, q)


def test_purge_queue_that_does_not_exist_names_it(ctl):
    q = uname('ctl-none')
    r = ctl.run('-q', 'purge_queue', q)
    assert r.returncode == 65, r
    assert r.stderr == "Error: Queue '%s' in vhost '/' does not exist\n" % q


def test_a_missing_vhost_is_named(ctl):
    r = ctl.run('purge_queue', '-p', 'no-such-vhost', 'q')
    assert r.returncode == 65, r
    assert "Virtual host 'no-such-vhost' does not exist" in r.stderr


def test_delete_queue_and_its_conditions(target):
    b, ctl = target
    q = uname('ctl-del')
    declare_with_messages(b, q, 2)
    try:
        # --if-empty on a queue with messages: refused, the queue stays
        r = ctl.run('delete_queue', q, '--if-empty')
        assert r.returncode == 65, r
        assert r.stdout.startswith("Deleting queue '%s' on vhost '/' if queue is empty ...\n" % q)
        assert 'not empty' in r.stderr
        assert ready_count(b, q) == 2
        # after the verb -u is rabbitmqctl's --if-unused (before it, the user):
        # no consumers, so it goes
        out = ctl.ok('-u', 'guest', 'delete_queue', q, '-u')
        assert out.startswith("Deleting queue '%s' on vhost '/' if queue is unused ...\n" % q)
        assert 'Queue was successfully deleted' in out
        assert not queue_exists(b, q)
    finally:
        if queue_exists(b, q):
            delete_queue(b, q)
    r = ctl.run('delete_queue', q)
    assert r.returncode == 65 and "Queue '%s' in vhost '/' does not exist" % q in r.stderr, r


def test_delete_queue_if_unused_keeps_a_consumed_queue(target):
    b, ctl = target
    q = uname('ctl-used')
    c = amqp(b)
    ch = c.channel()
    ch.queue_declare(q)
    ch.basic_consume(q, lambda *a: None)
    try:
        r = ctl.run('delete_queue', '--if-unused', q)
        assert r.returncode == 65, r
        assert 'in use' in r.stderr
        assert queue_exists(b, q)
    finally:
        ch.queue_delete(q)
        c.close()


def test_export_and_import_definitions(target, tmp_path):
    b, ctl = target
    q = uname('ctl-defs')
    path = str(tmp_path / 'defs.json')
    out = ctl.ok('export_definitions', path)
    assert out == 'Exporting definitions in JSON to a file at "%s" ...\n' % path
    with open(path) as f:
        defs = json.load(f)
    assert {'users', 'vhosts', 'permissions', 'queues', 'exchanges', 'bindings'} <= set(defs)
    # "-": to standard output, nothing else on it
    assert json.loads(ctl.ok('export_definitions', '-'))['rabbitmq_version'] == defs['rabbitmq_version']

    defs_in = {'queues': [{'name': q, 'vhost': '/', 'durable': True, 'auto_delete': False, 'arguments': {}}]}
    src = tmp_path / 'in.json'
    src.write_text(json.dumps(defs_in))
    try:
        out = ctl.ok('import_definitions', str(src))
        assert out.startswith('Importing definitions in JSON from a file at "%s" ...\n' % src)
        assert queue_exists(b, q)
        delete_queue(b, q)
        ctl.ok('import_definitions', '-', input=json.dumps(defs_in))
        assert queue_exists(b, q)
    finally:
        if queue_exists(b, q):
            delete_queue(b, q)


def test_import_of_a_file_that_is_not_json_says_where_and_sends_nothing(ctl, tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"queues": [\n  {"name": }\n]}')
    r = ctl.run('import_definitions', str(bad))
    assert r.returncode == 65, r
    assert 'is not JSON' in r.stderr and 'line 2' in r.stderr
    r = ctl.run('import_definitions', str(tmp_path / 'missing.json'))
    assert r.returncode == 66 and 'cannot read' in r.stderr, r


def test_export_to_a_directory_that_does_not_exist_fails_and_writes_nothing(ctl, tmp_path):
    r = ctl.run('export_definitions', str(tmp_path / 'no' / 'defs.json'))
    assert r.returncode == 74, r
    assert not (tmp_path / 'no').exists()


def test_broker_down_exits_69_with_a_clear_message(ctl):
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]   # bound, not listening: connection refused
        r = ctl.run('--url', 'http://127.0.0.1:%d' % port, 'list_users', url=False)
    assert r.returncode == 69, r
    assert r.stderr.startswith("Error: unable to reach the broker's HTTP API at http://127.0.0.1:%d" % port)
    assert 'Connection refused' in r.stderr or "Couldn't connect" in r.stderr


def test_a_broker_that_does_not_answer_times_out_with_75(ctl):
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        s.listen(1)       # connects, never answers
        r = ctl.run('--url', 'http://127.0.0.1:%d' % s.getsockname()[1], '-t', '1', 'list_users', url=False)
    assert r.returncode == 75, r
    assert 'did not answer within 1 seconds' in r.stderr


def test_refused_credentials_exit_77(ctl):
    r = ctl.run('--password', 'wrong', 'list_users')
    assert r.returncode == 77, r
    assert "refused list_users for user 'guest'" in r.stderr and 'Login failed' in r.stderr
    r = ctl.run('-u', 'nobody-here', '--password', 'x', 'list_vhosts')
    assert r.returncode == 77, r


def test_config_file_and_precedence(ctl, tmp_path):
    # ~/.warrenctl gives url and credentials...
    home = tmp_path / 'home'
    (home / '.warrenctl').write_text('# warrenctl settings\nurl %s\nusername guest\npassword wrong\n' % ctl.url)
    r = ctl.run('list_users', url=False)
    assert r.returncode == 77, r            # the file's (wrong) password is used
    # ...and the command line wins over it
    assert 'guest' in ctl.run('--password', 'guest', 'list_users', url=False).stdout
    # --config names another file; key = value works too
    other = tmp_path / 'other.conf'
    other.write_text('url = %s\npassword = guest\n' % ctl.url)
    assert ctl.ok('--config', str(other), '-q', 'list_vhosts', url=False) == 'name\n/\n'
    # a wrong file is refused, naming the line
    other.write_text('uri http://x\n')
    r = ctl.run('--config', str(other), 'list_vhosts', url=False)
    assert r.returncode == 78 and "other.conf:1: unknown setting 'uri'" in r.stderr, r
    r = ctl.run('--config', str(tmp_path / 'none.conf'), 'list_vhosts', url=False)
    assert r.returncode == 78, r


def test_usage_errors_exit_64(ctl):
    r = ctl.run('no_such_verb')
    assert r.returncode == 64 and "unknown verb 'no_such_verb'" in r.stderr, r
    r = ctl.run('purge_queue')
    assert r.returncode == 64 and 'Usage: warrenctl' in r.stderr and 'purge_queue [-p VHOST] QUEUE' in r.stderr, r
    r = ctl.run('list_queues', 'name', 'nope')
    assert r.returncode == 64, r
    assert 'Info key(s) nope are not supported' in r.stderr
    r = ctl.run('list_users', 'extra')
    assert r.returncode == 64, r
    r = ctl.run('--formatter', 'yaml', 'list_users')
    assert r.returncode == 64, r


def test_help_per_verb_and_overall(ctl):
    out = ctl.ok('delete_queue', '--help')
    assert out.startswith('Usage: warrenctl [global options] delete_queue [-p VHOST] QUEUE [--if-empty|-e] [--if-unused|-u]\n')
    assert 'Exit codes:' in out
    assert 'set_permissions [-p VHOST] USER CONFIGURE WRITE READ' in ctl.ok('help', 'set_permissions')
    out = ctl.ok('--help')
    for verb in ('status', 'list_queues', 'list_exchanges', 'list_bindings', 'list_connections', 'list_channels',
                 'list_consumers', 'purge_queue', 'delete_queue', 'close_connection', 'add_user', 'delete_user',
                 'change_password', 'set_user_tags', 'list_users', 'add_vhost', 'delete_vhost', 'list_vhosts',
                 'set_permissions', 'list_permissions', 'export_definitions', 'import_definitions', 'browse'):
        assert '\n  %s' % verb in out, verb


# ---- warrenctl's own side, against a canned HTTP API ----
#
# A small server on http.server that answers from a table and records
# what it was asked: paging, and the requests' exact form.

class FakeApi:
    def __init__(self):
        import http.server
        import threading
        self.routes = {}       # (method, path with query) -> (status, body)
        self.requests = []     # (method, path, headers, body)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n).decode() if n else ''
                fake.requests.append((self.command, self.path, dict(self.headers), body))
                status, out = fake.routes.get((self.command, self.path), (404, {'error': 'Object Not Found',
                                                                                 'reason': 'Not Found'}))
                data = json.dumps(out).encode() if out is not None else b''
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            do_GET = do_PUT = do_DELETE = do_POST = answer

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake(tmp_path):
    f = FakeApi()
    home = tmp_path / 'home'
    home.mkdir(exist_ok=True)
    f.ctl = Ctl(f.url, home)
    yield f
    f.close()


def test_list_queues_reads_every_page(fake):
    names = ['q%04d' % i for i in range(1003)]
    for page in (1, 2, 3):
        items = [{'name': n, 'messages': i} for i, n in enumerate(names) if (i // 500) + 1 == page]
        fake.routes[('GET', '/api/queues/%2F?page={}&page_size=500'.format(page))] = (
            200, {'items': items, 'page': page, 'page_count': 3, 'page_size': 500, 'item_count': len(items),
                  'filtered_count': 1003, 'total_count': 1003})
    out = fake.ctl.ok('-q', 'list_queues').splitlines()
    assert out[0] == 'name\tmessages'
    assert out[1:] == ['%s\t%d' % (n, i) for i, n in enumerate(names)]
    rows = json.loads(fake.ctl.ok('list_queues', '--formatter', 'json'))
    assert [r['name'] for r in rows] == names
    # a broker that answers a plain list is asked once
    fake.requests.clear()
    fake.routes[('GET', '/api/exchanges/%2F?page=1&page_size=500')] = (200, [{'name': 'x', 'type': 'topic'}])
    assert fake.ctl.ok('-q', 'list_exchanges') == 'name\ttype\nx\ttopic\n'
    assert len(fake.requests) == 1


def test_requests_have_rabbitmqs_form(fake):
    """Checked against RabbitMQ 3.10's management API: each verb's method,
    path (the vhost "/" as %2F) and body."""
    fake.routes[('DELETE', '/api/connections/127.0.0.1%3A5000%20-%3E%20127.0.0.1%3A5672')] = (204, None)
    fake.ctl.ok('close_connection', '127.0.0.1:5000 -> 127.0.0.1:5672', 'maintenance\nnow')
    method, path, headers, body = fake.requests[-1]
    assert headers['X-Reason'] == 'maintenance now'   # one header line, whatever the reason holds

    user = {'name': 'bob', 'password_hash': 'HASH', 'hashing_algorithm': 'rabbit_password_hashing_sha256',
            'tags': ['management'], 'limits': {}}
    fake.routes[('GET', '/api/users/bob')] = (200, user)
    fake.routes[('PUT', '/api/users/bob')] = (204, None)
    fake.ctl.ok('set_user_tags', 'bob', 'monitoring', 'policymaker')
    assert json.loads(fake.requests[-1][3]) == {'tags': 'monitoring,policymaker', 'password_hash': 'HASH',
                                                'hashing_algorithm': 'rabbit_password_hashing_sha256'}
    # a broker that does not show the hash: refused, rather than the password lost
    fake.routes[('GET', '/api/users/ann')] = (200, {'name': 'ann', 'tags': []})
    r = fake.ctl.run('set_user_tags', 'ann', 'management')
    assert r.returncode == 69 and 'without losing its password' in r.stderr, r
    assert fake.requests[-1][0] == 'GET'
    fake.ctl.ok('change_password', 'bob', 'new')
    assert json.loads(fake.requests[-1][3]) == {'password': 'new', 'tags': 'management'}

    fake.routes[('PUT', '/api/permissions/v%2F1/bob')] = (204, None)
    fake.ctl.ok('set_permissions', '-p', 'v/1', 'bob', '^q', '', '.*')
    assert fake.requests[-1][:2] == ('PUT', '/api/permissions/v%2F1/bob')
    assert json.loads(fake.requests[-1][3]) == {'configure': '^q', 'write': '', 'read': '.*'}

    fake.routes[('GET', '/api/queues/%2F/a%20b')] = (200, {'name': 'a b', 'messages_ready': 7})
    fake.routes[('DELETE', '/api/queues/%2F/a%20b?if-empty=true&if-unused=true')] = (204, None)
    out = fake.ctl.ok('delete_queue', 'a b', '-e', '-u')
    assert out.endswith('Queue was successfully deleted with 7 ready messages\n')


def test_browse_shows_messages_without_taking_them(fake):
    msgs = [{'payload': 'hello', 'payload_bytes': 5, 'payload_encoding': 'string', 'redelivered': False,
             'exchange': '', 'routing_key': 'tasks', 'properties': {'delivery_mode': 2}},
            {'payload': 'again', 'payload_bytes': 5, 'payload_encoding': 'string', 'redelivered': True,
             'exchange': 'x', 'routing_key': 'tasks', 'properties': {}}]
    fake.routes[('GET', '/api/queues/%2F/tasks/messages?state=ready&count=10')] = (200, msgs)
    out = fake.ctl.ok('browse', 'tasks')
    assert out == ("Listing ready messages of queue 'tasks' in vhost '/' ...\n"
                   'redelivered\texchange\trouting_key\tpayload_bytes\tpayload\n'
                   'false\t\ttasks\t5\thello\n'
                   'true\tx\ttasks\t5\tagain\n')
    fake.routes[('GET', '/api/queues/%2F/tasks/messages?state=unacked&count=2')] = (200, msgs[:1])
    rows = json.loads(fake.ctl.ok('browse', 'tasks', '--unacked', '--count', '2', 'payload', 'routing_key',
                                  '--formatter', 'json'))
    assert rows == [{'payload': 'hello', 'routing_key': 'tasks'}]
    # not a browse the broker has: the queue exists, the endpoint does not
    fake.routes[('GET', '/api/queues/%2F/q')] = (200, {'name': 'q'})
    fake.routes[('GET', '/api/queues/%2F/q/messages?state=ready&count=10')] = (400, None)
    r = fake.ctl.run('browse', 'q')
    assert r.returncode == 69 and 'no message browse endpoint' in r.stderr, r



# ---- listings, connections, channels: against warren and RabbitMQ ----

def poll(fn, seconds=15):
    """RabbitMQ's listings lag (stats are emitted every 5 s)."""
    deadline = time.monotonic() + seconds
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.5)

def test_list_queues_columns_and_arguments(target):
    b, ctl = target
    q = uname('ctl-lq')
    c = amqp(b)
    ch = c.channel()
    ch.queue_declare(q, arguments={'x-max-length': 10, 'x-queue-mode': 'lazy'})
    for i in range(3):
        ch.basic_publish('', q, b'x')
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(q, lambda *a: None, consumer_tag='ctl-tag')
    try:
        want = '%s\t3\t2\t1\t1\t[{"x-max-length",10},{"x-queue-mode","lazy"}]' % q

        def row():
            c.process_data_events(0)
            out = ctl.ok('-q', 'list_queues', 'name', 'messages', 'messages_ready', 'messages_unacknowledged',
                         'consumers', 'arguments')
            return want in out.splitlines()
        assert poll(row)
        out = ctl.ok('list_queues')
        assert out.startswith('Timeout: 60.0 seconds ...\nListing queues for vhost / ...\nname\tmessages\n')
        assert '%s\t3' % q in out.splitlines()
        rows = json.loads(ctl.ok('list_queues', 'name,durable', '--formatter', 'json'))
        assert {'name': q, 'durable': False} in rows
        out = ctl.ok('-q', 'list_consumers')
        assert out.startswith('queue_name\tchannel_pid\tconsumer_tag\tack_required\tprefetch_count\tactive\targuments\n')
        assert any(line.startswith('%s\t' % q) and '\tctl-tag\ttrue\t1\ttrue\t[]' in line for line in out.splitlines())
        out = ctl.ok('-q', 'list_bindings')
        assert '\texchange\t%s\tqueue\t%s\t[]' % (q, q) in out.splitlines()
        assert 'amq.direct\tdirect' in ctl.ok('-q', 'list_exchanges').splitlines()
    finally:
        ch.queue_delete(q)
        c.close()

def test_list_connections_channels_and_close_connection(target):
    b, ctl = target
    c = amqp(b)
    ch = c.channel()
    try:
        port = c._impl._transport._sock.getsockname()[1]  # pika 1.x: the local port names the connection

        def mine():
            c.process_data_events(0)
            out = ctl.ok('-q', 'list_connections', 'name', 'user', 'peer_port', 'state')
            return [line.split('\t') for line in out.splitlines()[1:] if line.split('\t')[2] == str(port)]
        rows = poll(mine)
        assert rows and rows[0][1:] == ['guest', str(port), 'running'], rows
        name = rows[0][0]
        chans = poll(lambda: [line for line in ctl.ok('-q', 'list_channels', 'connection', 'number', 'user').splitlines()
                              if line.startswith(name + '\t')])
        assert chans == ['%s\t1\tguest' % name]
        out = ctl.ok('close_connection', name, 'go away')
        assert out == 'Closing connection %s, reason: go away...\n' % name
        with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
            for _ in range(50):
                c.process_data_events(0.1)
        assert e.value.reply_code == 320 and 'go away' in e.value.reply_text
    finally:
        if c.is_open:
            c.close()
    r = ctl.run('close_connection', 'no such connection')
    assert r.returncode == 65 and "Connection 'no such connection' does not exist" in r.stderr, r


# ---- users, vhosts, permissions: against warren and RabbitMQ ----

def test_users_tags_and_passwords(ctl):
    u = uname('ctl-user')
    try:
        out = ctl.ok('add_user', u, 'pw1')
        assert out.startswith('Adding user "%s" ...\n' % u)
        r = ctl.run('add_user', u, 'pw1')
        assert r.returncode == 70 and 'User "%s" already exists' % u in r.stderr, r
        assert ctl.run('-u', u, '--password', 'pw1', 'list_users').returncode == 77   # no tag yet
        ctl.ok('set_user_tags', u, 'administrator', 'monitoring')
        assert '%s\t[administrator, monitoring]' % u in ctl.ok('-q', 'list_users').splitlines()
        assert ctl.run('-u', u, '--password', 'pw1', 'list_users').returncode == 0   # the password kept
        ctl.ok('change_password', u, 'pw2')
        assert ctl.run('-u', u, '--password', 'pw1', 'list_users').returncode == 77
        assert ctl.run('-u', u, '--password', 'pw2', 'list_users').returncode == 0   # the tags kept
        ctl.ok('change_password', u, input='pw3\n')                              # from standard input
        assert ctl.run('-u', u, '--password', 'pw3', 'list_users').returncode == 0
    finally:
        ctl.run('delete_user', u)
    r = ctl.run('delete_user', u)
    assert r.returncode == 67 and 'User "%s" does not exist' % u in r.stderr, r
    r = ctl.run('change_password', u, 'x')
    assert r.returncode == 67, r

def test_vhosts_and_permissions(ctl):
    u, v = uname('ctl-puser'), uname('ctl-vhost')
    ctl.ok('add_user', u, 'pw')
    try:
        assert ctl.ok('add_vhost', v) == 'Adding vhost "%s" ...\n' % v
        assert v in ctl.ok('-q', 'list_vhosts').splitlines()
        out = ctl.ok('set_permissions', '-p', v, u, '^a.*', '', '.*')
        assert out == 'Setting permissions for user "%s" in vhost "%s" ...\n' % (u, v)
        assert '%s\t^a.*\t\t.*' % u in ctl.ok('list_permissions', '-p', v).splitlines()
        assert '%s\t^a.*\t\t.*' % v in ctl.ok('-q', 'list_user_permissions', u).splitlines()
        rows = json.loads(ctl.ok('list_permissions', '--vhost', v, '--formatter', 'json'))
        assert {'user': u, 'configure': '^a.*', 'write': '', 'read': '.*'} in rows
        r = ctl.run('set_permissions', '-p', 'no-such-vhost', u, 'a', 'b', 'c')
        assert r.returncode == 65 and "Virtual host 'no-such-vhost' does not exist" in r.stderr, r
        r = ctl.run('set_permissions', '-p', v, 'no-such-user-x', 'a', 'b', 'c')
        assert r.returncode == 67 and 'User "no-such-user-x" does not exist' in r.stderr, r
        ctl.ok('clear_permissions', '-p', v, u)
        assert not [line for line in ctl.ok('-q', 'list_permissions', '-p', v).splitlines() if line.startswith(u)]
        assert ctl.ok('delete_vhost', v) == 'Deleting vhost "%s" ...\n' % v
        r = ctl.run('delete_vhost', v)
        assert r.returncode == 65 and "Virtual host '%s' does not exist" % v in r.stderr, r
    finally:
        ctl.run('delete_vhost', v)
        ctl.run('delete_user', u)

RABBITMQCTL = os.environ.get('WARREN_TEST_RABBITMQCTL')  # e.g. "rabbitmqctl -n ref@localhost"

if RABBITMQCTL:
    # the objects every RabbitMQ has: other tests on the same node come
    # and go, so only these rows are compared
    STANDARD = {'guest', '/', '', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match',
                'amq.rabbitmq.trace'}

    @pytest.mark.parametrize('verb', [
        ['list_users'], ['list_vhosts'], ['list_permissions'], ['list_user_permissions', 'guest'],
        ['list_exchanges', 'name', 'type', 'durable', 'auto_delete', 'internal', 'arguments'],
        ['-q', 'list_exchanges'], ['-s', 'list_users'],
    ])
    def test_same_output_as_rabbitmqctl(ctl, verb):
        """Side by side with rabbitmqctl on the same RabbitMQ node."""
        theirs = subprocess.run(RABBITMQCTL.split() + verb, stdout=subprocess.PIPE, text=True, timeout=60)
        assert theirs.returncode == 0
        mine = ctl.ok(*verb)
        head = {'-q': 1, '-s': 0}.get(verb[0], 2)   # banner and header lines
        t, m = theirs.stdout.splitlines(), mine.splitlines()
        assert m[:head] == t[:head]
        rows = lambda lines: sorted(x for x in lines[head:] if x.split('\t')[0] in STANDARD)  # noqa: E731
        assert rows(m) == rows(t) and rows(m)


# ---- against RabbitMQ only ----
#
# RabbitMQ has no browse endpoint: warrenctl says so (exit 69).

if EXTERNAL:

    def test_browse_says_rabbitmq_has_no_browse_endpoint(target):
        b, ctl = target
        q = uname('ctl-browse')
        declare_with_messages(b, q, 1)
        try:
            r = ctl.run('browse', q)
            assert r.returncode == 69, r
            assert 'no message browse endpoint' in r.stderr
            assert ready_count(b, q) == 1   # nothing taken
        finally:
            delete_queue(b, q)
        r = ctl.run('browse', q)
        assert r.returncode == 65 and "Queue '%s' in vhost '/' does not exist" % q in r.stderr, r
