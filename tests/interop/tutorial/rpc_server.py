#!/usr/bin/env python
# An RPC server in the shape of RabbitMQ's tutorial six ("RPC"), Python/pika
# 1.x: it consumes requests (a number n) from an RPC queue with prefetch 1,
# and publishes fib(n) to the default exchange with the request's reply_to
# as routing key and its correlation_id.  It neither knows nor cares that
# reply_to is a direct reply-to name.  Environment:
#   TUTORIAL_HOST (default localhost), TUTORIAL_PORT (default 5672),
#   TUTORIAL_QUEUE (default rpc_queue).
import os

import pika

HOST = os.environ.get('TUTORIAL_HOST', 'localhost')
PORT = int(os.environ.get('TUTORIAL_PORT', '5672'))
QUEUE = os.environ.get('TUTORIAL_QUEUE', 'rpc_queue')

connection = pika.BlockingConnection(pika.ConnectionParameters(host=HOST, port=PORT))
channel = connection.channel()
channel.queue_declare(queue=QUEUE)


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def on_request(ch, method, props, body):
    n = int(body)
    print(f" [.] fib({n})")
    ch.basic_publish(exchange='', routing_key=props.reply_to,
                     properties=pika.BasicProperties(correlation_id=props.correlation_id),
                     body=str(fib(n)))
    ch.basic_ack(delivery_tag=method.delivery_tag)


channel.basic_qos(prefetch_count=1)
channel.basic_consume(queue=QUEUE, on_message_callback=on_request)
print(" [x] Awaiting RPC requests")
channel.start_consuming()
