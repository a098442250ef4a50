"""The PostgreSQL store (docs/STORE.md, "PostgreSQL"): two daemons on one
database share the job queue without running a job twice (job_claim uses
FOR UPDATE SKIP LOCKED), and search answers like it does on SQLite.

Needs $CC_TEST_PG_DSN (scripts/test.sh starts a server with
scripts/postgres.sh); without it these tests FAIL with a hint, never skip.
Each test gets its own schema, dropped afterwards."""

import os
import subprocess
import threading
import time
import uuid

import pytest

from conftest import job_counts, new_token, post_document, search

PSQL = "/usr/lib/postgresql/15/bin/psql"
N_DOCS = 1000


def pg_base_dsn():
    dsn = os.environ.get("CC_TEST_PG_DSN", "")
    if not dsn:
        pytest.fail("CC_TEST_PG_DSN is not set: start a server with\n"
                    "  eval \"$(scripts/postgres.sh start /tmp/ccpg)\"; export CC_TEST_PG_DSN\n"
                    "(scripts/test.sh does this itself)")
    return dsn


def psql(dsn, sql):
    """Rows of one query (tab-separated fields)."""
    out = subprocess.run([PSQL, "-X", "-qAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", dsn,
                          "-c", sql], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, "psql %r: %s" % (sql, out.stderr)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


@pytest.fixture
def pg_schema():
    base = pg_base_dsn()
    schema = "cc_it_" + uuid.uuid4().hex[:12]
    psql(base, "CREATE SCHEMA %s" % schema)
    dsn = "%s options='-csearch_path=%s'" % (base, schema)
    yield dsn
    psql(base, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE" % schema)


def pg_daemon(daemon, dsn, token, **env):
    base = {"CC_STORE_DRIVER": "postgres", "CC_STORE_POSTGRES_DSN": dsn, "CC_HTTP_RATE_LIMIT_RPS": "0",
            "CC_AUTH_ADMIN_TOKEN": token, "CC_STORE_POOL_SIZE": "4"}
    base.update(env)
    d = daemon(env=base)
    d._admin_token = token
    return d


def test_two_daemons_share_the_queue_and_run_each_job_once(daemon, pg_schema):
    token = new_token()
    env = {"CC_JOBS_WORKERS": "3", "CC_JOBS_POLL": "50ms", "CC_JOBS_QUEUE_PER_SOURCE": "5000",
           "CC_JOBS_LEASE": "60s"}
    a = pg_daemon(daemon, pg_schema, token, **env)
    b = pg_daemon(daemon, pg_schema, token, **env)
    assert a.admin("GET", "/ready").status == 200
    assert b.admin("GET", "/ready").status == 200

    # 1,000 documents queued through both daemons at once
    errors = []

    def poster(d, start):
        try:
            for i in range(start, N_DOCS, 4):
                post_document(d, content="# Doc %d\n\nsharedqueue%04d body text.\n" % (i, i),
                              external_id="doc%04d" % i)
        except AssertionError as e:
            errors.append(str(e))

    threads = [threading.Thread(target=poster, args=(d, s))
               for d, s in ((a, 0), (b, 1), (a, 2), (b, 3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]

    deadline = time.monotonic() + 600
    while True:
        c = job_counts(a)
        if c["succeeded"] >= N_DOCS and c["queued"] + c["running"] + c["failed"] == 0:
            break
        assert time.monotonic() < deadline, "queue did not drain: %r" % c
        time.sleep(0.2)
    assert c["dead"] == 0, c

    rows = psql(pg_schema, "SELECT count(*), min(attempts), max(attempts), "
                           "count(DISTINCT lease_owner) FROM jobs WHERE kind = 'ingest.document'")
    total, lo, hi, _ = rows[0]
    assert (int(total), int(lo), int(hi)) == (N_DOCS, 1, 1), rows
    docs = psql(pg_schema, "SELECT count(*), count(DISTINCT external_id) FROM documents")[0]
    assert (int(docs[0]), int(docs[1])) == (N_DOCS, N_DOCS), docs
    dup = psql(pg_schema, "SELECT count(*) FROM (SELECT document_id, ord FROM chunks "
                          "GROUP BY document_id, ord HAVING count(*) > 1) x")[0][0]
    assert int(dup) == 0, dup
    totals = psql(pg_schema, "SELECT (SELECT nrows FROM fts_totals) = (SELECT count(*) FROM chunks)")
    assert totals[0][0] == "t", totals

    # both daemons did work, and together exactly the 1,000 documents
    def ingested(d):
        r = d.admin("GET", "/metrics")
        assert r.status == 200, r
        n = 0
        for line in r.text.splitlines():
            if line.startswith("cc_ingest_documents_total{") and 'result="created"' in line:
                n += int(float(line.rsplit(" ", 1)[1]))
        return n
    na, nb = ingested(a), ingested(b)
    assert na > 0 and nb > 0 and na + nb == N_DOCS, (na, nb)

    # each document is found once, through either daemon
    for i in (0, 1, 499, 998, 999):
        for d in (a, b):
            res = search(d, "sharedqueue%04d" % i)["results"]
            assert len(res) == 1, (i, res)
            assert "<mark>" in res[0]["snippet"], res[0]


def test_search_and_ready_on_postgres(daemon, pg_schema):
    token = new_token()
    d = pg_daemon(daemon, pg_schema, token, CC_JOBS_POLL="50ms")
    r = d.get("/ready")
    assert r.status == 200, r
    post_document(d, content="# Install\n\nInstall the server from source & <build> it.\n",
                  external_id="install")
    post_document(d, content="# Notes\n\nNothing about that here, just gardening.\n",
                  external_id="notes")
    deadline = time.monotonic() + 60
    while job_counts(d)["succeeded"] < 2:
        assert time.monotonic() < deadline, job_counts(d)
        time.sleep(0.1)
    res = search(d, "installing servers")["results"]
    assert len(res) == 1, res
    assert "<mark>Install</mark>" in res[0]["snippet"], res[0]
    assert "&amp;" in res[0]["snippet"] and "&lt;build&gt;" in res[0]["snippet"], res[0]
    # user text never reaches the query parser as syntax
    for q in ("\"unbalanced", "a & | ! <-> :*", "'; DROP TABLE chunks; --", "\u2014"):
        search(d, q)
    assert psql(pg_schema, "SELECT count(*) FROM chunks")[0][0] != "0"
