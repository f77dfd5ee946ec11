"""Issue 13: the HTTP API's listing endpoints with statistics
(src/http/lists.c, page.c): queues, exchanges, bindings, connections,
channels, consumers, RabbitMQ's pagination, closing a connection, and
warren's non-destructive browse of ready and unacked messages.

The expected shapes and texts were taken from the reference RabbitMQ
3.10.8 management (127.0.0.1:15673) with the same pika traffic:
  - a queue: messages, messages_ready, messages_unacknowledged, consumers,
    memory, message_bytes(_ready/_unacknowledged), state "running",
    message_stats {publish, deliver_get, ack, ... each with
    *_details.rate}; the single-queue form adds consumer_details;
  - pagination: without `page` a plain array (name ignored); with it
    {filtered_count, item_count, items, page, page_count, page_size,
    total_count}; name is a case-insensitive substring (use_regex=true: a
    case-insensitive regex); page=0 -> 400 invalid_pagination_parameters
    "Invalid pagination parameters: page number 0, page size undefined";
    page_size=501 -> "... page number 1, page size 501"; page=abc -> 400
    bad_request "Pagination parameters are invalid"; a page past the end
    -> 400 page_out_of_range "Page out of range, page: 3 page size: 2,
    len: 3"; ties of a sort key in name order, sort_reverse reverses all;
  - DELETE /api/connections/{name}: 204, the client hears 320
    "CONNECTION_FORCED - " + X-Reason, or "Closed via management plugin".
"""
import base64
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pika
import pytest

RABBITMQADMIN = '/usr/bin/rabbitmqadmin'


def admin(broker, *args):
    if not os.path.exists(RABBITMQADMIN):
        pytest.skip('rabbitmqadmin is not installed (Debian package rabbitmq-server)')
    r = subprocess.run([RABBITMQADMIN, '-H', '127.0.0.1', '-P', str(broker.mgmt_port), '-u', 'guest', '-p',
                        'guest'] + list(args), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def call(broker, method, path, headers=None):
    """urllib: (status, parsed JSON body or None)."""
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (broker.mgmt_port, path), method=method)
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    return status, (json.loads(text) if text else None)


def get(broker, path):
    status, body = call(broker, 'GET', path)
    assert status == 200, (path, status, body)
    return body


def q(name):
    return urllib.parse.quote(name, safe='')


def connect(broker, name=None):
    params = pika.URLParameters(broker.url)
    if name:
        params.client_properties = {'connection_name': name}
    return pika.BlockingConnection(params)


def local_name(conn):
    """RabbitMQ's name of a pika connection: "peer -> local" as the
    server sees it."""
    sock = conn._impl._transport._sock
    return '%s:%d -> %s:%d' % (sock.getsockname()[:2] + sock.getpeername()[:2])


# ------------------------------------------------------------ rabbitmqadmin


def test_rabbitmqadmin_lists_and_close(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    ch.queue_bind(qname, 'amq.direct', 'k-' + qname)
    for i in range(3):
        ch.basic_publish('', qname, b'm%d' % i)
    ch.basic_consume(qname, lambda *a: None, consumer_tag='tag-' + qname)
    c.process_data_events(0.5)

    out = admin(mgmt, 'list', 'queues', 'name', 'messages', 'consumers')
    row = [line for line in out.splitlines() if ' %s ' % qname in line]
    assert row and row[0].split('|')[2].strip() == '3' and row[0].split('|')[3].strip() == '1', out
    out = admin(mgmt, 'list', 'exchanges')
    assert 'amq.direct' in out and 'amq.topic' in out
    out = admin(mgmt, 'list', 'bindings')
    assert 'k-' + qname in out
    name = local_name(c)
    assert name in admin(mgmt, 'list', 'connections')
    assert name + ' (1)' in admin(mgmt, 'list', 'channels')
    assert 'tag-' + qname in admin(mgmt, 'list', 'consumers')
    assert 'connection closed' in admin(mgmt, 'close', 'connection', 'name=' + name)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        for _ in range(20):
            c.process_data_events(0.2)
    assert e.value.reply_code == 320
    assert e.value.reply_text == 'CONNECTION_FORCED - Closed via management plugin'


# ------------------------------------------------------------------ queues


def test_queue_counts_after_publishes_and_acks(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    for i in range(10):
        ch.basic_publish('', qname, b'x' * 10)
    ch.basic_qos(prefetch_count=4)
    got = []
    ch.basic_consume(qname, lambda ch_, m, p, b: got.append(m.delivery_tag), consumer_tag='ctag')
    while len(got) < 4:
        c.process_data_events(0.1)
    ch.basic_ack(got[0])
    ch.basic_ack(got[1])
    c.process_data_events(0.3)  # two more come in their place
    body = get(mgmt, '/api/queues/%2F/' + q(qname))
    assert body['name'] == qname and body['vhost'] == '/'
    assert body['messages'] == 8
    assert body['messages_unacknowledged'] == 4
    assert body['messages_ready'] == 4
    assert body['message_bytes'] == 80
    assert body['message_bytes_ready'] == 40 and body['message_bytes_unacknowledged'] == 40
    assert body['consumers'] == 1
    assert body['state'] == 'running'
    assert body['durable'] is False and body['exclusive'] is False and body['auto_delete'] is False
    assert body['arguments'] == {}
    assert isinstance(body['memory'], int) and body['memory'] > 0
    ms = body['message_stats']
    assert ms['publish'] == 10 and ms['deliver_get'] == 6 and ms['deliver'] == 6 and ms['ack'] == 2
    assert ms['redeliver'] == 0 and ms['get'] == 0
    assert set(ms['publish_details']) == {'rate'}
    assert body['oldest_ready_age_ms'] >= 0 and body['oldest_unacked_age_ms'] >= 0
    [cd] = body['consumer_details']
    assert cd['consumer_tag'] == 'ctag' and cd['ack_required'] is True and cd['prefetch_count'] == 4
    assert cd['queue'] == {'name': qname, 'vhost': '/'}
    assert cd['channel_details']['connection_name'] == local_name(c)
    # the list forms have the same counts
    [row] = [x for x in get(mgmt, '/api/queues') if x['name'] == qname]
    assert row['messages'] == 8 and row['message_stats']['ack'] == 2 and 'consumer_details' not in row
    [row] = [x for x in get(mgmt, '/api/queues/%2F') if x['name'] == qname]
    assert row['messages_unacknowledged'] == 4
    assert call(mgmt, 'GET', '/api/queues/%2F/nosuch-' + qname) == (404, {'error': 'Object Not Found',
                                                                         'reason': 'Not Found'})
    assert call(mgmt, 'GET', '/api/queues/novhost')[0] == 404
    c.close()


def test_rates_while_publishing(mgmt, qname):
    """Rates come from the 5 s samples: non-zero while a client publishes,
    in the queue's message_stats and the overview's."""
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    deadline = time.time() + 20
    rate = overview_rate = 0
    while time.time() < deadline and not (rate > 0 and overview_rate > 0):
        for _ in range(20):
            ch.basic_publish('', qname, b'r')
        c.process_data_events(0.1)
        body = get(mgmt, '/api/queues/%2F/' + q(qname))
        rate = body.get('message_stats', {}).get('publish_details', {}).get('rate', 0)
        overview_rate = get(mgmt, '/api/overview')['message_stats']['publish_details']['rate']
    assert rate > 0 and overview_rate > 0
    o = get(mgmt, '/api/overview')
    assert o['object_totals']['queues'] >= 1 and o['object_totals']['connections'] == 1
    assert o['object_totals']['channels'] == 1 and o['object_totals']['exchanges'] >= 7
    assert o['queue_totals']['messages'] >= body['messages'] > 0
    assert set(o['queue_totals']['messages_details']) == {'rate'}
    assert o['message_stats']['publish'] >= body['message_stats']['publish']
    c.close()


def test_exclusive_queue_owner(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname, exclusive=True)
    body = get(mgmt, '/api/queues/%2F/' + q(qname))
    assert body['exclusive'] is True
    assert body['owner_pid_details']['name'] == local_name(c)
    assert body['owner_pid_details']['peer_port'] == c._impl._transport._sock.getsockname()[1]
    c.close()


# -------------------------------------------------------------- pagination


def test_pagination_on_1000_queues(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    for i in range(1000):
        ch.queue_declare('%s-%04d' % (qname, i))
    for i in (17, 500, 999):
        for _ in range(i % 5 + 1):
            ch.basic_publish('', '%s-%04d' % (qname, i), b'm')
    ch.queue_declare('unrelated-queue')
    c.process_data_events(0.2)

    page = get(mgmt, '/api/queues?page=1&page_size=100&name=' + qname)
    assert page['total_count'] == 1001 and page['filtered_count'] == 1000
    assert page['page_count'] == 10 and page['item_count'] == 100 and page['page_size'] == 100
    assert page['page'] == 1
    assert [x['name'] for x in page['items']] == ['%s-%04d' % (qname, i) for i in range(100)]
    last = get(mgmt, '/api/queues/%2F?page=10&page_size=100&name=' + qname)
    assert last['items'][-1]['name'] == '%s-0999' % qname and last['item_count'] == 100
    # sort by messages, largest first; ties reversed too (RabbitMQ reverses the whole list)
    top = get(mgmt, '/api/queues?page=1&page_size=3&sort=messages&sort_reverse=true&name=' + qname)
    assert [(x['name'], x['messages']) for x in top['items']] == [
        ('%s-0999' % qname, 5), ('%s-0017' % qname, 3), ('%s-0500' % qname, 1)]
    # case-insensitive substring, and a regular expression
    sub = get(mgmt, '/api/queues?page=1&name=' + qname.upper() + '-099')
    assert sub['filtered_count'] == 10
    rx = get(mgmt, '/api/queues?page=1&use_regex=true&name=' + q('^%s-0(01|99)7$' % qname))
    assert sorted(x['name'] for x in rx['items']) == ['%s-0017' % qname, '%s-0997' % qname]
    # columns apply to the items of the page object
    cols = get(mgmt, '/api/queues?page=2&page_size=5&columns=name,messages&name=' + qname)
    assert cols['items'][0] == {'name': '%s-0005' % qname, 'messages': 0} and cols['page'] == 2
    # without page: a plain array, name ignored
    assert len(get(mgmt, '/api/queues?name=' + qname)) == 1001
    # warren's: a page_size alone is page 1 (RabbitMQ would answer all 1,001)
    alone = get(mgmt, '/api/queues?page_size=10&sort=name&sort_reverse=true')
    assert alone['page'] == 1 and alone['item_count'] == 10 and alone['items'][0]['name'] == 'unrelated-queue'
    c.close()


@pytest.mark.parametrize('query,body', [
    ('page=0', {'error': 'invalid_pagination_parameters',
                'reason': 'Invalid pagination parameters: page number 0, page size undefined'}),
    ('page=1&page_size=501', {'error': 'invalid_pagination_parameters',
                              'reason': 'Invalid pagination parameters: page number 1, page size 501'}),
    ('page=1&page_size=0', {'error': 'invalid_pagination_parameters',
                            'reason': 'Invalid pagination parameters: page number 1, page size 0'}),
    ('page=-1', {'error': 'invalid_pagination_parameters',
                 'reason': 'Invalid pagination parameters: page number -1, page size undefined'}),
    ('page=abc', {'error': 'bad_request', 'reason': 'Pagination parameters are invalid'}),
    ('page_size=abc', {'error': 'bad_request', 'reason': 'Pagination parameters are invalid'}),
    ('page_size=501', {'error': 'invalid_pagination_parameters',
                       'reason': 'Invalid pagination parameters: page number 1, page size 501'}),
    ('page=1&use_regex=true&name=(', {'error': 'bad_request', 'reason': 'Pagination parameters are invalid'}),
    ('page=3&page_size=2&name=pg-', {'error': 'page_out_of_range',
                                     'reason': 'Page out of range, page: 3 page size: 2, len: 3'}),
])
def test_bad_pagination(mgmt, query, body):
    c = connect(mgmt)
    ch = c.channel()
    for n in ('pg-a', 'pg-b', 'pg-c'):
        ch.queue_declare(n)
    assert call(mgmt, 'GET', '/api/queues?' + query) == (400, body)
    c.close()


def test_exchanges_paged_and_sorted(mgmt):
    page = get(mgmt, '/api/exchanges?page=1&page_size=2')
    assert page['total_count'] == 7 and page['page_count'] == 4
    assert [x['name'] for x in page['items']] == ['', 'amq.direct']
    by_type = get(mgmt, '/api/exchanges?page=1&page_size=7&sort=type')
    assert [x['type'] for x in by_type['items']] == sorted(x['type'] for x in by_type['items'])


# --------------------------------------------------------------- exchanges


def test_exchange_message_stats(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    ch.queue_bind(qname, 'amq.topic', 'a.*')
    ch.basic_publish('amq.topic', 'a.b', b'1')
    ch.basic_publish('amq.topic', 'a.c', b'2')
    ch.basic_publish('amq.topic', 'z', b'3')  # routed nowhere
    c.process_data_events(0.3)
    x = get(mgmt, '/api/exchanges/%2F/amq.topic')
    assert x['name'] == 'amq.topic' and x['type'] == 'topic' and x['durable'] is True
    assert x['message_stats']['publish_in'] == 3 and x['message_stats']['publish_out'] == 2
    assert 'rate' in x['message_stats']['publish_in_details']
    assert call(mgmt, 'GET', '/api/exchanges/%2F/nosuch')[0] == 404
    names = [e['name'] for e in get(mgmt, '/api/exchanges/%2F')]
    assert '' in names and 'amq.topic' in names
    c.close()


# ---------------------------------------------------------------- bindings


def test_bindings_lists(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    ch.exchange_declare('x-' + qname, 'direct')
    ch.queue_bind(qname, 'amq.direct', 'k1')
    ch.queue_bind(qname, 'amq.headers', '', arguments={'x-match': 'any', 'h': 'v'})
    ch.exchange_bind('x-' + qname, 'amq.direct', 'e2e')
    all_ = get(mgmt, '/api/bindings')
    default = {'source': '', 'vhost': '/', 'destination': qname, 'destination_type': 'queue',
               'routing_key': qname, 'arguments': {}, 'properties_key': qname}
    assert default in all_
    assert {'source': 'amq.direct', 'vhost': '/', 'destination': qname, 'destination_type': 'queue',
            'routing_key': 'k1', 'arguments': {}, 'properties_key': 'k1'} in all_
    qb = get(mgmt, '/api/queues/%2F/' + q(qname) + '/bindings')
    assert [b['source'] for b in qb] == ['', 'amq.direct', 'amq.headers']
    src = get(mgmt, '/api/exchanges/%2F/amq.direct/bindings/source')
    assert {(b['destination'], b['destination_type']) for b in src} == {(qname, 'queue'), ('x-' + qname, 'exchange')}
    dst = get(mgmt, '/api/exchanges/%2F/x-' + q(qname) + '/bindings/destination')
    assert [(b['source'], b['routing_key']) for b in dst] == [('amq.direct', 'e2e')]
    between = get(mgmt, '/api/bindings/%2F/e/amq.headers/q/' + q(qname))
    [hb] = between
    assert hb['arguments'] == {'x-match': 'any', 'h': 'v'} and hb['properties_key'].startswith('~')
    # the properties_key found in a list names the binding for GET and DELETE
    path = '/api/bindings/%2F/e/amq.headers/q/' + q(qname) + '/' + q(hb['properties_key'])
    assert get(mgmt, path) == hb
    assert call(mgmt, 'DELETE', path)[0] == 204
    assert call(mgmt, 'GET', path)[0] == 404
    assert get(mgmt, '/api/bindings/%2F/e/amq.direct/q/nosuch') == []
    assert get(mgmt, '/api/bindings/%2F/e/amq.direct/e/x-' + q(qname))[0]['routing_key'] == 'e2e'
    c.close()


# ---------------------------------------- connections, channels, consumers


def test_connections_channels_consumers(mgmt, qname):
    c = connect(mgmt, name='conn-' + qname)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname)
    ch.basic_qos(prefetch_count=7)
    ch.basic_publish('', qname, b'p')
    ch.basic_consume(qname, lambda *a: None, consumer_tag='ct-' + qname,
                     arguments={'x-priority': 3})
    c.process_data_events(0.3)
    name = local_name(c)
    [conn] = get(mgmt, '/api/connections')
    assert conn['name'] == name and conn['user'] == 'guest' and conn['vhost'] == '/'
    assert conn['channels'] == 1 and conn['state'] == 'running' and conn['protocol'] == 'AMQP 0-9-1'
    assert conn['client_properties']['product'] == 'Pika Python Client Library'
    assert conn['client_properties']['connection_name'] == 'conn-' + qname
    assert conn['recv_oct'] > 0 and conn['send_oct'] > 0 and 'rate' in conn['recv_oct_details']
    assert conn['peer_port'] == c._impl._transport._sock.getsockname()[1] and conn['port'] == mgmt.port
    one = get(mgmt, '/api/connections/' + q(name))
    assert one['name'] == name and one['client_properties'] == conn['client_properties']
    assert call(mgmt, 'GET', '/api/connections/nosuch')[0] == 404
    [chan] = get(mgmt, '/api/channels')
    assert chan['name'] == name + ' (1)' and chan['number'] == 1 and chan['confirm'] is True
    assert chan['prefetch_count'] == 7 and chan['consumer_count'] == 1
    assert chan['messages_unacknowledged'] == 1 and chan['connection_details']['name'] == name
    assert chan['message_stats']['publish'] == 1 and chan['message_stats']['confirm'] == 1
    assert get(mgmt, '/api/channels/' + q(name + ' (1)'))['number'] == 1
    assert call(mgmt, 'GET', '/api/channels/' + q(name + ' (2)'))[0] == 404
    [cons] = get(mgmt, '/api/consumers')
    assert cons['consumer_tag'] == 'ct-' + qname and cons['queue'] == {'name': qname, 'vhost': '/'}
    assert cons['arguments'] == {'x-priority': 3} and cons['prefetch_count'] == 7
    assert cons['channel_details']['name'] == name + ' (1)' and cons['channel_details']['user'] == 'guest'
    assert get(mgmt, '/api/consumers/%2F') == [cons]
    assert call(mgmt, 'GET', '/api/consumers/novhost')[0] == 404
    c.close()


def test_delete_connection_with_reason(mgmt, qname):
    c = connect(mgmt)
    other = connect(mgmt)
    name = local_name(c)
    status, body = call(mgmt, 'DELETE', '/api/connections/' + q(name), {'X-Reason': 'go away ' + qname})
    assert (status, body) == (204, None)
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        for _ in range(20):
            c.process_data_events(0.2)
    assert (e.value.reply_code, e.value.reply_text) == (320, 'CONNECTION_FORCED - go away ' + qname)
    other.channel().queue_declare(qname)  # the other one is untouched
    assert call(mgmt, 'DELETE', '/api/connections/' + q(name))[0] == 404
    other.close()


# ------------------------------------------------------------------ browse


def test_browse_ready_leaves_the_queue_alone(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'first', pika.BasicProperties(content_type='text/plain', headers={'h': 1}))
    ch.basic_publish('', qname, b'\xff\xfe binary')
    ch.basic_publish('', qname, b'third')
    c.process_data_events(0.2)
    before = get(mgmt, '/api/queues/%2F/' + q(qname))
    msgs = get(mgmt, '/api/queues/%2F/' + q(qname) + '/messages?state=ready&count=2')
    assert [m['payload'] for m in msgs] == ['first', base64.b64encode(b'\xff\xfe binary').decode()]
    assert [m['payload_encoding'] for m in msgs] == ['string', 'base64']
    assert msgs[0]['properties'] == {'content_type': 'text/plain', 'headers': {'h': 1}}
    assert msgs[0]['redelivered'] is False and msgs[0]['routing_key'] == qname and msgs[0]['age_ms'] >= 0
    assert msgs[0]['payload_bytes'] == 5
    trunc = get(mgmt, '/api/queues/%2F/' + q(qname) + '/messages?count=1&truncate=2')
    assert trunc[0]['payload'] == 'fi' and trunc[0]['payload_bytes'] == 5
    after = get(mgmt, '/api/queues/%2F/' + q(qname))
    assert after['messages_ready'] == 3 and after['message_stats'] == before['message_stats']
    # nothing moved: a consumer still gets them in order, first time
    m, props, body = ch.basic_get(qname, auto_ack=True)
    assert body == b'first' and not m.redelivered
    assert call(mgmt, 'GET', '/api/queues/%2F/nosuch/messages')[0] == 404
    assert call(mgmt, 'GET', '/api/queues/%2F/' + q(qname) + '/messages?state=both')[0] == 400
    assert call(mgmt, 'GET', '/api/queues/%2F/' + q(qname) + '/messages?count=0')[0] == 400
    c.close()


def test_browse_unacked_shows_the_holder(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    for i in range(3):
        ch.basic_publish('', qname, b'u%d' % i)
    got = []
    ch.basic_qos(prefetch_count=2)
    ch.basic_consume(qname, lambda ch_, m, p, b: got.append(m), consumer_tag='holder')
    while len(got) < 2:
        c.process_data_events(0.1)
    ch.basic_ack(got[0].delivery_tag)
    c.process_data_events(0.3)
    time.sleep(0.2)
    msgs = get(mgmt, '/api/queues/%2F/' + q(qname) + '/messages?state=unacked&count=10')
    assert [(m['payload'], m['consumer_tag'], m['delivery_tag'], m['channel']) for m in msgs] == [
        ('u1', 'holder', 2, 1), ('u2', 'holder', 3, 1)]
    assert all(m['connection'] == local_name(c) for m in msgs)
    assert msgs[0]['unacked_for_ms'] >= 200
    assert abs(msgs[0]['since'] + msgs[0]['unacked_for_ms'] - time.time() * 1000) < 5000
    ready = get(mgmt, '/api/queues/%2F/' + q(qname) + '/messages?state=ready')
    assert ready == []
    # still held, still the client's to ack
    ch.basic_ack(got[1].delivery_tag)
    c.process_data_events(0.3)
    assert get(mgmt, '/api/queues/%2F/' + q(qname))['messages_unacknowledged'] == 1
    c.close()


def test_browse_reads_bodies_on_disk(mgmt, qname):
    """After a restart the ready messages' bodies are only in the store:
    browse reads them there and the queue keeps them."""
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname, durable=True)
    for i in range(5):
        ch.basic_publish('', qname, b'disk%d' % i, pika.BasicProperties(delivery_mode=2))
    c.close()
    mgmt.restart()
    msgs = get(mgmt, '/api/queues/%2F/' + q(qname) + '/messages?count=5')
    assert [m['payload'] for m in msgs] == ['disk%d' % i for i in range(5)]
    assert get(mgmt, '/api/queues/%2F/' + q(qname))['messages_ready'] == 5
    c = connect(mgmt)
    assert c.channel().basic_get(qname, auto_ack=True)[2] == b'disk0'
    c.close()


def test_regex_backreference_refused(mgmt):
    """warren's one difference in the name filter: a back-reference (which
    glibc matches by backtracking, once per queue, on the loop) is refused
    as RabbitMQ refuses a bad expression."""
    status, body = call(mgmt, 'GET', '/api/queues?page=1&use_regex=true&name=' + q('(a+)\\1'))
    assert (status, body) == (400, {'error': 'bad_request', 'reason': 'Pagination parameters are invalid'})
    assert get(mgmt, '/api/queues?page=1&use_regex=true&name=' + q('\\\\1'))['filtered_count'] == 0


# The fields of RabbitMQ 3.10.8's objects, from the reference node with the
# same traffic (an exclusive queue with a publish, a get and a consumer, on
# a confirm channel): every field warren returns is one of them, or one of
# warren's own.
RMQ_QUEUE = {
    'arguments', 'auto_delete', 'backing_queue_status', 'consumer_capacity', 'consumer_details',
    'consumer_utilisation', 'consumers', 'deliveries', 'durable', 'effective_policy_definition', 'exclusive',
    'exclusive_consumer_tag', 'garbage_collection', 'head_message_timestamp', 'idle_since', 'incoming', 'memory',
    'message_bytes', 'message_bytes_paged_out', 'message_bytes_persistent', 'message_bytes_ram',
    'message_bytes_ready', 'message_bytes_unacknowledged', 'message_stats', 'messages', 'messages_details',
    'messages_paged_out', 'messages_persistent', 'messages_ram', 'messages_ready', 'messages_ready_details',
    'messages_ready_ram', 'messages_unacknowledged', 'messages_unacknowledged_details',
    'messages_unacknowledged_ram', 'name', 'node', 'operator_policy', 'owner_pid_details', 'policy',
    'recoverable_slaves', 'reductions', 'reductions_details', 'single_active_consumer_tag', 'state', 'type',
    'vhost'}
WARREN_QUEUE = {'oldest_ready_age_ms', 'oldest_unacked_age_ms', 'consumer_timeouts', 'late_acks'}
RMQ_QUEUE_MS = {
    'ack', 'ack_details', 'deliver', 'deliver_details', 'deliver_get', 'deliver_get_details', 'deliver_no_ack',
    'deliver_no_ack_details', 'get', 'get_details', 'get_empty', 'get_empty_details', 'get_no_ack',
    'get_no_ack_details', 'publish', 'publish_details', 'redeliver', 'redeliver_details'}
RMQ_EXCHANGE = {'arguments', 'auto_delete', 'durable', 'incoming', 'internal', 'message_stats', 'name',
                'outgoing', 'type', 'user_who_performed_action', 'vhost'}
RMQ_CONNECTION = {
    'auth_mechanism', 'channel_max', 'channels', 'client_properties', 'connected_at', 'frame_max',
    'garbage_collection', 'host', 'name', 'node', 'peer_cert_issuer', 'peer_cert_subject', 'peer_cert_validity',
    'peer_host', 'peer_port', 'port', 'protocol', 'recv_cnt', 'recv_oct', 'recv_oct_details', 'reductions',
    'reductions_details', 'send_cnt', 'send_oct', 'send_oct_details', 'send_pend', 'ssl', 'ssl_cipher',
    'ssl_hash', 'ssl_key_exchange', 'ssl_protocol', 'state', 'timeout', 'type', 'user',
    'user_who_performed_action', 'vhost'}
RMQ_CHANNEL = {
    'acks_uncommitted', 'confirm', 'connection_details', 'consumer_count', 'garbage_collection',
    'global_prefetch_count', 'idle_since', 'message_stats', 'messages_unacknowledged', 'messages_uncommitted',
    'messages_unconfirmed', 'name', 'node', 'number', 'pending_raft_commands', 'prefetch_count', 'reductions',
    'reductions_details', 'state', 'transactional', 'user', 'user_who_performed_action', 'vhost'}
RMQ_CHANNEL_MS = {
    'ack', 'ack_details', 'confirm', 'confirm_details', 'deliver', 'deliver_details', 'deliver_get',
    'deliver_get_details', 'deliver_no_ack', 'deliver_no_ack_details', 'drop_unroutable',
    'drop_unroutable_details', 'get', 'get_details', 'get_empty', 'get_empty_details', 'get_no_ack',
    'get_no_ack_details', 'publish', 'publish_details', 'redeliver', 'redeliver_details', 'return_unroutable',
    'return_unroutable_details'}
RMQ_CONSUMER = {'ack_required', 'active', 'activity_status', 'arguments', 'channel_details', 'consumer_tag',
                'exclusive', 'prefetch_count', 'queue'}
RMQ_BINDING = {'arguments', 'destination', 'destination_type', 'properties_key', 'routing_key', 'source', 'vhost'}


def test_fields_are_rabbitmqs(mgmt, qname):
    c = connect(mgmt)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, exclusive=True)
    ch.basic_publish('', qname, b'x')
    ch.basic_publish('', qname, b'y')
    ch.basic_get(qname)
    ch.basic_consume(qname, lambda *a: None, consumer_tag='t')
    c.process_data_events(0.3)
    name = local_name(c)
    qd = get(mgmt, '/api/queues/%2F/' + q(qname))
    assert set(qd) - WARREN_QUEUE <= RMQ_QUEUE, set(qd) - WARREN_QUEUE - RMQ_QUEUE
    assert WARREN_QUEUE <= set(qd)
    assert set(qd['message_stats']) == RMQ_QUEUE_MS
    assert set(qd['owner_pid_details']) == {'name', 'peer_host', 'peer_port'}
    x = get(mgmt, '/api/exchanges/%2F/amq.direct')
    assert set(x) <= RMQ_EXCHANGE, set(x) - RMQ_EXCHANGE
    conn = get(mgmt, '/api/connections/' + q(name))
    assert set(conn) <= RMQ_CONNECTION, set(conn) - RMQ_CONNECTION
    chan = get(mgmt, '/api/channels/' + q(name + ' (1)'))
    assert set(chan) <= RMQ_CHANNEL, set(chan) - RMQ_CHANNEL
    assert set(chan['message_stats']) <= RMQ_CHANNEL_MS
    [cons] = get(mgmt, '/api/consumers')
    assert set(cons) == RMQ_CONSUMER
    assert all(set(b) == RMQ_BINDING for b in get(mgmt, '/api/bindings'))
    c.close()


def test_browse_another_connections_exclusive_queue(mgmt, qname):
    """Browse is read-only: an exclusive queue may be looked at (a get is
    refused with RESOURCE_LOCKED), and its messages stay where they are."""
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname, exclusive=True)
    ch.basic_publish('', qname, b'mine')
    c.process_data_events(0.2)
    msgs = get(mgmt, '/api/queues/%2F/' + q(qname) + '/messages')
    assert [m['payload'] for m in msgs] == ['mine']
    assert ch.basic_get(qname, auto_ack=True)[2] == b'mine'
    c.close()


def test_quorum_queue_type_reported(mgmt, qname):
    """Issue 15 point 7: a queue declared x-queue-type quorum is listed
    with type quorum, as RabbitMQ lists it; others stay classic."""
    c = connect(mgmt)
    ch = c.channel()
    ch.queue_declare(qname, durable=True, arguments={'x-queue-type': 'quorum'})
    ch.queue_declare(qname + '-c', durable=True)
    try:
        assert get(mgmt, '/api/queues/%%2F/%s' % q(qname))['type'] == 'quorum'
        assert get(mgmt, '/api/queues/%%2F/%s' % q(qname + '-c'))['type'] == 'classic'
    finally:
        ch.queue_delete(qname)
        ch.queue_delete(qname + '-c')
        c.close()
