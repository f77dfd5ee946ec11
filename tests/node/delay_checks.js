#!/usr/bin/env node
// amqplib programs for issue 15's delays (doc/work-queues.md), one subcommand
// each, run by tests/node/test_delay_amqplib.py:
//
//   node delay_checks.js delayed-publish EXCHANGE QUEUE DELAY...
//        a durable x-delayed-message exchange (x-delayed-type direct) bound to
//        QUEUE; one persistent message per DELAY (ms, its x-delay header, the
//        body is the delay) on a confirm channel; waits for the confirms
//   node delay_checks.js consume QUEUE N
//        N messages: body, x-delay header, ms since the start
//   node delay_checks.js backoff QUEUE
//        a queue with x-backoff-initial 200, x-backoff-multiplier 1.5 (a
//        double); a poison message nacked with requeue three times while
//        five good ones behind it are acked: when each arrived (ms)
//   node delay_checks.js nack-once QUEUE
//        a durable queue with x-backoff-initial 1500; one persistent message,
//        got and nacked with requeue (held back); checkQueue's count after
//   node delay_checks.js ttl QUEUE DLQ
//        a 60 s message, then a 300 ms one behind it; when the short one
//        reached the dead-letter queue, and its x-death
//
// The broker is AMQP_URL.  Each prints one JSON object and exits 0; any error,
// or a wait longer than 10 s, exits 1 with the reason on stderr.
'use strict';

var amqp = require('amqplib');

var URL = process.env.AMQP_URL || 'amqp://localhost';
var T0 = Date.now();

function since() { return Date.now() - T0; }

function fail(err) {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
}

setTimeout(function () { fail('timed out'); }, 10000).unref();

function consumeN(ch, q, n, onMsg) {
  return new Promise(function (resolve) {
    var got = [];
    ch.consume(q, function (m) {
      var r = onMsg ? onMsg(m, got) : null;
      if (r !== 'skip')
        got.push({ body: m.content.toString(), delay: (m.properties.headers || {})['x-delay'], t: since(),
                   redelivered: m.fields.redelivered });
      if (got.length === n)
        resolve(got);
    });
  });
}

var commands = {
  'delayed-publish': async function (conn, x, q) {
    var delays = Array.prototype.slice.call(arguments, 3);
    var ch = await conn.createConfirmChannel();
    await ch.assertExchange(x, 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'direct' } });
    await ch.assertQueue(q, { durable: true });
    await ch.bindQueue(q, x, 'k');
    delays.forEach(function (d) {
      ch.publish(x, 'k', Buffer.from(d), { persistent: true, headers: { 'x-delay': Number(d) } });
    });
    await ch.waitForConfirms();
    var ok = await ch.checkQueue(q);
    return { confirmed: delays.length, ready: ok.messageCount };
  },
  consume: async function (conn, q, n) {
    var ch = await conn.createChannel();
    return { got: await consumeN(ch, q, Number(n), function (m) { ch.ack(m); }) };
  },
  backoff: async function (conn, q) {
    var ch = await conn.createChannel();
    await ch.assertQueue(q, { arguments: { 'x-backoff-initial': 200, 'x-backoff-multiplier': 1.5 } });
    ch.sendToQueue(q, Buffer.from('poison'));
    for (var i = 0; i < 5; i++)
      ch.sendToQueue(q, Buffer.from('ok' + i));
    await ch.prefetch(10);
    var got = await consumeN(ch, q, 9, function (m, seen) {
      var poisons = seen.filter(function (s) { return s.body === 'poison'; }).length;
      if (m.content.toString() === 'poison' && poisons < 3)
        ch.nack(m, false, true);
      else
        ch.ack(m);
    });
    return { got: got };
  },
  'nack-once': async function (conn, q) {
    var ch = await conn.createConfirmChannel();
    await ch.assertQueue(q, { durable: true, arguments: { 'x-backoff-initial': 1500 } });
    ch.sendToQueue(q, Buffer.from('retry me'), { persistent: true });
    await ch.waitForConfirms();
    var m = await ch.get(q);
    ch.nack(m, false, true);
    var ok = await ch.checkQueue(q);
    await new Promise(function (resolve) { setTimeout(resolve, 300); }); // its mark reaches the ack file
    return { redelivered: m.fields.redelivered, ready_after_nack: ok.messageCount };
  },
  ttl: async function (conn, q, dlq) {
    var ch = await conn.createChannel();
    await ch.assertQueue(dlq);
    await ch.assertQueue(q, { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    ch.sendToQueue(q, Buffer.from('long'), { expiration: '60000' });
    var sent = since();
    ch.sendToQueue(q, Buffer.from('short'), { expiration: '300' });
    var dead = await new Promise(function (resolve) {
      ch.consume(dlq, function (m) {
        ch.ack(m);
        resolve({ body: m.content.toString(), after: since() - sent, death: m.properties.headers['x-death'] });
      });
    });
    var ok = await ch.checkQueue(q);
    dead.left = ok.messageCount;
    return dead;
  },
};

(async function main() {
  var args = process.argv.slice(2);
  var cmd = commands[args[0]];
  if (!cmd)
    fail('unknown subcommand ' + args[0]);
  var conn = await amqp.connect(URL);
  var out = await cmd.apply(null, [conn].concat(args.slice(1)));
  process.stdout.write(JSON.stringify(out) + '\n');
  await conn.close();
  process.exit(0);
})().catch(fail);
