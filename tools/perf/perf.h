/*
 * perf.h - warren-perf, an AMQP 0-9-1 load generator (see doc/perf.md).
 *
 * The program is a handful of threads around one shared `perf_run`:
 *
 *   main.c      options, the setup connection (queue declare / delete), the
 *               once-a-second progress line, the decision to stop, the
 *               summary and the RESULT line.
 *   conn.c      a tiny AMQP client on warren's sans-IO codec: URL, socket,
 *               handshake (PLAIN), synchronous methods, buffered frame I/O.
 *   producer.c  one thread and one connection per producer: publishes built
 *               from a template straight into a large output buffer, many per
 *               write(); confirms with a window; a paced rate.
 *   consumer.c  one connection per consumer, on one thread each or several
 *               to a thread (--consumer-threads): 256 KiB reads, deliveries
 *               parsed in place, acks batched (or multiple=true).
 *   hist.c      fixed-memory log-bucket latency histograms.
 *   track.c     per-producer bitmaps of sequence numbers seen: loss and
 *               duplicates, exactly.
 *
 * Message body layout (big-endian, the first PERF_HEAD bytes of every body;
 * the rest is zero padding up to --size):
 *
 *   0   u16  producer id (0-based, within this run)
 *   2   u48  sequence number within that producer, from 0
 *   8   u64  CLOCK_MONOTONIC nanoseconds when the message was built
 *
 * Producers and consumers are threads of one process, so the timestamp
 * gives end-to-end latency directly; CLOCK_MONOTONIC is machine-wide, so a
 * consumer-only run on the same machine still measures it.
 *
 * Sharing between threads: every counter and histogram has exactly one
 * writer (its thread), which updates it with relaxed atomic load/store (a
 * plain move on x86, no lock); the main thread only reads them.  The only
 * read-modify-write atomics are the sequence bitmaps, which several
 * consumers of one queue may share.
 */
#ifndef WARREN_PERF_H
#define WARREN_PERF_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "amqp/frame.h"
#include "amqp/table.h"

#define PERF_HEAD 16            /* bytes of the body header above */
#define PERF_MAX_PRODUCERS 65535
#define PERF_SEQ_MAX ((UINT64_C(1) << 48) - 1)

/* ---- time and single-writer counters ---------------------------------- */

static inline uint64_t perf_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef _Atomic uint64_t perf_ctr;

/* Only the owning thread calls these; others use perf_get(). */
static inline void perf_add(perf_ctr *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void perf_set(perf_ctr *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline uint64_t perf_get(const perf_ctr *c)
{
    return atomic_load_explicit((perf_ctr *)c, memory_order_relaxed);
}

/* ---- hist.c: latency histograms ---------------------------------------- */

/* HDR-style buckets: values below 128 ns are exact, above that each power
 * of two is split in 64, so a bucket is within 1.6% of any value in it.
 * Values are clamped near 2^41 ns (36 minutes). */
#define HIST_SUB 64
#define HIST_MAX_SHIFT 34
#define HIST_BUCKETS ((HIST_MAX_SHIFT + 2) * HIST_SUB)

/* Written by one thread, read by any. */
typedef struct hist {
    perf_ctr n[HIST_BUCKETS];
    perf_ctr count, sum, max;
} hist;

/* A plain copy, for merging and percentiles. */
typedef struct hist_snap {
    uint64_t n[HIST_BUCKETS];
    uint64_t count, sum, max;
} hist_snap;

void hist_record(hist *h, uint64_t ns);
/* dst += the current contents of src. */
void hist_snap_add(hist_snap *dst, const hist *src);
/* dst = a - b (counts only; max is a's). */
void hist_snap_diff(hist_snap *dst, const hist_snap *a, const hist_snap *b);
/* The value at quantile q (0..1), in ns; 0 when empty. */
uint64_t hist_snap_quantile(const hist_snap *s, double q);

/* ---- track.c: sequence numbers seen ------------------------------------ */

/* One bit per sequence number of one producer, in 128 KiB chunks allocated
 * on first use, so memory follows the messages actually sent. */
typedef struct seqtrack {
    _Atomic(_Atomic uint64_t *) *chunk;
    size_t nchunks;
} seqtrack;

int seqtrack_init(seqtrack *t);
void seqtrack_free(seqtrack *t);
/* Mark seq seen: 1 the first time, 0 for a duplicate, -1 when seq is out of
 * range or memory ran out.  Safe from several threads at once. */
int seqtrack_mark(seqtrack *t, uint64_t seq);

/* ---- conn.c: the AMQP client ------------------------------------------- */

typedef struct perf_url {
    char host[256];
    char port[16];
    char user[256];
    char pass[256];
    char vhost[256];
    bool tls;               /* amqps:// */
} perf_url;

/* Parse amqp://user:pass@host:port/vhost (percent-decoded; an empty or "/"
 * path is the default vhost "/", like pika).  0 or -1 with err set. */
int perf_url_parse(const char *s, perf_url *u, char *err, size_t errlen);
/* amqps://: the TLS client context every connection uses, made once before
 * the threads start.  cacert NULL: the broker's certificate is not checked
 * (a load generator's shortcut, said in --help); cert/key: a client
 * certificate.  0 or -1 with err set. */
int perf_tls_setup(const char *cacert, const char *cert, const char *key, char *err, size_t errlen);

enum perf_status {
    PERF_OK = 0,
    PERF_EIO = -1,       /* socket error */
    PERF_EEOF = -2,      /* server closed the socket */
    PERF_ECLOSED = -3,   /* server sent connection.close or channel.close */
    PERF_EPROTO = -4,    /* bytes that are not AMQP, or an unexpected method */
    PERF_ESTOP = -5,     /* interrupted while waiting */
    PERF_ETIMEOUT = -6,
    PERF_ENOMEM = -7,
    PERF_ECONNECT = -8,  /* could not connect */
};

typedef struct pconn {
    int fd;
    void *ssl;              /* the TLS session (OpenSSL's SSL *) on amqps://, else NULL */
    int64_t read_wait_ns;   /* TLS: how long pconn_fill_wait waits (pconn_set_blocking_reads) */
    int stopfd;             /* eventfd that interrupts waits, or -1 */
    uint32_t frame_max;
    uint8_t *in;            /* unparsed input is [in_start, in_end) */
    size_t in_cap, in_start, in_end;
    uint8_t *out;           /* unsent output is [out_off, out_len) */
    size_t out_cap, out_off, out_len;
    bool closed;            /* the server closed the connection (close-ok sent) */
    bool channel_closed;    /* the server closed channel 1 (close-ok sent) */
    bool drained;           /* the last read took all the socket had */
    bool blocked;           /* connection.blocked in force */
    uint64_t blocked_since, blocked_ns, blocked_count;
    int reply_code;         /* of a close from the server, else 0 */
    char err[512];
} pconn;

#define PCONN_CHANNEL 1     /* every connection uses one channel */

/* Connect, handshake (PLAIN), open channel 1.  name goes into the client
 * properties as connection_name.  stopfd (or -1) interrupts the waits. */
int pconn_open(pconn *c, const perf_url *u, const char *name, int stopfd);
/* Close politely (connection.close, wait for close-ok, at most timeout_ms)
 * and free everything.  Safe on a connection that failed to open.  Returns
 * PERF_OK when close-ok came (the server has handled all we sent before),
 * else why not (c->err set). */
int pconn_close(pconn *c, int timeout_ms);

/* Room for n more output bytes (growing the buffer); NULL when out of memory.
 * The caller writes there and then adds n to out_len. */
uint8_t *pconn_reserve(pconn *c, size_t n);
int pconn_send_method(pconn *c, uint16_t channel, uint32_t id, const void *args);
/* Write what is pending without blocking: bytes written (maybe 0) or < 0. */
long pconn_flush(pconn *c);
static inline size_t pconn_pending(const pconn *c)
{
    return c->out_len - c->out_off;
}
/* One non-blocking read: bytes read, 0 when none are ready, < 0 (EOF too).
 * Sets c->drained when the read did not fill the space it was offered:
 * then the socket is very likely empty, and the next read can wait. */
long pconn_fill(pconn *c);
/* Make reads block (up to timeout_ns, then 0 bytes) so a consumer waiting
 * for its next delivery sleeps in recv itself: one syscall per wake-up
 * instead of poll + recv.  Writes stay non-blocking (MSG_DONTWAIT). */
int pconn_set_blocking_reads(pconn *c, int64_t timeout_ns);
/* As pconn_fill, but waits for data (up to the timeout set above). */
long pconn_fill_wait(pconn *c);
/* The next complete frame from the input: 1, 0 when more bytes are needed,
 * < 0 for bytes that are not a frame.  The payload lives until the next fill. */
int pconn_frame(pconn *c, amqp_frame *f);

#define PCONN_IN 1
#define PCONN_OUT 2
#define PCONN_STOP 4
/* poll() for the events asked (PCONN_IN/OUT, plus the stop fd when
 * PCONN_STOP is asked), at most timeout_ns (< 0: no limit).  Returns the
 * events that happened (0 on timeout) or < 0. */
int pconn_wait(pconn *c, int events, int64_t timeout_ns);

/* The methods every loop must react to the same way: connection.close and
 * channel.close (answered, then PERF_ECLOSED with c->err set),
 * connection.blocked / unblocked (tracked in c->blocked), heartbeats
 * (answered).  Returns 1 when it handled the frame, 0 when the caller
 * should, < 0 on failure. */
int pconn_common(pconn *c, const amqp_frame *f, uint32_t id, const amqp_method_args *a);

/* Send a synchronous method on channel 1 and wait for `reply` (its arguments
 * into *out, views into the input buffer), handling the common methods
 * meanwhile.  Bytes after the reply stay buffered. */
int pconn_rpc(pconn *c, uint32_t id, const void *args, uint32_t reply, amqp_method_args *out,
              int timeout_ms);

const char *perf_strerror(int status);

/* ---- the run ------------------------------------------------------------ */

typedef struct perf_opts {
    const char *url;
    uint64_t count;         /* messages per producer (0: no limit) */
    double duration;        /* seconds (0: no limit) */
    int producers, consumers;
    uint32_t size;
    bool persistent;
    uint32_t delay_ms;      /* --delay: x-delay header; latency recorded less it */
    uint32_t delay_spread;  /* --delay-spread: plus 0..this ms at random, a message each */
    uint32_t confirm;       /* window; 0: no confirms */
    bool autoack;
    uint16_t prefetch;
    uint32_t multi_ack;
    double rate;            /* per producer, msg/s; 0: as fast as possible */
    const char *queue;      /* NULL: a fresh name */
    bool durable, no_declare, predeclared;
    const char *exchange;
    const char *routing_key;
    double drain_timeout;   /* seconds without progress before giving up */
    int consumer_threads;   /* threads the consumers are spread over */
    bool quiet;
    const char *cacert, *cert, *key;    /* amqps:// */
} perf_opts;

struct perf_run;

typedef struct producer {
    struct perf_run *run;
    int id;
    pthread_t thread;
    pconn c;
    uint8_t *tmpl;          /* one whole message: method, header, body frames */
    size_t tmpl_len, head_off;
    size_t delay_off;       /* --delay-spread: the x-delay value's 8 bytes in tmpl, 0 none */
    uint64_t rnd;
    uint64_t *ring;         /* confirm mode: publish time by delivery tag */
    uint64_t ring_mask, low_tag, next_tag;
    double rate_t0;         /* --rate: message rate_n0 was due at rate_t0 */
    uint64_t rate_n0;
    uint64_t last_fill;     /* --rate: when messages were last built */
    perf_ctr published, confirmed, nacked;
    perf_ctr blocked_ns, blocked_count;
    perf_ctr t_end;         /* when the last message was written */
    perf_ctr cpu_ns;
    atomic_bool finished;
    hist confirm_lat;
} producer;

typedef struct consumer {
    struct perf_run *run;
    int id;
    pconn c;
    uint8_t ack_tmpl[21];   /* basic.ack, encoded once, patched per ack */
    /* delivery assembly */
    int state;
    uint64_t tag, body_left, body_size;
    uint8_t head[PERF_HEAD];
    uint32_t head_len;
    /* acks */
    uint64_t unacked, last_tag;
    uint64_t *last_seq;     /* per producer, for reordering */
    perf_ctr received, unique, dups, reordered, stale, foreign;
    perf_ctr t_last;        /* when the last message arrived */
    perf_ctr cpu_ns;
    hist lat;
} consumer;

/* A consumer thread and the consumers it serves (--consumer-threads). */
typedef struct cgroup {
    struct perf_run *run;
    pthread_t thread;
    consumer **k;
    int n;
} cgroup;

typedef struct perf_run {
    perf_opts o;
    perf_url url;
    char queue[256];
    char routing_key[256];
    uint64_t epoch;         /* before any thread started: older stamps are stale */
    uint64_t t0;            /* the start line */
    pthread_barrier_t start;
    int pub_stopfd, con_stopfd;
    atomic_bool stop_publish, stop_consume, failed;
    atomic_flag error_claimed;
    char error[600];        /* the first failure, for the RESULT line */
    producer *prod;
    consumer *cons;
    cgroup *groups;
    int ngroups;
    seqtrack *track;        /* one per producer */
} perf_run;

void *producer_main(void *arg);
/* The thread of one cgroup. */
void *consumer_main(void *arg);

/* Report a failure of one thread: prints it and raises run->failed. */
void perf_fail(perf_run *run, const char *who, int id, const pconn *c, int status);

#endif
