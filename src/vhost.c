/*
 * vhost.c - a virtual host: its queues and exchanges by name, the list of
 * queues with deliveries to attempt, and the publish sequence counter
 * (publish.c, which routes and publishes into the vhost, takes from it).
 * warren has one vhost, "/", as a fresh RabbitMQ does.
 */
#include "warren.h"

#include <stdlib.h>
#include <string.h>

#include "consumer.h"

static const struct {
    const char *name, *type;
    bool internal;
} predeclared[] = {
    {"", "", false},
    {"amq.direct", "direct", false},
    {"amq.fanout", "fanout", false},
    {"amq.topic", "topic", false},
    {"amq.headers", "headers", false},
    {"amq.match", "headers", false},
    /* RabbitMQ's firehose tracer publishes here when tracing is on; warren
     * has no tracer, but the exchange exists (and can be bound) as there */
    {"amq.rabbitmq.trace", "topic", true},
};

vhost *vhost_new(broker *b, const char *name)
{
    vhost *vh = calloc(1, sizeof *vh);
    size_t i;

    if (!vh || !(vh->name = strdup(name))) {
        free(vh);
        return NULL;
    }
    vh->b = b;
    vh->next_seq = 1;
    map_init(&vh->queues);
    map_init(&vh->exchanges);
    for (i = 0; i < sizeof predeclared / sizeof *predeclared; i++) {
        const exchange_type *t = i == 0 ? &exchange_default : exchange_type_find(amqp_cstr(predeclared[i].type));
        if (!exchange_new(vh, amqp_cstr(predeclared[i].name), t, true, false, predeclared[i].internal,
                          (amqp_table){0})) {
            vhost_free(vh);
            return NULL;
        }
    }
    return vh;
}

void vhost_free(vhost *vh)
{
    size_t i = 0;
    void *v;

    if (!vh)
        return;
    while (vh->dirty) {
        queue *q = vh->dirty;
        vh->dirty = q->dirty_next;
        q->dirty = false;
        queue_unref(q);
    }
    /* exchanges first: they take every binding with them */
    for (;;) {
        i = 0;
        if (!map_next(&vh->exchanges, &i, NULL, NULL, &v))
            break;
        exchange_delete(v);
    }
    i = 0;
    while (map_next(&vh->queues, &i, NULL, NULL, &v)) {
        queue *q = v;
        q->deleted = true; /* before the purge: no timer is armed again */
        queue_purge(q);
        queue_unref(q);
    }
    map_free(&vh->queues);
    map_free(&vh->exchanges);
    map_free(&vh->reply_to);
    free(vh->bindex);
    free(vh->name);
    free(vh);
}

queue *vhost_queue(vhost *vh, amqp_str name)
{
    return map_get(&vh->queues, name.ptr, name.len);
}

exchange *vhost_exchange(vhost *vh, amqp_str name)
{
    return map_get(&vh->exchanges, name.ptr, name.len);
}

bool vhost_dispatch(vhost *vh)
{
    queue *list = vh->dirty;
    vh->dirty = NULL;
    while (list) {
        queue *q = list;
        list = q->dirty_next;
        q->dirty = false;
        consumer_dispatch(q);
        queue_unref(q);
    }
    return vh->dirty != NULL;
}

int64_t vhost_now_ms(const vhost *vh)
{
    return ev_wall_ms(vh->b->loop);
}
