/*
 * fake_store.c - see fake_store.h. Tokens live in a plain array; copies of
 * their strings are owned by the fake.
 */
#include "fakes/fake_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

struct fake_token {
    int64_t id;
    char *name, *hash, *scope;
    int64_t created_ms, last_used_ms;
};

struct fake_store {
    struct store base;                  /* first, as store.h requires */
    pthread_mutex_t mu;
    struct fake_token *tokens;
    size_t n, cap;
    int64_t next_id;
    cc_err fail_err[FAKE_OP__COUNT];
    int fail_times[FAKE_OP__COUNT];
    size_t calls[FAKE_OP__COUNT];
};

static struct fake_store *fs(struct store *s)
{
    return (struct fake_store *)s;
}

/* Counts the call and tells whether it must fail; mu held. */
static cc_err injected(struct fake_store *f, enum fake_store_op op)
{
    f->calls[op]++;
    if (f->fail_times[op] == 0)
        return CC_OK;
    if (f->fail_times[op] > 0)
        f->fail_times[op]--;
    return f->fail_err[op];
}

struct store *fake_store_new(void)
{
    struct fake_store *f = cc_xcalloc(1, sizeof(*f));
    f->base.ops = &fake_store_ops;
    pthread_mutex_init(&f->mu, NULL);
    f->next_id = 1;
    return &f->base;
}

void fake_store_fail(struct store *s, enum fake_store_op op, cc_err err, int times)
{
    struct fake_store *f = fs(s);
    pthread_mutex_lock(&f->mu);
    f->fail_err[op] = err;
    f->fail_times[op] = err == CC_OK ? 0 : times;
    pthread_mutex_unlock(&f->mu);
}

size_t fake_store_calls(struct store *s, enum fake_store_op op)
{
    struct fake_store *f = fs(s);
    pthread_mutex_lock(&f->mu);
    size_t n = f->calls[op];
    pthread_mutex_unlock(&f->mu);
    return n;
}

size_t fake_store_ntokens(struct store *s)
{
    struct fake_store *f = fs(s);
    pthread_mutex_lock(&f->mu);
    size_t n = f->n;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static cc_err fake_open(const struct store_cfg *cfg, struct store **out)
{
    *out = fake_store_new();
    return CC_OK;
}

static void token_release(struct fake_token *t)
{
    free(t->name);
    free(t->hash);
    free(t->scope);
}

static void fake_close(struct store *s)
{
    if (!s)
        return;
    struct fake_store *f = fs(s);
    for (size_t i = 0; i < f->n; i++)
        token_release(&f->tokens[i]);
    free(f->tokens);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static cc_err fake_ping(struct store *s)
{
    return CC_OK;
}

static cc_err fake_info(struct store *s, struct store_info *out)
{
    *out = (struct store_info){.driver = "fake", .schema_version = 1, .schema_latest = 1};
    return CC_OK;
}

static cc_err token_insert(struct store *s, const struct store_token *t, int64_t *out_id)
{
    struct fake_store *f = fs(s);
    pthread_mutex_lock(&f->mu);
    cc_err rc = injected(f, FAKE_TOKEN_INSERT);
    if (rc)
        goto out;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->tokens[i].name, t->name) == 0) {
            rc = CC_ECONFLICT;
            goto out;
        }
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->tokens = cc_xrealloc(f->tokens, f->cap * sizeof(*f->tokens));
    }
    struct fake_token *nt = &f->tokens[f->n++];
    *nt = (struct fake_token){.id = f->next_id++,
                              .name = cc_xstrdup(t->name),
                              .hash = cc_xstrdup(t->hash),
                              .scope = cc_xstrdup(t->scope),
                              .created_ms = t->created_ms,
                              .last_used_ms = t->last_used_ms};
    *out_id = nt->id;
out:
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static cc_err token_list(struct store *s, store_token_cb cb, void *arg)
{
    struct fake_store *f = fs(s);
    pthread_mutex_lock(&f->mu);
    cc_err rc = injected(f, FAKE_TOKEN_LIST);
    for (size_t i = 0; !rc && i < f->n; i++) {
        const struct fake_token *t = &f->tokens[i];
        struct store_token st = {.id = t->id, .name = t->name, .hash = t->hash,
                                 .scope = t->scope, .created_ms = t->created_ms,
                                 .last_used_ms = t->last_used_ms};
        cb(arg, &st);
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static cc_err find_locked(struct fake_store *f, int64_t id, size_t *idx)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->tokens[i].id == id) {
            *idx = i;
            return CC_OK;
        }
    }
    return CC_ENOTFOUND;
}

static cc_err token_delete(struct store *s, int64_t id)
{
    struct fake_store *f = fs(s);
    size_t i = 0;
    pthread_mutex_lock(&f->mu);
    cc_err rc = injected(f, FAKE_TOKEN_DELETE);
    if (!rc)
        rc = find_locked(f, id, &i);
    if (!rc) {
        token_release(&f->tokens[i]);
        memmove(&f->tokens[i], &f->tokens[i + 1], (f->n - i - 1) * sizeof(*f->tokens));
        f->n--;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static cc_err token_touch(struct store *s, int64_t id, int64_t used_ms)
{
    struct fake_store *f = fs(s);
    size_t i = 0;
    pthread_mutex_lock(&f->mu);
    cc_err rc = injected(f, FAKE_TOKEN_TOUCH);
    if (!rc)
        rc = find_locked(f, id, &i);
    if (!rc)
        f->tokens[i].last_used_ms = used_ms;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static cc_err project_insert(struct store *s, const struct store_project *p, int64_t *out_id)
{
    return CC_EUNSUPPORTED;
}

static cc_err project_update(struct store *s, const struct store_project *p)
{
    return CC_EUNSUPPORTED;
}

static cc_err project_get(struct store *s, const char *name, store_project_cb cb, void *arg)
{
    return CC_EUNSUPPORTED;
}

static cc_err project_list(struct store *s, store_project_cb cb, void *arg)
{
    return CC_EUNSUPPORTED;
}

static cc_err project_delete(struct store *s, const char *name)
{
    return CC_EUNSUPPORTED;
}

static cc_err event_append(struct store *s, const struct store_event *e, int64_t *out_id)
{
    return CC_EUNSUPPORTED;
}

static cc_err event_list(struct store *s, int64_t after_id, unsigned limit,
                         store_event_cb cb, void *arg)
{
    return CC_EUNSUPPORTED;
}

static cc_err event_prune(struct store *s, int64_t before_ms, int64_t *out_deleted)
{
    return CC_EUNSUPPORTED;
}

const struct store_ops fake_store_ops = {
    .name = "fake",
    .open = fake_open,
    .close = fake_close,
    .ping = fake_ping,
    .info = fake_info,
    .token_insert = token_insert,
    .token_list = token_list,
    .token_delete = token_delete,
    .token_touch = token_touch,
    .project_insert = project_insert,
    .project_update = project_update,
    .project_get = project_get,
    .project_list = project_list,
    .project_delete = project_delete,
    .event_append = event_append,
    .event_list = event_list,
    .event_prune = event_prune,
};
