/*
 * dedup.c - a de-duplication window: the rabbitmq-message-deduplication
 * plugin's cache, kept on disk for a durable exchange.
 *
 * A map from key to entry (its expiry and its insertion number) and a
 * FIFO of (entry, insertion number) in the order keys were added.  When
 * the window holds more than `size` keys the oldest goes first, as the
 * plugin's cache drops "unspecified" old entries; an expired key counts
 * as absent and is dropped when it reaches the front.  A key seen again
 * after it expired is refreshed in place and queued again: the older
 * FIFO slot no longer matches its insertion number and is skipped.
 *
 * Persistence (dedup_attach): every new key is appended to the log before
 * the message is routed, so after a restart or a kill -9 the window holds
 * every key whose message went out.  The log is rewritten with the live
 * keys when its records outnumber twice the window's size.
 */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "map.h"
#include "store/dedup_log.h"

typedef struct entry {
    int64_t expires;            /* wall ms, 0 never */
    uint64_t order;             /* its current FIFO slot's number */
    uint8_t klen;
    uint8_t key[];
} entry;

typedef struct slot {
    entry *e;
    uint64_t order;
} slot;

struct dedup_window {
    uint32_t size;
    int64_t ttl;
    map keys;                   /* key -> entry */
    slot *fifo;                 /* a ring, oldest at head */
    size_t head, len, cap;
    uint64_t next_order;
    dedup_log *log;
};

dedup_window *dedup_new(uint32_t size, int64_t ttl_ms)
{
    dedup_window *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->size = size ? size : 1;
    w->ttl = ttl_ms > 0 ? ttl_ms : 0;
    map_init(&w->keys);
    w->next_order = 1;
    return w;
}

static int push(dedup_window *w, entry *e)
{
    if (w->len == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64, i;
        slot *more = malloc(cap * sizeof *more);
        if (!more)
            return -1;
        for (i = 0; i < w->len; i++)
            more[i] = w->fifo[(w->head + i) % w->cap];
        free(w->fifo);
        w->fifo = more;
        w->head = 0;
        w->cap = cap;
    }
    e->order = w->next_order++;
    w->fifo[(w->head + w->len) % w->cap] = (slot){e, e->order};
    w->len++;
    return 0;
}

/* Drop the front slot: its entry goes too when the slot is its current one. */
static void pop(dedup_window *w)
{
    slot s = w->fifo[w->head];
    w->head = (w->head + 1) % w->cap;
    w->len--;
    if (s.e->order == s.order) {
        map_del(&w->keys, (const char *)s.e->key, s.e->klen);
        free(s.e);
    }
}

/* Remember key until expires; -1 out of memory. */
static int remember(dedup_window *w, const uint8_t *key, size_t klen, int64_t expires)
{
    entry *e = map_get(&w->keys, (const char *)key, klen);
    bool fresh = !e;

    if (!e) {
        if (!(e = malloc(sizeof *e + klen)))
            return -1;
        e->klen = (uint8_t)klen;
        memcpy(e->key, key, klen);
        if (map_put(&w->keys, (const char *)e->key, klen, e) < 0) {
            free(e);
            return -1;
        }
    }
    if (push(w, e) < 0) {
        if (fresh) {
            map_del(&w->keys, (const char *)e->key, klen);
            free(e);
        }
        /* else it keeps its place (and its old expiry): out of memory */
        return -1;
    }
    e->expires = expires;
    while (map_count(&w->keys) > w->size && w->len)
        pop(w);
    return 0;
}

/* Recovery: a record of the log. */
typedef struct loading {
    dedup_window *w;
    int64_t now;
} loading;

static int load_one(void *arg, const uint8_t *key, size_t klen, int64_t expires)
{
    loading *ld = arg;
    if (klen == 0 || klen > 255 || (expires && expires <= ld->now))
        return 0;
    return remember(ld->w, key, klen, expires);
}

static int each_live(void *arg, dedup_log_fn emit, void *sink)
{
    dedup_window *w = arg;
    size_t i;
    /* in FIFO order, so that a reload evicts in the same order */
    for (i = 0; i < w->len; i++) {
        slot s = w->fifo[(w->head + i) % w->cap];
        if (s.e->order == s.order && emit(sink, s.e->key, s.e->klen, s.e->expires) < 0)
            return -1;
    }
    return 0;
}

bool dedup_attach(dedup_window *w, const char *dir, amqp_str vhost, amqp_str name, bool fresh, int64_t now_ms)
{
    loading ld = {w, now_ms};

    if (w->log)
        return true;
    if (!(w->log = dedup_log_open(dir, vhost, name, fresh, load_one, &ld)))
        return false;
    if (dedup_log_records(w->log) == 0 && map_count(&w->keys) > 0)
        dedup_log_rewrite(w->log, each_live, w); /* drop what the replay found dead */
    log_info("dedup: exchange '%.*s' in vhost '%.*s': %zu keys in its window", (int)name.len, name.ptr,
             (int)vhost.len, vhost.ptr, map_count(&w->keys));
    return true;
}

size_t dedup_key(const amqp_value *v, uint8_t out[255])
{
    amqp_tbuf b = {0};
    size_t n = 0;
    int64_t i;

    switch (amqp_type_class(v->type)) {
    case AMQP_CLASS_INT:
        out[0] = 'l';
        amqp_value_int(v, &i);
        for (n = 0; n < 8; n++)
            out[1 + n] = (uint8_t)((uint64_t)i >> (56 - 8 * n));
        return 9;
    case AMQP_CLASS_STRING:
        if (v->v.s.len <= 254) {
            out[0] = 'S';
            memcpy(out + 1, v->v.s.ptr, v->v.s.len);
            return 1 + v->v.s.len;
        }
        amqp_tbuf_raw(&b, "S", 1);
        amqp_tbuf_raw(&b, v->v.s.ptr, v->v.s.len);
        break;
    case AMQP_CLASS_FLOAT: {
        double d = v->type == 'f' ? (double)v->v.f : v->v.d;
        out[0] = 'd';
        memcpy(out + 1, &d, sizeof d);
        return 1 + sizeof d;
    }
    default:
        amqp_tbuf_put_value(&b, v); /* its encoding: t D F A V */
        break;
    }
    if (b.oom) {
        amqp_tbuf_free(&b);
        return 0;
    }
    if (b.len <= 255) {
        memcpy(out, b.buf, b.len);
        n = b.len;
    } else {
        unsigned int dl = 0;
        out[0] = '#'; /* a long value: its SHA-256 */
        if (EVP_Digest(b.buf, b.len, out + 1, &dl, EVP_sha256(), NULL) == 1)
            n = 1 + dl;
    }
    amqp_tbuf_free(&b);
    return n;
}

size_t dedup_header_key(const uint8_t *props, uint32_t props_len, uint8_t out[255])
{
    amqp_basic_properties p;
    amqp_value v;

    if (props_len < 2 || !(amqp_get16(props) & AMQP_BASIC_HEADERS_FLAG) ||
        amqp_basic_properties_decode(props, props_len, &p) < 0 ||
        !amqp_table_get(p.headers, "x-deduplication-header", &v))
        return 0;
    return dedup_key(&v, out);
}

bool dedup_seen(dedup_window *w, const msg *m, int64_t now_ms)
{
    amqp_basic_properties p;
    amqp_value v, t;
    uint8_t key[255];
    size_t klen;
    int64_t ttl = w->ttl, expires;
    entry *e;

    if (m->props_len < 2 || amqp_basic_properties_decode(msg_props(m), m->props_len, &p) < 0 ||
        !(p.flags & AMQP_BASIC_HEADERS_FLAG) || !amqp_table_get(p.headers, "x-deduplication-header", &v))
        return false;
    if (!(klen = dedup_key(&v, key)))
        return false;
    e = map_get(&w->keys, (const char *)key, klen);
    if (e && (e->expires == 0 || e->expires > now_ms))
        return true;
    if (amqp_table_get(p.headers, "x-cache-ttl", &t) && amqp_value_int(&t, &ttl) && ttl < 0)
        ttl = w->ttl;
    expires = ttl > 0 ? now_ms + ttl : 0;
    /* on disk before the message goes anywhere: a restart must not let
     * its duplicate through */
    if (w->log)
        dedup_log_append(w->log, key, klen, expires);
    if (remember(w, key, klen, expires) < 0)
        log_error("dedup: out of memory remembering a key; its duplicates may pass");
    if (w->log && dedup_log_records(w->log) > 2 * (uint64_t)w->size + 1024)
        dedup_log_rewrite(w->log, each_live, w);
    return false;
}

uint32_t dedup_count(const dedup_window *w)
{
    return (uint32_t)map_count(&w->keys);
}

void dedup_free(dedup_window *w, bool remove)
{
    if (!w)
        return;
    while (w->len)
        pop(w);
    map_free(&w->keys);
    free(w->fifo);
    dedup_log_close(w->log, remove);
    free(w);
}
