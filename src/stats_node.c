/*
 * stats_node.c - the statistics of the process as a whole (stats.h's
 * stats_node, for Prometheus's node metrics): resident memory, the disk
 * and descriptors, the alarms and their limits, the store's size and the
 * latency histograms.  The fdatasync histogram is the store's own (its
 * sync thread times each call; store_sync_latency copies it under the
 * thread's mutex); the confirm latency is the sessions', asked through
 * stats_session_ops.  Nothing here runs unless asked.
 */
#include "stats.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "broker.h"
#include "store/store.h"
#include "vhost.h"

/* The bounds of the latencies measured above the store: the store's own
 * (its fdatasync histogram), so the two read alike. */
void stats_histogram_init(stats_histogram *h)
{
    memset(h, 0, sizeof *h);
    h->bounds_us = store_latency_bounds_us;
    h->nbounds = STORE_LATENCY_NBOUNDS;
}

void stats_histogram_observe(stats_histogram *h, uint64_t us)
{
    uint32_t i = 0;

    while (i < h->nbounds && us > h->bounds_us[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum_us += us;
}

static uint64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, rss = 0;
    long page = sysconf(_SC_PAGESIZE);

    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return (uint64_t)rss * (uint64_t)(page > 0 ? page : 4096);
}

static uint64_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    uint64_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* not the one opendir holds */
}

void stats_node_get(broker *b, stats_node *out)
{
    const stats_vhost *sv = &b->vh->stats;
    struct statvfs vfs;
    struct rlimit rl;

    memset(out, 0, sizeof *out);
    out->resident_bytes = resident_bytes();
    out->memory_limit = b->alarms.memory_limit;
    if (statvfs(b->cfg.data_dir, &vfs) == 0)
        out->disk_free = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    out->disk_free_limit = b->cfg.disk_free_limit;
    out->open_fds = open_fds();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    out->memory_alarm = (b->alarms.on & ALARM_MEMORY) != 0;
    out->disk_alarm = (b->alarms.on & ALARM_DISK) != 0;
    stats_histogram_init(&out->fdatasync);
    stats_histogram_init(&out->confirm);
    if (b->st) {
        store_latency l;
        _Static_assert(STORE_LATENCY_NBOUNDS <= STATS_HISTOGRAM_MAX, "the store's histogram fits");
        out->store = true;
        out->store_bytes = store_disk_bytes(b->st);
        store_sync_latency(b->st, &l);
        memcpy(out->fdatasync.bucket, l.bucket, sizeof l.bucket);
        out->fdatasync.count = l.count;
        out->fdatasync.sum_us = l.sum_us;
    }
    if (sv->sessions && sv->sessions->confirm_latency)
        sv->sessions->confirm_latency(sv->sessions_ctx, &out->confirm);
}
