/*
 * defs.h - the definitions log's bytes: durable queues (and exchanges and
 * bindings) as an append-only file of checksummed records, synced before
 * the client hears declare-ok, and rewritten compactly at every start
 * (when it can: a full disk keeps the old file, which says the same).
 * defs.c owns every byte of it: the file and the records' encoding, to
 * and from the plain structs below; defs_log.c is what the store does
 * with it (ids, replay into the broker, the rewrite).
 *
 * data/definitions
 *   header 16 bytes: "WDEF" | u32 version (1) | u32 0 | u32 0
 *   records: u32 payload length | u32 CRC-32C of payload | payload
 *   payload: u8 kind, then per kind (strings are u8 length + bytes,
 *   tables u32 length + bytes):
 *     1 queue      u32 id | name | u8 flags (1 durable, 2 auto_delete) | args
 *     2 queue gone u32 id
 *     3 exchange   name | type | u8 flags (1 durable, 2 auto_delete,
 *                  4 internal) | args
 *     4 exchange gone  name
 *     5 binding    source | u8 dest kind (0 queue, 1 exchange) | dest |
 *                  routing key | args
 *     6 unbinding  as 5
 *     7 next queue id  u32 (so ids are never reused)
 *     8 user       name | u8 hashing algorithm (0 sha256, 1 sha512, 2 md5)
 *                  | password hash (salt ++ digest, raw bytes; empty: no
 *                  password) | tags (comma-separated)
 *     9 user gone  name
 *    10 permission user | vhost | configure | write | read (regular
 *                  expressions)
 *    11 permission gone  user | vhost
 *    12 in vhost   vhost name | a whole payload of kind 1, 3, 4, 5 or 6
 *                  (its kind byte first): that record, in that vhost;
 *                  an unwrapped one is in "/"
 *    13 vhost      name
 *    14 vhost gone name
 *    15 limits     u8 scope (0 a vhost's, 1 a user's) | name | u8 count |
 *                  count x (limit name | i64 value): every limit of that
 *                  vhost or user, replacing what was there (count 0: none)
 *    16 queue purged u32 queue id | u64 seq | u32 n | n x u64 seq: a purge
 *                  mark (doc/store-format.md)
 *   (8..14 since the users and the vhosts came to the log; an older file
 *   has none and reads as it always did, everything in "/", and an older
 *   warren skips them as unknown)
 *
 * The record structs carry what RabbitMQ's definitions export says of a
 * queue, an exchange or a binding (name, type, durable, auto_delete,
 * internal, arguments; source, destination, destination_type,
 * routing_key), with the field names it uses, so that an export can be
 * made from them; the vhost is the one the store belongs to.
 */
#ifndef WARREN_DEFS_H
#define WARREN_DEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp/table.h"

enum {
    DEF_QUEUE = 1,
    DEF_QUEUE_GONE = 2,
    DEF_EXCHANGE = 3,
    DEF_EXCHANGE_GONE = 4,
    DEF_BIND = 5,
    DEF_UNBIND = 6,
    DEF_NEXT_QID = 7,
    DEF_USER = 8,
    DEF_USER_GONE = 9,
    DEF_PERMISSION = 10,
    DEF_PERMISSION_GONE = 11,
    DEF_IN_VHOST = 12,
    DEF_VHOST = 13,
    DEF_VHOST_GONE = 14,
    DEF_LIMITS = 15,
    DEF_QUEUE_PURGED = 16,
};

/* A DEF_LIMITS record's scope, and how many limits one may hold. */
enum { DEF_LIMITS_VHOST = 0, DEF_LIMITS_USER = 1 };
#define DEF_LIMITS_MAX 8

/* A binding's destination_type, as recorded (any other byte read back
 * counts as an exchange, as it always has). */
enum { DEF_DEST_QUEUE = 0, DEF_DEST_EXCHANGE = 1 };

/* Strings point at the caller's bytes (or, decoded, at the record's):
 * nothing here owns memory.  Names are at most 255 bytes (AMQP short
 * strings); a longer one is refused when encoding. */
typedef struct store_queue_def {
    amqp_str vhost;             /* empty: "/" (as every record before vhosts) */
    amqp_str name;
    bool durable, auto_delete;
    amqp_table arguments;
    uint32_t id;                /* the store's number for it in message records */
} store_queue_def;

typedef struct store_exchange_def {
    amqp_str vhost;             /* empty: "/" */
    amqp_str name;
    amqp_str type;              /* "direct", "topic", ... */
    bool durable, auto_delete, internal;
    amqp_table arguments;
} store_exchange_def;

typedef struct store_binding_def {
    amqp_str vhost;             /* empty: "/" */
    amqp_str source;            /* an exchange */
    amqp_str destination;
    uint8_t destination_type;   /* DEF_DEST_QUEUE or DEF_DEST_EXCHANGE */
    amqp_str routing_key;
    amqp_table arguments;
} store_binding_def;

/* A user, as RabbitMQ's definitions show it (name, password_hash,
 * hashing_algorithm, tags); the hash is the raw salt ++ digest. */
typedef struct store_user_def {
    amqp_str name;
    uint8_t algo;
    amqp_str hash;
    amqp_str tags;
} store_user_def;

/* A user's permissions on a vhost (DEF_PERMISSION_GONE: user and vhost). */
typedef struct store_perm_def {
    amqp_str user, vhost;
    amqp_str configure, write, read;
} store_perm_def;

/* The limits of a vhost or a user (RabbitMQ's set_vhost_limits,
 * set_user_limits): names as RabbitMQ's ("max-connections"), values as
 * given (a negative one: no limit). */
typedef struct store_limits_def {
    uint8_t scope;              /* DEF_LIMITS_VHOST or DEF_LIMITS_USER */
    amqp_str name;              /* the vhost or the user */
    uint8_t n;
    amqp_str key[DEF_LIMITS_MAX];
    int64_t value[DEF_LIMITS_MAX];
} store_limits_def;

/* One record, decoded. */
typedef struct store_def {
    uint8_t kind;                       /* DEF_*; others are kept by ignoring them */
    /* the vhost of a queue, exchange or binding record: empty for "/"
     * (written unwrapped), else the record is written inside a
     * DEF_IN_VHOST one, and decodes with its own kind and this set */
    amqp_str vhost;
    union {
        store_queue_def queue;          /* DEF_QUEUE */
        uint32_t qid;                   /* DEF_QUEUE_GONE, DEF_NEXT_QID */
        store_exchange_def exchange;    /* DEF_EXCHANGE */
        amqp_str name;                  /* DEF_EXCHANGE_GONE */
        store_binding_def binding;      /* DEF_BIND, DEF_UNBIND */
        store_user_def user;            /* DEF_USER; DEF_USER_GONE: name only */
        store_perm_def perm;            /* DEF_PERMISSION, DEF_PERMISSION_GONE */
        store_limits_def limits;        /* DEF_LIMITS */
        /* DEF_QUEUE_PURGED: every message of queue qid with seq <= seq is
         * gone, except those with a "delivered" mark (they were unacked
         * at the purge), unless their seq is one of the nalso big-endian
         * u64s at also (those were ready, back from a consumer) */
        struct {
            uint32_t qid;
            uint64_t seq;
            uint32_t nalso;
            const uint8_t *also;
        } purge;
                                        /* DEF_VHOST, DEF_VHOST_GONE: name */
    };
} store_def;

/* The payload of d: its size (0 when d cannot be encoded: a string over
 * 255 bytes, an unknown kind), and the bytes into out (that many). */
size_t defs_encoded_size(const store_def *d);
void defs_encode(const store_def *d, uint8_t *out);
/* Read a payload into *d (pointing into p).  -1 when it is malformed: cut
 * short, longer than its fields, a table that does not parse.  A kind
 * this version does not know decodes to just its kind. */
int defs_decode(const uint8_t *p, uint32_t len, store_def *d);

typedef struct defs defs;

/* Called for each record found, in order (d points into the file's bytes,
 * valid during the call); return -1 to stop with an error. */
typedef int defs_replay_fn(void *ctx, const store_def *d);

/* Open DIR/definitions (creating it), replay it.  A torn last record (a
 * declaration that was never confirmed) is dropped; damage anywhere else,
 * or a record that does not decode or that fn refuses, is an error naming
 * the offset. */
int defs_open(defs **d, const char *dir, defs_replay_fn *fn, void *ctx);
/* Append a record and fdatasync it.  0 or -1 (logged).  In group commit
 * mode the sync is left to defs_sync. */
int defs_append(defs *d, const store_def *def);
/* Group commit: appends are written at once and synced together by
 * defs_sync (once a loop turn, before the turn's replies leave). */
void defs_group_commit(defs *d, bool on);
/* Sync what was appended since the last sync; 0 or -1 (logged). */
int defs_sync(defs *d);
/* Replace the file with the records `fill` puts with defs_put (write new,
 * fsync, rename, fsync directory).  -1 (logged as a warning) when it
 * could not, or when fill returned -1: the file in use is whole either
 * way, the old one if the rename did not happen, the new one if it did. */
typedef struct defs_writer defs_writer;
int defs_put(defs_writer *w, const store_def *def);
typedef int defs_fill_fn(void *ctx, defs_writer *w);
int defs_rewrite(defs *d, defs_fill_fn *fill, void *ctx);
void defs_close(defs *d);

#endif
