/*
 * consumer.c - one consuming connection on its own thread.
 *
 * Each read takes up to 256 KiB; every complete frame in it is handled in
 * place, without copying anything but the 16-byte head of each body, and
 * the acks it causes are appended to the output buffer and written once
 * per read.  The clock is read once per read too: every message in a read
 * arrived, as far as we can know, at that moment.
 *
 * A delivery is three or more frames: basic.deliver, the content header,
 * then body frames until body_size bytes have come; `state` follows that.
 * When a message is complete it is checked against the run (perf.h):
 * stamped before the run started -> stale (left in the queue by an earlier
 * run); unknown producer -> foreign; else its latency is recorded, its
 * sequence number marked in the producer's bitmap (first time -> unique,
 * again -> duplicate), and compared with the last one this consumer saw
 * from that producer (lower -> reordered).
 *
 * Acks: one basic.ack per message by default; with --multi-ack N one
 * multiple=true ack every N messages, or sooner when the prefetch window
 * is full or nothing has arrived for ACK_IDLE_NS, so that a partial batch
 * cannot stall the broker.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

#define RPC_MS 15000
#define ACK_IDLE_NS 20000000      /* 20 ms */
#define ACK_FRAME_SIZE 21         /* basic.ack: 7 + 4 + 8 + 1 + 1 */

enum { ST_METHOD, ST_HEADER, ST_BODY };

static int setup(consumer *k, uint8_t *ack_tmpl)
{
    perf_run *run = k->run;
    pconn *c = &k->c;
    amqp_method_args a;
    char name[64];
    int r;

    snprintf(name, sizeof name, "warren-perf consumer %d", k->id);
    r = pconn_open(c, &run->url, name, run->con_stopfd);
    if (r == PERF_OK && run->o.prefetch) {
        amqp_basic_qos q = {.prefetch_count = run->o.prefetch};
        r = pconn_rpc(c, AMQP_BASIC_QOS, &q, AMQP_BASIC_QOS_OK, &a, RPC_MS);
    }
    if (r == PERF_OK) {
        amqp_basic_consume bc = {.queue = amqp_cstr(run->queue), .no_ack = run->o.autoack};
        r = pconn_rpc(c, AMQP_BASIC_CONSUME, &bc, AMQP_BASIC_CONSUME_OK, &a, RPC_MS);
    }
    if (r == PERF_OK) {
        amqp_basic_ack ack = {.delivery_tag = 0, .multiple = false};
        if (amqp_write_method(ack_tmpl, ACK_FRAME_SIZE, PCONN_CHANNEL, AMQP_BASIC_ACK, &ack)
            != ACK_FRAME_SIZE) {
            snprintf(c->err, sizeof c->err, "cannot encode basic.ack");
            return PERF_EPROTO;
        }
    }
    if (r == PERF_OK && run->o.producers) {
        k->last_seq = malloc((size_t)run->o.producers * sizeof *k->last_seq);
        if (!k->last_seq)
            return PERF_ENOMEM;
        for (int i = 0; i < run->o.producers; i++)
            k->last_seq[i] = UINT64_MAX;
    }
    return r;
}

/* Append basic.ack(tag, multiple): the codec's encoding of it, patched. */
static int ack(consumer *k, const uint8_t *tmpl, uint64_t tag, bool multiple)
{
    uint8_t *p = pconn_reserve(&k->c, ACK_FRAME_SIZE);

    if (!p)
        return PERF_ENOMEM;
    memcpy(p, tmpl, ACK_FRAME_SIZE);
    amqp_put64(p + AMQP_FRAME_HEADER_SIZE + 4, tag);
    p[AMQP_FRAME_HEADER_SIZE + 12] = multiple ? 1 : 0;
    k->c.out_len += ACK_FRAME_SIZE;
    k->unacked = 0;
    return PERF_OK;
}

static int on_message(consumer *k, const uint8_t *tmpl, uint64_t now)
{
    perf_run *run = k->run;
    const perf_opts *o = &run->o;
    uint64_t seq, ts;
    unsigned pid;
    int r = PERF_OK;

    perf_add(&k->received, 1);
    perf_set(&k->t_last, now);
    if (!o->autoack) {
        k->last_tag = k->tag;
        k->unacked++;
        if (!o->multi_ack)
            r = ack(k, tmpl, k->tag, false);
        else if (k->unacked >= o->multi_ack || (o->prefetch && k->unacked >= o->prefetch))
            r = ack(k, tmpl, k->tag, true);
    }
    if (k->body_size < PERF_HEAD) {
        perf_add(&k->foreign, 1);
        return r;
    }
    pid = amqp_get16(k->head);
    seq = (uint64_t)amqp_get16(k->head + 2) << 32 | amqp_get32(k->head + 4);
    ts = amqp_get64(k->head + 8);
    if (!o->producers) {
        /* consume-only run: nothing to check the sequence against */
        if (ts <= now)
            hist_record(&k->lat, now - ts);
        return r;
    }
    if (ts < run->epoch || ts > now) {
        perf_add(&k->stale, 1);
        return r;
    }
    if (pid >= (unsigned)o->producers) {
        perf_add(&k->foreign, 1);
        return r;
    }
    /* --delay: how late it came, not how long it was held */
    hist_record(&k->lat, now - ts > (uint64_t)o->delay_ms * 1000000 ? now - ts - (uint64_t)o->delay_ms * 1000000 : 0);
    switch (seqtrack_mark(&run->track[pid], seq)) {
    case 1:
        perf_add(&k->unique, 1);
        if (k->last_seq[pid] != UINT64_MAX && seq < k->last_seq[pid])
            perf_add(&k->reordered, 1);
        else
            k->last_seq[pid] = seq;
        break;
    case 0:
        perf_add(&k->dups, 1);
        break;
    default:
        perf_add(&k->foreign, 1);
    }
    return r;
}

static int bad_frame(consumer *k, const amqp_frame *f)
{
    snprintf(k->c.err, sizeof k->c.err, "frame of type %u out of place in a delivery", f->type);
    return PERF_EPROTO;
}

static int handle_input(consumer *k, const uint8_t *tmpl, uint64_t now)
{
    pconn *c = &k->c;
    amqp_content_header h;
    amqp_method_args a;
    amqp_frame f;
    uint32_t id;
    int r;

    while ((r = pconn_frame(c, &f)) > 0) {
        switch (f.type) {
        case AMQP_FRAME_METHOD:
            if (k->state != ST_METHOD)
                return bad_frame(k, &f);
            if ((r = amqp_method_frame_decode(&f, &id, &a)) < 0) {
                snprintf(c->err, sizeof c->err, "cannot decode a method from the server: %s",
                         amqp_strerror(r));
                return PERF_EPROTO;
            }
            if (id == AMQP_BASIC_DELIVER) {
                k->tag = a.basic_deliver.delivery_tag;
                k->state = ST_HEADER;
                break;
            }
            if ((r = pconn_common(c, &f, id, &a)) < 0)
                return r;
            if (r > 0)
                break;
            if (id == AMQP_BASIC_CANCEL)
                snprintf(c->err, sizeof c->err, "the server cancelled the consumer "
                         "(queue %s deleted?)", k->run->queue);
            else
                snprintf(c->err, sizeof c->err, "unexpected %s from the server",
                         amqp_method_name(id));
            return PERF_EPROTO;
        case AMQP_FRAME_HEADER:
            if (k->state != ST_HEADER)
                return bad_frame(k, &f);
            if ((r = amqp_content_header_parse(&f, &h)) < 0) {
                snprintf(c->err, sizeof c->err, "bad content header: %s", amqp_strerror(r));
                return PERF_EPROTO;
            }
            k->body_size = k->body_left = h.body_size;
            k->head_len = 0;
            k->state = ST_BODY;
            if (h.body_size == 0) {
                k->state = ST_METHOD;
                if ((r = on_message(k, tmpl, now)) < 0)
                    return r;
            }
            break;
        case AMQP_FRAME_BODY:
            if (k->state != ST_BODY || f.size > k->body_left)
                return bad_frame(k, &f);
            if (k->head_len < PERF_HEAD) {
                uint32_t take = PERF_HEAD - k->head_len;
                if (take > f.size)
                    take = f.size;
                memcpy(k->head + k->head_len, f.payload, take);
                k->head_len += take;
            }
            k->body_left -= f.size;
            if (k->body_left == 0) {
                k->state = ST_METHOD;
                if ((r = on_message(k, tmpl, now)) < 0)
                    return r;
            }
            break;
        default:   /* heartbeat */
            if ((r = pconn_common(c, &f, 0, NULL)) < 0)
                return r;
        }
    }
    return r;
}

static int consume_loop(consumer *k, const uint8_t *tmpl)
{
    perf_run *run = k->run;
    pconn *c = &k->c;
    long r;

    if ((r = pconn_set_blocking_reads(c, 50000000)) < 0)
        return (int)r;
    while (!atomic_load_explicit(&run->stop_consume, memory_order_relaxed)) {
        bool progress = false;
        if ((r = pconn_fill(c)) < 0)
            return (int)r;
        if (r > 0) {
            progress = true;
            if ((r = handle_input(k, tmpl, perf_now())) < 0)
                return (int)r;
        }
        if (pconn_pending(c)) {
            if ((r = pconn_flush(c)) < 0)
                return (int)r;
            progress |= r > 0;
        }
        /* After a short read the socket is empty: go straight to poll()
         * rather than pay for a read that would only say so.  Each wakeup
         * is what a consumer costs, so it should not cost three calls. */
        if (progress && !c->drained)
            continue;
        if (!pconn_pending(c) && !k->unacked) {
            /* nothing to send, nothing to ack later: sleep in recv itself */
            if ((r = pconn_fill_wait(c)) < 0)
                return (int)r;
            if (r > 0 && (r = handle_input(k, tmpl, perf_now())) < 0)
                return (int)r;
            continue;
        }
        int ev = PCONN_IN | PCONN_STOP | (pconn_pending(c) ? PCONN_OUT : 0);
        if ((r = pconn_wait(c, ev, k->unacked ? ACK_IDLE_NS : -1)) < 0)
            return (int)r;
        if (r == 0 && k->unacked && (r = ack(k, tmpl, k->last_tag, true)) < 0)
            return (int)r;
    }
    /* what we were given, we keep: ack the rest before closing */
    if (k->unacked)
        return ack(k, tmpl, k->last_tag, true);
    return PERF_OK;
}

/* Read what one ready connection has and answer it; < 0 on failure. */
static int serve(consumer *k)
{
    pconn *c = &k->c;
    long r;

    do {
        if ((r = pconn_fill(c)) < 0)
            return (int)r;
        if (r > 0 && (r = handle_input(k, k->ack_tmpl, perf_now())) < 0)
            return (int)r;
    } while (r > 0 && !c->drained);
    if (pconn_pending(c) && (r = pconn_flush(c)) < 0)
        return (int)r;
    return PERF_OK;
}

/* Several consumers on one thread: one ppoll() for all of them, then a read
 * (and the acks it causes, in one write) for each connection that is ready.
 * When the broker answers several consumers in one turn, this thread wakes
 * once for all of them rather than each consumer's thread waking alone. */
static int group_loop(cgroup *g, int *failed)
{
    perf_run *run = g->run;
    struct pollfd pfd[g->n + 1];
    int i, r;

    for (i = 0; i < g->n; i++)
        pfd[i].fd = g->k[i]->c.fd;
    pfd[g->n].fd = run->con_stopfd;
    pfd[g->n].events = POLLIN;
    while (!atomic_load_explicit(&run->stop_consume, memory_order_relaxed)) {
        bool unacked = false;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = ACK_IDLE_NS};
        for (i = 0; i < g->n; i++) {
            consumer *k = g->k[i];
            pfd[i].events = (short)(POLLIN | (pconn_pending(&k->c) ? POLLOUT : 0));
            pfd[i].revents = 0;
            unacked |= k->unacked > 0;
        }
        pfd[g->n].revents = 0;
        int n = ppoll(pfd, (nfds_t)g->n + (run->con_stopfd >= 0), unacked ? &ts : NULL, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *failed = 0;
            snprintf(g->k[0]->c.err, sizeof g->k[0]->c.err, "poll: %s", strerror(errno));
            return PERF_EIO;
        }
        uint64_t now = unacked ? perf_now() : 0;
        for (i = 0; i < g->n; i++) {
            consumer *k = g->k[i];
            if (pfd[i].revents)
                r = serve(k);
            else if (k->unacked && now - perf_get(&k->t_last) >= ACK_IDLE_NS)
                /* a partial multi-ack batch has waited long enough */
                r = ack(k, k->ack_tmpl, k->last_tag, true) < 0 ? PERF_ENOMEM : serve(k);
            else
                continue;
            if (r < 0) {
                *failed = i;
                return r;
            }
        }
    }
    for (i = 0; i < g->n; i++) {
        consumer *k = g->k[i];
        if (k->unacked && (r = ack(k, k->ack_tmpl, k->last_tag, true)) < 0) {
            *failed = i;
            return r;
        }
    }
    return PERF_OK;
}

void *consumer_main(void *arg)
{
    cgroup *g = arg;
    perf_run *run = g->run;
    struct timespec cpu;
    int i, r = PERF_OK, failed = 0;
    char name[32];

    snprintf(name, sizeof name, "consumers %d", g->k[0]->id);
    pthread_setname_np(pthread_self(), name);
    for (i = 0; i < g->n && r == PERF_OK; i++) {
        if ((r = setup(g->k[i], g->k[i]->ack_tmpl)) < 0)
            perf_fail(run, "consumer", g->k[i]->id, &g->k[i]->c, r);
    }
    pthread_barrier_wait(&run->start);
    if (r == PERF_OK && !atomic_load(&run->failed)) {
        if (g->n == 1)
            r = consume_loop(g->k[0], g->k[0]->ack_tmpl);
        else
            r = group_loop(g, &failed);
        if (r < 0)
            perf_fail(run, "consumer", g->k[failed]->id, &g->k[failed]->c, r);
    }
    for (i = 0; i < g->n; i++)
        pconn_close(&g->k[i]->c, 5000);
    /* the thread's CPU, shared out evenly among its consumers */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    for (i = 0; i < g->n; i++)
        perf_set(&g->k[i]->cpu_ns, ((uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec) / (uint64_t)g->n);
    return NULL;
}
