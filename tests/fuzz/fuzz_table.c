/*
 * fuzz_table.c - libFuzzer target for field tables (src/amqp/table.c).
 *
 * The input is the body of a field table (the bytes after its length).  If
 * amqp_table_validate accepts it, everything in it is walked with the
 * iterators (tu_walk_table checks they end where the table ends and agree
 * with count/get), and the table is rebuilt entry by entry with amqp_tbuf,
 * in order and reversed: the copies must validate and be equivalent to the
 * original.  Equivalence is only required for tables whose keys are unique
 * and free of NUL octets (see the report on amqp_table_equiv).
 *
 * Each fuzz target is built from one file plus src/amqp (see the Makefile),
 * so the shared test helpers are included here as source.
 */
#include "../unit/amqp_testutil.c"

struct entry {
    amqp_str key;
    amqp_value val;
};

static void put_entry(amqp_tbuf *b, const struct entry *e)
{
    uint8_t klen = (uint8_t)e->key.len;
    amqp_tbuf_raw(b, &klen, 1);
    amqp_tbuf_raw(b, e->key.ptr, e->key.len);
    amqp_tbuf_put_value(b, &e->val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    amqp_table t = {data, (uint32_t)size};
    amqp_table_iter it;
    struct entry *e;
    size_t n = 0, cap;
    bool plain = true;
    amqp_tbuf fwd = {0}, rev = {0};
    int rc;

    if (size > 1 << 20)
        return 0;
    rc = amqp_table_validate(data, size, 0);
    if (rc != AMQP_OK) {
        TU_CHECK(rc == AMQP_ETRUNC || rc == AMQP_EFIELDTYPE || rc == AMQP_ENESTING);
        return 0;
    }
    tu_walk_table(t);

    cap = amqp_table_count(t);
    e = calloc(cap ? cap : 1, sizeof *e);
    TU_CHECK(e != NULL);
    amqp_table_iter_init(&it, t);
    while (amqp_table_next(&it, &e[n].key, &e[n].val)) {
        TU_CHECK(n < cap);
        if (memchr(e[n].key.ptr, 0, e[n].key.len))
            plain = false;
        for (size_t j = 0; j < n; j++)
            if (amqp_str_eq(e[j].key, e[n].key))
                plain = false;
        n++;
    }
    TU_CHECK(n == cap);

    if (n == 0) { /* an empty amqp_tbuf is {NULL, 0}: see the report on table.c */
        free(e);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        put_entry(&fwd, &e[i]);
        put_entry(&rev, &e[n - 1 - i]);
    }
    TU_CHECK(!fwd.oom && !rev.oom);
    TU_CHECK(fwd.len == rev.len);
    TU_CHECK(amqp_table_validate(fwd.buf, fwd.len, 0) == AMQP_OK);
    TU_CHECK(amqp_table_validate(rev.buf, rev.len, 0) == AMQP_OK);
    TU_CHECK(amqp_table_count(amqp_tbuf_done(&rev)) == n);
    if (plain) {
        TU_CHECK(amqp_table_equiv(t, amqp_tbuf_done(&fwd)));
        TU_CHECK(amqp_table_equiv(amqp_tbuf_done(&fwd), t));
        TU_CHECK(amqp_table_equiv(t, amqp_tbuf_done(&rev)));
        TU_CHECK(amqp_table_equiv(amqp_tbuf_done(&rev), t));
        for (size_t i = 0; i < n; i++) {
            char name[256];
            amqp_value v;
            memcpy(name, e[i].key.ptr, e[i].key.len);
            name[e[i].key.len] = 0;
            TU_CHECK(amqp_table_get(t, name, &v));
            TU_CHECK(amqp_value_eq(&v, &e[i].val));
        }
    }
    amqp_tbuf_free(&fwd);
    amqp_tbuf_free(&rev);
    free(e);
    return 0;
}
