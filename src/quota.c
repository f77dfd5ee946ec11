/*
 * quota.c - the limits' names and their records; see quota.h.
 */
#include "quota.h"

#include <string.h>

static const char *const names[LIMIT_N] = {"max-connections", "max-queues", "max-channels"};

void limits_init(limits *l)
{
    int i;
    for (i = 0; i < LIMIT_N; i++)
        l->v[i] = LIMIT_UNSET;
}

bool limits_any(const limits *l)
{
    int i;
    for (i = 0; i < LIMIT_N; i++)
        if (l->v[i] != LIMIT_UNSET)
            return true;
    return false;
}

const char *limit_name(int kind)
{
    return kind >= 0 && kind < LIMIT_N ? names[kind] : "?";
}

int limit_parse(const char *name, size_t len)
{
    int i;
    for (i = 0; i < LIMIT_N; i++)
        if (strlen(names[i]) == len && !memcmp(names[i], name, len))
            return i;
    return -1;
}

void limits_def(const limits *l, uint8_t scope, const char *name, store_limits_def *d)
{
    int i;

    memset(d, 0, sizeof *d);
    d->scope = scope;
    d->name = amqp_cstr(name);
    for (i = 0; i < LIMIT_N; i++) {
        if (l->v[i] == LIMIT_UNSET)
            continue;
        d->key[d->n] = amqp_cstr(names[i]);
        d->value[d->n] = l->v[i];
        d->n++;
    }
}

int limits_from_def(limits *l, const store_limits_def *d)
{
    int unknown = 0, k;
    uint8_t i;

    limits_init(l);
    for (i = 0; i < d->n; i++) {
        if ((k = limit_parse(d->key[i].ptr, d->key[i].len)) < 0 || d->value[i] == LIMIT_UNSET)
            unknown++;
        else
            l->v[k] = d->value[i];
    }
    return unknown;
}
