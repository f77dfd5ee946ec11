/*
 * auth.c - the user database and the login check (auth.h).
 *
 * A handful of users, looked up by a walk: the check runs once per
 * connection (or HTTP request), never on the hot path.  The password is
 * compared in time that does not depend on where it first differs, so
 * the reply time does not give it away byte by byte.
 */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int auth_db_init(auth_db *db, const config *cfg)
{
    int i;

    memset(db, 0, sizeof *db);
    for (i = 0; i < cfg->nusers; i++) {
        const char *name = cfg->users[i][0];
        bool local = !strcmp(name, "guest") && !cfg->guest_remote;
        if (auth_add_user(db, name, cfg->users[i][1], local) < 0 && errno != EEXIST) {
            auth_db_free(db);
            return -1;
        }
    }
    return 0;
}

void auth_db_free(auth_db *db)
{
    size_t i;

    for (i = 0; i < db->nusers; i++) {
        free(db->users[i].name);
        free(db->users[i].password);
    }
    free(db->users);
    memset(db, 0, sizeof *db);
}

static const auth_user *find_user(const auth_db *db, const char *name)
{
    size_t i;

    for (i = 0; i < db->nusers; i++)
        if (!strcmp(db->users[i].name, name))
            return &db->users[i];
    return NULL;
}

int auth_add_user(auth_db *db, const char *name, const char *password, bool loopback_only)
{
    auth_user u = {.loopback_only = loopback_only};

    if (find_user(db, name)) {
        errno = EEXIST;
        return -1;
    }
    if (db->nusers == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 4;
        auth_user *v = realloc(db->users, cap * sizeof *v);
        if (!v)
            return -1;
        db->users = v;
        db->cap = cap;
    }
    u.name = strdup(name);
    u.password = strdup(password);
    if (!u.name || !u.password) {
        free(u.name);
        free(u.password);
        return -1;
    }
    u.passlen = strlen(password);
    db->users[db->nusers++] = u;
    return 0;
}

/* Equal lengths and bytes, looking at every byte of the stored password
 * whatever the given one holds. */
static bool password_matches(const auth_user *u, amqp_str given)
{
    unsigned char diff = given.len != u->passlen;
    size_t i;

    for (i = 0; i < u->passlen; i++)
        diff |= (unsigned char)(u->password[i] ^ (i < given.len ? given.ptr[i] : 0));
    return diff == 0;
}

int auth_check(const auth_db *db, const char *user, amqp_str password, bool loopback, amqp_error *err)
{
    const auth_user *u = find_user(db, user);

    if (!u || !password_matches(u, password))
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "user '%s' - invalid credentials", user);
    if (u->loopback_only && !loopback)
        return amqp_fail(err, AMQP_ACCESS_REFUSED, "user '%s' can only connect via localhost", user);
    return 0;
}
