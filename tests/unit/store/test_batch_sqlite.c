/*
 * test_batch_sqlite.c - the batch ops of store.h (enqueue, claim, document
 * writes) on the SQLite backend, each scenario run twice: through the
 * backend's own ops and through store.c's generic fallback (the same store
 * with the batch pointers cleared, as a backend without them has). Also the
 * external-content full-text index: it stays exact through updates,
 * deletes and cascades, and migration 0004 converts a database written by
 * the old schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"
#include "store/store.h"

#include "store_fixture.h"

/* The same backend with the optional ops cleared: store.c's loops run
 * (still behind store.c's checks, which call s->backend). */
static struct store_ops generic_ops;

static int setup_generic(void **state)
{
    int rc = setup(state);
    struct fixture *f = *state;
    generic_ops = *f->s->backend;
    generic_ops.job_enqueue_batch = NULL;
    generic_ops.job_claim_batch = NULL;
    generic_ops.doc_write_batch = NULL;
    f->s->backend = &generic_ops;
    return rc;
}

static int teardown_any(void **state)
{
    return teardown(state);
}

#ifndef STORE_FIXTURE_PG
/* FTS5's own check of an external-content index against its content: a
 * row indexed with values that differ from the content fails it. */
static void assert_fts_exact(struct fixture *f)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, "INSERT INTO chunks_fts (chunks_fts, rank) VALUES "
                              "('integrity-check', 1)", NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("FTS integrity-check: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    sqlite3_close(db);
}

static int64_t matches(struct fixture *f, const char *term)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH '%s'",
             term);
    return raw_int(f, sql);
}
#else
/* PostgreSQL: BM25's corpus totals (fts_totals, kept by statement
 * triggers) must equal the chunks' own. */
static void assert_fts_exact(struct fixture *f)
{
    assert_int_equal(raw_int(f, "SELECT nrows FROM fts_totals"),
                     raw_int(f, "SELECT COUNT(*) FROM chunks"));
    assert_int_equal(raw_int(f, "SELECT ntok FROM fts_totals"),
                     raw_int(f, "SELECT COALESCE(SUM(ntok), 0) FROM chunks"));
}

/* Chunks with the word (each chunk carries its own index columns). */
static int64_t matches(struct fixture *f, const char *term)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM chunks WHERE text ~ '\\m%s\\M'"
             " AND tsv <> ''::tsvector", term);
    return raw_int(f, sql);
}
#endif

static struct store_job file_job(int64_t source_id, const char *key)
{
    static const char payload[] = "{\"x\":1}";
    return (struct store_job){.kind = "ingest.document", .source_id = source_id,
                              .dedup_key = key, .payload = payload,
                              .payload_len = sizeof(payload) - 1, .max_attempts = 3,
                              .next_run_ms = 0, .created_ms = 10, .updated_ms = 10};
}

struct claimed {
    size_t n;
    int64_t ids[64];
    char owner[64][32];
};

static void on_job(void *arg, const struct store_job *j)
{
    struct claimed *c = arg;
    assert_true(c->n < 64);
    assert_string_equal(j->state, "running");
    cc_strlcpy(c->owner[c->n], j->lease_owner, sizeof(c->owner[0]));
    c->ids[c->n++] = j->id;
}

static void job_state(struct fixture *f, int64_t id, char out[16])
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT CASE state WHEN 'queued' THEN 1 WHEN 'running' THEN 2"
             " WHEN 'succeeded' THEN 3 ELSE 4 END FROM jobs WHERE id = %lld", (long long)id);
    static const char *const names[] = {"?", "queued", "running", "succeeded", "other"};
    int64_t v = raw_int(f, sql);
    cc_strlcpy(out, names[v >= 1 && v <= 4 ? v : 0], 16);
}

/* ---- enqueue ---------------------------------------------------------- */

static void test_enqueue_batch_dedup_and_limit(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "files", 5);
    struct store_job jobs[8];
    char keys[8][16];
    for (int i = 0; i < 8; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i % 6 == 5 ? 0 : i);  /* 5 repeats k0 */
        jobs[i] = file_job(src, keys[i]);
    }
    int64_t ids[8] = {0};
    bool existing[8] = {0};
    size_t done = 99;
    /* limit 5: k0..k4 fit, k0 again is a dedup hit (not counted), k6 is refused */
    assert_int_equal(store_job_enqueue_batch(f->s, jobs, 8, 5, ids, existing, &done), CC_ELIMIT);
    assert_int_equal(done, 6);
    for (int i = 0; i < 5; i++)
        assert_false(existing[i]);
    assert_true(existing[5]);
    assert_int_equal(ids[5], ids[0]);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 5);

    /* no limit: the rest goes in; an unknown source stops the batch there */
    jobs[0] = file_job(src, "k6");
    jobs[1] = file_job(src, "k7");
    jobs[2] = file_job(src + 100, "k8");
    jobs[3] = file_job(src, "k9");
    assert_int_equal(store_job_enqueue_batch(f->s, jobs, 4, 0, ids, existing, &done),
                     CC_ENOTFOUND);
    assert_int_equal(done, 2);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 7);

    /* bad input is refused before anything runs */
    assert_int_equal(store_job_enqueue_batch(f->s, jobs, STORE_BATCH_MAX + 1, 0, NULL, NULL,
                                             &done), CC_EINVAL);
    assert_int_equal(store_job_enqueue_batch(f->s, jobs, 0, 0, NULL, NULL, &done), CC_OK);
    assert_int_equal(done, 0);
}

/* ---- claim ------------------------------------------------------------ */

static void test_claim_batch_in_order(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "files", 5);
    int64_t want[10];
    char key[16];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        struct store_job j = file_job(src, key);
        assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, &want[i], NULL), CC_OK);
    }
    struct claimed c = {0};
    assert_int_equal(store_job_claim_batch(f->s, "w/0", 1000, 30000, 4, on_job, &c), CC_OK);
    assert_int_equal(c.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(c.ids[i], want[i]);
        assert_string_equal(c.owner[i], "w/0");
    }
    assert_int_equal(store_job_claim_batch(f->s, "w/1", 1000, 30000, 64, on_job, &c), CC_OK);
    assert_int_equal(c.n, 10);
    for (size_t i = 4; i < 10; i++) {
        assert_int_equal(c.ids[i], want[i]);
        assert_string_equal(c.owner[i], "w/1");
    }
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs WHERE state = 'running'"
                                " AND lease_until_ms = 31000 AND attempts = 1"), 10);
    assert_int_equal(store_job_claim_batch(f->s, "w/0", 1000, 30000, 4, on_job, &c),
                     CC_ENOTFOUND);
    /* the leases of w/0 ran out: its four are taken again, oldest first */
    c.n = 0;
    assert_int_equal(store_job_claim_batch(f->s, "w/2", 40000, 30000, 64, on_job, &c), CC_OK);
    assert_int_equal(c.n, 10);
    assert_int_equal(c.ids[0], want[0]);
}

/* ---- document writes -------------------------------------------------- */

struct doc_buf {
    struct store_chunk chunks[2];
    struct store_doc doc;
    char hash[65];
    char ext[32];
};

static void make_doc(struct doc_buf *b, int64_t source_id, int n, const char *word,
                     unsigned seed)
{
    snprintf(b->ext, sizeof(b->ext), "doc-%d", n);
    b->chunks[0] = (struct store_chunk){.ord = 0, .heading = "Intro", .text = word};
    b->chunks[1] = (struct store_chunk){.ord = 1, .heading = NULL,
                                        .text = "common closing words"};
    b->doc = (struct store_doc){.source_id = source_id, .external_id = b->ext,
                                .title = "A title", .content_hash = hash_of(b->hash, seed),
                                .ingested_ms = 5, .chunks = b->chunks, .nchunks = 2};
}

static int64_t claim_one(struct fixture *f, int64_t src, const char *key, const char *owner)
{
    struct store_job j = file_job(src, key);
    int64_t id = 0;
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, &id, NULL), CC_OK);
    struct claimed c = {0};
    assert_int_equal(store_job_claim_batch(f->s, owner, 1000, 30000, 1, on_job, &c), CC_OK);
    assert_int_equal(c.ids[0], id);
    return id;
}

static void test_doc_write_batch_isolates_failures(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "files", 5);
    struct doc_buf d[5];
    int64_t job[6];
    char key[16];
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof(key), "j%d", i);
        job[i] = claim_one(f, src, key, i == 4 ? "someone-else" : "me");
    }
    make_doc(&d[0], src, 0, "alpha", 1);
    make_doc(&d[1], src + 50, 1, "bravo", 2);   /* its source does not exist */
    make_doc(&d[2], src, 2, "charlie", 3);
    make_doc(&d[3], src, 3, "delta", 4);
    d[3].doc.content_hash = "not a hash";     /* refused by validation */
    make_doc(&d[4], src, 4, "echo", 5);       /* its job is not ours */
    struct store_doc_write items[6] = {
        {.doc = &d[0].doc, .count = true, .job_id = job[0]},
        {.doc = &d[1].doc, .count = true, .job_id = job[1]},
        {.doc = &d[2].doc, .count = true, .job_id = job[2]},
        {.doc = &d[3].doc, .count = true, .job_id = job[3]},
        {.doc = &d[4].doc, .count = true, .job_id = job[4]},
        {.doc = NULL, .job_id = job[5]},       /* a job with nothing to write */
    };
    assert_int_equal(store_doc_write_batch(f->s, "me", 2000, items, 6), CC_OK);
    assert_int_equal(items[0].err, CC_OK);
    assert_int_equal(items[0].result, STORE_CREATED);
    assert_true(items[0].doc_id > 0);
    assert_int_equal(items[1].err, CC_ENOTFOUND);
    assert_int_equal(items[2].err, CC_OK);
    assert_int_equal(items[3].err, CC_EINVAL);
    assert_int_equal(items[4].err, CC_ESTATE);
    assert_int_equal(items[5].err, CC_OK);

    char st[16];
    const char *want[] = {"succeeded", "running", "succeeded", "running", "running",
                          "succeeded"};
    for (int i = 0; i < 6; i++) {
        job_state(f, job[i], st);
        assert_string_equal(st, want[i]);
    }
    /* The documents of items 0 and 2, each counted once. The backend's op
     * writes an item whose lease was lost not at all; the generic loop
     * finds that out only at the job step, after the (idempotent) upsert. */
    bool generic = f->s->backend == &generic_ops;
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM documents"), generic ? 3 : 2);
    assert_int_equal(raw_int(f, "SELECT ingested_total FROM sources"), generic ? 3 : 2);
    assert_int_equal(matches(f, "alpha"), 1);
    assert_int_equal(matches(f, "charlie"), 1);
    assert_int_equal(matches(f, "bravo"), 0);
    assert_int_equal(matches(f, "echo"), generic ? 1 : 0);
    assert_int_equal(matches(f, "closing"), generic ? 3 : 2);
    assert_fts_exact(f);

    /* the same document again: unchanged, not counted */
    int64_t again = claim_one(f, src, "j-again", "me");
    struct store_doc_write one = {.doc = &d[0].doc, .count = true, .job_id = again};
    assert_int_equal(store_doc_write_batch(f->s, "me", 3000, &one, 1), CC_OK);
    assert_int_equal(one.err, CC_OK);
    assert_int_equal(one.result, STORE_UNCHANGED);
    assert_int_equal(one.doc_id, items[0].doc_id);
    assert_int_equal(raw_int(f, "SELECT ingested_total FROM sources"), generic ? 3 : 2);
}

/* Counts are added per source once per batch; more sources than the
 * backend keeps pending are counted one by one. Every one must be right. */
static void test_doc_write_batch_counts_many_sources(void **state)
{
    struct fixture *f = *state;
    enum { NSRC = 11, PER = 3 };
    int64_t src[NSRC];
    char name[16], key[24];
    for (int i = 0; i < NSRC; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        src[i] = add_source(f, name, 5);
    }
    static struct doc_buf d[NSRC * PER];
    struct store_doc_write items[NSRC * PER];
    for (int i = 0; i < NSRC * PER; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        int64_t job = claim_one(f, src[i % NSRC], key, "me");
        make_doc(&d[i], src[i % NSRC], i, "kiwi", (unsigned)i + 1);
        items[i] = (struct store_doc_write){.doc = &d[i].doc, .count = i % 2 == 0,
                                            .job_id = job};
    }
    assert_int_equal(store_doc_write_batch(f->s, "me", 2000, items, NSRC * PER), CC_OK);
    for (int i = 0; i < NSRC * PER; i++)
        assert_int_equal(items[i].err, CC_OK);
    for (int s = 0; s < NSRC; s++) {
        int64_t want = 0;
        for (int i = s; i < NSRC * PER; i += NSRC)
            want += i % 2 == 0;
        char sql[96];
        snprintf(sql, sizeof(sql), "SELECT ingested_total FROM sources WHERE id = %lld",
                 (long long)src[s]);
        assert_int_equal(raw_int(f, sql), want);
    }
    assert_int_equal(matches(f, "kiwi"), NSRC * PER);
    assert_fts_exact(f);
}

#ifdef STORE_FIXTURE_PG
/* Text PostgreSQL refuses (not UTF-8) fails the batch's COPY; the batch
 * is then written item by item, so only that item fails (CC_EINVAL, its
 * job still running) and the others are written with their jobs done. */
static void test_doc_write_batch_refused_text_fails_alone(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "files", 5);
    struct doc_buf d[3];
    int64_t job[3];
    char key[16];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "u%d", i);
        job[i] = claim_one(f, src, key, "me");
    }
    make_doc(&d[0], src, 0, "alpha", 1);
    make_doc(&d[1], src, 1, "bad \xff\xfe text", 2);
    make_doc(&d[2], src, 2, "charlie", 3);
    struct store_doc_write items[3];
    for (int i = 0; i < 3; i++)
        items[i] = (struct store_doc_write){.doc = &d[i].doc, .count = true, .job_id = job[i]};
    assert_int_equal(store_doc_write_batch(f->s, "me", 2000, items, 3), CC_OK);
    assert_int_equal(items[0].err, CC_OK);
    assert_int_equal(items[0].result, STORE_CREATED);
    assert_int_equal(items[1].err, CC_EINVAL);
    assert_int_equal(items[1].doc_id, 0);
    assert_int_equal(items[2].err, CC_OK);
    char st[16];
    const char *want[] = {"succeeded", "running", "succeeded"};
    for (int i = 0; i < 3; i++) {
        job_state(f, job[i], st);
        assert_string_equal(st, want[i]);
    }
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM documents"), 2);
    assert_int_equal(raw_int(f, "SELECT ingested_total FROM sources"), 2);
    assert_fts_exact(f);
}
#endif

#ifndef STORE_FIXTURE_PG
/* ---- the external-content index --------------------------------------- */

static void test_fts_exact_through_update_delete_cascade(void **state)
{
    struct fixture *f = *state;
    int64_t a = add_source(f, "a", 5);
    int64_t b = add_source(f, "b", 5);
    struct doc_spec one = {.title = "Original heading", .heading = "H", .body = "zebra quartz"};
    int64_t id1 = put_doc_ok(f, a, "one", &one);
    struct doc_spec two = {.title = "Second", .body = "zebra lantern", .hash_seed = 2};
    put_doc_ok(f, a, "two", &two);
    struct doc_spec three = {.title = "Third", .body = "zebra marble", .hash_seed = 3};
    put_doc_ok(f, b, "three", &three);
    assert_fts_exact(f);
    assert_int_equal(matches(f, "zebra"), 3);

    /* an update replaces title and text: the old terms leave the index */
    struct doc_spec one2 = {.title = "Renamed", .body = "walrus quartz", .hash_seed = 9};
    enum store_upsert r;
    int64_t id = 0;
    assert_int_equal(put_doc(f, a, "one", &one2, &r, &id), CC_OK);
    assert_int_equal(r, STORE_UPDATED);
    assert_int_equal(id, id1);
    assert_fts_exact(f);
    assert_int_equal(matches(f, "zebra"), 2);
    assert_int_equal(matches(f, "original"), 0);
    assert_int_equal(matches(f, "renamed"), 1);
    struct hits *hs = search_ok(f, "walrus", 5);
    assert_int_equal(hs->n, 1);
    assert_string_equal(hs->v[0].title, "Renamed");
    assert_non_null(strstr(hs->v[0].snippet, "<mark>walrus</mark>"));

    /* a document delete, then a source delete through the cascade */
    assert_int_equal(f->s->ops->doc_delete_external(f->s, a, "two"), CC_OK);
    assert_fts_exact(f);
    assert_int_equal(matches(f, "lantern"), 0);
    assert_int_equal(f->s->ops->source_delete(f->s, b), CC_OK);
    assert_fts_exact(f);
    assert_int_equal(matches(f, "zebra"), 0);
    assert_int_equal(matches(f, "walrus"), 1);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM chunks"), 1);
}

/* ---- migration 0004 on a database of the old schema -------------------- */

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static void test_migration_0004_rebuilds_the_index(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    f->s = NULL;
    char p[160];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    /* the schema as an older binary left it: migrations 1-3, their triggers
     * indexing the chunks into an FTS5 table with its own copy */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA journal_mode = WAL; CREATE TABLE schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    int applied = 0;
    for (const struct cc_embedded *m = sqlite_migrations; m->name; m++) {
        if (strncmp(m->name, "0004", 4) >= 0)
            break;
        exec_ok(db, (const char *)m->data);
        char sql[160];
        snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES (%d, '%s', 0)",
                 ++applied, m->name);
        exec_ok(db, sql);
    }
    assert_int_equal(applied, 3);
    exec_ok(db, "INSERT INTO sources (id, name, type, created_ms, updated_ms)"
                " VALUES (1, 'old', 'manual', 0, 0);"
                "INSERT INTO documents (id, source_id, external_id, title, content_hash)"
                " VALUES (1, 1, 'x', 'Legacy title', printf('%064d', 1));"
                "INSERT INTO chunks (document_id, ord, heading, text) VALUES"
                " (1, 0, 'Start', 'penguin glacier'), (1, 1, NULL, 'penguin iceberg');");
    sqlite3_close(db);

    struct store_cfg cfg = fixture_cfg(f, 5000);
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
    struct store_info info;
    assert_int_equal(f->s->ops->info(f->s, &info), CC_OK);
    assert_true(info.schema_version >= 4);
    assert_fts_exact(f);
    assert_int_equal(matches(f, "penguin"), 2);
    assert_int_equal(matches(f, "legacy"), 2);
    struct hits *hs = search_ok(f, "glacier", 5);
    assert_int_equal(hs->n, 1);
    assert_string_equal(hs->v[0].title, "Legacy title");
    assert_non_null(strstr(hs->v[0].snippet, "<mark>glacier</mark>"));
    /* the converted rows delete cleanly */
    assert_int_equal(f->s->ops->doc_delete(f->s, 1), CC_OK);
    assert_fts_exact(f);
    assert_int_equal(matches(f, "penguin"), 0);
}

#endif

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown_any)
#define G(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup_generic, teardown_any, NULL)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_enqueue_batch_dedup_and_limit),
        G(test_enqueue_batch_dedup_and_limit),
        T(test_claim_batch_in_order),
        G(test_claim_batch_in_order),
        T(test_doc_write_batch_isolates_failures),
        G(test_doc_write_batch_isolates_failures),
        T(test_doc_write_batch_counts_many_sources),
        G(test_doc_write_batch_counts_many_sources),
#ifdef STORE_FIXTURE_PG
        T(test_doc_write_batch_refused_text_fails_alone),
#else
        T(test_fts_exact_through_update_delete_cascade),
        T(test_migration_0004_rebuilds_the_index),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
