/*
 * auth.h - who may log in and what they may do: the users (with
 * RabbitMQ's salted password hashes and tags), their permissions per
 * vhost, the login check and the permission checks, for every front end.
 *
 * The checks know no protocol: the AMQP connection (conn.c) takes the
 * user and password out of its SASL response and calls auth_check, then
 * auth_vhost_access at connection.open, and its channels call
 * auth_permitted before each domain call (declare.c, channel.c); the HTTP
 * API's basic auth calls auth_check and looks at the tags.
 *
 * Passwords are kept as RabbitMQ keeps them (rabbit_password_hashing_sha256
 * by default): salt (4 random bytes) ++ SHA-256(salt ++ password), shown
 * base64-encoded as "password_hash", so that a definitions export moves
 * between warren and RabbitMQ with the passwords intact.  The digests
 * come from OpenSSL's libcrypto.
 *
 * Permissions are three regular expressions per user and vhost
 * (configure, write, read), matched anywhere in a resource's name as
 * RabbitMQ's re:run does; an empty one matches nothing.  RabbitMQ's are
 * PCRE; warren's are POSIX extended (regex.h): the same for the patterns
 * people write ("^amq\.gen.*", "^(a|b)$", ".*"), no "\d"-style classes
 * or lookarounds (refused when set, never misread).
 *
 * Where they come from: the command line's --user NAME:PASS (guest:guest
 * when none is given) is there at every start, tagged administrator and
 * with ".*" on "/"; users made or changed over the HTTP API (or a
 * definitions import) are recorded in the store's definitions log
 * (auth_db_set_store) and replayed at start, after the command line's,
 * so a stored change of a command-line user wins.
 *
 * As in RabbitMQ, a refusal says why in RabbitMQ's words; what the client
 * is told is the front end's business (conn.c says only that the login
 * was refused).
 */
#ifndef WARREN_AUTH_H
#define WARREN_AUTH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "amqp/wire.h"
#include "config.h"
#include "error.h"
#include "quota.h"

typedef struct store store;

/* RabbitMQ's hashing_algorithm names, in this order. */
enum auth_algo { AUTH_SHA256 = 0, AUTH_SHA512 = 1, AUTH_MD5 = 2 };
#define AUTH_SALT 4
#define AUTH_HASH_MAX (AUTH_SALT + 64)

/* The tags RabbitMQ's management gives a meaning to. */
enum {
    AUTH_TAG_ADMINISTRATOR = 1 << 0,
    AUTH_TAG_MONITORING = 1 << 1,
    AUTH_TAG_POLICYMAKER = 1 << 2,
    AUTH_TAG_MANAGEMENT = 1 << 3,
};

enum auth_perm { AUTH_CONFIGURE = 0, AUTH_WRITE = 1, AUTH_READ = 2 };
enum auth_kind { AUTH_QUEUE, AUTH_EXCHANGE };

typedef struct auth_vperm {
    char *vhost;
    char *src[3];               /* configure, write, read as given */
    regex_t re[3];
} auth_vperm;

typedef struct auth_user {
    char *name;
    uint8_t hash[AUTH_HASH_MAX]; /* salt ++ digest; hashlen 0: no password login */
    size_t hashlen;
    int algo;                   /* enum auth_algo */
    char *tags;                 /* comma-separated, as given (trimmed) */
    unsigned tagbits;           /* AUTH_TAG_* among them */
    bool loopback_only;         /* RabbitMQ's loopback_users: only from a local peer */
    bool stored;                /* in the definitions log (else from the command line only) */
    auth_vperm *perms;
    size_t nperms;
    limits limits;              /* RabbitMQ's user limits: max-connections, max-channels */
} auth_user;

typedef struct auth_db {
    auth_user *users;
    size_t nusers, cap;
    store *st;                  /* where changes are recorded; NULL while replaying */
    bool guest_local;           /* a user named guest logs in from loopback only */
    unsigned gen;               /* bumped at every change (for caches of checks) */
} auth_db;

/* The configuration's users (cfg after config_finish): administrators
 * with ".*" on "/"; guest may log in from loopback only unless
 * cfg->guest_remote, as RabbitMQ's default loopback_users = [guest].  A
 * name given twice keeps its first password.  0, or -1 out of memory. */
int auth_db_init(auth_db *db, const config *cfg);
void auth_db_free(auth_db *db);
/* Record changes from now on in st (NULL: not). */
void auth_db_set_store(auth_db *db, store *st);

/* Add a user with a password (the strings are copied): -1 out of memory,
 * or with errno EEXIST when the name is taken (the first one stays). */
int auth_add_user(auth_db *db, const char *name, const char *password, bool loopback_only);
const auth_user *auth_find(const auth_db *db, const char *name);

/* hash = salt ++ digest(salt ++ password) with the algorithm's digest:
 * its length.  salt NULL: 4 random bytes. */
size_t auth_hash_password(int algo, const uint8_t *salt, const char *password, size_t len, uint8_t *hash);
/* "rabbit_password_hashing_sha256" -> AUTH_SHA256; -1 for another. */
int auth_algo_parse(const char *name);
const char *auth_algo_name(int algo);
/* Base64 of the hash ("" for none) into out (room for 4/3 * AUTH_HASH_MAX + 1). */
void auth_hash_base64(const auth_user *u, char *out, size_t n);
/* Tags as RabbitMQ takes them ("a, b" or the already split list joined
 * with ','): trimmed, empty ones dropped, into out; their AUTH_TAG_ bits. */
unsigned auth_tags_normalize(const char *in, char *out, size_t n);

/* Create or change a user.  hash NULL: no password (hashlen 0).  Recorded
 * when the db has a store.  0, or -1 with *why (out of memory, "could not
 * record it"). */
int auth_put_user(auth_db *db, const char *name, const uint8_t *hash, size_t hashlen, int algo, const char *tags,
                  const char **why);
/* Delete a user and its permissions: 0, -1 when there is none. */
int auth_delete_user(auth_db *db, const char *name);

/* Set a user's permissions on a vhost (an existing user): 0, or -1 with
 * *why ("invalid regular expression '(': ...", out of memory, a write
 * that failed). */
int auth_set_permission(auth_db *db, const char *user, const char *vhost, const char *const re[3], char *why,
                        size_t whylen);
/* Clear them: 0, -1 when there were none. */
int auth_clear_permission(auth_db *db, const char *user, const char *vhost);
const auth_vperm *auth_permission(const auth_user *u, const char *vhost);

/* May `user` log in with `password` from a peer that is (loopback) or is
 * not on the loopback interface?  0 if so; else -1 with *err set to 403
 * ACCESS_REFUSED and RabbitMQ's reason ("user 'x' - invalid credentials",
 * "user 'guest' can only connect via localhost"). */
int auth_check(const auth_db *db, const char *user, amqp_str password, bool loopback, amqp_error *err);
/* connection.open: may the user use the vhost (it has permissions there)?
 * 0, or -1 with 530 NOT_ALLOWED "access to vhost 'x' refused for user 'bob'". */
int auth_vhost_access(const auth_db *db, const char *user, const char *vhost, amqp_error *err);
/* Does the regular expression of perm let user touch the queue or
 * exchange `name` in vhost?  0, or -1 with 403 ACCESS_REFUSED "access to
 * queue 'q' in vhost '/' refused for user 'bob'" (the default exchange is
 * 'amq.default' there and in the match, as RabbitMQ). */
int auth_permitted(const auth_db *db, const char *user, const char *vhost, enum auth_kind kind, amqp_str name,
                   enum auth_perm perm, amqp_error *err);
/* The regular-expression test itself: does re match anywhere in name? */
bool auth_match(const auth_vperm *p, enum auth_perm perm, amqp_str name);

/* Set every limit of an existing user (RabbitMQ's set_user_limits
 * replaces one at a time; the HTTP API merges first): recorded when the
 * db has a store.  0; -1 with errno ENOENT (no such user) or with *why. */
int auth_set_limits(auth_db *db, const char *name, const limits *l, const char **why);

/* The store's recovery hooks (store_recovery's user, permission and
 * each_auth_def, with the db as auth_ctx): replay a record, emit the
 * stored users and their permissions for the rewrite. */
struct store_user_def;
struct store_perm_def;
struct store_def;
int auth_replay_user(void *ctx, const struct store_user_def *d, bool add);
int auth_replay_permission(void *ctx, const struct store_perm_def *d, bool add);
int auth_each_def(void *ctx, int (*emit)(void *sink, const struct store_def *d), void *sink);
/* A user's limits record replayed (a user who is gone since: ignored);
 * every user's that has any, for the rewrite. */
int auth_replay_limits(auth_db *db, const store_limits_def *d);
int auth_each_limits(auth_db *db, int (*emit)(void *sink, const struct store_def *d), void *sink);

#endif
