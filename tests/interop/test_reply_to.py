"""Issue 11, point 6: direct reply-to (amq.rabbitmq.reply-to), as RabbitMQ 3.10 does it.

Every test here passes against RabbitMQ 3.10 too (WARREN_TEST_URL), which is
where the codes and texts come from:
  - the pseudo-queue amq.rabbitmq.reply-to is consumed with no_ack=true; an
    ack-mode consumer is 406 "PRECONDITION_FAILED - reply consumer cannot
    acknowledge", a second one on the channel 406 "PRECONDITION_FAILED -
    reply consumer already set", a tag already used by a consumer of the
    channel 530 "NOT_ALLOWED - attempt to reuse consumer tag 'T'";
  - a publish with reply_to=amq.rabbitmq.reply-to reaches the server with
    reply_to=amq.rabbitmq.reply-to.<token> (the same name for every publish
    of the channel); without a reply consumer on the channel it is 406
    "PRECONDITION_FAILED - fast reply consumer does not exist";
  - a publish to the default exchange with that name as routing key goes
    straight to the consumer (exchange '', routing key the name,
    redelivered false, the properties as published), in a transaction
    at the publish, not the commit; being routed to no queue, it is
    returned as well when mandatory, and confirmed;
  - queue.declare of amq.rabbitmq.reply-to (passive or not) is declare-ok
    with 0 messages and 1 consumer; of amq.rabbitmq.reply-to.<token> the same
    while its consumer lives, else 404 "NOT_FOUND - no queue '<name>' in
    vhost '/'";
  - a reply to a name whose consumer is gone (cancelled, channel or
    connection closed) is dropped: the replying channel stays open;
  - connection.start lists the capability direct_reply_to.
"""
import os
import subprocess

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, UnroutableError

import amqp_raw as raw
from helpers import HERE, PYTHON, wait_for

TUTORIAL = os.path.join(HERE, 'tutorial')
REPLY_TO = 'amq.rabbitmq.reply-to'


def closed_with(exc_info):
    return exc_info.value.reply_code, exc_info.value.reply_text


class Replies:
    """An auto-ack consumer of amq.rabbitmq.reply-to on ch."""

    def __init__(self, ch, **kw):
        self.got = []
        self.tag = ch.basic_consume(REPLY_TO, self.on_message, auto_ack=True, **kw)

    def on_message(self, ch, method, props, body):
        self.got.append((method, props, body))


def request(conn, client_ch, server_ch, rpc_queue, body=b'req', correlation_id='c1', **props):
    """Publish a request with reply_to=amq.rabbitmq.reply-to; return the
    reply_to the server sees (the other properties must come through as
    published)."""
    client_ch.basic_publish('', rpc_queue, body,
                            pika.BasicProperties(reply_to=REPLY_TO, correlation_id=correlation_id, **props))
    got = []
    wait_for(lambda: got.append(server_ch.basic_get(rpc_queue, auto_ack=True)) or got[-1][0],
             what='the request')
    _method, seen, b = got[-1]
    assert b == body and seen.correlation_id == correlation_id
    for k, v in props.items():
        assert getattr(seen, k) == v, k
    return seen.reply_to


# ------------------------------------------------------------------ RPC

def tutorial_env(broker, queue):
    env = dict(os.environ)
    env.update(TUTORIAL_HOST=broker.host, TUTORIAL_PORT=str(broker.port),
               TUTORIAL_QUEUE=queue, PYTHONUNBUFFERED='1')
    return env


def test_rpc_tutorial_six_over_direct_reply_to(broker, amqp, qname, procs):
    """The tutorial's RPC server, and two clients at once that consume
    amq.rabbitmq.reply-to and publish with reply_to set to it: each gets its
    own answers (before: basic.consume was 404 and the client died)."""
    server = procs.start([PYTHON, os.path.join(TUTORIAL, 'rpc_server.py')],
                         env=tutorial_env(broker, qname))
    assert server.stdout.readline() == b' [x] Awaiting RPC requests\n'
    clients = [subprocess.Popen([PYTHON, os.path.join(TUTORIAL, 'rpc_client.py')] + args,
                                env=tutorial_env(broker, qname), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
               for args in (['30', '10', '1'], ['20', '0', '90'])]
    outs = [c.communicate(timeout=30) for c in clients]
    for c, (out, err) in zip(clients, outs):
        assert c.returncode == 0, err.decode()
    assert outs[0][0].decode().splitlines() == [
        ' [x] Requesting fib(30)', ' [.] Got 832040',
        ' [x] Requesting fib(10)', ' [.] Got 55',
        ' [x] Requesting fib(1)', ' [.] Got 1']
    assert outs[1][0].decode().splitlines() == [
        ' [x] Requesting fib(20)', ' [.] Got 6765',
        ' [x] Requesting fib(0)', ' [.] Got 0',
        ' [x] Requesting fib(90)', ' [.] Got 2880067194370816120']
    assert server.poll() is None
    # every request was answered and acked: nothing left behind
    assert amqp.channel().queue_declare(qname, passive=True).method.message_count == 0


def test_reply_goes_straight_to_the_consumer(amqp, qname):
    client = amqp.connect()
    cch = client.channel()
    replies = Replies(cch, consumer_tag='replies')
    server = amqp.connect()
    sch = server.channel()
    sch.queue_declare(qname)
    reply_to = request(client, cch, sch, qname)
    assert reply_to.startswith(REPLY_TO + '.') and len(reply_to) > len(REPLY_TO) + 16
    # one name per channel; the rest of the properties as published
    assert request(client, cch, sch, qname, b'x' * 300000, correlation_id='c2', content_type='application/json',
                   headers={'h': 1, 'list': ['a', 2]}, priority=3, message_id='m1', timestamp=1700000000,
                   type='t', app_id='app', expiration='60000', delivery_mode=2) == reply_to
    sch.basic_publish('', reply_to, b'the answer',
                      pika.BasicProperties(correlation_id='c1', content_type='text/plain',
                                           delivery_mode=2, headers={'k': 'v'}))
    wait_for(lambda: replies.got, conn=client, what='the reply')
    method, props, body = replies.got[0]
    assert body == b'the answer'
    assert (method.consumer_tag, method.exchange, method.routing_key, method.redelivered) == \
        ('replies', '', reply_to, False)
    assert (props.correlation_id, props.content_type, props.delivery_mode, props.headers) == \
        ('c1', 'text/plain', 2, {'k': 'v'})
    # no queue holds it, and another channel has another name
    other = client.channel()
    Replies(other)
    other_name = request(client, other, sch, qname)
    assert other_name.startswith(REPLY_TO + '.') and other_name != reply_to
    sch.basic_publish('', other_name, b'for other')
    sch.basic_publish('', reply_to, b'second')
    wait_for(lambda: len(replies.got) == 2, conn=client, what='the second reply')
    assert replies.got[1][2] == b'second'


def test_reply_by_cc_header_and_in_a_transaction(amqp, qname):
    client = amqp.connect()
    cch = client.channel()
    replies = Replies(cch)
    sch = amqp.connect().channel()
    sch.queue_declare(qname)
    reply_to = request(client, cch, sch, qname)
    # a CC key reaches it too, once, whatever else the message went to
    sch.basic_publish('', qname, b'cc', pika.BasicProperties(headers={'CC': [reply_to, reply_to]}))
    wait_for(lambda: replies.got, conn=client, what='the CC reply')
    assert sch.queue_declare(qname, passive=True).method.message_count == 1
    # in a transaction it goes when published, as in RabbitMQ
    sch.tx_select()
    sch.basic_publish('', reply_to, b'in tx')
    wait_for(lambda: len(replies.got) == 2, conn=client, what='the reply before tx.commit')
    sch.tx_commit()
    client.process_data_events(time_limit=0.3)
    assert [b for _, _, b in replies.got] == [b'cc', b'in tx']


def test_reply_confirmed_and_returned_when_mandatory(amqp, qname):
    """RabbitMQ 3.10 routes a reply to no queue: a mandatory one is delivered
    and comes back with basic.return as well; a confirm acks it."""
    client = amqp.connect()
    cch = client.channel()
    replies = Replies(cch)
    sch = amqp.connect().channel()
    sch.queue_declare(qname)
    reply_to = request(client, cch, sch, qname)
    sch.confirm_delivery()
    sch.basic_publish('', reply_to, b'confirmed')              # acked, or pika raises
    with pytest.raises(UnroutableError):
        sch.basic_publish('', reply_to, b'mandatory', mandatory=True)
    wait_for(lambda: len(replies.got) == 2, conn=client, what='both replies')
    assert [b for _, _, b in replies.got] == [b'confirmed', b'mandatory']


# ------------------------------------------------------------------ declares

def test_declare_pseudo_queue_passive_or_not(amqp):
    ch = amqp.channel()
    for passive in (True, False):
        ok = ch.queue_declare(REPLY_TO, passive=passive).method
        assert (ok.queue, ok.message_count, ok.consumer_count) == (REPLY_TO, 0, 1)


def test_passive_declare_of_reply_name_while_its_consumer_lives(amqp, qname):
    client = amqp.connect()
    cch = client.channel()
    replies = Replies(cch)
    server = amqp.connect()
    sch = server.channel()
    sch.queue_declare(qname)
    reply_to = request(client, cch, sch, qname)
    ok = sch.queue_declare(reply_to, passive=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (reply_to, 0, 1)
    cch.basic_cancel(replies.tag)
    with pytest.raises(ChannelClosedByBroker) as e:
        server.channel().queue_declare(reply_to, passive=True)
    assert closed_with(e) == (404, "NOT_FOUND - no queue '%s' in vhost '/'" % reply_to)
    with pytest.raises(ChannelClosedByBroker) as e:
        server.channel().queue_declare(REPLY_TO + '.nosuchtoken', passive=True)
    assert closed_with(e) == (404, "NOT_FOUND - no queue '%s.nosuchtoken' in vhost '/'" % REPLY_TO)


# ------------------------------------------------------------------ errors

def test_consume_with_acks_406(amqp):
    ch = amqp.channel()
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.basic_consume(REPLY_TO, lambda *a: None, auto_ack=False)
    assert closed_with(e) == (406, 'PRECONDITION_FAILED - reply consumer cannot acknowledge')


def test_second_reply_consumer_406(amqp):
    ch = amqp.channel()
    Replies(ch)
    with pytest.raises(ChannelClosedByBroker) as e:
        Replies(ch)
    assert closed_with(e) == (406, 'PRECONDITION_FAILED - reply consumer already set')


def test_reply_consumer_tag_reused_530(broker, qname):
    with raw.RawConnection(broker.host, broker.port) as c:
        c.handshake()
        c.open_channel(1)
        c.send(raw.method_frame(1, raw.QUEUE_DECLARE, 0, qname, False, False, True, True, False, {}))
        c.expect(raw.QUEUE_DECLARE_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, qname, 'dup', False, False, False, False, {}))
        c.expect(raw.BASIC_CONSUME_OK, 1)
        c.send(raw.method_frame(1, raw.BASIC_CONSUME, 0, REPLY_TO, 'dup', False, True, False, False, {}))
        code, text, cls, meth = c.expect_connection_close()
        assert (code, cls, meth) == (530, 60, 20)
        assert text == "NOT_ALLOWED - attempt to reuse consumer tag 'dup'"


def test_publish_with_reply_to_and_no_reply_consumer_406(amqp, qname):
    ch = amqp.channel()
    ch.queue_declare(qname)
    ch.basic_publish('', qname, b'x', pika.BasicProperties(reply_to=REPLY_TO))
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.queue_declare(qname, passive=True)
    assert closed_with(e) == (406, 'PRECONDITION_FAILED - fast reply consumer does not exist')
    assert amqp.channel().queue_declare(qname, passive=True).method.message_count == 0


def test_publish_with_reply_to_after_cancel_406(amqp, qname):
    conn = amqp.connect()
    ch = conn.channel()
    ch.queue_declare(qname)
    replies = Replies(ch)
    ch.basic_cancel(replies.tag)                 # cancel-ok, or pika raises
    ch.basic_publish('', qname, b'x', pika.BasicProperties(reply_to=REPLY_TO))
    with pytest.raises(ChannelClosedByBroker) as e:
        ch.queue_declare(qname, passive=True)
    assert closed_with(e) == (406, 'PRECONDITION_FAILED - fast reply consumer does not exist')


# ------------------------------------------------------------------ gone consumers

@pytest.mark.parametrize('how', ['channel', 'connection'])
def test_reply_to_a_gone_consumer_is_dropped(amqp, qname, how):
    client = amqp.connect()
    cch = client.channel()
    Replies(cch)
    server = amqp.connect()
    sch = server.channel()
    sch.queue_declare(qname)
    reply_to = request(client, cch, sch, qname)
    if how == 'channel':
        cch.close()
    else:
        client.close()
    wait_for(lambda: pika_404(server, reply_to), what='the reply name to go')
    sch.confirm_delivery()
    sch.basic_publish('', reply_to, b'too late')             # acked: dropped, no error
    with pytest.raises(UnroutableError):                      # RabbitMQ returns a mandatory one
        sch.basic_publish('', reply_to, b'too late', mandatory=True)
    assert sch.is_open
    assert sch.queue_declare(qname, passive=True).method.message_count == 0


def pika_404(conn, name):
    try:
        conn.channel().queue_declare(name, passive=True)
        return False
    except ChannelClosedByBroker as e:
        return e.reply_code == 404


def test_capability_direct_reply_to(amqp):
    conn = amqp.connect()
    assert conn._impl.server_properties['capabilities'].get('direct_reply_to') is True
