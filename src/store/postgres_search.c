/*
 * postgres_search.c - the full-text index and search of the PostgreSQL
 * backend (store.h; schema in migrations/postgres/0002_knowledge.sql, the
 * ranking decision in docs/STORE.md "PostgreSQL: ranking").
 *
 * Ranking parity with SQLite. The SQLite backend ranks with FTS5's bm25()
 * over "porter unicode61 remove_diacritics 2" tokens, column weights 4/2/1.
 * To give the same hits in the same order with the same relevance this
 * backend:
 *   - tokenizes with that very tokenizer: each connection owns an in-memory
 *     SQLite database and borrows FTS5's tokenizer from it;
 *   - stores per chunk the token positions (tsvector, weights A/B/C for
 *     title/heading/body, GIN index: finds candidates, checks phrases), the
 *     per-field token counts of each lexeme (jsonb tf) and the token count
 *     (ntok); fts_totals keeps the corpus row and token counts;
 *   - computes FTS5's BM25 formula (k1 = 1.2, b = 0.75, IDF = ln((N - n +
 *     0.5) / (n + 0.5)), at least 1e-6) in SQL over the candidates, with
 *     the same operations in the same order, so the doubles agree bit for
 *     bit;
 *   - cuts snippets with FTS5's snippet() on a one-row FTS5 table in that
 *     in-memory database, and escapes them with the SQLite backend's code.
 * A query term that the tokenizer splits into several tokens (non-ASCII
 * punctuation inside a run of letters) is a phrase: matched exactly through
 * the positions, but its frequency is the per-field minimum of its tokens'
 * counts rather than FTS5's count of phrase instances.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "store/postgres_int.h"
#include "store/store_int.h"
#include "store/store.h"

#define MOD "store"
#define SNIPPET_LIMIT (256u * 1024u)
#define LEXEME_MAX 2046            /* tsvector's limit is 2047 bytes */
#define POS_MAX 16383              /* tsvector positions are 1..16383 */
#define POS_PER_LEXEME 256         /* tsvector keeps at most 256 per lexeme */
#define INDEX_LIMIT (64u * 1024u * 1024u)
#define QUERY_PHRASES_MAX STORE_FTS_TERMS_MAX
#define FAST_LEX_MAX 16            /* lexeme columns of PS_FTS_CANDIDATES */

#define LEXCOL(n) ", c.tf -> ($2::text[])[" #n "]"
#define LEXCOLS                                                                        \
    LEXCOL(1) LEXCOL(2) LEXCOL(3) LEXCOL(4) LEXCOL(5) LEXCOL(6) LEXCOL(7) LEXCOL(8)    \
    LEXCOL(9) LEXCOL(10) LEXCOL(11) LEXCOL(12) LEXCOL(13) LEXCOL(14) LEXCOL(15) LEXCOL(16)

const struct pg_stmt_def pg__search_stmts[PS__COUNT] = {
    [PS_FTS_TOTALS] = {"fts_totals", "SELECT nrows, ntok FROM fts_totals WHERE id = 1"},
    /* The candidates: every chunk the query matches (the GIN index), its
     * token count, whether it passes the filters, and tf's counts of up to
     * 16 lexemes ($2; missing ones are NULL). */
    [PS_FTS_CANDIDATES] = {"fts_candidates",
        "SELECT c.id, c.ntok, true" LEXCOLS " FROM chunks c WHERE c.tsv @@ $1::tsquery"},
    [PS_FTS_CANDIDATES_FILTERED] = {"fts_candidates_filtered",
        "SELECT c.id, c.ntok, EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id"
        " AND ($3::int8 = 0 OR d.source_id = $3::int8)"
        " AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM doc_tags t"
        "      WHERE t.document_id = d.id AND t.tag = $4::text))"
        " AND ($5::int8 = 0 OR COALESCE(NULLIF(d.published_ms, 0), d.updated_ms) >= $5::int8)"
        " AND ($6::text IS NULL OR d.version = $6::text))" LEXCOLS
        " FROM chunks c WHERE c.tsv @@ $1::tsquery"},
    /* The window's priorities and dates, by its ordinal. */
    [PS_SEARCH_META] = {"search_meta",
        "SELECT u.i, s.priority, d.published_ms"
        " FROM unnest($1::int8[]) WITH ORDINALITY AS u(id, i) JOIN chunks c ON c.id = u.id"
        " JOIN documents d ON d.id = c.document_id JOIN sources s ON s.id = d.source_id"},
    /* BM25's n(q): chunks holding one phrase (a constant tsquery per
     * call, so the planner can use the GIN index). */
    [PS_FTS_DOCFREQ] = {"fts_docfreq",
        "SELECT count(*) FROM chunks WHERE tsv @@ $1::tsquery"},
    /* FTS5's bm25 (fts5Bm25Function) term by term: for each phrase, in
     * order, idf * (f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl)),
     * f = 4 x title + 2 x heading + 1 x body occurrences. $1 the OR query,
     * $2/$3 lexemes and their phrase numbers, $4 IDF per phrase, $5 avgdl. */
    [PS_SEARCH_WINDOW] = {"search_window",
        "SELECT c.id, r.rel, s.priority, d.published_ms"
        " FROM chunks c JOIN documents d ON d.id = c.document_id"
        " JOIN sources s ON s.id = d.source_id"
        " CROSS JOIN LATERAL (SELECT COALESCE(sum(p.idf * ((p.f * (1.2::float8 + 1.0::float8))"
        "   / (p.f + 1.2::float8 * (1::float8 - 0.75::float8"
        "      + 0.75::float8 * c.ntok::float8 / $5::float8))) ORDER BY p.ph), 0::float8) AS rel"
        "  FROM (SELECT t.ph, ($4::float8[])[t.ph] AS idf,"
        "        4::float8 * min(COALESCE((c.tf -> t.lex ->> 0)::float8, 0::float8))"
        "        + 2::float8 * min(COALESCE((c.tf -> t.lex ->> 1)::float8, 0::float8))"
        "        + min(COALESCE((c.tf -> t.lex ->> 2)::float8, 0::float8)) AS f"
        "        FROM unnest($2::text[], $3::int[]) AS t(lex, ph) GROUP BY t.ph) p) r"
        " WHERE c.tsv @@ $1::tsquery"
        " AND ($6::int8 = 0 OR d.source_id = $6::int8)"
        " AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM doc_tags t"
        "      WHERE t.document_id = d.id AND t.tag = $7::text))"
        " AND ($8::int8 = 0 OR COALESCE(NULLIF(d.published_ms, 0), d.updated_ms) >= $8::int8)"
        " AND ($9::text IS NULL OR d.version = $9::text)"
        " ORDER BY r.rel DESC, c.id LIMIT $10"},
    /* The hits' fields in the window's order, the texts the snippet is cut
     * from, and the vector-only snippet (the first 200 characters). */
    [PS_SEARCH_HITS] = {"search_hits",
        "SELECT c.id, d.id, d.source_id, s.name, s.priority, d.title, c.heading, d.url,"
        " d.version, d.published_ms, c.text, substr(c.text, 1, 200)"
        " || CASE WHEN length(c.text) > 200 THEN '\xe2\x80\xa6' ELSE '' END"
        " FROM unnest($1::int8[]) WITH ORDINALITY AS u(id, i) JOIN chunks c ON c.id = u.id"
        " JOIN documents d ON d.id = c.document_id JOIN sources s ON s.id = d.source_id"
        " ORDER BY u.i"},
};

/* ---- the in-memory FTS5 database ------------------------------------- */

static fts5_api *fts5_api_of(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    return api;
}

cc_err pg__fts_open(struct pg_store *s, struct pg_conn *c)
{
    static const char *const args[] = {"unicode61", "remove_diacritics", "2"};
    int rc = sqlite3_open_v2(":memory:", &c->fts,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK)
        goto fail;
    rc = sqlite3_exec(c->fts,
                      "CREATE VIRTUAL TABLE snip USING fts5 (title, heading, body,"
                      " tokenize = 'porter unicode61 remove_diacritics 2')",
                      NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->fts, "DELETE FROM snip", -1, &c->snip_clear, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->fts,
                                "INSERT INTO snip (rowid, title, heading, body)"
                                " VALUES (1, ?1, ?2, ?3)",
                                -1, &c->snip_insert, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->fts,
                                "SELECT snippet(snip, 2, char(2), char(3), '\xe2\x80\xa6', 24)"
                                " FROM snip WHERE snip MATCH ?1 AND rowid = 1",
                                -1, &c->snip_get, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    fts5_api *api = fts5_api_of(c->fts);
    void *ud = NULL;
    fts5_tokenizer found;
    if (!api || api->xFindTokenizer(api, "porter", &ud, &found) != SQLITE_OK)
        goto fail;
    Fts5Tokenizer *tok = NULL;
    if (found.xCreate(ud, (const char **)args, 3, &tok) != SQLITE_OK)
        goto fail;
    c->tok = tok;
    c->tok_api = cc_xmalloc(sizeof(fts5_tokenizer));
    memcpy((void *)c->tok_api, &found, sizeof(found));
    return CC_OK;
fail:
    cc_log_error(s->log, MOD, "cannot set up the FTS5 tokenizer (SQLite built without FTS5?)",
                 CC_LS("error", c->fts ? sqlite3_errmsg(c->fts) : "out of memory"));
    return CC_EIO;
}

void pg__fts_close(struct pg_conn *c)
{
    if (c->tok && c->tok_api)
        c->tok_api->xDelete(c->tok);
    free((void *)c->tok_api);
    c->tok = NULL;
    c->tok_api = NULL;
    sqlite3_finalize(c->snip_clear);
    sqlite3_finalize(c->snip_insert);
    sqlite3_finalize(c->snip_get);
    c->snip_clear = c->snip_insert = c->snip_get = NULL;
    sqlite3_close(c->fts);
    c->fts = NULL;
}

/* ---- tokens ---------------------------------------------------------- */

struct token {
    char *lex;                         /* into the token list's arena */
    unsigned len;
    int col;                           /* 0 title, 1 heading, 2 body */
    int pos;                           /* 1-based over the whole chunk */
};

struct tokens {
    struct token *v;
    size_t n, cap;
    struct cc_buf text;                /* lexemes, NUL-separated */
    int col;
    int pos;
    int64_t ntok;
};

static int token_cb(void *ctx, int tflags, const char *p, int n, int start, int end)
{
    (void)start;
    (void)end;
    struct tokens *t = ctx;
    t->ntok++;
    t->pos++;
    if (tflags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;              /* not produced by porter/unicode61 */
    if (n <= 0 || n > LEXEME_MAX)
        return SQLITE_OK;              /* never matches a query term (at most 64 bytes) */
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = cc_xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    size_t off = t->text.len;
    if (cc_buf_add(&t->text, p, (size_t)n) != CC_OK || cc_buf_addch(&t->text, '\0') != CC_OK)
        return SQLITE_NOMEM;
    t->v[t->n++] = (struct token){.lex = (char *)(uintptr_t)off, .len = (unsigned)n,
                                  .col = t->col, .pos = t->pos};
    return SQLITE_OK;
}

static cc_err tokenize(struct pg_conn *c, struct tokens *t, const char *text, int flags)
{
    if (!text || !*text)
        return CC_OK;
    size_t len = strlen(text);
    if (len > INT32_MAX)
        return CC_EINVAL;
    int rc = c->tok_api->xTokenize(c->tok, t, flags, text, (int)len, token_cb);
    return rc == SQLITE_OK ? CC_OK : rc == SQLITE_NOMEM ? CC_ENOMEM : CC_EIO;
}

/* Turns the arena offsets into pointers (the arena may have moved). */
static void tokens_fix(struct tokens *t)
{
    char *base = t->text.ptr;
    for (size_t i = 0; i < t->n; i++)
        t->v[i].lex = base + (uintptr_t)t->v[i].lex;
}

static void tokens_release(struct tokens *t)
{
    free(t->v);
    cc_buf_release(&t->text);
}

static int token_cmp(const void *a, const void *b)
{
    const struct token *x = a, *y = b;
    int c = strcmp(x->lex, y->lex);
    if (c)
        return c;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Valid UTF-8 (PostgreSQL refuses anything else in text). */
static bool utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = p[i];
        size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        }
        i += len;
    }
    return true;
}

static cc_err add_json_string(struct cc_buf *b, const char *s, size_t n)
{
    cc_err err = cc_buf_addch(b, '"');
    for (size_t i = 0; !err && i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            err = cc_buf_addch(b, '\\');
            if (!err)
                err = cc_buf_addch(b, (char)ch);
        } else if (ch < 0x20) {
            err = cc_buf_addf(b, "\\u%04x", ch);
        } else {
            err = cc_buf_addch(b, (char)ch);
        }
    }
    if (!err)
        err = cc_buf_addch(b, '"');
    return err;
}

/* A lexeme quoted for tsvector/tsquery input: ' and \ doubled. */
static cc_err add_lexeme(struct cc_buf *b, const char *s, size_t n)
{
    cc_err err = cc_buf_addch(b, '\'');
    for (size_t i = 0; !err && i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            err = cc_buf_addch(b, s[i]);
        if (!err)
            err = cc_buf_addch(b, s[i]);
    }
    if (!err)
        err = cc_buf_addch(b, '\'');
    return err;
}

void pg__chunk_index_init(struct pg_chunk_index *ix)
{
    cc_buf_init(&ix->tsv, INDEX_LIMIT);
    cc_buf_init(&ix->tf, INDEX_LIMIT);
    ix->ntok = 0;
}

void pg__chunk_index_release(struct pg_chunk_index *ix)
{
    cc_buf_release(&ix->tsv);
    cc_buf_release(&ix->tf);
}

cc_err pg__chunk_index(struct pg_conn *c, const char *title, const char *heading,
                       const char *body, struct pg_chunk_index *out)
{
    struct tokens t = {0};
    cc_buf_init(&t.text, INDEX_LIMIT);
    const char *cols[3] = {title, heading, body};
    cc_err err = CC_OK;
    for (int col = 0; !err && col < 3; col++) {
        t.col = col;
        err = tokenize(c, &t, cols[col], FTS5_TOKENIZE_DOCUMENT);
        t.pos++;                       /* a gap: phrases never span two fields */
    }
    if (err)
        goto out;
    tokens_fix(&t);
    qsort(t.v, t.n, sizeof(*t.v), token_cmp);
    out->ntok = t.ntok;
    err = cc_buf_addch(&out->tf, '{');
    bool first = true;
    for (size_t i = 0; !err && i < t.n;) {
        size_t j = i;
        int64_t counts[3] = {0, 0, 0};
        while (j < t.n && strcmp(t.v[j].lex, t.v[i].lex) == 0)
            counts[t.v[j++].col]++;
        if (!utf8_valid((const unsigned char *)t.v[i].lex, t.v[i].len)) {
            i = j;
            continue;
        }
        if (!first)
            err = cc_buf_addch(&out->tsv, ' ');
        if (!err)
            err = add_lexeme(&out->tsv, t.v[i].lex, t.v[i].len);
        unsigned npos = 0;
        for (size_t k = i; !err && k < j && npos < POS_PER_LEXEME; k++) {
            if (t.v[k].pos > POS_MAX)
                break;
            err = cc_buf_addf(&out->tsv, "%c%d%c", npos ? ',' : ':', t.v[k].pos,
                              "ABC"[t.v[k].col]);
            npos++;
        }
        if (!err && !first)
            err = cc_buf_addch(&out->tf, ',');
        if (!err)
            err = add_json_string(&out->tf, t.v[i].lex, t.v[i].len);
        if (!err)
            err = cc_buf_addf(&out->tf, ":[%lld,%lld,%lld]", (long long)counts[0],
                              (long long)counts[1], (long long)counts[2]);
        first = false;
        i = j;
    }
    if (!err)
        err = cc_buf_addch(&out->tf, '}');
out:
    tokens_release(&t);
    return err;
}

/* ---- search: the query ----------------------------------------------- */

/* The query, term by term (the SQLite backend's quoted terms, tokenized). */
struct query {
    struct cc_buf tsq;                 /* 'a' | 'b' <-> 'c' */
    struct cc_buf phrases;             /* one tsquery per phrase, NUL-separated */
    struct cc_buf lexemes;             /* text[] literal */
    struct cc_buf phrase_of;           /* int[] literal: the phrase of each lexeme */
    unsigned nphrases;
    unsigned nlex;                     /* lexemes over all phrases */
    unsigned first[QUERY_PHRASES_MAX]; /* per phrase: its first lexeme, its count */
    unsigned count[QUERY_PHRASES_MAX];
};

static void query_init(struct query *q)
{
    cc_buf_init(&q->tsq, 64 * 1024);
    cc_buf_init(&q->phrases, 64 * 1024);
    cc_buf_init(&q->lexemes, 64 * 1024);
    cc_buf_init(&q->phrase_of, 64 * 1024);
    q->nphrases = 0;
    q->nlex = 0;
}

static void query_release(struct query *q)
{
    cc_buf_release(&q->tsq);
    cc_buf_release(&q->phrases);
    cc_buf_release(&q->lexemes);
    cc_buf_release(&q->phrase_of);
}

static cc_err add_phrase(struct pg_conn *c, struct query *q, const char *term)
{
    struct tokens t = {0};
    struct cc_buf one;
    cc_buf_init(&t.text, 64 * 1024);
    cc_buf_init(&one, 64 * 1024);
    cc_err err = tokenize(c, &t, term, FTS5_TOKENIZE_QUERY);
    if (err)
        goto out;
    tokens_fix(&t);
    size_t kept = 0;
    for (size_t i = 0; i < t.n; i++)
        kept += utf8_valid((const unsigned char *)t.v[i].lex, t.v[i].len);
    if (kept == 0 || kept != t.n || q->nphrases == QUERY_PHRASES_MAX)
        goto out;                      /* matches nothing, as in FTS5 */
    q->first[q->nphrases] = q->nlex;
    q->count[q->nphrases] = (unsigned)t.n;
    q->nlex += (unsigned)t.n;
    q->nphrases++;
    for (size_t i = 0; !err && i < t.n; i++) {
        if (i)
            err = cc_buf_addstr(&one, " <-> ");
        if (!err)
            err = add_lexeme(&one, t.v[i].lex, t.v[i].len);
        if (!err)
            err = pg__arr_textn(&q->lexemes, t.v[i].lex, t.v[i].len);
        if (!err)
            err = cc_buf_addf(&q->phrase_of, "%c%u", q->phrase_of.len ? ',' : '{',
                              q->nphrases);
    }
    if (!err && q->tsq.len)
        err = cc_buf_addstr(&q->tsq, " | ");
    if (!err)
        err = cc_buf_addf(&q->tsq, "(%s)", cc_buf_str(&one));
    if (!err)
        err = cc_buf_add(&q->phrases, one.ptr, one.len + 1);   /* with its NUL */
out:
    tokens_release(&t);
    cc_buf_release(&one);
    return err;
}

/* Splits the FTS5 query ("a" OR "b") back into its terms. */
static cc_err query_build(struct pg_conn *c, const char *fts, struct query *q)
{
    struct cc_buf term;
    cc_buf_init(&term, STORE_FTS_QUERY_LIMIT);
    cc_err err = CC_OK;
    for (const char *p = fts; !err && *p;) {
        if (*p != '"') {
            p++;
            continue;
        }
        cc_buf_reset(&term);
        for (p++; !err && *p; p++) {
            if (*p == '"' && p[1] == '"') {
                err = cc_buf_addch(&term, '"');
                p++;
            } else if (*p == '"') {
                p++;
                break;
            } else {
                err = cc_buf_addch(&term, *p);
            }
        }
        if (!err)
            err = add_phrase(c, q, cc_buf_str(&term));
    }
    cc_buf_release(&term);
    if (!err && q->nphrases) {
        err = cc_buf_addch(&q->lexemes, '}');
        if (!err)
            err = cc_buf_addch(&q->phrase_of, '}');
    }
    return err;
}

/* ---- search: ranking ------------------------------------------------- */

static void row_window(const struct pg_row *r, void *ctx)
{
    store__window_add(ctx, pg__int(r, 0), pg__double(r, 1), (int)pg__int(r, 2), pg__int(r, 3));
}

struct totals {
    int64_t nrows, ntok;
};

static void row_totals(const struct pg_row *r, void *ctx)
{
    struct totals *t = ctx;
    t->nrows = pg__int(r, 0);
    t->ntok = pg__int(r, 1);
}

/* FTS5's IDF: ln((N - n + 0.5) / (n + 0.5)), at least 1e-6. */
static double idf_of(int64_t nrows, int64_t hits)
{
    double n = (double)hits;
    double idf = log(((double)nrows - n + 0.5) / (n + 0.5));
    return idf <= 0.0 ? 1e-6 : idf;
}

static void row_count(const struct pg_row *r, void *ctx)
{
    *(int64_t *)ctx = pg__int(r, 0);
}

/* The chunks holding each phrase (BM25's n(q)); with `only_phrases`, just
 * those of several tokens (a single lexeme's count comes with the
 * candidates). */
static cc_err docfreqs(struct pg_store *s, struct pg_conn *c, const struct query *qq,
                       bool only_phrases, int64_t *hits)
{
    const char *ph = qq->phrases.ptr;
    cc_err err = CC_OK;
    for (unsigned i = 0; !err && i < qq->nphrases; i++) {
        if (!only_phrases || qq->count[i] > 1)
            err = pg__query(s, c, PS_FTS_DOCFREQ, QPARAMS(QT(ph)), row_count, &hits[i], NULL);
        ph += strlen(ph) + 1;
    }
    return err;
}

/* More lexemes than the candidates query has columns (a query of many
 * multi-token terms): BM25 computed by PostgreSQL, term by term. */
static cc_err window_in_sql(struct pg_store *s, struct pg_conn *c, const struct store_search *q,
                            const struct query *qq, const struct totals *t,
                            struct store_window *w)
{
    int64_t hits[QUERY_PHRASES_MAX] = {0};
    struct cc_buf idf;
    cc_buf_init(&idf, 64 * 1024);
    /* the planner must see the tsquery to use the GIN index here */
    cc_err err = pg__exec_sql(s, c, "SET LOCAL plan_cache_mode = force_custom_plan", "search");
    if (!err)
        err = docfreqs(s, c, qq, false, hits);
    for (unsigned i = 0; !err && i < qq->nphrases; i++)
        err = cc_buf_addf(&idf, "%c%.17g", i ? ',' : '{', idf_of(t->nrows, hits[i]));
    if (!err)
        err = cc_buf_addch(&idf, '}');
    double avgdl = (double)t->ntok / (double)t->nrows;
    if (!err)
        err = pg__query(s, c, PS_SEARCH_WINDOW,
                        QPARAMS(QT(cc_buf_str(&qq->tsq)), QT(cc_buf_str(&qq->lexemes)),
                                QT(cc_buf_str(&qq->phrase_of)), QT(cc_buf_str(&idf)),
                                QD(avgdl), QI(q->source_id), QT(q->tag), QI(q->since_ms),
                                QT(q->version), QI(w->cap)),
                        row_window, w, NULL);
    cc_buf_release(&idf);
    return err;
}

/* Every chunk the query matches, with its token count, whether it passes
 * the filters and, per phrase, BM25's weighted frequency (4 x title + 2 x
 * heading + body occurrences; a phrase of several tokens: the per-field
 * minimum of its tokens'). */
struct cands {
    const struct query *q;
    int64_t *id;
    double *ntok;
    double *f;                         /* n x q->nphrases */
    bool *ok;
    size_t n, cap;
    int64_t hits[QUERY_PHRASES_MAX];   /* chunks holding each single-lexeme phrase */
    bool bad;                          /* a value that did not parse */
};

static void cands_release(struct cands *c)
{
    free(c->id);
    free(c->ntok);
    free(c->f);
    free(c->ok);
}

/* tf's per-field counts of one lexeme as PostgreSQL prints them: "[1, 0, 2]". */
static bool parse_counts(const char *p, double out[3])
{
    if (*p++ != '[')
        return false;
    for (int k = 0; k < 3; k++) {
        char *end = NULL;
        while (*p == ' ')
            p++;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v > UINT32_MAX)
            return false;
        out[k] = (double)v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p++ != (k == 2 ? ']' : ','))
            return false;
    }
    return true;
}

static void row_cand(const struct pg_row *r, void *ctx)
{
    struct cands *c = ctx;
    const struct query *q = c->q;
    double cnt[FAST_LEX_MAX][3] = {{0}};
    bool has[FAST_LEX_MAX] = {false};
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->id = cc_xrealloc(c->id, c->cap * sizeof(*c->id));
        c->ntok = cc_xrealloc(c->ntok, c->cap * sizeof(*c->ntok));
        c->ok = cc_xrealloc(c->ok, c->cap * sizeof(*c->ok));
        c->f = cc_xrealloc(c->f, c->cap * q->nphrases * sizeof(*c->f));
    }
    for (unsigned j = 0; j < q->nlex; j++) {
        const char *v = pg__text(r, 3 + (int)j);
        has[j] = v != NULL;
        if (v && !parse_counts(v, cnt[j]))
            c->bad = true;
    }
    size_t i = c->n++;
    const char *ok = pg__text(r, 2);
    c->id[i] = pg__int(r, 0);
    c->ntok[i] = (double)pg__int(r, 1);
    c->ok[i] = ok && *ok == 't';
    for (unsigned p = 0; p < q->nphrases; p++) {
        unsigned a = q->first[p];
        double m[3] = {cnt[a][0], cnt[a][1], cnt[a][2]};
        for (unsigned j = a + 1; j < a + q->count[p]; j++) {
            for (int k = 0; k < 3; k++)
                m[k] = cnt[j][k] < m[k] ? cnt[j][k] : m[k];
        }
        c->f[i * q->nphrases + p] = 4.0 * m[0] + 2.0 * m[1] + m[2];
        if (q->count[p] == 1 && has[a])
            c->hits[p]++;
    }
}

/* The window's order: relevance descending, then the older chunk. */
struct ranked {
    double rel;
    int64_t id;
};

static bool ranked_before(const struct ranked *x, const struct ranked *y)
{
    return x->rel > y->rel || (x->rel == y->rel && x->id < y->id);
}

/* A heap of the best `cap` rows so far, the weakest at the root. */
static void heap_sift(struct ranked *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && ranked_before(&h[m], &h[l]))
            m = l;
        if (r < n && ranked_before(&h[m], &h[r]))
            m = r;
        if (m == i)
            return;
        struct ranked t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int ranked_cmp(const void *a, const void *b)
{
    return ranked_before(a, b) ? -1 : ranked_before(b, a) ? 1 : 0;
}

/* FTS5's bm25() (fts5Bm25Function) for each candidate that passes the
 * filters, phrase by phrase with the same operations in the same order,
 * so the doubles are FTS5's; the best `cap` in window order into out. */
static size_t rank_cands(const struct cands *c, const double *idf, double avgdl,
                         struct ranked *out, size_t cap)
{
    const double k1 = 1.2, b = 0.75;
    unsigned nph = c->q->nphrases;
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->ok[i])
            continue;
        double score = 0.0, D = c->ntok[i];
        for (unsigned p = 0; p < nph; p++) {
            double f = c->f[i * nph + p];
            score += idf[p] * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * D / avgdl)));
        }
        struct ranked x = {.rel = score, .id = c->id[i]};
        if (n < cap) {
            out[n++] = x;
            if (n == cap) {
                for (size_t k = cap / 2 + 1; k-- > 0;)
                    heap_sift(out, n, k);
            }
        } else if (ranked_before(&x, &out[0])) {
            out[0] = x;
            heap_sift(out, n, 0);
        }
    }
    qsort(out, n, sizeof(*out), ranked_cmp);
    return n;
}

struct meta_ctx {
    const struct ranked *v;
    size_t n;
    int *priority;
    int64_t *published;
};

static void row_meta(const struct pg_row *r, void *ctx)
{
    struct meta_ctx *m = ctx;
    int64_t i = pg__int(r, 0) - 1;
    if (i >= 0 && (size_t)i < m->n) {
        m->priority[i] = (int)pg__int(r, 1);
        m->published[i] = pg__int(r, 2);
    }
}

/* The window's priorities and dates, then the window in its order. */
static cc_err window_fill(struct pg_store *s, struct pg_conn *c, const struct ranked *v,
                          size_t n, struct store_window *w)
{
    struct meta_ctx m = {.v = v, .n = n, .priority = cc_xcalloc(n + 1, sizeof(int)),
                         .published = cc_xcalloc(n + 1, sizeof(int64_t))};
    struct cc_buf ids;
    cc_buf_init(&ids, 64 * 1024);
    cc_err err = CC_OK;
    for (size_t i = 0; !err && i < n; i++)
        err = pg__arr_int(&ids, v[i].id);
    if (!err)
        err = pg__arr_end(&ids);
    if (!err)
        err = pg__query(s, c, PS_SEARCH_META, QPARAMS(QT(cc_buf_str(&ids))), row_meta, &m, NULL);
    for (size_t i = 0; !err && i < n; i++)
        store__window_add(w, v[i].id, v[i].rel, m.priority[i], m.published[i]);
    cc_buf_release(&ids);
    free(m.priority);
    free(m.published);
    return err;
}

/* The candidates with their frequencies in one query (the GIN index finds
 * them), BM25 and the window here. */
static cc_err window_here(struct pg_store *s, struct pg_conn *c, const struct store_search *q,
                          const struct query *qq, const struct totals *t,
                          struct store_window *w)
{
    struct cands cd = {.q = qq};
    bool filtered = q->source_id || q->tag || q->since_ms || q->version;
    cc_err err = filtered
        ? pg__query(s, c, PS_FTS_CANDIDATES_FILTERED,
                    QPARAMS(QT(cc_buf_str(&qq->tsq)), QT(cc_buf_str(&qq->lexemes)),
                            QI(q->source_id), QT(q->tag), QI(q->since_ms), QT(q->version)),
                    row_cand, &cd, NULL)
        : pg__query(s, c, PS_FTS_CANDIDATES,
                    QPARAMS(QT(cc_buf_str(&qq->tsq)), QT(cc_buf_str(&qq->lexemes))), row_cand,
                    &cd, NULL);
    if (!err && cd.bad)
        err = CC_EIO;                  /* tf is written by us only: a defect */
    if (!err && cd.n)
        err = docfreqs(s, c, qq, true, cd.hits);
    if (!err && cd.n) {
        double idf[QUERY_PHRASES_MAX];
        for (unsigned i = 0; i < qq->nphrases; i++)
            idf[i] = idf_of(t->nrows, cd.hits[i]);
        struct ranked *top = cc_xcalloc(w->cap, sizeof(*top));
        size_t n = rank_cands(&cd, idf, (double)t->ntok / (double)t->nrows, top, w->cap);
        err = window_fill(s, c, top, n, w);
        free(top);
    }
    cands_release(&cd);
    return err;
}

static cc_err lexical_window(struct pg_store *s, struct pg_conn *c, const struct store_search *q,
                             const struct query *qq, struct store_window *w)
{
    struct totals t = {0};
    cc_err err = pg__query(s, c, PS_FTS_TOTALS, NULL, row_totals, &t, NULL);
    if (err || t.nrows <= 0)
        return err;
    return qq->nlex <= FAST_LEX_MAX ? window_here(s, c, q, qq, &t, w)
                                    : window_in_sql(s, c, q, qq, &t, w);
}

/* FTS5's snippet of the body, cut from a one-row FTS5 table. */
static cc_err snippet_of(struct pg_store *s, struct pg_conn *c, const char *fts,
                         const char *title, const char *heading, const char *body,
                         struct cc_buf *html)
{
    int rc = sqlite3_step(c->snip_clear);
    sqlite3_reset(c->snip_clear);
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_bind_text(c->snip_insert, 1, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->snip_insert, 2, heading, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->snip_insert, 3, body, -1, SQLITE_STATIC);
    rc = sqlite3_step(c->snip_insert);
    sqlite3_reset(c->snip_insert);
    sqlite3_clear_bindings(c->snip_insert);
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_bind_text(c->snip_get, 1, fts, -1, SQLITE_STATIC);
    rc = sqlite3_step(c->snip_get);
    cc_err err = CC_OK;
    if (rc == SQLITE_ROW)
        err = store__snippet_html((const char *)sqlite3_column_text(c->snip_get, 0), html);
    else if (rc != SQLITE_DONE)
        err = CC_EIO;
    sqlite3_reset(c->snip_get);
    sqlite3_clear_bindings(c->snip_get);
    if (err == CC_EIO)
        goto fail;
    return err;
fail:
    cc_log_error(s->log, MOD, "snippet failed", CC_LS("error", sqlite3_errmsg(c->fts)));
    return CC_EIO;
}

struct hit_ctx {
    struct pg_store *s;
    struct pg_conn *c;
    const char *fts;
    const struct store_window *w;
    size_t next;                       /* the window row of the next hit */
    struct cc_buf *html;
    store_hit_cb cb;
    void *arg;
    cc_err err;
};

/* Rows come in the window's order (the ordinality of the ids). */
static void row_hit(const struct pg_row *r, void *ctx)
{
    struct hit_ctx *h = ctx;
    int64_t id = pg__int(r, 0);
    while (h->next < h->w->n && h->w->v[h->next].chunk_id != id)
        h->next++;                     /* a chunk deleted meanwhile cannot be: one snapshot */
    if (h->err || h->next == h->w->n)
        return;
    const struct store_window_row *w = &h->w->v[h->next++];
    cc_buf_reset(h->html);
    h->err = w->lexical ? snippet_of(h->s, h->c, h->fts, pg__text(r, 5), pg__text(r, 6),
                                     pg__text(r, 10), h->html)
                        : store__snippet_html(pg__text(r, 11), h->html);
    if (h->err)
        return;
    struct store_hit hit = {
        .doc_id = pg__int(r, 1),
        .chunk_id = id,
        .source_id = pg__int(r, 2),
        .source = pg__text(r, 3),
        .priority = (int)pg__int(r, 4),
        .title = pg__text(r, 5),
        .heading = pg__text(r, 6),
        .url = pg__text(r, 7),
        .version = pg__text(r, 8),
        .published_ms = pg__int(r, 9),
        .relevance = w->relevance,
        .score = w->score,
        .snippet_html = cc_buf_str(h->html),
    };
    h->cb(h->arg, &hit);
}

/* The top k of the window in one query, in their order. */
static cc_err emit_hits(struct pg_store *s, struct pg_conn *c, const char *fts,
                        const struct store_window *w, unsigned k, store_hit_cb cb, void *arg)
{
    struct cc_buf ids, html;
    cc_buf_init(&ids, 64 * 1024);
    cc_buf_init(&html, SNIPPET_LIMIT);
    cc_err err = CC_OK;
    for (size_t i = 0; !err && i < w->n && i < k; i++)
        err = pg__arr_int(&ids, w->v[i].chunk_id);
    struct hit_ctx h = {.s = s, .c = c, .fts = fts, .w = w, .html = &html, .cb = cb,
                        .arg = arg};
    if (!err && ids.len) {
        err = pg__arr_end(&ids);
        if (!err)
            err = pg__query(s, c, PS_SEARCH_HITS, QPARAMS(QT(cc_buf_str(&ids))), row_hit, &h,
                            NULL);
        if (!err)
            err = h.err;
    }
    cc_buf_release(&ids);
    cc_buf_release(&html);
    return err;
}

static cc_err search_run(struct pg_store *s, struct pg_conn *c, const struct store_search *q,
                         unsigned k, const char *fts, store_hit_cb cb, void *arg)
{
    struct store_window w;
    struct query qq;
    query_init(&qq);
    store__window_init(&w, k);
    cc_err err = query_build(c, fts, &qq);
    if (!err && qq.nphrases)
        err = lexical_window(s, c, q, &qq, &w);
    if (!err && q->vec) {
        struct store_vec_hit *vh = NULL;
        size_t nv = 0;
        err = pg__vector_scan(s, c, q->vec, q->dims, q->model, q, (unsigned)w.cap, &vh, &nv);
        if (!err)
            store__window_fuse(&w, vh, nv);
        free(vh);
    }
    if (!err)
        store__window_sort(&w);
    if (!err)
        err = emit_hits(s, c, fts, &w, k, cb, arg);
    query_release(&qq);
    store__window_release(&w);
    return err;
}

cc_err pg__search(struct store *st, const struct store_search *q, store_hit_cb cb, void *arg)
{
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *c = NULL;
    struct cc_buf fts;
    unsigned k = 0;
    cc_buf_init(&fts, STORE_FTS_QUERY_LIMIT);
    cc_err err = store__search_query(q, &k, &fts);
    if (err)
        goto out;
    err = pg__conn_get(s, &c);
    if (err)
        goto out;
    /* Generic plans: planned once per session. Each statement's plan does
     * not depend on the query's values (the candidates always come from
     * the GIN index; the others are key lookups), and a custom plan per
     * call re-read the tsvector column's statistics every time. */
    err = pg__exec_sql(s, c,
                       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
                       " SET LOCAL plan_cache_mode = force_generic_plan",
                       "begin");
    if (!err)
        err = search_run(s, c, q, k, cc_buf_str(&fts), cb, arg);
    if (!err)
        err = pg__commit(s, c);
    pg__conn_put(s, c);
out:
    cc_buf_release(&fts);
    return err;
}
