"""Headers exchange matching (x-match all / any / all-with-x / any-with-x), as RabbitMQ 3.10.

Rules the matrix below pins down (each checked against RabbitMQ 3.10.8):
  - no x-match means all; the routing key is ignored;
  - binding arguments whose names start with 'x-' are ignored by all/any
    (so {x-match: any} with only x- keys matches nothing, {x-match: all}
    with none matches everything, even a message without headers), and
    compared like any other by all-with-x / any-with-x;
  - values compare by type class and value: a signed 32-bit 1 equals a
    64-bit 1 and a timestamp 1, an integer equals a float of the same value,
    but not the string '1', and a bool is not an int;
  - a void (None) binding value means "header present, any value";
  - nested tables and arrays compare by value;
  - x-match must be one of the four strings: anything else is 406.
"""
import datetime
import struct

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

import amqp_raw as raw
from routing_helpers import bodies, closed_with

BINDINGS = {
    'all_ab': {'x-match': 'all', 'a': 1, 'b': 'two'},
    'any_ab': {'x-match': 'any', 'a': 1, 'b': 'two'},
    'default_ab': {'a': 1, 'b': 'two'},
    'all_empty': {'x-match': 'all'},
    'any_empty': {'x-match': 'any'},
    'no_args': {},
    'all_x': {'x-match': 'all', 'x-foo': 'bar', 'a': 1},
    'any_x': {'x-match': 'any', 'x-foo': 'bar'},
    'all_with_x': {'x-match': 'all-with-x', 'x-foo': 'bar', 'a': 1},
    'any_with_x': {'x-match': 'any-with-x', 'x-foo': 'bar'},
    'void': {'x-match': 'all', 'a': None},
    'bool': {'x-match': 'all', 'flag': True},
    'str1': {'x-match': 'all', 'a': '1'},
    'nested': {'x-match': 'all', 't': {'k': 'v', 'n': 2}},
    'array': {'x-match': 'any', 'arr': [1, 'x']},
}

# message name -> headers (None: no headers property at all)
MESSAGES = {
    'm_ab': {'a': 1, 'b': 'two'},
    'm_a': {'a': 1},
    'm_b': {'b': 'two'},
    'm_abc': {'a': 1, 'b': 'two', 'c': 3},
    'm_a2': {'a': 2, 'b': 'two'},
    'm_none': None,
    'm_empty': {},
    'm_xfoo': {'x-foo': 'bar'},
    'm_a_xfoo': {'a': 1, 'x-foo': 'bar'},
    'm_astr': {'a': '1'},
    'm_flag': {'flag': True},
    'm_flag_int': {'flag': 1},
    'm_t': {'t': {'k': 'v', 'n': 2}},
    'm_t2': {'t': {'k': 'v', 'n': 3}},
    'm_arr': {'arr': [1, 'x']},
    'm_arr2': {'arr': [1]},
    'm_a_void': {'a': None},
}
# published by hand: 'a' as a 64-bit signed integer ('l'), value 1
RAW_LONG_A = 'm_along'

ALL = set(MESSAGES) | {RAW_LONG_A}
A_IS_INT_1 = {'m_ab', 'm_a', 'm_abc', 'm_a_xfoo', RAW_LONG_A}

EXPECTED = {
    'all_ab': {'m_ab', 'm_abc'},
    'any_ab': A_IS_INT_1 | {'m_b', 'm_a2'},
    'default_ab': {'m_ab', 'm_abc'},
    'all_empty': ALL,
    'any_empty': set(),
    'no_args': ALL,
    'all_x': A_IS_INT_1,
    'any_x': set(),
    'all_with_x': {'m_a_xfoo'},
    'any_with_x': {'m_xfoo', 'm_a_xfoo'},
    'void': A_IS_INT_1 | {'m_a2', 'm_astr', 'm_a_void'},
    'bool': {'m_flag'},
    'str1': {'m_astr'},
    'nested': {'m_t'},
    'array': {'m_arr'},
}


def raw_publish_long_header(broker, exchange, body):
    """Publish with headers {'a': long 1} (type 'l'), which pika cannot produce."""
    raw_publish_headers(broker, exchange, body, raw.shortstr('a') + b'l' + struct.pack('>q', 1))


def raw_publish_headers(broker, exchange, body, table):
    """Publish with the headers table whose encoded entries are table."""
    props = struct.pack('>I', len(table)) + table
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, (85, 10), raw_args=b'\x00'))       # confirm.select
        assert c.read_method().method == (85, 11)
        c.send(raw.method_frame(1, raw.BASIC_PUBLISH, 0, exchange, 'ignored', False, False)
               + raw.header_frame(1, len(body), flags=1 << 13, props=props)
               + raw.body_frame(1, body))
        assert c.read_method().method == (60, 80)                        # basic.ack


def test_headers_matching_matrix(broker, amqp):
    ch = amqp.channel()
    ch.confirm_delivery()
    x = amqp.xname('hdr')
    ch.exchange_declare(x, 'headers')
    queue_of = {}
    for name, args in BINDINGS.items():
        q = amqp.name('hq-' + name)
        ch.queue_declare(q, auto_delete=True)
        ch.queue_bind(q, x, 'rk-' + name, arguments=args)
        queue_of[name] = q
    for name, headers in MESSAGES.items():
        ch.basic_publish(x, 'some-key', name.encode(), pika.BasicProperties(headers=headers))
    raw_publish_long_header(broker, x, RAW_LONG_A.encode())
    wrong = []
    for name, q in queue_of.items():
        bs = bodies(ch, q)
        got = set(b.decode() for b in bs)
        assert len(bs) == len(got), 'duplicate delivery to %s: %r' % (name, bs)
        if got != EXPECTED[name]:
            wrong.append('%s %r: missing %s, unexpected %s' % (
                name, BINDINGS[name], sorted(EXPECTED[name] - got), sorted(got - EXPECTED[name])))
    assert not wrong, '\n'.join(wrong)


def test_headers_timestamp_and_float_match_an_integer(broker, amqp):
    """A timestamp header matches an integer binding value (and the other way
    round), and an integer binding value matches a float header of the same
    value, as on RabbitMQ 3.10 (which compares the decoded values with
    Erlang's ==).  warren compared a timestamp as a class of its own, and an
    integer as never equal to a float, so these went unrouted."""
    ch = amqp.channel()
    ch.confirm_delivery()
    x = amqp.xname('hdr')
    ch.exchange_declare(x, 'headers')
    five = datetime.datetime(1970, 1, 1, 0, 0, 5)           # pika sends it as 'T' 5
    as_double = lambda d: raw.shortstr('v') + b'd' + struct.pack('>d', d)  # pika sends no floats
    cases = {                                               # binding value, header value, routed?
        'ts_binding_int_header': (five, 5, True),
        'int_binding_ts_header': (5, five, True),
        'ts_other_value': (five, 6, False),
        'int_binding_float_header': (7, as_double(7.0), True),
        'int_binding_other_float': (7, as_double(7.5), False),
    }
    queue_of = {name: amqp.name('hq-' + name) for name in cases}
    for name, (bound, _, _) in cases.items():
        ch.queue_declare(queue_of[name], auto_delete=True)
        ch.queue_bind(queue_of[name], x, '', arguments={'x-match': 'all', 'v': bound, 'case': name})
    for name, (_, sent, _) in cases.items():
        if isinstance(sent, bytes):
            raw_publish_headers(broker, x, name.encode(), sent + raw.shortstr('case') + b'S' + raw.longstr(name))
        else:
            ch.basic_publish(x, '', name.encode(), pika.BasicProperties(headers={'v': sent, 'case': name}))
    got = {name: bodies(ch, q) for name, q in queue_of.items()}
    assert got == {name: ([name.encode()] if routed else []) for name, (_, _, routed) in cases.items()}


def test_headers_unbind_needs_same_arguments(amqp, qname):
    ch = amqp.channel()
    ch.confirm_delivery()
    x = amqp.xname('hdr')
    ch.exchange_declare(x, 'headers')
    ch.queue_declare(qname)
    args = {'x-match': 'any', 'k': 'v'}
    ch.queue_bind(qname, x, '', arguments=args)
    ch.queue_unbind(qname, x, '', arguments={'x-match': 'any', 'k': 'other'})
    ch.basic_publish(x, '', b'1', pika.BasicProperties(headers={'k': 'v'}))
    assert bodies(ch, qname) == [b'1']
    ch.queue_unbind(qname, x, '', arguments=args)
    ch.basic_publish(x, '', b'2', pika.BasicProperties(headers={'k': 'v'}))
    assert bodies(ch, qname) == []


@pytest.mark.parametrize('value,tail', [
    ('foo', 'Invalid x-match field value <<"foo">>; expected all, any, all-with-x, or any-with-x'),
    ('ANY', 'Invalid x-match field value <<"ANY">>; expected all, any, all-with-x, or any-with-x'),
    ('', 'Invalid x-match field value <<>>; expected all, any, all-with-x, or any-with-x'),
    (5, 'Invalid x-match field type signedint (value 5); expected longstr'),
])
def test_invalid_x_match_406(amqp, qname, value, tail):
    conn = amqp.connect()
    x = amqp.xname('hdr')
    conn.channel().exchange_declare(x, 'headers')
    conn.channel().queue_declare(qname)
    with pytest.raises(ChannelClosedByBroker) as ei:
        conn.channel().queue_bind(qname, x, '', arguments={'x-match': value, 'a': 1})
    closed_with(ei, 406, 'PRECONDITION_FAILED - ' + tail)
    # nothing was bound
    conn.channel().exchange_delete(x, if_unused=True)


def test_x_match_only_checked_on_headers_exchanges(amqp, qname):
    ch = amqp.channel()
    x = amqp.xname()
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(qname)
    ch.queue_bind(qname, x, 'k', arguments={'x-match': 'bogus'})
