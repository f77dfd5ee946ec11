#!/usr/bin/env node
// The program of issue 11 (point 5), as a user wrote it: publish a few
// thousand messages in one synchronous loop, then connection.close().
// amqplib's muxer writes connection.close on channel 0 ahead of the
// publishes it still has buffered, and writes those after it; a broker that
// closes the socket right after its close-ok makes those writes fail with
// EPIPE, which amqplib emits as an 'error' event nobody listens to here, so
// node dies (exit 1, "Unhandled 'error' event").  With RabbitMQ the program
// prints its line and exits 0.
//
//   node publish_close.js QUEUE COUNT
//
// The broker is AMQP_URL (default amqp://localhost).  No error handler, on
// purpose: the program is the user's.
'use strict';

var amqp = require('amqplib');

async function main() {
  var queue = process.argv[2];
  var count = Number(process.argv[3] || 5000);
  var conn = await amqp.connect(process.env.AMQP_URL || 'amqp://localhost');
  var ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: false });
  for (var i = 0; i < count; i++)
    ch.sendToQueue(queue, Buffer.from('message ' + i));
  await conn.close();
  console.log('published ' + count + ' and closed');
}

main();
