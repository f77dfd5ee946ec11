/*
 * hist.c - fixed-memory latency histograms (see perf.h).
 *
 * A value v >= 128 with highest set bit b falls in bucket
 * (b - 6) * 64 + (v >> (b - 6)): the top seven bits of v, so each power of
 * two from 128 up is cut in 64 equal parts.  Values below 128 are their own
 * bucket.  Recording is a count-leading-zeros, a shift and a single-writer
 * increment; a histogram is 18 KiB whatever the run length.
 */
#include "perf.h"

#define HIST_CLAMP ((UINT64_C(1) << (HIST_MAX_SHIFT + 7)) - 1)

static unsigned bucket_of(uint64_t v)
{
    unsigned msb, shift;

    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    if (v > HIST_CLAMP)
        v = HIST_CLAMP;
    msb = 63u - (unsigned)__builtin_clzll(v);
    shift = msb - 6;
    return shift * HIST_SUB + (unsigned)(v >> shift);
}

/* The middle of bucket i's range. */
static uint64_t bucket_value(unsigned i)
{
    unsigned shift;
    uint64_t m;

    if (i < 2 * HIST_SUB)
        return i;
    shift = i / HIST_SUB - 1;
    m = i - shift * HIST_SUB;
    return (m << shift) + ((UINT64_C(1) << shift) >> 1);
}

void hist_record(hist *h, uint64_t ns)
{
    perf_add(&h->n[bucket_of(ns)], 1);
    perf_add(&h->count, 1);
    perf_add(&h->sum, ns);
    if (ns > perf_get(&h->max))
        perf_set(&h->max, ns);
}

void hist_snap_add(hist_snap *dst, const hist *src)
{
    uint64_t m = perf_get(&src->max);

    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->n[i] += perf_get(&src->n[i]);
    dst->count += perf_get(&src->count);
    dst->sum += perf_get(&src->sum);
    if (m > dst->max)
        dst->max = m;
}

void hist_snap_diff(hist_snap *dst, const hist_snap *a, const hist_snap *b)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->n[i] = a->n[i] - b->n[i];
    dst->count = a->count - b->count;
    dst->sum = a->sum - b->sum;
    dst->max = a->max;
}

uint64_t hist_snap_quantile(const hist_snap *s, double q)
{
    uint64_t total = 0, want, seen = 0, v;

    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        total += s->n[i];
    if (total == 0)
        return 0;
    want = (uint64_t)(q * (double)total + 0.999999);
    if (want < 1)
        want = 1;
    if (want > total)
        want = total;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += s->n[i];
        if (seen >= want) {
            v = bucket_value(i);
            return s->max && v > s->max ? s->max : v;
        }
    }
    return s->max;
}
