/*
 * auth.h - who may log in: a user database and the one check of a user
 * name and password, for every front end.
 *
 * The check knows no protocol: the AMQP connection (conn.c) takes the user
 * and password out of its SASL response (PLAIN or AMQPLAIN) and calls
 * auth_check; the HTTP API's basic auth calls the same.  Today the users
 * come from the configuration (--user NAME:PASSWORD, guest:guest when none
 * is given); the database is where stored users (with RabbitMQ's salted
 * hashes), their vhosts and permissions go next.
 *
 * As in RabbitMQ, a refusal says why (for the log), in RabbitMQ's words;
 * what the client is told is the front end's business (conn.c tells it
 * only that the login was refused).
 */
#ifndef WARREN_AUTH_H
#define WARREN_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "amqp/wire.h"
#include "config.h"
#include "error.h"

typedef struct auth_user {
    char *name;
    char *password;             /* as configured */
    size_t passlen;
    bool loopback_only;         /* RabbitMQ's loopback_users: only from a local peer */
} auth_user;

typedef struct auth_db {
    auth_user *users;
    size_t nusers, cap;
} auth_db;

/* The configuration's users (cfg after config_finish): guest may log in
 * from loopback only unless cfg->guest_remote, as RabbitMQ's default
 * loopback_users = [guest].  A name given twice keeps its first password.
 * 0, or -1 out of memory (db is then empty). */
int auth_db_init(auth_db *db, const config *cfg);
void auth_db_free(auth_db *db);
/* Add a user (the strings are copied).  -1 out of memory, or with errno
 * EEXIST when the name is taken (the first one stays). */
int auth_add_user(auth_db *db, const char *name, const char *password, bool loopback_only);
/* May `user` log in with `password` from a peer that is (loopback) or is
 * not on the loopback interface?  0 if so; else -1 with *err set to 403
 * ACCESS_REFUSED and RabbitMQ's reason ("user 'x' - invalid credentials",
 * "user 'guest' can only connect via localhost"). */
int auth_check(const auth_db *db, const char *user, amqp_str password, bool loopback, amqp_error *err);

#endif
