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
 *
 * `#` makes the walk branch, and patterns like `#.#.#.#` against a long key
 * would make it exponential; two rules keep it polynomial (at most one
 * visit per trie node and word position):
 *  - consecutive `#` words mean what one `#` means, so they share one trie
 *    node (the binding keeps its key as given, for equivalence and unbind);
 *  - each `#` node remembers, per match, the word positions it has been
 *    entered at (a bitmap stamped with the match's epoch), and is not
 *    walked again from a position it has seen.  Only `#` nodes are entered
 *    from more than one position; every other node has one way in.
 */
#include "exchange.h"
#include "map.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 256           /* a 255-byte key has at most 256 words */
#define SEEN_WORDS ((MAX_WORDS + 1 + 63) / 64)

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
    uint64_t epoch;             /* hash nodes: the match `seen` is for */
    uint64_t seen[];            /* hash nodes: word positions entered at */
};

static uint64_t match_epoch;

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
    tnode *t = calloc(1, sizeof *t + (kind == 2 ? SEEN_WORDS * sizeof(uint64_t) : 0));
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
    for (i = 0; i < n; i++) {
        if (t->kind == 2 && amqp_str_eqc(words[i], "#"))
            continue; /* "#.#" is "#" */
        if (!(t = child(t, words[i], true)))
            return -1;
    }
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

typedef struct match_ctx {
    const amqp_str *w;          /* the routing key's words */
    int n;
    amqp_str rk;
    const msg *m;
    route_set *rs;
    uint64_t epoch;
} match_ctx;

static void emit(tnode *t, match_ctx *c)
{
    uint32_t i;
    for (i = 0; i < t->nb; i++)
        route_binding(t->b[i], c->rk, c->m, c->rs);
}

static void match_hash(match_ctx *c, tnode *h, int i);

/* t has matched the words before i: go on with the rest. */
static void match(match_ctx *c, tnode *t, int i)
{
    if (i == c->n) {
        emit(t, c);
        /* a trailing # matches no words at all */
        if (t->hash)
            match_hash(c, t->hash, i);
        return;
    }
    {
        tnode *ch = map_get(&t->children, c->w[i].ptr, c->w[i].len);
        if (ch)
            match(c, ch, i + 1);
    }
    if (t->star)
        match(c, t->star, i + 1);
    if (t->hash)
        match_hash(c, t->hash, i);
}

/* A # entered at word i swallows none, one, ... of the words left.  A
 * position seen before in this match was walked from there already (or is
 * being walked: then the walk in progress goes on to the later ones too). */
static void match_hash(match_ctx *c, tnode *h, int i)
{
    if (h->epoch != c->epoch) {
        h->epoch = c->epoch;
        memset(h->seen, 0, SEEN_WORDS * sizeof(uint64_t));
    }
    for (; i <= c->n; i++) {
        uint64_t bit = (uint64_t)1 << (i & 63);
        if (h->seen[i >> 6] & bit)
            return;
        h->seen[i >> 6] |= bit;
        match(c, h, i);
    }
}

static void topic_route(exchange *x, amqp_str rk, const msg *m, route_set *rs)
{
    amqp_str words[MAX_WORDS];
    match_ctx c;
    int n;
    if (!x->index || (n = split(rk, words)) < 0)
        return;
    c = (match_ctx){.w = words, .n = n, .rk = rk, .m = m, .rs = rs, .epoch = ++match_epoch};
    match(&c, x->index, 0);
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
