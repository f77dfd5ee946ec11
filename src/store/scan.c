/*
 * scan.c - reading one queue's records forward from a place in the log
 * (store_scan): how a durable queue pages in the deep part of its backlog,
 * its *region*, which it keeps on disk instead of in RAM (queue_region.c).
 *
 * Segments hold records in publish order, each naming the queues it was
 * routed to, so "the messages of queue Q from position P on" is a walk of
 * the files.  A record of Q met on the way is handed to the caller unless
 * the files say it left Q: an "acked" entry for (Q, record) in the
 * segment's ack file, or (when asked) a purge mark of Q that covers it.  A
 * "delivered" entry makes it come back redelivered with its count, as
 * recovery does.  Paged (transient) records of an earlier run are nobody's.
 *
 * The ack entries are read incrementally: the cursor keeps how far into
 * its segment's ack file it has read and, of the entries for its queue,
 * those at or ahead of it (a handful: the records of the queue acked
 * before they were paged in).  A compaction moves the records (the same
 * segment id, the next generation, offsets remapped): the cursor holds the
 * offset the broker knows, which the remap still translates, and the ack
 * entries are read again from the new file.
 *
 * The records of the turn not yet written are written first
 * (store_write_early: the turn's acks, then its records), so a scan never
 * waits for the end of the turn and never sees a record without the ack
 * entries made for it before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define SCAN_BUF (1u << 20)

/* Q's ack entries in the cursor's segment, by record file offset. */
struct store_scan_acks {
    ackset set;
    uint32_t seg, gen;
    uint64_t pos;               /* ack file bytes read */
    bool valid;
};

void store_cursor_free(store_cursor *c)
{
    if (c->acks) {
        store_ackset_free(&c->acks->set);
        free(c->acks);
    }
    c->acks = NULL;
}

/* The file offset of the first record at or after the broker-known
 * offset `off` of s (s->size when there is none). */
uint64_t store_file_pos(const segment *s, uint32_t off)
{
    size_t i;
    if (!s->remap)
        return off < SEG_HEADER ? SEG_HEADER : off;
    i = store_remap_index(s, REMAP_KNOWN, off);
    return i < s->nremap ? s->remap[2 * i + 1] : s->size;
}

/* The broker-known offset of the record at file offset fpos of s. */
static uint32_t known_off(const segment *s, uint64_t fpos)
{
    size_t i;
    if (!s->remap)
        return (uint32_t)fpos;
    i = store_remap_index(s, REMAP_FILE, fpos);
    return i < s->nremap && s->remap[2 * i + 1] == fpos ? s->remap[2 * i] : (uint32_t)fpos;
}

/* Read the ack entries of s written since the last look, keeping those of
 * qid at or past fpos.  0, or -1 (out of memory, or the file unreadable). */
static int read_acks(store *st, store_cursor *c, segment *s, uint32_t qid, uint64_t fpos)
{
    struct store_scan_acks *a = c->acks;
    uint8_t buf[64 * ACK_ENTRY];

    if (!a && !(a = c->acks = calloc(1, sizeof *a)))
        return -1;
    if (!a->valid || a->seg != s->id || a->gen != s->gen) {
        store_ackset_free(&a->set);
        a->seg = s->id;
        a->gen = s->gen;
        a->pos = SEG_HEADER;
        a->valid = true;
    }
    if (s->ackfd < 0 && store_ack_attach(st, s) < 0)
        return -1;
    if (s->ackfd < 0)
        return 0; /* no ack file yet */
    while (a->pos + ACK_ENTRY <= s->ack_size) {
        uint64_t want = s->ack_size - a->pos;
        ssize_t got;
        size_t i;
        if (want > sizeof buf)
            want = sizeof buf;
        got = store_pread_full(s->ackfd, buf, (size_t)want, (off_t)a->pos);
        if (got < ACK_ENTRY)
            return -1;
        got -= got % ACK_ENTRY;
        for (i = 0; i + ACK_ENTRY <= (size_t)got; i += ACK_ENTRY) {
            uint32_t eq, eoff;
            uint8_t kind;
            if (seg_ack_is_blank(buf + i) || seg_ack_check(buf + i, &eq, &eoff, &kind) < 0)
                continue;
            if (eq != qid || eoff < fpos)
                continue; /* another queue's, or behind: paged in already */
            if (store_ackset_add(&a->set, eoff, kind, seg_ack_returns(buf + i)) < 0)
                return -1;
        }
        a->pos += (uint64_t)got;
    }
    return 0;
}

/* The segment at or after id (NULL: none). */
static segment *seg_from(store *st, uint32_t id)
{
    size_t i = store_seg_index(st, id);
    return i < st->nsegs ? st->segs[i] : NULL;
}

int store_scan(store *st, uint32_t qid, store_cursor *c, uint32_t max, int flags, store_scan_fn fn, void *arg)
{
    int taken = 0;
    uint8_t *big = NULL;

    if (!st->sbuf && !(st->sbuf = malloc(SCAN_BUF)))
        return -1;
    if (st->ack_list)
        store_write_early(st); /* acks of records written already (a segment just finished) */
    while ((uint32_t)taken < max) {
        segment *s = seg_from(st, c->seg);
        uint64_t fpos;
        size_t have = 0;
        uint64_t bpos = 0;

        if (!s)
            break; /* the end of the log */
        if (s->id != c->seg) {
            c->seg = s->id;
            c->off = SEG_HEADER;
        }
        fpos = store_file_pos(s, c->off);
        if (s == st->cur && fpos >= s->size && st->wlen) {
            store_write_early(st);
            if (!(s = store_seg_find(st, c->seg)))
                continue;
            fpos = store_file_pos(s, c->off);
        }
        if (read_acks(st, c, s, qid, fpos) < 0) {
            log_error("store: cannot read the ack entries of segment %u: %s", s->id, strerror(errno));
            taken = taken ? taken : -1;
            break;
        }
        while ((uint32_t)taken < max && fpos < s->size) {
            const uint8_t *p;
            size_t avail, size;
            seg_record r;
            enum seg_check ck;
            uint32_t i, len;
            bool mine = false;

            if (fpos < bpos || fpos + REC_HEADER > bpos + have) {
                ssize_t got;
                uint64_t want = s->size - fpos < SCAN_BUF ? s->size - fpos : SCAN_BUF;
                got = store_pread_full(s->fd, st->sbuf, (size_t)want, (off_t)fpos);
                if (got < REC_HEADER) {
                    log_error("store: cannot read segment %u at offset %llu to page messages in: %s", s->id,
                              (unsigned long long)fpos, got < 0 ? strerror(errno) : "short read");
                    free(big);
                    return taken ? taken : -1;
                }
                bpos = fpos;
                have = (size_t)got;
            }
            p = st->sbuf + (fpos - bpos);
            avail = have - (size_t)(fpos - bpos);
            len = amqp_get32(p);
            if ((uint64_t)len + REC_HEADER > avail && fpos + REC_HEADER + (uint64_t)len <= s->size) {
                if (fpos != bpos && (uint64_t)len + REC_HEADER <= SCAN_BUF) {
                    have = 0; /* read again from this record on */
                    continue;
                }
                free(big);
                if (len > REC_MAX || !(big = malloc((size_t)len + REC_HEADER)) ||
                    store_pread_full(s->fd, big, (size_t)len + REC_HEADER, (off_t)fpos) != (ssize_t)len + REC_HEADER) {
                    log_error("store: cannot read the record at segment %u offset %llu to page it in", s->id,
                              (unsigned long long)fpos);
                    free(big);
                    return taken ? taken : -1;
                }
                p = big;
                avail = (size_t)len + REC_HEADER;
            }
            ck = seg_record_check(p, avail, &size, &r);
            if ((ck == SEG_BAD_CRC || ck == SEG_BAD_PAYLOAD) && len <= REC_MAX &&
                fpos + REC_HEADER + (uint64_t)len <= s->size) {
                /* damaged where the broker wrote a good one: whoever it
                 * was for cannot have it (warren-check-store reports it);
                 * the records after it can be */
                log_error("store: segment %u offset %llu: %s; the message there is lost, see warren-check-store",
                          s->id, (unsigned long long)fpos, seg_check_str(ck));
                r.type = REC_PAD;
                size = REC_HEADER + (size_t)len;
            } else if (ck != SEG_OK) {
                log_error("store: segment %u offset %llu: %s; its messages are not paged in", s->id,
                          (unsigned long long)fpos, seg_check_str(ck));
                free(big);
                return taken ? taken : -1;
            }
            if (r.type == REC_MSG && !((r.flags & REC_FLAG_PAGED) && s->id < st->boot_seg))
                for (i = 0; i < r.nq && !mine; i++)
                    mine = amqp_get32(r.qids + 4 * i) == qid;
            if (mine) {
                uint32_t returns = 0;
                uint8_t kind = c->acks ? store_ackset_get(&c->acks->set, fpos, &returns) : 0;
                if (!(kind & ACK_KIND_ACK) &&
                    !((flags & STORE_SCAN_PURGED) &&
                      store_purge_covers(st, qid, r.seq, (kind & ACK_KIND_DELIVERED) != 0))) {
                    store_entry e = store_entry_of(&r, s->id, known_off(s, fpos), kind, returns);
                    int rc = fn(arg, &e);
                    if (rc < 0)
                        break; /* the cursor stays on it */
                    if (rc == 0)
                        taken++;
                }
            }
            if (p == big) {
                free(big);
                big = NULL;
                have = 0;
            }
            fpos += size;
            c->off = s->remap ? known_off(s, fpos - size) + 1 : (uint32_t)fpos;
        }
        if ((uint32_t)taken >= max)
            break;
        if (fpos < s->size)
            break; /* the callback stopped it */
        if (s == st->cur)
            break; /* the end of what is written */
        c->seg = s->id + 1;
        c->off = SEG_HEADER;
    }
    free(big);
    return taken;
}
