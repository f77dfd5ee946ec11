/*
 * producer.c - one publishing connection on its own thread.
 *
 * A whole message (basic.publish method frame, content header frame, body
 * frames split at frame_max) is encoded once, with the codec, into a
 * template.  Publishing N messages is then N copies of the template into
 * the connection's output buffer, each patched with its 16-byte body head
 * (producer id, sequence number, timestamp; see perf.h), and one write()
 * for the lot: about 64 KiB per system call, whatever the message size.
 *
 * The loop never blocks on one thing while another is pending: it fills
 * when the output buffer is empty and the window, rate and count allow,
 * writes without blocking, reads confirms without blocking, and sleeps in
 * poll() only when none of those made progress.
 *
 * Confirms: the delivery tag of a publish is its sequence number + 1 (one
 * channel, every publish ours).  `ring` holds the publish time of each tag
 * in [low_tag, next_tag), 0 once settled, so an ack or nack - single or
 * multiple, in any order - settles its tags and yields confirm latency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

#define OUT_BATCH (64u * 1024)     /* bytes of publishes per write */
#define PACE_NS 1000000            /* under --rate, wake at most every 1 ms */
#define RPC_MS 15000

static int build_template(producer *p)
{
    perf_run *run = p->run;
    pconn *c = &p->c;
    amqp_basic_publish pub = {
        .exchange = amqp_cstr(run->o.exchange),
        .routing_key = amqp_cstr(run->routing_key),
    };
    amqp_basic_properties props = {
        .flags = AMQP_BASIC_DELIVERY_MODE_FLAG,
        .delivery_mode = run->o.persistent ? 2 : 1,
    };
    uint8_t pbuf[64];
    amqp_tbuf hb = {0};
    size_t plen;
    if (run->o.delay_ms) {
        /* --delay: the delayed-message exchange's header */
        amqp_tbuf_long(&hb, "x-delay", run->o.delay_ms);
        if (hb.oom)
            return PERF_ENOMEM;
        props.flags |= AMQP_BASIC_HEADERS_FLAG;
        props.headers = amqp_tbuf_done(&hb);
    }
    plen = (size_t)(amqp_basic_properties_encode(pbuf, &props) - pbuf);
    amqp_tbuf_free(&hb);
    size_t chunk = c->frame_max - AMQP_FRAME_OVERHEAD;
    size_t size = run->o.size, nframes = (size + chunk - 1) / chunk;
    size_t mlen = amqp_method_frame_size(AMQP_BASIC_PUBLISH, &pub);
    size_t hlen = AMQP_FRAME_OVERHEAD + 12 + plen;
    size_t total = mlen + hlen + size + nframes * AMQP_FRAME_OVERHEAD;
    uint8_t *t = calloc(1, total), *q;
    long r;

    if (!t)
        return PERF_ENOMEM;
    r = amqp_write_method(t, total, PCONN_CHANNEL, AMQP_BASIC_PUBLISH, &pub);
    if (r > 0)
        r = amqp_write_header(t + mlen, total - mlen, PCONN_CHANNEL, AMQP_BASIC_CLASS, size, pbuf, plen);
    if (r < 0) {
        free(t);
        snprintf(c->err, sizeof c->err, "cannot encode the publish: %s", amqp_strerror((int)r));
        return PERF_EPROTO;
    }
    q = t + mlen + hlen;
    p->head_off = (size_t)(q - t) + AMQP_FRAME_HEADER_SIZE;
    for (size_t left = size; left;) {
        size_t n = left < chunk ? left : chunk;
        q = amqp_put_frame_header(q, AMQP_FRAME_BODY, PCONN_CHANNEL, (uint32_t)n);
        q += n;                       /* zero padding, from calloc */
        *q++ = AMQP_FRAME_END;
        left -= n;
    }
    p->tmpl = t;
    p->tmpl_len = total;
    if (run->o.delay_spread) {
        /* the header's value, a long-long ('l') after its name */
        static const uint8_t key[] = "\x07x-delay";
        for (size_t i = mlen; i + sizeof key + 8 <= mlen + hlen; i++)
            if (!memcmp(t + i, key, sizeof key - 1) && t[i + sizeof key - 1] == 'l') {
                p->delay_off = i + sizeof key;
                break;
            }
        p->rnd = 0x9e3779b97f4a7c15ull * (uint64_t)(p->id + 1);
        if (!p->delay_off) {
            snprintf(c->err, sizeof c->err, "--delay-spread needs --delay");
            return PERF_EPROTO;
        }
    }
    return PERF_OK;
}

static int setup(producer *p)
{
    perf_run *run = p->run;
    char name[64];
    int r;

    snprintf(name, sizeof name, "producer %d", p->id);
    pthread_setname_np(pthread_self(), name);
    snprintf(name, sizeof name, "warren-perf producer %d", p->id);
    r = pconn_open(&p->c, &run->url, name, run->pub_stopfd);
    if (r == PERF_OK)
        r = build_template(p);
    if (r == PERF_OK && run->o.confirm) {
        amqp_confirm_select cs = {.nowait = false};
        amqp_method_args a;
        uint64_t size = 1;
        while (size < run->o.confirm)
            size <<= 1;
        p->ring = calloc(size, sizeof *p->ring);
        if (!p->ring)
            return PERF_ENOMEM;
        p->ring_mask = size - 1;
        r = pconn_rpc(&p->c, AMQP_CONFIRM_SELECT, &cs, AMQP_CONFIRM_SELECT_OK, &a, RPC_MS);
    }
    p->low_tag = p->next_tag = 1;
    return r;
}

/* How many messages may be built now. */
static uint64_t budget(producer *p, uint64_t sent, uint64_t now)
{
    const perf_opts *o = &p->run->o;
    uint64_t n = OUT_BATCH / p->tmpl_len;

    if (n == 0)
        n = 1;
    if (o->count && o->count - sent < n)
        n = o->count - sent;
    if (o->confirm) {
        uint64_t out = p->next_tag - p->low_tag;
        n = out >= o->confirm ? 0 : (o->confirm - out < n ? o->confirm - out : n);
    }
    if (o->rate > 0) {
        /* message k is due at rate_t0 + (k - rate_n0) / rate; after a
         * stall, catch up at most one second's worth */
        uint64_t due = p->rate_n0 + (uint64_t)(((double)now - p->rate_t0) * o->rate / 1e9) + 1;
        if (due > sent + (uint64_t)o->rate + 1) {
            p->rate_t0 = (double)now;
            p->rate_n0 = sent;
            due = sent + 1;
        }
        if (due <= sent)
            return 0;
        /* one write per PACE_NS, unless a whole batch is due */
        if (now - p->last_fill < PACE_NS && due - sent < n)
            return 0;
        n = due - sent < n ? due - sent : n;
        p->last_fill = now;
    }
    return n;
}

/* ns until the next write under --rate (-1: no rate): when the next
 * message is due, but not sooner than PACE_NS after the last write, so
 * that at high rates what came due meanwhile goes out in one write instead
 * of one wakeup and one write per message.  Confirms are still read as
 * soon as they come, so confirm latency stays exact. */
static int64_t rate_wait(const producer *p, uint64_t sent, uint64_t now)
{
    double rate = p->run->o.rate, at;
    uint64_t pace = p->last_fill + PACE_NS;

    if (rate <= 0)
        return -1;
    at = p->rate_t0 + (double)(sent - p->rate_n0) * 1e9 / rate;
    if (at < (double)pace)
        at = (double)pace;
    return at > (double)now ? (int64_t)(at - (double)now) + 1 : 0;
}

static int fill(producer *p, uint64_t seq, uint64_t n, uint64_t now)
{
    pconn *c = &p->c;
    uint8_t *d = pconn_reserve(c, n * p->tmpl_len);

    if (!d)
        return PERF_ENOMEM;
    for (uint64_t i = 0; i < n; i++, seq++) {
        uint8_t *h = d + p->head_off;
        memcpy(d, p->tmpl, p->tmpl_len);
        h = amqp_put16(h, (uint16_t)p->id);
        h = amqp_put16(h, (uint16_t)(seq >> 32));
        h = amqp_put32(h, (uint32_t)seq);
        amqp_put64(h, now);
        if (p->delay_off) {
            p->rnd ^= p->rnd << 13;
            p->rnd ^= p->rnd >> 7;
            p->rnd ^= p->rnd << 17;
            amqp_put64(d + p->delay_off, p->run->o.delay_ms + p->rnd % ((uint64_t)p->run->o.delay_spread + 1));
        }
        d += p->tmpl_len;
    }
    c->out_len += n * p->tmpl_len;
    if (p->ring) {
        for (uint64_t i = 0; i < n; i++)
            p->ring[p->next_tag++ & p->ring_mask] = now;
    }
    return PERF_OK;
}

static void settle(producer *p, uint64_t tag, bool nack, uint64_t now)
{
    uint64_t *slot = &p->ring[tag & p->ring_mask];

    if (!*slot)
        return;            /* settled already */
    if (nack) {
        perf_add(&p->nacked, 1);
    } else {
        perf_add(&p->confirmed, 1);
        hist_record(&p->confirm_lat, now - *slot);
    }
    *slot = 0;
}

static int on_confirm(producer *p, uint64_t tag, bool multiple, bool nack, uint64_t now)
{
    pconn *c = &p->c;

    if (!p->ring) {
        snprintf(c->err, sizeof c->err, "a %s arrived but confirms are off", nack ? "nack" : "ack");
        return PERF_EPROTO;
    }
    if (multiple && tag == 0)
        tag = p->next_tag - 1;
    if (tag >= p->next_tag || tag == 0) {
        snprintf(c->err, sizeof c->err, "the server confirmed delivery tag %llu, but only %llu "
                 "messages were published", (unsigned long long)tag,
                 (unsigned long long)(p->next_tag - 1));
        return PERF_EPROTO;
    }
    if (multiple) {
        for (uint64_t t = p->low_tag; t <= tag; t++)
            settle(p, t, nack, now);
    } else if (tag >= p->low_tag) {
        settle(p, tag, nack, now);
    }
    while (p->low_tag < p->next_tag && p->ring[p->low_tag & p->ring_mask] == 0)
        p->low_tag++;
    return PERF_OK;
}

static int handle_input(producer *p)
{
    pconn *c = &p->c;
    uint64_t now = perf_now();
    amqp_method_args a;
    amqp_frame f;
    uint32_t id;
    int r;

    while ((r = pconn_frame(c, &f)) > 0) {
        id = 0;
        if (f.type == AMQP_FRAME_METHOD && (r = amqp_method_frame_decode(&f, &id, &a)) < 0) {
            snprintf(c->err, sizeof c->err, "cannot decode a method from the server: %s",
                     amqp_strerror(r));
            return PERF_EPROTO;
        }
        if ((r = pconn_common(c, &f, id, &a)) < 0)
            return r;
        if (r > 0 || f.type != AMQP_FRAME_METHOD)
            continue;      /* handled, or the content of a basic.return */
        switch (id) {
        case AMQP_BASIC_ACK:
            r = on_confirm(p, a.basic_ack.delivery_tag, a.basic_ack.multiple, false, now);
            break;
        case AMQP_BASIC_NACK:
            r = on_confirm(p, a.basic_nack.delivery_tag, a.basic_nack.multiple, true, now);
            break;
        case AMQP_BASIC_RETURN:
            r = PERF_OK;   /* we never ask for mandatory: not expected, harmless */
            break;
        default:
            snprintf(c->err, sizeof c->err, "unexpected %s from the server", amqp_method_name(id));
            r = PERF_EPROTO;
        }
        if (r < 0)
            return r;
    }
    perf_set(&p->blocked_count, c->blocked_count);
    perf_set(&p->blocked_ns, c->blocked_ns + (c->blocked ? now - c->blocked_since : 0));
    return r;
}

static int publish_loop(producer *p)
{
    perf_run *run = p->run;
    const perf_opts *o = &run->o;
    pconn *c = &p->c;
    uint64_t sent = 0, stop_at = 0;
    bool stopping = false;
    long r;

    p->rate_t0 = (double)run->t0;
    p->rate_n0 = 0;
    for (;;) {
        uint64_t now = perf_now(), n;
        bool progress = false;

        if (!stopping && ((o->count && sent >= o->count) ||
                          atomic_load_explicit(&run->stop_publish, memory_order_relaxed))) {
            stopping = true;
            stop_at = now;
        }
        if (!stopping && !c->blocked && pconn_pending(c) == 0 && (n = budget(p, sent, now))) {
            if ((r = fill(p, sent, n, now)) < 0)
                return (int)r;
            sent += n;
            perf_set(&p->published, sent);
            perf_set(&p->t_end, now);
            progress = true;
        }
        if (pconn_pending(c)) {
            if ((r = pconn_flush(c)) < 0)
                return (int)r;
            progress |= r > 0;
        }
        if ((r = pconn_fill(c)) < 0)
            return (int)r;
        if (r > 0) {
            progress = true;
            if ((r = handle_input(p)) < 0)
                return (int)r;
        }
        if (stopping && pconn_pending(c) == 0 && p->low_tag == p->next_tag)
            return PERF_OK;
        if (progress)
            continue;

        int64_t timeout = -1;
        if (stopping) {
            uint64_t limit = (uint64_t)(o->drain_timeout * 1e9);
            if (now - stop_at >= limit) {
                snprintf(c->err, sizeof c->err, "%llu publishes still unconfirmed %.0f s after "
                         "the last one", (unsigned long long)(p->next_tag - p->low_tag),
                         o->drain_timeout);
                return PERF_ETIMEOUT;
            }
            timeout = (int64_t)(limit - (now - stop_at));
        } else if (!c->blocked && pconn_pending(c) == 0 &&
                   !(o->confirm && p->next_tag - p->low_tag >= o->confirm)) {
            timeout = rate_wait(p, sent, now);   /* only the rate holds us back */
        }
        int ev = PCONN_IN | (pconn_pending(c) ? PCONN_OUT : 0) | (stopping ? 0 : PCONN_STOP);
        if ((r = pconn_wait(c, ev, timeout)) < 0)
            return (int)r;
    }
}

void *producer_main(void *arg)
{
    producer *p = arg;
    perf_run *run = p->run;
    struct timespec cpu;
    int r = setup(p);

    if (r < 0)
        perf_fail(run, "producer", p->id, &p->c, r);
    pthread_barrier_wait(&run->start);
    if (r == PERF_OK && !atomic_load(&run->failed)) {
        r = publish_loop(p);
        if (r < 0)
            perf_fail(run, "producer", p->id, &p->c, r);
    }
    /* close-ok also says the server has taken every publish we wrote, and
     * a broker with a backlog may need a while to get to it: closing the
     * socket sooner would make the kernel reset the connection and the
     * server drop what it had not read yet */
    int closed = pconn_close(&p->c, (int)(run->o.drain_timeout * 1000) + 60000);
    if (r == PERF_OK && closed < 0)
        perf_fail(run, "producer", p->id, &p->c, closed);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    perf_set(&p->cpu_ns, (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec);
    atomic_store(&p->finished, true);
    return NULL;
}
