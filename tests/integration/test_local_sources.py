"""Where file sources may read (issue 9, item 6) and what a folder scan
reports it skipped (item 7): sources.allowed_roots refuses folders outside
it with 403 and a hint, a root removed from the configuration stops its
sources' runs, a directory swapped for a symlink between the scan and the
read cannot leak a file from outside the folder, and a scan names what it
skipped and why."""
import json
import os
import shutil

from conftest import (assert_error, create_source, get_source, make_pdf, search, wait_job,
                      wait_queue_idle)


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)


def test_allowed_roots_refuse_outside(daemon, tmp_path):
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    (allowed / "docs").mkdir(parents=True)
    other.mkdir()
    (tmp_path / "allowed-old").mkdir()
    os.symlink(other, allowed / "escape")
    d = daemon(env={"CC_SOURCES_ALLOWED_ROOTS": "%s:/nonexistent/root" % allowed})
    for path in (other, tmp_path / "allowed-old", allowed / "escape",
                 allowed / "docs" / ".." / ".." / "other", "/etc"):
        err = assert_error(create_source(d, expect=403, name="x", type="file", path=str(path)),
                           403)
        assert "sources.allowed_roots" in err["message"], err
        assert "sources.allowed_roots" in err["hint"], err
    create_source(d, name="ok", type="file", path=str(allowed / "docs"))
    create_source(d, name="top", type="file", path=str(allowed))
    # editing a source to point outside is refused the same way
    r = d.admin("PATCH", "/api/v1/sources/ok", json_body={"path": str(other)})
    assert_error(r, 403)
    assert get_source(d, "ok")["path"] == str(allowed / "docs")


def test_no_roots_no_file_sources(daemon, tmp_path):
    d = daemon(env={"CC_SOURCES_ALLOWED_ROOTS": ""})
    err = assert_error(create_source(d, expect=403, name="x", type="file", path=str(tmp_path)),
                       403)
    assert "CC_SOURCES_ALLOWED_ROOTS" in err["hint"], err
    bad = daemon(env={"CC_SOURCES_ALLOWED_ROOTS": "relative/dir"}, wait=False)
    assert bad.wait_exit() != 0
    assert "CC_SOURCES_ALLOWED_ROOTS: expected absolute directories" in bad.stderr_text(), \
        bad.stderr_text()


def test_a_root_removed_later_stops_runs(daemon, tmp_path):
    root = tmp_path / "was-allowed"
    write(root / "a.md", "# a\n\nThe removedrootword is here.\n")
    data = tmp_path / "data-shared"
    d1 = daemon(env={"CC_SOURCES_ALLOWED_ROOTS": str(root)}, data_dir=data)
    create_source(d1, name="f", type="file", path=str(root))
    assert d1.stop() == 0
    d2 = daemon(env={"CC_SOURCES_ALLOWED_ROOTS": str(tmp_path / "elsewhere")}, data_dir=data)
    r = d2.admin("POST", "/api/v1/sources/f/run")
    assert r.status == 202, r
    job = wait_job(d2, r.json["job_id"])
    assert job["state"] == "dead" and "allowed_roots" in job["last_error"], job
    s = get_source(d2, "f")
    assert s["last_status"] == "failed" and "allowed_roots" in s["last_error"], s
    assert search(d2, "removedrootword")["results"] == []


def test_symlink_swap_between_scan_and_read(daemon, tmp_path):
    """The race from issue 9, made deterministic: the scan queues a job for
    sub/doc.pdf (a broken PDF, so the job dies and waits), then sub/ is
    swapped for a symlink to a folder outside holding a 0600 PDF with a
    secret, then the job is retried: it must not read through the link."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    write(root / "sub" / "doc.pdf", b"%PDF-1.4\nnot really a pdf")
    write(root / "ok.md", "# ok\n\nThe plainokword.\n")
    write(outside / "doc.pdf", make_pdf(["Secret", "The outsidesecretword is here."]))
    os.chmod(outside / "doc.pdf", 0o600)
    d = daemon(env={"CC_SOURCES_ALLOWED_ROOTS": str(root)})
    s = create_source(d, name="f", type="file", path=str(root))
    r = d.admin("POST", "/api/v1/sources/f/run")
    assert r.status == 202, r
    wait_job(d, r.json["job_id"])
    c = wait_queue_idle(d)
    assert c["dead"] == 1, c
    dead = d.admin("GET", "/api/v1/jobs?state=dead").json["jobs"]
    assert len(dead) == 1 and dead[0]["source_id"] == s["id"], dead
    payload = dead[0].get("payload")
    if payload is not None:   # the job names the folder and the path beneath it
        p = payload if isinstance(payload, dict) else json.loads(payload)
        assert p.get("rel") == "sub/doc.pdf" and p.get("root") == str(root), p
    assert search(d, "plainokword")["results"]

    shutil.rmtree(root / "sub")
    os.symlink(outside, root / "sub")
    r = d.admin("POST", "/api/v1/jobs/%d/retry" % dead[0]["id"])
    assert r.status in (200, 202), r
    job = wait_job(d, dead[0]["id"])
    assert job["state"] == "dead", job
    assert "symlink" in job["last_error"], job
    assert search(d, "outsidesecretword")["results"] == [], "a file outside the folder leaked"


def test_scan_reports_what_it_skipped(daemon, tmp_path):
    root = tmp_path / "root"
    write(root / "a.md", "# a\n\nThe skipreportword.\n")
    write(root / "big1.md", "# big\n\n" + "x " * 1500)
    write(root / "sub" / "big2.txt", "y " * 1500)
    write(root / "data.xyz", "unsupported\n")
    write(root / "tmp" / "ignored.md", "# ignored\n\nThe excludedword.\n")
    os.symlink(root / "a.md", root / "alias.md")
    d = daemon(env={"CC_SOURCES_ALLOWED_ROOTS": str(root),
                    "CC_KNOWLEDGE_MAX_DOCUMENT_BYTES": "2KiB"})
    create_source(d, name="f", type="file", path=str(root), options={"exclude": ["tmp/"]})
    r = d.admin("POST", "/api/v1/sources/f/run")
    assert r.status == 202, r
    wait_job(d, r.json["job_id"])
    wait_queue_idle(d)
    assert search(d, "skipreportword")["results"]
    assert search(d, "excludedword")["results"] == []
    events = d.admin("GET", "/api/v1/events").json
    events = events["events"] if isinstance(events, dict) else events
    msgs = [e["message"] for e in events if e.get("kind") == "source.skipped"]
    assert msgs, events
    assert ("skipped 4: 2 over the size cap, 1 unsupported type (.xyz), "
            "1 not regular file (symlinks are not followed)") in msgs[-1], msgs
    line = d.wait_log(lambda e: e.get("msg") == "file source scanned", timeout=30,
                      what="scan log line")
    assert line["too_big"] == 2 and line["unsupported"] == 1 and line["queued"] == 1, line
