/*
 * tokens.c - /api/v1/tokens: list, create and revoke API tokens.
 * The plaintext of a token appears exactly once: in the answer to its
 * creation. Listing shows names, scopes and times, never hashes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/clock.h"
#include "http/auth.h"
#include "store/store.h"

static void add_token(void *arg, const struct store_token *t)
{
    json_t *list = arg;
    json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)t->id,
                                          "name", t->name, "scope", t->scope,
                                          "created_at", api__time(t->created_ms)));
}

void api__tokens_list(struct http_req *req, struct http_resp *resp)
{
    struct store *st = req->ctx->store;
    json_t *list = json_array();
    cc_err err = st->ops->token_list(st, add_token, list);
    if (err) {
        json_decref(list);
        http_resp_err(resp, err, "cannot list tokens", NULL);
        return;
    }
    http_resp_json(resp, 200, json_pack("{s:o}", "tokens", list));
}

void api__tokens_create(struct http_req *req, struct http_resp *resp)
{
    struct api_deps *deps = req->server_data;
    json_t *body = NULL;
    if (http_req_json(req, resp, &body))
        return;
    const char *name = json_string_value(json_object_get(body, "name"));
    json_t *scope_j = json_object_get(body, "scope");
    const char *scope = scope_j ? json_string_value(scope_j) : "read";
    if (!name || !scope) {
        http_resp_err(resp, CC_EINVAL,
                      !name ? "'name' is required and must be a string"
                            : "'scope' must be a string",
                      "send {\"name\": \"ci\", \"scope\": \"read\"}; scope is read or admin");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        if (strcmp(key, "name") && strcmp(key, "scope")) {
            char *msg = cc_arena_printf(req->arena, "unknown field '%s'", key);
            http_resp_err(resp, CC_EINVAL, msg ? msg : "unknown field",
                          "a token has only 'name' and 'scope'");
            goto out;
        }
    }
    int64_t now = cc_wall_ms(req->ctx->clock);
    char *plain = NULL;
    int64_t id = 0;
    cc_err err = http_auth_create(deps->auth, name, scope, now, &plain, &id);
    if (err == CC_EINVAL) {
        http_resp_err(resp, CC_EINVAL, "invalid token name or scope",
                      "names are 1-64 characters of A-Z a-z 0-9 . _ -; scope is read or admin");
        goto out;
    }
    if (err == CC_ECONFLICT) {
        http_resp_err(resp, CC_ECONFLICT, "a token with this name already exists",
                      "choose another name, or revoke the old token first");
        goto out;
    }
    if (err) {
        http_resp_err(resp, err, "cannot create the token", NULL);
        goto out;
    }
    http_resp_json(resp, 201, json_pack("{s:I, s:s, s:s, s:o, s:s}", "id", (json_int_t)id,
                                        "name", name, "scope", scope,
                                        "created_at", api__time(now), "token", plain));
    free(plain);
out:
    json_decref(body);
}

void api__tokens_delete(struct http_req *req, struct http_resp *resp)
{
    struct api_deps *deps = req->server_data;
    long long id;
    if (api__int(http_req_param(req, "id"), 0, INT64_MAX, &id)) {
        http_resp_err(resp, CC_EINVAL, "the token id must be a non-negative integer",
                      "list tokens with GET /api/v1/tokens");
        return;
    }
    cc_err err = http_auth_delete(deps->auth, id);
    if (err == CC_ENOTFOUND) {
        http_resp_err(resp, CC_ENOTFOUND, "no token with this id",
                      "list tokens with GET /api/v1/tokens");
        return;
    }
    if (err == CC_EPERM) {
        http_resp_err(resp, CC_EPERM, "the configured admin token cannot be revoked here",
                      "remove auth.admin_token from the configuration instead");
        return;
    }
    if (err) {
        http_resp_err(resp, err, "cannot revoke the token", NULL);
        return;
    }
    cc_buf_reset(&resp->body);
    resp->status = 204;
}
