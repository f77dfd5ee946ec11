#!/usr/bin/env node
// RabbitMQ tutorial two ("Work Queues"), new_task.js for amqplib's
// callback_api, as published in the RabbitMQ tutorials (rabbitmq-website,
// tutorials/tutorial-two-javascript.md, "Putting it all together";
// Apache License 2.0, Broadcom Inc.).  The only change: the broker URL is
// taken from the AMQP_URL environment variable, with the tutorial's
// 'amqp://localhost' as the default.

var amqp = require('amqplib/callback_api');

amqp.connect(process.env.AMQP_URL || 'amqp://localhost', function(error0, connection) {
  if (error0) {
    throw error0;
  }
  connection.createChannel(function(error1, channel) {
    if (error1) {
      throw error1;
    }
    var queue = 'task_queue';
    var msg = process.argv.slice(2).join(' ') || "Hello World!";

    channel.assertQueue(queue, {
      durable: true
    });
    channel.sendToQueue(queue, Buffer.from(msg), {
      persistent: true
    });
    console.log(" [x] Sent '%s'", msg);
  });
  setTimeout(function() {
    connection.close();
    process.exit(0)
  }, 500);
});
