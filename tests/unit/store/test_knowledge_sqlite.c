/*
 * test_knowledge_sqlite.c - sources, documents, chunks and search of the
 * SQLite store, through the public interface (plus the two query/snippet
 * helpers store_int.h declares). Each test gets a fresh mkdtemp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "store/store.h"

#include "store_fixture.h"

/* ---- sources --------------------------------------------------------- */

struct source_copy {
    int n;
    int64_t id;
    char name[72];
    char type[16];
    char url[64];
    int priority;
    bool enabled;
    int64_t updated_ms, next_run_ms, last_run_ms, runs_total, ingested_total, failed_total;
    int failures;
    char last_status[16];
    char last_error[64];
    bool last_error_null;
    int64_t docs;
    char names[8][72];
};

static void copy_source(void *arg, const struct store_source *src)
{
    struct source_copy *c = arg;
    if (c->n < 8)
        cc_strlcpy(c->names[c->n], src->name, sizeof(c->names[0]));
    c->n++;
    c->id = src->id;
    cc_strlcpy(c->name, src->name, sizeof(c->name));
    cc_strlcpy(c->type, src->type, sizeof(c->type));
    cc_strlcpy(c->url, src->url ? src->url : "", sizeof(c->url));
    c->priority = src->priority;
    c->enabled = src->enabled;
    c->updated_ms = src->updated_ms;
    c->next_run_ms = src->next_run_ms;
    c->last_run_ms = src->last_run_ms;
    c->runs_total = src->runs_total;
    c->ingested_total = src->ingested_total;
    c->failed_total = src->failed_total;
    c->failures = src->failures;
    cc_strlcpy(c->last_status, src->last_status ? src->last_status : "",
               sizeof(c->last_status));
    c->last_error_null = src->last_error == NULL;
    cc_strlcpy(c->last_error, src->last_error ? src->last_error : "", sizeof(c->last_error));
    c->docs = src->docs;
}

static struct source_copy get_source(struct fixture *f, int64_t id)
{
    struct source_copy c = {0};
    assert_int_equal(f->s->ops->source_get(f->s, id, copy_source, &c), CC_OK);
    assert_int_equal(c.n, 1);
    return c;
}

static void test_source_crud(void **state)
{
    struct fixture *f = *state;
    struct store_source src = {.name = "go-blog", .type = "rss",
                               .url = "https://go.dev/blog/feed.atom", .schedule = "@hourly",
                               .priority = 7, .enabled = true, .created_ms = 10,
                               .updated_ms = 10};
    int64_t id = 0;
    assert_int_equal(f->s->ops->source_insert(f->s, &src, &id), CC_OK);
    int64_t other = add_source(f, "a.notes_1", 5);

    struct source_copy c = get_source(f, id);
    assert_string_equal(c.name, "go-blog");
    assert_string_equal(c.type, "rss");
    assert_string_equal(c.url, "https://go.dev/blog/feed.atom");
    assert_int_equal(c.priority, 7);
    assert_true(c.enabled);
    assert_int_equal(c.docs, 0);
    assert_int_equal(c.last_run_ms, 0);
    assert_true(c.last_error_null);

    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->source_get_by_name(f->s, "go-blog", copy_source, &c), CC_OK);
    assert_int_equal(c.id, id);

    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->source_list(f->s, copy_source, &c), CC_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.names[0], "a.notes_1");    /* by name */
    assert_string_equal(c.names[1], "go-blog");

    /* A recorded run survives a configuration update. */
    struct store_source_run run = {.source_id = id, .ran_ms = 50, .ok = true,
                                   .next_run_ms = 3600050, .ingested = 4};
    assert_int_equal(f->s->ops->source_record_run(f->s, &run), CC_OK);
    src.id = id;
    src.priority = 9;
    src.enabled = false;
    src.url = "https://go.dev/blog/feed2.atom";
    src.updated_ms = 99;
    assert_int_equal(f->s->ops->source_update(f->s, &src), CC_OK);
    c = get_source(f, id);
    assert_int_equal(c.priority, 9);
    assert_false(c.enabled);
    assert_string_equal(c.url, "https://go.dev/blog/feed2.atom");
    assert_int_equal(c.updated_ms, 99);
    assert_int_equal(c.runs_total, 1);
    assert_int_equal(c.ingested_total, 4);
    assert_int_equal(c.next_run_ms, 3600050);

    /* docs is the live count. */
    struct doc_spec spec = {.title = "t", .body = "b"};
    put_doc_ok(f, other, "x1", &spec);
    put_doc_ok(f, other, "x2", &spec);
    assert_int_equal(get_source(f, other).docs, 2);
    assert_int_equal(get_source(f, id).docs, 0);
}

static void test_source_validation(void **state)
{
    struct fixture *f = *state;
    char long_name[STORE_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    const char *bad_names[] = {"", "has space", "slash/no", "caf\xc3\xa9", long_name, NULL};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        struct store_source src = {.name = bad_names[i], .type = "manual", .priority = 5};
        assert_int_equal(f->s->ops->source_insert(f->s, &src, NULL), CC_EINVAL);
    }
    long_name[STORE_NAME_MAX] = '\0';                 /* exactly 64 is fine */
    struct store_source ok = {.name = long_name, .type = "docs", .priority = 1};
    assert_int_equal(f->s->ops->source_insert(f->s, &ok, NULL), CC_OK);

    struct store_source bad = {.name = "x", .type = "ftp", .priority = 5};
    assert_int_equal(f->s->ops->source_insert(f->s, &bad, NULL), CC_EINVAL);
    bad.type = "rss";
    bad.priority = 0;
    assert_int_equal(f->s->ops->source_insert(f->s, &bad, NULL), CC_EINVAL);
    bad.priority = 11;
    assert_int_equal(f->s->ops->source_insert(f->s, &bad, NULL), CC_EINVAL);
    assert_int_equal(f->s->ops->source_insert(f->s, NULL, NULL), CC_EINVAL);

    /* Duplicate names, on insert and on rename. */
    int64_t a = add_source(f, "alpha", 5);
    add_source(f, "beta", 5);
    struct store_source dup = {.name = "alpha", .type = "manual", .priority = 5};
    int64_t untouched = -7;
    assert_int_equal(f->s->ops->source_insert(f->s, &dup, &untouched), CC_ECONFLICT);
    assert_int_equal(untouched, -7);
    dup.id = a;
    dup.name = "beta";
    assert_int_equal(f->s->ops->source_update(f->s, &dup), CC_ECONFLICT);

    /* Missing ids. */
    struct source_copy c = {0};
    assert_int_equal(f->s->ops->source_get(f->s, 999, copy_source, &c), CC_ENOTFOUND);
    assert_int_equal(f->s->ops->source_get_by_name(f->s, "nope", copy_source, &c),
                     CC_ENOTFOUND);
    assert_int_equal(c.n, 0);
    dup.id = 999;
    dup.name = "gamma";
    assert_int_equal(f->s->ops->source_update(f->s, &dup), CC_ENOTFOUND);
    assert_int_equal(f->s->ops->source_delete(f->s, 999), CC_ENOTFOUND);
    assert_int_equal(f->s->ops->source_schedule(f->s, 999, 5), CC_ENOTFOUND);
    struct store_source_run run = {.source_id = 999, .ok = true};
    assert_int_equal(f->s->ops->source_record_run(f->s, &run), CC_ENOTFOUND);
}

static void test_source_run_state_and_due(void **state)
{
    struct fixture *f = *state;
    int64_t id = add_source(f, "feed", 5);
    struct store_source_run run = {.source_id = id, .ran_ms = 100, .ok = false,
                                   .error = "HTTP 503", .next_run_ms = 200, .failed = 2};
    assert_int_equal(f->s->ops->source_record_run(f->s, &run), CC_OK);
    run.ran_ms = 200;
    run.error = "timeout";
    assert_int_equal(f->s->ops->source_record_run(f->s, &run), CC_OK);
    struct source_copy c = get_source(f, id);
    assert_int_equal(c.failures, 2);
    assert_string_equal(c.last_status, "failed");
    assert_string_equal(c.last_error, "timeout");
    assert_int_equal(c.failed_total, 4);
    assert_int_equal(c.runs_total, 2);
    assert_int_equal(c.last_run_ms, 200);

    run = (struct store_source_run){.source_id = id, .ran_ms = 300, .ok = true,
                                    .next_run_ms = 400, .ingested = 7};
    assert_int_equal(f->s->ops->source_record_run(f->s, &run), CC_OK);
    c = get_source(f, id);
    assert_int_equal(c.failures, 0);
    assert_string_equal(c.last_status, "ok");
    assert_true(c.last_error_null);
    assert_int_equal(c.ingested_total, 7);
    assert_int_equal(c.failed_total, 4);
    assert_int_equal(c.runs_total, 3);
    assert_int_equal(c.next_run_ms, 400);

    /* due: enabled, 0 < next_run <= now, soonest first. */
    int64_t b = add_source(f, "b", 5);
    int64_t paused = add_source(f, "paused", 5);
    add_source(f, "never", 5);                       /* next_run 0: not scheduled */
    assert_int_equal(f->s->ops->source_schedule(f->s, b, 150), CC_OK);
    assert_int_equal(f->s->ops->source_schedule(f->s, paused, 100), CC_OK);
    struct store_source p = {.id = paused, .name = "paused", .type = "manual",
                             .priority = 5, .enabled = false};
    assert_int_equal(f->s->ops->source_update(f->s, &p), CC_OK);
    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->source_due(f->s, 399, copy_source, &c), CC_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.names[0], "b");
    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->source_due(f->s, 400, copy_source, &c), CC_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.names[0], "b");
    assert_string_equal(c.names[1], "feed");
    assert_int_equal(f->s->ops->source_schedule(f->s, id, -1), CC_EINVAL);

    /* next_run_ms -1 records a run but keeps the schedule. */
    run = (struct store_source_run){.source_id = id, .ran_ms = 500, .ok = true,
                                    .next_run_ms = -1};
    assert_int_equal(f->s->ops->source_record_run(f->s, &run), CC_OK);
    c = get_source(f, id);
    assert_int_equal(c.next_run_ms, 400);
    assert_int_equal(c.last_run_ms, 500);
    run.next_run_ms = -2;
    assert_int_equal(f->s->ops->source_record_run(f->s, &run), CC_EINVAL);

    /* Counters alone, as the document jobs of a run add them. */
    assert_int_equal(f->s->ops->source_add_counts(f->s, id, 3, 1), CC_OK);
    c = get_source(f, id);
    assert_int_equal(c.ingested_total, 10);
    assert_int_equal(c.failed_total, 5);
    assert_int_equal(c.runs_total, 4);
    assert_int_equal(f->s->ops->source_add_counts(f->s, id, -1, 0), CC_EINVAL);
}

static void test_source_delete_cascades(void **state)
{
    struct fixture *f = *state;
    int64_t gone = add_source(f, "gone", 5);
    int64_t kept = add_source(f, "kept", 5);
    struct doc_spec spec = {.title = "Kubernetes", .body = "pods and services",
                            .tags_json = "[\"k8s\",\"ops\"]"};
    put_doc_ok(f, gone, "a", &spec);
    put_doc_ok(f, gone, "b", &spec);
    put_doc_ok(f, kept, "c", &spec);
    struct store_job j = {.kind = "source.run", .source_id = gone, .max_attempts = 3};
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, NULL, NULL), CC_OK);
    j.source_id = kept;
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, NULL, NULL), CC_OK);
    assert_int_equal(raw_int(f, FTS_ROWS_SQL), 3);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM doc_tags"), 6);

    assert_int_equal(f->s->ops->source_delete(f->s, gone), CC_OK);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM documents"), 1);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM chunks"), 1);
    assert_int_equal(raw_int(f, FTS_ROWS_SQL), 1);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM doc_tags"), 2);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 1);
    struct hits *hs = search_ok(f, "pods", 10);
    assert_int_equal(hs->n, 1);
    assert_int_equal(hs->v[0].source_id, kept);
}

/* ---- documents ------------------------------------------------------- */

struct doc_copy {
    int n;
    int64_t id, source_id, published_ms, ingested_ms;
    char external_id[64], title[64], hash[65], tags[64], version[16];
    size_t nchunks;
    int ords[8];
    char texts[8][64];
    char headings[8][64];
};

static void copy_doc(void *arg, const struct store_doc *d)
{
    struct doc_copy *c = arg;
    c->n++;
    c->id = d->id;
    c->source_id = d->source_id;
    c->published_ms = d->published_ms;
    c->ingested_ms = d->ingested_ms;
    cc_strlcpy(c->external_id, d->external_id, sizeof(c->external_id));
    cc_strlcpy(c->title, d->title, sizeof(c->title));
    cc_strlcpy(c->hash, d->content_hash, sizeof(c->hash));
    cc_strlcpy(c->tags, d->tags_json ? d->tags_json : "", sizeof(c->tags));
    cc_strlcpy(c->version, d->version ? d->version : "", sizeof(c->version));
    c->nchunks = d->nchunks;
    for (size_t i = 0; i < d->nchunks && i < 8; i++) {
        c->ords[i] = d->chunks[i].ord;
        cc_strlcpy(c->texts[i], d->chunks[i].text, sizeof(c->texts[0]));
        cc_strlcpy(c->headings[i], d->chunks[i].heading ? d->chunks[i].heading : "",
                   sizeof(c->headings[0]));
        assert_true(d->chunks[i].id > 0);
    }
}

static struct doc_copy get_doc(struct fixture *f, int64_t id)
{
    struct doc_copy c = {0};
    assert_int_equal(f->s->ops->doc_get(f->s, id, copy_doc, &c), CC_OK);
    assert_int_equal(c.n, 1);
    return c;
}

static void test_doc_upsert_created_updated_unchanged(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "notes", 5);
    add_filler(f, src, 3);
    char hash[65];
    struct store_chunk v1[] = {{.ord = 0, .heading = "Intro", .text = "alpha bravo"},
                               {.ord = 1, .heading = "More", .text = "charlie delta"}};
    struct store_doc d = {.source_id = src, .external_id = "doc-1", .title = "First",
                          .tags_json = "[\"one\"]", .content_hash = hash_of(hash, 11),
                          .ingested_ms = 100, .chunks = v1, .nchunks = 2};
    enum store_upsert r = STORE_UNCHANGED;
    int64_t id = 0;
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_OK);
    assert_int_equal(r, STORE_CREATED);
    assert_true(id > 0);

    /* Same hash: nothing is written, even if other fields differ. */
    d.title = "Changed title";
    d.ingested_ms = 200;
    int64_t id2 = 0;
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id2), CC_OK);
    assert_int_equal(r, STORE_UNCHANGED);
    assert_int_equal(id2, id);
    struct doc_copy c = get_doc(f, id);
    assert_string_equal(c.title, "First");
    assert_int_equal(c.ingested_ms, 100);

    /* New hash: same id, chunks and tags replaced, the index follows. */
    struct store_chunk v2[] = {{.ord = 0, .heading = "Only", .text = "echo foxtrot"}};
    d.chunks = v2;
    d.nchunks = 1;
    d.content_hash = hash_of(hash, 12);
    d.tags_json = "[\"two\"]";
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id2), CC_OK);
    assert_int_equal(r, STORE_UPDATED);
    assert_int_equal(id2, id);
    c = get_doc(f, id);
    assert_string_equal(c.title, "Changed title");
    assert_int_equal(c.ingested_ms, 200);
    assert_int_equal(c.nchunks, 1);
    assert_string_equal(c.texts[0], "echo foxtrot");
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM chunks"), 1 + 3);
    assert_int_equal(raw_int(f, FTS_ROWS_SQL), 1 + 3);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM doc_tags WHERE tag = 'one'"), 0);
    assert_int_equal(search_ok(f, "alpha charlie", 10)->n, 0);
    struct hits *hs = search_ok(f, "foxtrot", 10);
    assert_int_equal(hs->n, 1);
    assert_string_equal(hs->v[0].title, "Changed title");   /* title re-indexed */

    /* The stored hash, and a hash given in upper case is the same hash. */
    char stored[65] = {0};
    assert_int_equal(f->s->ops->doc_hash(f->s, src, "doc-1", stored), CC_OK);
    assert_string_equal(stored, hash_of(hash, 12));
    char upper[65];
    snprintf(upper, sizeof(upper), "%064X", 12u);
    d.content_hash = upper;
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, NULL), CC_OK);
    assert_int_equal(r, STORE_UNCHANGED);
    assert_int_equal(f->s->ops->doc_hash(f->s, src, "nope", stored), CC_ENOTFOUND);
}

static void test_doc_validation(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "notes", 5);
    char hash[65];
    struct store_chunk ch = {.ord = 0, .text = "text"};
    struct store_doc good = {.source_id = src, .external_id = "e", .title = "T",
                             .content_hash = hash_of(hash, 1), .chunks = &ch, .nchunks = 1};
    enum store_upsert r = STORE_CREATED;
    int64_t id = -5;
    struct store_doc d = good;
    d.external_id = "";
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_EINVAL);
    d.external_id = NULL;
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_EINVAL);
    d = good;
    d.content_hash = "abc";
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_EINVAL);
    char nonhex[65];
    memset(nonhex, 'g', 64);
    nonhex[64] = '\0';
    d.content_hash = nonhex;
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_EINVAL);
    d = good;
    d.tags_json = "{\"not\":\"an array\"}";
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_EINVAL);
    d.tags_json = "[\"ok\", 3]";
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_EINVAL);
    d = good;
    d.metadata_json = "[1]";
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_EINVAL);
    d = good;
    struct store_chunk bad_chunk = {.ord = 0, .text = NULL};
    d.chunks = &bad_chunk;
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_EINVAL);
    d = good;
    d.source_id = 999;
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, &r, &id), CC_ENOTFOUND);
    assert_int_equal(r, STORE_CREATED);                   /* untouched on error */
    assert_int_equal(id, -5);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM documents"), 0);
    assert_int_equal(f->s->ops->doc_upsert(f->s, &good, &r, &id), CC_OK);
}

static void test_doc_get_chunks_in_order(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "docs", 5);
    char hash[65];
    struct store_chunk chunks[] = {
        {.ord = 2, .heading = "Install \xe2\x80\xba From source", .text = "third"},
        {.ord = 0, .heading = NULL, .text = "first"},
        {.ord = 1, .heading = "Install", .text = "second"},
    };
    struct store_doc d = {.source_id = src, .external_id = "https://x.test/install",
                          .title = "Install", .version = "v1.2", .published_ms = 77,
                          .tags_json = "[\"setup\"]", .content_hash = hash_of(hash, 3),
                          .chunks = chunks, .nchunks = 3};
    int64_t id = 0;
    assert_int_equal(f->s->ops->doc_upsert(f->s, &d, NULL, &id), CC_OK);
    struct doc_copy c = get_doc(f, id);
    assert_int_equal(c.source_id, src);
    assert_string_equal(c.external_id, "https://x.test/install");
    assert_string_equal(c.version, "v1.2");
    assert_string_equal(c.tags, "[\"setup\"]");
    assert_int_equal(c.published_ms, 77);
    assert_int_equal(c.nchunks, 3);
    assert_int_equal(c.ords[0], 0);
    assert_int_equal(c.ords[1], 1);
    assert_int_equal(c.ords[2], 2);
    assert_string_equal(c.texts[0], "first");
    assert_string_equal(c.texts[2], "third");
    assert_string_equal(c.headings[0], "");
    assert_string_equal(c.headings[2], "Install \xe2\x80\xba From source");

    struct doc_copy none = {0};
    assert_int_equal(f->s->ops->doc_get(f->s, id + 100, copy_doc, &none), CC_ENOTFOUND);
    assert_int_equal(none.n, 0);
}

struct listed {
    int n;
    int64_t ids[8];
    char ext[8][32];
};

static void list_doc(void *arg, const struct store_doc *d)
{
    struct listed *l = arg;
    if (l->n < 8) {
        l->ids[l->n] = d->id;
        snprintf(l->ext[l->n], sizeof(l->ext[0]), "%s", d->external_id);
    }
    l->n++;
}

static void test_doc_list_pages_one_source(void **state)
{
    struct fixture *f = *state;
    int64_t a = add_source(f, "a", 5), b = add_source(f, "b", 5);
    struct doc_spec spec = {.title = "T", .body = "text"};
    int64_t a1 = put_doc_ok(f, a, "one.md", &spec), a2 = put_doc_ok(f, a, "two.md", &spec);
    put_doc_ok(f, b, "other.md", &spec);
    int64_t a3 = put_doc_ok(f, a, "sub/three.md", &spec);
    struct listed l = {0};
    assert_int_equal(f->s->ops->doc_list(f->s, a, 0, 2, list_doc, &l), CC_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ids[0], a1);
    assert_int_equal(l.ids[1], a2);
    assert_string_equal(l.ext[0], "one.md");
    memset(&l, 0, sizeof(l));
    assert_int_equal(f->s->ops->doc_list(f->s, a, a2, 100, list_doc, &l), CC_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], a3);
    assert_string_equal(l.ext[0], "sub/three.md");
    memset(&l, 0, sizeof(l));
    assert_int_equal(f->s->ops->doc_list(f->s, a, a3, 100, list_doc, &l), CC_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(f->s->ops->doc_list(f->s, a, 0, 10, NULL, &l), CC_EINVAL);
}

static void test_doc_delete(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "docs", 5);
    struct doc_spec spec = {.title = "Zebra", .body = "striped animals",
                            .tags_json = "[\"zoo\"]"};
    int64_t a = put_doc_ok(f, src, "a", &spec);
    put_doc_ok(f, src, "b", &spec);
    assert_int_equal(f->s->ops->doc_delete(f->s, a), CC_OK);
    assert_int_equal(f->s->ops->doc_delete(f->s, a), CC_ENOTFOUND);
    assert_int_equal(f->s->ops->doc_delete_external(f->s, src, "b"), CC_OK);
    assert_int_equal(f->s->ops->doc_delete_external(f->s, src, "b"), CC_ENOTFOUND);
    assert_int_equal(f->s->ops->doc_delete_external(f->s, src, ""), CC_EINVAL);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM chunks"), 0);
    assert_int_equal(raw_int(f, FTS_ROWS_SQL), 0);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM doc_tags"), 0);
    assert_int_equal(search_ok(f, "zebra", 10)->n, 0);
}

/* ---- search: ranking ------------------------------------------------- */

static void test_search_priority_breaks_equal_relevance(void **state)
{
    struct fixture *f = *state;
    int64_t low = add_source(f, "low", 3);
    int64_t high = add_source(f, "high", 8);
    add_filler(f, low, 5);
    struct doc_spec spec = {.title = "Rate limiting", .body = "token bucket rate limiting"};
    put_doc_ok(f, low, "same", &spec);
    put_doc_ok(f, high, "same", &spec);
    struct hits *hs = search_ok(f, "token bucket", 10);
    assert_int_equal(hs->n, 2);
    assert_int_equal(hs->v[0].source_id, high);
    assert_string_equal(hs->v[0].source, "high");
    assert_int_equal(hs->v[0].priority, 8);
    assert_int_equal(hs->v[1].source_id, low);
    assert_float_equal(hs->v[0].relevance, hs->v[1].relevance, 1e-9);
    assert_true(hs->v[0].relevance > 0);
    assert_float_equal(hs->v[0].score, hs->v[0].relevance * store_priority_factor(8), 1e-9);
    assert_float_equal(hs->v[1].score, hs->v[1].relevance * store_priority_factor(3), 1e-9);
}

static void test_search_relevance_beats_priority(void **state)
{
    struct fixture *f = *state;
    int64_t low = add_source(f, "low", 1);
    int64_t high = add_source(f, "high", 10);
    add_filler(f, low, 10);
    /* Weak: one mention deep in a long body. Strong: title, heading, body. */
    char weak[2048] = "";
    for (int i = 0; i < 80; i++)
        strncat(weak, "lorem ipsum dolor sit ", sizeof(weak) - strlen(weak) - 1);
    strncat(weak, "wireguard", sizeof(weak) - strlen(weak) - 1);
    struct doc_spec w = {.title = "Assorted notes", .body = weak};
    struct doc_spec s = {.title = "WireGuard", .heading = "WireGuard setup",
                         .body = "wireguard tunnels with wireguard"};
    put_doc_ok(f, high, "weak", &w);
    put_doc_ok(f, low, "strong", &s);
    struct hits *hs = search_ok(f, "wireguard", 10);
    assert_int_equal(hs->n, 2);
    assert_int_equal(hs->v[0].source_id, low);
    assert_true(hs->v[0].relevance > 4.0 * hs->v[1].relevance);
    assert_true(hs->v[0].score >= hs->v[1].score);
}

static void test_search_title_weighted_above_body(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "docs", 5);
    add_filler(f, src, 5);
    struct doc_spec in_body = {.title = "Networking guide", .body = "configure the firewall now"};
    struct doc_spec in_title = {.title = "Firewall guide", .body = "configure the network now"};
    int64_t b = put_doc_ok(f, src, "body", &in_body);
    int64_t t = put_doc_ok(f, src, "title", &in_title);
    struct hits *hs = search_ok(f, "firewall", 10);
    assert_int_equal(hs->n, 2);
    assert_int_equal(hs->v[0].doc_id, t);
    assert_int_equal(hs->v[1].doc_id, b);
    assert_true(hs->v[0].relevance > hs->v[1].relevance);
}

static void test_search_filters(void **state)
{
    struct fixture *f = *state;
    int64_t a = add_source(f, "a", 5);
    int64_t b = add_source(f, "b", 5);
    struct doc_spec d1 = {.title = "Postgres tuning", .body = "vacuum settings",
                          .tags_json = "[\"db\",\"perf\"]", .version = "v1",
                          .published_ms = 1000, .hash_seed = 1};
    struct doc_spec d2 = {.title = "Postgres backup", .body = "vacuum and dumps",
                          .tags_json = "[\"db\"]", .version = "v2", .published_ms = 0,
                          .updated_ms = 3000, .hash_seed = 2};
    struct doc_spec d3 = {.title = "Postgres intro", .body = "vacuum basics",
                          .version = "v2", .published_ms = 5000, .updated_ms = 100,
                          .hash_seed = 3};
    int64_t id1 = put_doc_ok(f, a, "1", &d1);
    int64_t id2 = put_doc_ok(f, a, "2", &d2);
    int64_t id3 = put_doc_ok(f, b, "3", &d3);
    struct hits hs;
    struct store_search q = {.query = "vacuum", .k = 10};
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 3);

    q.source_id = b;
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);
    assert_int_equal(hs.v[0].doc_id, id3);

    q = (struct store_search){.query = "vacuum", .k = 10, .tag = "perf"};
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);
    assert_int_equal(hs.v[0].doc_id, id1);
    q.tag = "db";
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 2);
    q.tag = "none";
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 0);

    /* since: published, else updated. d2 has no published date (3000
     * updated); d3's published 5000 wins over its updated 100. */
    q = (struct store_search){.query = "vacuum", .k = 10, .since_ms = 2000};
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 2);
    assert_true((hs.v[0].doc_id == id2 && hs.v[1].doc_id == id3) ||
                (hs.v[0].doc_id == id3 && hs.v[1].doc_id == id2));
    q.since_ms = 4000;
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);
    assert_int_equal(hs.v[0].doc_id, id3);

    q = (struct store_search){.query = "vacuum", .k = 10, .version = "v2", .source_id = a};
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);
    assert_int_equal(hs.v[0].doc_id, id2);
}

static void test_search_snippet_escapes_and_marks(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "web", 5);
    add_filler(f, src, 3);
    struct doc_spec spec = {.title = "XSS",
                            .body = "before <script>alert(\"x\")</script> & 'quoted' "
                                    "kubernetes after"};
    put_doc_ok(f, src, "x", &spec);
    struct hits *hs = search_ok(f, "kubernetes", 5);
    assert_int_equal(hs->n, 1);
    const char *snip = hs->v[0].snippet;
    assert_non_null(strstr(snip, "<mark>kubernetes</mark>"));
    assert_non_null(strstr(snip, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert_non_null(strstr(snip, "&amp; &#39;quoted&#39;"));
    assert_null(strstr(snip, "<script"));
    assert_null(strchr(snip, '\x02'));
    assert_null(strchr(snip, '\x03'));

    /* Diacritics and stems match; the highlight covers the original word. */
    struct doc_spec cafe = {.title = "Menu", .body = "the caf\xc3\xa9 was running late"};
    put_doc_ok(f, src, "cafe", &cafe);
    hs = search_ok(f, "cafe runs", 5);
    assert_int_equal(hs->n, 1);
    assert_non_null(strstr(hs->v[0].snippet, "<mark>caf\xc3\xa9</mark>"));
    assert_non_null(strstr(hs->v[0].snippet, "<mark>running</mark>"));
}

static void test_snippet_html_helper(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 4096);
    assert_int_equal(store__snippet_html("a \x02<b>\x03 & c", &b), CC_OK);
    assert_string_equal(cc_buf_str(&b), "a <mark>&lt;b&gt;</mark> &amp; c");
    /* Stray markers (control characters in content) never unbalance it. */
    cc_buf_reset(&b);
    assert_int_equal(store__snippet_html("\x03x\x02y\x02z", &b), CC_OK);
    assert_string_equal(cc_buf_str(&b), "x<mark>yz</mark>");
    cc_buf_release(&b);
}

/* ---- search: query text ---------------------------------------------- */

static void test_fts_query_builder(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 8192);
    assert_int_equal(store__fts_query("he said \"hi\" AND x*", &b), CC_OK);
    assert_string_equal(cc_buf_str(&b), "\"he\" OR \"said\" OR \"hi\" OR \"AND\" OR \"x\"");

    cc_buf_reset(&b);
    assert_int_equal(store__fts_query("\" * ( ) : ^ - +", &b), CC_EINVAL);
    assert_int_equal(store__fts_query("", &b), CC_EINVAL);
    assert_int_equal(store__fts_query(NULL, &b), CC_EINVAL);

    /* At most 32 terms. */
    cc_buf_reset(&b);
    char many[512] = "";
    for (int i = 0; i < 40; i++)
        strncat(many, "w ", sizeof(many) - strlen(many) - 1);
    assert_int_equal(store__fts_query(many, &b), CC_OK);
    size_t ors = 0;
    for (const char *p = cc_buf_str(&b); (p = strstr(p, " OR ")); p += 4)
        ors++;
    assert_int_equal(ors, 31);

    /* A long term is cut at 64 bytes, never inside a UTF-8 sequence. */
    cc_buf_reset(&b);
    char lng[200] = "a";
    for (int i = 0; i < 40; i++)
        strncat(lng, "\xc3\xa9", sizeof(lng) - strlen(lng) - 1);   /* 1 + 80 bytes */
    assert_int_equal(store__fts_query(lng, &b), CC_OK);
    assert_int_equal(b.len, 2 + 63);                               /* "a" + 31 x é */
    cc_buf_release(&b);
}

static void test_search_weird_queries(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "docs", 5);
    struct doc_spec spec = {.title = "Operators", .body = "AND OR NOT NEAR near \xe6\x97\xa5\xe6\x9c\xac"
                                                         " na\xc3\xafve"};
    put_doc_ok(f, src, "ops", &spec);
    struct hits hs;
    const char *fine[] = {"\"unterminated", "AND OR NOT", "NEAR(a b, 2)", "x*", "(", "a:b",
                          "title:operators", "-not", "^start", "\xe6\x97\xa5\xe6\x9c\xac",
                          "naive", "\xff\xfe broken utf8", "'; DROP TABLE documents; --"};
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        struct store_search q = {.query = fine[i], .k = 5};
        cc_err err = search(f, &q, &hs);
        if (strcmp(fine[i], "(") == 0)
            assert_int_equal(err, CC_EINVAL);     /* no term at all */
        else
            assert_int_equal(err, CC_OK);
    }
    struct store_search q = {.query = "AND OR NOT", .k = 5};
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);                    /* words, not operators */
    q.query = "\xe6\x97\xa5\xe6\x9c\xac";
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);
    q.query = "naive";
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);

    const char *empty[] = {"", "   ", "\"", "*", "()", "\"\"\"\"", "-+^:"};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        q.query = empty[i];
        assert_int_equal(search(f, &q, &hs), CC_EINVAL);
    }
    q.query = NULL;
    assert_int_equal(search(f, &q, &hs), CC_EINVAL);
    /* Non-ASCII punctuation is kept as a term and tokenizes to nothing:
     * a valid query that matches nothing, not an error. */
    q.query = "\xe2\x80\x94";
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 0);
    q.query = "\xe2\x80\x94 operators";
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);

    char *big = cc_xmalloc(10 * 1024 + 1);
    for (size_t i = 0; i < 10 * 1024; i++)
        big[i] = "operators (\"*)"[i % 14];
    big[10 * 1024] = '\0';
    q.query = big;
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 1);
    free(big);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM documents"), 1);
}

static void test_search_k_bound(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "bulk", 5);
    char ext[32];
    char body[64];
    for (int i = 0; i < 130; i++) {
        snprintf(ext, sizeof(ext), "d%d", i);
        snprintf(body, sizeof(body), "common word %*s", i % 20, "x");
        struct doc_spec spec = {.title = "Doc", .body = body};
        put_doc_ok(f, src, ext, &spec);
    }
    add_filler(f, src, 3);
    struct hits hs;
    struct store_search q = {.query = "common", .k = 5};
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, 5);
    for (size_t i = 1; i < hs.n; i++)
        assert_true(hs.v[i - 1].score >= hs.v[i].score);
    q.k = 1000;                                   /* capped at STORE_SEARCH_K_MAX */
    assert_int_equal(search(f, &q, &hs), CC_OK);
    assert_int_equal(hs.n, STORE_SEARCH_K_MAX);
    q.k = 0;
    assert_int_equal(search(f, &q, &hs), CC_EINVAL);
    assert_int_equal(f->s->ops->search(f->s, &q, NULL, NULL), CC_EINVAL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_source_crud),
        T(test_source_validation),
        T(test_source_run_state_and_due),
        T(test_source_delete_cascades),
        T(test_doc_upsert_created_updated_unchanged),
        T(test_doc_validation),
        T(test_doc_get_chunks_in_order),
        T(test_doc_delete),
        T(test_doc_list_pages_one_source),
        T(test_search_priority_breaks_equal_relevance),
        T(test_search_relevance_beats_priority),
        T(test_search_title_weighted_above_body),
        T(test_search_filters),
        T(test_search_snippet_escapes_and_marks),
        cmocka_unit_test(test_snippet_html_helper),
        cmocka_unit_test(test_fts_query_builder),
        T(test_search_weird_queries),
        T(test_search_k_bound),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
