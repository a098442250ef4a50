/*
 * fetch_guard.c - the fetcher's pure checks: which addresses the SSRF
 * guard refuses, Retry-After values, header values, and the auth JSON of
 * sources (see fetch.h and fetch_int.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/diag.h"
#include "ingest/fetch.h"
#include "ingest/fetch_int.h"

#define RETRY_AFTER_MAX_MS (366LL * 24 * 3600 * 1000)
#define HEADER_VALUE_MAX 8192

/* IPv4 ranges refused, most specific first (169.254.169.254 before
 * 169.254/16, so the message says "cloud metadata"). */
static const struct {
    unsigned char net[4];
    unsigned bits;
    const char *why;
} v4_refused[] = {
    {{169, 254, 169, 254}, 32, "link-local (cloud metadata)"},
    {{0, 0, 0, 0}, 8, "unspecified (this network)"},
    {{10, 0, 0, 0}, 8, "private"},
    {{100, 64, 0, 0}, 10, "shared (CGNAT)"},
    {{127, 0, 0, 0}, 8, "loopback"},
    {{169, 254, 0, 0}, 16, "link-local"},
    {{172, 16, 0, 0}, 12, "private"},
    {{192, 0, 0, 0}, 24, "reserved (IETF protocol assignments, cloud metadata)"},
    {{192, 168, 0, 0}, 16, "private"},
    {{198, 18, 0, 0}, 15, "reserved (benchmarking)"},
    {{224, 0, 0, 0}, 4, "multicast"},
    {{255, 255, 255, 255}, 32, "broadcast"},
    {{240, 0, 0, 0}, 4, "reserved"},
};

static bool v4_in(const unsigned char a[4], const unsigned char net[4], unsigned bits)
{
    uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    uint32_t n = (uint32_t)net[0] << 24 | (uint32_t)net[1] << 16 | (uint32_t)net[2] << 8 | net[3];
    uint32_t mask = bits ? ~(uint32_t)0 << (32 - bits) : 0;
    return (x & mask) == n;
}

static const char *v4_refusal(const unsigned char a[4])
{
    for (size_t i = 0; i < sizeof(v4_refused) / sizeof(v4_refused[0]); i++)
        if (v4_in(a, v4_refused[i].net, v4_refused[i].bits))
            return v4_refused[i].why;
    return NULL;
}

static bool v6_in(const unsigned char a[16], const unsigned char *net, unsigned bits)
{
    struct cc_cidr c = {.prefix = bits};
    memcpy(c.addr, net, 16);
    return cc_cidr_contains(&c, a);
}

/* IPv6 forms that carry an IPv4 address: the address inside is what a
 * translator or tunnel would reach, so it is judged as IPv4. */
static const char *v6_embedded_refusal(const unsigned char a[16], bool *embeds)
{
    static const unsigned char nat64[16] = {0, 0x64, 0xff, 0x9b};
    static const unsigned char sixto4[16] = {0x20, 0x02};
    static const unsigned char teredo[16] = {0x20, 0x01, 0, 0};
    static const unsigned char zero[16] = {0};
    *embeds = true;
    if (v6_in(a, zero, 96)) /* IPv4-compatible (deprecated), :: and ::1 handled before */
        return v4_refusal(a + 12) ? v4_refusal(a + 12) : "reserved (IPv4-compatible IPv6)";
    if (v6_in(a, nat64, 96))
        return v4_refusal(a + 12);
    if (v6_in(a, sixto4, 16))
        return v4_refusal(a + 2);
    if (v6_in(a, teredo, 32)) {
        unsigned char client[4];
        for (int i = 0; i < 4; i++)
            client[i] = (unsigned char)~a[12 + i];
        return v4_refusal(a + 4) ? v4_refusal(a + 4) : v4_refusal(client);
    }
    *embeds = false;
    return NULL;
}

const char *ingest__addr_refusal(const unsigned char a[16])
{
    static const struct {
        unsigned char net[16];
        unsigned bits;
        const char *why;
    } v6_refused[] = {
        {{0}, 128, "unspecified"},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback"},
        {{0, 0x64, 0xff, 0x9b, 0, 1}, 48, "reserved (local-use NAT64)"},
        {{0x01, 0x00}, 64, "reserved (discard-only)"},
        {{0xfc}, 7, "private (unique local)"},
        {{0xfe, 0x80}, 10, "link-local"},
        {{0xfe, 0xc0}, 10, "private (site-local)"},
        {{0xff}, 8, "multicast"},
    };
    if (cc_ip_is_v4(a))
        return v4_refusal(a + 12);
    for (size_t i = 0; i < sizeof(v6_refused) / sizeof(v6_refused[0]); i++)
        if (v6_in(a, v6_refused[i].net, v6_refused[i].bits))
            return v6_refused[i].why;
    bool embeds;
    return v6_embedded_refusal(a, &embeds);
}

const char *ingest__guard_check(const unsigned char a[16], const struct cc_cidr *allow,
                                size_t nallow)
{
    for (size_t i = 0; i < nallow; i++)
        if (cc_cidr_contains(&allow[i], a))
            return NULL;
    return ingest__addr_refusal(a);
}

bool ingest__retry_after_parse(const char *v, int64_t now_wall_ms, int64_t *out_ms)
{
    const struct ingest__curl *L = ingest__curl(); /* NULL without libcurl: no dates */
    v += strspn(v, " \t");
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0 || n > 64)
        return false;
    char text[65];
    memcpy(text, v, n);
    text[n] = '\0';
    int64_t ms;
    if (strspn(text, "0123456789") == n) {
        /* delta-seconds; more than 10 digits is beyond the clamp anyway */
        ms = n > 10 ? RETRY_AFTER_MAX_MS : (int64_t)strtoll(text, NULL, 10) * 1000;
    } else {
        /* libcurl's date parser reads the three HTTP-date forms (IMF-fixdate,
         * RFC 850, asctime); it is also lenient with others, which is harmless
         * for a back-off hint. A date must at least name a month and a time. */
        if (!L || !strchr(text, ':') || !strpbrk(text, "JFMASONDjfmasond"))
            return false;
        time_t t = L->curl_getdate(text, NULL);
        if (t == (time_t)-1)
            return false;
        ms = (int64_t)t * 1000 - now_wall_ms;
        if (ms < 0)
            ms = 0;
    }
    *out_ms = ms > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : ms;
    return true;
}

bool ingest__header_value_ok(const char *s)
{
    size_t n = strcspn(s, "\r\n");
    return s[n] == '\0' && n <= HEADER_VALUE_MAX;
}

/* ---------------------------------------------------------------------------
 * Auth JSON
 */

static const char *str_field(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Copies the secret (inline or file) of o into a; exactly one is allowed. */
static cc_err take_secret(json_t *o, const char *inline_key, const char *file_key,
                          struct ingest_fetch_auth *a, struct cc_diag *d)
{
    const char *v = str_field(o, inline_key), *f = str_field(o, file_key);
    if (v && f) {
        cc_diag_set(d, NULL, 0, 0, "auth: give either '%s' or '%s', not both", inline_key,
                    file_key);
        return CC_EINVAL;
    }
    if (!v && !f) {
        cc_diag_set(d, NULL, 0, 0, "auth: '%s' (a file holding the secret) is missing",
                    file_key);
        return CC_EINVAL;
    }
    if (f && (!f[0] || cc_strlcpy(a->secret_file, f, sizeof(a->secret_file)))) {
        cc_diag_set(d, NULL, 0, 0, "auth: '%s' must be a path of 1 to %zu bytes", file_key,
                    sizeof(a->secret_file) - 1);
        return CC_EINVAL;
    }
    if (v && (!v[0] || cc_strlcpy(a->secret, v, sizeof(a->secret)) ||
              !ingest__header_value_ok(v))) {
        cc_diag_set(d, NULL, 0, 0, "auth: '%s' must be 1 to %zu bytes on one line", inline_key,
                    sizeof(a->secret) - 1);
        return CC_EINVAL;
    }
    return CC_OK;
}

/* A header name is an RFC 9110 token. */
static bool header_name_ok(const char *s)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    size_t n = strlen(s);
    return n > 0 && n < 256 && strspn(s, tchar) == n;
}

static cc_err check_keys(json_t *o, const char *const *allowed, struct cc_diag *d)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (const char *const *k = allowed; *k && !known; k++)
            known = strcmp(*k, key) == 0;
        if (!known) {
            cc_diag_set(d, NULL, 0, 0, "auth: unknown field '%.64s'", key);
            return CC_EINVAL;
        }
        if (!json_is_string(v)) {
            cc_diag_set(d, NULL, 0, 0, "auth: '%.64s' must be a string", key);
            return CC_EINVAL;
        }
    }
    return CC_OK;
}

static cc_err parse_auth_object(json_t *o, struct ingest_fetch_auth *a, struct cc_diag *d)
{
    static const char *const basic_keys[] = {"type", "username", "password", "password_file",
                                             NULL};
    static const char *const bearer_keys[] = {"type", "token", "token_file", NULL};
    static const char *const header_keys[] = {"type", "name", "header", "value", "value_file",
                                              NULL};
    const char *type = str_field(o, "type");
    if (!json_is_object(o) || !type) {
        cc_diag_set(d, NULL, 0, 0, "auth must be an object with a \"type\": basic, bearer or "
                                   "header");
        return CC_EINVAL;
    }
    cc_err e;
    if (!strcmp(type, "basic")) {
        a->type = INGEST_AUTH_BASIC;
        const char *user = str_field(o, "username");
        if ((e = check_keys(o, basic_keys, d)))
            return e;
        if (!user || !user[0] || strchr(user, ':') || !ingest__header_value_ok(user) ||
            cc_strlcpy(a->name, user, sizeof(a->name))) {
            cc_diag_set(d, NULL, 0, 0, "auth: basic needs a \"username\" (no ':', at most "
                                       "255 bytes)");
            return CC_EINVAL;
        }
        return take_secret(o, "password", "password_file", a, d);
    }
    if (!strcmp(type, "bearer")) {
        a->type = INGEST_AUTH_BEARER;
        if ((e = check_keys(o, bearer_keys, d)))
            return e;
        return take_secret(o, "token", "token_file", a, d);
    }
    if (!strcmp(type, "header")) {
        a->type = INGEST_AUTH_HEADER;
        if ((e = check_keys(o, header_keys, d)))
            return e;
        const char *name = str_field(o, "name");
        const char *alias = str_field(o, "header");
        if (name && alias && strcmp(name, alias) != 0) {
            cc_diag_set(d, NULL, 0, 0, "auth: \"name\" and \"header\" differ; give one");
            return CC_EINVAL;
        }
        name = name ? name : alias;
        if (!name || !header_name_ok(name)) {
            cc_diag_set(d, NULL, 0, 0, "auth: header needs a \"name\", a header name such "
                                       "as X-Api-Key");
            return CC_EINVAL;
        }
        cc_strlcpy(a->name, name, sizeof(a->name));
        return take_secret(o, "value", "value_file", a, d);
    }
    cc_diag_set(d, NULL, 0, 0, "auth: unknown type '%.32s' (use basic, bearer or header)",
                type);
    return CC_EINVAL;
}

cc_err ingest_fetch_auth_parse(const char *json, struct ingest_fetch_auth *out,
                               struct cc_diag *d)
{
    struct ingest_fetch_auth a = {.type = INGEST_AUTH_NONE};
    cc_err rc = CC_OK;
    json_t *o = NULL;
    if (json && json[0]) {
        json_error_t je;
        o = json_loads(json, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        if (!o) {
            cc_diag_set(d, NULL, 0, 0, "auth is not valid JSON: %s", je.text);
            rc = CC_EINVAL;
            goto out;
        }
        if (!json_is_null(o) && (rc = parse_auth_object(o, &a, d)))
            goto out;
    }
    *out = a;
out:
    json_decref(o);
    return rc;
}
