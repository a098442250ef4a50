"""Webhooks (issue 9 item 4, SPEC 4, docs/WEBHOOKS.md): POST /api/v1/webhooks/github
and /api/v1/webhooks/generic/{source}. No bearer token: the HMAC-SHA256 signature is
the authentication, checked before anything is queued; delivery ids make a repeated
delivery a no-op; generic deliveries carry a timestamp inside a replay window."""

import hashlib
import hmac
import json
import time

import pytest

from conftest import (assert_error, create_source, get_job, parse_raw_response, raw_request,
                      search, wait_job, wait_queue_idle)

# GitHub's documentation, "Validating webhook deliveries": this secret and payload
# give this signature.
GH_DOC_SECRET = "It's a Secret to Everybody"
GH_DOC_PAYLOAD = b"Hello, World!"
GH_DOC_SIGNATURE = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github(d, event, body, secret=None, delivery="d-1", signature=None, headers=None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    h = {"Content-Type": "application/json", "X-GitHub-Event": event}
    if delivery is not None:
        h["X-GitHub-Delivery"] = delivery
    if signature is None and secret is not None:
        signature = sign(secret, body)
    if signature is not None:
        h["X-Hub-Signature-256"] = signature
    h.update(headers or {})
    return d.request("POST", "/api/v1/webhooks/github", body=body, headers=h)


def generic(d, source, body, secret, ts=None, delivery=None, signature=None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    ts = str(int(time.time()) if ts is None else ts)
    h = {"Content-Type": "application/json", "X-Timestamp": ts}
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                         hashlib.sha256).hexdigest()
    h["X-Signature-256"] = signature
    if delivery is not None:
        h["X-Delivery-Id"] = delivery
    return d.request("POST", "/api/v1/webhooks/generic/%s" % source, body=body, headers=h)


def secret_file(tmp_path, name, value):
    p = tmp_path / name
    p.write_text(value + "\n")
    p.chmod(0o600)
    return str(p)


def push_body(repo="acme/handbook", ref="refs/heads/main", commits=None, after="c0ffee" * 6):
    return {
        "ref": ref, "before": "0" * 40, "after": after, "deleted": False,
        "repository": {"full_name": repo, "default_branch": "main"},
        "commits": commits if commits is not None else [
            {"id": "1", "added": ["docs/a.md"], "modified": ["README.md"], "removed": []},
            {"id": "2", "added": ["docs/c.md"], "modified": ["docs/a.md"],
             "removed": ["docs/old.md"]},
            {"id": "3", "added": [], "modified": [], "removed": ["docs/c.md"]},
        ],
    }


def jobs_total(d):
    c = d.admin("GET", "/api/v1/jobs?limit=1").json["counts"]
    return sum(c.values())


def metric(d, provider, result):
    text = d.get("/metrics").text
    for ln in text.splitlines():
        if ln.startswith("cc_webhook_deliveries_total{") and \
                ('provider="%s"' % provider) in ln and ('result="%s"' % result) in ln:
            return float(ln.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def gh(daemon, tmp_path):
    """A daemon with GitHub's documentation secret as the global secret."""
    path = secret_file(tmp_path, "gh.secret", GH_DOC_SECRET)
    return daemon(config="webhooks:\n  github_secret_file: %s\n" % path)


# --------------------------------------------------------------------------
# GitHub: signatures

def test_github_documentation_example_verifies(gh):
    # GitHub's own example: its body is not JSON, so only a ping can use it
    r = github(gh, "ping", GH_DOC_PAYLOAD, signature="sha256=" + GH_DOC_SIGNATURE)
    assert r.status == 200, r
    assert r.json["pong"] is True, r.json
    # the same with upper-case hex digits
    r = github(gh, "ping", GH_DOC_PAYLOAD, signature="sha256=" + GH_DOC_SIGNATURE.upper())
    assert r.status == 200, r
    # one digit off, one byte of the body off: refused
    bad = GH_DOC_SIGNATURE[:-1] + ("0" if GH_DOC_SIGNATURE[-1] != "0" else "1")
    err = assert_error(github(gh, "ping", GH_DOC_PAYLOAD, signature="sha256=" + bad), 401,
                       "EAUTH")
    assert "signature" in err["message"], err
    assert_error(github(gh, "ping", b"Hello, World?", signature="sha256=" + GH_DOC_SIGNATURE),
                 401, "EAUTH")
    # our signing helper agrees with the documentation
    assert sign(GH_DOC_SECRET, GH_DOC_PAYLOAD) == "sha256=" + GH_DOC_SIGNATURE
    # a verified push whose body is not JSON is refused as bad input, not queued
    assert_error(github(gh, "push", GH_DOC_PAYLOAD, signature="sha256=" + GH_DOC_SIGNATURE),
                 400, "EINVAL")


def test_github_missing_or_malformed_signature(gh):
    before = jobs_total(gh)
    for sig in (None, "", "sha1=" + "0" * 40, "sha256=xyz", "sha256=" + "0" * 63,
                "sha256=" + "0" * 64):
        r = github(gh, "push", push_body(), signature=sig)
        assert_error(r, 401, "EAUTH")
    assert jobs_total(gh) == before
    assert metric(gh, "github", "bad_signature") >= 6


def test_github_needs_no_token_and_a_token_does_not_help(gh):
    body = json.dumps(push_body()).encode()
    r = github(gh, "push", body, signature=sign("wrong", body),
               headers={"Authorization": "Bearer " + gh.admin_token})
    assert_error(r, 401, "EAUTH")
    r = github(gh, "ping", body, secret=GH_DOC_SECRET)
    assert r.status == 200 and "Authorization" not in r.headers, r


def test_github_without_any_secret_refuses_everything(served):
    r = github(served, "ping", GH_DOC_PAYLOAD, signature="sha256=" + GH_DOC_SIGNATURE)
    assert_error(r, 401, "EAUTH")


def test_github_events_other_than_push_and_release_are_ignored(gh):
    before = jobs_total(gh)
    r = github(gh, "issues", {"action": "opened", "repository": {"full_name": "acme/x"}},
               secret=GH_DOC_SECRET, delivery="iss-1")
    assert r.status == 202, r
    assert r.json["ignored"] is True and r.json["delivery"] == "iss-1", r.json
    assert jobs_total(gh) == before
    assert metric(gh, "github", "ignored") >= 1
    # a push needs its delivery id
    assert_error(github(gh, "push", push_body(), secret=GH_DOC_SECRET, delivery=None), 400)


# --------------------------------------------------------------------------
# GitHub: what a delivery queues

def test_github_push_to_webhook_source_queues_paths_and_removes_documents(daemon, tmp_path):
    own = secret_file(tmp_path, "handbook.secret", "per-source secret")
    d = daemon()
    create_source(d, name="handbook", type="webhook",
                  options={"secret_file": own,
                           "github": {"repository": "Acme/Handbook", "secret_file": own,
                                      "path_prefix": "docs/"}})
    # documents the source got earlier, by generic delivery
    docs = [{"external_id": "docs/%s.md" % n, "title": n,
             "content": "# %s\n\nzeppelin %s manual" % (n, n)} for n in ("a", "old")]
    r = generic(d, "handbook", {"documents": docs}, "per-source secret")
    assert r.status == 202, r
    wait_queue_idle(d)
    assert len(search(d, "zeppelin")["results"]) == 2

    body = push_body()      # repository names compare without case
    r = github(d, "push", body, secret="per-source secret", delivery="push-1")
    assert r.status == 202, r
    a = r.json
    assert a["delivery"] == "push-1" and a["duplicate"] is False and a["event"] == "push", a
    assert len(a["queued"]) == 1, a
    q = a["queued"][0]
    assert q["kind"] == "source.run" and q["source"] == "handbook", q
    p = q["payload"]
    assert p["reason"] == "github push" and p["after"] == body["after"], p
    assert p["repository"] == "acme/handbook" and p["ref"] == "refs/heads/main", p
    # last change wins, deduplicated, README.md is outside the prefix
    assert p["changed"] == ["docs/a.md"], p
    assert sorted(p["removed"]) == ["docs/c.md", "docs/old.md"], p
    job = wait_job(d, q["job_id"])
    assert job["kind"] == "source.run" and job["state"] == "succeeded", job
    wait_queue_idle(d)
    hits = search(d, "zeppelin")["results"]
    assert [h["title"] for h in hits] == ["a"], hits
    assert metric(d, "github", "accepted") >= 1

    # the global secret (none here) does not reach a source with its own
    r = github(d, "push", body, secret=GH_DOC_SECRET, delivery="push-2")
    assert_error(r, 401, "EAUTH")


def test_github_duplicate_delivery_queues_nothing(gh):
    create_source(gh, name="hb", type="webhook",
                  options={"github": {"repository": "acme/handbook"}})
    r = github(gh, "push", push_body(), secret=GH_DOC_SECRET, delivery="dup-1")
    assert r.status == 202 and len(r.json["queued"]) == 1, r
    wait_queue_idle(gh)
    before = jobs_total(gh)
    for _ in range(3):
        r = github(gh, "push", push_body(), secret=GH_DOC_SECRET, delivery="dup-1")
        assert r.status == 200, r
        assert r.json["duplicate"] is True and r.json["queued"] == [], r.json
    assert jobs_total(gh) == before
    assert metric(gh, "github", "duplicate") == 3
    # another id is another delivery
    r = github(gh, "push", push_body(), secret=GH_DOC_SECRET, delivery="dup-2")
    assert r.status == 202 and len(r.json["queued"]) == 1, r


def test_github_push_branch_and_prefix_filters(gh):
    create_source(gh, name="hb", type="webhook",
                  options={"github": {"repository": "acme/handbook", "branch": "release",
                                      "path_prefix": "guide/"}})
    create_source(gh, name="other", type="webhook",
                  options={"github": {"repository": "acme/other"}})
    r = github(gh, "push", push_body(), secret=GH_DOC_SECRET, delivery="b-1")
    assert r.status == 202 and r.json["queued"] == [], r
    assert r.json["skipped"] == [{"source": "hb", "reason": "not the source's branch"}], r.json
    r = github(gh, "push", push_body(ref="refs/heads/release"), secret=GH_DOC_SECRET,
               delivery="b-2")
    assert r.status == 202 and r.json["queued"] == [], r
    assert "path_prefix" in r.json["skipped"][0]["reason"], r.json
    r = github(gh, "push", push_body(ref="refs/heads/release", commits=[
        {"added": ["guide/x.md", "../etc/passwd", "/abs.md", 7], "modified": [],
         "removed": []}]), secret=GH_DOC_SECRET, delivery="b-3")
    assert r.status == 202 and len(r.json["queued"]) == 1, r
    assert r.json["queued"][0]["payload"]["changed"] == ["guide/x.md"], r.json
    assert r.json["queued"][0]["source"] == "hb", r.json
    # tags never match
    r = github(gh, "push", push_body(ref="refs/tags/v1"), secret=GH_DOC_SECRET,
               delivery="b-4")
    assert r.status == 202 and r.json["queued"] == [], r


def test_github_push_to_docs_source_queues_a_run_with_changed_paths(gh):
    r = gh.admin("POST", "/api/v1/sources", json_body={
        "name": "site", "type": "docs", "url": "https://docs.example.test/",
        "options": {"github": {"repository": "acme/handbook", "path_prefix": "docs/"}}})
    assert r.status == 201, r
    r = github(gh, "push", push_body(), secret=GH_DOC_SECRET, delivery="docs-1")
    assert r.status == 202, r
    (q,) = r.json["queued"]
    assert q["source"] == "site" and q["kind"] == "source.run", q
    p = q["payload"]
    assert p["reason"] == "github push" and p["changed"] == ["docs/a.md"], p
    assert sorted(p["removed"]) == ["docs/c.md", "docs/old.md"], p
    assert p["source_id"] == get_job(gh, q["job_id"])["source_id"], p
    r = github(gh, "release", {"action": "published", "release": {"tag_name": "v2.1"},
                               "repository": {"full_name": "acme/handbook"}},
               secret=GH_DOC_SECRET, delivery="rel-1")
    assert r.status == 202, r
    (q,) = r.json["queued"]
    assert q["payload"]["reason"] == "github release" and q["payload"]["version"] == "v2.1", q


def test_github_options_are_checked_and_secrets_stay_in_files(served, tmp_path):
    d = served
    for opts in ({"github": {"repository": "acme"}}, {"github": "acme/x"},
                 {"github": {"repository": "acme/x", "secret": "inline"}},
                 {"github": {"repository": "acme/x", "secret_file": "relative"}},
                 {"github": {"repository": "acme/x", "bogus": 1}},
                 {"secret": "inline"}, {"secret_file": "relative/path"}):
        assert_error(create_source(d, expect=400, name="w", type="webhook", options=opts), 400)
    # options.github only where a delivery can reach
    assert_error(create_source(d, expect=400, name="m", type="manual",
                               options={"github": {"repository": "acme/x"}}), 400)
    # a webhook source points at nothing and runs on no schedule
    assert_error(create_source(d, expect=400, name="w", type="webhook",
                               url="https://example.test/"), 400)
    assert_error(create_source(d, expect=400, name="w", type="webhook", schedule="@daily"), 400)


# --------------------------------------------------------------------------
# Generic

@pytest.fixture
def gen(daemon, tmp_path):
    path = secret_file(tmp_path, "inbox.secret", "generic s3cret")
    d = daemon(config="webhooks:\n  replay_window: 60s\n")
    create_source(d, name="inbox", type="webhook", options={"secret_file": path})
    return d


def test_generic_documents_become_searchable(gen):
    d = gen
    body = {"documents": [
        {"external_id": "kb-1", "title": "Quokka care", "content": "# Quokka\n\nFeed quokkas leaves.",
         "tags": ["animals"], "url": "https://kb.example.test/1"},
        {"title": "Wombat care", "content": "Wombats dig burrows.", "content_type": "text/plain",
         "published": "2026-11-01T10:00:00Z"},
    ]}
    r = generic(d, "inbox", body, "generic s3cret", delivery="batch-1")
    assert r.status == 202, r
    a = r.json
    assert a["duplicate"] is False and len(a["queued"]) == 2, a
    assert [q["kind"] for q in a["queued"]] == ["ingest.document"] * 2, a
    assert a["queued"][0]["external_id"] == "kb-1", a
    for q in a["queued"]:
        assert wait_job(d, q["job_id"])["state"] == "succeeded"
    hits = search(d, "quokkas")["results"]
    assert hits and hits[0]["title"] == "Quokka care" and hits[0]["source"] == "inbox", hits
    assert search(d, "burrows")["results"][0]["title"] == "Wombat care"
    # the same delivery id again: acknowledged, nothing queued
    before = jobs_total(d)
    r = generic(d, "inbox", body, "generic s3cret", delivery="batch-1")
    assert r.status == 200 and r.json["duplicate"] is True and r.json["queued"] == [], r
    # without X-Delivery-Id the signature is the key: a replay is a duplicate
    ts = int(time.time())
    r = generic(d, "inbox", {"run": True}, "generic s3cret", ts=ts)
    assert r.status == 202, r
    r = generic(d, "inbox", {"run": True}, "generic s3cret", ts=ts)
    assert r.status == 200 and r.json["duplicate"] is True, r
    wait_queue_idle(d)
    assert jobs_total(d) == before + 1


def test_generic_replay_window_edges(gen):
    # The window is 60 s. The exact edges (60 s in, 60 s + 1 ms out) are checked on a
    # fixed clock in tests/unit/ingest/test_github.c; here a margin of 5 s on each side
    # keeps a busy machine's delay between signing and checking from deciding.
    d = gen
    before = jobs_total(d)
    for offset in (-600, 600, -65, 65):
        err = assert_error(generic(d, "inbox", {"run": True}, "generic s3cret",
                                   ts=int(time.time()) + offset), 401, "EAUTH")
        assert "window" in err["message"], err
    r = generic(d, "inbox", {"run": True}, "generic s3cret", ts=int(time.time()) - 55,
                delivery="edge-1")
    assert r.status == 202, r
    r = generic(d, "inbox", {"run": True}, "generic s3cret", ts=int(time.time()) + 55,
                delivery="edge-2")
    assert r.status == 202, r
    now = int(time.time())
    for bad in ("", "abc", "-5", "1e9", " %d" % now):
        err = assert_error(generic(d, "inbox", {"run": True}, "generic s3cret", ts=bad), 401)
    wait_queue_idle(d)
    # two runs queued (the second may have joined the first)
    assert before < jobs_total(d) <= before + 2


def test_generic_bad_signature_and_unknown_source_look_alike(gen):
    d = gen
    before = jobs_total(d)
    body = {"documents": [{"title": "x", "content": "nothing"}]}
    e1 = assert_error(generic(d, "inbox", body, "wrong secret"), 401, "EAUTH")
    e2 = assert_error(generic(d, "nosuchsource", body, "generic s3cret"), 401, "EAUTH")
    e3 = assert_error(generic(d, "manual", body, "generic s3cret"), 401, "EAUTH")  # no secret
    assert e1 == e2 == e3, (e1, e2, e3)
    # a bearer token does not stand in for a signature
    r = d.request("POST", "/api/v1/webhooks/generic/inbox", json_body=body,
                  token=d.admin_token)
    assert_error(r, 401, "EAUTH")
    assert jobs_total(d) == before
    assert metric(d, "generic", "bad_signature") >= 4


def test_generic_body_checks(gen):
    d = gen
    s = "generic s3cret"
    assert_error(generic(d, "inbox", {"documents": []}, s), 400)
    assert_error(generic(d, "inbox", {"documents": [{"title": "t"}]}, s), 400)
    err = assert_error(generic(d, "inbox", {"documents": [
        {"content": "ok"}, {"content": "x", "source": "manual"}]}, s), 400)
    assert "documents[1]" in err["message"], err
    assert_error(generic(d, "inbox", {"documents": [
        {"content": "x", "content_type": "image/png"}]}, s), 415)
    assert_error(generic(d, "inbox", {"run": False}, s), 400)
    assert_error(generic(d, "inbox", {"run": True, "documents": []}, s), 400)
    assert_error(generic(d, "inbox", {"documents": [{"content": "x"}] * 101}, s), 400)
    assert_error(generic(d, "inbox", b"not json", s), 400)
    assert_error(generic(d, "inbox", {"run": True}, s, delivery="bad id!"), 400)
    wait_queue_idle(d)


def test_github_body_limit_is_the_webhooks_own(daemon, tmp_path):
    path = secret_file(tmp_path, "gh.secret", GH_DOC_SECRET)
    # http.max_body_bytes stays at its 1 MiB default; deliveries may be larger
    d = daemon(config="webhooks:\n  github_secret_file: %s\n  max_body_bytes: 3MiB\n" % path)
    create_source(d, name="hb", type="webhook",
                  options={"github": {"repository": "acme/handbook"}})
    commits = [{"added": ["docs/p%05d.md" % i], "modified": [], "removed": [],
                "message": "x" * 1000} for i in range(2000)]
    body = json.dumps(push_body(commits=commits)).encode()
    assert 2 * 1024 * 1024 < len(body) < 3 * 1024 * 1024
    r = github(d, "push", body, secret=GH_DOC_SECRET, delivery="big-1")
    assert r.status == 202, r
    p = r.json["queued"][0]["payload"]
    assert len(p["changed"]) == 1000 and p["truncated"] is True, {k: p[k] for k in ("truncated",)}
    # over the webhooks limit: 413 from Content-Length, before the body is read (so the
    # request is sent without one: a client still writing 3 MiB would see the daemon
    # close the connection under it), nothing queued
    before = jobs_total(d)
    head = ("POST /api/v1/webhooks/github HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
            "X-GitHub-Delivery: big-2\r\nX-Hub-Signature-256: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (sign(GH_DOC_SECRET, body), 3 * 1024 * 1024 + 1))
    status, _, raw = parse_raw_response(raw_request(d.host, d.port, head.encode()))
    assert status == 413, raw
    err = json.loads(raw)["error"]
    assert err["code"] == "ELIMIT" and "webhooks.max_body_bytes" in err.get("hint", ""), err
    assert jobs_total(d) == before


def test_github_push_to_webhook_source_fetches_changed_files(daemon, tmp_path):
    """With options.raw_url_template, a push's changed files are fetched (through
    the fetcher: here loopback, allowed in the config) and parsed by their
    extension although the raw host answers text/plain."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    seen = []

    class Raw(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            seen.append(self.path)
            if self.path.endswith("/docs/a.md"):
                body = b"# Alpha guide\n\n## Setup\n\nThe quetzal reactor needs coolant.\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Raw)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        own = secret_file(tmp_path, "raw.secret", "raw secret")
        d = daemon(config="fetch:\n  allow_networks: \"127.0.0.1/32\"\n")
        create_source(d, name="rawdocs", type="webhook",
                      options={"raw_url_template": "http://127.0.0.1:%d/{repository}/{sha}/{path}"
                               % srv.server_address[1],
                               "github": {"repository": "acme/handbook", "secret_file": own,
                                          "path_prefix": "docs/"}})
        r = github(d, "push", push_body(), secret="raw secret", delivery="raw-1")
        assert r.status == 202, r
        wait_job(d, r.json["queued"][0]["job_id"])
        wait_queue_idle(d, allow_failed=True)
        assert seen == ["/acme/handbook/%s/docs/a.md" % ("c0ffee" * 6)], seen
        hits = search(d, "quetzal")["results"]
        assert len(hits) == 1 and hits[0]["heading"].endswith("Setup"), hits
    finally:
        srv.shutdown()
        srv.server_close()
