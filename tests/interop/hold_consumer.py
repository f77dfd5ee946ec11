"""A consumer process that takes messages and never acks them.

Used by the consumer-death tests: it prints one line per delivery
("got <body> redelivered=<bool>"), flushed, so the test knows what it holds,
and then is killed with SIGKILL.

usage: hold_consumer.py URL QUEUE PREFETCH
"""
import sys

import pika


def main():
    url, queue, prefetch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=prefetch)

    def on_message(channel, method, properties, body):
        print('got %s redelivered=%s' % (body.decode(), method.redelivered), flush=True)

    ch.basic_consume(queue, on_message, auto_ack=False)
    print('consuming', flush=True)
    ch.start_consuming()


if __name__ == '__main__':
    main()
