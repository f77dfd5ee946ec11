/*
 * map.c - see map.h.  FNV-1a hashing, capacity a power of two, grown at
 * 70% load counting tombstones, so probes stay short.
 */
#include "map.h"

#include <stdlib.h>
#include <string.h>

static char tombstone;
#define MAP_TOMBSTONE (&tombstone)

uint32_t map_hash(const char *key, size_t klen)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < klen; i++) {
        h ^= (uint8_t)key[i];
        h *= 16777619u;
    }
    return h;
}

void map_init(map *m)
{
    memset(m, 0, sizeof *m);
}

void map_free(map *m)
{
    size_t i;
    for (i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != MAP_TOMBSTONE)
            free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static map_slot *find(const map *m, const char *key, size_t klen, uint32_t h)
{
    size_t mask, i;
    if (!m->cap)
        return NULL;
    mask = m->cap - 1;
    for (i = h & mask;; i = (i + 1) & mask) {
        map_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != MAP_TOMBSTONE && s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
            return s;
    }
}

void *map_get(const map *m, const char *key, size_t klen)
{
    map_slot *s = find(m, key, klen, map_hash(key, klen));
    return s ? s->value : NULL;
}

static int grow(map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16, i;
    map_slot *old = m->slots, *slots;

    if (m->live * 2 < m->cap)
        cap = m->cap; /* mostly tombstones: rehash in place size */
    slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (i = 0; i < m->cap; i++) {
        map_slot *s = &old[i];
        size_t j;
        if (!s->key || s->key == MAP_TOMBSTONE)
            continue;
        for (j = s->hash & (cap - 1); slots[j].key; j = (j + 1) & (cap - 1))
            ;
        slots[j] = *s;
    }
    free(old);
    m->slots = slots;
    m->cap = cap;
    m->used = m->live;
    return 0;
}

int map_put(map *m, const char *key, size_t klen, void *value)
{
    uint32_t h = map_hash(key, klen);
    map_slot *s = find(m, key, klen, h);
    size_t i, mask;

    if (klen > 255)
        return -1;
    if (s) {
        s->value = value;
        return 0;
    }
    if ((m->used + 1) * 10 > m->cap * 7 && grow(m) < 0)
        return -1;
    mask = m->cap - 1;
    for (i = h & mask; m->slots[i].key && m->slots[i].key != MAP_TOMBSTONE; i = (i + 1) & mask)
        ;
    s = &m->slots[i];
    if (!s->key)
        m->used++;
    s->key = malloc(klen ? klen : 1);
    if (!s->key) {
        s->key = NULL;
        return -1;
    }
    memcpy(s->key, key, klen);
    s->klen = (uint8_t)klen;
    s->hash = h;
    s->value = value;
    m->live++;
    return 0;
}

void *map_del(map *m, const char *key, size_t klen)
{
    map_slot *s = find(m, key, klen, map_hash(key, klen));
    void *v;
    if (!s)
        return NULL;
    v = s->value;
    free(s->key);
    s->key = MAP_TOMBSTONE;
    s->value = NULL;
    m->live--;
    return v;
}

int map_next(const map *m, size_t *i, const char **key, size_t *klen, void **value)
{
    for (; *i < m->cap; (*i)++) {
        map_slot *s = &m->slots[*i];
        if (s->key && s->key != MAP_TOMBSTONE) {
            if (key)
                *key = s->key;
            if (klen)
                *klen = s->klen;
            if (value)
                *value = s->value;
            (*i)++;
            return 1;
        }
    }
    return 0;
}
