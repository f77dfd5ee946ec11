"""Issue 13: the HTTP API's endpoints that change or fetch things through
the domain API (src/http/domain.c, body.c): queues, exchanges, bindings,
get, publish, the aliveness test and the definitions.

Each expected status and body was taken from the reference RabbitMQ 3.10.8
management (127.0.0.1:15673) with curl:
  - PUT a queue: 201 new, 204 an equivalent one exists; an inequivalent
    one is 400 {"error":"bad_request","reason":"inequivalent arg 'durable'
    for queue ..."}; a bad boolean 400 ["not_boolean",value]; null in the
    arguments 400 "null_not_allowed"; a missing vhost 404
    {"error":"not_found","reason":"vhost_not_found"}; an amq. name 401
    {"error":"not_authorised","reason":"Access refused."};
  - DELETE a missing queue, purge of one: 404 Object Not Found;
    ?if-empty=true of a queue with messages: 400 "queue 'q' in vhost '/'
    not empty";
  - get: a list of {payload_bytes, redelivered, exchange, routing_key,
    message_count, properties ([] when none), payload, payload_encoding};
    a missing key 400 "[{key_missing,count}]"; a missing queue 404
    {"error":"not_found","reason":"NOT_FOUND - no queue 'x' in vhost '/'"};
  - publish: {"routed": bool}; refusals 400 with "CODE NAME - text";
  - bindings: 201 with Location "{destination}/{props}", the props key
    "~", the key form-encoded, and "~hash" with arguments.
"""
import base64
import hashlib
import json
import os
import subprocess
import urllib.error
import urllib.request

import pika
import pytest

RABBITMQADMIN = '/usr/bin/rabbitmqadmin'
NOT_FOUND = {'error': 'Object Not Found', 'reason': 'Not Found'}


def admin(broker, *args):
    if not os.path.exists(RABBITMQADMIN):
        pytest.skip('rabbitmqadmin is not installed (Debian package rabbitmq-server)')
    r = subprocess.run([RABBITMQADMIN, '-H', '127.0.0.1', '-P', str(broker.mgmt_port), '-u', 'guest', '-p',
                        'guest'] + list(args), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def call(broker, method, path, body=None, raw=None):
    """urllib: (status, headers, parsed JSON body or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (broker.mgmt_port, path), data=data, method=method)
    req.add_header('Authorization', 'Basic ' + base64.b64encode(b'guest:guest').decode())
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, headers, text = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, headers, text = e.code, dict(e.headers), e.read()
    return status, headers, (json.loads(text) if text else None)


def bad(reason):
    return {'error': 'bad_request', 'reason': reason}


def amqp(broker):
    return pika.BlockingConnection(pika.URLParameters(broker.url))


def publish(broker, rk, payload, props=None, exchange='amq.default', encoding='string'):
    return call(broker, 'POST', '/api/exchanges/%%2F/%s/publish' % exchange,
                {'routing_key': rk, 'payload': payload, 'payload_encoding': encoding, 'properties': props or {}})


def get(broker, q, count=1, ackmode='ack_requeue_false', encoding='auto', **kw):
    body = dict(count=count, ackmode=ackmode, encoding=encoding, **kw)
    return call(broker, 'POST', '/api/queues/%%2F/%s/get' % q, body)


# ------------------------------------------------------------ rabbitmqadmin

def test_rabbitmqadmin_declare_publish_get_purge_delete(mgmt, qname):
    admin(mgmt, 'declare', 'queue', 'name=' + qname, 'durable=true')
    admin(mgmt, 'declare', 'exchange', 'name=%s.x' % qname, 'type=topic')
    admin(mgmt, 'declare', 'binding', 'source=%s.x' % qname, 'destination=' + qname, 'routing_key=a.#')
    assert 'Message published' in admin(mgmt, 'publish', 'routing_key=' + qname, 'payload=hi')
    admin(mgmt, 'publish', 'exchange=%s.x' % qname, 'routing_key=a.b', 'payload=hi2')
    got = json.loads(admin(mgmt, '-f', 'raw_json', 'get', 'queue=' + qname, 'ackmode=ack_requeue_false'))
    assert [(m['payload'], m['message_count'], m['redelivered']) for m in got] == [('hi', 1, False)]
    got = json.loads(admin(mgmt, '-f', 'raw_json', 'get', 'queue=' + qname, 'ackmode=ack_requeue_true'))
    assert [(m['payload'], m['exchange'], m['routing_key']) for m in got] == [('hi2', qname + '.x', 'a.b')]
    # requeued: a pika consumer sees it, redelivered
    c = amqp(mgmt)
    ch = c.channel()
    method, props, body = ch.basic_get(qname)
    assert body == b'hi2' and method.redelivered
    ch.basic_nack(method.delivery_tag, requeue=True)
    assert 'queue purged' in admin(mgmt, 'purge', 'queue', 'name=' + qname)
    assert ch.queue_declare(qname, passive=True, durable=True).method.message_count == 0
    admin(mgmt, 'delete', 'queue', 'name=' + qname)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        ch.queue_declare(qname, passive=True)
    c.close()
    admin(mgmt, 'delete', 'exchange', 'name=%s.x' % qname)


def test_rabbitmqadmin_export_import_round_trip(mgmt, qname, tmp_path):
    c = amqp(mgmt)
    ch = c.channel()
    ch.queue_declare(qname, durable=True, arguments={'x-max-length': 10})
    ch.exchange_declare(qname + '.x', 'headers', durable=True)
    ch.queue_bind(qname, qname + '.x', '', arguments={'x-match': 'all', 'k': 'v'})
    ch.queue_declare('', exclusive=True)       # never exported
    f = str(tmp_path / 'defs.json')
    admin(mgmt, 'export', f)
    defs = json.load(open(f))
    assert {'name': qname, 'vhost': '/', 'durable': True, 'auto_delete': False,
            'arguments': {'x-max-length': 10}} in defs['queues']
    assert [q for q in defs['queues'] if q['name'].startswith('amq.gen')] == []
    assert {'name': qname + '.x', 'vhost': '/', 'type': 'headers', 'durable': True, 'auto_delete': False,
            'internal': False, 'arguments': {}} in defs['exchanges']
    assert {'source': qname + '.x', 'vhost': '/', 'destination': qname, 'destination_type': 'queue',
            'routing_key': '', 'arguments': {'x-match': 'all', 'k': 'v'}} in defs['bindings']
    assert defs['vhosts'] == [{'name': '/'}]
    assert {'user': 'guest', 'vhost': '/', 'configure': '.*', 'write': '.*', 'read': '.*'} in defs['permissions']
    assert not [x for x in defs['exchanges'] if x['name'] == '' or x['name'].startswith('amq.')]
    ch.queue_delete(qname)
    ch.exchange_delete(qname + '.x')
    c.close()
    assert 'Uploaded definitions' in admin(mgmt, 'import', f)
    c = amqp(mgmt)
    ch = c.channel()
    ch.queue_declare(qname, durable=True, passive=True)
    ch.basic_publish(qname + '.x', '', b'routed', pika.BasicProperties(headers={'k': 'v'}))
    assert ch.basic_get(qname, auto_ack=True)[2] == b'routed'
    c.close()
    status, _, again = call(mgmt, 'GET', '/api/definitions')
    assert status == 200 and sorted(map(json.dumps, again['queues'])) == sorted(
        map(json.dumps, [q for q in defs['queues']]))


# ------------------------------------------------------------------ queues

def test_put_queue_is_seen_by_amqp_and_redeclare_follows_rabbitmq(mgmt, qname):
    path = '/api/queues/%2F/' + qname
    assert call(mgmt, 'PUT', path, {'durable': True, 'auto_delete': False, 'arguments': {'x-max-length': 2}})[0] == 201
    assert call(mgmt, 'PUT', path, {'durable': True, 'arguments': {'x-max-length': 2}})[0] == 204
    status, _, body = call(mgmt, 'PUT', path, {'durable': False})
    assert (status, body) == (400, bad("inequivalent arg 'durable' for queue '%s' in vhost '/': received 'false' "
                                       "but current is 'true'" % qname))
    c = amqp(mgmt)
    ch = c.channel()
    ok = ch.queue_declare(qname, durable=True, arguments={'x-max-length': 2})
    assert ok.method.message_count == 0
    for i in range(3):
        ch.basic_publish('', qname, b'%d' % i)
    assert ch.queue_declare(qname, passive=True).method.message_count == 2   # x-max-length from HTTP
    c.close()


def test_put_queue_bad_input_is_400_with_rabbitmqs_reason(mgmt, qname):
    path = '/api/queues/%2F/' + qname
    assert call(mgmt, 'PUT', path, {'durable': 'yes'})[2] == bad(['not_boolean', 'yes'])
    assert call(mgmt, 'PUT', path, {'durable': 1})[2] == bad(['not_boolean', 1])
    assert call(mgmt, 'PUT', path, {'arguments': {'x-n': None}})[2] == bad('null_not_allowed')
    assert call(mgmt, 'PUT', path, {'arguments': {'x-max-length': '10'}})[2] == bad(
        "invalid arg 'x-max-length' for queue '%s' in vhost '/': \"expected integer, got longstr\"" % qname)
    status, _, body = call(mgmt, 'PUT', path, {'arguments': 'x'})
    assert status == 400 and 'arguments' in body['reason']
    assert call(mgmt, 'PUT', path, raw=b'{bad json')[::2] == (400, bad('not_json'))
    assert call(mgmt, 'PUT', path, raw=b'[1]')[::2] == (400, bad('not_json'))
    deep = {}
    for _ in range(40):
        deep = {'a': deep}
    status, _, body = call(mgmt, 'PUT', path, {'arguments': {'x-d': deep}})
    assert status == 400 and 'nested' in body['reason']
    # nothing was declared by any of them
    assert call(mgmt, 'DELETE', path)[0] == 404
    # the strings "true"/"false" are booleans, as in RabbitMQ
    assert call(mgmt, 'PUT', path, {'durable': 'true'})[0] == 201
    assert call(mgmt, 'PUT', path, {'durable': True})[0] == 204


def test_put_queue_vhost_and_reserved_names(mgmt, qname):
    assert call(mgmt, 'PUT', '/api/queues/other/' + qname, {})[::2] == \
        (404, {'error': 'not_found', 'reason': 'vhost_not_found'})
    s, _, b = call(mgmt, 'PUT', '/api/queues/%2F/amq.' + qname, {})
    assert (s, b) == (401, {'error': 'not_authorised', 'reason': 'Access refused.'})
    assert call(mgmt, 'PUT', '/api/queues/%2F/' + qname, raw=b'')[0] == 201   # an empty body: defaults


def test_delete_queue_if_empty_if_unused_and_purge(mgmt, qname):
    path = '/api/queues/%2F/' + qname
    assert call(mgmt, 'DELETE', path)[2] == NOT_FOUND
    assert call(mgmt, 'DELETE', path + '/contents')[2] == NOT_FOUND
    assert call(mgmt, 'PUT', path, {})[0] == 201
    assert publish(mgmt, qname, 'x')[2] == {'routed': True}
    assert call(mgmt, 'DELETE', path + '?if-empty=true')[2] == bad("queue '%s' in vhost '/' not empty" % qname)
    c = amqp(mgmt)
    ch = c.channel()
    ch.basic_consume(qname, lambda *a: None)
    c.process_data_events(0.2)
    assert call(mgmt, 'DELETE', path + '?if-unused=true')[2] == bad("queue '%s' in vhost '/' in use" % qname)
    c.close()
    assert call(mgmt, 'DELETE', path + '/contents')[0] == 204
    assert call(mgmt, 'DELETE', path + '?if-empty=true&if-unused=true')[0] == 204
    assert call(mgmt, 'DELETE', path)[0] == 404


def test_exclusive_queue_of_a_connection_is_locked_over_http(mgmt):
    c = amqp(mgmt)
    q = c.channel().queue_declare('', exclusive=True).method.queue
    locked = ("cannot obtain exclusive access to locked queue '%s' in vhost '/'. It could be originally declared "
              "on another connection or the exclusive property value does not match that of the original "
              "declaration." % q)
    assert call(mgmt, 'DELETE', '/api/queues/%2F/' + q)[::2] == (400, bad(locked))
    assert call(mgmt, 'DELETE', '/api/queues/%2F/' + q + '/contents')[::2] == (400, bad(locked))
    assert call(mgmt, 'POST', '/api/bindings/%2F/e/amq.direct/q/' + q, {'routing_key': 'k'})[::2] == \
        (400, bad(locked))
    assert get(mgmt, q)[::2] == (400, bad('405 RESOURCE_LOCKED - ' + locked))
    c.channel().queue_declare(q, passive=True)      # still there
    c.close()


# --------------------------------------------------------------------- get

def test_get_ackmodes(mgmt, qname):
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {'durable': True})
    for i in range(3):
        publish(mgmt, qname, 'm%d' % i)
    # ack_requeue_true: N distinct messages, all back in place, redelivered
    s, _, got = get(mgmt, qname, count=2, ackmode='ack_requeue_true')
    assert s == 200 and [(m['payload'], m['message_count'], m['redelivered']) for m in got] == \
        [('m0', 2, False), ('m1', 1, False)]
    s, _, got = get(mgmt, qname, count=5, ackmode='reject_requeue_true')
    assert [(m['payload'], m['redelivered']) for m in got] == [('m0', True), ('m1', True), ('m2', False)]
    # reject_requeue_false and ack_requeue_false take them out
    s, _, got = get(mgmt, qname, count=1, ackmode='reject_requeue_false')
    assert [m['payload'] for m in got] == ['m0']
    s, _, got = get(mgmt, qname, count=1, ackmode='ack_requeue_false')
    assert [m['payload'] for m in got] == ['m1']
    c = amqp(mgmt)
    ch = c.channel()
    assert ch.queue_declare(qname, passive=True).method.message_count == 1
    method, _, body = ch.basic_get(qname, auto_ack=True)
    assert body == b'm2' and method.redelivered
    c.close()
    assert get(mgmt, qname, count=3)[2] == []


def test_get_requeue_counts_deliveries_on_a_quorum_queue(mgmt, qname):
    """Issue 15: a get with requeue is a return, as basic.get and a nack
    are; the reply shows x-delivery-count from the second get on."""
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {'durable': True, 'arguments': {'x-queue-type': 'quorum'}})
    publish(mgmt, qname, 'job')
    counts = []
    for _ in range(3):
        got = get(mgmt, qname, ackmode='ack_requeue_true')[2]
        props = got[0]['properties'] or {}    # [] when there are none, as RabbitMQ prints it
        counts.append(props.get('headers', {}).get('x-delivery-count'))
    assert counts == [None, 1, 2]


def test_get_reject_requeue_false_dead_letters(mgmt, qname):
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname + '.dlq', {})
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {'arguments': {'x-dead-letter-exchange': '',
                                                                 'x-dead-letter-routing-key': qname + '.dlq'}})
    publish(mgmt, qname, 'dead')
    assert [m['payload'] for m in get(mgmt, qname, ackmode='reject_requeue_false')[2]] == ['dead']
    got = get(mgmt, qname + '.dlq')[2]
    assert [m['payload'] for m in got] == ['dead']
    assert got[0]['properties']['headers']['x-death'][0]['reason'] == 'rejected'


def test_get_encoding_truncate_and_properties(mgmt, qname):
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {})
    c = amqp(mgmt)
    ch = c.channel()
    ch.basic_publish('', qname, b'\x00\x01\x02\xff', pika.BasicProperties(
        content_type='text/plain', headers={'a': 1, 'b': 'x', 'c': [1, 2], 'd': {'e': True}}, delivery_mode=2,
        priority=3, message_id='m1', timestamp=1700000000, app_id='app'))
    ch.basic_publish('', qname, 'h\u00e9llo'.encode())
    c.close()
    s, _, got = get(mgmt, qname, count=2, ackmode='ack_requeue_true')
    assert got[0] == {
        'payload_bytes': 4, 'redelivered': False, 'exchange': '', 'routing_key': qname, 'message_count': 1,
        'properties': {'app_id': 'app', 'timestamp': 1700000000, 'message_id': 'm1', 'priority': 3,
                       'delivery_mode': 2, 'headers': {'a': 1, 'b': 'x', 'c': [1, 2], 'd': {'e': True}},
                       'content_type': 'text/plain'},
        'payload': 'AAEC/w==', 'payload_encoding': 'base64'}
    assert list(got[0]['properties']) == ['app_id', 'timestamp', 'message_id', 'priority', 'delivery_mode',
                                          'headers', 'content_type']     # RabbitMQ's order
    assert got[1]['properties'] == [] and got[1]['payload'] == 'h\u00e9llo' and got[1]['payload_encoding'] == 'string'
    s, _, got = get(mgmt, qname, count=2, ackmode='ack_requeue_true', encoding='base64', truncate=2)
    assert [(m['payload'], m['payload_bytes']) for m in got] == [('AAE=', 4), ('aMM=', 6)]


def test_get_bad_input(mgmt, qname):
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {})
    publish(mgmt, qname, 'keep')
    path = '/api/queues/%2F/' + qname + '/get'
    assert call(mgmt, 'POST', path, {'ackmode': 'ack_requeue_true', 'encoding': 'auto'})[2] == \
        bad('[{key_missing,count}]')
    assert call(mgmt, 'POST', path, {'count': 1, 'encoding': 'auto'})[2] == bad('[{key_missing,ackmode}]')
    assert call(mgmt, 'POST', path, {'count': 1, 'ackmode': 'ack_requeue_true'})[2] == \
        bad('[{key_missing,encoding}]')
    assert call(mgmt, 'POST', path, {'count': 'x', 'ackmode': 'ack_requeue_true', 'encoding': 'auto'})[2] == \
        bad(['not_integer', 'x'])
    assert call(mgmt, 'POST', path, {'count': 1, 'ackmode': 'ack_requeue_true', 'encoding': 'x'})[2] == \
        bad('Unsupported encoding. Please use auto or base64.')
    s, _, b = call(mgmt, 'POST', path, {'count': 1, 'ackmode': 'bogus', 'encoding': 'auto'})
    assert s == 400 and 'ackmode' in b['reason']
    s, _, b = call(mgmt, 'POST', path, {'count': -1, 'ackmode': 'ack_requeue_false', 'encoding': 'auto'})
    assert s == 400 and 'count' in b['reason']
    s, _, b = call(mgmt, 'POST', path, {'count': 1, 'ackmode': 'ack_requeue_false', 'encoding': 'auto',
                                        'truncate': -1})
    assert s == 400 and 'truncate' in b['reason']
    assert call(mgmt, 'POST', path, raw=b'')[2] == bad('[{key_missing,count}]')
    assert call(mgmt, 'POST', '/api/queues/%2F/nope' + qname + '/get',
                {'count': 1, 'ackmode': 'ack_requeue_true', 'encoding': 'auto'})[::2] == \
        (404, {'error': 'not_found', 'reason': "NOT_FOUND - no queue 'nope%s' in vhost '/'" % qname})
    # nothing lost
    assert [m['payload'] for m in get(mgmt, qname)[2]] == ['keep']


# ----------------------------------------------------------------- publish

def test_publish_is_consumed_by_pika_with_its_properties(mgmt, qname):
    c = amqp(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    s, _, b = publish(mgmt, qname, base64.b64encode(b'\x00bin\xff').decode(), encoding='base64', props={
        'delivery_mode': 2, 'content_type': 'application/octet-stream', 'priority': 4, 'correlation_id': 'c',
        'reply_to': 'r', 'expiration': '60000', 'message_id': 'mid', 'timestamp': 1700000000, 'type': 't',
        'user_id': 'guest', 'app_id': 'a', 'content_encoding': 'gzip',
        'headers': {'i': 1, 's': 'x', 'f': 1.5, 'b': True, 'l': [1, 'a'], 't': {'n': 2}}})
    assert (s, b) == (200, {'routed': True})
    method, p, body = ch.basic_get(qname, auto_ack=True)
    assert body == b'\x00bin\xff'
    assert (p.delivery_mode, p.content_type, p.priority, p.correlation_id, p.reply_to, p.expiration,
            p.message_id, p.timestamp, p.type, p.user_id, p.app_id, p.content_encoding) == \
        (2, 'application/octet-stream', 4, 'c', 'r', '60000', 'mid', 1700000000, 't', 'guest', 'a', 'gzip')
    # a real is a double ('d'), which pika's decoder truncates to an integer
    assert p.headers == {'i': 1, 's': 'x', 'f': 1, 'b': True, 'l': [1, 'a'], 't': {'n': 2}}
    assert publish(mgmt, 'nowhere-' + qname, 'x')[2] == {'routed': False}
    c.close()


def test_publish_refusals(mgmt, qname):
    p = '/api/exchanges/%2F/amq.default/publish'
    full = {'routing_key': 'a', 'payload': 'x', 'payload_encoding': 'string', 'properties': {}}
    for key in ('routing_key', 'payload', 'payload_encoding', 'properties'):
        body = dict(full)
        del body[key]
        assert call(mgmt, 'POST', p, body)[2] == bad('[{key_missing,%s}]' % key)
    assert call(mgmt, 'POST', p, dict(full, payload_encoding='bogus'))[2] == bad(['unsupported_encoding', 'bogus'])
    assert call(mgmt, 'POST', p, dict(full, payload='!!!', payload_encoding='base64'))[2] == \
        bad(['not_base64', '!!!'])
    assert call(mgmt, 'POST', p, dict(full, payload=5))[2] == bad('payload_not_string')
    assert call(mgmt, 'POST', p, dict(full, properties={'delivery_mode': 'x'}))[2] == \
        bad(['not_int', 'delivery_mode'])
    assert call(mgmt, 'POST', p, dict(full, properties={'expiration': 5}))[2] == bad(['not_string', 'expiration'])
    assert call(mgmt, 'POST', p, dict(full, properties={'user_id': 'bob'}))[2] == \
        bad("406 PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'")
    assert call(mgmt, 'POST', p, dict(full, properties={'expiration': 'abc'}))[2] == \
        bad("406 PRECONDITION_FAILED - invalid expiration 'abc': no_integer")
    assert call(mgmt, 'POST', '/api/exchanges/%2F/nosuch' + qname + '/publish', full)[2] == \
        bad("404 NOT_FOUND - no exchange 'nosuch%s' in vhost '/'" % qname)
    for props in ([], {'headers': 5}, {'priority': 300}):
        s, _, b = call(mgmt, 'POST', p, dict(full, properties=props))
        assert s == 400, (props, b)
    call(mgmt, 'PUT', '/api/exchanges/%2F/' + qname, {'type': 'direct', 'internal': True})
    assert call(mgmt, 'POST', '/api/exchanges/%%2F/%s/publish' % qname, full)[2] == \
        bad("403 ACCESS_REFUSED - cannot publish to internal exchange '%s' in vhost '/'" % qname)


def test_publish_over_max_message_size_is_refused(broker_factory, qname):
    b = broker_factory('--max-message-size', '1000', management=True)
    if b.external:
        pytest.skip('needs a warren of its own')
    call(b, 'PUT', '/api/queues/%2F/' + qname, {})
    s, _, body = publish(b, qname, 'x' * 1001)
    assert s == 400 and body['reason'] == \
        '406 PRECONDITION_FAILED - message size 1001 is larger than configured max size 1000'
    assert get(b, qname)[2] == []


# --------------------------------------------------------------- exchanges

def test_put_delete_exchange(mgmt, qname):
    path = '/api/exchanges/%2F/' + qname
    assert call(mgmt, 'PUT', path, {'type': 'fanout', 'durable': True})[0] == 201
    assert call(mgmt, 'PUT', path, {'type': 'fanout', 'durable': True})[0] == 204
    assert call(mgmt, 'PUT', path, {'type': 'direct', 'durable': True})[2] == bad(
        "inequivalent arg 'type' for exchange '%s' in vhost '/': received 'direct' but current is 'fanout'" % qname)
    assert call(mgmt, 'PUT', path + '2', {'type': 'xyzzy123'})[2] == bad("unknown exchange type 'xyzzy123'")
    assert call(mgmt, 'PUT', path + '2', {'type': ''})[2] == bad("invalid exchange type ''")
    assert call(mgmt, 'PUT', path + '2', {'type': 'direct', 'arguments': {'alternate-exchange': 5}})[2] == bad(
        "invalid type 'long' for arg 'alternate-exchange' in exchange '%s2' in vhost '/'" % qname)
    refused = {'error': 'not_authorised', 'reason': 'Access refused.'}
    assert call(mgmt, 'PUT', '/api/exchanges/%2F/amq.default', {'type': 'direct'})[2] == refused
    assert call(mgmt, 'DELETE', '/api/exchanges/%2F/amq.direct')[2] == refused
    assert call(mgmt, 'DELETE', '/api/exchanges/%2F/nosuch')[2] == NOT_FOUND
    c = amqp(mgmt)
    ch = c.channel()
    ch.exchange_declare(qname, 'fanout', passive=True)
    q = ch.queue_declare('', exclusive=True).method.queue
    ch.queue_bind(q, qname)
    assert call(mgmt, 'DELETE', path + '?if-unused=true')[2] == bad("exchange '%s' in vhost '/' in use" % qname)
    assert call(mgmt, 'DELETE', path)[0] == 204
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        ch.exchange_declare(qname, 'fanout', passive=True)
    c.close()


# ---------------------------------------------------------------- bindings

def test_bindings_location_props_key_and_delete(mgmt, qname):
    call(mgmt, 'PUT', '/api/exchanges/%2F/' + qname, {'type': 'direct'})
    call(mgmt, 'PUT', '/api/exchanges/%2F/' + qname + '.e2', {'type': 'fanout'})
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {})
    base = '/api/bindings/%%2F/e/%s/q/%s' % (qname, qname)
    s, h, _ = call(mgmt, 'POST', base, {'routing_key': '', 'arguments': {}})
    assert (s, h['Location']) == (201, qname + '/~')
    s, h, _ = call(mgmt, 'POST', base, {'routing_key': 'a b/c%d~e', 'arguments': {}})
    assert h['Location'] == qname + '/a%2Bb%252Fc%2525d%257Ee'
    s, h, _ = call(mgmt, 'POST', base, {'routing_key': 'k', 'arguments': {'x': 1}})
    loc_args = h['Location']
    assert loc_args.startswith(qname + '/k~') and len(loc_args) == len(qname) + 1 + 2 + 6
    s, h, _ = call(mgmt, 'POST', '/api/bindings/%%2F/e/%s/e/%s.e2' % (qname, qname), {'routing_key': 'k'})
    assert (s, h['Location']) == (201, qname + '.e2/k')
    assert call(mgmt, 'POST', '/api/bindings/%%2F/e/%s/q/nosuch' % qname, {})[::2] == \
        (404, {'error': 'not_found', 'reason': "no queue 'nosuch' in vhost '/'"})
    assert call(mgmt, 'POST', '/api/bindings/%%2F/e/nosuch/q/%s' % qname, {})[::2] == \
        (404, {'error': 'not_found', 'reason': "no exchange 'nosuch' in vhost '/'"})
    # the bindings route over AMQP
    c = amqp(mgmt)
    ch = c.channel()
    ch.basic_publish(qname, 'a b/c%d~e', b'1')
    ch.basic_publish(qname, 'k', b'2')
    assert ch.queue_declare(qname, passive=True).method.message_count == 2
    # delete by properties key (percent-encoded in the path)
    assert call(mgmt, 'DELETE', base + '/a%2Bb%252Fc%2525d%257Ee')[0] == 204
    assert call(mgmt, 'DELETE', base + '/a%2Bb%252Fc%2525d%257Ee')[2] == NOT_FOUND
    assert call(mgmt, 'DELETE', base + '/' + loc_args.split('/')[1])[0] == 204
    assert call(mgmt, 'DELETE', base + '/k')[2] == NOT_FOUND          # the key alone is not it: args differ
    assert call(mgmt, 'DELETE', base + '/~')[0] == 204
    assert call(mgmt, 'DELETE', '/api/bindings/%%2F/e/%s/e/%s.e2/k' % (qname, qname))[0] == 204
    ch.basic_publish(qname, 'a b/c%d~e', b'3')
    ch.basic_publish(qname, 'k', b'4')
    assert ch.queue_declare(qname, passive=True).method.message_count == 2
    c.close()
    refused = {'error': 'not_authorised', 'reason': 'Access refused.'}
    assert call(mgmt, 'POST', '/api/bindings/%%2F/e/amq.default/q/%s' % qname, {})[2] == refused


# --------------------------------------------------------------- aliveness

def test_aliveness_test(mgmt):
    assert call(mgmt, 'GET', '/api/aliveness-test/%2F')[::2] == (200, {'status': 'ok'})
    assert call(mgmt, 'GET', '/api/aliveness-test/%2F')[2] == {'status': 'ok'}
    assert call(mgmt, 'GET', '/api/aliveness-test/other')[2] == NOT_FOUND
    c = amqp(mgmt)
    ok = c.channel().queue_declare('aliveness-test', passive=True)
    assert ok.method.message_count == 0
    c.close()


# ------------------------------------------------------------- definitions

def test_definitions_import_refuses_what_warren_cannot_keep(mgmt, qname):
    refusals = [
        ({'policies': [{'name': 'p', 'vhost': '/', 'pattern': '.*', 'definition': {}}]}, 'policies'),
        ({'parameters': [{'name': 'x'}]}, 'parameters'),
        ({'global_parameters': [{'name': 'cluster_name', 'value': 'x'}]}, 'global_parameters'),
        ({'topic_permissions': [{'user': 'guest'}]}, 'topic_permissions'),
        ({'vhosts': [{'name': ''}]}, 'vhost name'),
        ({'users': [{'name': 'bob', 'password_hash': 'x', 'tags': ''}]}, 'not_base64'),
        ({'users': [{'name': 'bob', 'password': 'x'}]}, 'tags_not_present'),
        ({'permissions': [{'user': 'guest', 'vhost': '/', 'configure': '(', 'write': '.*', 'read': '.*'}]},
         'invalid_regexp'),
        ({'permissions': [{'user': 'nobody', 'vhost': '/', 'configure': '', 'write': '.*', 'read': '.*'}]},
         "'nobody'"),
        ({'permissions': [{'user': 'guest', 'vhost': '/', 'write': '.*', 'read': '.*'}]},
         'key_missing,configure'),
        ({'queues': [{'name': qname, 'vhost': 'other'}]}, "'other'"),
        ({'queues': 5}, 'queues'),
        ({'bindings': [{'source': 'x', 'vhost': '/', 'destination': qname, 'destination_type': 'x'}]},
         'destination_type'),
    ]
    for defs, word in refusals:
        body = dict(defs, queues=defs.get('queues', [{'name': qname, 'vhost': '/', 'durable': True,
                                                      'auto_delete': False, 'arguments': {}}]))
        s, _, b = call(mgmt, 'POST', '/api/definitions', body)
        assert s == 400 and word in b['reason'], (defs, b)
        assert call(mgmt, 'DELETE', '/api/queues/%2F/' + qname)[0] == 404, defs    # nothing imported
    # RabbitMQ's own export (its cluster id, guest with a hash) is taken
    # (guest's hash: salt ++ sha256(salt ++ "guest"), as RabbitMQ's)
    salt = b'\x01\x02\x03\x04'
    guest_hash = base64.b64encode(salt + hashlib.sha256(salt + b'guest').digest()).decode()
    ok = {'rabbit_version': '3.10.8',
          'users': [{'name': 'guest', 'password_hash': guest_hash, 'tags': ['administrator']}],
          'vhosts': [{'name': '/'}], 'global_parameters': [{'name': 'internal_cluster_id', 'value': 'rabbitmq-x'}],
          'permissions': [{'user': 'guest', 'vhost': '/', 'configure': '.*', 'write': '.*', 'read': '.*'}],
          'policies': [], 'parameters': [], 'topic_permissions': [],
          'queues': [{'name': qname, 'vhost': '/', 'durable': True, 'auto_delete': False, 'arguments': {}}],
          'exchanges': [], 'bindings': []}
    assert call(mgmt, 'POST', '/api/definitions', ok)[0] == 204
    assert call(mgmt, 'DELETE', '/api/queues/%2F/' + qname)[0] == 204
    assert call(mgmt, 'GET', '/api/users/guest')[2]['password_hash'] == guest_hash


def test_broker_lives_after_garbage_bodies(mgmt, qname):
    paths = [('PUT', '/api/queues/%2F/' + qname), ('PUT', '/api/exchanges/%2F/' + qname),
             ('POST', '/api/queues/%2F/' + qname + '/get'), ('POST', '/api/exchanges/%2F/amq.default/publish'),
             ('POST', '/api/bindings/%2F/e/amq.direct/q/' + qname), ('POST', '/api/definitions')]
    bodies = [b'', b'{', b'null', b'"s"', b'{"arguments":{"a":[[[[{}]]]]}}', b'{"count":1e400}',
              b'{"properties":{"headers":{"\\u0000":1}}}', b'{"queues":[1,2,null]}', b'{"bindings":[{}]}',
              b'{"routing_key":"' + b'k' * 300 + b'"}', b'{"type":5}']
    for method, path in paths:
        for body in bodies:
            s, _, _ = call(mgmt, method, path, raw=body)
            assert s in (200, 201, 204, 400, 404), (method, path, body, s)
    assert call(mgmt, 'GET', '/api/aliveness-test/%2F')[2] == {'status': 'ok'}


def test_vhost_definitions(mgmt, qname):
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {'durable': True})
    s, _, d = call(mgmt, 'GET', '/api/definitions/%2F')
    assert s == 200 and list(d) == ['rabbit_version', 'parameters', 'policies', 'queues', 'exchanges', 'bindings']
    assert {'name': qname, 'durable': True, 'auto_delete': False, 'arguments': {}} in d['queues']
    assert call(mgmt, 'GET', '/api/definitions/other')[::2] == (400, bad('vhost_not_found'))
    call(mgmt, 'DELETE', '/api/queues/%2F/' + qname)
    # items without a vhost are the path's
    assert call(mgmt, 'POST', '/api/definitions/%2F', d)[0] == 204
    assert call(mgmt, 'DELETE', '/api/queues/%2F/' + qname)[0] == 204
    assert call(mgmt, 'POST', '/api/definitions/other', d)[::2] == (400, bad('vhost_not_found'))


def test_publish_to_direct_reply_to_reaches_the_channel(mgmt):
    c = amqp(mgmt)
    ch = c.channel()
    got = []
    ch.basic_consume('amq.rabbitmq.reply-to', lambda ch_, m, p, body: got.append(body), auto_ack=True)
    ch.basic_publish('', 'nowhere', b'x', pika.BasicProperties(reply_to='amq.rabbitmq.reply-to'))
    # the broker fills in the reply_to of our own publish: read it back from a queue
    q = ch.queue_declare('', exclusive=True).method.queue
    ch.basic_publish('', q, b'y', pika.BasicProperties(reply_to='amq.rabbitmq.reply-to'))
    reply_to = ch.basic_get(q, auto_ack=True)[1].reply_to
    assert reply_to.startswith('amq.rabbitmq.reply-to.')
    assert publish(mgmt, reply_to, 'reply')[0] == 200
    c.process_data_events(1)
    assert got == [b'reply']
    c.close()


def test_durable_queue_and_persistent_message_over_http_survive_a_restart(mgmt, qname):
    assert call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {'durable': True})[0] == 201
    assert call(mgmt, 'PUT', '/api/exchanges/%2F/' + qname + '.x', {'type': 'direct', 'durable': True})[0] == 201
    assert call(mgmt, 'POST', '/api/bindings/%%2F/e/%s.x/q/%s' % (qname, qname), {'routing_key': 'k'})[0] == 201
    assert publish(mgmt, 'k', 'kept', props={'delivery_mode': 2}, exchange=qname + '.x')[2] == {'routed': True}
    assert publish(mgmt, 'k', 'taken', props={'delivery_mode': 2}, exchange=qname + '.x')[2] == {'routed': True}
    got = get(mgmt, qname, count=1, ackmode='ack_requeue_true')[2]        # read from the store, requeued
    assert [m['payload'] for m in got] == ['kept']
    mgmt.restart()
    got = get(mgmt, qname, count=2, ackmode='ack_requeue_false')[2]
    assert [(m['payload'], m['properties']['delivery_mode']) for m in got] == [('kept', 2), ('taken', 2)]
    assert got[0]['redelivered'] is True
    mgmt.restart()
    assert get(mgmt, qname, count=2)[2] == []                           # taken for good
    assert publish(mgmt, 'k', 'again', exchange=qname + '.x')[2] == {'routed': True}   # the binding is back


def test_get_shows_header_tables_as_rabbitmq(mgmt, qname):
    """The reference's answer for these headers (published with pika): keys
    sorted, void as "undefined", bytes that are not UTF-8 with its words."""
    import datetime
    c = amqp(mgmt)
    ch = c.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'x', pika.BasicProperties(
        headers={'ts': datetime.datetime(2020, 1, 1), 'none': None, 'neg': -5, 'big': 2 ** 40,
                 'bytes': b'\xff\x00', 'nested': {'z': 1, 'a': [1, {'b': None}]}},
        cluster_id='cid', expiration='100000'))
    c.close()
    got = get(mgmt, qname)[2]
    props = got[0]['properties']
    assert props == {'cluster_id': 'cid', 'expiration': '100000', 'headers': {
        'big': 1099511627776, 'bytes': 'Not UTF-8, base64 is: /wA=', 'neg': -5,
        'nested': {'a': [1, {'b': 'undefined'}], 'z': 1}, 'none': 'undefined', 'ts': 1577836800}}
    assert list(props['headers']) == ['big', 'bytes', 'neg', 'nested', 'none', 'ts']
    assert list(props['headers']['nested']) == ['a', 'z']


def test_other_vhosts_are_refused_as_rabbitmq_refuses_a_missing_one(mgmt):
    """The reference's answers for a vhost that does not exist."""
    vhost_not_found = (404, {'error': 'not_found', 'reason': 'vhost_not_found'})
    refused = (401, {'error': 'not_authorised', 'reason': 'Access refused.'})
    assert call(mgmt, 'PUT', '/api/queues/other/q', {})[::2] == vhost_not_found
    assert call(mgmt, 'PUT', '/api/exchanges/other/x', {'type': 'direct'})[::2] == vhost_not_found
    assert call(mgmt, 'POST', '/api/bindings/other/e/a/q/b', {})[::2] == vhost_not_found
    assert call(mgmt, 'POST', '/api/bindings/other/e/a/e/b', {})[::2] == vhost_not_found
    for path in ('/api/queues/other/q', '/api/queues/other/q/contents', '/api/exchanges/other/x',
                 '/api/bindings/other/e/a/q/b/~', '/api/bindings/other/e/a/e/b/~'):
        assert call(mgmt, 'DELETE', path)[::2] == (404, NOT_FOUND), path
    assert call(mgmt, 'POST', '/api/exchanges/other/amq.default/publish',
                {'routing_key': 'x', 'payload': 'x', 'payload_encoding': 'string', 'properties': {}})[::2] == refused
    assert call(mgmt, 'POST', '/api/queues/other/q/get',
                {'count': 1, 'ackmode': 'ack_requeue_true', 'encoding': 'auto'})[::2] == refused
    assert call(mgmt, 'GET', '/api/aliveness-test/other')[::2] == (404, NOT_FOUND)


def test_definitions_import_names_every_refused_declaration_and_imports_the_rest(mgmt, qname):
    call(mgmt, 'PUT', '/api/queues/%2F/' + qname, {'durable': True})
    defs = {'queues': [{'name': qname, 'vhost': '/', 'durable': False, 'auto_delete': False, 'arguments': {}},
                       {'name': qname + '.new', 'vhost': '/', 'durable': True, 'auto_delete': False,
                        'arguments': {}}],
            'bindings': [{'source': 'nosuch', 'vhost': '/', 'destination': qname + '.new',
                          'destination_type': 'queue', 'routing_key': '', 'arguments': {}},
                         {'source': 'amq.fanout', 'vhost': '/', 'destination': qname + '.new',
                          'destination_type': 'queue', 'routing_key': '', 'arguments': {}}]}
    s, _, b = call(mgmt, 'POST', '/api/definitions', defs)
    assert (s, b) == (400, bad(
        "2 of 4 definitions refused, the others imported; queue '%s': inequivalent arg 'durable' for queue '%s' "
        "in vhost '/': received 'false' but current is 'true'; binding of 'nosuch' to '%s.new': no exchange "
        "'nosuch' in vhost '/'" % (qname, qname, qname)))
    c = amqp(mgmt)
    ch = c.channel()
    ch.basic_publish('amq.fanout', '', b'via the imported binding')
    assert ch.basic_get(qname + '.new', auto_ack=True)[2] == b'via the imported binding'
    c.close()
