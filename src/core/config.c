/*
 * config.c - everything derived from the key table (config_keys.c) apart
 * from YAML (config_yaml.c): defaults, value parsing, environment overrides,
 * secret files, validation, the effective-config dump and the Markdown
 * reference.
 *
 * Decisions:
 *   - Defaults are strings parsed by the same code as YAML and environment
 *     values, so a default can never bypass a check; an invalid default is a
 *     programming error and aborts in cc_config_init.
 *   - Applying the environment is all-or-nothing, like loading a file: it
 *     works on a copy that replaces the caller's config only on success.
 *   - Secret files must be regular files (opened O_NONBLOCK so a FIFO cannot
 *     hang start-up); relative secret paths are relative to the working
 *     directory, as a shell user would expect.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config_int.h"
#include "core/file.h"

#define MAX_SECRET_BYTES (64 * 1024)
#define MAX_PATH         CC_CFG_MAX_PATH
#define WHY_MAX          CC_CFG_WHY_MAX

union value {
    const char *str;      /* CC_CFG_STRING, CC_CFG_ENUM: borrowed */
    bool b;
    unsigned u;
    double d;
    int64_t ms;
    uint64_t bytes;
};

/* ---------------------------------------------------------------------------
 * Formatting values (dump, reference and messages share these)
 */

static void fmt_duration(int64_t ms, char *out, size_t outsz)
{
    static const struct { const char *name; int64_t ms; } units[] = {
        {"d", 24 * HOUR}, {"h", HOUR}, {"m", 60 * SEC}, {"s", SEC},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms > 0 && ms % units[i].ms == 0) {
            snprintf(out, outsz, "%" PRId64 "%s", ms / units[i].ms, units[i].name);
            return;
        }
    }
    snprintf(out, outsz, ms ? "%" PRId64 "ms" : "%" PRId64 "s", ms);
}

static void fmt_size(uint64_t bytes, char *out, size_t outsz)
{
    static const struct { const char *name; uint64_t mult; } units[] = {
        {"GiB", GIB}, {"MiB", MIB}, {"KiB", KIB},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (bytes > 0 && bytes % units[i].mult == 0) {
            snprintf(out, outsz, "%" PRIu64 "%s", bytes / units[i].mult, units[i].name);
            return;
        }
    }
    snprintf(out, outsz, "%" PRIu64, bytes);
}

/* Shortest text that reads back as the same double. */
static void fmt_double(double v, char *out, size_t outsz)
{
    snprintf(out, outsz, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, outsz, "%.17g", v);
}

/* Non-string values as text; strings are returned as they are. */
static const char *fmt_value(const struct cc_cfg_key *k, const union value *v, char *out,
                             size_t outsz)
{
    switch (k->type) {
    case CC_CFG_STRING:
    case CC_CFG_ENUM:
        return v->str ? v->str : "";
    case CC_CFG_BOOL:
        return v->b ? "true" : "false";
    case CC_CFG_UINT:
        snprintf(out, outsz, "%u", v->u);
        break;
    case CC_CFG_DOUBLE:
        fmt_double(v->d, out, outsz);
        break;
    case CC_CFG_DURATION:
        fmt_duration(v->ms, out, outsz);
        break;
    case CC_CFG_SIZE:
        fmt_size(v->bytes, out, outsz);
        break;
    }
    return out;
}

static void enum_list(const struct cc_cfg_key *k, const char *sep, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; k->values[i] && n < outsz; i++) {
        int w = snprintf(out + n, outsz - n, "%s%s", i ? sep : "", k->values[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* A bounded, printable excerpt of user input for messages. */
void cc__cfg_excerpt(const char *s, char *out, size_t outsz)
{
    size_t n = 0;
    for (; *s && n + 4 < outsz && n < 40; s++)
        out[n++] = (*s >= 0x20 && *s != 0x7f) ? *s : '?';
    if (*s && n + 4 <= outsz) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* ---------------------------------------------------------------------------
 * Parsing one value: the same code for defaults, YAML and the environment
 */

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool parse_uint(const struct cc_cfg_key *k, const char *s, unsigned *out, char *why,
                       size_t whysz)
{
    snprintf(why, whysz, "expected an integer between %" PRId64 " and %" PRId64,
             k->min, k->max);
    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < (unsigned long long)k->min || v > (unsigned long long)k->max)
        return false;
    *out = (unsigned)v;
    return true;
}

static bool parse_double(const struct cc_cfg_key *k, const char *s, double *out, char *why,
                         size_t whysz)
{
    char lo[32], hi[32];
    fmt_double(k->dmin, lo, sizeof(lo));
    fmt_double(k->dmax, hi, sizeof(hi));
    snprintf(why, whysz, "expected a number between %s and %s", lo, hi);
    /* strtod also takes "inf", "nan", hex and leading blanks: none belong here */
    if (!strchr("0123456789+-.", s[0]) || !s[0] || strpbrk(s, "xXnN"))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < k->dmin || v > k->dmax)
        return false;
    *out = v;
    return true;
}

static bool parse_duration(const struct cc_cfg_key *k, const char *s, int64_t *out,
                           char *why, size_t whysz)
{
    int64_t ms;
    if (cc_parse_duration_ms(s, &ms, NULL) != CC_OK) {
        snprintf(why, whysz, "expected a duration like 10s or 500ms");
        return false;
    }
    if (ms < k->min || ms > k->max) {
        char lo[32], hi[32];
        fmt_duration(k->min, lo, sizeof(lo));
        fmt_duration(k->max, hi, sizeof(hi));
        snprintf(why, whysz, "expected a duration between %s and %s", lo, hi);
        return false;
    }
    *out = ms;
    return true;
}

static bool parse_size(const struct cc_cfg_key *k, const char *s, uint64_t *out, char *why,
                       size_t whysz)
{
    uint64_t bytes;
    if (cc_parse_size(s, CC_SIZE_KB_IS_1000, &bytes, NULL) != CC_OK) {
        snprintf(why, whysz, "expected a size like 64k or 1MiB");
        return false;
    }
    if (bytes < (uint64_t)k->min || bytes > (uint64_t)k->max) {
        char lo[32], hi[32];
        fmt_size((uint64_t)k->min, lo, sizeof(lo));
        fmt_size((uint64_t)k->max, hi, sizeof(hi));
        snprintf(why, whysz, "expected a size between %s and %s", lo, hi);
        return false;
    }
    *out = bytes;
    return true;
}

static bool parse_enum(const struct cc_cfg_key *k, const char *s, const char **out,
                       char *why, size_t whysz)
{
    for (size_t i = 0; k->values[i]; i++) {
        if (strcasecmp(s, k->values[i]) == 0) {
            *out = k->values[i];
            return true;
        }
    }
    char list[128];
    enum_list(k, ", ", list, sizeof(list));
    snprintf(why, whysz, "expected one of: %s", list);
    return false;
}

/* Parses `s` for key `k`; on failure `why` says what is expected. */
static bool parse_value(const struct cc_cfg_key *k, const char *s, union value *out,
                        char *why, size_t whysz)
{
    union value v = {0};
    bool ok = false;
    switch (k->type) {
    case CC_CFG_STRING:
        v.str = s;
        ok = !k->check || k->check(s, why, whysz);
        break;
    case CC_CFG_BOOL:
        ok = parse_bool(s, &v.b);
        if (!ok)
            snprintf(why, whysz, "expected a boolean (true/false)");
        break;
    case CC_CFG_UINT:
        ok = parse_uint(k, s, &v.u, why, whysz);
        break;
    case CC_CFG_DOUBLE:
        ok = parse_double(k, s, &v.d, why, whysz);
        break;
    case CC_CFG_DURATION:
        ok = parse_duration(k, s, &v.ms, why, whysz);
        break;
    case CC_CFG_SIZE:
        ok = parse_size(k, s, &v.bytes, why, whysz);
        break;
    case CC_CFG_ENUM:
        ok = parse_enum(k, s, &v.str, why, whysz);
        break;
    }
    if (ok)
        *out = v;
    return ok;
}

/* What a key wants, for "expected X, got a mapping". */
void cc__cfg_expected_noun(const struct cc_cfg_key *k, char *out, size_t outsz)
{
    static const char *const nouns[] = {
        [CC_CFG_STRING] = "a string", [CC_CFG_BOOL] = "a boolean (true/false)",
        [CC_CFG_UINT] = "an integer", [CC_CFG_DOUBLE] = "a number",
        [CC_CFG_DURATION] = "a duration like 10s or 500ms",
        [CC_CFG_SIZE] = "a size like 64k or 1MiB",
    };
    if (k->type == CC_CFG_ENUM) {
        char list[128];
        enum_list(k, ", ", list, sizeof(list));
        snprintf(out, outsz, "one of: %s", list);
    } else {
        snprintf(out, outsz, "%s", nouns[k->type]);
    }
}

/* ---------------------------------------------------------------------------
 * Storing values into struct cc_config through the table
 */

static void *field(struct cc_config *c, const struct cc_cfg_key *k)
{
    return (char *)c + k->offset;
}

static const void *cfield(const struct cc_config *c, const struct cc_cfg_key *k)
{
    return (const char *)c + k->offset;
}

static bool is_string(const struct cc_cfg_key *k)
{
    return k->type == CC_CFG_STRING || k->type == CC_CFG_ENUM;
}

static void store_value(struct cc_config *c, const struct cc_cfg_key *k,
                        const union value *v)
{
    void *f = field(c, k);
    switch (k->type) {
    case CC_CFG_STRING:
    case CC_CFG_ENUM: {
        char *copy = cc_xstrdup(v->str);
        free(*(char **)f);
        *(char **)f = copy;
        break;
    }
    case CC_CFG_BOOL:
        *(bool *)f = v->b;
        break;
    case CC_CFG_UINT:
        *(unsigned *)f = v->u;
        break;
    case CC_CFG_DOUBLE:
        *(double *)f = v->d;
        break;
    case CC_CFG_DURATION:
        *(int64_t *)f = v->ms;
        break;
    case CC_CFG_SIZE:
        *(uint64_t *)f = v->bytes;
        break;
    }
}

static void load_value(const struct cc_config *c, const struct cc_cfg_key *k,
                       union value *v)
{
    const void *f = cfield(c, k);
    switch (k->type) {
    case CC_CFG_STRING:
    case CC_CFG_ENUM:
        v->str = *(char *const *)f;
        break;
    case CC_CFG_BOOL:
        v->b = *(const bool *)f;
        break;
    case CC_CFG_UINT:
        v->u = *(const unsigned *)f;
        break;
    case CC_CFG_DOUBLE:
        v->d = *(const double *)f;
        break;
    case CC_CFG_DURATION:
        v->ms = *(const int64_t *)f;
        break;
    case CC_CFG_SIZE:
        v->bytes = *(const uint64_t *)f;
        break;
    }
}

/* Parses and stores `s`; on failure `why` says what is expected. */
bool cc__cfg_set_text(struct cc_config *c, const struct cc_cfg_key *k, const char *s,
                      char *why, size_t whysz)
{
    union value v;
    if (!parse_value(k, s, &v, why, whysz))
        return false;
    store_value(c, k, &v);
    return true;
}

/* The table's own invariants; a violation is a programming error. */
static const char *table_error(const struct cc_cfg_key *k)
{
    if (k->check && k->type != CC_CFG_STRING)
        return "a check is for string keys only";
    if (k->type == CC_CFG_ENUM && !k->values)
        return "an enum needs its values";
    if ((k->type == CC_CFG_UINT || k->type == CC_CFG_DURATION || k->type == CC_CFG_SIZE) &&
        (k->min < 0 || k->min > k->max || (k->type == CC_CFG_UINT && k->max > UINT_MAX)))
        return "bad range";
    if (k->type == CC_CFG_DOUBLE && !(k->dmin <= k->dmax))
        return "bad range";
    return NULL;
}

void cc_config_init(struct cc_config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < cc__cfg_nkeys; i++) {
        char why[WHY_MAX];
        const char *bad = table_error(&cc__cfg_keys[i]);
        if (!bad &&
            !cc__cfg_set_text(c, &cc__cfg_keys[i], cc__cfg_keys[i].def, why, sizeof(why)))
            bad = why;
        if (bad) {
            fprintf(stderr, "config: key table: %s: %s\n", cc__cfg_keys[i].path, bad);
            abort();
        }
    }
}

void cc_config_release(struct cc_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < cc__cfg_nkeys; i++) {
        if (is_string(&cc__cfg_keys[i])) {
            char **p = field(c, &cc__cfg_keys[i]);
            free(*p);
            *p = NULL;
        }
    }
}

/* A deep copy, so a failed load leaves the caller's config untouched. */
void cc__cfg_copy(struct cc_config *dst, const struct cc_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < cc__cfg_nkeys; i++) {
        if (is_string(&cc__cfg_keys[i])) {
            char **p = field(dst, &cc__cfg_keys[i]);
            *p = cc_xstrdup(*p ? *p : "");
        }
    }
}

void cc__cfg_replace(struct cc_config *c, struct cc_config *next)
{
    cc_config_release(c);
    *c = *next;
    memset(next, 0, sizeof(*next));
}

/* ---------------------------------------------------------------------------
 * Key lookup
 */

const struct cc_cfg_key *cc__cfg_find(const char *path)
{
    for (size_t i = 0; i < cc__cfg_nkeys; i++)
        if (strcmp(cc__cfg_keys[i].path, path) == 0)
            return &cc__cfg_keys[i];
    return NULL;
}

/* True if some key lives below `path` ("http" for "http.listen"). */
bool cc__cfg_is_section(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < cc__cfg_nkeys; i++)
        if (strncmp(cc__cfg_keys[i].path, path, n) == 0 && cc__cfg_keys[i].path[n] == '.')
            return true;
    return false;
}

/* "auth.admin_token_file" -> the secret key auth.admin_token. */
const struct cc_cfg_key *cc__cfg_find_secret_file(const char *path)
{
    size_t n = strlen(path);
    if (n <= 5 || strcmp(path + n - 5, "_file") != 0)
        return NULL;
    for (size_t i = 0; i < cc__cfg_nkeys; i++)
        if ((cc__cfg_keys[i].flags & CC_CFG_SECRET) &&
            strlen(cc__cfg_keys[i].path) == n - 5 &&
            strncmp(cc__cfg_keys[i].path, path, n - 5) == 0)
            return &cc__cfg_keys[i];
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Secret files
 */

void cc__cfg_errno_why(char *why, size_t whysz, const char *path, int err)
{
    char text[128];
    if (strerror_r(err, text, sizeof(text)) != 0)
        snprintf(text, sizeof(text), "error %d", err);
    snprintf(why, whysz, "cannot read '%s': %s", path, text);
}

/* Reads a secret file (at most MAX_SECRET_BYTES) and strips one trailing
 * "\n" or "\r\n". On success *out is a heap string the caller frees. */
bool cc__cfg_read_secret(const char *path, char **out, char *why, size_t whysz)
{
    char *data = NULL;
    size_t len = 0;
    if (cc_file_read(path, MAX_SECRET_BYTES, &data, &len, why, whysz) != CC_OK)
        return false;
    if (memchr(data, '\0', len)) {
        snprintf(why, whysz, "'%s' contains a NUL byte", path);
        free(data);
        return false;
    }
    if (len && data[len - 1] == '\n') {
        len--;
        if (len && data[len - 1] == '\r')
            len--;
    }
    data[len] = '\0';
    *out = data;
    return true;
}

/* ---------------------------------------------------------------------------
 * Environment
 */

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

/* "http.listen" -> "CC_HTTP_LISTEN" (+ "_FILE"). */
static void env_name(const struct cc_cfg_key *k, bool file, char *out, size_t outsz)
{
    size_t n = 0;
    for (const char *s = "CC_"; *s && n + 1 < outsz; s++)
        out[n++] = *s;
    for (const char *s = k->path; *s && n + 1 < outsz; s++)
        out[n++] = *s == '.' ? '_' : (char)toupper((unsigned char)*s);
    for (const char *s = file ? "_FILE" : ""; *s && n + 1 < outsz; s++)
        out[n++] = *s;
    out[n] = '\0';
}

static cc_err apply_env_key(struct cc_config *c, const struct cc_cfg_key *k,
                            char *const *envp, struct cc_diag *d)
{
    char name[MAX_PATH + 8], fname[MAX_PATH + 8], why[WHY_MAX], shown[64];
    char *secret = NULL;
    cc_err err = CC_OK;
    env_name(k, false, name, sizeof(name));
    env_name(k, true, fname, sizeof(fname));
    const char *v = env_get(envp, name);
    const char *vf = (k->flags & CC_CFG_SECRET) ? env_get(envp, fname) : NULL;
    if (v && vf) {
        cc_diag_set(d, name, 0, 0, "both %s and %s are set; set only one of them", name,
                    fname);
        err = CC_EINVAL;
        goto out;
    }
    if (vf && !cc__cfg_read_secret(vf, &secret, why, sizeof(why))) {
        cc_diag_set(d, fname, 0, 0, "%s", why);
        err = CC_EIO;
        goto out;
    }
    if ((v || secret) && !cc__cfg_set_text(c, k, secret ? secret : v, why, sizeof(why))) {
        cc__cfg_excerpt(v ? v : "", shown, sizeof(shown));
        if (k->flags & CC_CFG_SECRET)
            cc_diag_set(d, secret ? fname : name, 0, 0, "%s", why);
        else
            cc_diag_set(d, name, 0, 0, "%s, got '%s'", why, shown);
        err = CC_EINVAL;
    }
out:
    free(secret);
    return err;
}

cc_err cc_config_apply_env(struct cc_config *c, char *const *envp, struct cc_diag *d)
{
    struct cc_config next;
    cc_err err = CC_OK;
    cc__cfg_copy(&next, c);
    for (size_t i = 0; i < cc__cfg_nkeys && !err; i++)
        err = apply_env_key(&next, &cc__cfg_keys[i], envp, d);
    if (!err)
        cc__cfg_replace(c, &next);
    cc_config_release(&next);
    return err;
}

/* ---------------------------------------------------------------------------
 * Validation and derived values
 */

static char *join_path(const char *dir, const char *rel)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    size_t rl = strlen(rel);
    char *out = cc_xmalloc(dl + 1 + rl + 1);
    memcpy(out, dir, dl);
    size_t n = dl;
    if (n == 0 || out[n - 1] != '/')
        out[n++] = '/';
    memcpy(out + n, rel, rl + 1);
    return out;
}

/* $XDG_DATA_HOME/commandcenter, else $HOME/.local/share/commandcenter. */
static char *default_data_dir(char *const *envp)
{
    const char *xdg = env_get(envp, "XDG_DATA_HOME");
    if (xdg && xdg[0] == '/') /* the XDG spec says relative values are ignored */
        return join_path(xdg, "commandcenter");
    const char *home = env_get(envp, "HOME");
    if (home && home[0])
        return join_path(home, ".local/share/commandcenter");
    return NULL;
}

cc_err cc_config_finish(struct cc_config *c, char *const *envp, struct cc_diag *d)
{
    char why[WHY_MAX], shown[64];
    char *dir = NULL;
    if (!c->data_dir || !c->data_dir[0]) {
        dir = default_data_dir(envp);
        if (!dir) {
            cc_diag_set(d, NULL, 0, 0, "data_dir is not set and neither XDG_DATA_HOME nor "
                                       "HOME is; set data_dir or CC_DATA_DIR");
            return CC_EINVAL;
        }
    }
    for (size_t i = 0; i < cc__cfg_nkeys; i++) {
        const struct cc_cfg_key *k = &cc__cfg_keys[i];
        if (!k->check) /* checks exist for string keys only */
            continue;
        const char *s = *(char *const *)cfield(c, k);
        if (!k->check(s ? s : "", why, sizeof(why))) {
            cc__cfg_excerpt(s ? s : "", shown, sizeof(shown));
            cc_diag_set(d, NULL, 0, 0, "%s: %s, got '%s'", k->path, why, shown);
            free(dir);
            return CC_EINVAL;
        }
    }
    if (c->knowledge.embed_url[0] && !c->knowledge.embed_model[0]) {
        cc_diag_set(d, NULL, 0, 0, "knowledge.embed_model must be set when "
                                   "knowledge.embed_url is");
        free(dir);
        return CC_EINVAL;
    }
    if (strcmp(c->store.driver, "sqlite") == 0 && !c->store.sqlite_path[0]) {
        cc_diag_set(d, NULL, 0, 0, "store.sqlite_path must not be empty with the sqlite "
                                   "driver");
        free(dir);
        return CC_EINVAL;
    }
    if (dir) {
        free(c->data_dir);
        c->data_dir = dir;
    }
    return CC_OK;
}

char *cc_config_path(const struct cc_config *c, const char *rel)
{
    if (rel[0] == '/' || !c->data_dir || !c->data_dir[0])
        return cc_xstrdup(rel);
    return join_path(c->data_dir, rel);
}

/* ---------------------------------------------------------------------------
 * Dump and reference
 */

static cc_err add_quoted(struct cc_buf *out, const char *s)
{
    cc_err err = cc_buf_addch(out, '"');
    for (; *s && !err; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            err = cc_buf_addf(out, "\\%c", ch);
        else if (ch == '\n')
            err = cc_buf_addstr(out, "\\n");
        else if (ch == '\t')
            err = cc_buf_addstr(out, "\\t");
        else if (ch < 0x20 || ch == 0x7f)
            err = cc_buf_addf(out, "\\x%02x", ch);
        else
            err = cc_buf_addch(out, (char)ch);
    }
    return err ? err : cc_buf_addch(out, '"');
}

/* Component j of a dotted path; false past the end. */
static bool component(const char *path, size_t j, const char **start, size_t *len)
{
    const char *p = path;
    for (size_t i = 0; i < j; i++) {
        p = strchr(p, '.');
        if (!p)
            return false;
        p++;
    }
    *start = p;
    *len = strcspn(p, ".");
    return true;
}

static size_t count_sections(const char *path)
{
    size_t n = 0;
    for (; *path; path++)
        n += *path == '.';
    return n;
}

/* Opens the mappings `path` needs that `prev` did not; returns the depth. */
static cc_err open_sections(struct cc_buf *out, const char *prev, const char *path)
{
    size_t n = count_sections(path), pn = prev ? count_sections(prev) : 0, j = 0;
    const char *a, *b;
    size_t al, bl;
    while (j < n && j < pn && component(prev, j, &a, &al) && component(path, j, &b, &bl) &&
           al == bl && memcmp(a, b, al) == 0)
        j++;
    cc_err err = CC_OK;
    for (; j < n && !err; j++) {
        component(path, j, &b, &bl);
        err = cc_buf_addf(out, "%*s%.*s:\n", (int)(2 * j), "", (int)bl, b);
    }
    return err;
}

cc_err cc_config_dump(const struct cc_config *c, struct cc_buf *out)
{
    cc_err err = CC_OK;
    for (size_t i = 0; i < cc__cfg_nkeys && !err; i++) {
        const struct cc_cfg_key *k = &cc__cfg_keys[i];
        const char *leaf = strrchr(k->path, '.');
        leaf = leaf ? leaf + 1 : k->path;
        union value v;
        char text[64];
        load_value(c, k, &v);
        err = open_sections(out, i ? cc__cfg_keys[i - 1].path : NULL, k->path);
        if (!err)
            err = cc_buf_addf(out, "%*s%s: ", (int)(2 * count_sections(k->path)), "", leaf);
        if (err)
            break;
        if (k->type == CC_CFG_STRING && (k->flags & CC_CFG_SECRET) && v.str && v.str[0])
            err = add_quoted(out, "[REDACTED]");
        else if (k->type == CC_CFG_STRING)
            err = add_quoted(out, v.str ? v.str : "");
        else
            err = cc_buf_addstr(out, fmt_value(k, &v, text, sizeof(text)));
        if (!err)
            err = cc_buf_addch(out, '\n');
    }
    return err;
}

static void type_text(const struct cc_cfg_key *k, char *out, size_t outsz)
{
    char lo[32], hi[32], list[128];
    switch (k->type) {
    case CC_CFG_STRING:
        snprintf(out, outsz, "string");
        return;
    case CC_CFG_BOOL:
        snprintf(out, outsz, "boolean");
        return;
    case CC_CFG_ENUM:
        enum_list(k, "`, `", list, sizeof(list));
        snprintf(out, outsz, "one of `%s`", list);
        return;
    case CC_CFG_UINT:
        snprintf(lo, sizeof(lo), "%" PRId64, k->min);
        snprintf(hi, sizeof(hi), "%" PRId64, k->max);
        break;
    case CC_CFG_DOUBLE:
        fmt_double(k->dmin, lo, sizeof(lo));
        fmt_double(k->dmax, hi, sizeof(hi));
        break;
    case CC_CFG_DURATION:
        fmt_duration(k->min, lo, sizeof(lo));
        fmt_duration(k->max, hi, sizeof(hi));
        break;
    case CC_CFG_SIZE:
        fmt_size((uint64_t)k->min, lo, sizeof(lo));
        fmt_size((uint64_t)k->max, hi, sizeof(hi));
        break;
    }
    static const char *const names[] = {[CC_CFG_UINT] = "integer",
                                        [CC_CFG_DOUBLE] = "number",
                                        [CC_CFG_DURATION] = "duration",
                                        [CC_CFG_SIZE] = "size"};
    snprintf(out, outsz, "%s, %s to %s", names[k->type], lo, hi);
}

static const char reference_intro[] =
    "# Configuration reference\n"
    "\n"
    "CommandCenter reads one YAML file (see `deploy/commandcenter.example.yml`).\n"
    "Keys are nested mappings: `http.listen` is written as\n"
    "\n"
    "```yaml\n"
    "http:\n"
    "  listen: \"127.0.0.1:8470\"\n"
    "```\n"
    "\n"
    "- Every key can be set with the environment variable in the table; the\n"
    "  environment wins over the file.\n"
    "- An unknown key, a value of the wrong type or out of range is an error that\n"
    "  names the file, line and column. An empty file means all defaults, and so\n"
    "  does an empty section; an empty value (`listen:`) is an error.\n"
    "- Booleans: `true`/`false`, `yes`/`no`, `on`/`off`.\n"
    "- Durations: `250ms`, `1.5s`, `10s`, `1m30s`, `2h`, `1d` (units `ns`, `us`, `ms`, `s`,\n"
    "  `m`, `h`, `d`, fractions allowed; whole milliseconds here); a bare number is seconds.\n"
    "  Compose files use the same syntax (`cc_parse_duration_*` in `src/core/clock.c`).\n"
    "- Sizes: `512` (bytes), `64k` or `64KiB` (x1024), `10MB` (x1000000), `1MiB`, `1GiB`,\n"
    "  `1.5g`, `2t`; a fraction is rounded down to a byte. Compose files use the same syntax,\n"
    "  except that there, as in Docker, `kb`/`mb`/`gb`/`tb` are binary too.\n"
    "- Secret keys can be read from a file instead: `<key>_file` in YAML\n"
    "  (`auth.admin_token_file`) or `<VARIABLE>_FILE` in the environment. The file\n"
    "  must be a regular file of at most 64 KiB; one trailing newline is stripped.\n"
    "  Setting both the value and the file in the same place is an error.\n"
    "  `serve --print-config` shows secrets as `[REDACTED]`.\n"
    "- Relative paths in `auth.bootstrap_token_file` and `store.sqlite_path` are\n"
    "  relative to `data_dir`.\n"
    "- Anchors, aliases and merge keys (`<<`) work; a file may be at most 1 MiB and\n"
    "  expand to at most 10000 nodes.\n"
    "- The file must be UTF-8 without control characters other than tab. To keep\n"
    "  the YAML parser safe and fast, a tab may not separate two indicators\n"
    "  (`key:<TAB>|`; use spaces), the text of a block scalar (`|`, `>`) must be\n"
    "  indented more than its key, and a file may hold at most 100 anchors, 1000\n"
    "  of the characters `:` `,` `?` `{` (outside full-line comments), 100\n"
    "  blank lines in a row and 3 single quotes in a row.\n"
    "\n"
    "| Key | Type | Default | Environment | Description |\n"
    "|-----|------|---------|-------------|-------------|\n";

static cc_err reference_row(struct cc_buf *out, const struct cc_cfg_key *k)
{
    char type[160], def[64], env[MAX_PATH + 8], fenv[MAX_PATH + 8];
    union value v;
    char why[WHY_MAX];
    if (!parse_value(k, k->def, &v, why, sizeof(why)))
        return CC_EINVAL;
    type_text(k, type, sizeof(type));
    const char *shown = fmt_value(k, &v, def, sizeof(def));
    env_name(k, false, env, sizeof(env));
    env_name(k, true, fenv, sizeof(fenv));
    cc_err err = cc_buf_addf(out, "| `%s` | %s | %s%s%s | `%s` | %s", k->path, type,
                             shown[0] ? "`" : "", shown[0] ? shown : "(empty)",
                             shown[0] ? "`" : "", env, k->help);
    if (!err && (k->flags & CC_CFG_SECRET))
        err = cc_buf_addf(out, " Secret: or from a file with `%s_file` / `%s`.", k->path,
                          fenv);
    return err ? err : cc_buf_addstr(out, " |\n");
}

cc_err cc_config_reference(struct cc_buf *out)
{
    cc_err err = cc_buf_addstr(out, reference_intro);
    for (size_t i = 0; i < cc__cfg_nkeys && !err; i++)
        err = reference_row(out, &cc__cfg_keys[i]);
    return err;
}

/* ---------------------------------------------------------------------------
 * Example file
 */

static const char example_intro[] =
    "# CommandCenter configuration (commandcenter.yml).\n"
    "#\n"
    "# Generated by `commandcenter config-example` from the key table, so it\n"
    "# lists every key the binary knows, with its default. Every key is shown\n"
    "# commented out: uncomment a line to change it. Every key can also be set\n"
    "# with an environment variable, which wins over this file (http.listen ->\n"
    "# CC_HTTP_LISTEN). The full reference, with types and ranges, is\n"
    "# docs/CONFIG.md.\n"
    "#\n"
    "# Durations: 250ms, 10s, 1m30s, 2h. Sizes: 512, 64k, 1MiB, 10MB.\n";

#define EXAMPLE_WIDTH 78

/* text as "# " comment lines of at most EXAMPLE_WIDTH columns at indent. */
static cc_err add_wrapped(struct cc_buf *out, int indent, const char *text)
{
    int room = EXAMPLE_WIDTH - indent - 2;
    cc_err err = CC_OK;
    while (*text && !err) {
        while (*text == ' ')
            text++;
        int len = (int)strlen(text), cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)   /* one word longer than the line */
                cut = (int)strcspn(text, " ");
        }
        err = cc_buf_addf(out, "%*s# %.*s\n", indent, "", cut, text);
        text += cut;
    }
    return err;
}

static bool same_top(const char *a, const char *b)
{
    size_t la = strcspn(a, "."), lb = strcspn(b, ".");
    return la == lb && memcmp(a, b, la) == 0;
}

cc_err cc_config_example(struct cc_buf *out)
{
    cc_err err = cc_buf_addstr(out, example_intro);
    for (size_t i = 0; i < cc__cfg_nkeys && !err; i++) {
        const struct cc_cfg_key *k = &cc__cfg_keys[i];
        const char *prev = i ? cc__cfg_keys[i - 1].path : NULL;
        const char *leaf = strrchr(k->path, '.');
        leaf = leaf ? leaf + 1 : k->path;
        int indent = (int)(2 * count_sections(k->path));
        union value v;
        char text[64], why[WHY_MAX];
        if (!parse_value(k, k->def, &v, why, sizeof(why)))
            return CC_EINVAL;
        if (!prev || !same_top(prev, k->path) || !strchr(k->path, '.'))
            err = cc_buf_addch(out, '\n');
        if (!err)
            err = open_sections(out, prev, k->path);
        if (!err)
            err = add_wrapped(out, indent, k->help);
        if (!err && k->type == CC_CFG_ENUM) {
            char list[256];
            enum_list(k, ", ", list, sizeof(list));
            err = cc_buf_addf(out, "%*s# One of: %s.\n", indent, "", list);
        }
        if (!err && (k->flags & CC_CFG_SECRET))
            err = cc_buf_addf(out, "%*s# A secret: %s_file names a file holding it instead.\n",
                              indent, "", leaf);
        if (!err)
            err = cc_buf_addf(out, "%*s# %s: ", indent, "", leaf);
        if (!err && k->type == CC_CFG_STRING)
            err = add_quoted(out, v.str ? v.str : "");
        else if (!err)
            err = cc_buf_addstr(out, fmt_value(k, &v, text, sizeof(text)));
        if (!err)
            err = cc_buf_addch(out, '\n');
    }
    return err;
}

cc_err cc_config_read_secret(const char *path, char **out, char *why, size_t whysz)
{
    return cc__cfg_read_secret(path, out, why, whysz) ? CC_OK : CC_EIO;
}
