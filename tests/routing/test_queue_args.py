"""Queue arguments of the queue features: validated and compared like RabbitMQ 3.10.

Every text below is RabbitMQ 3.10.8's.  Note the three shapes RabbitMQ uses:
  invalid arg '<name>' for queue '<q>' in vhost '/': <erlang term>
  invalid type '<amqp type>' for arg '<name>' in queue '<q>' in vhost '/'
  inequivalent arg '<name>' for queue '<q>' in vhost '/': received ... but current is ...
(tests/interop/test_queue.py covers x-max-length and x-message-ttl redeclares.)
"""
import datetime

import pytest
from pika.exceptions import ChannelClosedByBroker

from routing_helpers import closed_with

INVALID = [
    ({'x-message-ttl': -1}, "invalid arg 'x-message-ttl' for queue '{q}' in vhost '/': {{value_negative,-1}}"),
    ({'x-message-ttl': 'x'}, "invalid arg 'x-message-ttl' for queue '{q}' in vhost '/': \"expected integer, got longstr\""),
    ({'x-expires': 0}, "invalid arg 'x-expires' for queue '{q}' in vhost '/': {{value_zero,0}}"),
    ({'x-expires': -5}, "invalid arg 'x-expires' for queue '{q}' in vhost '/': {{value_negative,-5}}"),
    ({'x-max-length-bytes': -1}, "invalid arg 'x-max-length-bytes' for queue '{q}' in vhost '/': {{value_negative,-1}}"),
    ({'x-overflow': 'bogus'}, "invalid arg 'x-overflow' for queue '{q}' in vhost '/': invalid_overflow"),
    ({'x-overflow': 1}, "invalid arg 'x-overflow' for queue '{q}' in vhost '/': {{unacceptable_type,signedint}}"),
    ({'x-dead-letter-routing-key': 'k'},
     "invalid arg 'x-dead-letter-routing-key' for queue '{q}' in vhost '/': routing_key_but_no_dlx_defined"),
    ({'x-dead-letter-exchange': 5},
     "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue '{q}' in vhost '/'"),
    ({'x-max-priority': 256}, "invalid arg 'x-max-priority' for queue '{q}' in vhost '/': {{max_value_exceeded,256}}"),
    ({'x-max-priority': -1}, "invalid arg 'x-max-priority' for queue '{q}' in vhost '/': {{value_negative,-1}}"),
    ({'x-max-priority': 'a'}, "invalid arg 'x-max-priority' for queue '{q}' in vhost '/': \"expected integer, got longstr\""),
    ({'x-single-active-consumer': 'yes'},
     "invalid arg 'x-single-active-consumer' for queue '{q}' in vhost '/': {{unacceptable_type,longstr}}"),
    ({'x-single-active-consumer': 1},
     "invalid arg 'x-single-active-consumer' for queue '{q}' in vhost '/': {{unacceptable_type,signedint}}"),
    ({'x-queue-mode': 'foo'}, "invalid arg 'x-queue-mode' for queue '{q}' in vhost '/': \"unsupported queue mode 'foo'\""),
    ({'x-queue-type': 'foo'}, "invalid arg 'x-queue-type' for queue '{q}' in vhost '/': \"unsupported queue type 'foo'\""),
    # a quorum-queue argument on a classic queue
    ({'x-max-in-memory-length': 5},
     "invalid arg 'x-max-in-memory-length' for queue '{q}' in vhost '/' of queue type rabbit_classic_queue"),
    ({'x-queue-leader-locator': 'client-local'},
     "invalid arg 'x-queue-leader-locator' for queue '{q}' in vhost '/' of queue type rabbit_classic_queue"),
    # TTLs: at most ten years
    ({'x-message-ttl': 315360000001},
     "invalid arg 'x-message-ttl' for queue '{q}' in vhost '/': {{value_too_large,315360000001}}"),
    ({'x-expires': 2 ** 40}, "invalid arg 'x-expires' for queue '{q}' in vhost '/': {{value_too_large,1099511627776}}"),
    # queue versions 1 and 2 only
    ({'x-queue-version': 3}, "invalid arg 'x-queue-version' for queue '{q}' in vhost '/': \"unsupported queue version '3'\""),
    ({'x-queue-version': 0}, "invalid arg 'x-queue-version' for queue '{q}' in vhost '/': \"unsupported queue version '0'\""),
    ({'x-queue-version': -1}, "invalid arg 'x-queue-version' for queue '{q}' in vhost '/': {{value_negative,-1}}"),
    ({'x-queue-version': '2'},
     "invalid arg 'x-queue-version' for queue '{q}' in vhost '/': \"expected integer, got longstr\""),
    # quorum and stream queues: the arguments they refuse, then the properties
    ({'x-queue-type': 'quorum', 'x-max-priority': 3},
     "invalid arg 'x-max-priority' for queue '{q}' in vhost '/' of queue type rabbit_quorum_queue"),
    ({'x-queue-type': 'quorum', 'x-message-ttl': 5}, "invalid property 'non-durable' for queue '{q}' in vhost '/'"),
    ({'x-queue-type': 'stream', 'x-queue-mode': 'lazy', 'x-message-ttl': 5},
     "invalid arg 'x-queue-mode' for queue '{q}' in vhost '/' of queue type rabbit_stream_queue"),
    ({'x-queue-type': 'stream', 'x-max-age': '1D'}, "invalid property 'non-durable' for queue '{q}' in vhost '/'"),
]


@pytest.mark.parametrize('args,text', INVALID, ids=[repr(a) for a, _t in INVALID])
def test_invalid_queue_argument_406(amqp, qname, args, text):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, arguments=args)
    closed_with(ei, 406, 'PRECONDITION_FAILED - ' + text.format(q=qname))
    # nothing was created
    with pytest.raises(ChannelClosedByBroker) as ei:
        amqp.channel().queue_declare(qname, passive=True)
    closed_with(ei, 404)


@pytest.mark.parametrize('kw,prop', [
    (dict(exclusive=True, auto_delete=True), 'auto-delete'),
    (dict(durable=True, auto_delete=True), 'auto-delete'),
    (dict(durable=True, exclusive=True), 'exclusive-owner'),
    (dict(exclusive=True), 'exclusive-owner'),
    (dict(), 'non-durable'),
], ids=lambda v: v if isinstance(v, str) else repr(v))
@pytest.mark.parametrize('qtype', ['quorum', 'stream'])
def test_quorum_and_stream_properties_406(amqp, qname, kw, prop, qtype):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as ei:
        ch.queue_declare(qname, arguments={'x-queue-type': qtype}, **kw)
    closed_with(ei, 406, "PRECONDITION_FAILED - invalid property '%s' for queue '%s' in vhost '/'"
                % (prop, qname))


def test_consumer_cancel_on_ha_failover_must_be_a_boolean(amqp, qname):
    conn = amqp.connect()
    conn.channel().queue_declare(qname)
    for v, t in [('yes', 'longstr'), (1, 'signedint')]:
        with pytest.raises(ChannelClosedByBroker) as ei:
            conn.channel().basic_consume(qname, lambda *a: None, arguments={'x-cancel-on-ha-failover': v})
        closed_with(ei, 406, "PRECONDITION_FAILED - invalid arg 'x-cancel-on-ha-failover' for queue '%s' in "
                    "vhost '/': {unacceptable_type,%s}" % (qname, t))
    conn.channel().basic_consume(qname, lambda *a: None, arguments={'x-cancel-on-ha-failover': True})


@pytest.mark.parametrize('args', [
    {'x-message-ttl': 2 ** 32}, {'x-message-ttl': 315360000000}, {'x-expires': 315360000000},
    {'x-queue-version': 1}, {'x-queue-version': 2},
    {'x-max-priority': 0}, {'x-max-priority': 255}, {'x-message-ttl': 0},
    {'x-queue-mode': 'lazy'}, {'x-queue-mode': 'default'}, {'x-queue-type': 'classic'},
    {'x-overflow': 'drop-head'}, {'x-overflow': 'reject-publish'},
    {'x-overflow': 'reject-publish-dlx'}, {'x-single-active-consumer': False},
    {'x-dead-letter-exchange': ''}, {'x-dead-letter-exchange': 'not-declared-yet',
                                     'x-dead-letter-routing-key': 'k'},
], ids=repr)
def test_valid_queue_arguments_accepted(amqp, qname, args):
    ch = amqp.channel()
    ch.queue_declare(qname, arguments=args)
    ch.queue_declare(qname, arguments=args)


BASE = {'x-max-priority': 5, 'x-overflow': 'drop-head', 'x-dead-letter-exchange': 'a',
        'x-dead-letter-routing-key': 'rk', 'x-single-active-consumer': True, 'x-expires': 100000,
        'x-max-length-bytes': 1000}


@pytest.mark.parametrize('change,tail', [
    ({'x-max-priority': 6}, "'x-max-priority' for queue '{q}' in vhost '/': received '6' but current is '5'"),
    ({'x-overflow': 'reject-publish'},
     "'x-overflow' for queue '{q}' in vhost '/': received 'reject-publish' but current is 'drop-head'"),
    ({'x-dead-letter-exchange': 'b'},
     "'x-dead-letter-exchange' for queue '{q}' in vhost '/': received 'b' but current is 'a'"),
    ({'x-dead-letter-routing-key': 'other'},
     "'x-dead-letter-routing-key' for queue '{q}' in vhost '/': received 'other' but current is 'rk'"),
    ({'x-single-active-consumer': False},
     "'x-single-active-consumer' for queue '{q}' in vhost '/': received 'false' but current is 'true'"),
    ({'x-single-active-consumer': None},
     "'x-single-active-consumer' for queue '{q}' in vhost '/': received none but current is the "
     "value 'true' of type 'bool'"),
    ({'x-expires': 100001}, "'x-expires' for queue '{q}' in vhost '/': received '100001' but current is '100000'"),
    ({'x-max-priority': None},
     "'x-max-priority' for queue '{q}' in vhost '/': received none but current is the "
     "value '5' of type 'signedint'"),
    ({'x-overflow': None},
     "'x-overflow' for queue '{q}' in vhost '/': received none but current is the "
     "value 'drop-head' of type 'longstr'"),
    ({'x-max-length-bytes': None},
     "'x-max-length-bytes' for queue '{q}' in vhost '/': received none but current is the "
     "value '1000' of type 'signedint'"),
], ids=lambda v: repr(v) if isinstance(v, dict) else '')
def test_redeclare_inequivalent_feature_argument_406(amqp, qname, change, tail):
    conn = amqp.connect()
    conn.channel().queue_declare(qname, arguments=BASE)
    args = dict(BASE)
    for k, v in change.items():
        if v is None:
            del args[k]
        else:
            args[k] = v
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_declare(qname, arguments=args)
    closed_with(ei, 406, 'PRECONDITION_FAILED - inequivalent arg ' + tail.format(q=qname))
    # the same arguments again are fine, and unknown ones are not compared
    conn.channel().queue_declare(qname, arguments=dict(BASE, **{'x-unknown': 1}))


def test_consumer_priority_must_be_an_integer(amqp, qname):
    conn = amqp.connect()
    conn.channel().queue_declare(qname)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().basic_consume(qname, lambda *a: None, arguments={'x-priority': 'high'})
    closed_with(ei, 406, "PRECONDITION_FAILED - invalid arg 'x-priority' for queue '%s' in "
                "vhost '/': \"expected integer, got longstr\"" % qname)
    ch = conn.channel()
    ch.basic_consume(qname, lambda *a: None, arguments={'x-priority': -3})
    ch.basic_consume(qname, lambda *a: None, arguments={'x-priority': 2 ** 40})


def test_queue_mode_compared_queue_type_classic_is_the_default(amqp, qname):
    conn = amqp.connect()
    conn.channel().queue_declare(qname, arguments={'x-queue-mode': 'lazy', 'x-queue-type': 'classic'})
    # x-queue-type 'classic' and no x-queue-type are the same thing
    conn.channel().queue_declare(qname, arguments={'x-queue-mode': 'lazy'})
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_declare(qname, arguments={'x-queue-mode': 'default'})
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'x-queue-mode' for queue '%s' in "
                "vhost '/': received 'default' but current is 'lazy'" % qname)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_declare(qname)
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'x-queue-mode' for queue '%s' in "
                "vhost '/': received none but current is the value 'lazy' of type 'longstr'" % qname)


def test_redeclare_with_the_same_integer_as_another_type_is_equivalent(amqp, qname):
    """amqp_value_equiv, as RabbitMQ 3.10: an argument's value compares
    whatever integer type carries it, a timestamp included (x-max-length 5
    as signedint, long or timestamp), and a string as longstr or bytes."""
    conn = amqp.connect()
    conn.channel().queue_declare(qname, arguments={'x-max-length': 5, 'x-dead-letter-exchange': 'dlx'})
    for same in (5,                                         # pika sends 'I'
                 datetime.datetime(1970, 1, 1, 0, 0, 5)):   # pika sends 'T'
        conn.channel().queue_declare(qname, arguments={'x-max-length': same, 'x-dead-letter-exchange': b'dlx'})
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_declare(qname, arguments={'x-max-length': datetime.datetime(1970, 1, 1, 0, 0, 6),
                                                       'x-dead-letter-exchange': 'dlx'})
    closed_with(ei, 406, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' in "
                "vhost '/': received '6' but current is '5'" % qname)
