/*
 * segment.h - the bytes of the message store: segment files, their records,
 * and their ack files.  doc/store-format.md is the specification; this file
 * and segment.c are its only implementation, shared by the broker and by
 * warren-check-store.
 *
 * msgs/NNNNNNNNNN.seg  (segment id in decimal, zero-padded to 10 digits)
 *   header  16 bytes: "WSEG" | u32 version (1) | u32 segment id |
 *                     u32 generation (0, +1 at each compaction)
 *   records, back to back, until the end of the file:
 *     u32 length of the payload | u32 CRC-32C of the payload | payload
 *   payload of a message record (type 1, or type 2 for more than 65,535
 *   queues; the two differ only in the width of nq):
 *     u8 type | u8 flags | u16 nq (type 2: u32 nq) | u64 seq |
 *     u64 timestamp (ms) | u32 queue id * nq |
 *     u8 exlen | exchange | u8 rklen | routing key |
 *     u32 props length | properties (encoded as on the wire) |
 *     u32 body length | body
 *   flags bit 0: a transient message paged out of memory, not recovered
 *   payload of a padding record (type 0): anything (written by repair)
 *
 * msgs/NNNNNNNNNN.ack  (what happened to the messages of that segment)
 *   header  16 bytes: "WACK" | u32 version (1) | u32 segment id |
 *                     u32 generation of the segment file it describes
 *   entries of 16 bytes:
 *     u32 queue id | u32 record offset | u8 kind | u24 returns |
 *     u32 CRC-32C of the first 12 bytes
 *   kind 1: acknowledged (the message is gone from that queue); returns 0
 *   kind 2: delivered (it comes back after a restart as redelivered);
 *           returns: the times it had come back unacked before this
 *           delivery (0 in files of warren before the delivery count,
 *           where these bytes were zero)
 *   blank (all-zero) entries: space reserved ahead, skipped
 *
 * All integers are big-endian.
 */
#ifndef WARREN_SEGMENT_H
#define WARREN_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEG_MAGIC "WSEG"
#define ACK_MAGIC "WACK"
#define SEG_VERSION 1
#define SEG_HEADER 16
#define REC_HEADER 8
#define REC_MSG 1
#define REC_MSG_WIDE 2          /* a message record with a u32 queue count */
#define REC_PAD 0
#define REC_FLAG_PAGED 1        /* a transient message paged out: not recovered */
#define REC_MIN_MSG 30          /* a message payload with no queues */
#define REC_NQ_NARROW 65535u    /* the most queues a type 1 record names */
#define REC_MAX (1u << 30)
#define ACK_ENTRY 16
#define ACK_KIND_ACK 1
#define ACK_KIND_DELIVERED 2

/* A decoded message record; pointers into the record's bytes.  Both
 * message kinds (1 and 2) decode with type REC_MSG. */
typedef struct seg_record {
    uint8_t type, flags;
    uint32_t nq;
    uint64_t seq;
    uint64_t timestamp;         /* when warren received it, ms since the epoch
                                 * (at most SEG_MAX_TIMESTAMP: see there) */
    const uint8_t *qids;        /* nq big-endian u32 */
    const char *exchange;
    uint8_t exlen;
    const char *rk;
    uint8_t rklen;
    const uint8_t *props;
    uint32_t props_len;
    const uint8_t *body;
    uint32_t body_len;
} seg_record;

/* Bytes a message record takes on disk, header included (type 1 up to
 * REC_NQ_NARROW queues, type 2 past that). */
size_t seg_record_size(uint32_t nq, uint8_t exlen, uint8_t rklen, uint32_t props_len, uint32_t body_len);

/* Write a message record (header and payload) at out, which has room for
 * seg_record_size() bytes; returns that size. */
size_t seg_record_write(uint8_t *out, uint8_t flags, uint64_t seq, uint64_t timestamp, const uint32_t *qids,
                        uint32_t nq, const char *exchange,
                        uint8_t exlen, const char *rk, uint8_t rklen, const uint8_t *props, uint32_t props_len,
                        const uint8_t *body, uint32_t body_len);

enum seg_check {
    SEG_OK = 0,
    SEG_SHORT,          /* fewer bytes left than the record claims: a torn tail? */
    SEG_BAD_LENGTH,     /* length out of any sane range */
    SEG_BAD_CRC,
    SEG_BAD_PAYLOAD,    /* checksum fine, contents do not parse */
};

const char *seg_check_str(enum seg_check c);

/* Check the record at p (n bytes available); on SEG_OK *size is its size on
 * disk and *rec is decoded (type 0 records decode with type 0 only). */
enum seg_check seg_record_check(const uint8_t *p, size_t n, size_t *size, seg_record *rec);

/* Decode a payload without looking at any checksum (warren-check-store
 * uses it to say what a damaged record held). */
enum seg_check seg_payload_parse(const uint8_t *p, uint32_t len, seg_record *r);

/* Decode only the head of a message payload from its first n bytes: type
 * (REC_MSG), flags, nq, seq, timestamp and the queue ids.  Returns the
 * head's size, or 0 when p is not a message record or the head is not
 * all within n (compaction judges a big record by its head; check-store
 * reads what a damaged one named). */
size_t seg_payload_head(const uint8_t *p, size_t n, seg_record *r);
/* A timestamp read past this (2^62 ms, 146 million years: only a damaged
 * or hand-made record has one) is read as this, so that the broker's time
 * arithmetic (a published time plus a TTL or a delay) stays in int64_t. */
#define SEG_MAX_TIMESTAMP ((uint64_t)1 << 62)

/* Is there a valid record anywhere in p[0..n)?  Used to tell a torn tail
 * (nothing valid follows) from corruption (valid records follow). Returns
 * the offset of the first one found, or -1. */
long seg_find_valid(const uint8_t *p, size_t n);

/* Does the segment file whose n bytes are at p hold a complete record
 * (a valid one anywhere past its header)?  A torn tail in an older
 * segment is harmless when no newer segment does (doc/store-format.md):
 * confirms follow fdatasync, and syncs complete in order. */
bool seg_file_has_record(const uint8_t *p, size_t n);

/* Is there a record with a sane length and a matching checksum anywhere in
 * p[0..n), whatever its payload?  For the definitions file, whose records
 * share the framing.  Returns the offset of the first one, or -1. */
long seg_find_checksummed(const uint8_t *p, size_t n);

/* Header helpers: fill 16 bytes / check them (0 ok, -1 bad magic,
 * -2 unknown version; *version receives the version found). */
void seg_header_write(uint8_t *out, const char *magic, uint32_t id, uint32_t gen);
int seg_header_check(const uint8_t *p, size_t n, const char *magic, uint32_t *version, uint32_t *id);
/* The generation field of a checked header. */
uint32_t seg_header_gen(const uint8_t *p);

void seg_ack_write(uint8_t *out, uint32_t qid, uint32_t off, uint8_t kind, uint32_t returns);
/* 0 ok (fields set), -1 checksum or contents bad. */
int seg_ack_check(const uint8_t *p, uint32_t *qid, uint32_t *off, uint8_t *kind);
/* The returns field of a checked entry (24 bits). */
uint32_t seg_ack_returns(const uint8_t *p);
#define ACK_RETURNS_MAX 0xffffffu
/* An ack file may be longer than its entries: the broker reserves space
 * ahead (in steps) and writes entries into it, so the unused tail is zero.
 * A blank (all-zero) entry is never valid - its CRC would not match - and
 * is skipped wherever it is. */
bool seg_ack_is_blank(const uint8_t *p);
/* Where the entries of an ack file's first n bytes end: just past the last
 * entry that is not blank (SEG_HEADER when there is none).  The entry
 * before that end is the file's last one: if it fails its check, it is a
 * torn tail, not corruption. */
size_t seg_ack_end(const uint8_t *buf, size_t n);

/* "DIR/msgs/0000000042.seg" */
void seg_path(char *out, size_t n, const char *dir, uint32_t id, const char *ext);

#endif
