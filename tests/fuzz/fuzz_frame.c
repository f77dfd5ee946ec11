/*
 * fuzz_frame.c - libFuzzer target for the frame reader and what it feeds.
 *
 * The first input byte picks frame_max (0: no limit, else byte * 512); the
 * rest is a byte stream as a socket would deliver it.  Frames are parsed
 * one after another until the reader asks for more or refuses the stream;
 * method frames are decoded, content headers parsed and their basic
 * properties decoded, and everything decoded is re-encoded and decoded
 * again to the same values.  Tables met on the way are walked in full.
 *
 * Each fuzz target is built from one file plus src/amqp (see the Makefile),
 * so the shared test helpers are included here as source.
 */
#include "../unit/amqp_testutil.c"

static void check_method(const amqp_frame *f)
{
    const amqp_method_info *mi;
    amqp_method_args a, b;
    uint32_t id;
    uint8_t *enc;
    size_t n;
    int rc = amqp_method_frame_decode(f, &id, &a);

    if (rc != AMQP_OK) {
        TU_CHECK(rc == AMQP_ETRUNC || rc == AMQP_ETRAILING || rc == AMQP_EFIELDTYPE ||
                 rc == AMQP_ENESTING || rc == AMQP_EMETHOD || rc == AMQP_EUTF8);
        if (rc == AMQP_EMETHOD)
            TU_CHECK(!amqp_method_known(id));
        if (f->size < 4)
            TU_CHECK(rc == AMQP_ETRUNC && id == 0);
        return;
    }
    mi = tu_method(id);
    TU_CHECK(mi != NULL);
    for (size_t i = 0; i < mi->nfields; i++)
        if (!strcmp(mi->fields[i].type, "table")) {
            amqp_table t;
            memcpy(&t, (const uint8_t *)&a + mi->fields[i].offset, sizeof t);
            tu_walk_table(t);
        }
    n = amqp_method_size(id, &a);
    TU_CHECK(n + 4 == f->size);
    enc = malloc(n ? n : 1);
    TU_CHECK(enc != NULL);
    TU_CHECK(amqp_method_encode(id, &a, enc) == enc + n);
    TU_CHECK(amqp_method_decode(id, enc, n, &b) == AMQP_OK);
    TU_CHECK(tu_diff(mi->fields, mi->nfields, &a, &b) == -1);
    free(enc);
}

static void check_header(const amqp_frame *f)
{
    amqp_content_header h;
    amqp_basic_properties p, q;
    uint8_t *enc;
    size_t n;
    int rc = amqp_content_header_parse(f, &h);

    if (rc != AMQP_OK) {
        TU_CHECK(rc == AMQP_ETRUNC || rc == AMQP_ECLASS);
        return;
    }
    TU_CHECK(h.props == f->payload + 12 && h.props_len + 12 == f->size);
    if (h.class_id != AMQP_BASIC_CLASS)
        return;
    rc = amqp_basic_properties_decode(h.props, h.props_len, &p);
    if (rc != AMQP_OK) {
        TU_CHECK(rc == AMQP_ETRUNC || rc == AMQP_ETRAILING || rc == AMQP_EFIELDTYPE ||
                 rc == AMQP_ENESTING || rc == AMQP_EPROPFLAGS);
        return;
    }
    TU_CHECK((p.flags & 3) == 0);
    if (p.flags & AMQP_BASIC_HEADERS_FLAG)
        tu_walk_table(p.headers);
    /* extra flag words are dropped on re-encoding, nothing else */
    n = amqp_basic_properties_size(&p);
    TU_CHECK(n <= h.props_len && (h.props_len - n) % 2 == 0);
    enc = malloc(n);
    TU_CHECK(enc != NULL);
    TU_CHECK(amqp_basic_properties_encode(enc, &p) == enc + n);
    TU_CHECK(amqp_basic_properties_decode(enc, n, &q) == AMQP_OK);
    TU_CHECK(p.flags == q.flags);
    TU_CHECK(tu_diff(amqp_basic_property_fields, amqp_basic_property_count, &p, &q) == -1);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t frame_max;
    size_t off = 0;

    if (size < 1)
        return 0;
    frame_max = data[0] * 512u;
    data++, size--;
    while (off < size) {
        amqp_frame f;
        size_t left = size - off;
        long r = amqp_frame_parse(data + off, left, frame_max, &f);

        if (r < 0) {
            TU_CHECK(r == AMQP_EFRAMEEND || r == AMQP_EFRAMESIZE || r == AMQP_EFRAMETYPE);
            break;
        }
        if (r == 0) {
            if (left < AMQP_FRAME_HEADER_SIZE) {
                TU_CHECK(f.size == 0);
            } else {
                TU_CHECK(f.size == amqp_get32(data + off + 3));
                TU_CHECK((uint64_t)f.size + AMQP_FRAME_OVERHEAD > left);
            }
            break;
        }
        TU_CHECK((size_t)r == (size_t)f.size + AMQP_FRAME_OVERHEAD && (size_t)r <= left);
        TU_CHECK(frame_max == 0 || f.size <= frame_max);
        TU_CHECK(f.payload == data + off + AMQP_FRAME_HEADER_SIZE);
        TU_CHECK(data[off + (size_t)r - 1] == AMQP_FRAME_END);
        TU_CHECK(f.channel == amqp_get16(data + off + 1));
        if (f.type == AMQP_FRAME_METHOD)
            check_method(&f);
        else if (f.type == AMQP_FRAME_HEADER)
            check_header(&f);
        else
            TU_CHECK(f.type == AMQP_FRAME_BODY || f.type == AMQP_FRAME_HEARTBEAT);
        off += (size_t)r;
    }
    return 0;
}
