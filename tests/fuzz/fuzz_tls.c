/*
 * fuzz_tls.c - libFuzzer target for the TLS server side (src/tls.c),
 * driven through OpenSSL memory BIOs instead of a socket.
 *
 * The first input byte picks what the rest is:
 *   even: raw bytes from a client, cut into reads at the positions the
 *         next bytes give: the record layer, ClientHello and its
 *         extensions, alerts, whatever comes before a handshake is done;
 *   odd:  the same bytes after a real handshake with an in-process
 *         OpenSSL client (TLS 1.2 or 1.3 by the byte's second bit): the
 *         first half goes as application data the client encrypts, the
 *         second half raw on the wire after it (forged or broken
 *         records, alerts, a renegotiation attempt on 1.2).
 * Checked on every input: tls_read returns bytes, 0, or -1 with EAGAIN or
 * a failure and never more than asked; what the client sent through a
 * good session arrives unchanged; tls_write and tls_close_notify after
 * anything are harmless; nothing leaks (LeakSanitizer).
 *
 * The server's certificate and key are made once, in memory, at start
 * (an EC P-256 key, self-signed), and written to a temp file for
 * tls_server_new, which reads files as the broker does.  Built from this
 * file and src/tls.c (the Makefile's fuzz_fuzz_tls_SRC), with -lssl.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

static tls_server *server;
static SSL_CTX *client_ctx;

static void make_server(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    char path[] = "/tmp/fuzz_tls_XXXXXX";
    int fd = mkstemp(path);
    FILE *f;
    char why[256];
    tls_options o = {.cert = path, .verify = TLS_VERIFY_NONE};

    assert(key && x && fd >= 0);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                               -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    assert(X509_sign(x, key, EVP_sha256()) > 0);
    f = fdopen(fd, "w");
    assert(f);
    PEM_write_X509(f, x);
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    if (tls_server_new(&server, &o, why, sizeof why) < 0) {
        fprintf(stderr, "fuzz_tls: %s\n", why);
        abort();
    }
    unlink(path);
    X509_free(x);
    EVP_PKEY_free(key);
    client_ctx = SSL_CTX_new(TLS_client_method());
    assert(client_ctx);
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    make_server();
    return 0;
}

/* Read everything the server will give; returns the bytes read into out
 * (up to cap), or -1 once the session failed or closed. */
static long drain(tls_conn *t, uint8_t *out, size_t cap)
{
    uint8_t buf[4096];
    size_t got = 0;

    for (;;) {
        ssize_t n = tls_read(t, buf, sizeof buf);
        if (n > 0) {
            assert((size_t)n <= sizeof buf);
            if (out && got + (size_t)n <= cap)
                memcpy(out + got, buf, (size_t)n);
            got += (size_t)n;
            continue;
        }
        if (n == 0)
            return -1;
        if (errno != EAGAIN) {
            assert(tls_error(t)[0]);
            return -1;
        }
        return (long)got;
    }
}

/* Move what the server wrote to the client's input, and the reverse. */
static void shuttle(BIO *from, BIO *to)
{
    char buf[4096];
    int n;
    while ((n = BIO_read(from, buf, sizeof buf)) > 0)
        BIO_write(to, buf, n);
}

static void raw(const uint8_t *data, size_t size)
{
    BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
    tls_conn *t;
    size_t pos = 0;

    assert(rbio && wbio);
    t = tls_conn_new_bio(server, rbio, wbio);
    assert(t);
    /* reads of 1..256 bytes at a time, the lengths taken from the input */
    while (pos < size) {
        size_t n = 1 + data[pos] % 256;
        pos++;
        if (n > size - pos)
            n = size - pos;
        BIO_write(rbio, data + pos, (int)n);
        pos += n;
        BIO_reset(wbio);
        if (drain(t, NULL, 0) < 0)
            break;
    }
    if (tls_handshake_done(t))
        (void)tls_write(t, "x", 1);
    tls_close_notify(t);
    tls_conn_free(t);
}

static void after_handshake(const uint8_t *data, size_t size, bool tls13)
{
    BIO *srd = BIO_new(BIO_s_mem()), *swr = BIO_new(BIO_s_mem());
    BIO *crd = BIO_new(BIO_s_mem()), *cwr = BIO_new(BIO_s_mem());
    SSL *c = SSL_new(client_ctx);
    tls_conn *t;
    uint8_t *got = malloc(size + 1);
    size_t half = size / 2;
    int i;
    long n;

    assert(srd && swr && crd && cwr && c && got);
    t = tls_conn_new_bio(server, srd, swr);
    assert(t);
    SSL_set_bio(c, crd, cwr);
    SSL_set_min_proto_version(c, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_set_max_proto_version(c, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_set_connect_state(c);
    for (i = 0; i < 8 && !(SSL_is_init_finished(c) && tls_handshake_done(t)); i++) {
        SSL_do_handshake(c);
        shuttle(cwr, srd);
        drain(t, NULL, 0);
        shuttle(swr, crd);
    }
    assert(SSL_is_init_finished(c) && tls_handshake_done(t));
    /* the first half through the client: arrives as it was sent */
    if (half > 0) {
        assert(SSL_write(c, data, (int)half) == (int)half);
        shuttle(cwr, srd);
        n = drain(t, got, size);
        assert(n == (long)half && !memcmp(got, data, half));
    }
    /* the server answers; the client reads it (tickets too) */
    assert(tls_write(t, "pong", 4) == 4);
    shuttle(swr, crd);
    {
        char buf[64];
        assert(SSL_read(c, buf, sizeof buf) == 4 && !memcmp(buf, "pong", 4));
    }
    /* the second half raw on the wire */
    BIO_write(srd, data + half, (int)(size - half));
    drain(t, NULL, 0);
    (void)tls_write(t, "after", 5);
    tls_close_notify(t);
    tls_conn_free(t);
    SSL_free(c);
    free(got);
    ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    if (data[0] & 1)
        after_handshake(data + 1, size - 1, (data[0] & 2) != 0);
    else
        raw(data + 1, size - 1);
    return 0;
}
