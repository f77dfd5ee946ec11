/*
 * fuzz_method.c - libFuzzer target for the generated method decoders.
 *
 * The first 4 input bytes pick a method from amqp_methods[] (modulo their
 * number), the rest is decoded as that method's arguments.  When the
 * decoder accepts them, the arguments are re-encoded: the encoding must be
 * exactly as long as the input (decoders use every byte), decode to the
 * same fields, and encode again to the same bytes; the same arguments sent
 * through a whole frame must come back unchanged too.
 *
 * Each fuzz target is built from one file plus src/amqp (see the Makefile),
 * so the shared test helpers are included here as source.
 */
#include "../unit/amqp_testutil.c"

static void walk_tables(const amqp_method_info *mi, const void *s)
{
    for (size_t i = 0; i < mi->nfields; i++) {
        amqp_table t;
        if (strcmp(mi->fields[i].type, "table"))
            continue;
        memcpy(&t, (const uint8_t *)s + mi->fields[i].offset, sizeof t);
        tu_walk_table(t);
    }
}

/* Whether a shortstr argument is not UTF-8: the decoders read every field
 * before they check, so the struct is whole even for AMQP_EUTF8. */
static bool bad_utf8(const amqp_method_info *mi, const void *s)
{
    for (size_t i = 0; i < mi->nfields; i++) {
        amqp_str v;
        if (strcmp(mi->fields[i].type, "shortstr"))
            continue;
        memcpy(&v, (const uint8_t *)s + mi->fields[i].offset, sizeof v);
        if (!amqp_utf8_ok(v.ptr, v.len))
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const amqp_method_info *mi;
    amqp_method_args a, b;
    uint8_t *enc, *enc2, *frame;
    size_t n, flen;
    amqp_frame f;
    uint32_t id;
    int rc;

    if (size < 4)
        return 0;
    mi = &amqp_methods[amqp_get32(data) % amqp_method_count];
    rc = amqp_method_decode(mi->id, data + 4, size - 4, &a);
    if (rc == AMQP_EUTF8) {
        TU_CHECK(!amqp_method_has_content(mi->id) && bad_utf8(mi, &a));
        return 0;
    }
    if (rc != AMQP_OK) {
        TU_CHECK(rc == AMQP_ETRUNC || rc == AMQP_ETRAILING || rc == AMQP_EFIELDTYPE ||
                 rc == AMQP_ENESTING);
        return 0;
    }
    /* methods without content have only UTF-8 shortstrs (RabbitMQ's check) */
    TU_CHECK(amqp_method_has_content(mi->id) || !bad_utf8(mi, &a));
    walk_tables(mi, &a);

    n = amqp_method_size(mi->id, &a);
    TU_CHECK(n == size - 4);
    enc = malloc(n ? n : 1);
    enc2 = malloc(n ? n : 1);
    TU_CHECK(enc && enc2);
    TU_CHECK(amqp_method_encode(mi->id, &a, enc) == enc + n);
    TU_CHECK(amqp_method_decode(mi->id, enc, n, &b) == AMQP_OK);
    TU_CHECK(tu_diff(mi->fields, mi->nfields, &a, &b) == -1);
    TU_CHECK(amqp_method_encode(mi->id, &b, enc2) == enc2 + n);
    TU_CHECK(n == 0 || memcmp(enc, enc2, n) == 0);

    flen = amqp_method_frame_size(mi->id, &a);
    TU_CHECK(flen == n + 12);
    frame = malloc(flen);
    TU_CHECK(frame != NULL);
    TU_CHECK(amqp_write_method(frame, flen, 7, mi->id, &a) == (long)flen);
    TU_CHECK(amqp_frame_parse(frame, flen, 0, &f) == (long)flen);
    TU_CHECK(amqp_method_frame_decode(&f, &id, &b) == AMQP_OK);
    TU_CHECK(id == mi->id);
    TU_CHECK(tu_diff(mi->fields, mi->nfields, &a, &b) == -1);

    free(frame);
    free(enc2);
    free(enc);
    return 0;
}
