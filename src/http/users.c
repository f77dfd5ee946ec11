/*
 * users.c - the HTTP API's users and permissions (users.h), in RabbitMQ
 * 3.10's words, over auth.h's database: every change goes through
 * auth_put_user, auth_set_permission and friends, which record it in the
 * data directory before it is answered.
 *
 * Who may: an administrator, for all of it (RabbitMQ's
 * is_authorized_admin); anyone else is told 401 "Not administrator user".
 * The vhosts are listed for every management user, each seeing those it
 * has permissions on (monitoring and administrator users: all), and made
 * and deleted by administrators; the maker of a vhost gets every
 * permission on it, as RabbitMQ's management gives them.
 *
 * Bodies as RabbitMQ takes them: a user's "tags" (required) is a
 * comma-separated string or a list of strings; "password" is hashed here
 * with rabbit_password_hashing_sha256, "password_hash" (base64 of salt ++
 * digest) with "hashing_algorithm" is taken as it is; neither: a user
 * who cannot log in with a password.  Permissions need "configure",
 * "write" and "read".
 */
#include "http/users.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/body.h"
#include "http/lists.h"
#include "http/limits.h"
#include "util.h"
#include "vhost.h"
#include "warren.h"

#define NAME_MAX_LEN 255

/* ------------------------------------------------------------ helpers */

json_t *http_user_tags(const auth_user *u)
{
    json_t *arr = json_array();
    const char *p = u->tags;

    while (arr && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(arr, json_stringn(p, n));
        p += n + (e != NULL);
    }
    return arr;
}

int http_need_admin(http_ctx *x, http_reply *r)
{
    const auth_user *u = auth_find(&x->b->auth, x->user);

    if (u && (u->tagbits & AUTH_TAG_ADMINISTRATOR))
        return 0;
    http_reply_error(r, 401, "not_authorised", "Not administrator user");
    return -1;
}

static bool vhost_exists(http_ctx *x, const char *name)
{
    return broker_vhost(x->b, name, strlen(name)) != NULL;
}

static json_t *user_json(const auth_user *u)
{
    char hash[4 * ((AUTH_HASH_MAX + 2) / 3) + 1];

    auth_hash_base64(u, hash, sizeof hash);
    return json_pack("{s:o,s:s,s:s,s:o,s:o}", "name", http_json_text(u->name), "password_hash", hash, "hashing_algorithm",
                     auth_algo_name(u->algo), "tags", http_user_tags(u), "limits", http_limits_json(&u->limits));
}

/* {"user","vhost",...} or, for a vhost's list, {"vhost","user",...} as
 * RabbitMQ orders them. */
static json_t *perm_json(const auth_user *u, const auth_vperm *p, bool vhost_first)
{
    if (vhost_first)
        return json_pack("{s:o,s:o,s:s,s:s,s:s}", "vhost", http_json_text(p->vhost), "user", http_json_text(u->name),
                         "configure", p->src[0],
                         "write", p->src[1], "read", p->src[2]);
    return json_pack("{s:o,s:o,s:s,s:s,s:s}", "user", http_json_text(u->name), "vhost", http_json_text(p->vhost),
                     "configure", p->src[0], "write",
                     p->src[1], "read", p->src[2]);
}

/* RabbitMQ's lists come sorted by name (rabbit_mgmt_util's default
 * sort): arr sorted in place by key, then key2 (NULL: none). */
static const char *sort_key, *sort_key2;

static int by_key(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(json_string_value(json_object_get(x, sort_key)), json_string_value(json_object_get(y, sort_key)));
    if (c || !sort_key2)
        return c;
    return strcmp(json_string_value(json_object_get(x, sort_key2)), json_string_value(json_object_get(y, sort_key2)));
}

static json_t *sorted(json_t *arr, const char *key, const char *key2)
{
    size_t n = json_array_size(arr), i;
    json_t **v, *out;

    if (n < 2 || !(v = malloc(n * sizeof *v)))
        return arr;
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    sort_key = key;
    sort_key2 = key2;
    qsort(v, n, sizeof *v, by_key);
    json_array_clear(arr);
    out = arr;
    for (i = 0; i < n; i++)
        json_array_append_new(out, v[i]);
    free(v);
    return out;
}

/* ------------------------------------------------------- user bodies */

typedef struct user_body {
    char tags[256];
    uint8_t hash[AUTH_HASH_MAX];
    size_t hashlen;
    bool has_hash;
    int algo;
} user_body;

/* Base64 (with its padding) into out: the length, or -1 when it is not
 * base64 or longer than n. */
static long base64_decode(const char *in, size_t len, uint8_t *out, size_t n)
{
    uint8_t buf[4 * AUTH_HASH_MAX];
    int got;
    size_t pad = 0;

    if (len % 4 || len / 4 * 3 > sizeof buf)
        return -1;
    if (len == 0)
        return 0;
    got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
    if (got < 0)
        return -1;
    pad = (in[len - 1] == '=') + (in[len - 2] == '=');
    got -= (int)pad;
    if ((size_t)got > n)
        return -1;
    memcpy(out, buf, (size_t)got);
    return got;
}

/* tags, password / password_hash + hashing_algorithm of a user object
 * (PUT's body, an item of a definitions import). */
static int parse_user(http_reply *r, json_t *o, user_body *u)
{
    json_t *tags = json_object_get(o, "tags"), *pw = json_object_get(o, "password"),
           *ph = json_object_get(o, "password_hash"), *ha = json_object_get(o, "hashing_algorithm");
    char joined[1024] = "";
    size_t i;
    json_t *t;

    memset(u, 0, sizeof *u);
    if (!tags) {
        http_bad(r, "tags_not_present");
        return -1;
    }
    if (json_is_string(tags)) {
        snprintf(joined, sizeof joined, "%s", json_string_value(tags));
    } else if (json_is_array(tags)) {
        json_array_foreach(tags, i, t) {
            if (!json_is_string(t)) {
                http_bad(r, "tags must be a string or a list of strings");
                return -1;
            }
            snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "," : "",
                     json_string_value(t));
        }
    } else {
        http_bad(r, "tags must be a string or a list of strings");
        return -1;
    }
    if (strlen(joined) >= sizeof u->tags - 1) {
        http_bad(r, "tags longer than %zu bytes", sizeof u->tags - 2);
        return -1;
    }
    auth_tags_normalize(joined, u->tags, sizeof u->tags);
    u->algo = AUTH_SHA256;
    if (pw) {
        if (!json_is_string(pw)) {
            http_bad(r, "password must be a string");
            return -1;
        }
        u->hashlen = auth_hash_password(AUTH_SHA256, NULL, json_string_value(pw), json_string_length(pw), u->hash);
        u->has_hash = true;
        return 0;
    }
    if (ph) {
        long n;
        if (ha && (!json_is_string(ha) || (u->algo = auth_algo_parse(json_string_value(ha))) < 0)) {
            http_bad(r, "unknown hashing_algorithm (warren knows rabbit_password_hashing_sha256, _sha512 and _md5)");
            return -1;
        }
        if (!json_is_string(ph) ||
            (n = base64_decode(json_string_value(ph), json_string_length(ph), u->hash, sizeof u->hash)) < 0) {
            http_reply_json(r, 400, json_pack("{s:s,s:[s,O]}", "error", "bad_request", "reason", "not_base64", ph));
            return -1;
        }
        u->hashlen = (size_t)n;
        u->has_hash = n > 0;
        return 0;
    }
    return 0;
}

static int check_name(http_reply *r, const char *what, const char *name)
{
    if (strlen(name) == 0 || strlen(name) > NAME_MAX_LEN) {
        http_bad(r, "a %s name is 1 to %d bytes", what, NAME_MAX_LEN);
        return -1;
    }
    return 0;
}

static int apply_user(http_ctx *x, http_reply *r, const char *name, const user_body *u)
{
    const char *why;

    if (auth_put_user(&x->b->auth, name, u->has_hash ? u->hash : NULL, u->hashlen, u->algo, u->tags, &why) < 0) {
        http_reply_error(r, 500, "internal_error", why);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------- permission bodies */

static const char *const perm_keys[3] = {"configure", "write", "read"};

/* The three expressions of o into re[]; -1 with RabbitMQ's
 * "[{key_missing,write},...]" or a type or length error. */
static int parse_perm(http_reply *r, json_t *o, const char *re[3])
{
    char missing[200] = "";
    int k;

    for (k = 0; k < 3; k++) {
        json_t *v = json_object_get(o, perm_keys[k]);
        if (!v) {
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s{key_missing,%s}",
                     missing[0] ? "," : "", perm_keys[k]);
            continue;
        }
        if (!json_is_string(v) || json_string_length(v) > NAME_MAX_LEN ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            http_bad(r, "%s must be a string of up to %d bytes (a regular expression)", perm_keys[k], NAME_MAX_LEN);
            return -1;
        }
        re[k] = json_string_value(v);
    }
    if (missing[0]) {
        http_bad(r, "[%s]", missing);
        return -1;
    }
    return 0;
}

/* Would the three compile?  (POSIX extended; -1 with a 400 naming it.) */
static int check_regexes(http_reply *r, const char *const re[3])
{
    int k;
    for (k = 0; k < 3; k++) {
        regex_t rx;
        /* what glibc would compile slowly, on the loop, is refused first
         * (util.h); a stored permission is read back as it was */
        const char *untamed = regex_untamed(re[k], strlen(re[k]));
        int rc;
        if (untamed) {
            http_bad(r, "invalid_regexp: '%s': %s", re[k], untamed);
            return -1;
        }
        rc = regcomp(&rx, re[k], REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char text[128];
            regerror(rc, &rx, text, sizeof text);
            http_bad(r, "invalid_regexp: '%s': %s", re[k], text);
            return -1;
        }
        regfree(&rx);
    }
    return 0;
}

/* -------------------------------------------------------------- users */

void http_get_users(http_ctx *x, http_reply *r)
{
    json_t *arr;
    size_t i;

    if (http_need_admin(x, r) < 0)
        return;
    arr = json_array();
    for (i = 0; arr && i < x->b->auth.nusers; i++)
        json_array_append_new(arr, user_json(&x->b->auth.users[i]));
    http_reply_json(r, 200, sorted(arr, "name", NULL));
}

void http_get_users_without_permissions(http_ctx *x, http_reply *r)
{
    json_t *arr;
    size_t i;

    if (http_need_admin(x, r) < 0)
        return;
    arr = json_array();
    for (i = 0; arr && i < x->b->auth.nusers; i++)
        if (x->b->auth.users[i].nperms == 0)
            json_array_append_new(arr, user_json(&x->b->auth.users[i]));
    http_reply_json(r, 200, sorted(arr, "name", NULL));
}

void http_get_user(http_ctx *x, http_reply *r)
{
    const auth_user *u;

    if (http_need_admin(x, r) < 0)
        return;
    if (!(u = auth_find(&x->b->auth, x->params[0].ptr)))
        http_reply_not_found(r);
    else
        http_reply_json(r, 200, user_json(u));
}

void http_put_user(http_ctx *x, http_reply *r)
{
    const char *name = x->params[0].ptr;
    bool existed;
    user_body u;

    if (http_need_admin(x, r) < 0)
        return;
    if (!x->body) {
        http_reply_not_json(r);
        return;
    }
    if (check_name(r, "user", name) < 0 || parse_user(r, x->body, &u) < 0)
        return;
    existed = auth_find(&x->b->auth, name) != NULL;
    if (apply_user(x, r, name, &u) == 0)
        r->status = existed ? 204 : 201;
}

void http_delete_user(http_ctx *x, http_reply *r)
{
    char text[400];

    if (http_need_admin(x, r) < 0)
        return;
    if (auth_delete_user(&x->b->auth, x->params[0].ptr) < 0) {
        http_reply_not_found(r);
        return;
    }
    /* as RabbitMQ: its connections go with it */
    snprintf(text, sizeof text, "CONNECTION_FORCED - user '%s' is deleted", x->params[0].ptr);
    broker_close_user_connections(x->b, x->params[0].ptr, text);
    r->status = 204;
}

/* -------------------------------------------------------- permissions */

void http_get_permissions(http_ctx *x, http_reply *r)
{
    json_t *arr;
    size_t i, k;

    if (http_need_admin(x, r) < 0)
        return;
    arr = json_array();
    for (i = 0; arr && i < x->b->auth.nusers; i++)
        for (k = 0; k < x->b->auth.users[i].nperms; k++)
            json_array_append_new(arr, perm_json(&x->b->auth.users[i], &x->b->auth.users[i].perms[k], false));
    http_reply_json(r, 200, sorted(arr, "user", "vhost"));
}

void http_get_user_permissions(http_ctx *x, http_reply *r)
{
    const auth_user *u;
    json_t *arr;
    size_t k;

    if (http_need_admin(x, r) < 0)
        return;
    if (!(u = auth_find(&x->b->auth, x->params[0].ptr))) {
        http_reply_not_found(r);
        return;
    }
    arr = json_array();
    for (k = 0; arr && k < u->nperms; k++)
        json_array_append_new(arr, perm_json(u, &u->perms[k], false));
    http_reply_json(r, 200, sorted(arr, "vhost", NULL));
}

void http_get_vhost_permissions(http_ctx *x, http_reply *r)
{
    const char *vh = x->params[0].ptr;
    json_t *arr;
    size_t i;

    if (http_need_admin(x, r) < 0)
        return;
    if (!vhost_exists(x, vh)) {
        http_reply_not_found(r);
        return;
    }
    arr = json_array();
    for (i = 0; arr && i < x->b->auth.nusers; i++) {
        const auth_vperm *p = auth_permission(&x->b->auth.users[i], vh);
        if (p)
            json_array_append_new(arr, perm_json(&x->b->auth.users[i], p, true));
    }
    http_reply_json(r, 200, sorted(arr, "user", NULL));
}

void http_get_permission(http_ctx *x, http_reply *r)
{
    const auth_user *u;
    const auth_vperm *p;

    if (http_need_admin(x, r) < 0)
        return;
    u = auth_find(&x->b->auth, x->params[1].ptr);
    if (!u || !(p = auth_permission(u, x->params[0].ptr)))
        http_reply_not_found(r);
    else
        http_reply_json(r, 200, perm_json(u, p, false));
}

void http_put_permission(http_ctx *x, http_reply *r)
{
    const char *vh = x->params[0].ptr, *user = x->params[1].ptr;
    const char *re[3] = {0};
    const auth_user *u;
    bool existed;
    char why[256];

    if (http_need_admin(x, r) < 0)
        return;
    if (!x->body) {
        http_reply_not_json(r);
        return;
    }
    if (!(u = auth_find(&x->b->auth, user)) || !vhost_exists(x, vh)) {
        http_bad(r, "vhost_or_user_not_found");
        return;
    }
    if (parse_perm(r, x->body, re) < 0 || check_regexes(r, re) < 0)
        return;
    existed = auth_permission(u, vh) != NULL;
    if (auth_set_permission(&x->b->auth, user, vh, re, why, sizeof why) < 0)
        http_reply_error(r, 500, "internal_error", why);
    else
        r->status = existed ? 204 : 201;
}

void http_delete_permission(http_ctx *x, http_reply *r)
{
    if (http_need_admin(x, r) < 0)
        return;
    if (auth_clear_permission(&x->b->auth, x->params[1].ptr, x->params[0].ptr) < 0)
        http_reply_not_found(r);
    else
        r->status = 204;
}

/* -------------------------------------------------------- definitions */

json_t *http_users_export(http_ctx *x, json_t **perms)
{
    json_t *users = json_array();
    size_t i, k;

    *perms = json_array();
    for (i = 0; users && *perms && i < x->b->auth.nusers; i++) {
        const auth_user *u = &x->b->auth.users[i];
        json_array_append_new(users, user_json(u));
        for (k = 0; k < u->nperms; k++)
            json_array_append_new(*perms, perm_json(u, &u->perms[k], false));
    }
    return users;
}

static const char *str_field(json_t *o, const char *key)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) ? json_string_value(v) : NULL;
}

int http_users_import(http_ctx *x, http_reply *r, json_t *body, bool apply)
{
    json_t *users = json_object_get(body, "users"), *perms = json_object_get(body, "permissions"), *o;
    size_t i;

    if ((users && !json_is_array(users)) || (perms && !json_is_array(perms))) {
        http_bad(r, "definitions: users and permissions must be lists");
        return -1;
    }
    json_array_foreach(users, i, o) {
        const char *name = str_field(o, "name");
        user_body u;
        if (!name) {
            http_bad(r, "definitions: a user without a valid 'name'");
            return -1;
        }
        if (check_name(r, "user", name) < 0 || parse_user(r, o, &u) < 0)
            return -1;
        if (apply && apply_user(x, r, name, &u) < 0)
            return -1;
    }
    json_array_foreach(perms, i, o) {
        const char *user = str_field(o, "user"), *vh = str_field(o, "vhost"), *re[3] = {0};
        char why[256];
        bool known = false;
        size_t k;
        json_t *p;
        if (!user || !vh) {
            http_bad(r, "definitions: a permission without a valid 'user' and 'vhost'");
            return -1;
        }
        if (!http_vhost_known(x, body, vh)) {
            http_bad(r, "definitions: a permission of user '%s' in vhost '%s', which neither exists nor is in the "
                        "definitions",
                     user, vh);
            return -1;
        }
        /* the user must exist now or come with this import */
        known = auth_find(&x->b->auth, user) != NULL;
        json_array_foreach(users, k, p) {
            const char *n = str_field(p, "name");
            known = known || (n && !strcmp(n, user));
        }
        if (!known) {
            http_bad(r, "definitions: a permission of user '%s', who is neither in the definitions nor in warren",
                     user);
            return -1;
        }
        if (parse_perm(r, o, re) < 0 || check_regexes(r, re) < 0)
            return -1;
        if (apply && auth_set_permission(&x->b->auth, user, vh, re, why, sizeof why) < 0) {
            http_reply_error(r, 500, "internal_error", why);
            return -1;
        }
    }
    return 0;
}

/* -------------------------------------------------------------- vhosts */

static json_t *vhost_json(http_ctx *x, vhost *vh)
{
    const char *desc = vh == x->b->vh ? "Default virtual host" : "";
    json_t *o = json_pack("{s:o,s:s,s:[],s:s,s:{s:s,s:[]},s:b,s:{s:s}}", "name", http_json_text(vh->name), "description", desc,
                          "tags", "default_queue_type", "undefined", "metadata", "description", desc, "tags",
                          "tracing", 0, "cluster_state", http_server_node(x->srv), "running");
    if (o) /* counts, rates, message_stats, octets (lists.c) */
        http_vhost_stats(x, vh->name, o);
    return o;
}

bool http_sees_vhost(http_ctx *x, const char *name)
{
    const auth_user *u = auth_find(&x->b->auth, x->user);
    return u && ((u->tagbits & (AUTH_TAG_ADMINISTRATOR | AUTH_TAG_MONITORING)) || auth_permission(u, name));
}

static bool sees_vhost(http_ctx *x, const vhost *vh)
{
    return http_sees_vhost(x, vh->name);
}

void http_get_vhosts(http_ctx *x, http_reply *r)
{
    json_t *arr = json_array();
    size_t i = 0;
    void *v;

    while (arr && map_next(&x->b->vhosts, &i, NULL, NULL, &v))
        if (sees_vhost(x, v))
            json_array_append_new(arr, vhost_json(x, v));
    http_reply_json(r, 200, sorted(arr, "name", NULL));
}

void http_get_vhost(http_ctx *x, http_reply *r)
{
    vhost *vh = broker_vhost(x->b, x->params[0].ptr, x->params[0].len);

    if (!vh || !sees_vhost(x, vh))
        http_reply_not_found(r);
    else
        http_reply_json(r, 200, vhost_json(x, vh));
}

/* Make a vhost; its maker gets ".*" on it when it is new.  201/204, or
 * the refusal in *r. */
static int add_vhost(http_ctx *x, http_reply *r, const char *name, bool grant)
{
    static const char *const all[3] = {".*", ".*", ".*"};
    const char *why;
    char whyb[200];
    int rc;

    if (check_name(r, "vhost", name) < 0)
        return -1;
    if ((rc = broker_add_vhost(x->b, name, &why)) < 0) {
        http_reply_error(r, 500, "internal_error", why);
        return -1;
    }
    if (rc == 0 && grant && auth_set_permission(&x->b->auth, x->user, name, all, whyb, sizeof whyb) < 0) {
        http_reply_error(r, 500, "internal_error", whyb);
        return -1;
    }
    r->status = rc == 0 ? 201 : 204;
    return 0;
}

void http_put_vhost(http_ctx *x, http_reply *r)
{
    if (http_need_admin(x, r) < 0)
        return;
    add_vhost(x, r, x->params[0].ptr, true);
}

void http_delete_vhost(http_ctx *x, http_reply *r)
{
    if (http_need_admin(x, r) < 0)
        return;
    if (broker_delete_vhost(x->b, x->params[0].ptr) == 0)
        r->status = 204;
    else if (errno == EPERM)
        http_bad(r, "warren keeps its default vhost '/': it cannot be deleted");
    else
        http_reply_not_found(r);
}

json_t *http_vhosts_export(http_ctx *x)
{
    json_t *arr = json_array();
    size_t i = 0;
    void *v;

    if (arr)
        json_array_append_new(arr, json_pack("{s:o}", "name", http_json_text(x->b->vh->name)));
    while (arr && map_next(&x->b->vhosts, &i, NULL, NULL, &v))
        if (v != x->b->vh)
            json_array_append_new(arr, json_pack("{s:o}", "name", http_json_text(((vhost *)v)->name)));
    return arr;
}

int http_vhosts_import(http_ctx *x, http_reply *r, json_t *body, bool apply)
{
    json_t *vhosts = json_object_get(body, "vhosts"), *o;
    size_t i;

    if (vhosts && !json_is_array(vhosts)) {
        http_bad(r, "definitions: vhosts must be a list");
        return -1;
    }
    json_array_foreach(vhosts, i, o) {
        const char *name = str_field(o, "name");
        if (!name) {
            http_bad(r, "definitions: a vhost without a valid 'name'");
            return -1;
        }
        if (check_name(r, "vhost", name) < 0)
            return -1;
        if (apply && add_vhost(x, r, name, false) < 0)
            return -1;
    }
    r->status = 0;
    return 0;
}

/* Is name a vhost now, or one the import's vhosts section makes? */
bool http_vhost_known(http_ctx *x, json_t *body, const char *name)
{
    json_t *o;
    size_t i;

    if (vhost_exists(x, name))
        return true;
    json_array_foreach(json_object_get(body, "vhosts"), i, o) {
        const char *n = str_field(o, "name");
        if (n && !strcmp(n, name))
            return true;
    }
    return false;
}
