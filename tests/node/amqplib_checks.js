#!/usr/bin/env node
// amqplib behaviours that programs rely on, one subcommand each, run by
// tests/node/test_amqplib.py against warren and against RabbitMQ:
//
//   node amqplib_checks.js confirm QUEUE N        confirm channel, N publishes, waitForConfirms
//   node amqplib_checks.js topic EXCHANGE         assertExchange/bindQueue/unbindQueue on a topic exchange
//   node amqplib_checks.js inequivalent QUEUE     redeclare a durable queue as durable=false
//   node amqplib_checks.js close-redeliver QUEUE  unacked messages come back after channel.close()
//   node amqplib_checks.js cancel QUEUE           queue deleted under a consumer: callback(null)
//   node amqplib_checks.js get QUEUE              get on an empty and a non-empty queue
//
// The broker is AMQP_URL (default amqp://localhost).  Each subcommand prints
// what it saw as one JSON object on stdout and exits 0; the test asserts on
// it.  It deletes what it declares (queues, exchanges), so runs can share one
// RabbitMQ.  Any error, or a wait longer than 10 s, exits 1 with the reason
// on stderr.
'use strict';

var runner = require('./check_runner');
var within = runner.within;

function errorFields(err) {
  return { code: err.code, classId: err.classId, methodId: err.methodId, message: err.message };
}

// Resolves once a consumer callback has been called `n` times.
function collector(n) {
  var c = { items: [] };
  c.done = new Promise(function (resolve) { c.resolve = resolve; });
  c.push = function (item) {
    c.items.push(item);
    if (c.items.length === n) c.resolve(c.items);
  };
  return c;
}

var checks = {};

// 1. A confirm channel: every publish gets its callback with no error, and
// waitForConfirms resolves only after all of them.
checks.confirm = async function (conn, queue, count) {
  var n = Number(count);
  var ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true });
  var acked = 0, nacked = 0;
  for (var i = 0; i < n; i++) {
    ch.sendToQueue(queue, Buffer.from('message ' + i), { persistent: true }, function (err) {
      if (err) nacked++; else acked++;
    });
  }
  await within(ch.waitForConfirms(), 'waitForConfirms');
  var atWait = { acked: acked, nacked: nacked };
  var check = await ch.checkQueue(queue);
  var del = await ch.deleteQueue(queue);
  await ch.close();
  return { atWait: atWait, messageCount: check.messageCount, deletedCount: del.messageCount };
};

// 2. Topic routing, as in tutorial five: which queue gets which routing key,
// and an unbind that takes effect.
checks.topic = async function (conn, exchange) {
  var ch = await conn.createConfirmChannel();
  await ch.assertExchange(exchange, 'topic', { durable: false });
  var q1 = (await ch.assertQueue('', { exclusive: true })).queue;
  var q2 = (await ch.assertQueue('', { exclusive: true })).queue;
  await ch.bindQueue(q1, exchange, '*.orange.*');
  await ch.bindQueue(q2, exchange, '*.*.rabbit');
  await ch.bindQueue(q2, exchange, 'lazy.#');
  var keys = ['quick.orange.rabbit', 'lazy.orange.elephant', 'quick.orange.fox',
              'lazy.brown.fox', 'lazy.pink.rabbit', 'quick.brown.fox', 'orange',
              'quick.orange.new.rabbit', 'lazy.orange.new.rabbit', 'lazy'];
  keys.forEach(function (k) { ch.publish(exchange, k, Buffer.from(k)); });
  await within(ch.waitForConfirms(), 'confirms of the routed messages');
  await ch.unbindQueue(q2, exchange, 'lazy.#');
  ch.publish(exchange, 'lazy.after.unbind', Buffer.from('lazy.after.unbind'));
  ch.publish(exchange, 'quick.orange.again', Buffer.from('quick.orange.again'));
  await within(ch.waitForConfirms(), 'confirms after the unbind');

  async function drain(q) {
    var got = [];
    for (;;) {
      var m = await ch.get(q, { noAck: true });
      if (m === false) return got;
      got.push({ body: m.content.toString(), exchange: m.fields.exchange, routingKey: m.fields.routingKey });
    }
  }
  var result = { q1: await drain(q1), q2: await drain(q2) };
  await ch.deleteExchange(exchange);
  await ch.close();
  return result;
};

// 3. Redeclaring a durable queue with durable=false: the channel is closed
// by the server, amqplib emits 'error' on the channel and rejects the call.
checks.inequivalent = async function (conn, queue) {
  var ch = await conn.createChannel();
  var emitted = null;
  ch.on('error', function (err) { emitted = errorFields(err); });
  var closed = new Promise(function (resolve) { ch.on('close', resolve); });
  var rejected = null;
  try {
    await ch.assertQueue(queue, { durable: false });
  } catch (err) {
    rejected = errorFields(err);
  }
  await within(closed, "the channel's close event");
  // the connection is still usable, and the queue untouched
  var ch2 = await conn.createChannel();
  var check = await ch2.checkQueue(queue);
  await ch2.close();
  return { emitted: emitted, rejected: rejected, messageCount: check.messageCount };
};

// 4. consume with noAck=false, then channel.close(): the unacked messages
// go to another consumer, marked redelivered, in their order.
checks['close-redeliver'] = async function (conn, queue) {
  var bodies = ['one', 'two', 'three'];
  var ch1 = await conn.createConfirmChannel();
  await ch1.assertQueue(queue, { durable: false });
  var first = collector(bodies.length);
  await ch1.consume(queue, function (msg) {
    first.push({ body: msg.content.toString(), redelivered: msg.fields.redelivered });
  }, { noAck: false });
  bodies.forEach(function (b) { ch1.sendToQueue(queue, Buffer.from(b)); });
  await within(ch1.waitForConfirms(), 'publish confirms');
  await within(first.done, 'the first consumer\'s deliveries');

  var conn2 = await require('amqplib').connect(runner.URL);
  var ch2 = await conn2.createChannel();
  var second = collector(bodies.length);
  var early = [];
  var tag = (await ch2.consume(queue, function (msg) {
    if (first.closedAt === undefined) early.push(msg.content.toString());
    second.push({ body: msg.content.toString(), redelivered: msg.fields.redelivered });
    ch2.ack(msg);
  }, { noAck: false })).consumerTag;
  var before = await ch2.checkQueue(queue);
  first.closedAt = Date.now();
  await ch1.close();
  await within(second.done, 'the redeliveries to the second consumer');
  var after = await ch2.checkQueue(queue);
  await ch2.cancel(tag);
  await ch2.deleteQueue(queue);
  await conn2.close();
  return { first: first.items, second: second.items, early: early,
           before: { messageCount: before.messageCount, consumerCount: before.consumerCount },
           after: { messageCount: after.messageCount, consumerCount: after.consumerCount } };
};

// 5. The queue is deleted under a consumer: the server sends basic.cancel
// and amqplib calls the consumer with null; the channel stays open.
checks.cancel = async function (conn, queue) {
  var ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: false });
  var messages = [];
  var closed = false;
  ch.on('close', function () { closed = true; });
  var cancelled = new Promise(function (resolve) {
    ch.consume(queue, function (msg) {
      if (msg === null) resolve({ gotNull: true, channelClosed: closed });
      else messages.push(msg.content.toString());
    }, { noAck: true });
  });
  ch.sendToQueue(queue, Buffer.from('before delete'));
  var ch2 = await conn.createChannel();
  var check = await ch2.checkQueue(queue);
  for (var i = 0; i < 500 && messages.length === 0; i++)
    await new Promise(function (r) { setTimeout(r, 10); });
  var del = await ch2.deleteQueue(queue);
  var seen = await within(cancelled, 'the consumer callback with null');
  // the same channel still works: declare and use a server-named queue
  var q = (await ch.assertQueue('', { exclusive: true })).queue;
  ch.sendToQueue(q, Buffer.from('after cancel'));
  var m = await ch.get(q, { noAck: true });
  await ch.close();
  await ch2.close();
  return { consumerCountBefore: check.consumerCount, deletedCount: del.messageCount,
           messages: messages, gotNull: seen.gotNull, channelClosedAtCancel: seen.channelClosed,
           afterCancel: m === false ? null : m.content.toString() };
};

// 6. get on an empty queue gives false; on a non-empty one a message with
// the count of messages left and the properties it was published with.
checks.get = async function (conn, queue) {
  var ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: false });
  function summary(m) {
    if (m === false) return false;
    return { body: m.content.toString(), messageCount: m.fields.messageCount,
             redelivered: m.fields.redelivered, deliveryTag: m.fields.deliveryTag,
             routingKey: m.fields.routingKey, exchange: m.fields.exchange,
             contentType: m.properties.contentType, deliveryMode: m.properties.deliveryMode,
             messageId: m.properties.messageId, headers: m.properties.headers };
  }
  var out = {};
  out.empty = await ch.get(queue);
  ch.sendToQueue(queue, Buffer.from('first'),
                 { persistent: true, contentType: 'text/plain', messageId: 'id-1',
                   headers: { 'x-attempt': 1, 'x-note': 'hello' } });
  ch.sendToQueue(queue, Buffer.from('second'));
  var m1 = await ch.get(queue, { noAck: false });
  out.first = summary(m1);
  ch.nack(m1, false, true);                       // back to the head of the queue
  var again = await ch.get(queue, { noAck: false });
  out.again = summary(again);
  ch.ack(again);
  out.second = summary(await ch.get(queue, { noAck: true }));
  out.emptyAgain = await ch.get(queue, { noAck: true });
  out.deletedCount = (await ch.deleteQueue(queue)).messageCount;
  await ch.close();
  return out;
};

runner.run('amqplib_checks.js', checks);
