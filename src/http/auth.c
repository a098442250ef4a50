/*
 * auth.c - bearer tokens: generation, hashing, the in-memory table.
 *
 * The table is an array of (id, hash, interned name, admin) under a rwlock:
 * checks take the read side, reloads swap the whole array under the write
 * side. Reloads are serialized by their own mutex so two concurrent
 * changes cannot install an older listing over a newer one.
 *
 * A check hashes the presented token and compares the hash with every
 * entry (and the config token) with cc_consttime_equal, without stopping
 * at the first hit, so the time taken says nothing about which entry matched
 * or how much of a hash agreed. Tokens are few (a handful per operator);
 * a linear scan is cheaper than the SHA-256 in front of it.
 *
 * Names are interned: a principal's name points into a list that only
 * grows (one copy per distinct name ever loaded) and is freed with the
 * auth object, so a principal handed to a request stays valid across
 * reloads and deletes. The list grows only through admin actions.
 */
#include "http/auth.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "store/store.h"

#define TOKEN_RANDOM_BYTES 32
#define PREFIX_LEN (sizeof(HTTP_TOKEN_PREFIX) - 1)
/* Config tokens are chosen by the operator, so any printable string of a
 * sane length is accepted; short ones would be guessable. */
#define CONFIG_TOKEN_MIN 16
#define CONFIG_TOKEN_MAX 256
#define CONFIG_ADMIN_NAME "config-admin"

struct entry {
    int64_t id;
    const char *name;           /* interned */
    bool admin;
    char hash[65];
};

struct http_auth {
    struct store *store;        /* borrowed; may be NULL (config token only) */
    pthread_rwlock_t lock;      /* guards entries, nentries and names */
    pthread_mutex_t reload_mu;
    struct entry *entries;
    size_t nentries;
    char **names;               /* interned names; never shrinks */
    size_t nnames, names_cap;
    bool has_config;
    char config_hash[65];
};

/* A listing in progress: names are copies, since the store's strings live
 * only during the callback. */
struct listing {
    struct entry *v;
    size_t n, cap;
};

void http_auth_hash(const char *s, char out[65])
{
    uint8_t md[CC_SHA256_DIGEST_LEN];
    cc_sha256(s, strlen(s), md);
    cc_hex_encode(md, sizeof(md), out);
}

bool http_auth_equal(const char *a, const char *b, size_t n)
{
    return cc_consttime_equal(a, b, n);
}

static bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* The shape of a token this module issued: cheap to test before hashing. */
static bool is_issued_shape(const char *t, size_t len)
{
    if (len != HTTP_TOKEN_LEN || memcmp(t, HTTP_TOKEN_PREFIX, PREFIX_LEN) != 0)
        return false;
    for (size_t i = PREFIX_LEN; i < len; i++)
        if (!is_b64url(t[i]))
            return false;
    return true;
}

static bool is_token_char(char c)
{
    return c > 0x20 && c < 0x7f;
}

static const char *intern(struct http_auth *a, const char *name)
{
    for (size_t i = 0; i < a->nnames; i++)
        if (strcmp(a->names[i], name) == 0)
            return a->names[i];
    if (a->nnames == a->names_cap) {
        a->names_cap = a->names_cap ? a->names_cap * 2 : 16;
        a->names = cc_xrealloc(a->names, a->names_cap * sizeof(*a->names));
    }
    a->names[a->nnames] = cc_xstrdup(name);
    return a->names[a->nnames++];
}

static void listing_add(void *arg, const struct store_token *t)
{
    struct listing *l = arg;
    /* A row whose hash is not 64 characters could never match: skip it. */
    if (!t->hash || strlen(t->hash) != 64 || !t->name)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = cc_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    struct entry *e = &l->v[l->n++];
    e->id = t->id;
    e->name = cc_xstrdup(t->name);
    /* Anything but "admin" gets the lesser scope. */
    e->admin = t->scope && strcmp(t->scope, "admin") == 0;
    memcpy(e->hash, t->hash, 65);
}

static void listing_release(struct listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((char *)l->v[i].name);
    free(l->v);
}

cc_err http_auth_reload(struct http_auth *a)
{
    if (!a->store)
        return CC_OK;
    struct listing l = {0};
    pthread_mutex_lock(&a->reload_mu);
    cc_err rc = a->store->ops->token_list(a->store, listing_add, &l);
    if (rc)
        goto out;
    pthread_rwlock_wrlock(&a->lock);
    for (size_t i = 0; i < l.n; i++) {
        const char *interned = intern(a, l.v[i].name);
        free((char *)l.v[i].name);
        l.v[i].name = interned;
    }
    struct entry *old = a->entries;
    a->entries = l.v;
    a->nentries = l.n;
    pthread_rwlock_unlock(&a->lock);
    free(old);
    l = (struct listing){0};
out:
    pthread_mutex_unlock(&a->reload_mu);
    listing_release(&l);
    return rc;
}

static cc_err check_config_token(const char *t)
{
    size_t len = strlen(t);
    if (len < CONFIG_TOKEN_MIN || len > CONFIG_TOKEN_MAX)
        return CC_EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!is_token_char(t[i]))
            return CC_EINVAL;
    return CC_OK;
}

cc_err http_auth_new(struct store *store, const char *config_admin_token,
                     struct http_auth **out)
{
    cc_err rc = CC_OK;
    struct http_auth *a = cc_xcalloc(1, sizeof(*a));
    a->store = store;
    pthread_rwlock_init(&a->lock, NULL);
    pthread_mutex_init(&a->reload_mu, NULL);
    if (config_admin_token && config_admin_token[0]) {
        rc = check_config_token(config_admin_token);
        if (rc)
            goto out;
        http_auth_hash(config_admin_token, a->config_hash);
        a->has_config = true;
    }
    rc = http_auth_reload(a);
    if (rc)
        goto out;
    *out = a;
    a = NULL;
out:
    http_auth_free(a);
    return rc;
}

void http_auth_free(struct http_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nnames; i++)
        free(a->names[i]);
    free(a->names);
    free(a->entries);
    pthread_rwlock_destroy(&a->lock);
    pthread_mutex_destroy(&a->reload_mu);
    cc_secure_zero(a->config_hash, sizeof(a->config_hash));
    free(a);
}

/* Finds the token in "Bearer <token>": scheme case-insensitive, one or
 * more spaces or tabs after it, surrounding whitespace trimmed. */
static bool parse_bearer(const char *h, const char **tok, size_t *len)
{
    if (!h)
        return false;
    h += strspn(h, " \t");
    if (strncasecmp(h, "bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return false;
    h += 6;
    h += strspn(h, " \t");
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n == 0 || n > CONFIG_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_token_char(h[i]))
            return false;
    *tok = h;
    *len = n;
    return true;
}

cc_err http_auth_check(struct http_auth *a, const char *authorization,
                       struct http_principal *out)
{
    const char *tok;
    size_t len;
    if (!parse_bearer(authorization, &tok, &len))
        return CC_EAUTH;
    bool issued = is_issued_shape(tok, len);
    if (!issued && !a->has_config)
        return CC_EAUTH;
    char plain[CONFIG_TOKEN_MAX + 1], hash[65];
    memcpy(plain, tok, len);
    plain[len] = '\0';
    http_auth_hash(plain, hash);
    cc_secure_zero(plain, sizeof(plain));

    struct http_principal p = {0};
    bool found = false;
    pthread_rwlock_rdlock(&a->lock);
    if (a->has_config && http_auth_equal(hash, a->config_hash, 64)) {
        p = (struct http_principal){.token_id = 0, .name = CONFIG_ADMIN_NAME, .admin = true};
        found = true;
    }
    for (size_t i = 0; issued && i < a->nentries; i++) {
        bool eq = http_auth_equal(hash, a->entries[i].hash, 64);
        if (eq && !found) {
            p = (struct http_principal){.token_id = a->entries[i].id,
                                        .name = a->entries[i].name,
                                        .admin = a->entries[i].admin};
            found = true;
        }
    }
    pthread_rwlock_unlock(&a->lock);
    if (!found)
        return CC_EAUTH;
    *out = p;
    return CC_OK;
}

/* The smallest period p such that t[i] == t[i - p] for all i >= p. */
static size_t period(const char *t, size_t n)
{
    for (size_t p = 1; p < n; p++) {
        size_t i = p;
        while (i < n && t[i] == t[i - p])
            i++;
        if (i == n)
            return p;
    }
    return n;
}

bool http_auth_token_weak(const char *token, char *why, size_t whysz)
{
    size_t n = strlen(token);
    if (n < HTTP_TOKEN_STRONG_MIN) {
        snprintf(why, whysz, "it has %zu characters; at least %d are needed", n,
                 HTTP_TOKEN_STRONG_MIN);
        return true;
    }
    size_t p = period(token, n);
    if (p <= n / 2) {
        snprintf(why, whysz, "it repeats a pattern of %zu characters", p);
        return true;
    }
    unsigned count[256] = {0};
    for (size_t i = 0; i < n; i++)
        count[(unsigned char)token[i]]++;
    double bits = 0;
    for (size_t c = 0; c < 256; c++) {
        if (!count[c])
            continue;
        double f = (double)count[c] / (double)n;
        bits -= f * log2(f);
    }
    bits *= (double)n;
    if (bits < 96.0) {
        snprintf(why, whysz, "its characters carry about %.0f bits; at least 96 are needed "
                 "(use more distinct characters, e.g. random base64)", bits);
        return true;
    }
    return false;
}

static bool valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > HTTP_TOKEN_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!is_b64url(c) && c != '.')
            return false;     /* [A-Za-z0-9._-] */
    }
    return true;
}

static cc_err fill_random(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return CC_EIO;
        }
        got += (size_t)r;
    }
    return CC_OK;
}

/* "cc_" + base64url without padding: 32 bytes -> 43 characters. */
static cc_err new_token(char out[HTTP_TOKEN_LEN + 1])
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[TOKEN_RANDOM_BYTES];
    cc_err rc = fill_random(raw, TOKEN_RANDOM_BYTES);
    if (rc)
        return rc;
    memcpy(out, HTTP_TOKEN_PREFIX, PREFIX_LEN);
    size_t o = PREFIX_LEN;
    for (size_t i = 0; i < TOKEN_RANDOM_BYTES; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
                     (i + 2 < TOKEN_RANDOM_BYTES ? raw[i + 2] : 0);
        size_t chars = i + 2 < TOKEN_RANDOM_BYTES ? 4 : TOKEN_RANDOM_BYTES - i + 1;
        for (size_t k = 0; k < chars; k++)
            out[o++] = b64[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
    cc_secure_zero(raw, sizeof(raw));
    return CC_OK;
}

/* Keeps the table right when the store changed but could not be listed
 * again: a new token must work, a deleted one must stop working. */
static void table_add(struct http_auth *a, int64_t id, const char *name, bool admin,
                      const char hash[65])
{
    pthread_rwlock_wrlock(&a->lock);
    a->entries = cc_xrealloc(a->entries, (a->nentries + 1) * sizeof(*a->entries));
    struct entry *e = &a->entries[a->nentries++];
    e->id = id;
    e->name = intern(a, name);
    e->admin = admin;
    memcpy(e->hash, hash, 65);
    pthread_rwlock_unlock(&a->lock);
}

static void table_remove(struct http_auth *a, int64_t id)
{
    pthread_rwlock_wrlock(&a->lock);
    for (size_t i = 0; i < a->nentries; i++) {
        if (a->entries[i].id == id) {
            a->entries[i] = a->entries[--a->nentries];
            break;
        }
    }
    pthread_rwlock_unlock(&a->lock);
}

cc_err http_auth_create(struct http_auth *a, const char *name, const char *scope,
                        int64_t now_ms, char **plain_out, int64_t *id_out)
{
    char plain[HTTP_TOKEN_LEN + 1], hash[65];
    int64_t id = 0;
    if (!valid_name(name) || !scope || (strcmp(scope, "read") && strcmp(scope, "admin")))
        return CC_EINVAL;
    if (!a->store)
        return CC_EUNSUPPORTED;
    cc_err rc = new_token(plain);
    if (rc)
        goto out;
    http_auth_hash(plain, hash);
    struct store_token t = {.name = name, .hash = hash, .scope = scope, .created_ms = now_ms};
    rc = a->store->ops->token_insert(a->store, &t, &id);
    if (rc)
        goto out;
    /* The token exists now; a failed re-listing must not lose it. */
    if (http_auth_reload(a) != CC_OK)
        table_add(a, id, name, strcmp(scope, "admin") == 0, hash);
    *plain_out = cc_xstrdup(plain);
    *id_out = id;
out:
    cc_secure_zero(plain, sizeof(plain));
    return rc;
}

cc_err http_auth_delete(struct http_auth *a, int64_t id)
{
    if (id == 0)
        return CC_EPERM;
    if (!a->store)
        return CC_ENOTFOUND;
    cc_err rc = a->store->ops->token_delete(a->store, id);
    if (rc)
        return rc;
    if (http_auth_reload(a) != CC_OK)
        table_remove(a, id);
    return CC_OK;
}

size_t http_auth_count(struct http_auth *a)
{
    pthread_rwlock_rdlock(&a->lock);
    size_t n = a->nentries;
    pthread_rwlock_unlock(&a->lock);
    return n;
}
