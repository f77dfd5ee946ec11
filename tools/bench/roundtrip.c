/*
 * roundtrip.c - warren-roundtrip: the fastest a round-trip-bound shape can
 * go on this machine, with no broker at all.
 *
 * The work-queue tutorial's shape (prefetch 1, one ack per message, four
 * consumers) is bounded by round trips: a consumer gets its next message
 * only after the broker has read its ack.  This program measures that bound
 * with the broker's work taken out: a "server" thread on epoll (as warren's
 * loop is) writes a frame of --size bytes to each of --clients TCP
 * connections on 127.0.0.1 and, each time one answers with a 21-byte "ack"
 * (the size of a basic.ack frame), writes it the next one.  The clients run
 * on one polling thread (--client-threads 1, as warren-perf's consumers do
 * by default) or one blocking thread each.  Whatever rate comes out is the
 * ceiling for any broker in that shape on this machine: the broker under
 * test only adds to each round trip.
 *
 *   warren-roundtrip [--clients 4] [--client-threads 1] [--seconds 3] [--size 100]
 *
 * Prints one line: round trips per second and the server thread's CPU per
 * round trip.
 *
 * With --rate R it measures the other bound, latency: a producer thread
 * writes a frame stamped with CLOCK_MONOTONIC R times a second (paced as
 * warren-perf's --rate is), the server relays each frame to a consumer
 * connection, and the consumer thread, asleep in recv(), records how long
 * the frame took and answers with an ack the server reads and drops - the
 * path of warren-perf's latency shape with the broker's work taken out.
 * Prints p50 / p99 / p99.9 / max.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ACK_SIZE 21
#define MAX_CLIENTS 1024

static int g_port, g_clients = 4, g_threads = 1;
static size_t g_size = 100;
static atomic_bool g_stop;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int dial(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("warren-roundtrip: connect");
        exit(2);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Clients [first, first + n): wait for a frame on any, answer each ready
 * one with an ack.  One thread per client blocks in recv(); a thread with
 * several sleeps in one poll(). */
typedef struct client_set {
    int first, n;
    pthread_t thread;
} client_set;

static void *clients_main(void *arg)
{
    client_set *cs = arg;
    struct pollfd pfd[MAX_CLIENTS];
    char buf[65536], ack[ACK_SIZE] = {0};
    int i;

    for (i = 0; i < cs->n; i++) {
        pfd[i].fd = dial();
        pfd[i].events = POLLIN;
    }
    while (!atomic_load(&g_stop)) {
        if (cs->n > 1 && poll(pfd, (nfds_t)cs->n, 100) <= 0)
            continue;
        for (i = 0; i < cs->n; i++) {
            if (cs->n > 1 && !(pfd[i].revents & POLLIN))
                continue;
            ssize_t r = recv(pfd[i].fd, buf, sizeof buf, 0);
            if (r <= 0)
                return NULL;
            if (send(pfd[i].fd, ack, sizeof ack, MSG_NOSIGNAL) < 0)
                return NULL;
        }
    }
    return NULL;
}

/* ---- --rate: one-way latency through a relay ----------------------------- */

static double g_rate;
static uint64_t *g_lat;
static size_t g_nlat, g_maxlat;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *producer_main(void *arg)
{
    int fd = dial();
    char *frame = calloc(1, g_size);
    uint64_t period = (uint64_t)(1e9 / g_rate), next = now_ns();

    (void)arg;
    while (frame && !atomic_load(&g_stop)) {
        struct timespec ts = {.tv_sec = (time_t)(next / 1000000000u), .tv_nsec = (long)(next % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        uint64_t t = now_ns();
        memcpy(frame, &t, sizeof t);
        if (send(fd, frame, g_size, MSG_NOSIGNAL) != (ssize_t)g_size)
            break;
        next += period;
    }
    free(frame);
    return NULL;
}

static void *consumer_main(void *arg)
{
    int fd = dial();
    char buf[65536], ack[ACK_SIZE] = {0};
    size_t have = 0;

    (void)arg;
    while (!atomic_load(&g_stop)) {
        ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
        if (r <= 0)
            break;
        uint64_t t = now_ns();
        have += (size_t)r;
        while (have >= g_size) {
            uint64_t sent;
            memcpy(&sent, buf, sizeof sent);
            if (g_nlat < g_maxlat)
                g_lat[g_nlat++] = t - sent;
            memmove(buf, buf + g_size, have - g_size);
            have -= g_size;
            if (send(fd, ack, sizeof ack, MSG_NOSIGNAL) < 0)
                return NULL;
        }
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(double q)
{
    size_t i = (size_t)(q * (double)(g_nlat - 1));
    return (double)g_lat[i] / 1e3;
}

/* The server relays the producer's frames (connection 0) to the consumer
 * (connection 1) and drops the consumer's acks. */
static int relay(int ls, double seconds)
{
    int fds[2], ep = epoll_create1(EPOLL_CLOEXEC), i, one = 1;
    pthread_t pt, ct;
    struct epoll_event ev[8];
    char buf[65536];
    double t0;

    g_maxlat = (size_t)(g_rate * seconds) + 1000;
    if (!(g_lat = malloc(g_maxlat * sizeof *g_lat)) || g_size < sizeof(uint64_t))
        return 2;
    if (pthread_create(&ct, NULL, consumer_main, NULL) != 0)
        return 2;
    fds[1] = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (pthread_create(&pt, NULL, producer_main, NULL) != 0)
        return 2;
    fds[0] = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    for (i = 0; i < 2; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (fds[i] < 0)
            return 2;
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
    }
    t0 = now_s();
    while (now_s() - t0 < seconds) {
        int n = epoll_wait(ep, ev, 8, 100);
        for (i = 0; i < n; i++) {
            ssize_t r = read(fds[ev[i].data.u32], buf, sizeof buf);
            if (r > 0 && ev[i].data.u32 == 0 && write(fds[1], buf, (size_t)r) < 0)
                return 2;
        }
    }
    atomic_store(&g_stop, true);
    shutdown(fds[0], SHUT_RDWR);
    shutdown(fds[1], SHUT_RDWR);
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    if (g_nlat == 0)
        return 2;
    qsort(g_lat, g_nlat, sizeof *g_lat, cmp_u64);
    printf("%.0f msg/s through a relay, %zu-byte frames, %zu messages: latency p50 %.1f us  p99 %.1f us  "
           "p99.9 %.1f us  max %.1f us\n", g_rate, g_size, g_nlat, pct(0.5), pct(0.99), pct(0.999),
           (double)g_lat[g_nlat - 1] / 1e3);
    printf("RESULT {\"rate\":%g,\"size\":%zu,\"messages\":%zu,\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,"
           "\"p999\":%.1f,\"max\":%.1f}}\n", g_rate, g_size, g_nlat, pct(0.5), pct(0.99), pct(0.999),
           (double)g_lat[g_nlat - 1] / 1e3);
    free(g_lat);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: warren-roundtrip [--clients N] [--client-threads N] [--seconds S] [--size BYTES]\n"
               "       warren-roundtrip --rate R [--seconds S] [--size BYTES]\n"
               "The round-trip ceiling of this machine with no broker: a server thread on epoll\n"
               "and N clients that answer each frame with a 21-byte ack; with --rate, the\n"
               "latency of R frames a second relayed from a producer to a consumer (see the source).\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"clients", required_argument, 0, 'c'}, {"client-threads", required_argument, 0, 't'},
        {"seconds", required_argument, 0, 's'}, {"size", required_argument, 0, 'b'},
        {"rate", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa;
    struct epoll_event ev[256];
    client_set sets[MAX_CLIENTS];
    int fds[MAX_CLIENTS], ls, ep, i, o, one = 1;
    double seconds = 3, t0, t;
    long served = 0;
    char *frame, buf[4096];
    struct timespec cpu;

    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'c': g_clients = atoi(optarg); break;
        case 't': g_threads = atoi(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'b': g_size = (size_t)atol(optarg); break;
        case 'r': g_rate = atof(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (g_clients < 1 || g_clients > MAX_CLIENTS || g_threads < 1 || seconds <= 0 || g_size < 1 ||
        g_size > sizeof buf) {
        usage(stderr);
        return 2;
    }
    if (g_threads > g_clients)
        g_threads = g_clients;
    if (g_rate < 0 || g_rate > 1e6) {
        usage(stderr);
        return 2;
    }
    if (!(frame = calloc(1, g_size)))
        return 2;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, MAX_CLIENTS) < 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
        perror("warren-roundtrip: listen");
        return 2;
    }
    g_port = ntohs(sa.sin_port);
    if (g_rate > 0)
        return relay(ls, seconds);
    for (i = 0; i < g_threads; i++) {
        sets[i].first = i * g_clients / g_threads;
        sets[i].n = (i + 1) * g_clients / g_threads - sets[i].first;
        if (pthread_create(&sets[i].thread, NULL, clients_main, &sets[i]) != 0)
            return 2;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    for (i = 0; i < g_clients; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if ((fds[i] = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) < 0) {
            perror("warren-roundtrip: accept");
            return 2;
        }
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
    }
    for (i = 0; i < g_clients; i++)
        if (write(fds[i], frame, g_size) < 0)
            return 2;
    t0 = now_s();
    while ((t = now_s()) - t0 < seconds) {
        int n = epoll_wait(ep, ev, 256, 100);
        for (i = 0; i < n; i++) {
            int fd = fds[ev[i].data.u32];
            if (read(fd, buf, sizeof buf) > 0 && write(fd, frame, g_size) > 0)
                served++;
        }
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    atomic_store(&g_stop, true);
    for (i = 0; i < g_clients; i++)
        shutdown(fds[i], SHUT_RDWR);
    for (i = 0; i < g_threads; i++)
        pthread_join(sets[i].thread, NULL);
    printf("%d clients on %d thread%s, %zu-byte frames: %.0f round trips/s, server %.2f us CPU each\n",
           g_clients, g_threads, g_threads == 1 ? "" : "s", g_size, (double)served / (t - t0),
           ((double)cpu.tv_sec * 1e6 + (double)cpu.tv_nsec / 1e3) / (double)(served ? served : 1));
    printf("RESULT {\"clients\":%d,\"client_threads\":%d,\"size\":%zu,\"rate\":%.0f}\n", g_clients, g_threads,
           g_size, (double)served / (t - t0));
    free(frame);
    return 0;
}
