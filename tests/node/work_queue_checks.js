#!/usr/bin/env node
// Issue 15's features as an amqplib program uses them, one subcommand each,
// run by tests/node/test_work_queue_features.py against warren:
//
//   node work_queue_checks.js dedup EXCHANGE          an x-message-deduplication exchange
//   node work_queue_checks.js dedup-queue QUEUE       a queue with x-message-deduplication
//   node work_queue_checks.js consumer-timeout QUEUE  x-consumer-timeout: requeued, channel stays
//
// The broker is AMQP_URL.  Each prints what it saw as one JSON object and
// exits 0; any error, or a wait over 10 s, exits 1 with the reason on stderr.
// It deletes what it declares.
'use strict';

var runner = require('./check_runner');
var within = runner.within;

async function drain(ch, queue) {
  var bodies = [];
  for (;;) {
    var m = await ch.get(queue, { noAck: true });
    if (!m) return bodies;
    bodies.push(m.content.toString());
  }
}

var checks = {};

// The plugin's own example: x-cache-size and x-cache-ttl as exchange
// arguments, x-deduplication-header on each message.
checks.dedup = async function (conn, exchange) {
  var ch = await conn.createConfirmChannel();
  var queue = exchange + '-q';
  await ch.assertExchange(exchange, 'x-message-deduplication',
                          { durable: true, arguments: { 'x-cache-size': 100, 'x-cache-ttl': 60000 } });
  await ch.assertQueue(queue, { durable: true });
  await ch.bindQueue(queue, exchange, '');
  var keys = ['order-1', 'order-1', 'order-2', null, 'order-2', 'order-3'];
  keys.forEach(function (k, i) {
    var headers = k ? { 'x-deduplication-header': k } : {};
    ch.publish(exchange, '', Buffer.from('m' + i), { persistent: true, headers: headers });
  });
  await within(ch.waitForConfirms(), 'waitForConfirms');
  var out = { routed: await drain(ch, queue) };
  var refused = await conn.createChannel();
  var closed = new Promise(function (resolve) { refused.on('error', function (e) { resolve(e.code); }); });
  refused.assertExchange(exchange + '-bad', 'x-message-deduplication', { arguments: {} }).catch(function () {});
  out.badCode = await within(closed, 'the refusal');
  await ch.deleteQueue(queue);
  await ch.deleteExchange(exchange);
  await ch.close();
  return out;
};

checks['dedup-queue'] = async function (conn, queue) {
  var ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-message-deduplication': true } });
  ['a', 'a', 'b'].forEach(function (k, i) {
    ch.sendToQueue(queue, Buffer.from(k + i), { persistent: true, headers: { 'x-deduplication-header': k } });
  });
  await within(ch.waitForConfirms(), 'waitForConfirms');
  var out = { held: (await ch.checkQueue(queue)).messageCount };
  var m = await ch.get(queue, { noAck: false });
  ch.sendToQueue(queue, Buffer.from('a-while-unacked'), { headers: { 'x-deduplication-header': 'a' } });
  ch.ack(m);
  ch.sendToQueue(queue, Buffer.from('a-after-ack'), { headers: { 'x-deduplication-header': 'a' } });
  await within(ch.waitForConfirms(), 'waitForConfirms');
  out.first = m.content.toString();
  out.rest = await drain(ch, queue);
  await ch.deleteQueue(queue);
  await ch.close();
  return out;
};

// A worker that hangs on its first delivery: the broker takes that one
// back after 400 ms and hands it out again on the same channel; the late
// ack of the first delivery does not close the channel.
checks['consumer-timeout'] = async function (conn, queue) {
  var ch = await conn.createChannel();
  var errors = [];
  ch.on('error', function (e) { errors.push(e.message); });
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-consumer-timeout': 400 } });
  await ch.prefetch(1);
  var seen = [];
  var twice = new Promise(function (resolve) {
    ch.consume(queue, function (m) {
      seen.push(m);
      if (seen.length === 2) resolve();
    });
  });
  ch.sendToQueue(queue, Buffer.from('hangs'), { persistent: true });
  await within(twice, 'the redelivery');
  ch.ack(seen[0]);            // late: ignored
  ch.ack(seen[1]);
  var q = await ch.checkQueue(queue);   // a round trip: the channel is still open
  var out = { bodies: seen.map(function (m) { return m.content.toString(); }),
              redelivered: seen.map(function (m) { return m.fields.redelivered; }),
              sameTag: seen[0].fields.consumerTag === seen[1].fields.consumerTag,
              left: q.messageCount, errors: errors };
  await ch.deleteQueue(queue);
  await ch.close();
  return out;
};

runner.run('work_queue_checks.js', checks);
