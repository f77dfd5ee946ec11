/*
 * worker.c - the work-queue tutorial's consumer, in C on rabbitmq-c.
 *
 *   worker [--url URL]... [--queue NAME] [--queue-type quorum] [--prefetch N] [--exec CMD ...]
 *
 * Does what the Python tutorial's worker.py does, with the same output:
 * declare the durable queue, basic.qos prefetch 1, consume with manual
 * acks, and for each task print " [x] Received '...'", work one second per
 * '.' in the body, print " [x] Done" and ack.  Then what a real worker
 * needs: running a command per task (--exec), a clean stop on Ctrl-C or
 * SIGTERM, surviving a broker restart, and a body over 200 bytes shown
 * cut short with its size rather than flooding the terminal.
 *
 * Shape.  rabbitmq-c is blocking and single-threaded, so the program is
 * one loop: wait for a delivery with a short timeout (so a signal is seen
 * within a fraction of a second), handle it, repeat.  Signal handlers only
 * count signals; the loop looks at the count.  While a task runs, the loop
 * polls the task (a timer or a child process) in short slices and sends
 * AMQP heartbeats itself, because rabbitmq-c only services heartbeats
 * inside its own calls and the broker would otherwise drop a worker busy
 * with a long task.
 *
 * Delivery guarantee.  A task is acked only after its work finished; if
 * the connection dies before the ack reaches the broker, the broker
 * requeues the task and it is done again (at-least-once).  After a lost
 * connection the worker reconnects with exponential backoff, declares the
 * queue again and consumes again; the delivery tags of the old connection
 * are never used on the new one.  Given several URLs (the nodes of a
 * cluster), it reconnects to the next one that answers, starting after the
 * one it lost.  Before it acks, the worker looks at the
 * socket (tut_peer_closed): if the broker closed the connection while the
 * task ran, the ack could not arrive, and the worker says so.
 *
 * Signals.  The first SIGINT/SIGTERM stops taking tasks: an idle worker
 * exits at once, a busy one finishes the task in hand, acks it and exits
 * 0.  A delivery read after the first signal is not started: closing the
 * channel hands it (and any others sent ahead) back to the queue.  A
 * second signal abandons the task: the command (if any) is killed, the
 * connection is dropped without an ack, the broker requeues the task, and
 * the worker exits 130.  Commands run in their own process group, so
 * a Ctrl-C typed at the terminal reaches only the worker, which decides.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: worker [--url URL]... [--queue NAME] [--prefetch N] [options]\n"
    "\n"
    "Take tasks from a durable work queue one at a time and ack each when done.\n"
    "By default a task is the tutorial's fake work: one second per '.' in it.\n"
    "\n"
    "  --url URL            broker (default amqp://guest:guest@localhost:5672/);\n"
    "                       repeat it (or give URL,URL,...) for the nodes of a\n"
    "                       cluster: a lost connection moves on to the next one\n"
    "  --queue NAME         queue (default task_queue)\n"
    "  --queue-type T       declare the queue with x-queue-type T: classic or\n"
    "                       quorum (a replicated queue on a RabbitMQ cluster)\n"
    "  --passive            use the queue as it exists (passive declare), with\n"
    "                       whatever arguments it was declared with\n"
    "  --dead-letter-exchange X\n"
    "                       declare the queue with x-dead-letter-exchange X: where\n"
    "                       rejected tasks go (give new_task the same options)\n"
    "  --dead-letter-routing-key K\n"
    "                       with it: x-dead-letter-routing-key K\n"
    "  --delivery-limit N   declare the queue with x-delivery-limit N: a task that\n"
    "                       comes back more than N times is dead-lettered (or\n"
    "                       dropped); with --passive, the limit the queue has. The\n"
    "                       worker then says which attempt each failure was, and\n"
    "                       when the broker takes the task off the queue\n"
    "  --prefetch N         unacked tasks the broker may send ahead, 0 = no limit\n"
    "                       (default 1: fair dispatch)\n"
    "  --dot-seconds X      seconds of fake work per '.' (default 1)\n"
    "  --exec CMD           run CMD with /bin/sh, the task on its stdin, instead of\n"
    "                       the fake work; exit status 0 = done (acked)\n"
    "  --on-failure WHAT    when CMD fails: reject (default: dropped, or dead-lettered\n"
    "                       if the queue has a dead-letter exchange) or requeue\n"
    "  --timeout S          kill CMD after S seconds; counts as a failure\n"
    "  --requeue-delay S    wait S seconds before requeueing a failed task (default 1)\n"
    "  --show-redelivered   mark tasks the broker delivered before: '(redelivered)'\n"
    "  --heartbeat S        AMQP heartbeat interval, 0 = off (default 10)\n"
    "  --reconnect-max S    longest wait between reconnect attempts (default 5)\n"
    TUT_TLS_USAGE
    "  -h, --help           this text\n"
    "\n"
    "Ctrl-C or SIGTERM: finish the task in hand, ack it, exit 0.  A second one\n"
    "abandons the task (the broker requeues it) and exits 130.  If the broker goes\n"
    "away the worker reconnects and carries on.\n"
    "\n"
    "Exit status: 0 stopped by a signal; 1 other error; 2 usage; 3 cannot connect\n"
    "(at start-up); 4 login refused (at start-up); 5 broker refused an operation\n"
    "(e.g. the queue exists with other settings); 130 task abandoned.\n";

enum failure_action { FAIL_REJECT, FAIL_REQUEUE };

struct options {
    struct tut_targets targets;
    struct tut_tls tls;          /* --cacert, --cert, --key (amqps://) */
    struct tut_queue queue;
    long prefetch;
    double dot_seconds;
    const char *exec;
    enum failure_action on_failure;
    double timeout;           /* 0 = none */
    double requeue_delay;
    bool show_redelivered;
    long heartbeat;
    double reconnect_max;
};

/* How a task ended. */
enum outcome { TASK_DONE, TASK_FAILED, TASK_ABANDONED };

static volatile sig_atomic_t g_signals;

static void on_signal(int sig)
{
    (void)sig;
    if (g_signals < 100)
        g_signals++;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void pause_for(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);   /* a signal may cut it short: callers loop */
}

/* Called in every slice of a running task. */
static void while_working(struct tut_conn *c, bool *announced)
{
    if (g_signals == 1 && !*announced) {
        fprintf(stderr, "worker: stopping after this task (signal again to abandon it)\n");
        *announced = true;
    }
    if (tut_keepalive(c) != 0)
        c->conn_ok = false;   /* noticed again at the ack */
}

/* The tutorial's fake work, or any wait that a second signal may cut. */
static enum outcome wait_working(struct tut_conn *c, double seconds)
{
    bool announced = false;
    double end = tut_now() + seconds;
    for (;;) {
        while_working(c, &announced);
        if (g_signals >= 2)
            return TASK_ABANDONED;
        double left = end - tut_now();
        if (left <= 0)
            return TASK_DONE;
        pause_for(left < 0.1 ? left : 0.1);
    }
}

static void child_exec(const struct options *o, int in_fd, bool redelivered)
{
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (dup2(in_fd, STDIN_FILENO) < 0)
        _exit(127);
    setenv("WORKER_QUEUE", o->queue.name, 1);
    setenv("WORKER_REDELIVERED", redelivered ? "1" : "0", 1);
    execl("/bin/sh", "sh", "-c", o->exec, (char *)NULL);
    fprintf(stderr, "worker: cannot run /bin/sh: %s\n", strerror(errno));
    _exit(127);
}

/* Run --exec with the body on stdin.  `why` says why it failed. */
static enum outcome run_command(struct tut_conn *c, const struct options *o, amqp_bytes_t body,
                                bool redelivered, char *why, size_t whylen)
{
    int in[2];
    if (pipe2(in, O_CLOEXEC) < 0) {
        snprintf(why, whylen, "cannot make a pipe: %s", strerror(errno));
        return TASK_FAILED;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "cannot fork: %s", strerror(errno));
        close(in[0]);
        close(in[1]);
        return TASK_FAILED;
    }
    if (pid == 0)
        child_exec(o, in[0], redelivered);
    setpgid(pid, pid);   /* also in the parent, so kill(-pid) works at once */
    close(in[0]);
    int out = in[1];
    fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK);

    enum { RUNNING, TIMED_OUT, ABANDONED } stop = RUNNING;
    bool announced = false;
    size_t written = 0;
    double start = tut_now(), stop_at = 0;
    int status = 0;
    for (;;) {
        if (out >= 0 && written == body.len) {
            close(out);   /* end of input for the command */
            out = -1;
        }
        struct pollfd p = {.fd = out, .events = POLLOUT};
        if (poll(&p, out >= 0 ? 1 : 0, 20) > 0 && out >= 0) {
            ssize_t n = write(out, (const char *)body.bytes + written, body.len - written);
            if (n > 0) {
                written += (size_t)n;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                close(out);   /* EPIPE: the command does not read its input */
                out = -1;
            }
        }
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(why, whylen, "cannot wait for the command: %s", strerror(errno));
            if (out >= 0)
                close(out);
            return TASK_FAILED;
        }
        while_working(c, &announced);
        double now = tut_now();
        if (stop == RUNNING && o->timeout > 0 && now - start >= o->timeout)
            stop = TIMED_OUT;
        if (stop == RUNNING && g_signals >= 2)
            stop = ABANDONED;
        if (stop != RUNNING && stop_at == 0) {
            kill(-pid, SIGTERM);
            stop_at = now;
        } else if (stop != RUNNING && now - stop_at >= 2) {
            kill(-pid, SIGKILL);   /* it ignored SIGTERM */
        }
    }
    if (out >= 0)
        close(out);
    if (stop != RUNNING)
        kill(-pid, SIGKILL);   /* what is left of its process group */
    if (stop == ABANDONED)
        return TASK_ABANDONED;
    if (stop == TIMED_OUT) {
        snprintf(why, whylen, "timed out after %g s", o->timeout);
        return TASK_FAILED;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return TASK_DONE;
    if (WIFEXITED(status))
        snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(why, whylen, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(why, whylen, "wait status %d", status);
    return TASK_FAILED;
}

static size_t count_dots(amqp_bytes_t body)
{
    size_t n = 0;
    const char *p = body.bytes;
    for (size_t i = 0; i < body.len; i++)
        n += p[i] == '.';
    return n;
}

/* A task body longer than this is shown by its first SHOW_MAX bytes and its
 * size, so a 13 MB task does not flood the terminal; the tutorial's tasks
 * are far shorter and print whole, as worker.py prints them. */
#define SHOW_MAX 200

/* " [x] Received 'body'" or " [x] Received 'start of body'... (N bytes)". */
static void print_received(amqp_bytes_t body, bool redelivered)
{
    const unsigned char *b = body.bytes;
    size_t shown = body.len;

    if (body.len > SHOW_MAX) {
        shown = SHOW_MAX;
        /* cut before a UTF-8 character, not in it (a continuation byte is
         * 10xxxxxx; a character has at most three of them) */
        for (int k = 0; k < 3 && shown > 0 && (b[shown] & 0xC0) == 0x80; k++)
            shown--;
    }
    fputs(" [x] Received '", stdout);
    fwrite(b, 1, shown, stdout);
    if (shown < body.len)
        printf("'... (%zu bytes)", body.len);
    else
        putchar('\'');
    fputs(redelivered ? " (redelivered)\n" : "\n", stdout);
    fflush(stdout);
}

/* The x-delivery-count header of a delivery: the times it came back
 * before (0 when absent: a first delivery, or a queue that does not count). */
static long delivery_count(const amqp_basic_properties_t *p)
{
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return 0;
    for (int i = 0; i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        if (e->key.len != 16 || memcmp(e->key.bytes, "x-delivery-count", 16))
            continue;
        switch (e->value.kind) {
        case AMQP_FIELD_KIND_I64: return (long)e->value.value.i64;
        case AMQP_FIELD_KIND_I32: return (long)e->value.value.i32;
        case AMQP_FIELD_KIND_U32: return (long)e->value.value.u32;
        case AMQP_FIELD_KIND_I16: return (long)e->value.value.i16;
        case AMQP_FIELD_KIND_U16: return (long)e->value.value.u16;
        case AMQP_FIELD_KIND_I8: return (long)e->value.value.i8;
        case AMQP_FIELD_KIND_U8: return (long)e->value.value.u8;
        default: return 0;
        }
    }
    return 0;
}

/* Work on one delivery and settle it.  Returns 0, TUT_EXIT_ABORTED, or an
 * error in err (a lost connection: the broker redelivers the task). */
static int handle(struct tut_conn *c, const struct options *o, const amqp_envelope_t *env,
                  struct tut_err *err)
{
    amqp_bytes_t body = env->message.body;
    print_received(body, o->show_redelivered && env->redelivered);

    char why[128] = "";
    enum outcome out = o->exec ? run_command(c, o, body, env->redelivered, why, sizeof why)
                               : wait_working(c, (double)count_dots(body) * o->dot_seconds);
    if (out == TASK_ABANDONED)
        return TUT_EXIT_ABORTED;

    bool requeue = o->on_failure == FAIL_REQUEUE;
    if (out == TASK_DONE) {
        puts(" [x] Done");
        fflush(stdout);
    } else if (requeue && o->queue.has_limit) {
        /* the broker counts the returns (x-delivery-count: absent on the
         * first delivery); the one that passes the limit ends the task */
        long returns = delivery_count(&env->message.properties);
        bool last = returns >= o->queue.limit;
        static bool warned;
        if (env->redelivered && returns == 0 && !warned) {
            /* a queue that counts puts x-delivery-count on every
             * redelivery: this one has no limit (declared before without
             * it: a redeclare does not add arguments) */
            fprintf(stderr, "worker: queue '%s' sends redelivered tasks without x-delivery-count: it has no "
                            "delivery limit (declared without --delivery-limit?); a failing task may come back "
                            "forever\n", o->queue.name);
            warned = true;
        }
        printf(" [x] Failed (%s): attempt %ld of %ld, %s\n", why, returns + 1, o->queue.limit + 1,
               !last ? "requeued"
               : o->queue.passive ? "given up: the broker dead-letters it (or drops it, without a dead-letter exchange)"
               : o->queue.dlx ? "given up: the broker dead-letters it"
                              : "given up: the broker drops it (no dead-letter exchange)");
        fflush(stdout);
        if (!last && wait_working(c, o->requeue_delay) == TASK_ABANDONED)
            return TUT_EXIT_ABORTED;
    } else {
        printf(" [x] Failed (%s): %s\n", why, requeue ? "requeued" : "rejected");
        fflush(stdout);
        if (requeue && wait_working(c, o->requeue_delay) == TASK_ABANDONED)
            return TUT_EXIT_ABORTED;
    }

    /* The ack (or reject) can only reach the broker on the connection the
     * task came on.  If that is gone, the broker still holds the task as
     * unacked and will deliver it again: say so rather than ack into the
     * void. */
    const char *verb = out == TASK_DONE ? "ack" : "reject";
    struct tut_err why_closed = {0};
    if (tut_peer_closed(c, &why_closed) || !c->chan_ok) {
        printf(" [!] %s lost: connection closed; the broker will redeliver the task\n", verb);
        fflush(stdout);
        return tut_fail(err, TUT_EXIT_LOST, true, "%s while working on the task",
                        why_closed.msg[0] ? why_closed.msg : "the channel was closed");
    }
    int st = out == TASK_DONE
                 ? amqp_basic_ack(c->state, TUT_CHANNEL, env->delivery_tag, 0)
                 : amqp_basic_reject(c->state, TUT_CHANNEL, env->delivery_tag, requeue);
    if (st != AMQP_STATUS_OK) {
        c->conn_ok = false;
        printf(" [!] %s lost: connection closed; the broker will redeliver the task\n", verb);
        fflush(stdout);
        return tut_fail(err, TUT_EXIT_LOST, true, "could not send the %s (%s)", verb,
                        amqp_error_string2(st));
    }
    return 0;
}

/* Wait up to 200 ms for a delivery and handle it. */
static int step(struct tut_conn *c, const struct options *o, struct tut_err *err)
{
    amqp_envelope_t env;
    struct timeval tv = {0, 200000};
    amqp_maybe_release_buffers(c->state);
    amqp_rpc_reply_t r = amqp_consume_message(c->state, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL && g_signals) {
        /* Asked to stop while we waited: do not start it.  It stays
         * unacked, and closing the channel gives it back to the queue. */
        fprintf(stderr, "worker: stopping; a task that arrived meanwhile goes back to the queue\n");
        amqp_destroy_envelope(&env);
        return 0;
    }
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        int rc = handle(c, o, &env, err);
        amqp_destroy_envelope(&env);
        return rc;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_TIMEOUT)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        /* Not a delivery: a close, a cancel, or something to ignore. */
        amqp_frame_t frame;
        int st = amqp_simple_wait_frame(c->state, &frame);
        if (st != AMQP_STATUS_OK) {
            c->conn_ok = false;
            return tut_status_err(st, "the wait for tasks", err);
        }
        return tut_async_method(c, &frame, err);
    }
    return tut_check_reply(c, r, "the wait for tasks", err);
}

/* Connect, declare the queue, set the prefetch, start consuming. */
static int setup(struct tut_conn *c, struct tut_targets *ts, bool start_next,
                 const struct options *o, struct tut_err *err)
{
    struct tut_conn_opts co = {.name = "worker", .heartbeat = (int)o->heartbeat,
                               .connect_timeout = 10};
    int rc = tut_connect_any(c, ts, start_next, &co, "worker", err);
    if (rc)
        return rc;
    rc = tut_declare_queue(c, &o->queue, err);
    if (!rc) {
        amqp_basic_qos(c->state, TUT_CHANNEL, 0, (uint16_t)o->prefetch, 0);
        rc = tut_check_reply(c, amqp_get_rpc_reply(c->state), "basic.qos", err);
    }
    if (!rc) {
        amqp_basic_consume(c->state, TUT_CHANNEL, amqp_cstring_bytes(o->queue.name),
                           amqp_empty_bytes,
                           /*no_local*/ 0, /*no_ack*/ 0, /*exclusive*/ 0, amqp_empty_table);
        rc = tut_check_reply(c, amqp_get_rpc_reply(c->state), "basic.consume", err);
    }
    if (rc)
        tut_close(c);
    return rc;
}

/* Reconnect with exponential backoff (with jitter, so a crowd of workers
 * does not knock in step).  Returns 0 when consuming again, -1 when a
 * signal asked us to stop meanwhile, or an error that retrying cannot fix. */
static int reconnect(struct tut_conn *c, struct tut_targets *ts, const struct options *o,
                     struct tut_err *err)
{
    double delay = 0.1;
    for (;;) {
        if (g_signals)
            return -1;
        int rc = setup(c, ts, true, o, err);
        if (!rc) {
            fprintf(stderr, "worker: reconnected to %s\n", ts->t[ts->cur].shown);
            return 0;
        }
        if (!err->retry)
            return rc;
        double wait = delay * (0.8 + 0.4 * ((double)rand() / RAND_MAX));
        fprintf(stderr, "worker: %s; retrying in %.2f s\n", err->msg, wait);
        for (double end = tut_now() + wait; tut_now() < end && !g_signals;)
            pause_for(0.05);
        delay = delay * 2 < o->reconnect_max ? delay * 2 : o->reconnect_max;
    }
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "worker: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'worker --help'.\n");
    return TUT_EXIT_USAGE;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"queue", required_argument, NULL, 'q'},
        {"passive", no_argument, NULL, 'P'},
        {"queue-type", required_argument, NULL, 'T'},
        {"dead-letter-exchange", required_argument, NULL, 'x'},
        {"dead-letter-routing-key", required_argument, NULL, 'k'},
        {"prefetch", required_argument, NULL, 'p'},
        {"delivery-limit", required_argument, NULL, 'l'},
        {"dot-seconds", required_argument, NULL, 'd'},
        {"exec", required_argument, NULL, 'e'},
        {"on-failure", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'},
        {"requeue-delay", required_argument, NULL, 'r'},
        {"show-redelivered", no_argument, NULL, 's'},
        {"heartbeat", required_argument, NULL, 'b'},
        {"reconnect-max", required_argument, NULL, 'm'},
        TUT_TLS_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool exec_only = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': {
            struct tut_err err;
            if (tut_targets_add(&o->targets, optarg, &err))
                return usage_error("%s", err.msg);
            break;
        }
        case 'T': o->queue.type = optarg; break;
        case 'q': o->queue.name = optarg; break;
        case 'P': o->queue.passive = true; break;
        case 'x': o->queue.dlx = optarg; break;
        case 'k': o->queue.dlrk = optarg; break;
        case 'e': o->exec = optarg; break;
        case 's': o->show_redelivered = true; break;
        case 'l':
            if (tut_parse_long(optarg, 0, 1000000, &o->queue.limit))
                return usage_error("--delivery-limit wants a count from 0 to 1000000, not '%s'", optarg);
            o->queue.has_limit = true;
            break;
        case 'p':
            if (tut_parse_long(optarg, 0, 65535, &o->prefetch))
                return usage_error("--prefetch wants a count from 0 to 65535, not '%s'", optarg);
            break;
        case 'd':
            if (tut_parse_double(optarg, 0, 3600, &o->dot_seconds))
                return usage_error("--dot-seconds wants seconds, not '%s'", optarg);
            break;
        case 'f':
            if (strcmp(optarg, "reject") == 0)
                o->on_failure = FAIL_REJECT;
            else if (strcmp(optarg, "requeue") == 0)
                o->on_failure = FAIL_REQUEUE;
            else
                return usage_error("--on-failure wants reject or requeue, not '%s'", optarg);
            exec_only = true;
            break;
        case 't':
            if (tut_parse_double(optarg, 0.001, 1e7, &o->timeout))
                return usage_error("--timeout wants seconds, not '%s'", optarg);
            exec_only = true;
            break;
        case 'r':
            if (tut_parse_double(optarg, 0, 3600, &o->requeue_delay))
                return usage_error("--requeue-delay wants seconds, not '%s'", optarg);
            exec_only = true;
            break;
        case 'b':
            if (tut_parse_long(optarg, 0, 65535, &o->heartbeat))
                return usage_error("--heartbeat wants seconds (0 = off), not '%s'", optarg);
            break;
        case 'm':
            if (tut_parse_double(optarg, 0.1, 3600, &o->reconnect_max))
                return usage_error("--reconnect-max wants seconds, not '%s'", optarg);
            break;
        case 0x100: case 0x101: case 0x102:
            tut_tls_option(&o->tls, opt, optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        default:
            fprintf(stderr, "Try 'worker --help'.\n");
            return TUT_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (exec_only && !o->exec)
        return usage_error("%s", "--on-failure, --timeout and --requeue-delay need --exec");
    const char *bad = tut_queue_check(&o->queue);
    if (bad)
        return usage_error("%s", bad);
    if (o->targets.n == 0) {
        struct tut_err err;
        if (tut_targets_add(&o->targets, "amqp://guest:guest@localhost:5672/", &err))
            return usage_error("%s", err.msg);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {
        .queue = {.name = "task_queue"},
        .prefetch = 1,
        .dot_seconds = 1,
        .on_failure = FAIL_REJECT,
        .requeue_delay = 1,
        .heartbeat = 10,
        .reconnect_max = 5,
    };
    int rc = parse_options(argc, argv, &o);
    if (rc) {
        tut_targets_free(&o.targets);
        return rc < 0 ? TUT_EXIT_OK : rc;
    }

    struct tut_err err = {0};
    for (int i = 0; i < o.targets.n; i++)
        if (tut_target_tls(&o.targets.t[i], &o.tls, &err)) {
            fprintf(stderr, "worker: %s\n", err.msg);
            tut_targets_free(&o.targets);
            return err.exit;
        }
    install_signals();
    srand((unsigned)getpid());

    /* At start-up every failure is final: a wrong URL or password should
     * be reported, not retried forever. */
    struct tut_conn c;
    if ((rc = setup(&c, &o.targets, false, &o, &err))) {
        fprintf(stderr, "worker: %s\n", err.msg);
        tut_targets_free(&o.targets);
        return rc;
    }
    puts(" [*] Waiting for messages. To exit press CTRL+C");
    fflush(stdout);

    rc = 0;
    while (!g_signals) {
        if (!c.state) {
            rc = reconnect(&c, &o.targets, &o, &err);
            if (rc < 0) {
                rc = 0;   /* stopped while disconnected */
                break;
            }
            if (rc) {
                fprintf(stderr, "worker: %s\n", err.msg);
                break;
            }
            continue;
        }
        rc = step(&c, &o, &err);
        if (rc == TUT_EXIT_ABORTED) {
            fprintf(stderr, "worker: task abandoned; the broker will requeue it\n");
            tut_drop(&c);
            break;
        }
        if (rc && err.retry) {
            fprintf(stderr, "worker: %s; reconnecting\n", err.msg);
            if (c.conn_ok)
                tut_close(&c);
            else
                tut_drop(&c);
            rc = 0;
        } else if (rc) {
            fprintf(stderr, "worker: %s\n", err.msg);
            break;
        }
    }
    tut_close(&c);
    tut_targets_free(&o.targets);
    return rc;
}
