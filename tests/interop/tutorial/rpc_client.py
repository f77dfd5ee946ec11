#!/usr/bin/env python
# An RPC client in the shape of RabbitMQ's tutorial six ("RPC"), Python/pika
# 1.x, with direct reply-to instead of a callback queue: it consumes from the
# pseudo-queue amq.rabbitmq.reply-to with auto_ack, publishes each request
# with reply_to=amq.rabbitmq.reply-to and a fresh correlation_id, and waits
# for the reply with that id.  Arguments: the numbers to ask fib() of
# (default 30).  Environment: TUTORIAL_HOST, TUTORIAL_PORT, TUTORIAL_QUEUE
# (default rpc_queue), as rpc_server.py.
import os
import sys
import uuid

import pika

HOST = os.environ.get('TUTORIAL_HOST', 'localhost')
PORT = int(os.environ.get('TUTORIAL_PORT', '5672'))
QUEUE = os.environ.get('TUTORIAL_QUEUE', 'rpc_queue')
REPLY_TO = 'amq.rabbitmq.reply-to'


class FibonacciRpcClient:
    def __init__(self):
        self.connection = pika.BlockingConnection(pika.ConnectionParameters(host=HOST, port=PORT))
        self.channel = self.connection.channel()
        self.channel.basic_consume(queue=REPLY_TO, on_message_callback=self.on_response,
                                   auto_ack=True)
        self.response = None
        self.corr_id = None

    def on_response(self, ch, method, props, body):
        if self.corr_id == props.correlation_id:
            self.response = body

    def call(self, n):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        self.channel.basic_publish(exchange='', routing_key=QUEUE,
                                   properties=pika.BasicProperties(reply_to=REPLY_TO,
                                                                   correlation_id=self.corr_id),
                                   body=str(n))
        while self.response is None:
            self.connection.process_data_events(time_limit=None)
        return int(self.response)


fibonacci_rpc = FibonacciRpcClient()
for arg in sys.argv[1:] or ['30']:
    print(f" [x] Requesting fib({arg})")
    print(f" [.] Got {fibonacci_rpc.call(int(arg))}")
fibonacci_rpc.connection.close()
