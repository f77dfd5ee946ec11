/*
 * segment.c - encoding and checking of store records; see segment.h and
 * doc/store-format.md.  No I/O here: callers hand in bytes.
 */
#include "store/segment.h"

#include <stdio.h>
#include <string.h>

#include "amqp/wire.h"
#include "store/crc32c.h"

/* A type 2 record's head is 2 bytes longer: a u32 queue count */
static size_t head_size(uint32_t nq)
{
    return nq > REC_NQ_NARROW ? REC_MIN_MSG + 2 : REC_MIN_MSG;
}

size_t seg_record_size(uint32_t nq, uint8_t exlen, uint8_t rklen, uint32_t props_len, uint32_t body_len)
{
    return REC_HEADER + head_size(nq) + 4u * (size_t)nq + exlen + rklen + (size_t)props_len + body_len;
}

size_t seg_record_write(uint8_t *out, uint8_t flags, uint64_t seq, uint64_t timestamp, const uint32_t *qids,
                        uint32_t nq, const char *exchange,
                        uint8_t exlen, const char *rk, uint8_t rklen, const uint8_t *props, uint32_t props_len,
                        const uint8_t *body, uint32_t body_len)
{
    size_t size = seg_record_size(nq, exlen, rklen, props_len, body_len);
    uint8_t *p = out + REC_HEADER;
    uint32_t i;

    if (nq > REC_NQ_NARROW) {
        *p++ = REC_MSG_WIDE;
        *p++ = flags;
        p = amqp_put32(p, nq);
    } else {
        *p++ = REC_MSG;
        *p++ = flags;
        p = amqp_put16(p, (uint16_t)nq);
    }
    p = amqp_put64(p, seq);
    p = amqp_put64(p, timestamp);
    for (i = 0; i < nq; i++)
        p = amqp_put32(p, qids[i]);
    *p++ = exlen;
    memcpy(p, exchange, exlen);
    p += exlen;
    *p++ = rklen;
    memcpy(p, rk, rklen);
    p += rklen;
    p = amqp_put32(p, props_len);
    if (props_len)
        memcpy(p, props, props_len);
    p += props_len;
    p = amqp_put32(p, body_len);
    if (body_len)
        memcpy(p, body, body_len);
    amqp_put32(out, (uint32_t)(size - REC_HEADER));
    amqp_put32(out + 4, crc32c(0, out + REC_HEADER, size - REC_HEADER));
    return size;
}

size_t seg_payload_head(const uint8_t *p, size_t n, seg_record *r)
{
    size_t fixed;

    memset(r, 0, sizeof *r);
    if (n < 20 || (p[0] != REC_MSG && p[0] != REC_MSG_WIDE))
        return 0;
    r->type = REC_MSG;
    r->flags = p[1];
    if (p[0] == REC_MSG_WIDE) {
        if (n < 22)
            return 0;
        r->nq = amqp_get32(p + 2);
        fixed = 22;
    } else {
        r->nq = amqp_get16(p + 2);
        fixed = 20;
    }
    r->seq = amqp_get64(p + fixed - 16);
    r->timestamp = amqp_get64(p + fixed - 8);
    if (r->timestamp > SEG_MAX_TIMESTAMP)
        r->timestamp = SEG_MAX_TIMESTAMP;
    if ((n - fixed) / 4 < r->nq)
        return 0;
    r->qids = p + fixed;
    return fixed + 4u * (size_t)r->nq;
}

const char *seg_check_str(enum seg_check c)
{
    switch (c) {
    case SEG_OK: return "ok";
    case SEG_SHORT: return "record runs past the end of the file";
    case SEG_BAD_LENGTH: return "impossible record length";
    case SEG_BAD_CRC: return "checksum mismatch";
    case SEG_BAD_PAYLOAD: return "record contents do not parse";
    }
    return "?";
}

enum seg_check seg_payload_parse(const uint8_t *p, uint32_t len, seg_record *r)
{
    const uint8_t *end = p + len;
    size_t head;

    memset(r, 0, sizeof *r);
    r->type = p[0];
    if (r->type == REC_PAD)
        return SEG_OK;
    if ((r->type != REC_MSG && r->type != REC_MSG_WIDE) || len < REC_MIN_MSG)
        return SEG_BAD_PAYLOAD;
    head = seg_payload_head(p, len, r);
    if (!head)
        return SEG_BAD_PAYLOAD;
    p += head;
    if (end - p < 1)
        return SEG_BAD_PAYLOAD;
    r->exlen = *p++;
    if ((size_t)(end - p) < (size_t)r->exlen + 1)
        return SEG_BAD_PAYLOAD;
    r->exchange = (const char *)p;
    p += r->exlen;
    r->rklen = *p++;
    if ((size_t)(end - p) < (size_t)r->rklen + 4)
        return SEG_BAD_PAYLOAD;
    r->rk = (const char *)p;
    p += r->rklen;
    r->props_len = amqp_get32(p);
    p += 4;
    if ((size_t)(end - p) < (size_t)r->props_len + 4)
        return SEG_BAD_PAYLOAD;
    r->props = p;
    p += r->props_len;
    r->body_len = amqp_get32(p);
    p += 4;
    if ((size_t)(end - p) != r->body_len)
        return SEG_BAD_PAYLOAD;
    r->body = p;
    return SEG_OK;
}

enum seg_check seg_record_check(const uint8_t *p, size_t n, size_t *size, seg_record *rec)
{
    uint32_t len;

    if (n < REC_HEADER)
        return SEG_SHORT;
    len = amqp_get32(p);
    if (len == 0 || len > REC_MAX)
        return SEG_BAD_LENGTH;
    if (n - REC_HEADER < len)
        return SEG_SHORT;
    if (crc32c(0, p + REC_HEADER, len) != amqp_get32(p + 4))
        return SEG_BAD_CRC;
    *size = REC_HEADER + (size_t)len;
    return seg_payload_parse(p + REC_HEADER, len, rec);
}

long seg_find_valid(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i + REC_HEADER + 1 <= n; i++) {
        uint32_t len = amqp_get32(p + i);
        size_t size;
        seg_record r;
        /* cheap filters before the checksum: a sane length that fits, and
         * a known record type */
        if (len < 1 || len > REC_MAX || len > n - i - REC_HEADER)
            continue;
        if (p[i + REC_HEADER] != REC_MSG && p[i + REC_HEADER] != REC_MSG_WIDE && p[i + REC_HEADER] != REC_PAD)
            continue;
        if (seg_record_check(p + i, n - i, &size, &r) == SEG_OK)
            return (long)i;
    }
    return -1;
}

bool seg_file_has_record(const uint8_t *p, size_t n)
{
    return n > SEG_HEADER && seg_find_valid(p + SEG_HEADER, n - SEG_HEADER) >= 0;
}

long seg_find_checksummed(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i + REC_HEADER + 1 <= n; i++) {
        uint32_t len = amqp_get32(p + i);
        if (len < 1 || len > REC_MAX || len > n - i - REC_HEADER)
            continue;
        if (crc32c(0, p + i + REC_HEADER, len) == amqp_get32(p + i + 4))
            return (long)i;
    }
    return -1;
}

void seg_header_write(uint8_t *out, const char *magic, uint32_t id, uint32_t gen)
{
    memcpy(out, magic, 4);
    amqp_put32(out + 4, SEG_VERSION);
    amqp_put32(out + 8, id);
    amqp_put32(out + 12, gen);
}

uint32_t seg_header_gen(const uint8_t *p)
{
    return amqp_get32(p + 12);
}

int seg_header_check(const uint8_t *p, size_t n, const char *magic, uint32_t *version, uint32_t *id)
{
    if (n < SEG_HEADER || memcmp(p, magic, 4) != 0)
        return -1;
    *version = amqp_get32(p + 4);
    *id = amqp_get32(p + 8);
    return *version == SEG_VERSION ? 0 : -2;
}

void seg_ack_write(uint8_t *out, uint32_t qid, uint32_t off, uint8_t kind, uint32_t returns)
{
    if (returns > ACK_RETURNS_MAX)
        returns = ACK_RETURNS_MAX;
    amqp_put32(out, qid);
    amqp_put32(out + 4, off);
    out[8] = kind;
    out[9] = (uint8_t)(returns >> 16);
    out[10] = (uint8_t)(returns >> 8);
    out[11] = (uint8_t)returns;
    amqp_put32(out + 12, crc32c(0, out, 12));
}

uint32_t seg_ack_returns(const uint8_t *p)
{
    return (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
}

int seg_ack_check(const uint8_t *p, uint32_t *qid, uint32_t *off, uint8_t *kind)
{
    if (crc32c(0, p, 12) != amqp_get32(p + 12))
        return -1;
    if (p[8] != ACK_KIND_ACK && p[8] != ACK_KIND_DELIVERED)
        return -1;
    *qid = amqp_get32(p);
    *off = amqp_get32(p + 4);
    *kind = p[8];
    return 0;
}

bool seg_ack_is_blank(const uint8_t *p)
{
    static const uint8_t zero[ACK_ENTRY];
    return memcmp(p, zero, ACK_ENTRY) == 0;
}

size_t seg_ack_end(const uint8_t *buf, size_t n)
{
    size_t end = n < SEG_HEADER ? SEG_HEADER : n - (n - SEG_HEADER) % ACK_ENTRY;
    while (end > SEG_HEADER && seg_ack_is_blank(buf + end - ACK_ENTRY))
        end -= ACK_ENTRY;
    return end;
}

void seg_path(char *out, size_t n, const char *dir, uint32_t id, const char *ext)
{
    snprintf(out, n, "%s/msgs/%010u.%s", dir, id, ext);
}
