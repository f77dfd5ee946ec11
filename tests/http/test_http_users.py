"""Users, tags and permissions (issue 13, section 1): made over the HTTP API
(and rabbitmqadmin), kept in the data directory, checked on every AMQP
operation with RabbitMQ 3.10's texts (each one taken from the reference
node with a user of the same permissions), and moved between warren and
RabbitMQ by a definitions export with the password hashes intact.
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
REF_AMQP = 'amqp://%s:%s@127.0.0.1:5673/%%2F'


def call(port, method, path, body=None, user='guest', password='guest', base=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request((base or 'http://127.0.0.1:%d' % port) + path, data=data, method=method)
    req.add_header('Authorization', 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode())
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    return status, (json.loads(text) if text else None)


def admin(broker, *args):
    if not os.path.exists(RABBITMQADMIN):
        pytest.skip('rabbitmqadmin is not installed (Debian package rabbitmq-server)')
    r = subprocess.run([RABBITMQADMIN, '-H', '127.0.0.1', '-P', str(broker.mgmt_port), '-u', 'guest', '-p',
                        'guest'] + list(args), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def connect(broker, user, password, vhost='%2F'):
    return pika.BlockingConnection(pika.URLParameters('amqp://%s:%s@127.0.0.1:%d/%s' %
                                                      (user, password, broker.port, vhost)))


def add_user(broker, name, password, tags='', perms=None):
    assert call(broker.mgmt_port, 'PUT', '/api/users/' + name, {'password': password, 'tags': tags})[0] == 201
    if perms:
        c, w, r = perms
        assert call(broker.mgmt_port, 'PUT', '/api/permissions/%2F/' + name,
                    {'configure': c, 'write': w, 'read': r})[0] == 201


def refusal(broker, user, password, action):
    """The text of the channel close `action` causes, or None."""
    c = connect(broker, user, password)
    ch = c.channel()
    try:
        action(ch)
        return None
    except pika.exceptions.ChannelClosedByBroker as e:
        return '%d %s' % (e.reply_code, e.reply_text)
    finally:
        if c.is_open:
            c.close()


# ------------------------------------------------------------ AMQP checks

def test_limited_user_refused_with_rabbitmq_texts(mgmt):
    # the same permissions as the reference node's user in the probe
    add_user(mgmt, 'bob', 'bobpw', perms=('^m4ok.*', '^(m4ok.*|amq\\.default)$', '^m4ok.*'))

    def confirm_publish(exchange, rk):
        def go(ch):
            ch.confirm_delivery()
            ch.basic_publish(exchange, rk, b'x')
        return go
    refused = "403 ACCESS_REFUSED - access to %s '%s' in vhost '/' refused for user 'bob'"
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_declare('m4no')) == refused % ('queue', 'm4no')
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_declare('m4okq')) is None
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_declare('m4no', passive=True)) != \
        refused % ('queue', 'm4no')     # passive: no permission asked (404 here)
    assert refusal(mgmt, 'bob', 'bobpw', confirm_publish('', 'm4okq')) is None
    assert refusal(mgmt, 'bob', 'bobpw', confirm_publish('amq.direct', 'm4okq')) == \
        refused % ('exchange', 'amq.direct')
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.exchange_declare('m4nox', 'direct')) == \
        refused % ('exchange', 'm4nox')
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.exchange_delete('amq.fanout')) == \
        refused % ('exchange', 'amq.fanout')
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_bind('m4okq', 'amq.direct', 'k')) == \
        refused % ('exchange', 'amq.direct')
    # the default exchange is refused as such before the read check (bob
    # may not read 'amq.default')
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_bind('m4okq', '', 'k')) == \
        '403 ACCESS_REFUSED - operation not permitted on the default exchange'
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.basic_get('m4okq')) is None
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_purge('m4okq')) is None
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.basic_consume('m4no2', lambda *a: None)) == \
        refused % ('queue', 'm4no2')
    text = refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_declare(''))
    assert text.startswith("403 ACCESS_REFUSED - access to queue 'amq.gen-") and \
        text.endswith("' in vhost '/' refused for user 'bob'"), text
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_delete('m4no')) == refused % ('queue', 'm4no')
    assert refusal(mgmt, 'bob', 'bobpw', lambda ch: ch.queue_delete('m4okq')) is None
    # write '^$' does not cover the default exchange: it is 'amq.default' there
    assert call(mgmt.mgmt_port, 'PUT', '/api/permissions/%2F/bob',
                {'configure': '^m4ok.*', 'write': '^$', 'read': '^m4ok.*'})[0] == 204
    assert refusal(mgmt, 'bob', 'bobpw', confirm_publish('', 'm4okq')) == refused % ('exchange', 'amq.default')
    # no permission on the vhost at all: refused at connection.open
    assert call(mgmt.mgmt_port, 'DELETE', '/api/permissions/%2F/bob')[0] == 204
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as e:
        connect(mgmt, 'bob', 'bobpw')
    assert "530" in str(e.value) and "NOT_ALLOWED - access to vhost '/' refused for user 'bob'" in str(e.value)
    # guest (the command line's) may do everything
    c = connect(mgmt, 'guest', 'guest')
    c.channel().exchange_declare('m4nox', 'direct', auto_delete=True)
    c.close()


def test_permission_change_reaches_an_open_channel(mgmt):
    """A publish is checked once per exchange while nothing changes; a
    change of the permissions is seen by the next publish."""
    add_user(mgmt, 'pub', 'pw', perms=('.*', '.*', '.*'))
    c = connect(mgmt, 'pub', 'pw')
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare('m4pq')
    for _ in range(3):
        ch.basic_publish('', 'm4pq', b'x')
    assert call(mgmt.mgmt_port, 'PUT', '/api/permissions/%2F/pub', {'configure': '.*', 'write': '', 'read': '.*'})[0] \
        == 204
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.basic_publish('', 'm4pq', b'x')
    assert e.value.reply_code == 403
    c.close()


# ------------------------------------------------------------ HTTP

def test_user_endpoints_as_rabbitmq(mgmt):
    port = mgmt.mgmt_port
    assert call(port, 'PUT', '/api/users/carl', {'password': 'x'}) == \
        (400, {'error': 'bad_request', 'reason': 'tags_not_present'})
    assert call(port, 'PUT', '/api/users/carl', {'password': 'x', 'tags': 'monitoring, management'})[0] == 201
    s, u = call(port, 'GET', '/api/users/carl')
    assert s == 200 and u['tags'] == ['monitoring', 'management'] and u['limits'] == {}
    assert u['hashing_algorithm'] == 'rabbit_password_hashing_sha256'
    raw = base64.b64decode(u['password_hash'])
    assert len(raw) == 36 and hashlib.sha256(raw[:4] + b'x').digest() == raw[4:]
    assert call(port, 'PUT', '/api/users/carl', {'password': 'y', 'tags': ['administrator']})[0] == 204
    assert call(port, 'GET', '/api/users/carl')[1]['tags'] == ['administrator']
    assert call(port, 'PUT', '/api/users/carl', {'password_hash': 'abc', 'tags': ''})[0] == 400
    # without permissions: carl, not guest
    names = [u['name'] for u in call(port, 'GET', '/api/users/without-permissions')[1]]
    assert names == ['carl']
    assert call(port, 'PUT', '/api/permissions/nosuch/carl', {'configure': '.*', 'write': '.*', 'read': '.*'}) == \
        (400, {'error': 'bad_request', 'reason': 'vhost_or_user_not_found'})
    assert call(port, 'PUT', '/api/permissions/%2F/nobody', {'configure': '.*', 'write': '.*', 'read': '.*'}) == \
        (400, {'error': 'bad_request', 'reason': 'vhost_or_user_not_found'})
    assert call(port, 'PUT', '/api/permissions/%2F/carl', {'configure': '.*'}) == \
        (400, {'error': 'bad_request', 'reason': '[{key_missing,write},{key_missing,read}]'})
    s, b = call(port, 'PUT', '/api/permissions/%2F/carl', {'configure': '(', 'write': '.*', 'read': '.*'})
    assert s == 400 and 'invalid_regexp' in b['reason']
    assert call(port, 'PUT', '/api/permissions/%2F/carl', {'configure': '^c', 'write': '.*', 'read': ''})[0] == 201
    perm = {'user': 'carl', 'vhost': '/', 'configure': '^c', 'write': '.*', 'read': ''}
    assert call(port, 'GET', '/api/permissions/%2F/carl') == (200, perm)
    assert call(port, 'GET', '/api/users/carl/permissions') == (200, [perm])
    assert perm in call(port, 'GET', '/api/permissions')[1]
    s, listed = call(port, 'GET', '/api/vhosts/%2F/permissions')
    assert s == 200 and {'vhost': '/', 'user': 'carl', 'configure': '^c', 'write': '.*', 'read': ''} in listed
    assert list(listed[0])[:2] == ['vhost', 'user']
    assert call(port, 'GET', '/api/users/nobody/permissions')[0] == 404
    assert call(port, 'GET', '/api/vhosts/nosuch/permissions')[0] == 404
    assert call(port, 'DELETE', '/api/permissions/%2F/carl')[0] == 204
    assert call(port, 'DELETE', '/api/permissions/%2F/carl')[0] == 404
    assert call(port, 'DELETE', '/api/users/carl')[0] == 204
    assert call(port, 'DELETE', '/api/users/carl')[0] == 404
    assert call(port, 'GET', '/api/users/carl')[0] == 404


def test_tags_decide_what_the_api_allows(mgmt):
    port = mgmt.mgmt_port
    add_user(mgmt, 'plain', 'pw', tags='')
    add_user(mgmt, 'mon', 'pw', tags='monitoring')
    add_user(mgmt, 'boss', 'pw', tags='administrator')
    assert call(port, 'GET', '/api/overview', user='plain', password='pw') == \
        (401, {'error': 'not_authorised', 'reason': 'Not management user'})
    assert call(port, 'GET', '/api/whoami', user='mon', password='pw') == (200, {'name': 'mon', 'tags': ['monitoring']})
    for method, path in [('GET', '/api/users'), ('GET', '/api/permissions'), ('DELETE', '/api/users/plain')]:
        assert call(port, method, path, user='mon', password='pw') == \
            (401, {'error': 'not_authorised', 'reason': 'Not administrator user'}), path
    s, users = call(port, 'GET', '/api/users', user='boss', password='pw')
    # sorted by name, as RabbitMQ's lists
    assert s == 200 and [u['name'] for u in users] == ['boss', 'guest', 'mon', 'plain']
    # a user without a password cannot log in, to the API or over AMQP
    assert call(port, 'PUT', '/api/users/nopw', {'tags': 'administrator'})[0] == 201
    assert call(port, 'GET', '/api/users/nopw')[1]['password_hash'] == ''
    assert call(port, 'GET', '/api/overview', user='nopw', password='')[0] == 401


def test_rabbitmqadmin_users_and_permissions(mgmt):
    admin(mgmt, 'declare', 'user', 'name=dora', 'password=dpw', 'tags=management')
    admin(mgmt, 'declare', 'permission', 'vhost=/', 'user=dora', 'configure=^dora', 'write=.*', 'read=.*')
    out = admin(mgmt, 'list', 'users')
    assert 'dora' in out and 'management' in out, out
    out = admin(mgmt, 'list', 'permissions')
    assert 'dora' in out and '^dora' in out, out
    c = connect(mgmt, 'dora', 'dpw')
    c.channel().queue_declare('dora-q', auto_delete=True)
    c.close()
    admin(mgmt, 'declare', 'vhost', 'name=dora-vh')
    assert 'dora-vh' in admin(mgmt, 'list', 'vhosts')
    admin(mgmt, 'declare', 'permission', 'vhost=dora-vh', 'user=dora', 'configure=.*', 'write=.*', 'read=.*')
    c = connect(mgmt, 'dora', 'dpw', 'dora-vh')
    c.channel().queue_declare('dora-q', durable=True)
    c.close()
    admin(mgmt, 'delete', 'vhost', 'name=dora-vh')
    assert 'dora-vh' not in admin(mgmt, 'list', 'vhosts')
    admin(mgmt, 'delete', 'user', 'name=dora')
    assert 'dora' not in admin(mgmt, 'list', 'users')
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(mgmt, 'dora', 'dpw')


def test_user_made_over_http_survives_a_restart(mgmt):
    port = mgmt.mgmt_port
    add_user(mgmt, 'eve', 'evepw', tags='management', perms=('^eve', '.*', '.*'))
    # a command-line user changed over HTTP: the change is kept too
    assert call(port, 'PUT', '/api/users/guest', {'password': 'guest', 'tags': 'administrator,extra'})[0] == 204
    add_user(mgmt, 'gone', 'pw')
    assert call(port, 'DELETE', '/api/users/gone')[0] == 204
    hash_before = call(port, 'GET', '/api/users/eve')[1]['password_hash']
    mgmt.restart()
    mgmt.restart()      # twice: the rewritten log says the same
    s, u = call(port, 'GET', '/api/users/eve')
    assert s == 200 and u['password_hash'] == hash_before and u['tags'] == ['management']
    assert call(port, 'GET', '/api/permissions/%2F/eve')[1]['configure'] == '^eve'
    assert call(port, 'GET', '/api/users/guest')[1]['tags'] == ['administrator', 'extra']
    assert call(port, 'GET', '/api/users/gone')[0] == 404
    c = connect(mgmt, 'eve', 'evepw')
    ch = c.channel()
    ch.queue_declare('eve-q', auto_delete=True)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        ch.queue_declare('not-eve')
    assert e.value.reply_text == "ACCESS_REFUSED - access to queue 'not-eve' in vhost '/' refused for user 'eve'"
    c.close()


# the hash the reference node (RabbitMQ 3.10.8) exported for a user made
# with `rabbitmqctl add_user m4bob bobpw`
RABBITMQ_EXPORT = {
    'rabbit_version': '3.10.8',
    'users': [{'name': 'm4bob', 'password_hash': '9MA96r/tE2MgRP3MQJiQOjK3zLaJ/b8I2yRurOsnAAgKyT+z',
               'hashing_algorithm': 'rabbit_password_hashing_sha256', 'tags': [], 'limits': {}}],
    'vhosts': [{'name': '/'}],
    'permissions': [{'user': 'm4bob', 'vhost': '/', 'configure': '^m4ok.*', 'write': '.*', 'read': '.*'}],
}


def test_rabbitmq_export_imports_with_its_password(mgmt):
    assert call(mgmt.mgmt_port, 'POST', '/api/definitions', RABBITMQ_EXPORT)[0] == 204
    c = connect(mgmt, 'm4bob', 'bobpw')
    c.channel().queue_declare('m4okq', auto_delete=True)
    c.close()
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(mgmt, 'm4bob', 'wrong')
    exported = call(mgmt.mgmt_port, 'GET', '/api/definitions')[1]
    assert RABBITMQ_EXPORT['users'][0] in exported['users']
    assert RABBITMQ_EXPORT['permissions'][0] in exported['permissions']


# The other way, warren's export of a user imported into RabbitMQ and
# logging in there with its password, is tests/cluster/test_cluster_definitions.py
# (a RabbitMQ cluster of the test's own, so it runs wherever make test does;
# it replaced a test here that needed an outside reference node and skipped
# without one).

def test_vhost_made_used_kept_and_deleted(mgmt):
    port = mgmt.mgmt_port
    assert call(port, 'PUT', '/api/vhosts/v2')[0] == 201
    assert call(port, 'PUT', '/api/vhosts/v2')[0] == 204
    s, v = call(port, 'GET', '/api/vhosts/v2')
    assert s == 200 and v['name'] == 'v2' and v['description'] == '' and v['messages'] == 0
    assert [v['name'] for v in call(port, 'GET', '/api/vhosts')[1]] == ['/', 'v2']
    # its maker may use it, as RabbitMQ's management grants
    assert call(port, 'GET', '/api/permissions/v2/guest') == \
        (200, {'user': 'guest', 'vhost': 'v2', 'configure': '.*', 'write': '.*', 'read': '.*'})
    c = connect(mgmt, 'guest', 'guest', 'v2')
    ch = c.channel()
    ch.confirm_delivery()
    ch.exchange_declare('v2x', 'direct', durable=True)
    ch.queue_declare('v2q', durable=True)
    ch.queue_bind('v2q', 'v2x', 'k')
    ch.basic_publish('v2x', 'k', b'in v2', pika.BasicProperties(delivery_mode=2))
    c.close()
    # the same name in "/" is another queue
    c = connect(mgmt, 'guest', 'guest')
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        c.channel().queue_declare('v2q', passive=True)
    c.close()
    # a user without permissions there is refused at connection.open
    add_user(mgmt, 'only-root', 'pw', perms=('.*', '.*', '.*'))
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as e:
        connect(mgmt, 'only-root', 'pw', 'v2')
    assert "NOT_ALLOWED - access to vhost 'v2' refused for user 'only-root'" in str(e.value)
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as e:
        connect(mgmt, 'guest', 'guest', 'nosuch')
    assert 'NOT_ALLOWED - vhost nosuch not found' in str(e.value)

    mgmt.restart()
    assert call(port, 'GET', '/api/vhosts/v2')[0] == 200
    c = connect(mgmt, 'guest', 'guest', 'v2')
    ch = c.channel()
    ch.queue_bind('v2q', 'v2x', 'k2')     # the exchange is back
    m, _, body = ch.basic_get('v2q', auto_ack=True)
    assert body == b'in v2'
    ch.queue_declare('v2q2', durable=True)
    # deleting the vhost closes its connections, as RabbitMQ
    assert call(port, 'DELETE', '/api/vhosts/v2')[0] == 204
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        for _ in range(20):
            c.process_data_events(0.1)
    assert e.value.reply_code == 320 and e.value.reply_text == "CONNECTION_FORCED - vhost 'v2' is deleted"
    assert call(port, 'GET', '/api/vhosts/v2')[0] == 404
    assert call(port, 'GET', '/api/permissions/v2/guest')[0] == 404
    assert call(port, 'DELETE', '/api/vhosts/v2')[0] == 404
    assert call(port, 'DELETE', '/api/vhosts/%2F')[0] == 400
    mgmt.restart()
    assert call(port, 'GET', '/api/vhosts/v2')[0] == 404
    # made again: empty
    assert call(port, 'PUT', '/api/vhosts/v2')[0] == 201
    c = connect(mgmt, 'guest', 'guest', 'v2')
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        c.channel().queue_declare('v2q', passive=True)
    c.close()


def test_definitions_carry_vhosts(mgmt):
    port = mgmt.mgmt_port
    defs = {'vhosts': [{'name': '/'}, {'name': 'imported'}],
            'users': [{'name': 'iu', 'password': 'pw', 'tags': ''}],
            'permissions': [{'user': 'iu', 'vhost': 'imported', 'configure': '.*', 'write': '.*', 'read': '.*'}],
            'queues': [{'name': 'iq', 'vhost': 'imported', 'durable': True, 'auto_delete': False, 'arguments': {}}],
            'exchanges': [], 'bindings': []}
    assert call(port, 'POST', '/api/definitions', defs)[0] == 204
    c = connect(mgmt, 'iu', 'pw', 'imported')
    c.channel().queue_declare('iq', passive=True)
    c.close()
    out = call(port, 'GET', '/api/definitions')[1]
    assert {'name': 'imported'} in out['vhosts']
    assert [q['vhost'] for q in out['queues'] if q['name'] == 'iq'] == ['imported']
    assert call(port, 'GET', '/api/definitions/imported')[1]['queues'][0]['name'] == 'iq'
    # a queue in a vhost that neither exists nor comes with the file
    bad = {'queues': [{'name': 'q', 'vhost': 'nowhere', 'durable': True, 'auto_delete': False}]}
    s, b = call(port, 'POST', '/api/definitions', bad)
    assert s == 400 and "'nowhere'" in b['reason']


def test_http_domain_endpoints_check_permissions(mgmt):
    """A management user's declare over HTTP is checked as its AMQP one
    (texts from the reference node)."""
    port = mgmt.mgmt_port
    add_user(mgmt, 'mg', 'p', tags='management', perms=('^m4ok', '.*', '.*'))
    refused = (401, {'error': 'not_authorised', 'reason': 'Access refused.'})
    assert call(port, 'PUT', '/api/queues/%2F/m4no', {}, user='mg', password='p') == refused
    assert call(port, 'PUT', '/api/queues/%2F/m4okq', {}, user='mg', password='p')[0] == 201
    assert call(port, 'PUT', '/api/exchanges/%2F/m4nox', {'type': 'direct'}, user='mg', password='p') == refused
    assert call(port, 'DELETE', '/api/queues/%2F/m4okq', user='mg', password='p')[0] == 204
    assert call(port, 'GET', '/api/definitions', user='mg', password='p') == \
        (401, {'error': 'not_authorised', 'reason': 'Not administrator user'})


def test_check_store_reads_queues_of_other_vhosts(mgmt):
    """warren-check-store knows a queue recorded in a vhost beyond "/" (its
    persistent message is not an orphan)."""
    assert call(mgmt.mgmt_port, 'PUT', '/api/vhosts/cv')[0] == 201
    c = connect(mgmt, 'guest', 'guest', 'cv')
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare('cvq', durable=True)
    ch.basic_publish('', 'cvq', b'kept', pika.BasicProperties(delivery_mode=2))
    c.close()
    mgmt.stop()
    tool = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'bin',
                        'warren-check-store')
    r = subprocess.run([tool, mgmt.data_dir], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and '1 durable queues' in r.stdout and '1 live messages' in r.stdout, \
        (r.stdout, r.stderr)
    mgmt.start()
    c = connect(mgmt, 'guest', 'guest', 'cv')
    assert c.channel().basic_get('cvq', auto_ack=True)[2] == b'kept'
    c.close()


def test_deleting_a_user_closes_its_connections(mgmt):
    add_user(mgmt, 'leaver', 'pw', perms=('.*', '.*', '.*'))
    c = connect(mgmt, 'leaver', 'pw')
    other = connect(mgmt, 'guest', 'guest')
    assert call(mgmt.mgmt_port, 'DELETE', '/api/users/leaver')[0] == 204
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        for _ in range(20):
            c.process_data_events(0.1)
    assert (e.value.reply_code, e.value.reply_text) == (320, "CONNECTION_FORCED - user 'leaver' is deleted")
    other.process_data_events(0.2)
    assert other.is_open
    other.close()
