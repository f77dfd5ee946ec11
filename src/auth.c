/*
 * auth.c - the users, their permissions, the login and permission checks
 * (auth.h).
 *
 * A handful of users, looked up by a walk: the login check runs once per
 * connection (or HTTP request), the permission check once per declare,
 * bind, consume or get and once per publish method; each is a walk of a
 * few users and their vhosts and one regexec.  The hash is compared in
 * time that does not depend on where it first differs.
 *
 * Every change made while the db has a store (after recovery) is recorded
 * in the store's definitions log before it is made here, so what the
 * caller is told (201, 204) is on disk; a user touched this way becomes
 * "stored" and is rewritten with its permissions at every start.
 */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store.h"

static const char *const algo_names[] = {"rabbit_password_hashing_sha256", "rabbit_password_hashing_sha512",
                                         "rabbit_password_hashing_md5"};

/* ------------------------------------------------------------ hashes */

int auth_algo_parse(const char *name)
{
    int i;
    for (i = 0; i < 3; i++)
        if (!strcmp(name, algo_names[i]))
            return i;
    return -1;
}

const char *auth_algo_name(int algo)
{
    return algo >= 0 && algo < 3 ? algo_names[algo] : algo_names[0];
}

static const EVP_MD *algo_md(int algo)
{
    return algo == AUTH_SHA512 ? EVP_sha512() : algo == AUTH_MD5 ? EVP_md5() : EVP_sha256();
}

size_t auth_hash_password(int algo, const uint8_t *salt, const char *password, size_t len, uint8_t *hash)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned dlen = 0;

    if (salt)
        memcpy(hash, salt, AUTH_SALT);
    else if (RAND_bytes(hash, AUTH_SALT) != 1)
        abort(); /* no randomness at all: nothing sane to do */
    if (!ctx || EVP_DigestInit_ex(ctx, algo_md(algo), NULL) != 1 || EVP_DigestUpdate(ctx, hash, AUTH_SALT) != 1 ||
        EVP_DigestUpdate(ctx, password, len) != 1 || EVP_DigestFinal_ex(ctx, hash + AUTH_SALT, &dlen) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
    return AUTH_SALT + dlen;
}

void auth_hash_base64(const auth_user *u, char *out, size_t n)
{
    if (n < 4 * ((AUTH_HASH_MAX + 2) / 3) + 1) {
        if (n)
            out[0] = 0;
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, u->hash, (int)u->hashlen);
}

unsigned auth_tags_normalize(const char *in, char *out, size_t n)
{
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {{"administrator", AUTH_TAG_ADMINISTRATOR},
                 {"monitoring", AUTH_TAG_MONITORING},
                 {"policymaker", AUTH_TAG_POLICYMAKER},
                 {"management", AUTH_TAG_MANAGEMENT}};
    unsigned bits = 0;
    size_t len = 0, i;

    if (n)
        out[0] = 0;
    while (*in) {
        const char *s = in, *e;
        size_t tl;
        while (*s == ' ' || *s == '\t')
            s++;
        e = strchr(s, ',');
        if (!e)
            e = s + strlen(s);
        in = *e ? e + 1 : e;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        tl = (size_t)(e - s);
        if (!tl)
            continue;
        for (i = 0; i < sizeof known / sizeof *known; i++)
            if (strlen(known[i].name) == tl && !memcmp(known[i].name, s, tl))
                bits |= known[i].bit;
        if (len + tl + 2 <= n) {
            if (len)
                out[len++] = ',';
            memcpy(out + len, s, tl);
            len += tl;
            out[len] = 0;
        }
    }
    return bits;
}

/* ------------------------------------------------------------ the db */

static auth_user *find_user(const auth_db *db, const char *name)
{
    size_t i;

    for (i = 0; i < db->nusers; i++)
        if (!strcmp(db->users[i].name, name))
            return &db->users[i];
    return NULL;
}

const auth_user *auth_find(const auth_db *db, const char *name)
{
    return find_user(db, name);
}

static void vperm_free(auth_vperm *p)
{
    int k;
    free(p->vhost);
    for (k = 0; k < 3; k++) {
        free(p->src[k]);
        regfree(&p->re[k]);
    }
}

static void user_free(auth_user *u)
{
    size_t i;
    for (i = 0; i < u->nperms; i++)
        vperm_free(&u->perms[i]);
    free(u->perms);
    free(u->name);
    free(u->tags);
}

void auth_db_free(auth_db *db)
{
    size_t i;

    for (i = 0; i < db->nusers; i++)
        user_free(&db->users[i]);
    free(db->users);
    memset(db, 0, sizeof *db);
}

void auth_db_set_store(auth_db *db, store *st)
{
    db->st = st;
}

/* A new user, empty but for its name, at the end of the list. */
static auth_user *new_user(auth_db *db, const char *name)
{
    auth_user *u;

    if (db->nusers == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 4;
        auth_user *v = realloc(db->users, cap * sizeof *v);
        if (!v)
            return NULL;
        db->users = v;
        db->cap = cap;
    }
    u = &db->users[db->nusers];
    memset(u, 0, sizeof *u);
    if (!(u->name = strdup(name)) || !(u->tags = strdup(""))) {
        free(u->name);
        return NULL;
    }
    u->loopback_only = db->guest_local && !strcmp(name, "guest");
    limits_init(&u->limits);
    db->nusers++;
    return u;
}

static int set_tags(auth_user *u, const char *tags)
{
    char buf[256];
    char *t;
    unsigned bits = auth_tags_normalize(tags, buf, sizeof buf);

    if (!(t = strdup(buf)))
        return -1;
    free(u->tags);
    u->tags = t;
    u->tagbits = bits;
    return 0;
}

/* ------------------------------------------------------- permissions */

const auth_vperm *auth_permission(const auth_user *u, const char *vhost)
{
    size_t i;
    for (i = 0; u && i < u->nperms; i++)
        if (!strcmp(u->perms[i].vhost, vhost))
            return &u->perms[i];
    return NULL;
}

/* Compile the three into p (vhost left alone): 0, or -1 with why. */
static int compile(auth_vperm *p, const char *const re[3], char *why, size_t whylen)
{
    int k, rc;

    memset(p->src, 0, sizeof p->src);
    for (k = 0; k < 3; k++) {
        if ((rc = regcomp(&p->re[k], re[k], REG_EXTENDED | REG_NOSUB)) != 0) {
            char text[128];
            regerror(rc, &p->re[k], text, sizeof text);
            snprintf(why, whylen, "invalid regular expression '%s': %s", re[k], text);
            while (k-- > 0)
                regfree(&p->re[k]);
            return -1;
        }
    }
    for (k = 0; k < 3; k++)
        if (!(p->src[k] = strdup(re[k]))) {
            snprintf(why, whylen, "out of memory");
            for (k = 0; k < 3; k++) {
                free(p->src[k]);
                regfree(&p->re[k]);
            }
            return -1;
        }
    return 0;
}

static int set_perm(auth_user *u, const char *vhost, const char *const re[3], char *why, size_t whylen)
{
    auth_vperm p, *old = (auth_vperm *)auth_permission(u, vhost);

    if (compile(&p, re, why, whylen) < 0)
        return -1;
    if (old) {
        p.vhost = old->vhost;
        old->vhost = NULL;
        vperm_free(old);
        *old = p;
        return 0;
    }
    if (!(p.vhost = strdup(vhost))) {
        vperm_free(&p);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    {
        auth_vperm *v = realloc(u->perms, (u->nperms + 1) * sizeof *v);
        if (!v) {
            vperm_free(&p);
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        u->perms = v;
        u->perms[u->nperms++] = p;
    }
    return 0;
}

static int clear_perm(auth_user *u, const char *vhost)
{
    auth_vperm *p = (auth_vperm *)auth_permission(u, vhost);

    if (!p)
        return -1;
    vperm_free(p);
    *p = u->perms[--u->nperms];
    return 0;
}

bool auth_match(const auth_vperm *p, enum auth_perm perm, amqp_str name)
{
    regmatch_t m = {.rm_so = 0, .rm_eo = (regoff_t)name.len};
    char copy[256], *s = copy;
    bool ok;

    /* RabbitMQ: an empty permission matches nothing */
    if (!p->src[perm][0])
        return false;
    /* REG_STARTEND: the name's bytes as they are, NULs and all.  The name
     * points into a frame, with no NUL after it: copied and terminated
     * all the same, as regexec's callers are expected to pass a string
     * (the sanitizers' regexec reads up to the NUL, past the frame, the
     * protocol walk found) */
    if (name.len >= sizeof copy && !(s = malloc((size_t)name.len + 1)))
        return false;
    if (name.len)
        memcpy(s, name.ptr, name.len);
    s[name.len] = 0;
    ok = regexec(&p->re[perm], s, 1, &m, REG_STARTEND) == 0;
    if (s != copy)
        free(s);
    return ok;
}

/* ------------------------------------------------------- recording */

static store_user_def user_def(const auth_user *u)
{
    return (store_user_def){
        .name = amqp_cstr(u->name),
        .algo = (uint8_t)u->algo,
        .hash = {(const char *)u->hash, (uint32_t)u->hashlen},
        .tags = amqp_cstr(u->tags),
    };
}

static store_perm_def perm_def(const auth_user *u, const auth_vperm *p)
{
    return (store_perm_def){
        .user = amqp_cstr(u->name),
        .vhost = amqp_cstr(p->vhost),
        .configure = amqp_cstr(p->src[0]),
        .write = amqp_cstr(p->src[1]),
        .read = amqp_cstr(p->src[2]),
    };
}

/* A command-line user about to change becomes a stored one: its record
 * and its permissions go to the log first. */
static int make_stored(auth_db *db, auth_user *u)
{
    store_user_def d;
    size_t i;

    if (!db->st || u->stored)
        return 0;
    d = user_def(u);
    if (store_user(db->st, &d, true) < 0)
        return -1;
    for (i = 0; i < u->nperms; i++) {
        store_perm_def p = perm_def(u, &u->perms[i]);
        if (store_permission(db->st, &p, true) < 0)
            return -1;
    }
    u->stored = true;
    return 0;
}

/* ------------------------------------------------------- changes */

static const char *const all_perms[3] = {".*", ".*", ".*"};

int auth_add_user(auth_db *db, const char *name, const char *password, bool loopback_only)
{
    auth_user *u;
    char why[160];

    if (find_user(db, name)) {
        errno = EEXIST;
        return -1;
    }
    if (!(u = new_user(db, name)))
        return -1;
    u->loopback_only = loopback_only;
    u->algo = AUTH_SHA256;
    u->hashlen = auth_hash_password(AUTH_SHA256, NULL, password, strlen(password), u->hash);
    if (set_tags(u, "administrator") < 0 || set_perm(u, "/", all_perms, why, sizeof why) < 0) {
        user_free(u);
        db->nusers--;
        return -1;
    }
    return 0;
}

int auth_db_init(auth_db *db, const config *cfg)
{
    int i;

    memset(db, 0, sizeof *db);
    db->guest_local = !cfg->guest_remote;
    for (i = 0; i < cfg->nusers; i++) {
        const char *name = cfg->users[i][0];
        bool local = !strcmp(name, "guest") && !cfg->guest_remote;
        if (auth_add_user(db, name, cfg->users[i][1], local) < 0 && errno != EEXIST) {
            auth_db_free(db);
            return -1;
        }
    }
    return 0;
}

int auth_put_user(auth_db *db, const char *name, const uint8_t *hash, size_t hashlen, int algo, const char *tags,
                  const char **why)
{
    auth_user *u = find_user(db, name), *fresh = NULL;
    char norm[256];
    store_user_def d;

    if (hashlen > AUTH_HASH_MAX) {
        *why = "password_hash too long";
        return -1;
    }
    if (!u && !(u = fresh = new_user(db, name))) {
        *why = "out of memory";
        return -1;
    }
    auth_tags_normalize(tags, norm, sizeof norm);
    if (db->st) {
        d = (store_user_def){.name = amqp_cstr(name), .algo = (uint8_t)algo,
                             .hash = {(const char *)hash, (uint32_t)(hash ? hashlen : 0)}, .tags = amqp_cstr(norm)};
        if ((!fresh && make_stored(db, u) < 0) || store_user(db->st, &d, true) < 0) {
            *why = "could not record the user in the data directory";
            goto fail;
        }
        u->stored = true;
    }
    if (set_tags(u, norm) < 0) {
        *why = "out of memory";
        goto fail;
    }
    u->algo = algo;
    u->hashlen = hash ? hashlen : 0;
    if (hash)
        memcpy(u->hash, hash, hashlen);
    db->gen++;
    return 0;
fail:
    if (fresh) {
        user_free(fresh);
        db->nusers--;
    }
    return -1;
}

int auth_set_limits(auth_db *db, const char *name, const limits *l, const char **why)
{
    auth_user *u = find_user(db, name);

    if (!u) {
        errno = ENOENT;
        *why = "no such user";
        return -1;
    }
    if (db->st) {
        store_limits_def d;
        limits_def(l, DEF_LIMITS_USER, name, &d);
        if (store_limits(db->st, &d) < 0) {
            *why = "could not record the limits in the data directory";
            return -1;
        }
    }
    u->limits = *l;
    db->gen++;
    return 0;
}

int auth_delete_user(auth_db *db, const char *name)
{
    auth_user *u = find_user(db, name);

    if (!u)
        return -1;
    if (db->st && u->stored) {
        store_user_def d = {.name = amqp_cstr(name)};
        if (store_user(db->st, &d, false) < 0)
            log_error("auth: could not record the deletion of user '%s'; it will come back after a restart", name);
    }
    user_free(u);
    *u = db->users[--db->nusers];
    db->gen++;
    return 0;
}

int auth_set_permission(auth_db *db, const char *user, const char *vhost, const char *const re[3], char *why,
                        size_t whylen)
{
    auth_user *u = find_user(db, user);
    auth_vperm probe;
    int k;

    if (!u) {
        snprintf(why, whylen, "no user '%s'", user);
        return -1;
    }
    /* compile first: a bad expression is refused before anything is written */
    if (compile(&probe, re, why, whylen) < 0)
        return -1;
    for (k = 0; k < 3; k++) {
        free(probe.src[k]);
        regfree(&probe.re[k]);
    }
    if (db->st) {
        store_perm_def d = {.user = amqp_cstr(user), .vhost = amqp_cstr(vhost), .configure = amqp_cstr(re[0]),
                            .write = amqp_cstr(re[1]), .read = amqp_cstr(re[2])};
        if (make_stored(db, u) < 0 || store_permission(db->st, &d, true) < 0) {
            snprintf(why, whylen, "could not record the permissions in the data directory");
            return -1;
        }
    }
    db->gen++;
    return set_perm(u, vhost, re, why, whylen);
}

int auth_clear_permission(auth_db *db, const char *user, const char *vhost)
{
    auth_user *u = find_user(db, user);

    if (!u || !auth_permission(u, vhost))
        return -1;
    if (db->st) {
        store_perm_def d = {.user = amqp_cstr(user), .vhost = amqp_cstr(vhost)};
        if (make_stored(db, u) < 0 || store_permission(db->st, &d, false) < 0)
            log_error("auth: could not record that user '%s' lost its permissions on '%s'; they will come back "
                      "after a restart",
                      user, vhost);
    }
    db->gen++;
    return clear_perm(u, vhost);
}

/* ------------------------------------------------------------ checks */

/* Equal lengths and bytes, looking at every byte of the stored digest
 * whatever the given one holds. */
static bool password_matches(const auth_user *u, amqp_str given)
{
    uint8_t h[AUTH_HASH_MAX];
    unsigned char diff;
    size_t i, n;

    if (u->hashlen <= AUTH_SALT)
        return false;
    n = auth_hash_password(u->algo, u->hash, given.ptr, given.len, h);
    diff = n != u->hashlen;
    for (i = AUTH_SALT; i < u->hashlen && i < n; i++)
        diff |= (unsigned char)(u->hash[i] ^ h[i]);
    return diff == 0;
}

int auth_check(const auth_db *db, const char *user, amqp_str password, bool loopback, amqp_error *err)
{
    const auth_user *u = find_user(db, user);

    if (!u || !password_matches(u, password))
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "user '%s' - invalid credentials", user);
    if (u->loopback_only && !loopback)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "user '%s' can only connect via localhost", user);
    return 0;
}

int auth_vhost_access(const auth_db *db, const char *user, const char *vhost, amqp_error *err)
{
    if (!auth_permission(find_user(db, user), vhost))
        return amqp_fail(err, AMQP_NOT_ALLOWED, "access to vhost '%s' refused for user '%s'", vhost, user);
    return 0;
}

int auth_permitted(const auth_db *db, const char *user, const char *vhost, enum auth_kind kind, amqp_str name,
                   enum auth_perm perm, amqp_error *err)
{
    const auth_vperm *p = auth_permission(find_user(db, user), vhost);

    if (kind == AUTH_EXCHANGE && name.len == 0)
        name = amqp_cstr("amq.default");
    if (p && auth_match(p, perm, name))
        return 0;
    return amqp_fail(err, AMQP_ACCESS_REFUSED, "access to %s '%.*s' in vhost '%s' refused for user '%s'",
                     kind == AUTH_QUEUE ? "queue" : "exchange", (int)name.len, name.ptr, vhost, user);
}

/* ------------------------------------------------- the store's side */

int auth_replay_user(void *ctx, const store_user_def *d, bool add)
{
    auth_db *db = ctx;
    char name[256], tags[256];
    const char *why;
    int algo = d->algo < 3 ? d->algo : AUTH_SHA256;

    snprintf(name, sizeof name, "%.*s", (int)d->name.len, d->name.ptr);
    if (!add) {
        auth_delete_user(db, name);
        return 0;
    }
    snprintf(tags, sizeof tags, "%.*s", (int)d->tags.len, d->tags.ptr);
    if (auth_put_user(db, name, d->hash.len ? (const uint8_t *)d->hash.ptr : NULL, d->hash.len, algo, tags, &why) < 0)
        return log_error("auth: cannot restore user '%s': %s", name, why), -1;
    find_user(db, name)->stored = true;
    return 0;
}

int auth_replay_permission(void *ctx, const store_perm_def *d, bool add)
{
    auth_db *db = ctx;
    char user[256], vhost[256], re[3][256], why[200];
    const char *res[3] = {re[0], re[1], re[2]};

    snprintf(user, sizeof user, "%.*s", (int)d->user.len, d->user.ptr);
    snprintf(vhost, sizeof vhost, "%.*s", (int)d->vhost.len, d->vhost.ptr);
    if (!add) {
        auth_clear_permission(db, user, vhost);
        return 0;
    }
    snprintf(re[0], sizeof re[0], "%.*s", (int)d->configure.len, d->configure.ptr);
    snprintf(re[1], sizeof re[1], "%.*s", (int)d->write.len, d->write.ptr);
    snprintf(re[2], sizeof re[2], "%.*s", (int)d->read.len, d->read.ptr);
    if (!find_user(db, user))
        return 0; /* its user was deleted after: nothing to give them to */
    if (auth_set_permission(db, user, vhost, res, why, sizeof why) < 0)
        return log_error("auth: cannot restore the permissions of '%s' on '%s': %s", user, vhost, why), -1;
    return 0;
}

int auth_each_def(void *ctx, int (*emit)(void *sink, const store_def *d), void *sink)
{
    auth_db *db = ctx;
    size_t i, k;
    store_def d;

    for (i = 0; i < db->nusers; i++) {
        if (!db->users[i].stored)
            continue;
        d.kind = DEF_USER;
        d.user = user_def(&db->users[i]);
        if (emit(sink, &d) < 0)
            return -1;
        for (k = 0; k < db->users[i].nperms; k++) {
            d.kind = DEF_PERMISSION;
            d.perm = perm_def(&db->users[i], &db->users[i].perms[k]);
            if (emit(sink, &d) < 0)
                return -1;
        }
    }
    return 0;
}

int auth_replay_limits(auth_db *db, const store_limits_def *d)
{
    char name[256];
    auth_user *u;

    snprintf(name, sizeof name, "%.*s", (int)d->name.len, d->name.ptr);
    if ((u = find_user(db, name)) && limits_from_def(&u->limits, d) > 0)
        log_warn("auth: user '%s' has limits this version does not know; they are dropped", name);
    return 0;
}

int auth_each_limits(auth_db *db, int (*emit)(void *sink, const store_def *d), void *sink)
{
    size_t i;
    store_def d = {.kind = DEF_LIMITS};

    for (i = 0; i < db->nusers; i++) {
        if (!limits_any(&db->users[i].limits))
            continue;
        limits_def(&db->users[i].limits, DEF_LIMITS_USER, db->users[i].name, &d.limits);
        if (emit(sink, &d) < 0)
            return -1;
    }
    return 0;
}
