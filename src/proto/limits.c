/*
 * proto/limits.c - counting and refusing connections and channels; see
 * proto/limits.h and doc/limits.md.
 *
 * Everything is a counter kept as connections change state, never a walk
 * of the connection list: with 50,000 connections open, accepting one
 * more costs a hash lookup, not 50,000 steps.  A user's or an address's
 * counter lives while something holds it (freed at zero), so a flood of
 * distinct addresses costs memory only while their sockets are open.
 */
#include "proto/limits.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "log.h"
#include "proto/conn.h"
#include "vhost.h"
#include "util.h"

#define WARN_EVERY_MS 1000

int conn_limits_init(broker *b)
{
    if (!(b->limits = calloc(1, sizeof *b->limits)))
        return -1;
    map_init(&b->limits->users);
    map_init(&b->limits->addrs);
    return 0;
}

static void free_all(map *m)
{
    size_t i = 0;
    void *v;
    while (map_next(m, &i, NULL, NULL, &v))
        free(v);
    map_free(m);
}

void conn_limits_free(broker *b)
{
    if (!b->limits)
        return;
    free_all(&b->limits->users);
    free_all(&b->limits->addrs);
    free(b->limits);
    b->limits = NULL;
}

/* The counter of key in m, made at 0 when there is none; NULL out of memory. */
static limits_use *use_of(map *m, const void *key, size_t len)
{
    limits_use *u = map_get(m, key, len);

    if (u)
        return u;
    if (!(u = calloc(1, sizeof *u + len + 1)))
        return NULL;
    memcpy(u->key, key, len);
    if (map_put(m, u->key, len, u) < 0) {
        free(u);
        return NULL;
    }
    return u;
}

static void use_drop(map *m, limits_use *u, size_t len)
{
    if (u->conns == 0 && u->chans == 0) {
        map_del(m, u->key, len);
        free(u);
    }
}

static bool refuse(conn *c, const char *why, uint32_t limit)
{
    conn_limits *l = c->b->limits;
    uint64_t now = ev_now(c->b->loop);

    l->refused++;
    if (l->last_warn && now - l->last_warn < WARN_EVERY_MS) {
        l->refused_quiet++;
        return false;
    }
    if (l->refused_quiet)
        log_warn("refused connection from %s: %s (%u); %u more refused since the last warning", c->peer, why,
                 limit, l->refused_quiet);
    else
        log_warn("refused connection from %s: %s (%u)", c->peer, why, limit);
    l->last_warn = now;
    l->refused_quiet = 0;
    return false;
}

bool conn_limits_accept(conn *c, const struct sockaddr *sa)
{
    conn_limits *l = c->b->limits;
    const config *cfg = &c->b->cfg;

    if (cfg->max_unauthenticated && l->unauth >= cfg->max_unauthenticated)
        return refuse(c, "too many connections have not logged in yet, --max-unauthenticated",
                      cfg->max_unauthenticated);
    if (cfg->max_per_address) {
        uint8_t key[16];
        size_t len = sockaddr_key(sa, key);
        limits_use *u = len ? map_get(&l->addrs, (const char *)key, len) : NULL;
        if (u && u->conns >= cfg->max_per_address)
            return refuse(c, "too many connections from this address, --max-connections-per-address",
                          cfg->max_per_address);
        if (len && (u = use_of(&l->addrs, key, len))) {
            u->conns++;
            c->addr_use = u;
            c->addr_len = (uint8_t)len;
        }
    }
    l->unauth++;
    c->unauth_counted = true;
    return true;
}

void conn_limits_logged_in(conn *c)
{
    if (c->unauth_counted) {
        c->b->limits->unauth--;
        c->unauth_counted = false;
    }
}

int conn_limits_open(conn *c, vhost *vh, amqp_error *err)
{
    conn_limits *l = c->b->limits;
    const auth_user *user = auth_find(&c->b->auth, c->user);
    limits_use *u = map_get(&l->users, c->user, strlen(c->user));
    int64_t lim;

    /* RabbitMQ's checks at connection.open (rabbit_reader), in its order */
    if (c->b->cfg.max_connections && l->open >= c->b->cfg.max_connections)
        return amqp_fail(err, AMQP_NOT_ALLOWED, "connection refused: node connection limit (%u) is reached",
                         c->b->cfg.max_connections);
    lim = vh->limits.v[LIMIT_MAX_CONNECTIONS];
    if (limit_reached(lim, vh->nconns))
        return amqp_fail(err, AMQP_NOT_ALLOWED,
                         "access to vhost '%s' refused for user '%s': connection limit (%lld) is reached", vh->name,
                         c->user, (long long)lim);
    lim = user ? user->limits.v[LIMIT_MAX_CONNECTIONS] : LIMIT_UNSET;
    if (limit_reached(lim, u ? u->conns : 0))
        return amqp_fail(err, AMQP_NOT_ALLOWED,
                         "connection refused for user '%s': user connection limit (%lld) is reached", c->user,
                         (long long)lim);
    if (!(u = use_of(&l->users, c->user, strlen(c->user))))
        return amqp_fail(err, AMQP_INTERNAL_ERROR, "out of memory");
    u->conns++;
    c->user_use = u;
    vh->nconns++;
    l->open++;
    c->open_counted = true;
    return 0;
}

int conn_limits_channel(conn *c, amqp_error *err)
{
    const auth_user *user = auth_find(&c->b->auth, c->user);
    int64_t lim = user ? user->limits.v[LIMIT_MAX_CHANNELS] : LIMIT_UNSET;

    if (c->user_use && limit_reached(lim, c->user_use->chans))
        return amqp_fail(err, AMQP_NOT_ALLOWED,
                         "number of channels opened for user '%s' has reached the maximum allowed user limit of (%lld)",
                         c->user, (long long)lim);
    return 0;
}

bool conn_limits_channel_token(conn *c)
{
    uint64_t now = ev_now(c->b->loop);

    if (!c->chan_tokens_at) {
        c->chan_tokens = LIMITS_CHANNEL_OPEN_BURST;
        c->chan_tokens_at = now;
    } else {
        uint64_t add = (now - c->chan_tokens_at) * LIMITS_CHANNEL_OPEN_RATE / 1000;
        if (add) {
            add += c->chan_tokens;
            c->chan_tokens = add > LIMITS_CHANNEL_OPEN_BURST ? LIMITS_CHANNEL_OPEN_BURST : (uint32_t)add;
            c->chan_tokens_at = now;
        }
    }
    if (!c->chan_tokens)
        return false;
    c->chan_tokens--;
    return true;
}

void conn_limits_channels(conn *c, int n)
{
    if (c->user_use)
        c->user_use->chans = (uint32_t)((int64_t)c->user_use->chans + n);
}

void conn_limits_unopen(conn *c, vhost *vh)
{
    conn_limits *l = c->b->limits;

    if (c->open_counted) {
        c->open_counted = false;
        l->open--;
        if (vh)
            vh->nconns--;
    }
    if (c->user_use) {
        c->user_use->conns--;
        use_drop(&l->users, c->user_use, strlen(c->user_use->key));
        c->user_use = NULL;
    }
}

void conn_limits_release(conn *c)
{
    conn_limits *l = c->b->limits;

    conn_limits_logged_in(c);
    conn_limits_unopen(c, c->vh);
    if (c->addr_use) {
        c->addr_use->conns--;
        use_drop(&l->addrs, c->addr_use, c->addr_len);
        c->addr_use = NULL;
    }
}
