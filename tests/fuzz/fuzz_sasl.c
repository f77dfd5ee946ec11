/*
 * fuzz_sasl.c - libFuzzer target for the SASL responses of
 * connection.start-ok (src/proto/sasl.c): PLAIN and AMQPLAIN, as conn.c
 * decodes them before any password is checked.
 *
 * The first input byte picks the mechanism (PLAIN, AMQPLAIN, or - for
 * the rest of the values - a name taken from the input, which must be
 * refused as unknown unless it is one of the two), the rest is the
 * response.  Checked: a response is either taken, with a NUL-free user
 * name that fits and a password inside the response, or refused with
 * one of the three codes conn.c knows (syntax error, command invalid,
 * access refused) and a RabbitMQ-style text; PLAIN takes exactly what
 * has two NULs, and gives back the bytes between and after them.
 *
 * Built from this file, src/amqp, src/proto/sasl.c and src/error.c (the
 * Makefile's fuzz_fuzz_sasl_SRC).
 */
#include "../unit/amqp_testutil.c"

#include "proto/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char user[256];
    amqp_str mech, resp, pass = {0};
    amqp_error err = {0};
    const uint8_t *r;
    uint8_t *copy;
    size_t mlen, rlen;
    int rc;

    if (size < 1 || size > 1 << 20)
        return 0;
    /* after the selector: the response, or a length byte, the mechanism's name and the response */
    r = data + 1;
    rlen = size - 1;
    switch (data[0] % 4) {
    case 0:
    case 1:
        mech = amqp_cstr("PLAIN");
        break;
    case 2:
        mech = amqp_cstr("AMQPLAIN");
        break;
    default:
        mlen = rlen ? r[0] % 16 : 0;
        if (rlen == 0 || mlen > rlen - 1)
            return 0;
        mech = (amqp_str){(const char *)r + 1, (uint32_t)mlen};
        r += 1 + mlen;
        rlen -= 1 + mlen;
        break;
    }
    /* a copy of exactly the response's bytes, so that ASan sees any read past it */
    copy = malloc(rlen ? rlen : 1);
    TU_CHECK(copy != NULL);
    memcpy(copy, r, rlen);
    resp = (amqp_str){(const char *)copy, (uint32_t)rlen};

    rc = sasl_credentials(mech, resp, user, sizeof user, &pass, &err);
    if (rc == 0) {
        size_t ulen = strlen(user);
        TU_CHECK(ulen < sizeof user);
        TU_CHECK(pass.ptr >= resp.ptr && pass.ptr + pass.len <= resp.ptr + resp.len);
        if (amqp_str_eqc(mech, "PLAIN")) {
            const char *z1 = memchr(resp.ptr, 0, resp.len);
            TU_CHECK(z1 && !memcmp(z1 + 1, user, ulen) && z1[1 + ulen] == 0);
            TU_CHECK(pass.ptr == z1 + ulen + 2 && pass.ptr + pass.len == resp.ptr + resp.len);
        } else {
            TU_CHECK(amqp_str_eqc(mech, "AMQPLAIN"));
            TU_CHECK(amqp_table_validate((const uint8_t *)resp.ptr, resp.len, 0) == AMQP_OK);
        }
    } else {
        TU_CHECK(rc == -1);
        TU_CHECK(err.code == AMQP_SYNTAX_ERROR || err.code == AMQP_COMMAND_INVALID ||
                 err.code == AMQP_ACCESS_REFUSED);
        TU_CHECK(err.text[0] != 0 && strlen(err.text) < sizeof err.text);
        if (err.code == AMQP_COMMAND_INVALID)
            TU_CHECK(!amqp_str_eqc(mech, "PLAIN") && !amqp_str_eqc(mech, "AMQPLAIN"));
        if (amqp_str_eqc(mech, "PLAIN") && err.code == AMQP_SYNTAX_ERROR) {
            const char *z1 = memchr(resp.ptr, 0, resp.len);
            TU_CHECK(!z1 || !memchr(z1 + 1, 0, (size_t)(resp.ptr + resp.len - z1 - 1)));
        }
    }
    free(copy);
    return 0;
}
