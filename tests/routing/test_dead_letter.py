"""Dead-lettering and the x-death header, byte for byte as RabbitMQ 3.10 writes it.

What RabbitMQ 3.10.8 does (observed on the reference broker):
  - dead-letters on reject/nack with requeue=false ('rejected'), expiry
    ('expired') and overflow ('maxlen'); never on requeue, purge or delete;
  - republishes to x-dead-letter-exchange with x-dead-letter-routing-key, or
    with the message's original routing keys (CC included) when there is
    none; with a DLRK the CC header is removed; a missing DLX drops the
    message;
  - the expiration property is removed; an 'original-expiration' field keeps it;
  - headers: x-death is an array ('A') of tables ('F').  A *new* entry for a
    message that had no x-death is, in this order:
        count 'l' (int64) 1, reason 'S', queue 'S', time 'T' (seconds),
        exchange 'S', routing-keys 'A' of 'S'[, original-expiration 'S']
    exchange / routing-keys are those the message had when it entered the
    queue it died in.  x-first-death-exchange / -queue / -reason ('S') are
    added with the first death and never change;
  - entries are keyed by (queue, reason): dying again the same way increments
    count (time and routing-keys stay those of the first time) and moves the
    entry to the front; a new (queue, reason) entry is put in front.  Entries
    written after the first death come with their fields sorted by name
    (count, exchange, queue, reason, routing-keys, time);
  - a message expiring around a cycle (back into a queue it already expired
    from, with no rejection) is dropped; rejection cycles go on.
"""
import datetime
import time

import pika

from routing_helpers import (
    bodies, count, drain, get_one, raw_get, typed_lookup, wait_count, wait_for)

NEW_ENTRY_ORDER = ['count', 'reason', 'queue', 'time', 'exchange', 'routing-keys']
SORTED_ENTRY_ORDER = ['count', 'exchange', 'queue', 'reason', 'routing-keys', 'time']


def plain(t):
    """Typed -> (kind, python value), recursively; strings decoded."""
    if t.kind in ('S', 'x'):
        return (t.kind, t.value.decode())
    if t.kind == 'A':
        return ('A', [plain(v) for v in t.value])
    if t.kind == 'F':
        return ('F', [(k, plain(v)) for k, v in t.value])
    return (t.kind, t.value)


def x_death(headers):
    """The x-death entries as lists of (field, (kind, value)), in wire order."""
    kind, entries = plain(typed_lookup(headers, 'x-death'))
    assert kind == 'A'
    out = []
    for k, e in entries:
        assert k == 'F'
        out.append(e)
    return out


def check_entry(entry, order, count_, reason, queue, exchange, keys, original_expiration=None):
    fields = [k for k, _v in entry]
    want_order = list(order) + (['original-expiration'] if original_expiration is not None else [])
    assert sorted(fields) == sorted(want_order), entry
    d = dict(entry)
    assert d['count'] == ('l', count_)
    assert d['reason'] == ('S', reason)
    assert d['queue'] == ('S', queue)
    assert d['exchange'] == ('S', exchange)
    assert d['routing-keys'] == ('A', [('S', k) for k in keys])
    assert d['time'][0] == 'T' and abs(d['time'][1] - time.time()) < 120, d['time']
    if original_expiration is not None:
        assert d['original-expiration'] == ('S', original_expiration)
    return fields == want_order


def check_first_death(headers, exchange, queue, reason):
    for field, want in (('exchange', exchange), ('queue', queue), ('reason', reason)):
        assert plain(typed_lookup(headers, 'x-first-death-' + field)) == ('S', want)


def dlx_pair(ch, amqp, **queue_args):
    """A fanout DLX with a 'dead' queue, and a work queue dead-lettering into it."""
    dlx = amqp.xname('dlx')
    q, dead = amqp.name('work'), amqp.name('dead')
    ch.exchange_declare(dlx, 'fanout')
    ch.queue_declare(dead)
    ch.queue_bind(dead, dlx)
    ch.queue_declare(q, arguments=dict({'x-dead-letter-exchange': dlx}, **queue_args))
    return dlx, q, dead


def reject_one(ch, q, how='reject'):
    m, p, b = get_one(ch, q, auto_ack=False)
    if how == 'reject':
        ch.basic_reject(m.delivery_tag, requeue=False)
    else:
        ch.basic_nack(m.delivery_tag, requeue=False)
    return m, p, b


# ---------------------------------------------------------------- x-death, exactly

def test_x_death_on_reject_exact(broker, amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    dlx, q, dead = dlx_pair(ch, amqp)
    src = amqp.xname('src')
    ch.exchange_declare(src, 'direct')
    ch.queue_bind(q, src, 'orig.key')
    props = pika.BasicProperties(headers={'app': 'h', 'n': 5}, delivery_mode=2, message_id='mid',
                                 correlation_id='cid', content_type='text/plain', priority=2)
    ch.basic_publish(src, 'orig.key', b'payload', props)
    reject_one(ch, q)
    rk, exchange, p, body = raw_get(broker, dead)
    assert (rk, exchange, body) == ('orig.key', dlx, b'payload')
    assert (p['delivery_mode'], p['message_id'], p['correlation_id'], p['content_type'],
            p['priority']) == (2, 'mid', 'cid', 'text/plain', 2)
    headers = p['headers']
    assert sorted(k for k, _v in headers) == ['app', 'n', 'x-death', 'x-first-death-exchange',
                                              'x-first-death-queue', 'x-first-death-reason']
    assert plain(typed_lookup(headers, 'app')) == ('S', 'h')
    assert plain(typed_lookup(headers, 'n')) == ('I', 5)
    (entry,) = x_death(headers)
    assert check_entry(entry, NEW_ENTRY_ORDER, 1, 'rejected', q, src, ['orig.key']), \
        'field order of a new x-death entry: %r' % [k for k, _v in entry]
    check_first_death(headers, src, q, 'rejected')


def test_x_death_on_nack_with_routing_key_and_original_expiration(broker, amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    dlx = amqp.xname('dlx')
    q, dead = amqp.name('work'), amqp.name('dead')
    ch.exchange_declare(dlx, 'direct')
    ch.queue_declare(dead)
    ch.queue_bind(dead, dlx, 'dead.key')
    ch.queue_declare(q, arguments={'x-dead-letter-exchange': dlx,
                                   'x-dead-letter-routing-key': 'dead.key'})
    ch.basic_publish('', q, b'nacked', pika.BasicProperties(expiration='600000'))
    reject_one(ch, q, how='nack')
    rk, exchange, p, body = raw_get(broker, dead)
    assert (rk, exchange, body) == ('dead.key', dlx, b'nacked')
    assert 'expiration' not in p
    (entry,) = x_death(p['headers'])
    assert check_entry(entry, NEW_ENTRY_ORDER, 1, 'rejected', q, '', [q],
                       original_expiration='600000'), [k for k, _v in entry]
    check_first_death(p['headers'], '', q, 'rejected')


def test_x_death_expired(broker, amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    dlx, q, dead = dlx_pair(ch, amqp, **{'x-message-ttl': 100})
    ch.basic_publish('', q, b'expires')
    rk, exchange, p, body = raw_get(broker, dead)
    assert (rk, exchange, body) == (q, dlx, b'expires')
    (entry,) = x_death(p['headers'])
    assert check_entry(entry, NEW_ENTRY_ORDER, 1, 'expired', q, '', [q])
    check_first_death(p['headers'], '', q, 'expired')


def test_x_death_maxlen(broker, amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    dlx, q, dead = dlx_pair(ch, amqp, **{'x-max-length': 1})
    x = amqp.xname('topic')
    ch.exchange_declare(x, 'topic')
    ch.queue_bind(q, x, 'a.*')
    ch.basic_publish(x, 'a.first', b'dropped')
    ch.basic_publish(x, 'a.second', b'kept')
    rk, exchange, p, body = raw_get(broker, dead)
    assert (rk, exchange, body) == ('a.first', dlx, b'dropped')
    (entry,) = x_death(p['headers'])
    assert check_entry(entry, NEW_ENTRY_ORDER, 1, 'maxlen', q, x, ['a.first'])
    check_first_death(p['headers'], x, q, 'maxlen')
    assert bodies(ch, q) == [b'kept']


def test_x_death_count_increments_same_queue(broker, amqp):
    """A queue that dead-letters to itself on reject: one entry, count 1, 2, 3."""
    ch = amqp.channel()
    ch.confirm_delivery()
    q = amqp.name('self')
    ch.queue_declare(q, arguments={'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q})
    ch.basic_publish('', q, b'again')
    reject_one(ch, q)
    wait_count(ch, q, 1)
    first_time = None
    for n in (1, 2):
        _m, p, _b = reject_one(ch, q)          # look (pika), then death n + 1
        (d,) = p.headers['x-death']
        assert d['count'] == n
        first_time = first_time or d['time']
        assert d['time'] == first_time
        wait_count(ch, q, 1)
    rk, exchange, p, body = raw_get(broker, q)
    assert (rk, exchange, body) == (q, '', b'again')
    (entry,) = x_death(p['headers'])
    check_entry(entry, SORTED_ENTRY_ORDER, 3, 'rejected', q, '', [q])
    assert [k for k, _v in entry] == SORTED_ENTRY_ORDER, 'an updated entry has its fields sorted'
    assert dict(entry)['time'][1] == int(first_time.replace(tzinfo=datetime.timezone.utc).timestamp()), \
        'time stays that of the first death'
    check_first_death(p['headers'], '', q, 'rejected')


def test_x_death_two_queues_most_recent_first(broker, amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    q1, q2, q3 = amqp.name('first'), amqp.name('second'), amqp.name('final')
    ch.queue_declare(q3)
    ch.queue_declare(q2, arguments={'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q3,
                                    'x-message-ttl': 100})
    ch.queue_declare(q1, arguments={'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q2})
    ch.basic_publish('', q1, b'traveller', pika.BasicProperties(headers={'keep': 'me'}))
    reject_one(ch, q1)
    rk, exchange, p, body = raw_get(broker, q3)
    assert (rk, exchange, body) == (q3, '', b'traveller')
    newest, oldest = x_death(p['headers'])
    assert check_entry(oldest, NEW_ENTRY_ORDER, 1, 'rejected', q1, '', [q1])
    assert check_entry(newest, SORTED_ENTRY_ORDER, 1, 'expired', q2, '', [q2]), \
        'an entry added to an existing x-death has its fields sorted: %r' % [k for k, _v in newest]
    check_first_death(p['headers'], '', q1, 'rejected')
    assert plain(typed_lookup(p['headers'], 'keep')) == ('S', 'me')


# ---------------------------------------------------------------- when, and where to

def test_no_dead_letter_on_requeue_purge_or_delete(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    dlx, q, dead = dlx_pair(ch, amqp)
    ch.basic_publish('', q, b'1')
    m, _p, _b = get_one(ch, q, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, _p, _b = get_one(ch, q, auto_ack=False)
    ch.basic_nack(m.delivery_tag, requeue=True)
    wait_count(ch, q, 1)
    ch.queue_purge(q)
    ch.basic_publish('', q, b'2')
    ch.queue_delete(q)
    time.sleep(0.2)
    assert count(ch, dead) == 0


def test_missing_dead_letter_exchange_drops(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    ch.queue_declare(qname, arguments={'x-dead-letter-exchange': amqp.xname('missing')})
    ch.basic_publish('', qname, b'lost')
    reject_one(ch, qname)
    assert count(ch, qname) == 0
    ch.queue_declare(qname, passive=True)      # channel fine


def test_dead_letter_through_topic_exchange_by_original_key(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    dlx = amqp.xname('dlxt')
    ch.exchange_declare(dlx, 'topic')
    q, errors, others = amqp.name('work'), amqp.name('err'), amqp.name('other')
    for dq, pattern in ((errors, 'job.error.#'), (others, 'job.*')):
        ch.queue_declare(dq)
        ch.queue_bind(dq, dlx, pattern)
    src = amqp.xname('src')
    ch.exchange_declare(src, 'topic')
    ch.queue_declare(q, arguments={'x-dead-letter-exchange': dlx})
    ch.queue_bind(q, src, 'job.#')
    ch.basic_publish(src, 'job.error.disk', b'e')
    ch.basic_publish(src, 'job.ok', b'o')
    reject_one(ch, q)
    reject_one(ch, q)
    wait_count(ch, errors, 1)
    wait_count(ch, others, 1)
    assert (bodies(ch, errors), bodies(ch, others)) == ([b'e'], [b'o'])


def test_cc_routing_keys(broker, amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    dlx = amqp.xname('dlx')
    ch.exchange_declare(dlx, 'direct')
    q, by_key, by_cc, by_dlrk = (amqp.name('work'), amqp.name('key'), amqp.name('cc'),
                                 amqp.name('dlrk'))
    for dq, key in ((by_key, 'orig'), (by_cc, 'cc-key'), (by_dlrk, 'dlrk')):
        ch.queue_declare(dq)
        ch.queue_bind(dq, dlx, key)
    src = amqp.xname('src')
    ch.exchange_declare(src, 'direct')
    q2 = amqp.name('work2')
    ch.queue_declare(q, arguments={'x-dead-letter-exchange': dlx})
    ch.queue_declare(q2, arguments={'x-dead-letter-exchange': dlx, 'x-dead-letter-routing-key': 'dlrk'})
    for wq in (q, q2):
        ch.queue_bind(wq, src, 'orig')
    ch.basic_publish(src, 'orig', b'cc', pika.BasicProperties(headers={'CC': ['cc-key']}))
    # the CC key routes nowhere in src, so only q and q2 got it
    reject_one(ch, q)
    reject_one(ch, q2)
    wait_count(ch, by_dlrk, 1)
    wait_count(ch, by_key, 1)
    wait_count(ch, by_cc, 1)
    # without a DLRK: original key and CC keys, CC header kept
    for dq in (by_key, by_cc):
        rk, _x, p, _b = raw_get(broker, dq)
        assert rk == 'orig'
        assert plain(typed_lookup(p['headers'], 'CC')) == ('A', [('S', 'cc-key')])
        (entry,) = x_death(p['headers'])
        assert dict(entry)['routing-keys'] == ('A', [('S', 'orig'), ('S', 'cc-key')])
    # with a DLRK: only the DLRK, the CC header removed, x-death keeps the originals
    rk, _x, p, _b = raw_get(broker, by_dlrk)
    assert rk == 'dlrk'
    assert 'CC' not in [k for k, _v in p['headers']]
    (entry,) = x_death(p['headers'])
    assert dict(entry)['routing-keys'] == ('A', [('S', 'orig'), ('S', 'cc-key')])


def test_expiry_cycle_is_dropped_rejection_cycle_is_not(amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    q = amqp.name('ttlcycle')
    ch.queue_declare(q, arguments={'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': q,
                                   'x-message-ttl': 100})
    ch.basic_publish('', q, b'round')
    wait_count(ch, q, 0, timeout=5)
    time.sleep(0.5)
    assert count(ch, q) == 0, 'an expiry cycle must end'
    r = amqp.name('rejcycle')
    ch.queue_declare(r, arguments={'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': r})
    ch.basic_publish('', r, b'again')
    for n in (1, 2, 3):
        reject_one(ch, r)
        wait_count(ch, r, 1)
    m, p, _b = get_one(ch, r)
    assert p.headers['x-death'][0]['count'] == 3


def test_dead_lettered_persistent_message_survives_restart(broker, amqp):
    broker.require_control()
    ch = amqp.channel()
    ch.confirm_delivery()
    q, dead = amqp.name('dwork'), amqp.name('ddead')
    dlx = amqp.xname('ddlx')
    ch.exchange_declare(dlx, 'fanout', durable=True)
    ch.queue_declare(dead, durable=True)
    ch.queue_bind(dead, dlx)
    ch.queue_declare(q, durable=True, arguments={'x-dead-letter-exchange': dlx})
    ch.basic_publish('', q, b'durable death', pika.BasicProperties(delivery_mode=2, headers={'a': 1}))
    ch.basic_publish('', q, b'second', pika.BasicProperties(delivery_mode=2))
    reject_one(ch, q)
    wait_count(ch, dead, 1)
    broker.restart()
    rk, exchange, p, body = raw_get(broker, dead)
    assert (rk, exchange, body) == (q, dlx, b'durable death')
    (entry,) = x_death(p['headers'])
    assert check_entry(entry, NEW_ENTRY_ORDER, 1, 'rejected', q, '', [q])
    # the queue's DLX survived too
    ch = amqp.channel()
    reject_one(ch, q)
    wait_for(lambda: count(ch, dead) == 1, 5, what='second message dead-lettered after restart')
    (_m, p, b), = drain(ch, dead)
    assert b == b'second' and p.headers['x-death'][0]['queue'] == q
