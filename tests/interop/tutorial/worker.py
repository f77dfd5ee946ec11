#!/usr/bin/env python
# RabbitMQ tutorial two ("Work Queues"), Python/pika 1.x, as published, with
# environment knobs so tests can run it fast against any broker and queue:
#   TUTORIAL_HOST (default localhost), TUTORIAL_PORT (default 5672),
#   TUTORIAL_QUEUE (default task_queue),
#   TUTORIAL_SECONDS_PER_DOT (default 1: one second of "work" per dot),
#   TUTORIAL_PREFETCH (default 1; 0 = no limit, the tutorial's first version),
#   TUTORIAL_DEBUG (unset by default; if set, one extra line per message:
#                   " [debug] redelivered=<bool>").
# With none of them set, it behaves and prints exactly as the tutorial.
import os

import pika
import time

HOST = os.environ.get('TUTORIAL_HOST', 'localhost')
PORT = int(os.environ.get('TUTORIAL_PORT', '5672'))
QUEUE = os.environ.get('TUTORIAL_QUEUE', 'task_queue')
SECONDS_PER_DOT = float(os.environ.get('TUTORIAL_SECONDS_PER_DOT', '1'))
PREFETCH = int(os.environ.get('TUTORIAL_PREFETCH', '1'))
DEBUG = bool(os.environ.get('TUTORIAL_DEBUG'))

connection = pika.BlockingConnection(
    pika.ConnectionParameters(host=HOST, port=PORT))
channel = connection.channel()

channel.queue_declare(queue=QUEUE, durable=True)
print(' [*] Waiting for messages. To exit press CTRL+C')


def callback(ch, method, properties, body):
    print(f" [x] Received {body.decode()}")
    if DEBUG:
        print(f" [debug] redelivered={method.redelivered}")
    time.sleep(body.count(b'.') * SECONDS_PER_DOT)
    print(" [x] Done")
    ch.basic_ack(delivery_tag=method.delivery_tag)


channel.basic_qos(prefetch_count=PREFETCH)
channel.basic_consume(queue=QUEUE, on_message_callback=callback)

channel.start_consuming()
