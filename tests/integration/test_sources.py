"""Knowledge sources (issue 4, docs/API.md, docs/KNOWLEDGE.md): create, list, show,
edit, pause, resume, run and delete through the API and the CLI; validation
(names, types, cron, time zones); file sources that walk a folder; schedules;
a deleted source takes its documents along."""

import os
import re
import time
from datetime import datetime, timedelta, timezone

from conftest import (assert_error, cli_env, create_source, db_query, get_document,
                      get_source, make_docx, make_pdf, run_cc, run_source, search,
                      wait_job, wait_queue_idle)


def parse_time(s):
    assert isinstance(s, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", s), \
        "not an RFC 3339 UTC time: %r" % (s,)
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


SOURCE_FIELDS = {"id", "name", "type", "url", "path", "schedule", "tz", "priority", "enabled",
                 "auth", "options", "created_at", "updated_at", "last_run", "last_status",
                 "last_error", "next_run", "failures", "counters", "documents"}


# --------------------------------------------------------------------------
# CRUD through the API

def test_source_crud_api(served, tmp_path):
    d = served
    folder = tmp_path / "handbook"
    folder.mkdir()
    s = create_source(d, name="handbook", type="file", path=str(folder), priority=7,
                      options={"note": "x"})
    assert set(s) == SOURCE_FIELDS, set(s) ^ SOURCE_FIELDS
    assert s["name"] == "handbook" and s["type"] == "file" and s["path"] == str(folder), s
    assert s["priority"] == 7 and s["enabled"] is True, s
    assert s["options"] == {"note": "x"}, s
    assert s["schedule"] is None and s["next_run"] is None and s["last_run"] is None, s
    assert s["counters"] == {"runs": 0, "ingested": 0, "failed": 0}, s
    assert s["documents"] == 0 and s["failures"] == 0, s
    parse_time(s["created_at"])
    sid = s["id"]

    assert get_source(d, sid) == get_source(d, "handbook")
    lst = d.admin("GET", "/api/v1/sources").json["sources"]
    assert {x["name"] for x in lst} == {"manual", "handbook"}, lst
    # a read token may read
    tok = d.create_token("reader", "read")["token"]
    assert d.get("/api/v1/sources", token=tok).status == 200
    assert_error(d.request("POST", "/api/v1/sources", token=tok,
                           json_body={"name": "x", "type": "manual"}), 403)

    r = d.admin("PATCH", "/api/v1/sources/handbook", json_body={"priority": 2, "name": "hb"})
    assert r.status == 200, r
    assert r.json["priority"] == 2 and r.json["name"] == "hb" and r.json["id"] == sid, r.json
    assert get_source(d, "hb")["priority"] == 2
    assert_error(d.admin("GET", "/api/v1/sources/handbook"), 404)
    assert_error(d.admin("PATCH", "/api/v1/sources/hb", json_body={"type": "manual"}), 400)
    assert_error(d.admin("PATCH", "/api/v1/sources/hb", json_body={"priority": 11}), 400)
    assert_error(d.admin("PATCH", "/api/v1/sources/hb", json_body={"priority": 0}), 400)
    assert_error(d.admin("PATCH", "/api/v1/sources/hb", json_body={"name": "manual"}), 409)
    assert_error(d.admin("PATCH", "/api/v1/sources/nosuch", json_body={"priority": 3}), 404)
    assert get_source(d, "hb")["priority"] == 2, "a refused edit changed the source"

    r = d.admin("DELETE", "/api/v1/sources/hb")
    assert r.status == 204, r
    assert_error(d.admin("GET", "/api/v1/sources/%d" % sid), 404)
    assert_error(d.admin("DELETE", "/api/v1/sources/hb"), 404)
    assert_error(d.admin("POST", "/api/v1/sources/hb/run"), 404)


def test_source_validation(served, tmp_path):
    d = served
    folder = tmp_path / "f"
    folder.mkdir()
    create_source(d, name="dup", type="manual")
    assert_error(create_source(d, expect=409, name="dup", type="manual"), 409)
    assert_error(create_source(d, expect=409, name="manual", type="manual"), 409)
    assert_error(create_source(d, expect=400, name="x", type="ftp"), 400)
    assert_error(create_source(d, expect=400, name="x"), 400)                 # no type
    assert_error(create_source(d, expect=400, type="manual"), 400)            # no name
    assert_error(create_source(d, expect=400, name="bad name!", type="manual"), 400)
    assert_error(create_source(d, expect=400, name="12345", type="manual"), 400)
    assert_error(create_source(d, expect=400, name="x" * 65, type="manual"), 400)
    assert_error(create_source(d, expect=400, name="x", type="manual", priority=11), 400)
    assert_error(create_source(d, expect=400, name="x", type="manual", priority="5"), 400)
    assert_error(create_source(d, expect=400, name="x", type="manual", bogus=1), 400)
    assert_error(create_source(d, expect=400, name="x", type="file"), 400)    # no path
    assert_error(create_source(d, expect=400, name="x", type="file", path="relative/dir"), 400)
    assert_error(create_source(d, expect=400, name="x", type="file",
                               path=str(tmp_path / "missing")), 400)
    assert_error(create_source(d, expect=400, name="xrss", type="rss",
                               path=str(folder)), 400)                  # a URL, not a path
    assert_error(create_source(d, expect=400, name="xdocs", type="docs",
                               url="ftp://example.test/"), 400)
    # inline secrets are refused
    assert_error(create_source(d, expect=400, name="x", type="file", path=str(folder),
                               auth={"type": "bearer", "token": "s3cret"}), 400)
    # what the fetcher would refuse at request time is refused at creation
    err = assert_error(create_source(d, expect=400, name="x", type="file", path=str(folder),
                                     auth={"type": "header", "header": "X Key",
                                           "value_file": "/run/k"}), 400)
    assert "header name" in err["message"], err

    err = assert_error(create_source(d, expect=400, name="x", type="file", path=str(folder),
                                     schedule="61 * * * *"), 400)
    assert re.search(r"schedule|cron|minute|61", err["message"], re.I), err
    for bad in ("* * * *", "every day", "@sometimes", "*/0 * * * *", "* * 32 * *",
                "* * * 13 *", "* * * * 8"):
        assert_error(create_source(d, expect=400, name="x", type="file", path=str(folder),
                                   schedule=bad), 400)
    err = assert_error(create_source(d, expect=400, name="x", type="file", path=str(folder),
                                     schedule="@hourly", tz="Mars/Olympus_Mons"), 400)
    assert re.search(r"zone|tz|Mars", err["message"], re.I), err
    assert_error(create_source(d, expect=400, name="x", type="file", path=str(folder),
                               schedule="@hourly", tz="../../etc/passwd"), 400)
    names = {s["name"] for s in d.admin("GET", "/api/v1/sources").json["sources"]}
    assert names == {"manual", "dup"}, "refused sources were created: %r" % names


def test_pause_and_resume(served, tmp_path):
    d = served
    create_source(d, name="p", type="file", path=str(tmp_path), schedule="@daily", priority=4)
    r = d.admin("POST", "/api/v1/sources/p/pause")
    assert r.status == 200 and r.json["enabled"] is False, r
    s = get_source(d, "p")
    assert s["enabled"] is False and s["priority"] == 4 and s["schedule"] == "@daily", s
    r = d.admin("POST", "/api/v1/sources/p/resume")
    assert r.status == 200 and r.json["enabled"] is True, r
    assert get_source(d, "p")["enabled"] is True
    assert parse_time(get_source(d, "p")["next_run"]) > datetime.now(timezone.utc)
    assert_error(d.admin("POST", "/api/v1/sources/nosuch/pause"), 404)
    # created paused
    s = create_source(d, name="q", type="manual", enabled=False)
    assert s["enabled"] is False, s


def test_schedules_set_next_run(served, tmp_path):
    d = served
    now = datetime.now(timezone.utc)
    s = create_source(d, name="everymin", type="file", path=str(tmp_path), schedule="* * * * *")
    nxt = parse_time(s["next_run"])
    assert now < nxt <= now + timedelta(seconds=61), (now, s)
    assert nxt.second == 0 and nxt.microsecond == 0, s

    s = create_source(d, name="hourly", type="file", path=str(tmp_path), schedule="@hourly")
    nxt = parse_time(s["next_run"])
    assert now < nxt <= now + timedelta(hours=1, seconds=1) and nxt.minute == 0, s

    s = create_source(d, name="five", type="file", path=str(tmp_path), schedule="*/5 * * * *")
    nxt = parse_time(s["next_run"])
    assert now < nxt <= now + timedelta(minutes=5, seconds=1) and nxt.minute % 5 == 0, s

    # 03:30 in Asia/Kolkata (UTC+5:30, no DST) is 22:00 UTC
    s = create_source(d, name="tzed", type="file", path=str(tmp_path), schedule="30 3 * * *",
                      tz="Asia/Kolkata")
    assert s["tz"] == "Asia/Kolkata", s
    nxt = parse_time(s["next_run"])
    assert (nxt.hour, nxt.minute) == (22, 0) and now < nxt <= now + timedelta(days=1), s

    # editing the schedule moves next_run; removing it clears next_run
    r = d.admin("PATCH", "/api/v1/sources/tzed", json_body={"schedule": "@hourly", "tz": None})
    assert r.status == 200, r
    assert parse_time(r.json["next_run"]).minute == 0, r.json
    r = d.admin("PATCH", "/api/v1/sources/tzed", json_body={"schedule": None})
    assert r.status == 200 and r.json["schedule"] is None and r.json["next_run"] is None, r.json
    assert_error(d.admin("PATCH", "/api/v1/sources/tzed", json_body={"schedule": "61 * * * *"}),
                 400)
    # a manual source has nothing to schedule
    assert_error(create_source(d, expect=400, name="m2", type="manual", schedule="@hourly"), 400)


# --------------------------------------------------------------------------
# file sources

def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def build_folder(root, outside):
    """A folder with every kind of entry; returns {relative path: unique word}
    of the files that must become documents."""
    expect = {
        "a.md": "alphamdword",
        "b.txt": "bravotxtword",
        "c.markdown": "charliemarkword",
        "d.text": "deltatextword",
        "sub/e.html": "echohtmlword",
        "sub/deeper/f.htm": "foxtrothtmword",
        "sub/g.pdf": "golfpdfword",
        "sub/deeper/h.docx": "hoteldocxword",
        "notes.rst": "romeorstword",
        "sub/guide.adoc": "sierraadocword",
    }
    for rel, word in expect.items():
        p = root / rel
        if rel.endswith(".pdf"):
            write(p, make_pdf(["PDF file", "The %s is here." % word]))
        elif rel.endswith(".docx"):
            write(p, make_docx([("Heading1", "Docx file"), (None, "The %s is here." % word)]))
        elif rel.endswith((".html", ".htm")):
            write(p, "<html><body><h1>Page</h1><p>The %s is here.</p></body></html>" % word)
        elif rel.endswith(".rst"):
            write(p, "Notes\n=====\n\nThe :term:`%s` is here.\n" % word)
        elif rel.endswith(".adoc"):
            write(p, "= Guide\n:toc:\n\nThe *%s* is here.\n" % word)
        else:
            write(p, "# %s\n\nThe %s is here.\n" % (rel, word))
    # never documents
    write(root / ".hidden.md", "# hidden\n\nhiddenfileword\n")
    write(root / ".git" / "notes.md", "# hidden dir\n\nhiddendirword\n")
    write(root / "sub" / ".cache" / "x.txt", "hiddensubdirword\n")
    write(root / "image.png", b"\x89PNG\r\n\x1a\nunsupportedpngword")
    write(root / "notes.xyz", "unsupportedxyzword\n")
    write(root / "data.json", '{"w": "unsupportedjsonword"}')
    write(root / "Makefile", "unsupportednoextword:\n")
    write(root / "md", "unsupportedbarenameword\n")
    write(outside / "secret.md", "# secret\n\noutsidesecretword\n")
    write(outside / "dir" / "inner.md", "# inner\n\noutsidedirword\n")
    os.symlink(outside / "secret.md", root / "link.md")
    os.symlink(outside / "dir", root / "linkdir")
    os.symlink(root / "a.md", root / "sub" / "inside-link.md")   # a symlink inside: skipped too
    return expect


NEVER = ["hiddenfileword", "hiddendirword", "hiddensubdirword", "unsupportedpngword",
         "unsupportedxyzword", "unsupportedjsonword", "unsupportednoextword",
         "unsupportedbarenameword", "outsidesecretword", "outsidedirword"]


def external_ids(d, source_id):
    return sorted(r[0] for r in db_query(
        d, "SELECT external_id FROM documents WHERE source_id = ?", (source_id,)))


def test_file_source_run(served, tmp_path):
    d = served
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    expect = build_folder(root, outside)
    s = create_source(d, name="folder", type="file", path=str(root), priority=6)

    job = run_source(d, "folder")
    assert job["kind"] == "source.run" and job["source_id"] == s["id"], job
    c = wait_queue_idle(d, allow_failed=False)
    assert c["dead"] == 0, "some file's job died: %r" % d.admin("GET", "/api/v1/jobs?state=dead").json

    assert external_ids(d, s["id"]) == sorted(expect), "documents of the file source"
    for rel, word in expect.items():
        res = search(d, word)["results"]
        assert len(res) >= 1 and {r["source"] for r in res} == {"folder"}, (rel, res)
        assert {r["doc_id"] for r in res} and len({r["doc_id"] for r in res}) == 1, (rel, res)
        assert res[0]["priority"] == 6, res
    for word in NEVER:
        assert search(d, word)["results"] == [], "%s should not have been ingested" % word
    doc = get_document(d, search(d, "echohtmlword")["results"][0]["doc_id"])
    assert doc["external_id"] == "sub/e.html", doc

    s1 = get_source(d, "folder")
    assert s1["last_status"] == "ok" and s1["last_error"] is None, s1
    assert parse_time(s1["last_run"]) <= datetime.now(timezone.utc) + timedelta(seconds=1), s1
    assert s1["counters"]["runs"] == 1, s1
    assert s1["counters"]["ingested"] == len(expect), s1
    assert s1["counters"]["failed"] == 0, s1
    assert s1["documents"] == len(expect), s1
    assert s1["failures"] == 0, s1
    ids_before = {rel: search(d, w)["results"][0]["doc_id"] for rel, w in expect.items()}

    # second run: one file changed, one deleted, one added, the rest unchanged
    time.sleep(1.1)   # a new mtime second, whatever the daemon looks at
    write(root / "a.md", "# a.md\n\nThe alphachangedword replaced the old text.\n")
    (root / "b.txt").unlink()
    write(root / "sub" / "new.md", "# new\n\nThe newfileword arrived.\n")
    run_source(d, "folder")
    wait_queue_idle(d)
    assert search(d, "alphamdword")["results"] == [], "the changed file's old text is still found"
    res = search(d, "alphachangedword")["results"]
    assert [r["doc_id"] for r in res] == [ids_before["a.md"]], \
        "a changed file must update its document in place: %r" % res
    assert search(d, "newfileword")["results"], "a new file was not picked up"
    for rel, w in expect.items():
        if rel in ("a.md", "b.txt"):
            continue
        res = search(d, w)["results"]
        assert [r["doc_id"] for r in res][:1] == [ids_before[rel]], (rel, res)
    ids = external_ids(d, s["id"])
    assert len(ids) == len(set(ids)), "duplicate documents: %r" % ids
    assert "sub/new.md" in ids and "a.md" in ids, ids
    s2 = get_source(d, "folder")
    assert s2["counters"]["runs"] == 2 and s2["last_status"] == "ok", s2
    assert parse_time(s2["last_run"]) > parse_time(s1["last_run"]), (s1, s2)


def test_run_refusals(served, tmp_path):
    d = served
    assert_error(d.admin("POST", "/api/v1/sources/manual/run"), 409)
    assert_error(d.admin("POST", "/api/v1/sources/nosuch/run"), 404)
    create_source(d, name="f", type="file", path=str(tmp_path))
    tok = d.create_token("reader", "read")["token"]
    assert_error(d.request("POST", "/api/v1/sources/f/run", token=tok), 403)


def test_run_twice_while_queued_is_deduplicated(served, tmp_path):
    d = served
    for i in range(50):
        write(tmp_path / ("doc%d.md" % i), "# doc %d\n\ndedupword %d\n" % (i, i))
    create_source(d, name="f", type="file", path=str(tmp_path))
    answers = [d.admin("POST", "/api/v1/sources/f/run") for _ in range(5)]
    assert all(a.status == 202 for a in answers), answers
    first = answers[0].json
    assert first["source"] == "f" and first["already_queued"] is False, first
    # A run that already finished is not a duplicate, so a later POST may
    # queue a new one; a deduplicated answer names a run queued before it.
    queued = {first["job_id"]}
    for a in answers[1:]:
        j = a.json
        if j["already_queued"]:
            assert j["job_id"] in queued, (queued, j)
        else:
            queued.add(j["job_id"])
    wait_job(d, first["job_id"])
    wait_queue_idle(d)
    assert len(search(d, "dedupword", k=100)["results"]) == 50


def test_file_source_with_a_corrupt_file(served, tmp_path):
    d = served
    write(tmp_path / "good.md", "# good\n\nThe goodfileword.\n")
    write(tmp_path / "bad.pdf", b"%PDF-1.4\nthis is not really a pdf")
    s = create_source(d, name="f", type="file", path=str(tmp_path))
    run_source(d, "f")
    c = wait_queue_idle(d)
    assert c["dead"] == 1, c
    dead = d.admin("GET", "/api/v1/jobs?state=dead").json["jobs"]
    assert len(dead) == 1 and dead[0]["last_error"] and dead[0]["source_id"] == s["id"], dead
    assert search(d, "goodfileword")["results"]
    s = get_source(d, "f")
    assert s["documents"] == 1, s
    assert s["counters"]["failed"] >= 1, "a file that failed should count: %r" % s


def test_delete_source_cascades(served, tmp_path):
    d = served
    root = tmp_path / "r"
    write(root / "x.md", "# x\n\nThe cascadeword document.\n")
    write(root / "y.md", "# y\n\nAnother cascadeword document.\n")
    s = create_source(d, name="doomed", type="file", path=str(root))
    run_source(d, "doomed")
    wait_queue_idle(d)
    res = search(d, "cascadeword")["results"]
    assert len(res) == 2, res
    old_ids = {x["doc_id"] for x in res}
    # a manual document with the same word survives
    r = d.admin("POST", "/api/v1/knowledge/documents",
                json_body={"content": "A manual cascadeword survivor.", "title": "Survivor"})
    assert r.status == 202, r
    assert wait_job(d, r.json["job_id"])["state"] == "succeeded"
    r = d.admin("DELETE", "/api/v1/sources/doomed")
    assert r.status == 204, r
    res = search(d, "cascadeword")["results"]
    assert [x["title"] for x in res] == ["Survivor"], res
    for old in old_ids:
        assert_error(get_document(d, old, expect=404), 404)
    assert db_query(d, "SELECT count(*) FROM documents WHERE source_id = ?", (s["id"],))[0][0] == 0
    assert db_query(d, "SELECT count(*) FROM jobs WHERE source_id = ?", (s["id"],))[0][0] == 0
    n_chunks = db_query(d, "SELECT count(*) FROM chunks")[0][0]
    n_fts = db_query(d, "SELECT count(*) FROM chunks_fts")[0][0]
    assert n_chunks == n_fts, "the FTS index kept deleted chunks: %d vs %d" % (n_fts, n_chunks)
    # the name is free again
    create_source(d, name="doomed", type="manual")
    assert search(d, "cascadeword", source="doomed")["results"] == []


# --------------------------------------------------------------------------
# the CLI

def test_sources_cli(served, tmp_path):
    d = served
    env = cli_env(d)
    folder = tmp_path / "kb"
    write(folder / "one.md", "# one\n\nThe clisourceword file.\n")

    res = run_cc(["sources", "add", "kb", "--type", "file", "--path", str(folder),
                  "--priority", "8", "--schedule", "@daily"], env=env)
    assert res.returncode == 0, res
    assert "kb" in res.stdout, res
    s = get_source(d, "kb")
    assert s["priority"] == 8 and s["schedule"] == "@daily" and s["path"] == str(folder), s

    res = run_cc(["sources", "list"], env=env)
    assert res.returncode == 0, res
    assert re.search(r"^\s*\d+\s+kb\s+file\s+8\b", res.stdout, re.M), res.stdout
    assert re.search(r"^\s*\d+\s+manual\s+manual\s+5\b", res.stdout, re.M), res.stdout

    res = run_cc(["sources", "list", "--json"], env=env)
    assert res.returncode == 0, res
    assert {x["name"] for x in res.json["sources"]} == {"manual", "kb"}, res.stdout

    res = run_cc(["sources", "show", "kb", "--json"], env=env)
    assert res.returncode == 0 and res.json["name"] == "kb", res
    res = run_cc(["sources", "show", str(s["id"])], env=env)
    assert res.returncode == 0 and "kb" in res.stdout and str(folder) in res.stdout, res

    res = run_cc(["sources", "edit", "kb", "--priority", "3"], env=env)
    assert res.returncode == 0, res
    assert get_source(d, "kb")["priority"] == 3
    res = run_cc(["sources", "edit", "kb", "--no-schedule"], env=env)
    assert res.returncode == 0, res
    assert get_source(d, "kb")["schedule"] is None

    res = run_cc(["sources", "pause", "kb"], env=env)
    assert res.returncode == 0 and "paused" in res.stdout, res
    assert get_source(d, "kb")["enabled"] is False
    res = run_cc(["sources", "resume", "kb"], env=env)
    assert res.returncode == 0 and "resumed" in res.stdout, res
    assert get_source(d, "kb")["enabled"] is True

    res = run_cc(["sources", "run", "kb"], env=env)
    assert res.returncode == 0, res
    m = re.search(r"job (\d+)", res.stdout)
    assert m, res.stdout
    assert wait_job(d, int(m.group(1)))["state"] == "succeeded"
    wait_queue_idle(d)
    assert search(d, "clisourceword")["results"]

    res = run_cc(["sources", "rm", "kb"], env=env)
    assert res.returncode == 0, res
    assert search(d, "clisourceword")["results"] == []
    res = run_cc(["sources", "show", "kb"], env=env)
    assert res.returncode == 1, res
    assert "kb" in res.stderr, res


def test_sources_cli_errors(served, tmp_path):
    d = served
    env = cli_env(d)
    res = run_cc(["sources", "add", "x", "--type", "file", "--path", str(tmp_path),
                  "--schedule", "61 * * * *"], env=env)
    assert res.returncode == 1, res
    assert re.search(r"schedule|cron", res.stderr, re.I), res
    res = run_cc(["sources", "add", "manual", "--type", "manual"], env=env)
    assert res.returncode == 1 and re.search(r"exists|conflict|taken", res.stderr, re.I), res
    res = run_cc(["sources", "add", "x", "--type", "rss"], env=env)
    assert res.returncode == 1, res
    res = run_cc(["sources", "add", "x"], env=env)            # no --type
    assert res.returncode == 2, res
    res = run_cc(["sources", "frobnicate", "x"], env=env)
    assert res.returncode == 2, res
    res = run_cc(["sources"], env=env)
    assert res.returncode == 2, res
    res = run_cc(["sources", "show"], env=env)
    assert res.returncode == 2, res
    res = run_cc(["sources", "--help"])
    assert res.returncode == 0 and "sources" in res.stdout, res
    tok = d.create_token("r", "read")["token"]
    res = run_cc(["sources", "add", "y", "--type", "manual"], env=cli_env(d, tok))
    assert res.returncode == 1, res
    res = run_cc(["sources", "list"], env=cli_env(d, tok))
    assert res.returncode == 0, res
    names = {x["name"] for x in d.admin("GET", "/api/v1/sources").json["sources"]}
    assert names == {"manual"}, names


def test_pdf_docx_files_in_a_source(served, tmp_path):
    """The file source reads binary files itself (no base64 over HTTP)."""
    d = served
    write(tmp_path / "r.pdf", make_pdf(["Annual filesourcepdfword"]))
    write(tmp_path / "r.docx", make_docx([("Heading1", "Doc"), (None, "filesourcedocxword")]))
    create_source(d, name="bin", type="file", path=str(tmp_path))
    run_source(d, "bin")
    wait_queue_idle(d)
    assert search(d, "filesourcepdfword")["results"]
    assert search(d, "filesourcedocxword")["results"]


def test_deleted_and_hidden_files_leave_the_store(served, tmp_path):
    d = served
    write(tmp_path / "keep.md", "# keep\n\nkeepword stays.\n")
    write(tmp_path / "drop.md", "# drop\n\ndropword goes.\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "moved.md", "# moved\n\nmovedword moves.\n")
    create_source(d, name="mirror", type="file", path=str(tmp_path))
    run_source(d, "mirror")
    wait_queue_idle(d)
    assert search(d, "dropword")["results"] and search(d, "movedword")["results"]
    # The user deletes one file and hides another by renaming it.
    (tmp_path / "drop.md").unlink()
    (tmp_path / "sub" / "moved.md").rename(tmp_path / "sub" / ".moved.md")
    run_source(d, "mirror")
    wait_queue_idle(d)
    assert not search(d, "dropword")["results"]
    assert not search(d, "movedword")["results"]
    assert search(d, "keepword")["results"]
    assert get_source(d, "mirror")["documents"] == 1


def test_the_default_manual_source_stays(served):
    d = served
    r = d.admin("DELETE", "/api/v1/sources/manual")
    assert_error(r, 409)
    r = d.admin("PATCH", "/api/v1/sources/manual", json_body={"name": "renamed"})
    assert_error(r, 409)
    r = d.admin("PATCH", "/api/v1/sources/manual", json_body={"priority": 8})
    assert r.status == 200 and r.json["priority"] == 8, r
    assert get_source(d, "manual")["name"] == "manual"
