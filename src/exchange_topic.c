/*
 * exchange_topic.c - the topic type: binding keys are dot-separated words
 * where `*` stands for exactly one word and `#` for zero or more.
 *
 * The binding keys form a trie of words, with the `*` and `#` children kept
 * apart from the literal ones; a binding hangs on the node its key ends at.
 * Matching walks the trie with the routing key's words, branching into the
 * literal child, the `*` child, and the `#` child (which may swallow any
 * number of words) - the same walk RabbitMQ does, so a key like "a..b"
 * (with an empty word) or "" (no words at all) means what it means there.
 * Cost grows with the number of trie paths the key can follow, not with the
 * number of bindings.
 */
#include "warren.h"

#include <stdlib.h>
#include <string.h>

typedef struct tnode tnode;
struct tnode {
    tnode *parent;
    char *word;                 /* under the parent: a literal word, or NULL */
    uint8_t wordlen;
    uint8_t kind;               /* 0 literal, 1 star, 2 hash */
    map children;               /* literal word -> tnode */
    tnode *star, *hash;
    binding **b;
    uint32_t nb, capb;
};

#define MAX_WORDS 256

/* RabbitMQ's split: "" has no words, "a." has two ("a" and ""). */
static int split(amqp_str key, amqp_str *words)
{
    int n = 0;
    uint32_t start = 0, i;
    if (key.len == 0)
        return 0;
    for (i = 0; i <= key.len; i++) {
        if (i == key.len || key.ptr[i] == '.') {
            if (n == MAX_WORDS)
                return -1;
            words[n].ptr = key.ptr + start;
            words[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

static tnode *node_new(tnode *parent, uint8_t kind, amqp_str word)
{
    tnode *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->parent = parent;
    t->kind = kind;
    map_init(&t->children);
    if (kind == 0) {
        if (!(t->word = malloc(word.len ? word.len : 1))) {
            free(t);
            return NULL;
        }
        memcpy(t->word, word.ptr, word.len);
        t->wordlen = (uint8_t)word.len;
        if (map_put(&parent->children, t->word, t->wordlen, t) < 0) {
            free(t->word);
            free(t);
            return NULL;
        }
    }
    return t;
}

static tnode *child(tnode *t, amqp_str w, bool create)
{
    tnode *c;
    if (amqp_str_eqc(w, "*")) {
        if (!t->star && create)
            t->star = node_new(t, 1, w);
        return t->star;
    }
    if (amqp_str_eqc(w, "#")) {
        if (!t->hash && create)
            t->hash = node_new(t, 2, w);
        return t->hash;
    }
    c = map_get(&t->children, w.ptr, w.len);
    if (!c && create)
        c = node_new(t, 0, w);
    return c;
}

static int topic_bind(exchange *x, binding *b)
{
    amqp_str words[MAX_WORDS];
    int n = split((amqp_str){b->key, b->keylen}, words), i;
    tnode *t;

    if (n < 0)
        return -1;
    if (!x->index && !(x->index = node_new(NULL, 1, (amqp_str){0})))
        return -1;
    t = x->index;
    for (i = 0; i < n; i++)
        if (!(t = child(t, words[i], true)))
            return -1;
    if (t->nb == t->capb) {
        uint32_t cap = t->capb ? t->capb * 2 : 2;
        binding **v = realloc(t->b, cap * sizeof *v);
        if (!v)
            return -1;
        t->b = v;
        t->capb = cap;
    }
    t->b[t->nb++] = b;
    b->index = t;
    return 0;
}

static bool node_empty(const tnode *t)
{
    return t->nb == 0 && !t->star && !t->hash && map_count(&t->children) == 0;
}

static void node_free(tnode *t)
{
    map_free(&t->children);
    free(t->word);
    free(t->b);
    free(t);
}

static void topic_unbind(exchange *x, binding *b)
{
    tnode *t = b->index;
    uint32_t i;

    if (!t)
        return;
    for (i = 0; i < t->nb; i++) {
        if (t->b[i] == b) {
            t->b[i] = t->b[--t->nb];
            break;
        }
    }
    /* prune the branch that has nothing left */
    while (t->parent && node_empty(t)) {
        tnode *p = t->parent;
        if (t->kind == 1)
            p->star = NULL;
        else if (t->kind == 2)
            p->hash = NULL;
        else
            map_del(&p->children, t->word, t->wordlen);
        node_free(t);
        t = p;
    }
    if (!t->parent && node_empty(t)) {
        node_free(t);
        x->index = NULL;
    }
}

static void emit(tnode *t, amqp_str rk, const msg *m, route_set *rs)
{
    uint32_t i;
    for (i = 0; i < t->nb; i++)
        route_binding(t->b[i], rk, m, rs);
}

static void match(tnode *t, const amqp_str *w, int i, int n, amqp_str rk, const msg *m, route_set *rs)
{
    int j;

    if (i == n) {
        emit(t, rk, m, rs);
        /* a trailing # matches no words at all */
        if (t->hash)
            match(t->hash, w, n, n, rk, m, rs);
        return;
    }
    {
        tnode *c = map_get(&t->children, w[i].ptr, w[i].len);
        if (c)
            match(c, w, i + 1, n, rk, m, rs);
    }
    if (t->star)
        match(t->star, w, i + 1, n, rk, m, rs);
    if (t->hash)
        for (j = i; j <= n; j++)
            match(t->hash, w, j, n, rk, m, rs);
}

static void topic_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    amqp_str words[MAX_WORDS];
    int n;
    if (!x->index || (n = split(rk, words)) < 0)
        return;
    match(x->index, words, 0, n, rk, m, rs);
}

static void free_tree(tnode *t)
{
    size_t i = 0;
    void *v;
    if (!t)
        return;
    while (map_next(&t->children, &i, NULL, NULL, &v))
        free_tree(v);
    free_tree(t->star);
    free_tree(t->hash);
    node_free(t);
}

static void topic_free(exchange *x)
{
    free_tree(x->index);
    x->index = NULL;
}

const exchange_type exchange_topic = {
    .name = "topic",
    .bind = topic_bind,
    .unbind = topic_unbind,
    .route = topic_route,
    .free = topic_free,
};
