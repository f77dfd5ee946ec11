#!/usr/bin/env node
// RabbitMQ tutorial two ("Work Queues"), worker.js for amqplib's
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

    channel.assertQueue(queue, {
      durable: true
    });
    channel.prefetch(1);
    console.log(" [*] Waiting for messages in %s. To exit press CTRL+C", queue);
    channel.consume(queue, function(msg) {
      var secs = msg.content.toString().split('.').length - 1;

      console.log(" [x] Received %s", msg.content.toString());
      setTimeout(function() {
        console.log(" [x] Done");
        channel.ack(msg);
      }, secs * 1000);
    }, {
      // manual acknowledgment mode,
      // see /docs/confirms for details
      noAck: false
    });
  });
});
