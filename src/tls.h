/*
 * tls.h - TLS for the loop's sockets, on OpenSSL 3 (tls.c).
 *
 * A tls_server is the certificate, key, CA and policy the listeners share
 * (one SSL_CTX); a tls_conn is one accepted socket's TLS session.  Both
 * are opaque: the protocol code (proto/conn.c, the HTTPS proxy) reads and
 * writes plaintext through tls_read / tls_write, which never block and
 * say, when they cannot go on, whether the socket must become readable or
 * writable first (tls_wants_write).  The handshake is done inside the
 * first reads, so a connection costs nothing more in the loop than a
 * plain one; its time limit is the caller's (conn.c's handshake timer).
 *
 * Reload (SIGHUP): tls_server_reload builds a new SSL_CTX from the same
 * files and swaps it in; sessions already open keep a reference to the
 * old one (OpenSSL counts them) and go on undisturbed.  If the files do
 * not load, the old context stays and the error is returned.
 */
#ifndef WARREN_TLS_H
#define WARREN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* --tls-verify: RabbitMQ's verify_none, verify_peer, and verify_peer with
 * fail_if_no_peer_cert. */
enum tls_verify { TLS_VERIFY_NONE, TLS_VERIFY_PEER, TLS_VERIFY_REQUIRE };

typedef struct tls_options {
    const char *cert;       /* PEM: the server's certificate (chain) */
    const char *key;        /* PEM: its private key (NULL: in the cert file) */
    const char *ca;         /* PEM: CAs trusted for client certificates (NULL: none) */
    int verify;             /* enum tls_verify */
} tls_options;

typedef struct tls_server tls_server;
typedef struct tls_conn tls_conn;

/* Load the files and make the context: 0, or -1 with the reason in why. */
int tls_server_new(tls_server **out, const tls_options *o, char *why, size_t whylen);
/* Load the same files again (SIGHUP): 0, or -1 with why (the old context
 * stays in use). */
int tls_server_reload(tls_server *s, char *why, size_t whylen);
void tls_server_free(tls_server *s);
int tls_server_verify(const tls_server *s);

/* A session on an accepted non-blocking socket (the caller keeps the fd
 * and closes it after tls_conn_free).  NULL if out of memory. */
tls_conn *tls_conn_new(tls_server *s, int fd);
/* The same over two OpenSSL memory BIOs (the fuzz target): rbio is what
 * the peer sent, wbio what the server writes; the session takes both. */
tls_conn *tls_conn_new_bio(tls_server *s, void *rbio, void *wbio);
void tls_conn_free(tls_conn *t);

/* Read up to n plaintext bytes (the handshake first, if not done): >0
 * bytes, 0 when the peer closed (close_notify or TCP EOF), -1 with errno
 * EAGAIN when it must wait for the socket (readable, or writable if
 * tls_wants_write), or -1 with another errno on failure (tls_error says
 * what).  Stops at n bytes or when the socket has no more; more may stay
 * decrypted inside (tls_pending). */
ssize_t tls_read(tls_conn *t, void *buf, size_t n);
/* Write n plaintext bytes: how many were taken (0: wait, see
 * tls_wants_write), -1 on failure.  A retry after 0 must offer at least
 * the same bytes again (the output buffer's head does). */
ssize_t tls_write(tls_conn *t, const void *p, size_t n);
/* Plaintext decrypted and not yet returned by tls_read: the socket will
 * not signal it, so the caller must read again without waiting. */
bool tls_pending(const tls_conn *t);
/* The last read or write stopped because the socket would not take
 * more: wait for it to become writable (EPOLLOUT), then retry. */
bool tls_wants_write(const tls_conn *t);
bool tls_handshake_done(const tls_conn *t);
/* Send close_notify, best effort (the socket is closed next). */
void tls_close_notify(tls_conn *t);
/* Why the last call failed, for the log. */
const char *tls_error(const tls_conn *t);
/* The client's certificate if it was verified against the CA: its CN
 * (dn false) or its subject DN in RFC 4514 form as RabbitMQ prints it
 * ("CN=alice,O=example"), into out.  0, or -1 when there is no verified
 * certificate or no CN. */
int tls_peer_name(const tls_conn *t, bool dn, char *out, size_t n);
bool tls_peer_verified(const tls_conn *t);
/* "TLSv1.3", the cipher's name: for the log and the connection list. */
const char *tls_protocol(const tls_conn *t);
const char *tls_cipher(const tls_conn *t);

#endif
