"""Issue 14, section 2: RabbitMQ's vhost and user limits, set over the HTTP
API and warrenctl, enforced on pika clients with RabbitMQ's codes and
texts, kept across restarts and carried by definitions.

Every refusal text below was read from RabbitMQ 3.10.8 first (rabbitmqctl
set_vhost_limits / set_user_limits, then the same pika steps):
  vhost max-connections: 530 "NOT_ALLOWED - access to vhost 'v' refused
      for user 'u': connection limit (1) is reached"
  user max-connections:  530 "NOT_ALLOWED - connection refused for user
      'u': user connection limit (1) is reached"
  user max-channels:     530 (the connection) "NOT_ALLOWED - number of
      channels opened for user 'u' has reached the maximum allowed user
      limit of (1)"
  vhost max-queues:      406 "PRECONDITION_FAILED - cannot declare queue
      'q': queue limit in vhost 'v' (1) is reached"; redeclaring an
      existing queue is no new queue and passes
and the HTTP API's answers (PUT /api/vhost-limits/{vhost}/{name} with
{"value": N}: 204; a bad name or value: 400 with its words).
"""
import json
import os
import subprocess

import pika
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CTL = os.path.join(ROOT, 'bin', 'warrenctl')


def call(b, method, path, body=None):
    r = b.api.request(method, path, body=None if body is None else json.dumps(body),
                      headers={'Content-Type': 'application/json'} if body is not None else None)
    return r.status, (json.loads(r.body) if r.body else None)


def setup_tenant(b, vhost='tenant', user='alice'):
    assert call(b, 'PUT', '/api/vhosts/' + vhost, {})[0] == 201
    assert call(b, 'PUT', '/api/users/' + user, {'password': 'pw', 'tags': ''})[0] == 201
    for u in (user, 'guest'):
        assert call(b, 'PUT', '/api/permissions/%s/%s' % (vhost, u),
                    {'configure': '.*', 'write': '.*', 'read': '.*'})[0] in (201, 204)


def connect(b, vhost='tenant', user='alice', password='pw'):
    return pika.BlockingConnection(pika.ConnectionParameters(
        b.host, b.port, vhost, pika.PlainCredentials(user, password), connection_attempts=1))


def refused(b, **kw):
    with pytest.raises(pika.exceptions.AMQPConnectionError) as e:
        connect(b, **kw)
    return str(e.value)


def test_vhost_max_connections(lim):
    setup_tenant(lim)
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-connections', {'value': 1}) == (204, None)
    first = connect(lim)
    why = refused(lim)
    assert "530" in why and ("NOT_ALLOWED - access to vhost 'tenant' refused for user 'alice': "
                             "connection limit (1) is reached") in why
    # another vhost is not touched by it
    other = connect(lim, vhost='/', user='guest', password='guest')
    other.close()
    first.close()
    connect(lim).close()     # the slot is free again


def test_vhost_max_queues(lim):
    setup_tenant(lim)
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-queues', {'value': 1})[0] == 204
    c = connect(lim)
    ch = c.channel()
    ch.queue_declare('q1')
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare('q2')
    assert e.value.reply_code == 406
    assert e.value.reply_text == "PRECONDITION_FAILED - cannot declare queue 'q2': queue limit in vhost 'tenant' (1) is reached"
    ch = c.channel()
    ch.queue_declare('q1')   # an existing queue is no new one
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare('', exclusive=True)
    assert e.value.reply_text.startswith("PRECONDITION_FAILED - cannot declare queue 'amq.gen-")
    # a negative limit is no limit, as in RabbitMQ
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-queues', {'value': -1})[0] == 204
    ch = c.channel()
    ch.queue_declare('q2')
    c.close()


def test_user_max_connections_and_channels(lim):
    setup_tenant(lim)
    assert call(lim, 'PUT', '/api/user-limits/alice/max-connections', {'value': 1})[0] == 204
    assert call(lim, 'PUT', '/api/user-limits/alice/max-channels', {'value': 2})[0] == 204
    c = connect(lim)
    why = refused(lim, vhost='/', user='alice')   # every vhost counts for the user
    assert "NOT_ALLOWED - connection refused for user 'alice': user connection limit (1) is reached" in why
    c.channel()
    c.channel()
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        c.channel()
    assert e.value.reply_code == 530
    assert e.value.reply_text == ("NOT_ALLOWED - number of channels opened for user 'alice' has reached the "
                                  "maximum allowed user limit of (2)")
    # the closed connection gave its channels and its slot back
    c2 = connect(lim)
    c2.channel()
    c2.channel()
    c2.close()
    # guest has no limits
    g = connect(lim, vhost='/', user='guest', password='guest')
    for _ in range(5):
        g.channel()
    g.close()


def test_zero_refuses_everything(lim):
    setup_tenant(lim)
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-connections', {'value': 0})[0] == 204
    assert "connection limit (0) is reached" in refused(lim)
    assert call(lim, 'DELETE', '/api/vhost-limits/tenant/max-connections')[0] == 204
    connect(lim).close()


def test_api_lists_and_refusals(lim):
    setup_tenant(lim)
    assert call(lim, 'GET', '/api/vhost-limits') == (200, [])
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-connections', {'value': 5})[0] == 204
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-queues', {'value': 7})[0] == 204
    assert call(lim, 'GET', '/api/vhost-limits') == \
        (200, [{'vhost': 'tenant', 'value': {'max-connections': 5, 'max-queues': 7}}])
    assert call(lim, 'GET', '/api/vhost-limits/tenant')[1] == \
        [{'vhost': 'tenant', 'value': {'max-connections': 5, 'max-queues': 7}}]
    assert call(lim, 'GET', '/api/vhost-limits/%2F') == (200, [])
    assert call(lim, 'GET', '/api/vhost-limits/nosuch')[0] == 404
    assert call(lim, 'PUT', '/api/vhost-limits/nosuch/max-queues', {'value': 1}) == \
        (404, {'error': 'not_found', 'reason': 'vhost_not_found'})
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-connections', {'value': 'x'}) == \
        (400, {'error': 'bad_request',
               'reason': 'Validation failed\n\nmax-connections should be a number, actually was <<"x">>\n'})
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-foo', {'value': 5}) == \
        (400, {'error': 'bad_request', 'reason': 'Validation failed\n\nUnrecognised terms [{<<"max-foo">>,5}] in limits\n'})
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-queues', {'value': 1.5})[1]['reason'] == \
        'Validation failed\n\nmax-queues should be a number, actually was 1.5\n'
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-queues', {}) == \
        (400, {'error': 'bad_request', 'reason': '[{key_missing,value}]'})
    assert call(lim, 'DELETE', '/api/vhost-limits/tenant/max-queues')[0] == 204
    assert call(lim, 'DELETE', '/api/vhost-limits/tenant/max-queues')[0] == 204
    assert call(lim, 'GET', '/api/vhost-limits/tenant')[1] == [{'vhost': 'tenant', 'value': {'max-connections': 5}}]

    assert call(lim, 'PUT', '/api/user-limits/alice/max-channels', {'value': 7})[0] == 204
    assert call(lim, 'PUT', '/api/user-limits/alice/max-queues', {'value': 7}) == \
        (400, {'error': 'bad_request', 'reason': 'Unrecognised terms [{<<"max-queues">>,7}] in user-limits'})
    assert call(lim, 'PUT', '/api/user-limits/nosuch/max-channels', {'value': 7}) == \
        (400, {'error': 'bad_request', 'reason': ['no_such_user', 'nosuch']})
    assert call(lim, 'PUT', '/api/user-limits/alice/max-channels', {'value': '7'})[1]['reason'] == \
        'max-channels should be a number, actually was <<"7">>'
    assert call(lim, 'GET', '/api/user-limits') == (200, [{'user': 'alice', 'value': {'max-channels': 7}}])
    assert call(lim, 'GET', '/api/user-limits/alice')[1] == [{'user': 'alice', 'value': {'max-channels': 7}}]
    assert call(lim, 'GET', '/api/user-limits/nosuch')[0] == 404
    assert call(lim, 'GET', '/api/users/alice')[1]['limits'] == {'max-channels': 7}
    assert call(lim, 'DELETE', '/api/user-limits/alice/max-channels')[0] == 204
    assert call(lim, 'GET', '/api/user-limits') == (200, [])
    # only administrators change them
    assert call(lim, 'PUT', '/api/users/mon', {'password': 'pw', 'tags': 'monitoring'})[0] == 201
    r = lim.api.request('PUT', '/api/vhost-limits/tenant/max-queues', body='{"value": 1}',
                        headers={'Content-Type': 'application/json', 'Authorization': lim.api.auth('mon', 'pw')})
    assert r.status == 401


def test_limits_survive_restart(lim):
    setup_tenant(lim)
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-connections', {'value': 1})[0] == 204
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-queues', {'value': 2})[0] == 204
    assert call(lim, 'PUT', '/api/user-limits/alice/max-channels', {'value': 3})[0] == 204
    assert call(lim, 'PUT', '/api/user-limits/guest/max-connections', {'value': 9})[0] == 204  # a command-line user
    assert call(lim, 'DELETE', '/api/vhost-limits/tenant/max-queues')[0] == 204
    for _ in range(2):   # the log as written, then as rewritten at the start
        lim.restart()
        assert call(lim, 'GET', '/api/vhost-limits')[1] == [{'vhost': 'tenant', 'value': {'max-connections': 1}}]
        assert call(lim, 'GET', '/api/user-limits')[1] == [
            {'user': 'alice', 'value': {'max-channels': 3}}, {'user': 'guest', 'value': {'max-connections': 9}}]
        c = connect(lim)
        assert "connection limit (1) is reached" in refused(lim)
        c.close()
    # a vhost deleted and made again has no limits; a user likewise
    assert call(lim, 'DELETE', '/api/vhosts/tenant')[0] == 204
    assert call(lim, 'DELETE', '/api/users/alice')[0] == 204
    setup_tenant(lim)
    lim.restart()
    assert call(lim, 'GET', '/api/vhost-limits')[1] == []
    assert call(lim, 'GET', '/api/user-limits')[1] == [{'user': 'guest', 'value': {'max-connections': 9}}]


# What RabbitMQ 3.10.8's GET /api/definitions says of a vhost with limits and
# a user with limits (trimmed to those items).
RABBITMQ_DEFS = {
    'rabbit_version': '3.10.8',
    'users': [{'name': 'alice', 'password_hash': '7MwmJTbbYOXyt2PuIbIM3BCxf6CxGMn3S6IZb4Pm13nMtgl2',
               'hashing_algorithm': 'rabbit_password_hashing_sha256', 'tags': [],
               'limits': {'max-connections': 1}}],
    'vhosts': [{'name': 'tenant'}],
    'permissions': [{'user': 'alice', 'vhost': 'tenant', 'configure': '.*', 'write': '.*', 'read': '.*'}],
    'topic_permissions': [],
    'parameters': [{'value': {'max-connections': 5}, 'vhost': 'tenant', 'component': 'vhost-limits',
                    'name': 'limits'}],
    'global_parameters': [{'name': 'internal_cluster_id', 'value': 'rabbitmq-cluster-id-x'}],
    'policies': [], 'queues': [], 'exchanges': [], 'bindings': [],
}


def test_definitions_carry_limits(broker_factory):
    a = broker_factory(management=True)
    if a.external:
        pytest.skip('needs a warren with its HTTP API on')
    from http_helpers import Api
    a.api = Api(a.host, a.mgmt_port)
    # RabbitMQ's export imports, limits included
    assert call(a, 'POST', '/api/definitions', RABBITMQ_DEFS)[0] in (200, 201, 204)
    assert call(a, 'GET', '/api/vhost-limits')[1] == [{'vhost': 'tenant', 'value': {'max-connections': 5}}]
    assert call(a, 'GET', '/api/user-limits')[1] == [{'user': 'alice', 'value': {'max-connections': 1}}]
    assert call(a, 'PUT', '/api/vhost-limits/tenant/max-queues', {'value': 3})[0] == 204
    # and warren exports them where RabbitMQ puts them
    defs = call(a, 'GET', '/api/definitions')[1]
    assert defs['parameters'] == [{'value': {'max-connections': 5, 'max-queues': 3}, 'vhost': 'tenant',
                                   'component': 'vhost-limits', 'name': 'limits'}]
    assert [u['limits'] for u in defs['users'] if u['name'] == 'alice'] == [{'max-connections': 1}]
    assert [u['limits'] for u in defs['users'] if u['name'] == 'guest'] == [{}]
    assert call(a, 'GET', '/api/definitions/tenant')[1]['parameters'] == defs['parameters']
    # into a fresh broker, and from there enforced on pika
    b = broker_factory(management=True)
    b.api = Api(b.host, b.mgmt_port)
    assert call(b, 'POST', '/api/definitions', defs)[0] in (200, 201, 204)
    assert call(b, 'GET', '/api/vhost-limits')[1] == [{'vhost': 'tenant', 'value': {'max-connections': 5,
                                                                                     'max-queues': 3}}]
    assert call(b, 'PUT', '/api/users/alice', {'password': 'pw', 'tags': ''})[0] == 204
    c = connect(b)
    assert "user connection limit (1) is reached" in refused(b)
    c.close()
    # other runtime parameters are still refused, and nothing is imported then
    bad = dict(RABBITMQ_DEFS, vhosts=[{'name': 'other'}],
               parameters=[{'value': {}, 'vhost': 'tenant', 'component': 'federation-upstream', 'name': 'x'}])
    st, body = call(b, 'POST', '/api/definitions', bad)
    assert st == 400 and 'parameters' in body['reason']
    assert call(b, 'GET', '/api/vhosts/other')[0] == 404
    # a bad limit in an import refuses the whole import
    bad = dict(RABBITMQ_DEFS, vhosts=[{'name': 'other'}],
               parameters=[{'value': {'max-foo': 1}, 'vhost': 'other', 'component': 'vhost-limits', 'name': 'limits'}])
    st, body = call(b, 'POST', '/api/definitions', bad)
    assert st == 400 and 'max-foo' in body['reason']
    assert call(b, 'GET', '/api/vhosts/other')[0] == 404


def ctl(b, *args, check=True):
    p = subprocess.run([CTL, '--url', 'http://127.0.0.1:%d' % b.mgmt_port] + list(args),
                       capture_output=True, text=True, timeout=30)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_warrenctl_verbs(lim):
    setup_tenant(lim)
    out = ctl(lim, 'set_vhost_limits', '-p', 'tenant', '{"max-connections": 3, "max-queues": 4}').stdout
    assert out == 'Setting vhost limits to "{"max-connections": 3, "max-queues": 4}" for vhost "tenant" ...\n'
    assert ctl(lim, 'list_vhost_limits', '-p', 'tenant').stdout == \
        'Listing limits for vhost "tenant" ...\n{"max-connections":3,"max-queues":4}\n'
    # the definition is the whole set, as rabbitmqctl's
    ctl(lim, 'set_vhost_limits', '-p', 'tenant', '{"max-queues": 5}')
    assert ctl(lim, '-q', 'list_vhost_limits', '-p', 'tenant').stdout == '{"max-queues":5}\n'
    assert ctl(lim, 'list_vhost_limits', '--global').stdout == \
        'Listing limits for all vhosts ...\nvhost\tlimits\ntenant\t{"max-queues":5}\n'
    ctl(lim, 'clear_vhost_limits', '-p', 'tenant')
    assert ctl(lim, '-q', 'list_vhost_limits', '-p', 'tenant').stdout == '\n'
    p = ctl(lim, 'set_vhost_limits', '-p', 'nosuch', '{"max-queues": 1}', check=False)
    assert p.returncode == 65 and "Virtual host 'nosuch' does not exist" in p.stderr
    p = ctl(lim, 'set_vhost_limits', '-p', 'tenant', '{"max-foo": 1}', check=False)
    assert p.returncode == 65 and 'Unrecognised terms [{<<"max-foo">>,1}] in limits' in p.stderr
    p = ctl(lim, 'set_vhost_limits', '-p', 'tenant', 'notjson', check=False)
    assert p.returncode == 65 and 'JSON' in p.stderr

    # set_user_limits changes only what it names
    ctl(lim, 'set_user_limits', 'alice', '{"max-connections": 1}')
    ctl(lim, 'set_user_limits', 'alice', '{"max-channels": 3}')
    assert ctl(lim, 'list_user_limits', '--user', 'alice').stdout == \
        'Listing limits for user "alice" ...\n{"max-channels":3,"max-connections":1}\n'
    assert ctl(lim, '-q', 'list_user_limits', '--global', '--formatter', 'json').stdout.split() == \
        ['[', '{"user":"alice","limits":"{\\"max-channels\\":3,\\"max-connections\\":1}"}', ']']
    c = connect(lim)
    assert "user connection limit (1) is reached" in refused(lim)
    c.close()
    ctl(lim, 'clear_user_limits', 'alice', 'max-channels')
    assert ctl(lim, '-q', 'list_user_limits', '--user', 'alice').stdout == '{"max-connections":1}\n'
    ctl(lim, 'clear_user_limits', 'alice', 'all')
    assert ctl(lim, '-q', 'list_user_limits', '--user', 'alice').stdout == '{}\n'
    assert ctl(lim, '-q', 'list_user_limits').stdout == '{}\n'   # guest, rabbitmqctl's default
    p = ctl(lim, 'set_user_limits', 'nosuch', '{"max-channels": 1}', check=False)
    assert p.returncode == 67 and 'User "nosuch" does not exist' in p.stderr


def test_refused_open_gives_its_slot_back(lim):
    setup_tenant(lim)
    assert call(lim, 'PUT', '/api/users/bob', {'password': 'pw', 'tags': ''})[0] == 201   # no permission on tenant
    assert call(lim, 'PUT', '/api/vhost-limits/tenant/max-connections', {'value': 1})[0] == 204
    assert call(lim, 'PUT', '/api/user-limits/bob/max-connections', {'value': 1})[0] == 204
    for _ in range(3):
        why = refused(lim, user='bob')
        assert "access to vhost 'tenant' refused for user 'bob'" in why and 'limit' not in why
    connect(lim).close()                           # the vhost's one slot is still free
    connect(lim, vhost='/', user='guest', password='guest').close()
