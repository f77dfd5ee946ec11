/*
 * qidmap.c - durable queue id -> the broker's handle for the queue.
 *
 * Open addressing on the 32-bit id itself: 16 bytes a slot and no key
 * copy (the string map kept a 4-byte key in an allocation of its own:
 * 50 bytes more a queue, 5 MB over 100,000 queues).  Ids start at 1, so 0
 * marks an empty slot; a deleted slot keeps its id with a NULL handle
 * (a tombstone) until the next growth.
 */
#include "store/store_int.h"

#include <stdlib.h>

static size_t slot_of(const qidmap *m, uint32_t id)
{
    return (size_t)((id * 0x9E3779B1u) & (uint32_t)(m->cap - 1));
}

void *qidmap_get(const qidmap *m, uint32_t id)
{
    size_t i;
    if (!m->cap || !id)
        return NULL;
    for (i = slot_of(m, id); m->slots[i].id; i = (i + 1) & (m->cap - 1))
        if (m->slots[i].id == id)
            return m->slots[i].handle;
    return NULL;
}

static int grow(qidmap *m)
{
    size_t cap = 64, i, j;
    qidmap_slot *v;

    /* sized by the live ids alone: the deleted are dropped here, so a
     * churn of queues does not grow it */
    while ((m->live + 1) * 2 >= cap)
        cap *= 2;
    if (!(v = calloc(cap, sizeof *v)))
        return -1;
    for (i = 0; i < m->cap; i++) {
        if (!m->slots[i].id || !m->slots[i].handle)
            continue;
        for (j = (size_t)((m->slots[i].id * 0x9E3779B1u) & (uint32_t)(cap - 1)); v[j].id; j = (j + 1) & (cap - 1))
            ;
        v[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = v;
    m->cap = cap;
    m->used = m->live;
    return 0;
}

int qidmap_put(qidmap *m, uint32_t id, void *handle)
{
    size_t i;
    if (!id || !handle)
        return -1;
    if ((m->used + 1) * 4 > m->cap * 3 && grow(m) < 0)
        return -1;
    for (i = slot_of(m, id); m->slots[i].id; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].id == id) {
            if (!m->slots[i].handle)
                m->live++;
            m->slots[i].handle = handle;
            return 0;
        }
    }
    m->slots[i].id = id;
    m->slots[i].handle = handle;
    m->used++;
    m->live++;
    return 0;
}

void *qidmap_del(qidmap *m, uint32_t id)
{
    size_t i;
    if (!m->cap || !id)
        return NULL;
    for (i = slot_of(m, id); m->slots[i].id; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].id == id) {
            void *h = m->slots[i].handle;
            if (h)
                m->live--;
            m->slots[i].handle = NULL; /* a tombstone: the id stays for the probes */
            return h;
        }
    }
    return NULL;
}

void qidmap_free(qidmap *m)
{
    free(m->slots);
    *m = (qidmap){0};
}
