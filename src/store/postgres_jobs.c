/*
 * postgres_jobs.c - the durable job queue of the PostgreSQL backend
 * (store.h; same semantics as sqlite_jobs.c, schema in
 * migrations/postgres/0002_knowledge.sql).
 *
 * Several daemons may share the database. job_claim is one UPDATE whose
 * candidate rows come from `FOR UPDATE SKIP LOCKED` subqueries: a claimer
 * skips rows another claimer has locked (instead of waiting for it), and
 * the row it locks is re-checked against the WHERE clause on its newest
 * version, so a job claimed and committed by another session meanwhile is
 * passed over; each job is claimed by one session. The claimed row comes
 * back through RETURNING and is given to the callback after the statement
 * committed.
 *
 * job_enqueue checks the dedup key and the queue limit, then inserts, in
 * one transaction that first locks the source row (or, for jobs without a
 * source, an advisory lock) when a limit applies, so two enqueuers cannot
 * both see room for one more. A dedup race ends in the unique index; the
 * loser re-reads and answers the winner's id.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/postgres_int.h"
#include "store/store.h"

#define JOB_COLS                                                                       \
    "id, kind, source_id, state, dedup_key, payload, attempts, max_attempts,"          \
    " next_run_ms, lease_owner, lease_until_ms, stage, last_error, created_ms,"        \
    " updated_ms, finished_ms"
#define UNFINISHED "('queued', 'running', 'failed')"

const struct pg_stmt_def pg__job_stmts[PS__COUNT] = {
    [PS_JOB_FIND_DEDUP] = {"job_find_dedup",
        "SELECT id FROM jobs WHERE dedup_key = $1 AND state IN " UNFINISHED},
    [PS_JOB_LOCK_SOURCE] = {"job_lock_source",
        "SELECT 1 FROM sources WHERE id = $1 FOR NO KEY UPDATE"},
    [PS_JOB_LOCK_NOSRC] = {"job_lock_nosrc",
        "SELECT pg_advisory_xact_lock(hashtext('commandcenter.jobs.nosrc.'"
        " || current_schema()))"},
    [PS_JOB_COUNT_UNFINISHED] = {"job_count_unfinished",
        "SELECT COUNT(*) FROM jobs WHERE source_id = $1 AND state IN " UNFINISHED},
    [PS_JOB_COUNT_UNFINISHED_NOSRC] = {"job_count_unfinished_nosrc",
        "SELECT COUNT(*) FROM jobs WHERE source_id IS NULL AND state IN " UNFINISHED},
    [PS_JOB_INSERT] = {"job_insert",
        "INSERT INTO jobs (kind, source_id, dedup_key, payload, max_attempts, next_run_ms,"
        " created_ms, updated_ms) VALUES ($1, NULLIF($2::int8, 0), $3, $4, $5, $6, $7, $8)"
        " RETURNING id"},
    /* The oldest waiting job and the oldest expired lease, each found by
     * its own index and locked with SKIP LOCKED; the better of the two is
     * claimed (the other's lock ends with the statement). */
    [PS_JOB_CLAIM] = {"job_claim",
        "WITH w AS (SELECT id, next_run_ms FROM jobs"
        "   WHERE state IN ('queued', 'failed') AND next_run_ms <= $1"
        "   ORDER BY next_run_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED),"
        " r AS (SELECT id, next_run_ms FROM jobs"
        "   WHERE state = 'running' AND lease_until_ms < $1"
        "   ORDER BY next_run_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED),"
        " pick AS (SELECT id FROM (SELECT * FROM w UNION ALL SELECT * FROM r) x"
        "   ORDER BY next_run_ms, id LIMIT 1)"
        " UPDATE jobs j SET state = 'running', attempts = attempts + 1, lease_owner = $2,"
        " lease_until_ms = $3, updated_ms = $1 FROM pick WHERE j.id = pick.id"
        " RETURNING j.id, j.kind, j.source_id, j.state, j.dedup_key, j.payload, j.attempts,"
        " j.max_attempts, j.next_run_ms, j.lease_owner, j.lease_until_ms, j.stage,"
        " j.last_error, j.created_ms, j.updated_ms, j.finished_ms"},
    [PS_JOB_GET] = {"job_get", "SELECT " JOB_COLS " FROM jobs WHERE id = $1"},
    [PS_JOB_EXISTS] = {"job_exists", "SELECT 1 FROM jobs WHERE id = $1"},
    [PS_JOB_HEARTBEAT] = {"job_heartbeat",
        "UPDATE jobs SET lease_until_ms = $3, stage = COALESCE($4, stage)"
        " WHERE id = $1 AND state = 'running' AND lease_owner = $2"},
    [PS_JOB_SUCCEED] = {"job_succeed",
        "UPDATE jobs SET state = 'succeeded', finished_ms = $3, updated_ms = $3,"
        " lease_owner = NULL, lease_until_ms = 0, payload = NULL"
        " WHERE id = $1 AND state = 'running' AND lease_owner = $2"},
    [PS_JOB_FAIL] = {"job_fail",
        "UPDATE jobs SET state = CASE WHEN $5::int8 > 0 THEN 'failed' ELSE 'dead' END,"
        " next_run_ms = CASE WHEN $5::int8 > 0 THEN $5::int8 ELSE next_run_ms END,"
        " finished_ms = CASE WHEN $5::int8 > 0 THEN 0 ELSE $3::int8 END,"
        " last_error = $4, updated_ms = $3, lease_owner = NULL, lease_until_ms = 0"
        " WHERE id = $1 AND state = 'running' AND lease_owner = $2"},
    [PS_JOB_RETRY] = {"job_retry",
        "UPDATE jobs SET state = 'queued', attempts = 0, next_run_ms = $2, updated_ms = $2,"
        " finished_ms = 0, lease_owner = NULL, lease_until_ms = 0"
        " WHERE id = $1 AND state IN ('dead', 'failed')"},
    [PS_JOB_LIST] = {"job_list",
        "SELECT " JOB_COLS " FROM jobs WHERE ($1::text IS NULL OR state = $1::text)"
        " AND ($2::int8 = 0 OR id < $2::int8) ORDER BY id DESC LIMIT $3"},
    [PS_JOB_COUNTS] = {"job_counts", "SELECT state, COUNT(*) FROM jobs GROUP BY state"},
    [PS_JOB_OLDEST] = {"job_oldest",
        "SELECT COALESCE(MIN(created_ms), 0) FROM jobs WHERE state IN ('queued', 'failed')"},
    [PS_JOB_PRUNE] = {"job_prune",
        "DELETE FROM jobs WHERE state = 'succeeded' AND finished_ms < $1"},
    [PS_JOB_DEDUP_MANY] = {"job_dedup_many",
        "SELECT dedup_key, id FROM jobs WHERE dedup_key = ANY($1::text[])"
        " AND state IN " UNFINISHED},
    /* Ids are drawn in the rows' order: sorted, they map back to the jobs. */
    [PS_JOB_INSERT_MANY] = {"job_insert_many",
        "INSERT INTO jobs (kind, source_id, dedup_key, payload, max_attempts, next_run_ms,"
        " created_ms, updated_ms)"
        " SELECT k, NULLIF(src, 0), dk, p, ma, nr, cr, up FROM unnest($1::text[], $2::int8[],"
        "  $3::text[], $4::bytea[], $5::int[], $6::int8[], $7::int8[], $8::int8[])"
        "  WITH ORDINALITY AS x(k, src, dk, p, ma, nr, cr, up, i) ORDER BY i RETURNING id"},
    /* job_claim for up to $4 jobs. */
    [PS_JOB_CLAIM_MANY] = {"job_claim_many",
        "WITH w AS (SELECT id, next_run_ms FROM jobs"
        "   WHERE state IN ('queued', 'failed') AND next_run_ms <= $1"
        "   ORDER BY next_run_ms, id LIMIT $4 FOR UPDATE SKIP LOCKED),"
        " r AS (SELECT id, next_run_ms FROM jobs"
        "   WHERE state = 'running' AND lease_until_ms < $1"
        "   ORDER BY next_run_ms, id LIMIT $4 FOR UPDATE SKIP LOCKED),"
        " pick AS (SELECT id FROM (SELECT * FROM w UNION ALL SELECT * FROM r) x"
        "   ORDER BY next_run_ms, id LIMIT $4)"
        " UPDATE jobs j SET state = 'running', attempts = attempts + 1, lease_owner = $2,"
        " lease_until_ms = $3, updated_ms = $1 FROM pick WHERE j.id = pick.id"
        " RETURNING j.id, j.kind, j.source_id, j.state, j.dedup_key, j.payload, j.attempts,"
        " j.max_attempts, j.next_run_ms, j.lease_owner, j.lease_until_ms, j.stage,"
        " j.last_error, j.created_ms, j.updated_ms, j.finished_ms"},
};

static bool state_valid(const char *state)
{
    static const char *const states[] = {"queued", "running", "succeeded", "failed", "dead"};
    for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++) {
        if (strcmp(state, states[i]) == 0)
            return true;
    }
    return false;
}

/* payload: decoded bytes the caller frees. */
static void job_from_row(const struct pg_row *r, struct store_job *out, unsigned char **payload)
{
    size_t len = 0;
    *payload = pg__bytea(r, 5, &len);
    *out = (struct store_job){
        .id = pg__int(r, 0),
        .kind = pg__text(r, 1),
        .source_id = pg__int(r, 2),
        .state = pg__text(r, 3),
        .dedup_key = pg__text(r, 4),
        .payload = *payload,
        .payload_len = *payload ? len : 0,
        .attempts = (int)pg__int(r, 6),
        .max_attempts = (int)pg__int(r, 7),
        .next_run_ms = pg__int(r, 8),
        .lease_owner = pg__text(r, 9),
        .lease_until_ms = pg__int(r, 10),
        .stage = pg__text(r, 11),
        .last_error = pg__text(r, 12),
        .created_ms = pg__int(r, 13),
        .updated_ms = pg__int(r, 14),
        .finished_ms = pg__int(r, 15),
    };
}

struct job_ctx {
    store_job_cb cb;
    void *arg;
};

static void row_job(const struct pg_row *r, void *ctx)
{
    struct job_ctx *c = ctx;
    struct store_job j;
    unsigned char *payload = NULL;
    job_from_row(r, &j, &payload);
    c->cb(c->arg, &j);
    free(payload);
}

/* ---- enqueue --------------------------------------------------------- */

static bool job_valid(const struct store_job *j)
{
    return j && j->kind && *j->kind && j->source_id >= 0 && j->max_attempts >= 1 &&
           j->next_run_ms >= 0 && (j->payload || j->payload_len == 0) &&
           (!j->dedup_key || *j->dedup_key);
}

static cc_err check_limit(struct pg_store *s, struct pg_conn *c, int64_t source_id,
                          unsigned limit)
{
    int64_t n = 0;
    cc_err err = source_id > 0
        ? pg__query_int(s, c, PS_JOB_COUNT_UNFINISHED, QPARAMS(QI(source_id)), &n, NULL)
        : pg__query_int(s, c, PS_JOB_COUNT_UNFINISHED_NOSRC, NULL, &n, NULL);
    if (!err && n >= (int64_t)limit)
        err = CC_ELIMIT;
    return err;
}

static cc_err enqueue_tx(struct pg_store *s, struct pg_conn *c, const struct store_job *j,
                         unsigned queue_limit, int64_t *out_id, bool *out_existing)
{
    bool found = false;
    cc_err err = CC_OK;
    if (j->dedup_key) {
        err = pg__query_int(s, c, PS_JOB_FIND_DEDUP, QPARAMS(QT(j->dedup_key)), out_id, &found);
        if (err || found) {
            *out_existing = found;
            return err;
        }
    }
    if (j->source_id > 0) {
        err = pg__query_int(s, c, queue_limit > 0 ? PS_JOB_LOCK_SOURCE : PS_SOURCE_EXISTS,
                            QPARAMS(QI(j->source_id)), NULL, &found);
        if (!err && !found)
            err = CC_ENOTFOUND;
    } else if (queue_limit > 0) {
        err = pg__query(s, c, PS_JOB_LOCK_NOSRC, NULL, NULL, NULL, NULL);
    }
    if (!err && queue_limit > 0)
        err = check_limit(s, c, j->source_id, queue_limit);
    if (err)
        return err;
    err = pg__query_int(s, c, PS_JOB_INSERT,
                        QPARAMS(QT(j->kind), QI(j->source_id), QT(j->dedup_key),
                                QB(j->payload, j->payload_len), QI(j->max_attempts),
                                QI(j->next_run_ms), QI(j->created_ms), QI(j->updated_ms)),
                        out_id, NULL);
    if (!err)
        *out_existing = false;
    return err;
}

cc_err pg__job_enqueue(struct store *st, const struct store_job *j, unsigned queue_limit,
                       int64_t *out_id, bool *out_existing)
{
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *c = NULL;
    int64_t id = 0;
    bool existing = false;
    if (!job_valid(j))
        return CC_EINVAL;
    cc_err err = pg__conn_get(s, &c);
    if (err)
        return err;
    /* A dedup key taken by a concurrent enqueue between our check and our
     * insert: the unique index refuses it; once more sees the winner. */
    for (int attempt = 0; attempt < 2; attempt++) {
        err = pg__begin(s, c);
        if (!err)
            err = enqueue_tx(s, c, j, queue_limit, &id, &existing);
        if (!err)
            err = pg__commit(s, c);
        if (err)
            pg__rollback(s, c);
        if (err != CC_ECONFLICT || !j->dedup_key)
            break;
    }
    pg__conn_put(s, c);
    if (err)
        return err;
    if (out_id)
        *out_id = id;
    if (out_existing)
        *out_existing = existing;
    return CC_OK;
}

/* ---- claim ----------------------------------------------------------- */

struct job_copy {
    struct store_job j;
    unsigned char *payload;
    bool set;
};

static char *dup_or_null(const char *s)
{
    return s ? cc_xstrdup(s) : NULL;
}

static void row_job_copy(const struct pg_row *r, void *ctx)
{
    struct job_copy *c = ctx;
    if (c->set)
        return;
    job_from_row(r, &c->j, &c->payload);
    c->j.kind = dup_or_null(c->j.kind);
    c->j.state = dup_or_null(c->j.state);
    c->j.dedup_key = dup_or_null(c->j.dedup_key);
    c->j.lease_owner = dup_or_null(c->j.lease_owner);
    c->j.stage = dup_or_null(c->j.stage);
    c->j.last_error = dup_or_null(c->j.last_error);
    c->set = true;
}

static void job_copy_release(struct job_copy *c)
{
    if (!c->set)
        return;
    free((char *)c->j.kind);
    free((char *)c->j.state);
    free((char *)c->j.dedup_key);
    free(c->payload);
    free((char *)c->j.lease_owner);
    free((char *)c->j.stage);
    free((char *)c->j.last_error);
}

cc_err pg__job_claim(struct store *st, const char *owner, int64_t now_ms, int64_t lease_ms,
                     store_job_cb cb, void *arg)
{
    struct pg_store *s = pg__from_store(st);
    struct job_copy job = {0};
    if (!owner || !*owner || !cb || lease_ms <= 0 || now_ms < 0 ||
        now_ms > INT64_MAX - lease_ms)
        return CC_EINVAL;
    cc_err err = pg__run(s, PS_JOB_CLAIM, QPARAMS(QI(now_ms), QT(owner), QI(now_ms + lease_ms)),
                         row_job_copy, &job, NULL);
    if (!err && !job.set)
        err = CC_ENOTFOUND;
    if (!err)
        cb(arg, &job.j);
    job_copy_release(&job);
    return err;
}

/* ---- transitions ----------------------------------------------------- */

static cc_err guarded_update(struct pg_store *s, int64_t id, enum pg_stmt_id stmt,
                             const struct pg_param *params)
{
    struct pg_conn *c = NULL;
    int64_t changed = 0;
    bool exists = false;
    cc_err err = pg__conn_get(s, &c);
    if (err)
        return err;
    err = pg__query(s, c, stmt, params, NULL, NULL, &changed);
    if (!err && changed == 0) {
        err = pg__query_int(s, c, PS_JOB_EXISTS, QPARAMS(QI(id)), NULL, &exists);
        if (!err)
            err = exists ? CC_ESTATE : CC_ENOTFOUND;
    }
    pg__conn_put(s, c);
    return err;
}

cc_err pg__job_heartbeat(struct store *st, int64_t id, const char *owner,
                         int64_t lease_until_ms, const char *stage)
{
    if (!owner || !*owner)
        return CC_EINVAL;
    return guarded_update(pg__from_store(st), id, PS_JOB_HEARTBEAT,
                          QPARAMS(QI(id), QT(owner), QI(lease_until_ms), QT(stage)));
}

cc_err pg__job_succeed(struct store *st, int64_t id, const char *owner, int64_t now_ms)
{
    if (!owner || !*owner)
        return CC_EINVAL;
    return guarded_update(pg__from_store(st), id, PS_JOB_SUCCEED,
                          QPARAMS(QI(id), QT(owner), QI(now_ms)));
}

cc_err pg__job_fail(struct store *st, int64_t id, const char *owner, int64_t now_ms,
                    const char *error, int64_t retry_at_ms)
{
    if (!owner || !*owner || retry_at_ms < 0)
        return CC_EINVAL;
    return guarded_update(pg__from_store(st), id, PS_JOB_FAIL,
                          QPARAMS(QI(id), QT(owner), QI(now_ms), QT(error), QI(retry_at_ms)));
}

cc_err pg__job_retry(struct store *st, int64_t id, int64_t now_ms)
{
    return guarded_update(pg__from_store(st), id, PS_JOB_RETRY, QPARAMS(QI(id), QI(now_ms)));
}

/* ---- reading --------------------------------------------------------- */

cc_err pg__job_get(struct store *st, int64_t id, store_job_cb cb, void *arg)
{
    if (!cb)
        return CC_EINVAL;
    struct job_ctx c = {.cb = cb, .arg = arg};
    int64_t rows = 0;
    cc_err err = pg__run(pg__from_store(st), PS_JOB_GET, QPARAMS(QI(id)), row_job, &c, &rows);
    if (!err && rows == 0)
        err = CC_ENOTFOUND;
    return err;
}

cc_err pg__job_list(struct store *st, const char *state, int64_t before_id, unsigned limit,
                    store_job_cb cb, void *arg)
{
    if (!cb || (state && !state_valid(state)) || before_id < 0)
        return CC_EINVAL;
    if (limit > STORE_JOB_LIST_MAX)
        limit = STORE_JOB_LIST_MAX;
    struct job_ctx c = {.cb = cb, .arg = arg};
    return pg__run(pg__from_store(st), PS_JOB_LIST, QPARAMS(QT(state), QI(before_id), QI(limit)),
                   row_job, &c, NULL);
}

static void row_count(const struct pg_row *r, void *ctx)
{
    struct store_job_counts *n = ctx;
    const char *state = pg__text(r, 0);
    int64_t count = pg__int(r, 1);
    if (!state)
        return;
    if (strcmp(state, "queued") == 0)
        n->queued = count;
    else if (strcmp(state, "running") == 0)
        n->running = count;
    else if (strcmp(state, "succeeded") == 0)
        n->succeeded = count;
    else if (strcmp(state, "failed") == 0)
        n->failed = count;
    else if (strcmp(state, "dead") == 0)
        n->dead = count;
}

cc_err pg__job_counts(struct store *st, struct store_job_counts *out)
{
    struct pg_store *s = pg__from_store(st);
    struct store_job_counts n = {0};
    struct pg_conn *c = NULL;
    if (!out)
        return CC_EINVAL;
    cc_err err = pg__conn_get(s, &c);
    if (err)
        return err;
    err = pg__begin_read(s, c);
    if (!err)
        err = pg__query(s, c, PS_JOB_COUNTS, NULL, row_count, &n, NULL);
    if (!err)
        err = pg__query_int(s, c, PS_JOB_OLDEST, NULL, &n.oldest_queued_ms, NULL);
    if (!err)
        err = pg__commit(s, c);
    pg__conn_put(s, c);
    if (!err)
        *out = n;
    return err;
}

cc_err pg__job_prune(struct store *st, int64_t before_ms, int64_t *out_deleted)
{
    int64_t rows = 0;
    cc_err err = pg__run(pg__from_store(st), PS_JOB_PRUNE, QPARAMS(QI(before_ms)), NULL, NULL,
                         &rows);
    if (!err && out_deleted)
        *out_deleted = rows;
    return err;
}

/* ---- batches --------------------------------------------------------- */

/* The batch's dedup keys already held by unfinished jobs. */
struct dedup_ctx {
    const struct store_job *jobs;
    size_t n;
    int64_t *found;                    /* per job: the holder's id, 0 = none */
};

static void row_dedup(const struct pg_row *r, void *ctx)
{
    struct dedup_ctx *d = ctx;
    const char *key = pg__text(r, 0);
    for (size_t i = 0; key && i < d->n; i++) {
        if (d->jobs[i].dedup_key && strcmp(d->jobs[i].dedup_key, key) == 0)
            d->found[i] = pg__int(r, 1);
    }
}

static cc_err dedup_many(struct pg_store *s, struct pg_conn *c, struct dedup_ctx *d)
{
    struct cc_buf keys;
    cc_buf_init(&keys, 64u * 1024u * 1024u);
    cc_err err = CC_OK;
    for (size_t i = 0; !err && i < d->n; i++) {
        if (d->jobs[i].dedup_key)
            err = pg__arr_text(&keys, d->jobs[i].dedup_key);
    }
    if (!err && keys.len) {
        err = pg__arr_end(&keys);
        if (!err)
            err = pg__query(s, c, PS_JOB_DEDUP_MANY, QPARAMS(QT(cc_buf_str(&keys))), row_dedup,
                            d, NULL);
    }
    cc_buf_release(&keys);
    return err;
}

/* The source of a run of jobs: it exists (locked when a limit applies) and
 * its unfinished count, read once and then kept up to date. */
struct limit_cache {
    int64_t source_id;
    int64_t unfinished;
    bool valid;
};

static cc_err limit_load(struct pg_store *s, struct pg_conn *c, int64_t source_id,
                         unsigned queue_limit, struct limit_cache *lc)
{
    bool found = false;
    cc_err err = CC_OK;
    if (source_id > 0) {
        err = pg__query_int(s, c, queue_limit > 0 ? PS_JOB_LOCK_SOURCE : PS_SOURCE_EXISTS,
                            QPARAMS(QI(source_id)), NULL, &found);
        if (!err && !found)
            err = CC_ENOTFOUND;
    } else if (queue_limit > 0) {
        err = pg__query(s, c, PS_JOB_LOCK_NOSRC, NULL, NULL, NULL, NULL);
    }
    lc->unfinished = 0;
    if (!err && queue_limit > 0)
        err = source_id > 0
            ? pg__query_int(s, c, PS_JOB_COUNT_UNFINISHED, QPARAMS(QI(source_id)),
                            &lc->unfinished, NULL)
            : pg__query_int(s, c, PS_JOB_COUNT_UNFINISHED_NOSRC, NULL, &lc->unfinished, NULL);
    if (!err) {
        lc->source_id = source_id;
        lc->valid = true;
    }
    return err;
}

struct insert_many {
    struct cc_buf a[8];
    int64_t *ids;                      /* returned, ascending: insertion order */
    size_t n;
};

static void row_insert_many(const struct pg_row *r, void *ctx)
{
    struct insert_many *m = ctx;
    m->ids[m->n++] = pg__int(r, 0);
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static cc_err insert_add(struct insert_many *m, const struct store_job *j)
{
    cc_err err = pg__arr_text(&m->a[0], j->kind);
    if (!err)
        err = pg__arr_int(&m->a[1], j->source_id);
    if (!err)
        err = pg__arr_text(&m->a[2], j->dedup_key);
    if (!err)
        err = pg__arr_bytea(&m->a[3], j->payload, j->payload_len);
    if (!err)
        err = pg__arr_int(&m->a[4], j->max_attempts);
    if (!err)
        err = pg__arr_int(&m->a[5], j->next_run_ms);
    if (!err)
        err = pg__arr_int(&m->a[6], j->created_ms);
    if (!err)
        err = pg__arr_int(&m->a[7], j->updated_ms);
    return err;
}

/* Inside the transaction: which jobs go in (the first `done`, up to the
 * stop), then one INSERT of them. pending[i] is the index of the earlier
 * job of the batch whose dedup key job i repeats (or SIZE_MAX). */
static cc_err enqueue_many_tx(struct pg_store *s, struct pg_conn *c, const struct store_job *jobs,
                              size_t n, unsigned queue_limit, int64_t *ids, bool *existing,
                              size_t *pending, size_t *out_done, cc_err *out_stop)
{
    struct dedup_ctx d = {.jobs = jobs, .n = n, .found = ids};
    struct limit_cache lc = {0};
    struct insert_many m = {.ids = cc_xcalloc(n + 1, sizeof(int64_t))};
    size_t *slot = cc_xcalloc(n + 1, sizeof(size_t));   /* inserted job -> its row */
    size_t ninsert = 0, done = 0;
    cc_err stop = CC_OK;
    for (size_t i = 0; i < 8; i++)
        cc_buf_init(&m.a[i], 64u * 1024u * 1024u);
    cc_err err = dedup_many(s, c, &d);
    for (; !err && done < n; done++) {
        const struct store_job *j = &jobs[done];
        pending[done] = SIZE_MAX;
        existing[done] = ids[done] != 0;
        for (size_t k = 0; !existing[done] && j->dedup_key && k < done; k++) {
            if (!existing[k] && jobs[k].dedup_key && strcmp(jobs[k].dedup_key, j->dedup_key) == 0)
                pending[done] = k;
        }
        if (existing[done] || pending[done] != SIZE_MAX) {
            existing[done] = true;
            continue;                  /* a dedup hit is not subject to the limit */
        }
        if (!job_valid(j)) {
            stop = CC_EINVAL;
            break;
        }
        if (!lc.valid || lc.source_id != j->source_id) {
            stop = limit_load(s, c, j->source_id, queue_limit, &lc);
            if (stop == CC_ENOTFOUND)
                break;
            err = stop;
            stop = CC_OK;
        }
        if (!err && queue_limit > 0 && lc.unfinished >= (int64_t)queue_limit) {
            stop = CC_ELIMIT;
            break;
        }
        if (!err)
            err = insert_add(&m, j);
        lc.unfinished++;
        slot[done] = ninsert++;
    }
    if (!err && ninsert) {
        const char *v[8];
        for (size_t i = 0; !err && i < 8; i++) {
            err = pg__arr_end(&m.a[i]);
            v[i] = cc_buf_str(&m.a[i]);
        }
        if (!err)
            err = pg__query(s, c, PS_JOB_INSERT_MANY,
                            QPARAMS(QT(v[0]), QT(v[1]), QT(v[2]), QT(v[3]), QT(v[4]), QT(v[5]),
                                    QT(v[6]), QT(v[7])),
                            row_insert_many, &m, NULL);
        if (!err && m.n != ninsert)
            err = CC_EIO;
    }
    if (!err) {
        qsort(m.ids, m.n, sizeof(*m.ids), id_cmp);
        for (size_t i = 0; i < done; i++) {
            if (!existing[i])
                ids[i] = m.ids[slot[i]];
        }
        for (size_t i = 0; i < done; i++) {
            if (pending[i] != SIZE_MAX)
                ids[i] = ids[pending[i]];
        }
        *out_done = done;
        *out_stop = stop;
    }
    for (size_t i = 0; i < 8; i++)
        cc_buf_release(&m.a[i]);
    free(m.ids);
    free(slot);
    return err;
}

/* One transaction, one INSERT for the batch; the jobs before the first
 * that cannot be queued are committed. A dedup key taken meanwhile by
 * another session (the unique index refuses the INSERT): the jobs go one
 * by one through job_enqueue, which handles that race. */
cc_err pg__job_enqueue_batch(struct store *st, const struct store_job *jobs, size_t n,
                             unsigned queue_limit, int64_t *out_ids, bool *out_existing,
                             size_t *out_done)
{
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *c = NULL;
    int64_t *ids = cc_xcalloc(n + 1, sizeof(*ids));
    bool *existing = cc_xcalloc(n + 1, sizeof(*existing));
    size_t *pending = cc_xcalloc(n + 1, sizeof(*pending));
    size_t done = 0;
    cc_err stop = CC_OK;
    *out_done = 0;
    cc_err err = pg__conn_get(s, &c);
    if (!err) {
        err = pg__begin(s, c);
        if (!err)
            err = enqueue_many_tx(s, c, jobs, n, queue_limit, ids, existing, pending, &done,
                                  &stop);
        if (!err)
            err = pg__commit(s, c);
        if (err)
            pg__rollback(s, c);
        pg__conn_put(s, c);
    }
    if (err == CC_ECONFLICT) {
        err = CC_OK;
        for (done = 0; !err && done < n; done++) {
            stop = pg__job_enqueue(st, &jobs[done], queue_limit, &ids[done], &existing[done]);
            if (stop)
                break;
        }
    }
    if (!err) {
        for (size_t i = 0; i < done; i++) {
            if (out_ids)
                out_ids[i] = ids[i];
            if (out_existing)
                out_existing[i] = existing[i];
        }
        *out_done = done;
    }
    free(ids);
    free(existing);
    free(pending);
    return err ? err : stop;
}

struct claim_many {
    struct job_copy *v;
    size_t n, cap;
};

static void row_claim_many(const struct pg_row *r, void *ctx)
{
    struct claim_many *m = ctx;
    if (m->n < m->cap)
        row_job_copy(r, &m->v[m->n++]);
}

static int claim_cmp(const void *a, const void *b)
{
    const struct job_copy *x = a, *y = b;
    if (x->j.next_run_ms != y->j.next_run_ms)
        return x->j.next_run_ms < y->j.next_run_ms ? -1 : 1;
    return (x->j.id > y->j.id) - (x->j.id < y->j.id);
}

/* One statement claims up to max jobs (job_claim's, with LIMIT max); the
 * copies go to the callback in claim order after it committed. */
cc_err pg__job_claim_batch(struct store *st, const char *owner, int64_t now_ms, int64_t lease_ms,
                           size_t max, store_job_cb cb, void *arg)
{
    struct pg_store *s = pg__from_store(st);
    if (!owner || !*owner || !cb || lease_ms <= 0 || now_ms < 0 ||
        now_ms > INT64_MAX - lease_ms || max == 0)
        return CC_EINVAL;
    struct claim_many m = {.v = cc_xcalloc(max, sizeof(*m.v)), .cap = max};
    cc_err err = pg__run(s, PS_JOB_CLAIM_MANY,
                         QPARAMS(QI(now_ms), QT(owner), QI(now_ms + lease_ms), QI(max)),
                         row_claim_many, &m, NULL);
    if (!err && m.n == 0)
        err = CC_ENOTFOUND;
    qsort(m.v, m.n, sizeof(*m.v), claim_cmp);
    for (size_t i = 0; i < m.n; i++) {
        if (!err)
            cb(arg, &m.v[i].j);
        job_copy_release(&m.v[i]);
    }
    free(m.v);
    return err;
}
