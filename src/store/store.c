/*
 * store.c - placeholder until the durable store lands: nothing persists.
 */
#include "store/store.h"

int store_open(store **st, broker *b, const char *dir)
{
    (void)b, (void)dir;
    *st = NULL;
    return 0;
}
void store_flush(store *st) { (void)st; }
void store_tick(store *st) { (void)st; }
void store_close(store *st) { (void)st; }
int store_put(store *st, uint32_t qid, msg *m, uint64_t seq, uint32_t *seg, uint32_t *off)
{
    (void)st, (void)qid, (void)m, (void)seq, (void)seg, (void)off;
    return -1;
}
void store_ack(store *st, uint32_t qid, uint32_t seg, uint32_t off, uint64_t seq)
{
    (void)st, (void)qid, (void)seg, (void)off, (void)seq;
}
msg *store_read(store *st, uint32_t seg, uint32_t off)
{
    (void)st, (void)seg, (void)off;
    return NULL;
}
int store_queue_declared(store *st, queue *q) { (void)st, (void)q; return 0; }
void store_queue_deleted(store *st, uint32_t qid) { (void)st, (void)qid; }
