/*
 * compose.c - the stack spec front end: YAML (libfyaml's document API,
 * behind the shared pre-scan of core/yaml_guard), the top level, the typed
 * value helpers, and the checks that need the whole stack (references,
 * dependency cycles). Service fields are in compose_service.c.
 *
 * Decisions:
 *   - Anchors, aliases and merge keys are resolved by libfyaml after the
 *     expansion budget (MAX_NODES) says the resolved tree stays small.
 *   - An unsupported key is a warning, never an error: a file written for
 *     Compose still loads and the user learns what CommandCenter ignores.
 *   - Every allocation goes to the stack's arena, bounded by ARENA_LIMIT.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/yaml_guard.h"
#include "orchestrator/compose_int.h"

#define MAX_NODES   200000  /* after alias expansion: ~200 per service */
#define ARENA_LIMIT (64u << 20)
#define MAX_WARNINGS 200
#define MAX_STR     (ORCH_COMPOSE_MAX_FILE * 4)

/* ---------------------------------------------------------------------------
 * Positions, messages
 */

struct orch__pos orch__pos_of(struct fy_node *n, struct orch__pos fallback)
{
    struct orch__pos at;
    return cc_yaml_node_pos(n, ORCH_COMPOSE_MAX_DEPTH, &at.line, &at.col) ? at : fallback;
}

cc_err orch__fail(struct orch__parser *p, struct orch__pos at, cc_err e, const char *fmt, ...)
{
    char msg[sizeof(p->d->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cc_diag_set(p->d, p->file, at.line, at.col, "%s", msg);
    return e;
}

void orch__warn(struct orch__parser *p, struct orch__pos at, const char *fmt, ...)
{
    struct orch_strs *w = &p->st->warnings;
    if (w->n >= MAX_WARNINGS)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!w->v)
        w->v = cc_arena_calloc(p->a, MAX_WARNINGS, sizeof(char *));
    char *line = at.line ? cc_arena_printf(p->a, "%s:%u:%u: %s", p->file, at.line, at.col, msg)
                         : cc_arena_printf(p->a, "%s: %s", p->file, msg);
    if (w->v && line)
        w->v[w->n++] = line;
}

const char *orch__key(struct fy_node_pair *pr, char *buf, size_t bufsz)
{
    struct fy_node *k = fy_node_pair_key(pr);
    if (!k || !fy_node_is_scalar(k))
        return NULL;
    size_t len = 0;
    const char *s = fy_node_get_scalar(k, &len);
    if (!s || len == 0 || len >= bufsz || memchr(s, '\0', len))
        return NULL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

static const char *kind_name(struct fy_node *n)
{
    if (cc_yaml_is_null(n))
        return "nothing (null)";
    if (fy_node_is_mapping(n))
        return "a mapping";
    return fy_node_is_sequence(n) ? "a list" : "a scalar";
}

/* ---------------------------------------------------------------------------
 * Typed values
 */

cc_err orch__scalar(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                    const char *what, bool nullable, char **out)
{
    struct orch__pos at = orch__pos_of(n, kp);
    if (cc_yaml_is_null(n)) {
        if (nullable) {
            *out = NULL;
            return CC_OK;
        }
        return orch__fail(p, kp, CC_EPARSE, "%s has no value; write a value or remove "
                          "the key", what);
    }
    if (!fy_node_is_scalar(n))
        return orch__fail(p, at, CC_EPARSE, "%s: expected a single value, got %s", what,
                          kind_name(n));
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        s = "";
    if (memchr(s, '\0', len))
        return orch__fail(p, at, CC_EPARSE, "%s: must not contain NUL characters", what);
    struct cc_buf b, missing;
    char why[256];
    cc_buf_init(&b, MAX_STR);
    cc_buf_init(&missing, 600);
    cc_err err = orch__interp(&p->env, s, len, &b, &missing, why, sizeof(why));
    if (err) {
        err = orch__fail(p, at, err, "%s: %s", what, why);
        goto out;
    }
    if (missing.len)
        orch__warn(p, at, "variable %s is not set; using an empty string (set it in the "
                   "environment or in .env)", cc_buf_str(&missing));
    *out = cc_arena_strndup(p->a, cc_buf_str(&b), b.len);
    if (!*out)
        err = orch__fail(p, at, CC_ELIMIT, "the stack needs more than %u MiB of memory",
                         ARENA_LIMIT >> 20);
out:
    cc_buf_release(&b);
    cc_buf_release(&missing);
    return err;
}

cc_err orch__bool(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                  const char *what, bool *out)
{
    char *s = NULL;
    cc_err err = orch__scalar(p, n, kp, what, false, &s);
    if (err)
        return err;
    static const char *const t[] = {"true", "True", "TRUE", "yes", "on"};
    static const char *const f[] = {"false", "False", "FALSE", "no", "off"};
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(s, t[i]) == 0 || strcmp(s, f[i]) == 0) {
            *out = strcmp(s, t[i]) == 0;
            return CC_OK;
        }
    }
    return orch__fail(p, orch__pos_of(n, kp), CC_EPARSE, "%s: expected true or false, "
                      "got '%.40s'", what, s);
}

cc_err orch__long(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                  const char *what, long min, long max, long *out)
{
    char *s = NULL, *end = NULL;
    cc_err err = orch__scalar(p, n, kp, what, false, &s);
    if (err)
        return err;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return orch__fail(p, orch__pos_of(n, kp), CC_EPARSE, "%s: expected a whole number "
                          "from %ld to %ld, got '%.40s'", what, min, max, s);
    *out = v;
    return CC_OK;
}

cc_err orch__duration(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                      const char *what, int64_t *out)
{
    char *s = NULL;
    cc_err err = orch__scalar(p, n, kp, what, false, &s);
    if (err)
        return err;
    if (cc_parse_duration_ns(s, out, NULL))
        return orch__fail(p, orch__pos_of(n, kp), CC_EPARSE, "%s: '%.40s' is not a duration; "
                          "write it like 30s, 1m30s, 500ms or 2h", what, s);
    return CC_OK;
}

cc_err orch__strs(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                  const char *what, struct orch_strs *out)
{
    struct orch_strs r = {0};
    if (fy_node_is_scalar(n) && !cc_yaml_is_null(n)) {
        r.v = cc_arena_calloc(p->a, 1, sizeof(char *));
        r.n = 1;
        if (!r.v)
            return orch__fail(p, kp, CC_ELIMIT, "out of memory for the stack");
        cc_err err = orch__scalar(p, n, kp, what, false, &r.v[0]);
        if (!err)
            *out = r;
        return err;
    }
    if (!fy_node_is_sequence(n))
        return orch__fail(p, orch__pos_of(n, kp), CC_EPARSE, "%s: expected a string or a "
                          "list of strings, got %s", what, kind_name(n));
    int count = fy_node_sequence_item_count(n);
    r.v = cc_arena_calloc(p->a, count > 0 ? (size_t)count : 1, sizeof(char *));
    if (!r.v)
        return orch__fail(p, kp, CC_ELIMIT, "out of memory for the stack");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
        cc_err err = orch__scalar(p, item, kp, what, false, &r.v[r.n]);
        if (err)
            return err;
        r.n++;
    }
    *out = r;
    return CC_OK;
}

/* One "KEY=VALUE" list item. */
static cc_err kv_item(struct orch__parser *p, struct fy_node *item, struct orch__pos kp,
                      const char *what, struct orch_kv *kv)
{
    char *s = NULL;
    cc_err err = orch__scalar(p, item, kp, what, false, &s);
    if (err)
        return err;
    char *eq = strchr(s, '=');
    if (eq == s)
        return orch__fail(p, orch__pos_of(item, kp), CC_EPARSE, "%s: '%.40s' has no name "
                          "before '='; write NAME=value", what, s);
    if (eq)
        *eq = '\0';
    kv->key = s;
    kv->value = eq ? eq + 1 : NULL;
    return CC_OK;
}

cc_err orch__kvs(struct orch__parser *p, struct fy_node *n, struct orch__pos kp,
                 const char *what, struct orch_kvs *out)
{
    bool map = fy_node_is_mapping(n);
    if (!map && !fy_node_is_sequence(n))
        return orch__fail(p, orch__pos_of(n, kp), CC_EPARSE, "%s: expected a mapping "
                          "(NAME: value) or a list of NAME=value, got %s", what, kind_name(n));
    int count = map ? fy_node_mapping_item_count(n) : fy_node_sequence_item_count(n);
    struct orch_kvs r = {.v = cc_arena_calloc(p->a, count > 0 ? (size_t)count : 1,
                                              sizeof(struct orch_kv))};
    if (!r.v)
        return orch__fail(p, kp, CC_ELIMIT, "out of memory for the stack");
    void *it = NULL;
    for (int i = 0; i < count; i++) {
        struct orch_kv *kv = &r.v[r.n];
        cc_err err;
        if (map) {
            struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
            char key[256];
            if (!orch__key(pr, key, sizeof(key)))
                return orch__fail(p, orch__pos_of(fy_node_pair_key(pr), kp), CC_EPARSE,
                                  "%s: names must be plain strings", what);
            kv->key = cc_arena_strdup(p->a, key);
            err = orch__scalar(p, fy_node_pair_value(pr), kp, what, true, &kv->value);
        } else {
            err = kv_item(p, fy_node_sequence_iterate(n, &it), kp, what, kv);
        }
        if (err)
            return err;
        if (!kv->key)
            return orch__fail(p, kp, CC_ELIMIT, "out of memory for the stack");
        r.n++;
    }
    *out = r;
    return CC_OK;
}

/* Joins and cleans (".", "..", "//") like filepath.Join + Clean. */
char *orch__path(struct orch__parser *p, const char *rel)
{
    if (!p->dir || rel[0] == '/')
        return (char *)rel;
    char *joined = cc_arena_printf(p->a, "%s/%s", p->dir, rel);
    if (!joined)
        return (char *)rel;
    char *w = joined; /* write cursor, always after a '/' or at start */
    for (const char *r = joined; *r;) {
        while (*r == '/')
            r++;
        size_t n = strcspn(r, "/");
        if (n == 0)
            break;
        if (n == 1 && r[0] == '.') {
        } else if (n == 2 && r[0] == '.' && r[1] == '.') {
            while (w > joined && *--w != '/') {
            }
        } else {
            *w++ = '/';
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    if (w == joined)
        *w++ = '/';
    *w = '\0';
    return joined;
}

json_t *orch__to_json(struct orch__parser *p, struct fy_node *n, unsigned depth)
{
    if (depth > ORCH_COMPOSE_MAX_DEPTH || cc_yaml_is_null(n))
        return json_null();
    void *it = NULL;
    if (fy_node_is_mapping(n)) {
        json_t *o = json_object();
        struct fy_node_pair *pr;
        char key[256];
        while ((pr = fy_node_mapping_iterate(n, &it)) != NULL) {
            if (!orch__key(pr, key, sizeof(key)))
                continue;
            json_t *v = orch__to_json(p, fy_node_pair_value(pr), depth + 1);
            if (!v) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, key, v);
        }
        return o;
    }
    if (fy_node_is_sequence(n)) {
        json_t *a = json_array();
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
            json_t *v = orch__to_json(p, item, depth + 1);
            if (!v) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, v);
        }
        return a;
    }
    /* Scalars are interpolated like every other value of the file, so
     * x-commandcenter can use ${PORT:-8080} too. */
    char *s = NULL;
    if (orch__scalar(p, n, orch__pos_of(n, (struct orch__pos){0, 0}), "x-commandcenter", true,
                     &s) != CC_OK)
        return NULL;
    return json_string_nocheck(s ? s : "");
}

/* ---------------------------------------------------------------------------
 * YAML document
 */

static cc_err yaml_error(struct orch__parser *p, const struct cc_yaml *y)
{
    char msg[256];
    unsigned line, col;
    cc_yaml_first_error(y, "cannot parse the document", msg, sizeof(msg), &line, &col);
    return orch__fail(p, (struct orch__pos){line, col}, CC_EPARSE, "invalid YAML: %s", msg);
}

static cc_err yaml_parse(struct orch__parser *p, struct cc_yaml *y, const char *text, size_t len)
{
    static const struct cc_yaml_limits lim = {
        .max_blank_run = 100, .max_entries = 100000, .max_anchors = 1000,
        .what = "a Compose file", .entries_hint = "a few thousand at most"};
    struct cc_yaml_fault f;
    cc_err err = cc_yaml_check_text(text, len, &lim, &f);
    if (err)
        return orch__fail(p, (struct orch__pos){f.line, f.col}, err, "%s", f.msg);
    if (cc_yaml_open(y, text, len))
        return CC_ENOMEM;
    y->doc = fy_parse_load_document(y->parser);
    if (!y->doc)
        return fy_parser_get_stream_error(y->parser) || fy_diag_got_error(y->diag)
                   ? yaml_error(p, y) : CC_OK;
    struct fy_document *next = fy_parse_load_document(y->parser);
    if (next) {
        struct orch__pos at = orch__pos_of(fy_document_root(next), (struct orch__pos){0, 0});
        fy_parse_document_destroy(y->parser, next);
        return orch__fail(p, at, CC_EPARSE,
                          "only one YAML document is allowed; remove the second '---'");
    }
    if (fy_parser_get_stream_error(y->parser))
        return yaml_error(p, y);
    size_t budget = MAX_NODES;
    if (!cc_yaml_within_budget(fy_document_root(y->doc), ORCH_COMPOSE_MAX_DEPTH, &budget))
        return orch__fail(p, (struct orch__pos){0, 0}, CC_ELIMIT,
                          "the file has more than %d nodes (counting each alias as a copy) "
                          "or nests deeper than %d levels", MAX_NODES, ORCH_COMPOSE_MAX_DEPTH);
    if (fy_document_resolve(y->doc) != 0)
        return yaml_error(p, y);
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * Top level
 */

static bool valid_name(const char *s, bool project)
{
    if (!*s)
        return false;
    for (const char *c = s; *c; c++) {
        bool ok = isdigit((unsigned char)*c) || *c == '_' || *c == '-' ||
                  (project ? islower((unsigned char)*c) : isalpha((unsigned char)*c) || *c == '.');
        if (!ok)
            return false;
    }
    return isalnum((unsigned char)s[0]);
}

/* Checks a mapping whose values are definitions; returns its count. */
static cc_err section(struct orch__parser *p, struct fy_node *v, struct orch__pos kp,
                      const char *what, size_t max, size_t *count)
{
    if (cc_yaml_is_null(v)) {
        *count = 0;
        return CC_OK;
    }
    if (!fy_node_is_mapping(v))
        return orch__fail(p, orch__pos_of(v, kp), CC_EPARSE, "%s: expected a mapping of "
                          "names to definitions, got %s", what, kind_name(v));
    int n = fy_node_mapping_item_count(v);
    if (n < 0 || (size_t)n > max)
        return orch__fail(p, kp, CC_ELIMIT, "%s: more than %zu entries", what, max);
    *count = (size_t)n;
    return CC_OK;
}

static cc_err services(struct orch__parser *p, struct fy_node *v, struct orch__pos kp)
{
    size_t n = 0;
    cc_err err = section(p, v, kp, "services", ORCH_COMPOSE_MAX_SERVICES, &n);
    if (err)
        return err;
    if (n == 0)
        return orch__fail(p, kp, CC_EPARSE, "services: define at least one service");
    p->st->services = cc_arena_calloc(p->a, n, sizeof(struct orch_service));
    if (!p->st->services)
        return orch__fail(p, kp, CC_ELIMIT, "out of memory for the stack");
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(v, &it)) != NULL) {
        struct orch_service *s = &p->st->services[p->st->nservices];
        if ((err = orch__service(p, pr, s)) != CC_OK)
            return err;
        p->st->nservices++;
    }
    return CC_OK;
}

/* Reads one flag of a top-level definition; unknown keys are warned. */
static cc_err definition_key(struct orch__parser *p, const char *kind, const char *name,
                             struct fy_node_pair *pr, const char *const *known, char **strs[],
                             bool *bools[])
{
    char key[64], what[320];
    struct fy_node *v = fy_node_pair_value(pr);
    struct orch__pos at = orch__pos_of(fy_node_pair_key(pr), (struct orch__pos){0, 0});
    if (!orch__key(pr, key, sizeof(key)))
        return orch__fail(p, at, CC_EPARSE, "%s.%s: keys must be plain names", kind, name);
    snprintf(what, sizeof(what), "%.32s.%.200s.%s", kind, name, key); /* fits 320 */
    for (size_t i = 0; known[i]; i++) {
        if (strcmp(key, known[i]) != 0 || (!strs[i] && !bools[i]))
            continue;
        if (strs[i])
            return orch__scalar(p, v, at, what, false, strs[i]);
        if (fy_node_is_mapping(v)) /* external: {name: x} (old syntax) */
            return *bools[i] = true, CC_OK;
        return orch__bool(p, v, at, what, bools[i]);
    }
    if (strncmp(key, "x-", 2) != 0)
        orch__warn(p, at, "%s: unsupported key '%s' ignored", what, key);
    return CC_OK;
}

static cc_err definitions(struct orch__parser *p, struct fy_node *v, struct orch__pos kp,
                          const char *kind)
{
    size_t n = 0;
    cc_err err = section(p, v, kp, kind, ORCH_COMPOSE_MAX_SERVICES, &n);
    if (err || n == 0)
        return err;
    size_t sz = kind[0] == 'n' ? sizeof(struct orch_network)
              : kind[0] == 'v' ? sizeof(struct orch_volume) : sizeof(struct orch_secret);
    void *arr = cc_arena_calloc(p->a, n + 1, sz); /* +1: room for "default" */
    if (!arr)
        return orch__fail(p, kp, CC_ELIMIT, "out of memory for the stack");
    void *it = NULL;
    struct fy_node_pair *pr;
    for (size_t i = 0; (pr = fy_node_mapping_iterate(v, &it)) != NULL; i++) {
        char name[256];
        struct orch__pos at = orch__pos_of(fy_node_pair_key(pr), kp);
        if (!orch__key(pr, name, sizeof(name)) || !valid_name(name, false))
            return orch__fail(p, at, CC_EPARSE, "%s: names are letters, digits, '.', '_' "
                              "and '-'", kind);
        char *dup = cc_arena_strdup(p->a, name), *unused = NULL;
        struct orch_network *nw = kind[0] == 'n' ? (struct orch_network *)arr + i : NULL;
        struct orch_volume *vo = kind[0] == 'v' ? (struct orch_volume *)arr + i : NULL;
        struct orch_secret *se = kind[0] == 's' ? (struct orch_secret *)arr + i : NULL;
        static const char *const keys[] = {"driver", "internal", "external", "file",
                                           "environment", "name", NULL};
        char **strs[] = {nw ? &nw->driver : vo ? &vo->driver : NULL, NULL, NULL,
                         se ? &se->file : NULL, se ? &se->environment : NULL, &unused};
        bool *bools[] = {NULL, nw ? &nw->internal : NULL,
                         nw ? &nw->external : vo ? &vo->external : &se->external,
                         NULL, NULL, NULL};
        if (nw)
            nw->name = dup;
        else if (vo)
            vo->name = dup;
        else
            se->name = dup;
        struct fy_node *def = fy_node_pair_value(pr);
        if (!cc_yaml_is_null(def) && !fy_node_is_mapping(def))
            return orch__fail(p, orch__pos_of(def, at), CC_EPARSE, "%s.%s: expected a "
                              "mapping of settings, got %s", kind, name, kind_name(def));
        void *it2 = NULL;
        struct fy_node_pair *pr2;
        while (!cc_yaml_is_null(def) && (pr2 = fy_node_mapping_iterate(def, &it2)) != NULL) {
            if ((err = definition_key(p, kind, name, pr2, keys, strs, bools)) != CC_OK)
                return err;
        }
        if (se && !se->file && !se->environment && !se->external)
            return orch__fail(p, at, CC_EPARSE, "secrets.%s: set 'file:' (a path relative "
                              "to the Compose file) or 'external: true'", name);
        if (se && se->file)
            se->file = orch__path(p, se->file);
    }
    if (kind[0] == 'n')
        p->st->networks = arr, p->st->nnetworks = n;
    else if (kind[0] == 'v')
        p->st->volumes = arr, p->st->nvolumes = n;
    else
        p->st->secrets = arr, p->st->nsecrets = n;
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * Whole-stack checks
 */

const struct orch_service *orch_stack_service(const struct orch_stack *s, const char *name)
{
    for (size_t i = 0; i < s->nservices; i++)
        if (strcmp(s->services[i].name, name) == 0)
            return &s->services[i];
    return NULL;
}

static size_t service_index(const struct orch_stack *s, const char *name)
{
    const struct orch_service *svc = orch_stack_service(s, name);
    return svc ? (size_t)(svc - s->services) : s->nservices;
}

/* Depth-first search; on a back edge, names the cycle from the stack. */
static cc_err visit(struct orch__parser *p, size_t i, unsigned char *color, size_t *path,
                    size_t depth)
{
    const struct orch_stack *st = p->st;
    color[i] = 1;
    path[depth] = i;
    for (size_t k = 0; k < st->services[i].ndeps; k++) {
        const struct orch_dep *dep = &st->services[i].depends_on[k];
        size_t j = service_index(st, dep->service);
        if (color[j] == 2)
            continue;
        if (color[j] == 0) {
            cc_err err = visit(p, j, color, path, depth + 1);
            if (err)
                return err;
            continue;
        }
        char cycle[400] = "";
        size_t at = 0, used = 0;
        while (path[at] != j)
            at++;
        for (size_t m = at; m <= depth && used < sizeof(cycle); m++)
            used += (size_t)snprintf(cycle + used, sizeof(cycle) - used, "%s -> ",
                                     st->services[path[m]].name);
        if (used < sizeof(cycle))
            snprintf(cycle + used, sizeof(cycle) - used, "%s", st->services[j].name);
        return orch__fail(p, (struct orch__pos){dep->line, dep->col}, CC_EPARSE,
                          "dependency cycle: %s; remove one of these depends_on entries",
                          cycle);
    }
    color[i] = 2;
    return CC_OK;
}

static cc_err check_deps(struct orch__parser *p)
{
    const struct orch_stack *st = p->st;
    for (size_t i = 0; i < st->nservices; i++) {
        for (size_t k = 0; k < st->services[i].ndeps; k++) {
            const struct orch_dep *dep = &st->services[i].depends_on[k];
            if (!orch_stack_service(st, dep->service))
                return orch__fail(p, (struct orch__pos){dep->line, dep->col}, CC_EPARSE,
                                  "services.%s.depends_on: unknown service '%s'; define it "
                                  "under services or remove the dependency",
                                  st->services[i].name, dep->service);
        }
    }
    unsigned char *color = cc_arena_calloc(p->a, st->nservices, 1);
    size_t *path = cc_arena_calloc(p->a, st->nservices, sizeof(size_t));
    if (!color || !path)
        return orch__fail(p, (struct orch__pos){0, 0}, CC_ELIMIT, "out of memory");
    for (size_t i = 0; i < st->nservices; i++) {
        cc_err err = color[i] ? CC_OK : visit(p, i, color, path, 0);
        if (err)
            return err;
    }
    return CC_OK;
}

static bool has_network(const struct orch_stack *st, const char *name)
{
    for (size_t i = 0; i < st->nnetworks; i++)
        if (strcmp(st->networks[i].name, name) == 0)
            return true;
    return false;
}

static bool has_volume(const struct orch_stack *st, const char *name)
{
    for (size_t i = 0; i < st->nvolumes; i++)
        if (strcmp(st->volumes[i].name, name) == 0)
            return true;
    return false;
}

static bool has_secret(const struct orch_stack *st, const char *name)
{
    for (size_t i = 0; i < st->nsecrets; i++)
        if (strcmp(st->secrets[i].name, name) == 0)
            return true;
    return false;
}

/* Adds the implicit "default" network when a service joins it. */
static cc_err default_network(struct orch__parser *p)
{
    struct orch_stack *st = p->st;
    bool used = false;
    for (size_t i = 0; i < st->nservices; i++)
        for (size_t k = 0; k < st->services[i].nnetworks; k++)
            used = used || strcmp(st->services[i].networks[k].name, "default") == 0;
    if (!used || has_network(st, "default"))
        return CC_OK;
    if (!st->networks && !(st->networks = cc_arena_calloc(p->a, 1, sizeof(*st->networks))))
        return orch__fail(p, (struct orch__pos){0, 0}, CC_ELIMIT, "out of memory");
    st->networks[st->nnetworks++] = (struct orch_network){.name = "default"};
    return CC_OK;
}

static cc_err check_refs(struct orch__parser *p)
{
    const struct orch_stack *st = p->st;
    for (size_t i = 0; i < st->nservices; i++) {
        const struct orch_service *s = &st->services[i];
        for (size_t k = 0; k < s->nnetworks; k++)
            if (!has_network(st, s->networks[k].name))
                return orch__fail(p, (struct orch__pos){s->networks[k].line, s->networks[k].col},
                                  CC_EPARSE, "services.%s.networks: network '%s' is not "
                                  "defined; add it under the top-level networks:", s->name,
                                  s->networks[k].name);
        for (size_t k = 0; k < s->nsecrets; k++)
            if (!has_secret(st, s->secrets[k].source))
                return orch__fail(p, (struct orch__pos){s->secrets[k].line, s->secrets[k].col},
                                  CC_EPARSE, "services.%s.secrets: secret '%s' is not "
                                  "defined; add it under the top-level secrets: with file:",
                                  s->name, s->secrets[k].source);
        for (size_t k = 0; k < s->nvolumes; k++)
            if (s->volumes[k].type == ORCH_MOUNT_VOLUME && s->volumes[k].source &&
                !has_volume(st, s->volumes[k].source))
                return orch__fail(p, (struct orch__pos){s->line, s->col}, CC_EPARSE,
                                  "services.%s.volumes: volume '%s' is not defined; add it "
                                  "under the top-level volumes: (or use ./%s for a host "
                                  "directory)", s->name, s->volumes[k].source,
                                  s->volumes[k].source);
    }
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * Entry points
 */

static cc_err top_pair(struct orch__parser *p, struct fy_node_pair *pr)
{
    char key[64];
    struct fy_node *v = fy_node_pair_value(pr);
    struct orch__pos kp = orch__pos_of(fy_node_pair_key(pr), (struct orch__pos){1, 1});
    if (!orch__key(pr, key, sizeof(key)))
        return orch__fail(p, kp, CC_EPARSE, "top-level keys must be plain names like "
                          "'services'");
    if (strcmp(key, "services") == 0)
        return services(p, v, kp);
    if (strcmp(key, "networks") == 0 || strcmp(key, "volumes") == 0 ||
        strcmp(key, "secrets") == 0)
        return definitions(p, v, kp, key);
    if (strcmp(key, "name") == 0) {
        char *name = NULL;
        cc_err err = orch__scalar(p, v, kp, "name", false, &name);
        if (!err && !valid_name(name, true))
            err = orch__fail(p, orch__pos_of(v, kp), CC_EPARSE, "name: '%.60s' is not a "
                             "project name; use lowercase letters, digits, '_' and '-'", name);
        if (!err)
            p->st->name = name;
        return err;
    }
    if (strcmp(key, "x-commandcenter") == 0) {
        json_decref(p->st->x_commandcenter);
        p->st->x_commandcenter = orch__to_json(p, v, 0);
        return p->st->x_commandcenter ? CC_OK : CC_EPARSE;
    }
    if (strcmp(key, "version") == 0)
        orch__warn(p, kp, "'version' is obsolete and ignored");
    else if (strncmp(key, "x-", 2) != 0)
        orch__warn(p, kp, "unsupported top-level key '%s' ignored", key);
    return CC_OK;
}

/* Compose's project name from a directory name: lowercase, only
 * [a-z0-9_-], starting with a letter or digit. */
static char *project_name(struct cc_arena *a, const char *dirname)
{
    const char *base = strrchr(dirname, '/');
    base = base && base[1] ? base + 1 : dirname;
    char *out = cc_arena_calloc(a, strlen(base) + 1, 1);
    size_t n = 0;
    for (const char *c = base; out && *c; c++) {
        char l = (char)tolower((unsigned char)*c);
        if (isdigit((unsigned char)l) || (l >= 'a' && l <= 'z') ||
            (n > 0 && (l == '_' || l == '-')))
            out[n++] = l;
    }
    return out && n ? out : cc_arena_strdup(a, "default");
}

static cc_err parse_root(struct orch__parser *p, struct fy_node *root)
{
    if (cc_yaml_is_null(root))
        return orch__fail(p, (struct orch__pos){1, 1}, CC_EPARSE,
                          "the file is empty; a Compose file needs 'services:'");
    if (!fy_node_is_mapping(root))
        return orch__fail(p, orch__pos_of(root, (struct orch__pos){1, 1}), CC_EPARSE,
                          "the top level must be a mapping with 'services:', got %s",
                          kind_name(root));
    struct fy_node *svc = fy_node_mapping_lookup_by_string(root, "services", 8);
    /* definitions first, so services can be checked against them */
    static const char *const order[] = {"name", "networks", "volumes", "secrets", NULL};
    for (size_t i = 0; order[i]; i++) {
        void *it = NULL;
        struct fy_node_pair *pr;
        char key[64];
        while ((pr = fy_node_mapping_iterate(root, &it)) != NULL)
            if (orch__key(pr, key, sizeof(key)) && strcmp(key, order[i]) == 0) {
                cc_err err = top_pair(p, pr);
                if (err)
                    return err;
            }
    }
    void *it = NULL;
    struct fy_node_pair *pr;
    char key[64];
    while ((pr = fy_node_mapping_iterate(root, &it)) != NULL) {
        const char *k = orch__key(pr, key, sizeof(key));
        bool done = false;
        for (size_t i = 0; k && order[i]; i++)
            done = done || strcmp(k, order[i]) == 0;
        cc_err err = done ? CC_OK : top_pair(p, pr);
        if (err)
            return err;
    }
    if (!svc)
        return orch__fail(p, (struct orch__pos){1, 1}, CC_EPARSE,
                          "no 'services:' section; a Compose file defines at least one "
                          "service");
    cc_err err = default_network(p);
    if (!err)
        err = check_refs(p);
    if (!err)
        err = check_deps(p);
    return err;
}

static cc_err load_dotenv(struct orch__parser *p, const struct orch_compose_opts *o,
                          struct orch_kvs *out)
{
    char *path = o->env_file ? (char *)o->env_file
               : o->dir ? cc_arena_printf(p->a, "%s/.env", o->dir) : NULL;
    if (!path)
        return CC_OK;
    char *buf = NULL, why[512];
    size_t len = 0;
    cc_err err = cc_file_read(path, ORCH_COMPOSE_MAX_FILE, &buf, &len, why, sizeof(why));
    if (err == CC_ENOTFOUND && !o->env_file)
        return CC_OK;
    if (err == CC_ELIMIT)
        cc_diag_set(p->d, path, 0, 0, "the env file is larger than 1 MiB");
    else if (err)
        cc_diag_set(p->d, path, 0, 0, "the env file: %s", why);
    if (err)
        return err == CC_ELIMIT ? err : CC_EIO;
    unsigned bad = 0;
    err = orch__dotenv_parse(p->a, buf, len, out, &bad);
    free(buf);
    if (err)
        cc_diag_set(p->d, path, bad, 1, "expected NAME=value (or a # comment) on this line");
    return err;
}

cc_err orch_compose_parse(const char *text, size_t len, const struct orch_compose_opts *o,
                          struct orch_stack **out, struct cc_diag *d)
{
    struct orch_stack *st = cc_xcalloc(1, sizeof(*st));
    cc_arena_init(&st->arena, 64 * 1024, ARENA_LIMIT);
    struct orch_kvs dotenv = {0};
    struct orch__parser p = {.st = st, .a = &st->arena,
                             .file = o->file ? o->file : "compose.yaml", .dir = o->dir,
                             .env = {.envp = o->envp, .dotenv = &dotenv}, .d = d};
    struct cc_yaml y = {0};
    cc_err err;
    if (len > ORCH_COMPOSE_MAX_FILE) {
        err = orch__fail(&p, (struct orch__pos){0, 0}, CC_ELIMIT,
                         "the Compose file is larger than 1 MiB");
        goto out;
    }
    if ((err = load_dotenv(&p, o, &dotenv)) != CC_OK ||
        (err = yaml_parse(&p, &y, text ? text : "", text ? len : 0)) != CC_OK)
        goto out;
    st->dir = o->dir ? cc_arena_strdup(p.a, o->dir) : NULL;
    err = parse_root(&p, y.doc ? fy_document_root(y.doc) : NULL);
    if (!err && !st->name)
        st->name = project_name(p.a, o->default_name ? o->default_name
                                     : o->dir ? o->dir : "default");
out:
    cc_yaml_close(&y);
    if (err) {
        orch_stack_free(st);
        return err;
    }
    *out = st;
    return CC_OK;
}

cc_err orch_compose_load(const char *path, const struct orch_compose_opts *o,
                         struct orch_stack **out, struct cc_diag *d)
{
    struct orch_compose_opts opts = *o;
    char *data = NULL, *dir = NULL, *abs = NULL, why[512];
    size_t len = 0;
    /* A regular file only: a FIFO or device named here must not block the
     * HTTP worker that registers the project. */
    cc_err err = cc_file_read(path, ORCH_COMPOSE_MAX_FILE, &data, &len, why, sizeof(why));
    if (err == CC_ELIMIT) {
        cc_diag_set(d, path, 0, 0, "the Compose file is larger than 1 MiB");
        goto out;
    }
    if (err) {
        cc_diag_set(d, path, 0, 0, "the Compose file: %s", why);
        goto out;
    }
    abs = realpath(path, NULL);
    if (!opts.dir && abs) {
        dir = cc_xstrdup(abs);
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[slash == dir ? 1 : 0] = '\0';
        opts.dir = dir;
    }
    if (!opts.file)
        opts.file = path;
    err = orch_compose_parse(data, len, &opts, out, d);
out:
    free(data);
    free(dir);
    free(abs);
    return err;
}

void orch_stack_free(struct orch_stack *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nservices; i++)
        json_decref(s->services[i].x_commandcenter);
    json_decref(s->x_commandcenter);
    cc_arena_release(&s->arena);
    free(s);
}
