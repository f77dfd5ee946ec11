/*
 * broker.c - the server: the AMQP listeners (listener.c, accepting into
 * conn_accept), the HTTP API (src/http/, on the same loop), the connection list, the user database (auth.c), the
 * resource alarms' observer (alarm.c knows no connection; the broker
 * unblocks its own), signals, the once-a-second tick (the store's disk
 * check, the memory alarm's measure; heartbeats are on each connection's
 * own timer, conn.c), and
 * the before-sleep hook that drives the batched work of each loop turn:
 *
 *   1. dispatch: queues marked dirty deliver to their consumers
 *   2. acks: the turn's ack-file entries (acks, "delivered" marks) are
 *      written, one write per ack file, so no reply leaves before the
 *      kernel has what it answers for: a consumer that got a delivery or
 *      saw a reply after its ack can count on it after a kill -9
 *   3. flush: every connection with output writes it with writev
 *   4. store: the turn's persistent records are written (one write) and
 *      handed to the sync thread (one fdatasync for the whole turn); the
 *      deliveries did not need to wait for that, the confirms do wait for
 *      the sync; then a bounded step of compaction
 *   5. reap: connections that died this turn are freed
 *
 * The store is opened under the broker, not inside it: it rebuilds the
 * vhost's queues, exchanges and bindings through the hooks of recovery.c,
 * and tells of syncs and the disk alarm through store_hooks below.
 *
 * Shutdown (SIGINT/SIGTERM) closes every open connection with 320
 * CONNECTION_FORCED, gives clients a moment to answer, then stops.
 * SIGHUP is logged and otherwise ignored, as RabbitMQ does.  SIGUSR1 reopens
 * the --log-file (logrotate) and logs every statistic of stats.c (a debug
 * dump until the HTTP API).  Under systemd (Type=notify) the service
 * manager is told READY=1 once every listener listens and STOPPING=1 when
 * the shutdown begins (sdnotify.c).
 */
#include "warren.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "delay_index.h"
#include "http/https.h"
#include "http/server.h"
#include "log.h"
#include "queue_region.h"
#include "recovery.h"
#include "sdnotify.h"
#include "store/store.h"
#include "tls.h"

#define SHUTDOWN_GRACE_MS 1000

/* ------------------------------------------------------------ store hooks */

/* The store synced: connections whose confirms waited get to flush. */
static void on_store_synced(void *ctx)
{
    broker *b = ctx;
    conn *c = b->sync_waiters;
    b->sync_waiters = NULL;
    while (c) {
        conn *next = c->sync_next;
        c->sync_waiting = false;
        conn_want_flush(c);
        c = next;
    }
}

/* A checkpoint asks what a durable queue keeps on disk (queue_region.c). */
static void on_store_region(void *ctx, void *handle, store_region_sink *k)
{
    (void)ctx;
    queue_region_checkpoint(handle, k);
}

static void on_disk_alarm(void *ctx, bool on)
{
    broker *b = ctx;
    alarm_set(&b->alarms, ALARM_DISK, on);
}

/* ------------------------------------------------------------ alarm hook */

/* The alarms' observer (alarm.h): the alarms know no connection, the
 * broker owns them.  When a block begins, or its reason changes, nothing
 * is sent: a connection is held at its next publish and told the reason
 * of that moment (conn.c, as RabbitMQ 3.10), and one told already hears
 * nothing more.  When every alarm is off, the held connections are read
 * again and those told blocked hear unblocked. */
static void on_alarm_changed(void *ctx, bool blocked, const char *reason)
{
    broker *b = ctx;
    conn *c;
    (void)reason;

    if (blocked)
        return;
    for (c = b->conns; c; c = c->next)
        conn_unblock(c);
}

/* ------------------------------------------------------------- listeners */

/* The AMQP listeners' accept callback: a new client connection. */
static void on_amqp_accept(void *user, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    broker *b = user;
    if (b->stopping) {
        close(fd);
        return;
    }
    conn_accept(b, fd, peer, peerlen);
}

/* The amqps listeners': the same, TLS first. */
static void on_amqps_accept(void *user, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    broker *b = user;
    if (b->stopping) {
        close(fd);
        return;
    }
    conn_accept_tls(b, b->tls, fd, peer, peerlen);
}

/* SIGHUP: the certificate, key and CA are read again (a renewed
 * certificate); open connections keep the session they have. */
static void reload_tls(broker *b)
{
    char why[512];
    if (!b->tls)
        return;
    if (tls_server_reload(b->tls, why, sizeof why) < 0)
        log_error("SIGHUP: TLS certificate not reloaded, the previous one stays in use: %s", why);
    else
        log_info("SIGHUP: TLS certificate, key and CA reloaded from %s", b->cfg.tls_cert);
}

/* amqps: the context from the files, and the addresses bound (as the
 * AMQP port's: --tls-bind, else --bind's, else the loopback pair). */
static int init_tls(broker *b)
{
    const config *cfg = &b->cfg;
    tls_options o = {.cert = cfg->tls_cert, .key = cfg->tls_key, .ca = cfg->tls_ca, .verify = cfg->tls_verify};
    const char *const *binds = cfg->ntls_binds ? cfg->tls_binds : cfg->binds;
    int i, n = cfg->ntls_binds ? cfg->ntls_binds : cfg->nbinds;
    char why[512];

    listeners_init(&b->amqps, cfg->tls_port, on_amqps_accept, b);
    if (!cfg->tls_cert)
        return 0;
    if (tls_server_new(&b->tls, &o, why, sizeof why) < 0)
        return log_error("TLS: %s", why), -1;
    b->amqps.label = "amqps (TLS) listening";
    if (n == 0) {
        if (listeners_bind(&b->amqps, "127.0.0.1", true) < 0)
            return -1;
        listeners_bind(&b->amqps, "::1", false);
    } else {
        for (i = 0; i < n; i++)
            if (listeners_bind(&b->amqps, binds[i], true) < 0)
                return -1;
    }
    return 0;
}

/* ----------------------------------------------------------------- loop */

static void flush_all(broker *b)
{
    while (b->flush) {
        conn *c = b->flush;
        b->flush = c->flush_next;
        c->flushing = false;
        conn_flush(c);
    }
}

/* ------------------------------------------------------------- vhosts */

vhost *broker_vhost(broker *b, const char *name, size_t len)
{
    return map_get(&b->vhosts, name, len);
}

/* A new vhost on the map, as broker_init makes "/": the sessions'
 * statistics hooks of "/", the seq clock from now. */
static vhost *make_vhost(broker *b, const char *name)
{
    vhost *vh = vhost_new(b, name);

    if (!vh)
        return NULL;
    if (map_put(&b->vhosts, name, strlen(name), vh) < 0) {
        vhost_free(vh);
        return NULL;
    }
    vh->stats.sessions = b->vh->stats.sessions;
    vh->stats.sessions_ctx = b->vh->stats.sessions_ctx;
    vh->next_seq = b->vh->next_seq;
    vhost_set_store(vh, b->st);
    stats_seq_mark(vh, vh->next_seq, ev_wall_ms(b->loop));
    return vh;
}

int broker_add_vhost(broker *b, const char *name, const char **why)
{
    if (broker_vhost(b, name, strlen(name)))
        return 1;
    if (b->st && store_vhost(b->st, amqp_cstr(name), true) < 0) {
        *why = "could not record the vhost in the data directory";
        return -1;
    }
    if (!make_vhost(b, name)) {
        *why = "out of memory";
        return -1;
    }
    log_info("vhost '%s' created", name);
    return 0;
}

static bool vhost_in_use(broker *b, vhost *vh)
{
    conn *c;
    for (c = b->conns; c; c = c->next)
        if (c->vh == vh)
            return true;
    return false;
}

/* Free a vhost with nothing durable in it any more (its queues are gone):
 * detached from the store, its exchanges go without a record. */
static void drop_vhost(vhost *vh)
{
    vhost_set_store(vh, NULL);
    vhost_free(vh);
}

#define VHOST_DELETE_SLICE 512  /* queues of a deleted vhost deleted per turn */

/* Delete up to `budget` queues of vh, as a client's delete does (with no
 * record of their own when vh is dying: its own record says it); false
 * when it has none left. */
static bool empty_vhost(vhost *vh, size_t budget)
{
    while (budget--) {
        size_t i = 0;
        void *v;
        if (!map_next(&vh->queues, &i, NULL, NULL, &v))
            return false;
        queue_delete(v);
    }
    return map_count(&vh->queues) > 0;
}

/* Deleted vhosts: their queues a slice a turn, then the vhost once no
 * connection holds it.  True when there is more to do right away. */
static bool free_dead_vhosts(broker *b)
{
    size_t i, n = 0;
    bool more = false;

    for (i = 0; i < b->ndead_vhosts; i++) {
        vhost *vh = b->dead_vhosts[i];
        if (empty_vhost(vh, VHOST_DELETE_SLICE))
            more = true;
        if (more || map_count(&vh->queues) || vhost_in_use(b, vh))
            b->dead_vhosts[n++] = vh;
        else
            drop_vhost(vh);
    }
    b->ndead_vhosts = n;
    return more;
}

int broker_sync_defs(broker *b)
{
    return b->st ? store_sync_defs(b->st) : 0;
}

int broker_delete_vhost(broker *b, const char *name)
{
    vhost *vh = broker_vhost(b, name, strlen(name));
    char text[400];
    size_t i;
    conn *c;

    if (!vh) {
        errno = ENOENT;
        return -1;
    }
    if (vh == b->vh) {
        errno = EPERM;
        return -1;
    }
    snprintf(text, sizeof text, "CONNECTION_FORCED - vhost '%s' is deleted", name);
    for (c = b->conns; c; c = c->next)
        if (c->vh == vh && c->state != CONN_DEAD)
            conn_close(c, AMQP_CONNECTION_FORCED, text, 0);
    for (i = 0; i < b->auth.nusers;) {
        /* auth_clear_permission may move the last user into slot i */
        size_t n = b->auth.nusers;
        auth_clear_permission(&b->auth, b->auth.users[i].name, name);
        if (b->auth.nusers == n)
            i++;
    }
    /* one record seals it all (the store forgets the vhost's queues with
     * it), so its queues can go a slice a turn (free_dead_vhosts): a vhost
     * of 100,000 queues does not stop the loop */
    if (!b->st || store_vhost(b->st, amqp_cstr(name), false) == 0) {
        vh->dying = true;
    } else {
        log_error("could not record the deletion of vhost '%s'; its queues are deleted one by one now, and it "
                  "will come back (empty) after a restart", name);
        empty_vhost(vh, SIZE_MAX);
    }
    map_del(&b->vhosts, name, strlen(name));
    {
        vhost **v = realloc(b->dead_vhosts, (b->ndead_vhosts + 1) * sizeof *v);
        if (!v) {
            /* cannot wait: everything goes now */
            for (c = b->conns; c; c = c->next)
                if (c->vh == vh && c->state != CONN_DEAD)
                    conn_kill(c, "vhost deleted");
            log_error("out of memory while deleting vhost '%s'", name);
            empty_vhost(vh, SIZE_MAX);
            return 0;
        }
        b->dead_vhosts = v;
        b->dead_vhosts[b->ndead_vhosts++] = vh;
    }
    log_info("vhost '%s' deleted", name);
    return 0;
}

void broker_close_user_connections(broker *b, const char *user, const char *text)
{
    conn *c;
    for (c = b->conns; c; c = c->next)
        if (c->state == CONN_OPEN && !strcmp(c->user, user))
            conn_close(c, AMQP_CONNECTION_FORCED, text, 0);
}

/* The store's replay of the vhosts (store_recovery's vhost hooks). */
static int replay_vhost(void *ctx, amqp_str name, bool add)
{
    broker *b = ctx;
    char n[256];
    vhost *vh;

    snprintf(n, sizeof n, "%.*s", (int)name.len, name.ptr);
    vh = broker_vhost(b, n, strlen(n));
    if (add)
        return vh || make_vhost(b, n) ? 0 : -1;
    if (!vh || vh == b->vh)
        return 0;
    if (map_count(&vh->queues)) {
        /* a queue whose deletion was never recorded: keep the vhost
         * rather than free a queue the store still knows */
        log_warn("vhost '%s' was deleted but still has queues in the log; it stays", n);
        return 0;
    }
    map_del(&b->vhosts, n, strlen(n));
    drop_vhost(vh);
    return 0;
}

int broker_set_vhost_limits(broker *b, vhost *vh, const limits *l, const char **why)
{
    if (b->st) {
        store_limits_def d;
        limits_def(l, DEF_LIMITS_VHOST, vh->name, &d);
        if (store_limits(b->st, &d) < 0) {
            *why = "could not record the limits in the data directory";
            return -1;
        }
    }
    vh->limits = *l;
    return 0;
}

/* The store's replay of the limits records: a vhost's or a user's (one
 * deleted since: ignored). */
static int replay_limits(void *ctx, const store_limits_def *d)
{
    broker *b = ctx;
    vhost *vh;

    if (d->scope == DEF_LIMITS_USER)
        return auth_replay_limits(&b->auth, d);
    if ((vh = broker_vhost(b, d->name.ptr, d->name.len)) && limits_from_def(&vh->limits, d) > 0)
        log_warn("vhost '%s' has limits this version does not know; they are dropped", vh->name);
    return 0;
}

static int each_limits(void *ctx, int (*emit)(void *sink, const store_def *d), void *sink)
{
    broker *b = ctx;
    store_def d = {.kind = DEF_LIMITS};
    size_t i = 0;
    void *v;

    while (map_next(&b->vhosts, &i, NULL, NULL, &v)) {
        vhost *vh = v;
        if (!limits_any(&vh->limits))
            continue;
        limits_def(&vh->limits, DEF_LIMITS_VHOST, vh->name, &d.limits);
        if (emit(sink, &d) < 0)
            return -1;
    }
    return auth_each_limits(&b->auth, emit, sink);
}

static void *replay_vhost_ctx(void *ctx, amqp_str name)
{
    return broker_vhost(ctx, name.ptr, name.len);
}

static int each_vhost(void *ctx, int (*fn)(void *arg, amqp_str name, void *vctx), void *arg)
{
    broker *b = ctx;
    size_t i = 0;
    void *v;

    while (map_next(&b->vhosts, &i, NULL, NULL, &v))
        if (v != b->vh && fn(arg, amqp_cstr(((vhost *)v)->name), v) < 0)
            return -1;
    return 0;
}

static void before_sleep(ev_loop *loop, void *data)
{
    broker *b = data;
    int round;

    bool more = false;

    /* a fast publisher meets the memory alarm within a turn or so, not a
     * second later (the tick alone clears it); before the flush, so that
     * connection.blocked goes out this turn */
    if (alarm_memory_due(&b->alarms))
        alarm_check_memory(&b->alarms);
    for (round = 0; round < 4; round++) {
        bool again = false;
        size_t i = 0;
        void *v;
        while (map_next(&b->vhosts, &i, NULL, NULL, &v))
            again |= vhost_dispatch(v);
        if (!again)
            break;
    }
    /* the turn's declarations and deletions on disk, before any reply of
     * the turn (group commit: one fdatasync for them all) */
    if (b->st && store_sync_defs(b->st) < 0) {
        /* their -oks must not leave: every connection with a reply waiting
         * is dropped (its unacked messages come back), as a broker that
         * crashed here would */
        while (b->flush) {
            conn *c = b->flush;
            b->flush = c->flush_next;
            c->flushing = false;
            obuf_clear(&c->out);
            conn_kill(c, "the definitions could not be synced");
        }
    }
    /* a slice of a huge purge or deletion: its acks go with this turn's */
    more = drainer_step(&b->drain);
    if (b->st)
        store_write_acks(b->st);
    /* deliveries go out before the message records are written: they do
     * not depend on them (a confirm does, and waits for the sync whatever
     * the order) */
    flush_all(b);
    if (b->st) {
        store_output_done(b->st);
        more |= store_flush(b->st);
        flush_all(b); /* a failed write nacks at once */
    }
    while (b->reap) {
        conn *c = b->reap;
        b->reap = c->reap_next;
        conn_free(c);
    }
    if (b->ndead_vhosts)
        more |= free_dead_vhosts(b);
    {
        size_t i = 0;
        void *v;
        while (!more && map_next(&b->vhosts, &i, NULL, NULL, &v))
            more = ((vhost *)v)->dirty != NULL;
    }
    if (more)
        ev_loop_spin(loop);
    if (b->stopping && !b->conns)
        ev_loop_stop(loop);
}

static void on_tick(ev_loop *loop, ev_timer *t)
{
    broker *b = (broker *)((char *)t - offsetof(broker, tick));

    if (b->st)
        store_tick(b->st);
    alarm_check_memory(&b->alarms);
    {
        size_t i = 0;
        void *v;
        while (map_next(&b->vhosts, &i, NULL, NULL, &v))
            stats_tick(v);
    }
    ev_timer_start(loop, t, 1000);
}

static void on_shutdown_timer(ev_loop *loop, ev_timer *t)
{
    (void)t;
    ev_loop_stop(loop);
}

static void begin_shutdown(broker *b, const char *why)
{
    conn *c;

    if (b->stopping)
        return;
    b->stopping = true;
    log_info("%s: shutting down", why);
    if (sdnotify("STOPPING=1\nSTATUS=shutting down") < 0)
        log_warn("cannot tell the service manager that warren is stopping ($NOTIFY_SOCKET): %s", strerror(errno));
    listeners_close(&b->amqp, b->loop);
    listeners_close(&b->amqps, b->loop);
    http_server_close_listeners(b->http);
    https_close_listeners(b->https);
    http_server_close_listeners(b->metrics);
    for (c = b->conns; c; c = c->next) {
        if (c->state == CONN_DEAD)
            continue;
        /* RabbitMQ's rabbit_reader:terminate sends 320 only to a running
         * connection; one in its handshake is just closed */
        if (c->state < CONN_OPEN)
            conn_kill(c, "shutdown");
        else
            conn_close(c, AMQP_CONNECTION_FORCED,
                       "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'", 0);
    }
    ev_timer_start(b->loop, &b->shutdown_timer, SHUTDOWN_GRACE_MS);
}

static void on_signal(ev_loop *loop, ev_io *io, uint32_t events)
{
    broker *b = (broker *)((char *)io - offsetof(broker, sig_io));
    struct signalfd_siginfo si;
    (void)loop, (void)events;
    while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
            begin_shutdown(b, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        else if (si.ssi_signo == SIGHUP && b->tls)
            reload_tls(b);
        else if (si.ssi_signo == SIGHUP)
            /* as RabbitMQ: a closed terminal, logrotate or `systemctl
             * reload` must not stop the broker */
            log_info("SIGHUP (from pid %u) ignored", si.ssi_pid);
        else if (si.ssi_signo == SIGUSR1) {
            /* logrotate's postrotate: the new file, then a snapshot in it */
            log_reopen();
            stats_log(b); /* a debug dump of the statistics API */
        }
    }
}

/*
 * The order matters for the data directory (main.c has locked it before
 * this): the listening addresses are bound before the store is opened,
 * because opening it rewrites files (the definitions, torn tails, emptied
 * segments), and a start that is going to fail on a port in use must
 * fail before that.  listen() comes after the store is open, so that a
 * client that can connect finds the broker ready.
 */
int broker_init(broker *b, const config *cfg)
{
    sigset_t mask;
    int i;
    const char *defaults[] = {"127.0.0.1", "::1"};

    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    b->sigfd = -1;
    /* before any thread exists, so that only the signalfd sees them */
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!(b->loop = ev_loop_new()))
        return log_error("cannot create the event loop: %s", strerror(errno)), -1;
    map_init(&b->vhosts);
    if (!(b->vh = vhost_new(b, "/")) || map_put(&b->vhosts, "/", 1, b->vh) < 0)
        return log_error("out of memory"), -1;
    stats_conn_register(b);
    if (conn_limits_init(b) < 0)
        return log_error("out of memory"), -1;
    if (auth_db_init(&b->auth, cfg) < 0)
        return log_error("out of memory"), -1;
    alarm_init(&b->alarms, cfg->memory_limit, (alarm_hooks){.ctx = b, .changed = on_alarm_changed});

    listeners_init(&b->amqp, cfg->port, on_amqp_accept, b);
    if (b->cfg.nbinds == 0) {
        if (listeners_bind(&b->amqp, defaults[0], true) < 0)
            return -1;
        if (listeners_bind(&b->amqp, defaults[1], false) < 0)
            log_warn("IPv4 only");
    } else {
        for (i = 0; i < b->cfg.nbinds; i++)
            if (listeners_bind(&b->amqp, b->cfg.binds[i], true) < 0)
                return -1;
    }
    if (init_tls(b) < 0)
        return -1;
    if (http_server_init(&b->http, b, cfg) < 0)
        return -1;
    if (https_init(&b->https, b->http, b->tls, cfg->mgmt_tls_port, cfg->mgmt_binds, cfg->nmgmt_binds) < 0)
        return -1;
    if (http_server_init_metrics(&b->metrics, b, cfg) < 0)
        return -1;
    {
        store_hooks hooks = {.ctx = b, .synced = on_store_synced, .disk_alarm = on_disk_alarm,
                             .region = on_store_region};
        store_options opt = {.disk_free_limit = cfg->disk_free_limit};
        store_recovery rec = recovery_hooks(b->vh);
        rec.auth_ctx = &b->auth;
        rec.user = auth_replay_user;
        rec.permission = auth_replay_permission;
        rec.each_auth_def = auth_each_def;
        rec.vhosts_ctx = b;
        rec.vhost = replay_vhost;
        rec.ctx_of_vhost = replay_vhost_ctx;
        rec.each_vhost = each_vhost;
        rec.limits_ctx = b;
        rec.limits = replay_limits;
        rec.each_limits = each_limits;
        delay_index_reset(cfg->data_dir); /* a cache, rebuilt by the recovery (delay_index.c) */
        if (store_open(&b->st, b->loop, cfg->data_dir, &opt, hooks, &rec) < 0)
            return -1;
        auth_db_set_store(&b->auth, b->st);
        store_defs_group_commit(b->st, true); /* before_sleep syncs them */
    }
    {
        /* the store's last_seq told "/": every vhost publishes after it */
        size_t k = 0;
        void *v;
        while (map_next(&b->vhosts, &k, NULL, NULL, &v)) {
            vhost *vh = v;
            vhost_set_store(vh, b->st);
            if (vh->next_seq < b->vh->next_seq)
                vh->next_seq = b->vh->next_seq;
            if (vh != b->vh)
                stats_seq_mark(vh, vh->next_seq, ev_wall_ms(b->loop));
        }
    }
    /* what comes from now on is published from now on (stats.c's seq clock) */
    stats_seq_mark(b->vh, b->vh->next_seq, ev_wall_ms(b->loop));
    alarm_start(&b->alarms);

    b->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (b->sigfd < 0 || ev_io_start(b->loop, &b->sig_io, b->sigfd, EPOLLIN, on_signal) < 0)
        return log_error("signalfd: %s", strerror(errno)), -1;
    if (listeners_listen(&b->amqp, b->loop) < 0)
        return -1;
    if (listeners_listen(&b->amqps, b->loop) < 0)
        return -1;
    if (b->http && http_server_listen(b->http, b->loop) < 0)
        return -1;
    if (b->https && https_listen(b->https, b->loop) < 0)
        return -1;
    if (b->metrics && http_server_listen(b->metrics, b->loop) < 0)
        return -1;
    ev_timer_init(&b->tick, on_tick);
    ev_timer_init(&b->shutdown_timer, on_shutdown_timer);
    ev_timer_start(b->loop, &b->tick, 1000);
    ev_loop_before_sleep(b->loop, before_sleep, b);
    return 0;
}

int broker_run(broker *b)
{
    log_info("warren %s ready (data in %s)", WARREN_VERSION, b->cfg.data_dir);
    /* broker_init has listened on every address: clients can connect */
    if (sdnotify("READY=1\nSTATUS=accepting connections") < 0)
        log_warn("cannot tell the service manager that warren is ready ($NOTIFY_SOCKET): %s", strerror(errno));
    if (ev_loop_run(b->loop) < 0) {
        log_error("event loop failed: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void broker_free(broker *b)
{
    while (b->conns) {
        conn *c = b->conns;
        if (c->state != CONN_DEAD)
            conn_kill(c, "shutdown");
        b->reap = NULL;
        conn_free(c);
    }
    conn_limits_free(b);
    listeners_close(&b->amqp, b->loop);
    listeners_close(&b->amqps, b->loop);
    https_free(b->https);
    b->https = NULL;
    http_server_free(b->http);
    b->http = NULL;
    http_server_free(b->metrics);
    b->metrics = NULL;
    /* detach the store first: freeing the queues must not look like acks */
    {
        store *st = b->st;
        size_t i = 0;
        void *v;
        b->st = NULL;
        drainer_free(&b->drain); /* sealed on disk already: nothing to write */
        while (map_next(&b->vhosts, &i, NULL, NULL, &v))
            drop_vhost(v);
        map_free(&b->vhosts);
        for (i = 0; i < b->ndead_vhosts; i++)
            drop_vhost(b->dead_vhosts[i]);
        free(b->dead_vhosts);
        store_close(st);
    }
    if (b->sigfd >= 0)
        close(b->sigfd);
    ev_loop_free(b->loop);
    auth_db_free(&b->auth);
    tls_server_free(b->tls);
    b->tls = NULL;
    obuf_release_cache();
    log_info("stopped");
}
