/*
 * queue_dedup.c - the values of x-deduplication-header a queue holds.
 *
 * Two maps over one allocation per message: value -> holder (is it here?)
 * and publish seq -> holder (the entry leaving the queue knows only its
 * seq, and its body may be on disk).  Nothing is written: after a restart
 * the maps are rebuilt from the recovered messages' properties
 * (recovery.c), so the set is exactly the queue's content.
 */
#include "queue_dedup.h"

#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "map.h"

typedef struct holder {
    uint64_t seq;
    uint8_t klen;
    uint8_t key[];
} holder;

struct queue_dedup {
    map by_key, by_seq;
};

queue_dedup *queue_dedup_new(void)
{
    queue_dedup *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    map_init(&d->by_key);
    map_init(&d->by_seq);
    return d;
}

void queue_dedup_free(queue_dedup *d)
{
    size_t i = 0;
    void *v;

    if (!d)
        return;
    while (map_next(&d->by_seq, &i, NULL, NULL, &v))
        free(v);
    map_free(&d->by_key);
    map_free(&d->by_seq);
    free(d);
}

static void seq_key(char out[8], uint64_t seq)
{
    memcpy(out, &seq, 8);
}

bool queue_dedup_check(queue_dedup *d, const uint8_t *props, uint32_t props_len, uint64_t seq)
{
    uint8_t key[255];
    size_t klen = dedup_header_key(props, props_len, key);
    char sk[8];
    holder *h;

    if (!klen)
        return false;
    if (map_get(&d->by_key, (const char *)key, klen))
        return true;
    if (!(h = malloc(sizeof *h + klen)))
        return false; /* out of memory: enqueued, unchecked, rather than lost */
    h->seq = seq;
    h->klen = (uint8_t)klen;
    memcpy(h->key, key, klen);
    seq_key(sk, seq);
    if (map_put(&d->by_key, (const char *)h->key, klen, h) < 0) {
        free(h);
        return false;
    }
    if (map_put(&d->by_seq, sk, 8, h) < 0) {
        map_del(&d->by_key, (const char *)h->key, klen);
        free(h);
    }
    return false;
}

void queue_dedup_forget(queue_dedup *d, uint64_t seq)
{
    char sk[8];
    holder *h;

    seq_key(sk, seq);
    if (!(h = map_del(&d->by_seq, sk, 8)))
        return;
    map_del(&d->by_key, (const char *)h->key, h->klen);
    free(h);
}

uint32_t queue_dedup_count(const queue_dedup *d)
{
    return (uint32_t)map_count(&d->by_key);
}
