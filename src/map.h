/*
 * map.h - a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are byte strings up to 255 bytes (AMQP short strings); the map keeps
 * its own copy of each key.  Values are caller-owned pointers.  Used for
 * queue and exchange names; lookups on the publish path are one hash and,
 * usually, one compare.
 */
#ifndef WARREN_MAP_H
#define WARREN_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct map_slot {
    char *key;      /* NULL: empty; MAP_TOMBSTONE: deleted */
    uint32_t hash;
    uint8_t klen;
    void *value;
} map_slot;

typedef struct map {
    map_slot *slots;
    size_t cap, used, live; /* used counts tombstones too */
} map;

void map_init(map *m);
void map_free(map *m);
void *map_get(const map *m, const char *key, size_t klen);
/* Insert or replace; returns 0, or -1 if out of memory. */
int map_put(map *m, const char *key, size_t klen, void *value);
/* Remove; returns the old value or NULL. */
void *map_del(map *m, const char *key, size_t klen);
static inline size_t map_count(const map *m) { return m->live; }

/* Iterate: for (size_t i = 0; map_next(m, &i, &k, &kl, &v); ) ...  Removing
 * the entry just returned is allowed; inserting is not. */
int map_next(const map *m, size_t *i, const char **key, size_t *klen, void **value);

uint32_t map_hash(const char *key, size_t klen);

#endif
