/*
 * tls.c - TLS on OpenSSL 3 for the loop's sockets: see tls.h.
 *
 * Policy, fixed rather than configurable (as a broker should ship it):
 * TLS 1.2 and 1.3 only; the server's cipher order (ECDHE with AES-GCM or
 * ChaCha20 for 1.2, OpenSSL's 1.3 suites); no renegotiation, no
 * compression; session resumption by the server's session cache (1.2)
 * and stateless tickets (1.2 and 1.3), whose keys survive a reload so a
 * SIGHUP does not cost every client a full handshake.
 *
 * Memory: no SSL object exists until the client's first record is whole
 * in the socket (wait_hello), so a client that connects and stalls, even
 * half way through its ClientHello, costs the caller's connection only.
 * SSL_MODE_RELEASE_BUFFERS gives back the read and write buffers (some 34
 * KiB) whenever a session has nothing in flight, so an idle TLS
 * connection costs OpenSSL's session state only (doc/tls.md has the
 * figures).  Mid-handshake a session holds at most the handshake message
 * in flight, which OpenSSL bounds (the largest certificate list it
 * accepts is set below), until the caller's handshake timer drops it.
 *
 * Nothing here blocks and nothing here knows the loop: the caller's
 * socket is non-blocking, and every call reports what it waits for.
 */
#include "tls.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* RabbitMQ (Erlang's ssl) offers the same families first. */
#define TLS12_CIPHERS "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
                      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
/* A client certificate chain larger than this is refused mid-handshake:
 * what one unauthenticated peer can make the broker buffer. */
#define TLS_MAX_CERT_LIST (32 * 1024)
#define TICKET_KEYS_LEN 80
#define TLS_READ_BUFFER (64 * 1024)
/* the largest record TLS allows on the wire (RFC 8446: 2^14 + 256) */
#define TLS_MAX_RECORD (16384 + 256)

struct tls_server {
    SSL_CTX *ctx;
    tls_options o;
};

struct tls_conn {
    SSL *ssl;                   /* NULL until the first record is in (wait_hello) */
    tls_server *s;
    int fd;
    bool want_write;
    bool reading_ahead;
    bool closed;
    char err[160];
};

/* OpenSSL's queued errors, oldest first, into why (after a prefix). */
static void ssl_errors(char *why, size_t n, const char *what)
{
    unsigned long e;
    size_t len;

    snprintf(why, n, "%s", what);
    while ((e = ERR_get_error()) != 0) {
        char buf[256];
        len = strlen(why);
        ERR_error_string_n(e, buf, sizeof buf);
        if (len + 3 < n)
            snprintf(why + len, n - len, ": %s", buf);
    }
}

/* Clients will refuse an expired (or not yet valid) certificate: say so
 * in the log at start and at each reload, and warn two weeks ahead. */
static void check_dates(X509 *x, const char *path)
{
    int days = 0, secs = 0;

    if (!x)
        return;
    if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
        log_warn("TLS: the certificate %s is not valid yet", path);
    else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        log_warn("TLS: the certificate %s has expired: clients will refuse it", path);
    else if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) && days < 14)
        log_warn("TLS: the certificate %s expires in %d days", path, days);
}

static SSL_CTX *make_ctx(const tls_options *o, char *why, size_t n)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    static const unsigned char sid_ctx[] = "warren";

    ERR_clear_error();
    if (!ctx) {
        ssl_errors(why, n, "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_max_cert_list(ctx, TLS_MAX_CERT_LIST);
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        ssl_errors(why, n, "cannot set the TLS 1.2 ciphers");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
        char what[300];
        snprintf(what, sizeof what, "cannot load the certificate %s", o->cert);
        ssl_errors(why, n, what);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key ? o->key : o->cert, SSL_FILETYPE_PEM) != 1) {
        char what[600];
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            snprintf(what, sizeof what, "the private key %s does not match the certificate %s",
                     o->key ? o->key : o->cert, o->cert);
        else
            snprintf(what, sizeof what, "cannot load the private key %s", o->key ? o->key : o->cert);
        ssl_errors(why, n, what);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_errors(why, n, "the private key does not match the certificate");
        goto fail;
    }
    check_dates(SSL_CTX_get0_certificate(ctx), o->cert);
    if (o->ca) {
        STACK_OF(X509_NAME) *names;
        if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
            char what[300];
            snprintf(what, sizeof what, "cannot load the CA certificates %s", o->ca);
            ssl_errors(why, n, what);
            goto fail;
        }
        /* the CAs named in the certificate request */
        if ((names = SSL_load_client_CA_file(o->ca)) != NULL)
            SSL_CTX_set_client_CA_list(ctx, names);
    } else if (o->verify != TLS_VERIFY_NONE) {
        snprintf(why, n, "--tls-verify %s needs --tls-ca (the CA that signs client certificates)",
                 o->verify == TLS_VERIFY_PEER ? "peer" : "require");
        goto fail;
    }
    switch (o->verify) {
    case TLS_VERIFY_PEER:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        break;
    case TLS_VERIFY_REQUIRE:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        break;
    default:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        break;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_server_new(tls_server **out, const tls_options *o, char *why, size_t whylen)
{
    tls_server *s = calloc(1, sizeof *s);

    *out = NULL;
    if (!s) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    s->o = *o;
    if (!(s->ctx = make_ctx(o, why, whylen))) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int tls_server_reload(tls_server *s, char *why, size_t whylen)
{
    unsigned char keys[TICKET_KEYS_LEN];
    SSL_CTX *ctx = make_ctx(&s->o, why, whylen);

    if (!ctx)
        return -1;
    /* tickets issued before the reload still resume */
    if (SSL_CTX_get_tlsext_ticket_keys(s->ctx, keys, sizeof keys) == 1)
        SSL_CTX_set_tlsext_ticket_keys(ctx, keys, sizeof keys);
    OPENSSL_cleanse(keys, sizeof keys);
    /* the open sessions hold their own references to the old one */
    SSL_CTX_free(s->ctx);
    s->ctx = ctx;
    return 0;
}

void tls_server_free(tls_server *s)
{
    if (!s)
        return;
    SSL_CTX_free(s->ctx);
    free(s);
}

int tls_server_verify(const tls_server *s)
{
    return s->o.verify;
}

/* ------------------------------------------------------------- sessions */

static int start_ssl(tls_conn *t)
{
    if (!(t->ssl = SSL_new(t->s->ctx))) {
        ERR_clear_error();
        return -1;
    }
    SSL_set_accept_state(t->ssl);
    return 0;
}

tls_conn *tls_conn_new(tls_server *s, int fd)
{
    tls_conn *t = calloc(1, sizeof *t);
    if (t) {
        t->s = s;
        t->fd = fd;
    }
    return t;
}

tls_conn *tls_conn_new_bio(tls_server *s, void *rbio, void *wbio)
{
    tls_conn *t = calloc(1, sizeof *t);
    if (!t || (t->s = s, t->fd = -1, start_ssl(t) < 0)) {
        free(t);
        BIO_free(rbio);
        BIO_free(wbio);
        return NULL;
    }
    SSL_set_bio(t->ssl, rbio, wbio);
    return t;
}

/* The session is made only once the client's first TLS record (its
 * ClientHello) is whole in the socket's receive queue: until then the
 * connection costs this struct and nothing of OpenSSL's (some 30 KiB once
 * a session has started reading).  The socket is not read meanwhile;
 * SO_RCVLOWAT keeps epoll quiet until enough bytes are queued, so the
 * wait is neither a busy loop nor a buffer of ours.  0: the session is
 * made; -1 with errno EAGAIN (wait), or another errno (not TLS). */
static int wait_hello(tls_conn *t)
{
    uint8_t h[5];
    ssize_t n = recv(t->fd, h, sizeof h, MSG_PEEK | MSG_DONTWAIT);
    int queued = 0, want, one = 1;

    if (n < 0)
        return -1;
    if (n == 0)
        return 1; /* EOF before anything */
    if (h[0] != 0x16) {
        snprintf(t->err, sizeof t->err, "TLS handshake failed: the client did not start with a TLS handshake "
                 "record (plain AMQP or HTTP on the TLS port?)");
        errno = EPROTO;
        return -1;
    }
    want = n < 5 ? 5 : 5 + (h[3] << 8 | h[4]);
    if (n == 5 && want > 5 + TLS_MAX_RECORD) {
        snprintf(t->err, sizeof t->err, "TLS handshake failed: a first record of %d bytes", want - 5);
        errno = EPROTO;
        return -1;
    }
    if (ioctl(t->fd, FIONREAD, &queued) < 0 || queued < want) {
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        /* a client that hung up after part of a record: epoll says
         * readable for ever (an EOF ignores SO_RCVLOWAT), so this is it */
        if (getsockopt(t->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && ti.tcpi_state == TCP_CLOSE_WAIT)
            return 1;
        setsockopt(t->fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want);
        errno = EAGAIN;
        return -1;
    }
    setsockopt(t->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
    if (start_ssl(t) < 0) {
        snprintf(t->err, sizeof t->err, "out of memory for a TLS session");
        errno = ENOMEM;
        return -1;
    }
    if (SSL_set_fd(t->ssl, t->fd) != 1) {
        ERR_clear_error();
        snprintf(t->err, sizeof t->err, "cannot make a TLS session");
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void tls_conn_free(tls_conn *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

/* A failed call: 0 when the peer closed, -1 with errno otherwise (EAGAIN:
 * wait). */
static int failed(tls_conn *t, int r, int *eof)
{
    int e = SSL_get_error(t->ssl, r), saved = errno;

    *eof = 0;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        t->want_write = true;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        *eof = 1;
        return 0;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (saved == 0 || saved == ECONNRESET) {
            /* TCP EOF or reset without close_notify: a hang-up */
            *eof = 1;
            return 0;
        }
        snprintf(t->err, sizeof t->err, "socket error: %s", strerror(saved));
        errno = saved;
        return -1;
    default:
        ssl_errors(t->err, sizeof t->err,
                   SSL_is_init_finished(t->ssl) ? "TLS error" : "TLS handshake failed");
        t->closed = true; /* no close_notify after a fatal alert */
        errno = EPROTO;
        return -1;
    }
}

ssize_t tls_read(tls_conn *t, void *buf, size_t n)
{
    size_t total = 0;
    int eof;

    t->want_write = false;
    if (!t->ssl) {
        int r = wait_hello(t);
        if (r != 0)
            return r > 0 ? 0 : -1;
    }
    while (total < n) {
        size_t want = n - total;
        int r;
        ERR_clear_error();
        errno = 0;
        r = SSL_read(t->ssl, (char *)buf + total, want > INT_MAX ? INT_MAX : (int)want);
        if (!t->reading_ahead && SSL_is_init_finished(t->ssl)) {
            /* once the handshake is done, read what the socket has in one
             * read() rather than a record header and then its body: a
             * quarter of the syscalls under load (SSL_has_pending covers
             * what was read ahead).  Not before: a client stalling with
             * half a ClientHello would hold the larger buffer. */
            SSL_set_read_ahead(t->ssl, 1);
            SSL_set_default_read_buffer_len(t->ssl, TLS_READ_BUFFER);
            t->reading_ahead = true;
        }
        if (r > 0) {
            total += (size_t)r;
            continue;
        }
        if (failed(t, r, &eof) < 0 && errno != EAGAIN && total == 0)
            return -1;
        if (eof && total == 0)
            return 0;
        break;
    }
    if (total == 0) {
        errno = EAGAIN;
        return -1;
    }
    return (ssize_t)total;
}

ssize_t tls_write(tls_conn *t, const void *p, size_t n)
{
    int r, eof;

    t->want_write = false;
    if (n == 0 || !t->ssl)
        return 0;
    ERR_clear_error();
    errno = 0;
    r = SSL_write(t->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0)
        return r;
    if (failed(t, r, &eof) < 0 && errno == EAGAIN)
        return 0;
    if (eof)
        errno = EPIPE;
    return -1;
}

bool tls_pending(const tls_conn *t)
{
    return t->ssl && SSL_has_pending(t->ssl) == 1;
}

bool tls_wants_write(const tls_conn *t)
{
    return t->want_write;
}

bool tls_handshake_done(const tls_conn *t)
{
    return t->ssl && SSL_is_init_finished(t->ssl);
}

void tls_close_notify(tls_conn *t)
{
    if (t->closed || !tls_handshake_done(t))
        return;
    t->closed = true;
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
}

const char *tls_error(const tls_conn *t)
{
    return t->err[0] ? t->err : "TLS error";
}

bool tls_peer_verified(const tls_conn *t)
{
    return tls_handshake_done(t) && SSL_get0_peer_certificate(t->ssl) &&
           SSL_get_verify_result(t->ssl) == X509_V_OK;
}

int tls_peer_name(const tls_conn *t, bool dn, char *out, size_t n)
{
    X509 *x;
    X509_NAME *name;

    if (n == 0 || !tls_peer_verified(t))
        return -1;
    x = SSL_get0_peer_certificate(t->ssl);
    name = X509_get_subject_name(x);
    if (dn) {
        BIO *b = BIO_new(BIO_s_mem());
        char *p;
        long len;
        int rc = -1;
        if (!b)
            return -1;
        /* RFC 4514 (most specific first, as RabbitMQ's DN login reads it),
         * UTF-8 kept as it is */
        if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
            len = BIO_get_mem_data(b, &p);
            if (len >= 0 && (size_t)len < n && !memchr(p, 0, (size_t)len)) {
                memcpy(out, p, (size_t)len);
                out[len] = 0;
                rc = 0;
            }
        }
        BIO_free(b);
        return rc;
    } else {
        /* the last (most specific) CN */
        int i = -1, last = -1;
        unsigned char *u = NULL;
        int len;
        while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0)
            last = i;
        if (last < 0)
            return -1;
        len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
        if (len < 0 || (size_t)len >= n || memchr(u, 0, (size_t)len)) {
            OPENSSL_free(u);
            return -1;
        }
        memcpy(out, u, (size_t)len);
        out[len] = 0;
        OPENSSL_free(u);
        return 0;
    }
}

const char *tls_protocol(const tls_conn *t)
{
    return t->ssl ? SSL_get_version(t->ssl) : "";
}

const char *tls_cipher(const tls_conn *t)
{
    return t->ssl ? SSL_get_cipher_name(t->ssl) : "";
}
