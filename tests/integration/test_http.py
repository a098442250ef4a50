"""The HTTP API of docs/API.md, route by route and status by status, against
the real daemon."""

import re
import subprocess
import sys
import time
import uuid

import pytest

from conftest import (TOKEN_RE, assert_error, assert_security_headers, http_request,
                      parse_raw_response, raw_request)


def rid():
    return "itest-" + uuid.uuid4().hex


# --------------------------------------------------------------------------
# public routes

def test_health_answers_ok(served):
    r = served.get("/health")
    assert r.status == 200
    assert (r.header("Content-Type") or "").startswith("application/json")
    assert r.json == {"status": "ok"}
    assert_security_headers(r)


def test_ready_reports_store_check(served):
    r = served.get("/ready")
    assert r.status == 200, r
    j = r.json
    assert j["status"] == "ready"
    assert isinstance(j["checks"]["store"], dict), j
    assert_security_headers(r)


def test_hub_index_is_served_without_token(served):
    r = served.get("/")
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").startswith("text/html"), r.header("Content-Type")
    assert b"<html" in r.body.lower() or b"<!doctype html" in r.body.lower()
    assert_security_headers(r, api=False)


def test_hub_unknown_file_is_404(served):
    r = served.get("/hub/no-such-file-%s.js" % uuid.uuid4().hex)
    assert_error(r, 404, "ENOTFOUND")


# --------------------------------------------------------------------------
# /ready 503 while the store is locked

# The daemon keeps its SQLite connections open in WAL mode, and an open WAL
# connection holds a shared lock on the database file, so no other process can
# take the whole file EXCLUSIVE while the daemon runs. What another process
# *can* do is hold the WAL-index read locks (bytes 123..127 of the -shm file,
# SQLite's WAL_READ_LOCK(0..4)): then no read transaction can start and every
# query against a table fails, which is "the store does not answer". Without a
# -shm file (not WAL) the helper falls back to PRAGMA locking_mode=EXCLUSIVE +
# BEGIN EXCLUSIVE. The lock lives in a child process, because closing any
# descriptor of a file drops all of a process's POSIX locks on it.
LOCK_HELPER = r"""
import fcntl, os, sqlite3, sys, time
db = sys.argv[1]
shm = db + "-shm"
deadline = time.monotonic() + 10
if os.path.exists(shm):
    fd = os.open(shm, os.O_RDWR)
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 123, os.SEEK_SET)
            break
        except OSError as e:
            if time.monotonic() > deadline:
                print("FAILED shm lock: %s" % e, flush=True)
                sys.exit(1)
            time.sleep(0.01)
    print("LOCKED shm", flush=True)
    sys.stdin.read()
    sys.exit(0)
while True:
    try:
        c = sqlite3.connect(db, timeout=0.2, isolation_level=None)
        c.execute("PRAGMA locking_mode=EXCLUSIVE").fetchall()
        c.execute("BEGIN EXCLUSIVE")
        c.execute("CREATE TABLE IF NOT EXISTS itest_lock(x)")
        break
    except sqlite3.OperationalError as e:
        if time.monotonic() > deadline:
            print("FAILED exclusive lock: %s" % e, flush=True)
            sys.exit(1)
        time.sleep(0.05)
print("LOCKED exclusive", flush=True)
sys.stdin.read()
c.execute("ROLLBACK")
c.close()
"""


def test_ready_is_503_while_store_is_locked_and_recovers(daemon):
    d = daemon(env={"CC_STORE_BUSY_TIMEOUT": "200ms"})
    assert d.get("/ready").status == 200
    db = d.data_dir / "commandcenter.db"
    assert db.exists(), "store file %s missing" % db

    locker = subprocess.Popen([sys.executable, "-c", LOCK_HELPER, str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = locker.stdout.readline().strip()
        assert line.startswith("LOCKED"), "could not lock the store %s: %r" % (db, line)
        t0 = time.monotonic()
        r = d.get("/ready", timeout=60)
        took = time.monotonic() - t0
        assert r.status == 503, r
        j = r.json
        assert j["status"] == "not_ready", j
        assert isinstance(j.get("checks", {}).get("store"), dict), j
        ra = r.header("Retry-After")
        assert ra and ra.isdigit() and int(ra) >= 1, "Retry-After %r" % ra
        assert_security_headers(r)
        # SQLite itself retries a blocked WAL read for about 10 s whatever
        # busy_timeout says; beyond that the probe would be hanging.
        assert took < 15.0, "/ready took %.1fs to say the store is down" % took
        # liveness does not depend on the store
        assert d.get("/health").status == 200
    finally:
        locker.stdin.close()
        locker.wait(timeout=10)

    deadline = time.monotonic() + 10
    while True:
        r = d.get("/ready", timeout=30)
        if r.status == 200:
            break
        assert time.monotonic() < deadline, \
            "/ready did not recover after the lock was released: %r" % r
        time.sleep(0.2)
    assert r.json["status"] == "ready"


# --------------------------------------------------------------------------
# 400

@pytest.mark.parametrize("path", ["/api/v1/tokens/%zz", "/health%", "/%G1", "/api/v1/%2"])
def test_bad_percent_escape_is_400(served, path):
    r = served.request("GET", path, token=served.admin_token)
    assert_error(r, 400)
    served.assert_serving()


def test_bad_query_value_is_400(served):
    r = served.get("/api/v1/events?after=not-a-number", token=served.admin_token)
    assert_error(r, 400)
    r = served.get("/api/v1/events?limit=%zz", token=served.admin_token)
    assert_error(r, 400)
    served.assert_serving()


@pytest.mark.parametrize("body", [b'{"name": "x", ', b"[1, 2, 3]", b"not json at all", b""])
def test_bad_json_body_is_400(served, body):
    r = served.request("POST", "/api/v1/tokens", body=body, token=served.admin_token,
                       content_type="application/json")
    assert_error(r, 400)
    served.assert_serving()


@pytest.mark.parametrize("doc", [{"name": "x", "scope": "superuser"}, {"scope": "read"},
                                 {"name": "", "scope": "read"}, {"name": 42, "scope": "read"},
                                 {"name": "n" * 65, "scope": "read"}])
def test_bad_field_value_is_400(served, doc):
    r = served.request("POST", "/api/v1/tokens", json_body=doc, token=served.admin_token)
    assert_error(r, 400)


# --------------------------------------------------------------------------
# 401 / 403

def test_no_token_is_401_with_www_authenticate(served):
    r = served.get("/api/v1/status")
    assert_error(r, 401, "EAUTH")
    assert (r.header("WWW-Authenticate") or "").startswith("Bearer"), r.header("WWW-Authenticate")


@pytest.mark.parametrize("auth", [
    "Bearer " + "cc_" + "A" * 43,           # well-formed but unknown
    "Bearer not-a-token",
    "Bearer",
    "Basic dXNlcjpwYXNzd29yZA==",
    "cc_" + "A" * 43,                       # no scheme
])
def test_bad_authorization_is_401(served, auth):
    r = served.get("/api/v1/status", headers={"Authorization": auth})
    assert_error(r, 401, "EAUTH")
    assert (r.header("WWW-Authenticate") or "").startswith("Bearer")
    served.assert_serving()


def test_read_token_cannot_use_admin_routes(served):
    tok = served.create_token("reader-403")["token"]
    r = served.request("POST", "/api/v1/tokens", token=tok,
                       json_body={"name": "sneaky", "scope": "admin"})
    assert_error(r, 403, "EPERM")
    r = served.get("/api/v1/tokens", token=tok)
    assert_error(r, 403, "EPERM")
    r = served.request("DELETE", "/api/v1/tokens/1", token=tok)
    assert_error(r, 403, "EPERM")
    # read routes are fine
    assert served.get("/api/v1/status", token=tok).status == 200
    assert served.get("/api/v1/events", token=tok).status == 200
    # and the token the reader tried to create does not exist
    names = [t["name"] for t in served.admin("GET", "/api/v1/tokens").json["tokens"]]
    assert "sneaky" not in names


# --------------------------------------------------------------------------
# 404 / 405 / 409

def test_unknown_path_is_404(served):
    r = served.get("/no/such/route")
    assert_error(r, 404, "ENOTFOUND")
    r = served.get("/api/v1/tokens/", token=served.admin_token)   # trailing slash is not ignored
    assert_error(r, 404, "ENOTFOUND")


def test_unknown_token_id_is_404(served):
    r = served.admin("DELETE", "/api/v1/tokens/987654321")
    assert_error(r, 404, "ENOTFOUND")


def test_wrong_method_is_405_with_allow(served):
    r = served.request("DELETE", "/health")
    assert_error(r, 405, "EMETHOD")
    allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
    assert "GET" in allow and "DELETE" not in allow, r.header("Allow")

    r = served.request("PUT", "/api/v1/tokens", token=served.admin_token,
                       json_body={"name": "x"})
    assert_error(r, 405)
    allow = {m.strip() for m in (r.header("Allow") or "").split(",")}
    assert {"GET", "POST"} <= allow and "PUT" not in allow, r.header("Allow")

    r = served.request("GET", "/api/v1/tokens/1", token=served.admin_token)
    assert_error(r, 405)
    assert "DELETE" in (r.header("Allow") or ""), r.header("Allow")
    served.assert_serving()


def test_duplicate_token_name_is_409(served):
    served.create_token("dup-name")
    r = served.admin("POST", "/api/v1/tokens", json_body={"name": "dup-name", "scope": "admin"})
    assert_error(r, 409, "ECONFLICT")
    names = [t["name"] for t in served.admin("GET", "/api/v1/tokens").json["tokens"]]
    assert names.count("dup-name") == 1


# --------------------------------------------------------------------------
# 413 / 415

def test_body_over_limit_is_413(served):
    big = '{"name":"big","scope":"read","pad":"%s"}' % ("x" * 16 * 1024)
    r = served.request("POST", "/api/v1/tokens", body=big, token=served.admin_token,
                       content_type="application/json")
    assert_error(r, 413)
    served.assert_serving()


def test_body_over_configured_limit_is_413(daemon):
    # http.max_body_bytes is the documented limit: a 2 KiB body is over 1 KiB
    d = daemon(env={"CC_HTTP_MAX_BODY_BYTES": "1024"})
    big = '{"name":"big","scope":"read","pad":"%s"}' % ("x" * 2000)
    r = d.request("POST", "/api/v1/tokens", body=big, token=d.admin_token,
                  content_type="application/json")
    assert_error(r, 413)
    # under the limit still works
    r = d.admin("POST", "/api/v1/tokens", json_body={"name": "small", "scope": "read"})
    assert r.status == 201, r
    d.assert_serving()


def chunked_post(d, body):
    payload = (b"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               b"Authorization: Bearer " + d.admin_token.encode() + b"\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    data = raw_request(d.host, d.port, payload)
    assert data, "the daemon closed the connection without any answer to a chunked POST " \
                 "of %d bytes" % len(body)
    return parse_raw_response(data)


def test_chunked_body_over_limit_is_413(daemon):
    d = daemon(env={"CC_HTTP_MAX_BODY_BYTES": "1024"})
    # a small chunked body is fine
    status, _, _ = chunked_post(d, b'{"name":"chunky","scope":"read"}')
    assert status == 201
    # no Content-Length to check up front: the limit must still hold, with an answer
    status, hdrs, body = chunked_post(d, b'{"name":"big","scope":"read","pad":"' + b"x" * 8000 + b'"}')
    assert status == 413, body[:300]
    assert hdrs.get("x-request-id")
    d.assert_serving()


def test_headers_over_limit_are_413(daemon):
    d = daemon(env={"CC_HTTP_MAX_HEADER_BYTES": "8KiB"})
    r = d.get("/health", headers={"X-Padding": "p" * 16000})
    assert_error(r, 413)
    # a request whose headers fit is fine
    r = d.get("/health", headers={"X-Padding": "p" * 2000})
    assert r.status == 200
    d.assert_serving()


def test_wrong_content_type_is_415(served):
    r = served.request("POST", "/api/v1/tokens", body='{"name":"t415","scope":"read"}',
                       token=served.admin_token, content_type="text/plain")
    assert_error(r, 415)
    r = served.request("POST", "/api/v1/tokens", body='{"name":"t415","scope":"read"}',
                       token=served.admin_token)       # no Content-Type at all
    assert_error(r, 415)
    # charset parameter is fine
    r = served.request("POST", "/api/v1/tokens", body='{"name":"t415","scope":"read"}',
                       token=served.admin_token, content_type="application/json; charset=utf-8")
    assert r.status == 201, r


# --------------------------------------------------------------------------
# 429

def test_rate_limit_is_429_with_retry_after(daemon):
    d = daemon(env={"CC_HTTP_RATE_LIMIT_RPS": "1", "CC_HTTP_RATE_LIMIT_BURST": "3"})
    tok = d.admin_token
    statuses = []
    limited = None
    for _ in range(10):
        r = d.get("/api/v1/status", token=tok)
        statuses.append(r.status)
        if r.status == 429:
            limited = limited or r
    assert set(statuses) <= {200, 429}, statuses
    ok = statuses.count(200)
    assert 3 <= ok <= 5, "burst 3 at 1 rps let %d of 10 quick requests through: %s" % (ok, statuses)
    assert limited is not None
    assert statuses[:3] == [200, 200, 200], statuses
    assert_error(limited, 429)
    ra = limited.header("Retry-After")
    assert ra and ra.isdigit() and 1 <= int(ra) <= 5, "Retry-After %r" % ra
    # after waiting as told, requests go through again
    time.sleep(int(ra) + 0.2)
    r = d.get("/api/v1/status", token=tok)
    assert r.status == 200, r


# --------------------------------------------------------------------------
# headers on every response

CASES = [
    ("GET", "/health", None, 200),
    ("GET", "/ready", None, 200),
    ("GET", "/nope", None, 404),
    ("GET", "/api/v1/status", None, 401),
    ("DELETE", "/health", None, 405),
    ("GET", "/api/v1/tokens", "admin", 200),
    ("GET", "/api/v1/tokens/%zz", "admin", 400),
    ("GET", "/api/v1/status", "admin", 200),
    ("GET", "/api/v1/events", "admin", 200),
]


@pytest.mark.parametrize("method,path,auth,status", CASES)
def test_every_response_has_security_headers_and_request_id(served, method, path, auth, status):
    tok = served.admin_token if auth else None
    r = served.request(method, path, token=tok)
    assert r.status == status, r
    assert_security_headers(r, api=True)
    # the client's own id is echoed
    mine = rid()
    r = served.request(method, path, token=tok, headers={"X-Request-Id": mine})
    assert r.status == status
    assert r.header("X-Request-Id") == mine


def test_request_ids_are_generated_and_unique(served):
    a = served.get("/health").header("X-Request-Id")
    b = served.get("/health").header("X-Request-Id")
    assert a and b and a != b


@pytest.mark.parametrize("bad", ["<script>alert(1)</script>", "x" * 500, "a b c", ""])
def test_insane_request_id_is_replaced(served, bad):
    r = served.get("/health", headers={"X-Request-Id": bad})
    assert r.status == 200
    got = r.header("X-Request-Id")
    assert got and got != bad and re.match(r"^[\x21-\x7e]{1,128}$", got), got


# --------------------------------------------------------------------------
# resources

def test_status_answers_version_and_store(served):
    r = served.get("/api/v1/status", token=served.admin_token)
    assert r.status == 200, r
    j = r.json
    assert isinstance(j.get("version"), str) and re.match(r"^\d+\.\d+\.\d+", j["version"]), j
    assert_security_headers(r)


def test_events_answer_shape_and_paging(served):
    r = served.get("/api/v1/events", token=served.admin_token)
    assert r.status == 200, r
    assert_security_headers(r)
    j = r.json
    assert isinstance(j["events"], list) and isinstance(j["last_id"], int), j
    for e in j["events"]:
        assert {"id", "ts", "kind", "project", "service", "message"} <= set(e), e
    ids = [e["id"] for e in j["events"]]
    assert ids == sorted(ids), "events not oldest first: %s" % ids
    if ids:
        assert j["last_id"] == ids[-1], j
    # the cursor: nothing at or before last_id comes back (events may be added meanwhile)
    r = served.get("/api/v1/events?after=%d&limit=1" % j["last_id"], token=served.admin_token)
    assert r.status == 200
    assert len(r.json["events"]) <= 1
    assert all(e["id"] > j["last_id"] for e in r.json["events"]), r.json
    r = served.get("/api/v1/events?limit=1", token=served.admin_token)
    assert r.status == 200 and len(r.json["events"]) <= 1


def test_token_lifecycle_create_use_delete(served):
    r = served.admin("POST", "/api/v1/tokens", json_body={"name": "ci", "scope": "read"})
    assert r.status == 201, r
    assert_security_headers(r)
    t = r.json
    assert {"id", "name", "scope", "created_at", "token"} <= set(t), t
    assert t["name"] == "ci" and t["scope"] == "read"
    assert TOKEN_RE.match(t["token"]), t["token"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", t["created_at"]), t["created_at"]

    # listed, without the secret
    r = served.admin("GET", "/api/v1/tokens")
    assert r.status == 200
    assert t["token"].encode() not in r.body
    listed = [x for x in r.json["tokens"] if x["id"] == t["id"]]
    assert len(listed) == 1
    assert {"id", "name", "scope", "created_at"} <= set(listed[0])
    assert "hash" not in listed[0] and "token" not in listed[0]
    assert "token" not in listed[0]

    # usable
    r = served.get("/api/v1/status", token=t["token"])
    assert r.status == 200, r

    # deleted: 204 with no body, then the token is refused and gone
    r = served.admin("DELETE", "/api/v1/tokens/%s" % t["id"])
    assert r.status == 204, r
    assert r.body == b""
    assert_security_headers(r)
    r = served.get("/api/v1/status", token=t["token"])
    assert_error(r, 401, "EAUTH")
    r = served.admin("DELETE", "/api/v1/tokens/%s" % t["id"])
    assert_error(r, 404, "ENOTFOUND")
    ids = [x["id"] for x in served.admin("GET", "/api/v1/tokens").json["tokens"]]
    assert t["id"] not in ids


def test_created_admin_token_can_administer(served):
    t = served.create_token("second-admin", scope="admin")
    r = served.request("POST", "/api/v1/tokens", token=t["token"],
                       json_body={"name": "made-by-second", "scope": "read"})
    assert r.status == 201, r


# --------------------------------------------------------------------------
# robustness and access log

GARBAGE = [
    b"\x00\x01\x02\x03garbage\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
    b"BREW /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\nConnection: close\r\n\r\n",
    b"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
    b"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n"
    b"Connection: close\r\n\r\n",
    b"GET /" + b"a/" * 3000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\n",     # never finished
]


def test_daemon_survives_garbage(served):
    for g in GARBAGE:
        raw_request(served.host, served.port, g, timeout=2.0, half_close=True)
        served.assert_serving()
    r = http_request(served.url, "GET", "/../../etc/passwd")
    assert r.status in (400, 404), r
    assert b"root:" not in r.body


def test_access_log_has_one_line_per_request_with_route_template(served):
    created = served.create_token("log-me")
    cases = [
        ("GET", "/health", None, 200, "/health"),
        ("DELETE", "/api/v1/tokens/%s" % created["id"], "admin", 204, "/api/v1/tokens/{id}"),
        ("DELETE", "/api/v1/tokens/424242", "admin", 404, "/api/v1/tokens/{id}"),
        ("GET", "/definitely/unknown", None, 404, "unmatched"),
        ("GET", "/api/v1/status", None, 401, "/api/v1/status"),
    ]
    for method, path, auth, status, route in cases:
        mine = rid()
        r = served.request(method, path, token=served.admin_token if auth else None,
                           headers={"X-Request-Id": mine})
        assert r.status == status, (path, r)
        lines = served.request_log(mine)
        assert len(lines) == 1, "want one access-log line for %s %s, got %r" % (method, path, lines)
        e = lines[0]
        assert e["method"] == method, e
        assert e["path"] == path.split("?")[0], e
        assert e["route"] == route, e
        assert int(e["status"]) == status, e
        assert isinstance(e["duration_ms"], (int, float)) and e["duration_ms"] >= 0, e
    # the tokens themselves never appear in the log
    text = served.stderr_text()
    assert served.admin_token not in text
    assert created["token"] not in text


# --------------------------------------------------------------------------
# bytes that are not UTF-8 once percent-decoded

@pytest.mark.parametrize("target", [
    "/api/v1/knowledge/search?q=%FF",
    "/api/v1/knowledge/search?q=caf%C3",
    "/api/v1/projects/%FF",
    "/api/v1/sources/%C3%28",
    "/api/v1/jobs?state=%ED%A0%80",
])
def test_non_utf8_after_decoding_is_400(served, target):
    """Not a 500 or an 'EIO' 404: a clear 400 that says what to fix, and the
    daemon keeps answering."""
    r = served.get(target, token=served.admin_token)
    assert_error(r, 400, "EINVAL")
    assert "UTF-8" in r.json["error"]["hint"]
    assert served.get("/health").status == 200


def test_utf8_in_paths_and_queries_is_fine(served):
    r = served.get("/api/v1/knowledge/search?q=caf%C3%A9", token=served.admin_token)
    assert r.status == 200, r
    assert r.json["query"] == "caf\u00e9"
    assert_error(served.get("/api/v1/sources/caf%C3%A9", token=served.admin_token), 404,
                 "ENOTFOUND")


def test_request_lines_are_debug_by_default(daemon):
    """A console is not an access log: request lines are at debug unless
    log.requests is info (the test fixture sets info for request_log())."""
    marker = "/api/v1/nosuch-%s" % uuid.uuid4().hex
    d = daemon(env={"CC_LOG_REQUESTS": "debug", "CC_LOG_LEVEL": "debug"})
    d.get(marker)
    line = d.wait_log(lambda e: e.get("msg") == "request" and e.get("path") == marker,
                      what="the request line")
    assert line["level"] == "debug", line
    # at the default level they are not written at all; once the daemon has
    # stopped every request's line would have been written
    d2 = daemon(env={"CC_LOG_REQUESTS": "debug"})
    assert d2.get(marker).status in (401, 404)
    assert d2.stop() == 0
    assert not [e for e in d2.logs() if e.get("msg") == "request"], "request lines at info"
    d3 = daemon(env={"CC_LOG_REQUESTS": "info"})
    d3.get(marker)
    line = d3.wait_log(lambda e: e.get("msg") == "request" and e.get("path") == marker,
                       what="the request line at info")
    assert line["level"] == "info", line
