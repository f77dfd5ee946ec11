"""Listings, totals and metrics over every vhost (issue 13): with a second
vhost made over the HTTP API, /api/queues (and exchanges, bindings,
consumers) list both vhosts' objects with the right "vhost", /api/queues/v2
only v2's, a vhost that does not exist is RabbitMQ's 404, /api/overview and
/metrics count both, /metrics/per-object labels v2's queues with v2, and a
management-tagged user sees only the vhosts it has permissions on (as
RabbitMQ's management: administrator and monitoring users see them all).
"""
import base64
import json
import re
import urllib.error
import time
import urllib.request

import pika
import pytest

NOT_FOUND = {'error': 'Object Not Found', 'reason': 'Not Found'}


def call(port, method, path, body=None, user='guest', password='guest'):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path), data=data, method=method)
    req.add_header('Authorization', 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode())
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    return status, (json.loads(text) if text else None)


def scrape(port, path):
    with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=10) as r:
        assert r.status == 200
        return r.read().decode()


def sample(text, name, labels=''):
    m = re.search(r'^%s%s (\S+)$' % (re.escape(name), re.escape(labels)), text, re.M)
    assert m, (name, labels)
    return float(m.group(1))


@pytest.fixture
def two(broker_factory):
    """A broker with q1 (2 messages) in "/" and q2, q3 (1 message, one
    consumer on q2) in v2, bound to exchange x2 there."""
    b = broker_factory(management=True, prometheus=True)
    port = b.mgmt_port
    assert call(port, 'PUT', '/api/vhosts/v2')[0] == 201
    assert call(port, 'PUT', '/api/permissions/v2/guest', {'configure': '.*', 'write': '.*', 'read': '.*'})[0] in (201, 204)
    c1 = pika.BlockingConnection(pika.URLParameters(b.url))
    ch1 = c1.channel()
    ch1.queue_declare('q1')
    ch1.basic_publish('', 'q1', b'a')
    ch1.basic_publish('', 'q1', b'b')
    c2 = pika.BlockingConnection(pika.URLParameters('amqp://guest:guest@127.0.0.1:%d/v2' % b.port))
    ch2 = c2.channel()
    ch2.exchange_declare('x2', 'direct')
    ch2.queue_declare('q2')
    ch2.queue_declare('q3')
    ch2.queue_bind('q2', 'x2', 'k')
    ch2.basic_publish('', 'q3', b'c')
    ch2.basic_consume('q2', lambda *a: None)
    c1.process_data_events(0)
    c2.process_data_events(0)
    yield b
    c1.close()
    c2.close()


def test_queue_lists_cover_every_vhost(two):
    port = two.mgmt_port
    s, qs = call(port, 'GET', '/api/queues')
    assert s == 200
    # RabbitMQ's default order: vhost, then name
    assert [(q['vhost'], q['name']) for q in qs] == [('/', 'q1'), ('v2', 'q2'), ('v2', 'q3')]
    assert {q['name']: q['messages'] for q in qs} == {'q1': 2, 'q2': 0, 'q3': 1}
    s, qs = call(port, 'GET', '/api/queues/v2')
    assert s == 200 and [(q['vhost'], q['name']) for q in qs] == [('v2', 'q2'), ('v2', 'q3')]
    s, page = call(port, 'GET', '/api/queues?page=1&page_size=2')
    assert s == 200 and page['total_count'] == 3 and page['filtered_count'] == 3
    assert [(q['vhost'], q['name']) for q in page['items']] == [('/', 'q1'), ('v2', 'q2')]
    s, page = call(port, 'GET', '/api/queues?page=1&sort=messages&sort_reverse=true')
    assert [q['name'] for q in page['items']] == ['q1', 'q3', 'q2']
    s, qs = call(port, 'GET', '/api/queues?sort=messages&sort_reverse=true&columns=name,vhost')
    assert qs == [{'name': 'q1', 'vhost': '/'}, {'name': 'q3', 'vhost': 'v2'}, {'name': 'q2', 'vhost': 'v2'}]
    s, qs = call(port, 'GET', '/api/queues?sort=vhost&sort_reverse=true&columns=vhost')
    assert [q['vhost'] for q in qs] == ['v2', 'v2', '/']
    # the browse looks in the path's vhost
    s, ms = call(port, 'GET', '/api/queues/v2/q3/messages')
    assert s == 200 and [m['payload'] for m in ms] == ['c']
    assert call(port, 'GET', '/api/queues/%2F/q3/messages') == (404, NOT_FOUND)
    s, page = call(port, 'GET', '/api/queues/v2?page=1&name=q3')
    assert [(q['vhost'], q['name']) for q in page['items']] == [('v2', 'q3')] and page['total_count'] == 2
    # one queue by its vhost
    s, q = call(port, 'GET', '/api/queues/v2/q2')
    assert s == 200 and q['vhost'] == 'v2' and q['consumers'] == 1
    assert call(port, 'GET', '/api/queues/%2F/q2') == (404, NOT_FOUND)
    assert call(port, 'GET', '/api/queues/v2/q3/bindings')[0] == 200
    for path in ['/api/queues/nosuch', '/api/queues/nosuch/q1', '/api/exchanges/nosuch', '/api/bindings/nosuch',
                 '/api/consumers/nosuch', '/api/vhosts/nosuch/connections', '/api/vhosts/nosuch/channels']:
        assert call(port, 'GET', path) == (404, NOT_FOUND), path


def test_exchanges_bindings_consumers_of_every_vhost(two):
    port = two.mgmt_port
    s, xs = call(port, 'GET', '/api/exchanges')
    assert s == 200
    assert ('v2', 'x2') in [(x['vhost'], x['name']) for x in xs]
    assert ('/', 'amq.direct') in [(x['vhost'], x['name']) for x in xs]
    assert ('v2', 'amq.direct') in [(x['vhost'], x['name']) for x in xs]
    s, xs = call(port, 'GET', '/api/exchanges/v2')
    assert {x['vhost'] for x in xs} == {'v2'} and 'x2' in [x['name'] for x in xs]
    s, x = call(port, 'GET', '/api/exchanges/v2/x2')
    assert s == 200 and x['vhost'] == 'v2' and x['type'] == 'direct'
    assert call(port, 'GET', '/api/exchanges/%2F/x2') == (404, NOT_FOUND)
    s, bs = call(port, 'GET', '/api/bindings')
    assert ('v2', 'x2', 'q2', 'k') in [(b['vhost'], b['source'], b['destination'], b['routing_key']) for b in bs]
    assert ('/', '', 'q1') in [(b['vhost'], b['source'], b['destination']) for b in bs]
    s, bs = call(port, 'GET', '/api/bindings/v2')
    assert {b['vhost'] for b in bs} == {'v2'}
    s, bs = call(port, 'GET', '/api/exchanges/v2/x2/bindings/source')
    assert s == 200 and [(b['vhost'], b['destination']) for b in bs] == [('v2', 'q2')]
    s, cs = call(port, 'GET', '/api/consumers')
    assert [(c['queue']['vhost'], c['queue']['name']) for c in cs] == [('v2', 'q2')]
    assert call(port, 'GET', '/api/consumers/%2F') == (200, [])


def test_overview_and_metrics_count_every_vhost(two):
    s, o = call(two.mgmt_port, 'GET', '/api/overview')
    assert s == 200
    assert o['queue_totals']['messages'] == 3 and o['queue_totals']['messages_ready'] == 3
    assert o['object_totals']['queues'] == 3
    assert o['object_totals']['consumers'] == 1
    assert o['object_totals']['connections'] == 2
    # the 7 default exchanges of each vhost, and x2
    assert o['object_totals']['exchanges'] == 7 + 7 + 1
    text = scrape(two.prom_port, '/metrics')
    assert sample(text, 'rabbitmq_queues') == 3
    assert sample(text, 'rabbitmq_queue_messages_ready') == 3
    assert sample(text, 'rabbitmq_consumers') == 1
    text = scrape(two.prom_port, '/metrics/per-object')
    assert sample(text, 'rabbitmq_queue_messages_ready', '{vhost="v2",queue="q3"}') == 1
    assert sample(text, 'rabbitmq_queue_messages_ready', '{vhost="/",queue="q1"}') == 2
    assert sample(text, 'rabbitmq_queue_consumers', '{vhost="v2",queue="q2"}') == 1


def test_management_user_sees_only_its_vhosts(two):
    port = two.mgmt_port
    assert call(port, 'PUT', '/api/users/mgr', {'password': 'pw', 'tags': 'management'})[0] == 201
    assert call(port, 'PUT', '/api/permissions/v2/mgr', {'configure': '.*', 'write': '.*', 'read': '.*'})[0] == 201
    assert call(port, 'PUT', '/api/users/mon', {'password': 'pw', 'tags': 'monitoring'})[0] == 201
    s, qs = call(port, 'GET', '/api/queues', user='mgr', password='pw')
    assert s == 200 and [(q['vhost'], q['name']) for q in qs] == [('v2', 'q2'), ('v2', 'q3')]
    s, page = call(port, 'GET', '/api/queues?page=1', user='mgr', password='pw')
    assert page['total_count'] == 2
    s, xs = call(port, 'GET', '/api/exchanges', user='mgr', password='pw')
    assert {x['vhost'] for x in xs} == {'v2'}
    s, bs = call(port, 'GET', '/api/bindings', user='mgr', password='pw')
    assert {b['vhost'] for b in bs} == {'v2'}
    assert call(port, 'GET', '/api/queues/v2', user='mgr', password='pw')[0] == 200
    # a vhost it has no permissions on: RabbitMQ's 401
    refused = (401, {'error': 'not_authorised', 'reason': 'Access refused.'})
    for path in ['/api/queues/%2F', '/api/queues/%2F/q1', '/api/exchanges/%2F', '/api/bindings/%2F']:
        assert call(port, 'GET', path, user='mgr', password='pw') == refused, path
    # a missing one is still 404
    assert call(port, 'GET', '/api/queues/nosuch', user='mgr', password='pw') == (404, NOT_FOUND)
    # monitoring sees every vhost
    s, qs = call(port, 'GET', '/api/queues', user='mon', password='pw')
    assert [(q['vhost'], q['name']) for q in qs] == [('/', 'q1'), ('v2', 'q2'), ('v2', 'q3')]


def wait_for(fn, timeout=10):
    import time
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.1)


def test_management_user_sees_its_own_sessions_and_its_vhosts_totals(two):
    """As RabbitMQ 3.10 answers a management-tagged user (checked on the
    reference node): /api/connections and /api/channels list only its own;
    another user's connection or channel by name is 401 "User not
    authorised to access object" (GET and DELETE); /api/overview's totals
    cover only its vhosts, connections and channels only its own, and
    object_totals has no "consumers".  Monitoring users see everything."""
    import urllib.parse
    port = two.mgmt_port
    assert call(port, 'PUT', '/api/users/mgr', {'password': 'pw', 'tags': 'management'})[0] == 201
    assert call(port, 'PUT', '/api/permissions/v2/mgr', {'configure': '.*', 'write': '.*', 'read': '.*'})[0] == 201
    assert call(port, 'PUT', '/api/users/mon', {'password': 'pw', 'tags': 'monitoring'})[0] == 201
    own = pika.BlockingConnection(pika.URLParameters('amqp://mgr:pw@127.0.0.1:%d/v2' % two.port))
    own.channel()
    try:
        conns = wait_for(lambda: [c for c in call(port, 'GET', '/api/connections')[1] if c['user'] == 'mgr'])
        assert conns
        s, mine = call(port, 'GET', '/api/connections', user='mgr', password='pw')
        assert s == 200 and [c['user'] for c in mine] == ['mgr']
        s, chans = call(port, 'GET', '/api/channels', user='mgr', password='pw')
        assert s == 200 and [c['user'] for c in chans] == ['mgr']
        s, page = call(port, 'GET', '/api/connections?page=1', user='mgr', password='pw')
        assert page['total_count'] == 1
        guest_conn = [c for c in call(port, 'GET', '/api/connections')[1] if c['user'] == 'guest'][0]['name']
        guest_chan = [c for c in call(port, 'GET', '/api/channels')[1] if c['user'] == 'guest'][0]['name']
        theirs = (401, {'error': 'not_authorised', 'reason': 'User not authorised to access object'})
        q = lambda n: urllib.parse.quote(n, safe='')  # noqa: E731
        assert call(port, 'GET', '/api/connections/' + q(guest_conn), user='mgr', password='pw') == theirs
        assert call(port, 'GET', '/api/channels/' + q(guest_chan), user='mgr', password='pw') == theirs
        assert call(port, 'DELETE', '/api/connections/' + q(guest_conn), user='mgr', password='pw') == theirs
        assert call(port, 'GET', '/api/connections/' + q(guest_conn))[0] == 200  # still open
        assert call(port, 'GET', '/api/connections/' + q(mine[0]['name']), user='mgr', password='pw')[0] == 200
        s, o = call(port, 'GET', '/api/overview', user='mgr', password='pw')
        assert s == 200
        ot = o['object_totals']
        assert 'consumers' not in ot
        assert ot['connections'] == 1 and ot['channels'] == 1
        assert ot['queues'] == 2  # v2's q2, q3; not /'s q1
        assert o['queue_totals']['messages_ready'] == 1  # q3's; q1's two are in /
        s, o = call(port, 'GET', '/api/overview', user='mon', password='pw')
        assert o['object_totals']['connections'] == 3 and o['object_totals']['queues'] == 3
        assert o['object_totals']['consumers'] == 1
        assert o['queue_totals']['messages_ready'] == 3
        s, all_ = call(port, 'GET', '/api/connections', user='mon', password='pw')
        assert sorted(c['user'] for c in all_) == ['guest', 'guest', 'mgr']
    finally:
        own.close()


def test_vhost_shows_its_own_counts_rates_and_octets(two):
    """GET /api/vhosts/{vh}: its counts with their *_details rates, its
    message_stats and its connections' recv_oct/send_oct, as RabbitMQ's
    (only that vhost's: v2 has q3's one message, / has q1's two)."""
    port = two.mgmt_port
    s, v2 = call(port, 'GET', '/api/vhosts/v2')
    assert s == 200
    assert v2['messages_ready'] == 1 and v2['messages'] == 1
    assert 'rate' in v2['messages_details'] and 'rate' in v2['messages_ready_details']
    assert v2['message_stats']['publish'] == 1
    assert v2['recv_oct'] > 0 and v2['send_oct'] > 0 and 'rate' in v2['recv_oct_details']
    s, root = call(port, 'GET', '/api/vhosts/%2F')
    assert root['messages_ready'] == 2 and root['message_stats']['publish'] == 2
    s, vs = call(port, 'GET', '/api/vhosts')
    assert {v['name']: v['messages'] for v in vs} == {'/': 2, 'v2': 1}


@pytest.mark.parametrize('how', ['kill', 'term'])
def test_a_deleted_vhost_with_an_auto_delete_exchange_does_not_stop_the_next_start(broker_factory, how):
    """Found by the protocol walk with TLS on (tests/fuzz/protocol_walk.py
    --tls): a vhost holding a durable auto-delete exchange bound to a
    durable queue, deleted over the API.  Its queues go a slice a loop
    turn after the vhost's deletion record; the exchange, losing its last
    binding with them, was auto-deleted and recorded as deleted *in the
    deleted vhost*, after that record: the next start refused the data
    directory ("a definition in vhost 'fz-v', which the log never
    created") and the broker did not come up.  Now nothing is recorded
    for a deleted vhost's exchanges (its own record says it), and the
    broker restarts with the vhost gone, or as made again."""
    b = broker_factory(management=True)
    b.require_control()
    assert call(b.mgmt_port, 'PUT', '/api/vhosts/fz-v', {'description': 'walk'})[0] == 201
    perms = {'configure': '.*', 'write': '.*', 'read': '.*'}
    assert call(b.mgmt_port, 'PUT', '/api/permissions/fz-v/guest', perms)[0] in (201, 204)
    conn = pika.BlockingConnection(pika.ConnectionParameters(b.host, b.port, 'fz-v',
                                                             pika.PlainCredentials('guest', 'guest')))
    ch = conn.channel()
    ch.exchange_declare('fz-auto', 'topic', durable=True, auto_delete=True)
    ch.queue_declare('fz-q', durable=True)
    ch.queue_bind('fz-q', 'fz-auto', 'a.#')
    conn.close()
    assert call(b.mgmt_port, 'DELETE', '/api/vhosts/fz-v')[0] == 204
    # made again at once, as the walk did, with a queue of its own
    assert call(b.mgmt_port, 'PUT', '/api/vhosts/fz-v', {'description': 'again'})[0] == 201
    assert call(b.mgmt_port, 'PUT', '/api/permissions/fz-v/guest', perms)[0] in (201, 204)
    assert call(b.mgmt_port, 'PUT', '/api/queues/fz-v/fz-again', {'durable': True})[0] == 201
    time.sleep(0.3)  # the deleted vhost's queues go on the next turns
    if how == 'kill':
        b.kill()
        b.start()
    else:
        b.restart()
    status, body = call(b.mgmt_port, 'GET', '/api/queues/fz-v')
    assert status == 200
    assert [q['name'] for q in body] == ['fz-again']
    assert call(b.mgmt_port, 'GET', '/api/exchanges/fz-v/fz-auto')[0] == 404
