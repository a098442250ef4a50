/*
 * config_yaml.c - the YAML front end of the configuration: parses one
 * document with libfyaml's document API and applies it to the key table,
 * with file:line:col and a hint in every error.
 *
 * Decisions:
 *   - Loading is all-or-nothing: a load works on a copy and replaces the
 *     caller's config only when the whole document was applied.
 *   - Anchors, aliases and merge keys (<<) are resolved by libfyaml, which
 *     copies the aliased subtree for every alias. A billion-laughs document
 *     would therefore expand exponentially, so before resolving we count the
 *     nodes the document would have after expansion (following aliases, with
 *     a budget of MAX_NODES and a nesting cap of MAX_DEPTH) and refuse it if
 *     it is larger. Counting stops as soon as the budget is spent, so the
 *     check itself costs at most MAX_NODES steps.
 *   - Exactly one document; an empty stream means "all defaults". An empty
 *     section ("http:" with nothing under it) also keeps the defaults, so
 *     the example file can keep its section headers with every key commented
 *     out; an empty leaf ("listen:") is an error.
 *   - libfyaml 0.7 exposes positions only for scalar tokens, so an error
 *     about a mapping or list value points at its key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/config_int.h"
#include "core/yaml_guard.h"

#define MAX_FILE_BYTES CC_CFG_MAX_FILE
#define MAX_NODES      10000   /* after alias expansion; the table has ~20 keys */
#define MAX_DEPTH      32      /* alias/mapping nesting while counting */
#define MAX_PATH       CC_CFG_MAX_PATH
#define MAX_KEY        64      /* longer keys get no suggestion */
#define WHY_MAX        CC_CFG_WHY_MAX
/* Pre-scan limits (check_text); a configuration is far below each. */
#define MAX_BLANK_RUN  100     /* blank lines in a row */
#define MAX_ENTRIES    1000    /* ':', ',', '?' and '{': bounds keys per mapping */
#define MAX_ANCHORS    100


/* ---------------------------------------------------------------------------
 * Suggestions for unknown keys
 */

static size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t row[MAX_KEY + 1];
    for (size_t j = 0; j <= blen; j++)
        row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[blen];
}

/* The name of the child of `prefix` (with a trailing '.' or "") in key i,
 * written to out; false if key i is not below prefix. */
static bool child_name(size_t i, const char *prefix, char *out, size_t outsz)
{
    size_t n = strlen(prefix);
    if (strncmp(cc__cfg_keys[i].path, prefix, n) != 0)
        return false;
    const char *rest = cc__cfg_keys[i].path + n;
    size_t len = strcspn(rest, ".");
    if (len >= outsz)
        return false;
    memcpy(out, rest, len);
    out[len] = '\0';
    return true;
}

static void consider(const char *cand, const char *name, size_t nlen, size_t *best,
                     char *out, size_t outsz)
{
    size_t clen = strlen(cand);
    if (clen > MAX_KEY)
        return;
    size_t d = edit_distance(name, nlen, cand, clen);
    size_t longest = clen > nlen ? clen : nlen;
    if (d < *best && d <= 2 && d * 3 <= longest) {
        *best = d;
        snprintf(out, outsz, "%s", cand);
    }
}

/* Writes a hint for an unknown key `name` under `prefix` ("" or "http.")
 * into out (possibly empty). */
static void suggest(const char *prefix, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name), best = SIZE_MAX;
    char cand[MAX_PATH], pick[MAX_PATH] = "";
    out[0] = '\0';
    if (nlen > MAX_KEY)
        return;
    for (size_t i = 0; i < cc__cfg_nkeys; i++) {
        if (!child_name(i, prefix, cand, sizeof(cand)))
            continue;
        consider(cand, name, nlen, &best, pick, sizeof(pick));
        if ((cc__cfg_keys[i].flags & CC_CFG_SECRET) &&
            !strchr(cc__cfg_keys[i].path + strlen(prefix), '.')) {
            char file[MAX_PATH + 8];
            snprintf(file, sizeof(file), "%s_file", cand);
            consider(file, name, nlen, &best, pick, sizeof(pick));
        }
    }
    if (pick[0]) {
        snprintf(out, outsz, "; did you mean '%s'?", pick);
        return;
    }
    /* the right key at the wrong level: "listen" at the top */
    for (size_t i = 0; i < cc__cfg_nkeys; i++) {
        const char *leaf = strrchr(cc__cfg_keys[i].path, '.');
        if (leaf && strcmp(leaf + 1, name) == 0) {
            snprintf(out, outsz, "; did you mean '%s' (nested under its section)?",
                     cc__cfg_keys[i].path);
            return;
        }
    }
}

/* ---------------------------------------------------------------------------
 * YAML: parsing, the expansion guard, positions
 */

struct pos {
    unsigned line, col;   /* 1-based; 0 = unknown */
};

enum { SEEN_NONE, SEEN_VALUE, SEEN_FILE };

struct loader {
    struct cc_config *c;       /* the copy being filled */
    const char *name;          /* for messages */
    struct cc_diag *d;
    struct {
        unsigned char how;
        struct pos at;
    } *seen;                   /* one per key */
};


static cc_err failf(struct loader *ld, struct pos at, cc_err e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cc_err failf(struct loader *ld, struct pos at, cc_err e, const char *fmt, ...)
{
    char msg[sizeof(ld->d->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cc_diag_set(ld->d, ld->name, at.line, at.col, "%s", msg);
    return e;
}

static struct pos pos_or(struct fy_node *n, struct pos fallback)
{
    struct pos p;
    return cc_yaml_node_pos(n, MAX_DEPTH, &p.line, &p.col) ? p : fallback;
}


static const char *kind_name(struct fy_node *n)
{
    if (fy_node_is_mapping(n))
        return "a mapping";
    return fy_node_is_sequence(n) ? "a list" : "a scalar";
}

/* Reports libfyaml's first collected error, or `fallback`. */
static cc_err yaml_error(struct loader *ld, const struct cc_yaml *y, const char *fallback)
{
    char msg[256];
    struct pos at;
    cc_yaml_first_error(y, fallback, msg, sizeof(msg), &at.line, &at.col);
    return failf(ld, at, CC_EPARSE, "invalid YAML: %s", msg);
}

static cc_err check_text(struct loader *ld, const char *text, size_t len)
{
    static const struct cc_yaml_limits lim = {
        .max_blank_run = MAX_BLANK_RUN, .max_entries = MAX_ENTRIES,
        .max_anchors = MAX_ANCHORS, .what = "a configuration",
        .entries_hint = "a few dozen"};
    struct cc_yaml_fault f;
    cc_err err = cc_yaml_check_text(text, len, &lim, &f);
    if (err)
        return failf(ld, (struct pos){f.line, f.col}, err, "%s", f.msg);
    return CC_OK;
}

/* Parses exactly one document (none is fine) and resolves its aliases. */
static cc_err yaml_parse(struct loader *ld, struct cc_yaml *y, const char *text, size_t len)
{
    cc_err err = check_text(ld, text, len);
    if (!err)
        err = cc_yaml_open(y, text, len);
    if (err)
        return err;
    y->doc = fy_parse_load_document(y->parser);
    if (!y->doc)
        return fy_parser_get_stream_error(y->parser) || fy_diag_got_error(y->diag)
                   ? yaml_error(ld, y, "cannot parse the document")
                   : CC_OK;
    struct fy_document *next = fy_parse_load_document(y->parser);
    if (next) {
        struct pos at = pos_or(fy_document_root(next), (struct pos){0, 0});
        fy_parse_document_destroy(y->parser, next);
        return failf(ld, at, CC_EPARSE,
                     "only one YAML document is allowed; remove the second '---'");
    }
    if (fy_parser_get_stream_error(y->parser))
        return yaml_error(ld, y, "cannot parse the document");
    size_t budget = MAX_NODES;
    if (!cc_yaml_within_budget(fy_document_root(y->doc), MAX_DEPTH, &budget))
        return failf(ld, (struct pos){0, 0}, CC_ELIMIT,
                     "the document has more than %d nodes (counting each alias as a "
                     "copy of what it names) or nests deeper than %d levels",
                     MAX_NODES, MAX_DEPTH);
    if (fy_document_resolve(y->doc) != 0)
        return yaml_error(ld, y, "cannot resolve anchors and aliases");
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * YAML: applying the tree to the table
 */

/* Guards against one key set twice, or both as value and _file. */
static cc_err note_seen(struct loader *ld, const struct cc_cfg_key *k, bool by_file,
                        struct pos at)
{
    size_t i = (size_t)(k - cc__cfg_keys);
    unsigned char how = by_file ? SEEN_FILE : SEEN_VALUE;
    unsigned char prev = ld->seen[i].how;
    if (prev == how)
        return failf(ld, at, CC_EPARSE, "duplicate key %s%s", k->path,
                     by_file ? "_file" : "");
    if (prev != SEEN_NONE)
        return failf(ld, at, CC_EPARSE,
                     "%s and %s_file are both set (the other at line %u); set only one",
                     k->path, k->path, ld->seen[i].at.line);
    ld->seen[i].how = how;
    ld->seen[i].at = at;
    return CC_OK;
}

/* The scalar text of a leaf value, or an error saying what to write. */
static cc_err leaf_text(struct loader *ld, const struct cc_cfg_key *k, const char *name,
                        struct fy_node *v, struct pos kp, char **out)
{
    char want[160];
    cc__cfg_expected_noun(k, want, sizeof(want));
    bool file = strcmp(name, k->path) != 0;
    if (file)
        snprintf(want, sizeof(want), "a file path");
    if (cc_yaml_is_null(v)) {
        char shown[64], dflt[96] = "";
        cc__cfg_excerpt(k->def, shown, sizeof(shown));
        if (!file && k->def[0])
            snprintf(dflt, sizeof(dflt), " such as '%s' (the default)", shown);
        return failf(ld, kp, CC_EPARSE,
                     "%s has no value; write %s%s%s, or remove the line to use the default",
                     name, want, dflt,
                     k->type == CC_CFG_STRING && !file && !k->def[0] ? " (\"\" for empty)"
                                                                     : "");
    }
    if (!fy_node_is_scalar(v))
        return failf(ld, kp, CC_EPARSE, "%s: expected %s, got %s", name, want,
                     kind_name(v));
    size_t len = 0;
    const char *s = fy_node_get_scalar(v, &len);
    if (!s)
        s = "";
    if (memchr(s, '\0', len))
        return failf(ld, pos_or(v, kp), CC_EPARSE, "%s: must not contain NUL characters",
                     name);
    *out = cc_xstrndup(s, len);
    return CC_OK;
}

static cc_err apply_leaf(struct loader *ld, const struct cc_cfg_key *k, bool by_file,
                         struct fy_node *v, struct pos kp)
{
    char name[MAX_PATH + 8], why[WHY_MAX], shown[64];
    char *text = NULL, *secret = NULL;
    snprintf(name, sizeof(name), "%s%s", k->path, by_file ? "_file" : "");
    struct pos vp = pos_or(v, kp);
    cc_err err = leaf_text(ld, k, name, v, kp, &text);
    if (!err)
        err = note_seen(ld, k, by_file, kp);
    if (err)
        goto out;
    if (by_file && !cc__cfg_read_secret(text, &secret, why, sizeof(why))) {
        err = failf(ld, vp, CC_EIO, "%s: %s", name, why);
        goto out;
    }
    if (!cc__cfg_set_text(ld->c, k, secret ? secret : text, why, sizeof(why))) {
        cc__cfg_excerpt(text, shown, sizeof(shown));
        err = (k->flags & CC_CFG_SECRET)
                  ? failf(ld, vp, CC_EPARSE, "%s: %s", name, why)
                  : failf(ld, vp, CC_EPARSE, "%s: %s, got '%s'", name, why, shown);
    }
out:
    free(text);
    free(secret);
    return err;
}

static cc_err apply_mapping(struct loader *ld, struct fy_node *map, const char *prefix,
                            unsigned depth);

/* The error for a key that names nothing: with a hint when it is close to a
 * real key, or is a real key written dotted ("http.listen"). */
static cc_err unknown_key(struct loader *ld, struct pos kp, const char *prefix,
                          const char *key, const char *path, bool dotted)
{
    char where[MAX_PATH + 16] = "", dotprefix[MAX_PATH + 1], hint[MAX_PATH + 64], shown[64];
    cc__cfg_excerpt(key, shown, sizeof(shown));
    if (dotted &&
        (cc__cfg_find(path) || cc__cfg_find_secret_file(path) || cc__cfg_is_section(path)))
        return failf(ld, kp, CC_EPARSE, "unknown key '%s': keys are nested, not dotted; "
                     "write each part on its own line, indented under the one before",
                     shown);
    if (prefix[0])
        snprintf(where, sizeof(where), " in '%s'", prefix);
    snprintf(dotprefix, sizeof(dotprefix), "%s%s", prefix, prefix[0] ? "." : "");
    suggest(dotprefix, key, hint, sizeof(hint));
    return failf(ld, kp, CC_EPARSE, "unknown key '%s'%s%s", shown, where,
                 hint[0] ? hint : " (see docs/CONFIG.md for every key)");
}

static cc_err apply_pair(struct loader *ld, struct fy_node_pair *p, const char *prefix,
                         struct pos parent, unsigned depth)
{
    struct fy_node *kn = fy_node_pair_key(p), *v = fy_node_pair_value(p);
    struct pos kp = pos_or(kn, parent);
    if (!kn || !fy_node_is_scalar(kn) || cc_yaml_is_null(kn))
        return failf(ld, kp, CC_EPARSE, "keys must be plain names like 'listen'");
    size_t klen = 0;
    const char *ks = fy_node_get_scalar(kn, &klen);
    if (!ks)
        ks = "";
    char key[MAX_KEY + 1], path[MAX_PATH];
    snprintf(key, sizeof(key), "%.*s", klen < MAX_KEY ? (int)klen : MAX_KEY, ks);
    if (klen > MAX_KEY || memchr(ks, '\0', klen)) /* no key is like that */
        return unknown_key(ld, kp, prefix, key, "", false);
    snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", key);
    if (strchr(key, '.')) /* "http.listen" is not a name: keys are nested */
        return unknown_key(ld, kp, prefix, key, path, true);
    const struct cc_cfg_key *k;
    if ((k = cc__cfg_find(path)) != NULL)
        return apply_leaf(ld, k, false, v, kp);
    if ((k = cc__cfg_find_secret_file(path)) != NULL)
        return apply_leaf(ld, k, true, v, kp);
    if (!cc__cfg_is_section(path))
        return unknown_key(ld, kp, prefix, key, path, false);
    if (cc_yaml_is_null(v))
        return CC_OK; /* an empty section keeps every default */
    if (!fy_node_is_mapping(v))
        return failf(ld, pos_or(v, kp), CC_EPARSE, "%s: expected a mapping of keys, got %s",
                     path, kind_name(v));
    return apply_mapping(ld, v, path, depth + 1);
}

static cc_err apply_mapping(struct loader *ld, struct fy_node *map, const char *prefix,
                            unsigned depth)
{
    if (depth > MAX_DEPTH)
        return failf(ld, pos_or(map, (struct pos){0, 0}), CC_ELIMIT, "nested too deeply");
    struct pos here = pos_or(map, (struct pos){0, 0});
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        cc_err err = apply_pair(ld, p, prefix, here, depth);
        if (err)
            return err;
    }
    return CC_OK;
}

cc_err cc_config_load_string(struct cc_config *c, const char *yaml, size_t len,
                             const char *name, struct cc_diag *d)
{
    struct cc_config next;
    struct cc_yaml y = {0};
    cc__cfg_copy(&next, c);
    struct loader ld = {.c = &next, .name = name ? name : "<config>", .d = d,
                        .seen = cc_xcalloc(cc__cfg_nkeys, sizeof(*ld.seen))};
    cc_err err;
    if (len > MAX_FILE_BYTES) {
        err = failf(&ld, (struct pos){0, 0}, CC_ELIMIT,
                    "the configuration is larger than %d MiB",
                    MAX_FILE_BYTES / (1024 * 1024));
        goto out;
    }
    err = yaml_parse(&ld, &y, yaml ? yaml : "", yaml ? len : 0);
    struct fy_node *root = (!err && y.doc) ? fy_document_root(y.doc) : NULL;
    if (err || cc_yaml_is_null(root))
        goto out;
    if (!fy_node_is_mapping(root)) {
        err = failf(&ld, pos_or(root, (struct pos){1, 1}), CC_EPARSE,
                    "the top level must be a mapping of keys such as 'http:', got %s",
                    kind_name(root));
        goto out;
    }
    err = apply_mapping(&ld, root, "", 0);
out:
    if (!err)
        cc__cfg_replace(c, &next);
    cc_config_release(&next);
    cc_yaml_close(&y);
    free(ld.seen);
    return err;
}

cc_err cc_config_load_file(struct cc_config *c, const char *path, struct cc_diag *d)
{
    cc_err err = CC_EIO;
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char why[WHY_MAX];
        cc__cfg_errno_why(why, sizeof(why), path, errno);
        cc_diag_set(d, path, 0, 0, "%s", why);
        goto out;
    }
    data = cc_xmalloc(MAX_FILE_BYTES + 1);
    size_t len = fread(data, 1, MAX_FILE_BYTES + 1, f);
    if (ferror(f)) {
        char why[WHY_MAX];
        cc__cfg_errno_why(why, sizeof(why), path, errno);
        cc_diag_set(d, path, 0, 0, "%s", why);
        goto out;
    }
    if (len > MAX_FILE_BYTES) {
        err = CC_ELIMIT;
        cc_diag_set(d, path, 0, 0, "the configuration is larger than %d MiB",
                    MAX_FILE_BYTES / (1024 * 1024));
        goto out;
    }
    err = cc_config_load_string(c, data, len, path, d);
out:
    if (f)
        fclose(f);
    free(data);
    return err;
}
