/*
 * compose_interp.c - Compose's variable interpolation, the .env file, and
 * the value syntaxes (durations, sizes, shell words) of the stack spec.
 *
 * Decisions:
 *   - Interpolation runs on every scalar value (not on keys), as Compose
 *     does; "$$" is a literal '$'. A '$' not followed by '{', a name or
 *     '$' is kept as is.
 *   - Defaults are themselves interpolated, up to ORCH__INTERP_DEPTH
 *     levels, so "${A:-${B:-x}}" works.
 *   - The process environment wins over .env (Compose's precedence).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/compose_int.h"

#define MISSING_MAX 512

const char *orch__env_get(const struct orch__env *env, const char *name, size_t nlen)
{
    for (char *const *e = env->envp; e && *e; e++)
        if (strncmp(*e, name, nlen) == 0 && (*e)[nlen] == '=')
            return *e + nlen + 1;
    for (size_t i = 0; env->dotenv && i < env->dotenv->n; i++) {
        const struct orch_kv *kv = &env->dotenv->v[i];
        if (strlen(kv->key) == nlen && memcmp(kv->key, name, nlen) == 0)
            return kv->value ? kv->value : "";
    }
    return NULL;
}

static bool name_start(char c)
{
    return c == '_' || isalpha((unsigned char)c);
}

static bool name_char(char c)
{
    return c == '_' || isalnum((unsigned char)c);
}

/* Index of the '}' closing a "${" whose body starts at s[i]; len if none. */
static size_t closing_brace(const char *s, size_t i, size_t len)
{
    unsigned open = 1;
    for (; i < len; i++) {
        if (s[i] == '$' && i + 1 < len && s[i + 1] == '$') {
            i++;
        } else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            open++;
            i++;
        } else if (s[i] == '}' && --open == 0) {
            return i;
        }
    }
    return len;
}

static cc_err interp_depth(const struct orch__env *env, const char *s, size_t len,
                           struct cc_buf *out, struct cc_buf *missing, char *why,
                           size_t whysz, unsigned depth);

static void note_missing(struct cc_buf *missing, const char *name, size_t nlen)
{
    if (missing && missing->len + nlen + 2 < MISSING_MAX)
        cc_buf_addf(missing, "%s%.*s", missing->len ? ", " : "", (int)nlen, name);
}

/* The body of ${...}: NAME, then nothing or an operator and its word. */
static cc_err braced(const struct orch__env *env, const char *b, size_t blen,
                     struct cc_buf *out, struct cc_buf *missing, char *why, size_t whysz,
                     unsigned depth)
{
    size_t n = 0;
    while (n < blen && name_char(b[n]))
        n++;
    if (n == 0 || !name_start(b[0])) {
        snprintf(why, whysz, "invalid interpolation '${%.*s}': a variable name is letters, "
                 "digits and '_' and starts with a letter or '_'", (int)(blen > 40 ? 40 : blen), b);
        return CC_EPARSE;
    }
    const char *val = orch__env_get(env, b, n);
    const char *op = b + n, *word = NULL;
    size_t oplen = blen - n;
    bool colon = oplen > 0 && op[0] == ':';
    char kind = oplen > (size_t)colon ? op[colon] : 0;
    if (oplen > 0) {
        if (kind != '-' && kind != '?' && kind != '+') {
            snprintf(why, whysz, "invalid interpolation '${%.*s}': after the name comes '}', "
                     "':-', '-', ':?', '?', ':+' or '+'", (int)(blen > 40 ? 40 : blen), b);
            return CC_EPARSE;
        }
        word = op + colon + 1;
    }
    size_t wlen = word ? (size_t)(b + blen - word) : 0;
    bool empty = !val || (colon && !val[0]);
    if (kind == '-' && empty)
        return interp_depth(env, word, wlen, out, missing, why, whysz, depth + 1);
    if (kind == '+')
        return empty ? CC_OK : interp_depth(env, word, wlen, out, missing, why, whysz, depth + 1);
    if (kind == '?' && empty) {
        struct cc_buf msg;
        cc_buf_init(&msg, 256);
        cc_err err = interp_depth(env, word, wlen, &msg, NULL, why, whysz, depth + 1);
        if (!err)
            snprintf(why, whysz, "required variable %.*s is %s: %s", (int)n, b,
                     val ? "empty" : "missing", msg.len ? cc_buf_str(&msg) : "set it in the "
                     "environment or in .env");
        cc_buf_release(&msg);
        return CC_EPARSE;
    }
    if (!val) {
        note_missing(missing, b, n);
        return CC_OK;
    }
    return cc_buf_addstr(out, val);
}

static cc_err interp_depth(const struct orch__env *env, const char *s, size_t len,
                           struct cc_buf *out, struct cc_buf *missing, char *why,
                           size_t whysz, unsigned depth)
{
    if (depth > ORCH__INTERP_DEPTH) {
        snprintf(why, whysz, "interpolation nested more than %d levels", ORCH__INTERP_DEPTH);
        return CC_ELIMIT;
    }
    cc_err err = CC_OK;
    for (size_t i = 0; i < len && !err;) {
        if (s[i] != '$' || i + 1 >= len) {
            err = cc_buf_addch(out, s[i++]);
        } else if (s[i + 1] == '$') {
            err = cc_buf_addch(out, '$');
            i += 2;
        } else if (s[i + 1] == '{') {
            size_t end = closing_brace(s, i + 2, len);
            if (end == len) {
                snprintf(why, whysz, "unterminated '${' (add the closing '}', or write '$$' "
                         "for a literal '$')");
                return CC_EPARSE;
            }
            err = braced(env, s + i + 2, end - i - 2, out, missing, why, whysz, depth);
            i = end + 1;
        } else if (name_start(s[i + 1])) {
            size_t n = 1;
            while (i + 1 + n < len && name_char(s[i + 1 + n]))
                n++;
            const char *val = orch__env_get(env, s + i + 1, n);
            if (val)
                err = cc_buf_addstr(out, val);
            else
                note_missing(missing, s + i + 1, n);
            i += 1 + n;
        } else {
            err = cc_buf_addch(out, s[i++]);
        }
    }
    if (err == CC_ELIMIT && !why[0])
        snprintf(why, whysz, "the value is too long after interpolation");
    return err;
}

cc_err orch__interp(const struct orch__env *env, const char *s, size_t len,
                    struct cc_buf *out, struct cc_buf *missing, char *why, size_t whysz)
{
    why[0] = '\0';
    return interp_depth(env, s, len, out, missing, why, whysz, 0);
}

/* ---------------------------------------------------------------------------
 * .env
 */

/* The value after '=': quoted (double quotes know \n \t \" \\) or plain up
 * to an inline " #" comment, trimmed. */
static bool dotenv_value(struct cc_arena *a, const char *v, size_t n, char **out)
{
    struct cc_buf b;
    cc_buf_init(&b, ORCH_COMPOSE_MAX_FILE);
    bool ok = true;
    if (n > 0 && (v[0] == '"' || v[0] == '\'')) {
        char q = v[0];
        size_t i = 1;
        for (; i < n && v[i] != q; i++) {
            char c = v[i];
            if (q == '"' && c == '\\' && i + 1 < n) {
                c = v[++i];
                c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
            }
            cc_buf_addch(&b, c);
        }
        ok = i < n;
    } else {
        size_t end = n;
        for (size_t i = 0; i < n; i++)
            if (v[i] == '#' && (i == 0 || v[i - 1] == ' ' || v[i - 1] == '\t')) {
                end = i;
                break;
            }
        while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        cc_buf_add(&b, v, end);
    }
    if (ok)
        *out = cc_arena_strndup(a, cc_buf_str(&b), b.len);
    cc_buf_release(&b);
    return ok && *out;
}

static const char *skip_blanks(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

cc_err orch__dotenv_parse(struct cc_arena *a, const char *text, size_t len,
                          struct orch_kvs *out, unsigned *bad_line)
{
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    struct orch_kvs kvs = {.v = cc_arena_calloc(a, lines, sizeof(struct orch_kv))};
    if (!kvs.v)
        return CC_ELIMIT;
    const char *p = text, *end = text + len;
    for (unsigned line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *e = eol;
        if (e > p && e[-1] == '\r')
            e--;
        const char *s = skip_blanks(p, e);
        if (e - s > 7 && strncmp(s, "export ", 7) == 0)
            s = skip_blanks(s + 7, e);
        p = eol + (eol < end);
        if (s == e || *s == '#')
            continue;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        size_t klen = eq ? (size_t)(eq - s) : 0;
        while (klen > 0 && (s[klen - 1] == ' ' || s[klen - 1] == '\t'))
            klen--;
        bool ok = eq && klen > 0 && name_start(s[0]);
        for (size_t i = 0; ok && i < klen; i++)
            ok = name_char(s[i]) || s[i] == '.' || s[i] == '-';
        struct orch_kv *kv = &kvs.v[kvs.n];
        const char *v = ok ? skip_blanks(eq + 1, e) : NULL;
        if (!ok || !(kv->key = cc_arena_strndup(a, s, klen)) ||
            !dotenv_value(a, v, (size_t)(e - v), &kv->value)) {
            *bad_line = line;
            return CC_EPARSE;
        }
        kvs.n++;
    }
    *out = kvs;
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * Value syntaxes
 */

bool orch__shell_split(struct cc_arena *a, const char *s, struct orch_strs *out)
{
    size_t len = strlen(s);
    struct orch_strs w = {.v = cc_arena_calloc(a, len / 2 + 2, sizeof(char *))};
    char *word = cc_arena_calloc(a, len + 1, 1);
    if (!w.v || !word)
        return false;
    size_t wl = 0;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote)
                quote = 0;
            else if (quote == '"' && c == '\\' && i + 1 < len && strchr("\"\\$`", s[i + 1]))
                word[wl++] = s[++i];
            else
                word[wl++] = c;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word && !(w.v[w.n++] = cc_arena_strndup(a, word, wl)))
                return false;
            wl = 0;
            in_word = false;
            continue;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '\\' && i + 1 < len) {
            word[wl++] = s[++i];
        } else {
            word[wl++] = c;
        }
        in_word = true;
    }
    if (quote)
        return false;
    if (in_word && !(w.v[w.n++] = cc_arena_strndup(a, word, wl)))
        return false;
    *out = w;
    return true;
}
