#!/usr/bin/env python
# RabbitMQ tutorial two ("Work Queues"), Python/pika 1.x, as published, with
# three environment knobs so tests can point it at any broker and queue:
#   TUTORIAL_HOST (default localhost), TUTORIAL_PORT (default 5672),
#   TUTORIAL_QUEUE (default task_queue).  Output is the tutorial's.
import os

import pika
import sys

HOST = os.environ.get('TUTORIAL_HOST', 'localhost')
PORT = int(os.environ.get('TUTORIAL_PORT', '5672'))
QUEUE = os.environ.get('TUTORIAL_QUEUE', 'task_queue')

connection = pika.BlockingConnection(
    pika.ConnectionParameters(host=HOST, port=PORT))
channel = connection.channel()

channel.queue_declare(queue=QUEUE, durable=True)

message = ' '.join(sys.argv[1:]) or "Hello World!"
channel.basic_publish(
    exchange='',
    routing_key=QUEUE,
    body=message,
    properties=pika.BasicProperties(
        delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE
    ))
print(f" [x] Sent {message}")
connection.close()
