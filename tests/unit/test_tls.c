/*
 * test_tls.c - src/tls.c without sockets: the server side through memory
 * BIOs against an in-process OpenSSL client, with certificates made here
 * in memory (a CA, the server's, a client's) and written to a temp
 * directory for tls_server_new, which reads files as the broker does.
 * Also obuf_flush_with (ev/buf.c), the output path of a TLS connection.
 *
 * What is checked: a handshake and data both ways, a read that stops at
 * the caller's buffer leaving the rest pending (tls_pending), the client
 * certificate's CN and RFC 4514 DN for EXTERNAL, no name without a
 * verified certificate, TLS 1.1 refused with a reason, bad files refused
 * with their names, a reload keeping sessions and swapping the context,
 * and partial and blocked writes through obuf_flush_with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ev/buf.h"
#include "tls.h"

static char dir[] = "/tmp/test_tls_XXXXXX";
static char ca_path[300], srv_path[300], cli_cert[300], cli_key[300];
static EVP_PKEY *ca_key;
static X509 *ca_cert;

static X509 *make_cert(EVP_PKEY *key, const char *o, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_get_subject_name(x);
    static long serial = 1;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
    X509_set_pubkey(x, key);
    if (o)
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)o, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    if (ca) {
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (x)
        PEM_write_X509(f, x);
    if (key)
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static int setup(void **state)
{
    EVP_PKEY *sk, *ck;
    X509 *sx, *cx;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(ca_path, sizeof ca_path, "%s/ca.pem", dir);
    snprintf(srv_path, sizeof srv_path, "%s/server.pem", dir);
    snprintf(cli_cert, sizeof cli_cert, "%s/alice.pem", dir);
    snprintf(cli_key, sizeof cli_key, "%s/alice.key", dir);
    ca_key = EVP_EC_gen("P-256");
    ca_cert = make_cert(ca_key, "warren tests", "test CA", NULL, NULL, true);
    write_pem(ca_path, ca_cert, NULL);
    sk = EVP_EC_gen("P-256");
    sx = make_cert(sk, NULL, "localhost", ca_cert, ca_key, false);
    write_pem(srv_path, sx, sk); /* certificate and key in one file */
    ck = EVP_EC_gen("P-256");
    cx = make_cert(ck, "warren tests", "alice", ca_cert, ca_key, false);
    write_pem(cli_cert, cx, NULL);
    write_pem(cli_key, NULL, ck);
    X509_free(sx);
    X509_free(cx);
    EVP_PKEY_free(sk);
    EVP_PKEY_free(ck);
    return 0;
}

static int teardown(void **state)
{
    char cmd[400];
    (void)state;
    X509_free(ca_cert);
    EVP_PKEY_free(ca_key);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- a client and a server over memory BIOs -------------------------- */

typedef struct pair {
    tls_conn *srv;
    SSL *cli;
    SSL_CTX *cctx;
    BIO *srd, *swr, *crd, *cwr;     /* server's input/output, client's */
} pair;

static void shuttle(BIO *from, BIO *to)
{
    char buf[4096];
    int n;
    while ((n = BIO_read(from, buf, sizeof buf)) > 0)
        assert_int_equal(BIO_write(to, buf, n), n);
}

static void pair_open(pair *p, tls_server *s, bool client_cert, int max_version)
{
    memset(p, 0, sizeof *p);
    p->srd = BIO_new(BIO_s_mem());
    p->swr = BIO_new(BIO_s_mem());
    p->crd = BIO_new(BIO_s_mem());
    p->cwr = BIO_new(BIO_s_mem());
    p->srv = tls_conn_new_bio(s, p->srd, p->swr);
    assert_non_null(p->srv);
    p->cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(p->cctx, 0);
    SSL_CTX_set_min_proto_version(p->cctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(p->cctx, max_version);
    assert_int_equal(SSL_CTX_load_verify_locations(p->cctx, ca_path, NULL), 1);
    SSL_CTX_set_verify(p->cctx, SSL_VERIFY_PEER, NULL);
    if (client_cert) {
        assert_int_equal(SSL_CTX_use_certificate_file(p->cctx, cli_cert, SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(p->cctx, cli_key, SSL_FILETYPE_PEM), 1);
    }
    p->cli = SSL_new(p->cctx);
    SSL_set_bio(p->cli, p->crd, p->cwr);
    SSL_set_connect_state(p->cli);
}

/* Run the handshake: true when both ends finished it. */
static bool pair_handshake(pair *p)
{
    char buf[64];
    int i;
    for (i = 0; i < 10; i++) {
        SSL_do_handshake(p->cli);
        shuttle(p->cwr, p->srd);
        if (tls_read(p->srv, buf, sizeof buf) < 0 && errno != EAGAIN)
            return false;
        shuttle(p->swr, p->crd);
        if (SSL_is_init_finished(p->cli) && tls_handshake_done(p->srv))
            return true;
    }
    return false;
}

static void pair_close(pair *p)
{
    tls_conn_free(p->srv);
    SSL_free(p->cli);
    SSL_CTX_free(p->cctx);
    ERR_clear_error();
}

static tls_server *server(int verify)
{
    tls_options o = {.cert = srv_path, .ca = ca_path, .verify = verify};
    tls_server *s;
    char why[256];
    assert_int_equal(tls_server_new(&s, &o, why, sizeof why), 0);
    return s;
}

/* ---- the tests --------------------------------------------------------- */

static void test_data_both_ways_and_pending(void **state)
{
    tls_server *s = server(TLS_VERIFY_NONE);
    pair p;
    char big[40000], got[50000], small[100];
    size_t have = 0;
    ssize_t n;

    (void)state;
    pair_open(&p, s, false, TLS1_3_VERSION);
    assert_true(pair_handshake(&p));
    assert_string_equal(tls_protocol(p.srv), "TLSv1.3");
    memset(big, 'x', sizeof big);
    assert_int_equal(SSL_write(p.cli, big, sizeof big), (int)sizeof big);
    shuttle(p.cwr, p.srd);
    /* a small buffer: the rest stays decrypted or buffered inside */
    n = tls_read(p.srv, small, sizeof small);
    assert_int_equal(n, (ssize_t)sizeof small);
    assert_true(tls_pending(p.srv));
    memcpy(got, small, (size_t)n);
    have = (size_t)n;
    while ((n = tls_read(p.srv, got + have, sizeof got - have)) > 0)
        have += (size_t)n;
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(have, sizeof big);
    assert_memory_equal(got, big, sizeof big);
    assert_false(tls_pending(p.srv));
    /* and back */
    assert_int_equal(tls_write(p.srv, "pong", 4), 4);
    shuttle(p.swr, p.crd);
    assert_int_equal(SSL_read(p.cli, small, sizeof small), 4);
    assert_memory_equal(small, "pong", 4);
    /* the client's close_notify reads as end of file */
    SSL_shutdown(p.cli);
    shuttle(p.cwr, p.srd);
    assert_int_equal(tls_read(p.srv, small, sizeof small), 0);
    pair_close(&p);
    tls_server_free(s);
}

static void test_client_certificate_names(void **state)
{
    tls_server *s = server(TLS_VERIFY_PEER);
    pair p;
    char name[256];

    (void)state;
    pair_open(&p, s, true, TLS1_3_VERSION);
    assert_true(pair_handshake(&p));
    assert_true(tls_peer_verified(p.srv));
    assert_int_equal(tls_peer_name(p.srv, false, name, sizeof name), 0);
    assert_string_equal(name, "alice");
    assert_int_equal(tls_peer_name(p.srv, true, name, sizeof name), 0);
    assert_string_equal(name, "CN=alice,O=warren tests");
    /* too small a buffer: no name rather than a cut one */
    assert_int_equal(tls_peer_name(p.srv, true, name, 5), -1);
    pair_close(&p);
    /* without a certificate there is no name */
    pair_open(&p, s, false, TLS1_2_VERSION);
    assert_true(pair_handshake(&p));
    assert_string_equal(tls_protocol(p.srv), "TLSv1.2");
    assert_false(tls_peer_verified(p.srv));
    assert_int_equal(tls_peer_name(p.srv, false, name, sizeof name), -1);
    pair_close(&p);
    tls_server_free(s);
}

static void test_tls_1_1_refused(void **state)
{
    tls_server *s = server(TLS_VERIFY_NONE);
    pair p;

    (void)state;
    pair_open(&p, s, false, TLS1_1_VERSION);
    assert_false(pair_handshake(&p));
    assert_non_null(strstr(tls_error(p.srv), "TLS handshake failed"));
    assert_non_null(strstr(tls_error(p.srv), "protocol"));
    pair_close(&p);
    tls_server_free(s);
}

static void test_bad_files_refused(void **state)
{
    tls_server *s = NULL;
    char why[512], bad[300];
    tls_options o = {.cert = cli_cert, .key = NULL};

    (void)state;
    /* alice.pem has no key in it */
    assert_int_equal(tls_server_new(&s, &o, why, sizeof why), -1);
    assert_null(s);
    assert_non_null(strstr(why, "cannot load the private key"));
    /* a key that is not the certificate's */
    o.key = cli_key;
    o.cert = srv_path;
    assert_int_equal(tls_server_new(&s, &o, why, sizeof why), -1);
    assert_non_null(strstr(why, "does not match the certificate"));
    snprintf(bad, sizeof bad, "%s/none.pem", dir);
    o = (tls_options){.cert = bad};
    assert_int_equal(tls_server_new(&s, &o, why, sizeof why), -1);
    assert_non_null(strstr(why, bad));
    o = (tls_options){.cert = srv_path, .verify = TLS_VERIFY_REQUIRE};
    assert_int_equal(tls_server_new(&s, &o, why, sizeof why), -1);
    assert_non_null(strstr(why, "needs --tls-ca"));
}

static void test_reload_keeps_sessions(void **state)
{
    char cpy[300], why[512], buf[16];
    tls_options o;
    tls_server *s;
    pair p, q;
    FILE *f;

    (void)state;
    snprintf(cpy, sizeof cpy, "%s/reload.pem", dir);
    {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", srv_path, cpy);
        assert_int_equal(system(cmd), 0);
    }
    o = (tls_options){.cert = cpy};
    assert_int_equal(tls_server_new(&s, &o, why, sizeof why), 0);
    pair_open(&p, s, false, TLS1_3_VERSION);
    assert_true(pair_handshake(&p));
    assert_int_equal(tls_server_reload(s, why, sizeof why), 0);
    /* the open session goes on after the swap */
    assert_int_equal(SSL_write(p.cli, "hi", 2), 2);
    shuttle(p.cwr, p.srd);
    assert_int_equal(tls_read(p.srv, buf, sizeof buf), 2);
    /* a broken file: refused, the context in use stays */
    f = fopen(cpy, "w");
    fputs("garbage\n", f);
    fclose(f);
    assert_int_equal(tls_server_reload(s, why, sizeof why), -1);
    assert_non_null(strstr(why, cpy));
    pair_open(&q, s, false, TLS1_3_VERSION);
    assert_true(pair_handshake(&q));
    pair_close(&q);
    pair_close(&p);
    tls_server_free(s);
}

/* ---- obuf_flush_with --------------------------------------------------- */

typedef struct sink {
    uint8_t data[100000];
    size_t len;
    size_t max_per_call;    /* a partial write takes at most this */
    int calls_before_block; /* then "would block" once */
} sink;

static ssize_t sink_write(void *ctx, const void *p, size_t n)
{
    sink *k = ctx;
    if (k->calls_before_block-- == 0)
        return 0;
    if (n > k->max_per_call)
        n = k->max_per_call;
    memcpy(k->data + k->len, p, n);
    k->len += n;
    return (ssize_t)n;
}

static void test_obuf_flush_with_partial_and_blocked(void **state)
{
    obuf b = {0};
    sink *k = calloc(1, sizeof *k);
    uint8_t in[50000];
    size_t i;
    ssize_t w;

    (void)state;
    for (i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7);
    for (i = 0; i < sizeof in; i += 1000)
        assert_int_equal(obuf_append(&b, in + i, 1000), 0);
    k->max_per_call = 3000;
    k->calls_before_block = 4;
    w = obuf_flush_with(&b, sink_write, k);
    assert_int_equal(w, 12000);
    assert_int_equal(b.bytes, sizeof in - 12000);
    k->calls_before_block = -1;
    w = obuf_flush_with(&b, sink_write, k);
    assert_int_equal(w, (ssize_t)(sizeof in - 12000));
    assert_int_equal(b.bytes, 0);
    assert_null(b.head);
    assert_int_equal(k->len, sizeof in);
    assert_memory_equal(k->data, in, sizeof in);
    free(k);
    obuf_release_cache();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_both_ways_and_pending),
        cmocka_unit_test(test_client_certificate_names),
        cmocka_unit_test(test_tls_1_1_refused),
        cmocka_unit_test(test_bad_files_refused),
        cmocka_unit_test(test_reload_keeps_sessions),
        cmocka_unit_test(test_obuf_flush_with_partial_and_blocked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
