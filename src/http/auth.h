/*
 * auth.h - bearer tokens with scopes.
 *
 * A token is "cc_" followed by 43 base64url characters (32 random bytes).
 * Only its SHA-256 (hex) is stored; the plaintext is shown once, when it is
 * created. The table of valid hashes is kept in memory (loaded from the
 * store at start and after every change made through this module), so
 * checking a request costs a hash and a lookup, not a database query.
 * Hash comparison is constant-time.
 *
 * Scopes: "read" may call read-only routes; "admin" may call everything.
 * A token may also come from configuration (auth.admin_token); it lives
 * only in memory, has id 0 and cannot be deleted through the API.
 */
#ifndef CC_HTTP_AUTH_H
#define CC_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/server.h"

struct store;
struct http_auth;

#define HTTP_TOKEN_PREFIX "cc_"
#define HTTP_TOKEN_LEN 46          /* "cc_" + 43 */
#define HTTP_TOKEN_NAME_MAX 64

/* config_admin_token may be NULL. Loads the store's tokens. */
cc_err http_auth_new(struct store *store, const char *config_admin_token,
                     struct http_auth **out);
void http_auth_free(struct http_auth *a);
cc_err http_auth_reload(struct http_auth *a);

/* Checks an Authorization header value ("Bearer cc_..."). CC_EAUTH when it
 * is missing, malformed or unknown. On success *out gets the principal;
 * its strings live as long as the auth object (names are interned). */
cc_err http_auth_check(struct http_auth *a, const char *authorization,
                       struct http_principal *out);

/* Creates a token and stores it; *plain_out (caller frees) is the only copy
 * of the plaintext. CC_EINVAL for a bad name or scope, CC_ECONFLICT if the
 * name is taken. */
cc_err http_auth_create(struct http_auth *a, const char *name, const char *scope,
                        int64_t now_ms, char **plain_out, int64_t *id_out);
cc_err http_auth_delete(struct http_auth *a, int64_t id);
/* Number of tokens in the store (not counting the config token). */
size_t http_auth_count(struct http_auth *a);

/*
 * Whether a configured token is too weak to expose: shorter than
 * HTTP_TOKEN_STRONG_MIN characters, or guessable by its make-up - the
 * Shannon entropy of its characters times its length under 96 bits (a
 * word repeated, a keyboard walk), or a short pattern repeated. A
 * heuristic: 32 random base64url or hex characters pass, and so does a
 * token this module issues. When weak, why gets a reason for the operator.
 */
#define HTTP_TOKEN_STRONG_MIN 32
bool http_auth_token_weak(const char *token, char *why, size_t whysz);

/* Lower-case hex SHA-256 of s into out (65 bytes). */
void http_auth_hash(const char *s, char out[65]);
/* Constant-time equality of two equal-length strings. */
bool http_auth_equal(const char *a, const char *b, size_t n);

#endif
