/*
 * store_sql_webhooks.c - webhook deliveries, both SQL backends (store.h,
 * "webhooks"; docs/WEBHOOKS.md).
 *
 * A delivery is recorded and its jobs queued in one write transaction, so
 * a crash leaves either both or neither: a delivery retried after a crash
 * or a full queue is new, never a duplicate that queued nothing. The
 * insert (with the number of jobs, all of which are queued or none) is
 * "ON CONFLICT DO NOTHING RETURNING id" on both dialects: no row
 * back means the delivery is a duplicate (on PostgreSQL a concurrent
 * insert of the same key waits for the other transaction, then sees it).
 */
#include <string.h>

#include "store/store_sql.h"

const struct store_sql_stmt store__sql_webhook_stmts[SQL__COUNT] = {
    [SQL_WEBHOOK_INSERT] = {.name = "webhook_insert", .sql =
        "INSERT INTO webhook_deliveries (provider, delivery_id, source_id, event, received_ms,"
        " jobs) VALUES (?1, ?2, NULLIF(CAST(?3 AS BIGINT), 0), ?4, ?5, ?6)"
        " ON CONFLICT (provider, delivery_id) DO NOTHING RETURNING id"},
    [SQL_WEBHOOK_PRUNE_SOME] = {.name = "webhook_prune_some", .sql =
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries"
        " WHERE received_ms < ?1 ORDER BY received_ms LIMIT ?2)"},
    [SQL_WEBHOOK_PRUNE] = {.name = "webhook_prune", .sql =
        "DELETE FROM webhook_deliveries WHERE received_ms < ?1"},
};

static void row_first_id(struct store_sql_row *r, void *ctx)
{
    int64_t *id = ctx;
    if (*id == 0)
        *id = store__sql_int(r, 0);
}

/* One try in one write transaction. *out_stop: the queue's refusal that
 * rolled the delivery back (no database error). */
static cc_err delivery_try(struct store *st, struct store_sql_conn *c,
                           const struct store_delivery *d, const struct store_job *jobs,
                           size_t n, unsigned queue_limit, int64_t *out_ids,
                           bool *out_existing, bool *out_duplicate, cc_err *out_stop)
{
    const struct store_sql_dialect *dl = ((struct store_sql *)st)->dialect;
    int64_t row = 0;
    size_t done = 0;
    cc_err stop = CC_OK;
    cc_err err = dl->begin(st, c, STORE_SQL_WRITE);
    if (!err && d->prune_before_ms > 0)
        err = dl->query(st, c, SQL_WEBHOOK_PRUNE_SOME,
                        SQL_PARAMS(SQL_I(d->prune_before_ms), SQL_I(STORE_DELIVERY_PRUNE_MAX)),
                        NULL, NULL, NULL);
    if (!err)
        err = dl->query(st, c, SQL_WEBHOOK_INSERT,
                        SQL_PARAMS(SQL_T(d->provider), SQL_T(d->delivery_id),
                                   SQL_I(d->source_id), SQL_T(d->event), SQL_I(d->received_ms),
                                   SQL_I(n)),
                        row_first_id, &row, NULL);
    if (!err && row && n)
        err = store__sql_job_enqueue_on(st, c, jobs, n, queue_limit, out_ids, out_existing,
                                        &done, &stop);
    if (!err && !stop)
        err = dl->commit(st, c);
    if (err || stop)
        dl->rollback(st, c);
    *out_stop = err ? CC_OK : stop;
    if (!err && !stop)
        *out_duplicate = row == 0;
    return err;
}

cc_err store__sql_webhook_delivery(struct store *st, const struct store_delivery *d,
                                   const struct store_job *jobs, size_t n,
                                   unsigned queue_limit, int64_t *out_ids, bool *out_existing,
                                   bool *out_duplicate)
{
    const struct store_sql_dialect *dl = ((struct store_sql *)st)->dialect;
    struct store_sql_conn *c = NULL;
    cc_err stop = CC_OK;
    bool dup = false;
    cc_err err = dl->conn_get(st, STORE_SQL_WRITE, &c);
    if (err)
        return err;
    /* A dedup key taken by a concurrent enqueue ends in the unique index
     * (PostgreSQL, several daemons); once more sees the winner. */
    for (int attempt = 0; attempt < 2; attempt++) {
        err = delivery_try(st, c, d, jobs, n, queue_limit, out_ids, out_existing, &dup, &stop);
        if (err != CC_ECONFLICT)
            break;
    }
    dl->conn_put(st, STORE_SQL_WRITE, c);
    if (err || stop)
        return err ? err : stop;
    *out_duplicate = dup;
    return CC_OK;
}

cc_err store__sql_webhook_prune(struct store *st, int64_t before_ms, int64_t *out_deleted)
{
    int64_t rows = 0;
    cc_err err = store__sql_run(st, STORE_SQL_WRITE, SQL_WEBHOOK_PRUNE,
                                SQL_PARAMS(SQL_I(before_ms)), NULL, NULL, &rows);
    if (!err && out_deleted)
        *out_deleted = rows;
    return err;
}
