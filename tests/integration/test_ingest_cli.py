"""`commandcenter ingest FILE|DIR` and `commandcenter search` against a running
daemon (issue 4): the summary line, exit statuses (0 all ingested, 1 some
failed, 2 usage), JSON output, and search output that lists titles."""

import json
import re

from conftest import (cli_env, db_query, ingest_text, job_counts, make_docx, make_pdf,
                      run_cc, search, wait_job)


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)


def corpus(root):
    write(root / "guide.md", "# Ingest guide\n\nThe clingestmd word.\n\n## Part two\n\nMore.\n")
    write(root / "notes.txt", "Plain clingesttxt notes.\n")
    write(root / "sub" / "page.html", "<html><body><h1>Page</h1><p>clingesthtml</p></body></html>")
    write(root / "sub" / "deep" / "paper.pdf", make_pdf(["The clingestpdf paper."]))
    write(root / "sub" / "memo.docx", make_docx([("Heading1", "Memo"), (None, "clingestdocx")]))
    write(root / "skip.png", b"\x89PNG\r\n\x1a\nclingestpng")
    write(root / ".hidden.md", "clingesthidden\n")
    return 5


def test_ingest_dir(served, tmp_path):
    d = served
    root = tmp_path / "docs"
    n = corpus(root)
    res = run_cc(["ingest", str(root)], env=cli_env(d), timeout=120)
    assert res.returncode == 0, res
    assert re.search(r"^%d files: %d ingested, 0 failed; skipped 1: 1 unsupported type \(\.png\)$"
                     % (n, n), res.stdout, re.M), res.stdout
    for w in ("clingestmd", "clingesttxt", "clingesthtml", "clingestpdf", "clingestdocx"):
        assert search(d, w)["results"], "%s not searchable after ingest" % w
    assert search(d, "clingestpng")["results"] == []
    assert search(d, "clingesthidden")["results"] == []
    ids = sorted(r[0] for r in db_query(d, "SELECT external_id FROM documents"))
    assert ids == sorted(["guide.md", "notes.txt", "sub/page.html", "sub/deep/paper.pdf",
                          "sub/memo.docx"]), ids

    # again: unchanged files are no-ops, still "ingested", no duplicates
    res = run_cc(["ingest", str(root)], env=cli_env(d), timeout=120)
    assert res.returncode == 0, res
    assert "%d files: %d ingested, 0 failed" % (n, n) in res.stdout, res
    assert db_query(d, "SELECT count(*) FROM documents")[0][0] == n


def test_ingest_dir_names_what_it_skipped(served, tmp_path):
    """Issue 9 item 7: Sphinx and Antora sources are ingested, and what is
    left out is counted by reason instead of silently dropped."""
    d = served
    root = tmp_path / "docs"
    write(root / "index.rst", "Guide\n=====\n\nThe :ref:`clirstword <x>` here.\n\n"
                              "Usage\n-----\n\n.. code-block:: sh\n\n   make clirstcode\n")
    write(root / "old.rest", "Old\n===\n\nclirestword\n")
    write(root / "modules" / "ROOT" / "pages" / "start.adoc",
          "= Start\n:product: Widget\n\nThe *cliadocword* for {product}.\n\n"
          "[source,sh]\n----\nmake cliadoccode\n----\n")
    write(root / "notes.asciidoc", "= Notes\n\ncliasciidocword\n")
    write(root / "data.xyz", "x\n")
    write(root / "more.xyz", "y\n")
    write(root / "image.png", b"\x89PNG")
    (root / "link.md").symlink_to(root / "old.rest")
    res = run_cc(["ingest", str(root)], env=cli_env(d), timeout=120)
    assert res.returncode == 0, res
    assert ("4 files: 4 ingested, 0 failed; skipped 4: 3 unsupported types (2 .xyz, 1 .png), "
            "1 not regular file (symlinks are not followed)") in res.stdout \
        or ("4 files: 4 ingested, 0 failed; skipped 4: 3 unsupported types (1 .png, 2 .xyz), "
            "1 not regular file (symlinks are not followed)") in res.stdout, res.stdout
    for w in ("clirstword", "clirstcode", "clirestword", "cliadocword", "cliadoccode",
              "cliasciidocword"):
        assert search(d, w)["results"], "%s not searchable after ingest" % w
    hit = search(d, "clirstcode")["results"][0]
    assert hit["title"] == "Guide", hit
    assert search(d, "Widget")["results"], "an AsciiDoc attribute reference was not resolved"
    res = run_cc(["ingest", "--json", str(root)], env=cli_env(d), timeout=120)
    j = json.loads(res.stdout)
    assert j["skipped"]["unsupported"] == 3 and j["skipped"]["not_regular"] == 1, j
    assert j["skipped"]["unsupported_types"] == {".xyz": 2, ".png": 1}, j
    only = tmp_path / "only"
    write(only / "a.xyz", "x\n")
    res = run_cc(["ingest", str(only)], env=cli_env(d), timeout=60)
    assert res.returncode != 0 and "no supported files found; skipped: 1 unsupported type (.xyz)" \
        in res.stderr, res


def test_ingest_single_file_with_tags_and_source(served, tmp_path):
    d = served
    r = d.admin("POST", "/api/v1/sources", json_body={"name": "team", "type": "manual"})
    assert r.status == 201, r
    f = tmp_path / "one.md"
    f.write_text("# One\n\nThe clitaggedword.\n")
    res = run_cc(["ingest", str(f), "--source", "team", "--tag", "alpha", "--tag", "beta"],
                 env=cli_env(d), timeout=60)
    assert res.returncode == 0, res
    assert "1 file: 1 ingested, 0 failed" in res.stdout, res.stdout
    hit = search(d, "clitaggedword", source="team", tag="beta")["results"]
    assert len(hit) == 1 and hit[0]["source"] == "team", hit
    assert search(d, "clitaggedword", tag="gamma")["results"] == []


def test_ingest_with_a_corrupt_pdf_exits_1_and_names_it(served, tmp_path):
    d = served
    root = tmp_path / "docs"
    write(root / "a.md", "# A\n\ncligoodone\n")
    write(root / "b.md", "# B\n\ncligoodtwo\n")
    write(root / "c.txt", "cligoodthree\n")
    write(root / "broken.pdf", b"%PDF-1.4\n\x00\x01 garbage, not a pdf")
    res = run_cc(["ingest", str(root)], env=cli_env(d), timeout=120)
    assert res.returncode == 1, res
    assert re.search(r"^4 files: 3 ingested, 1 failed$", res.stdout, re.M), res.stdout
    assert "broken.pdf" in res.stderr, res.stderr
    for ln in res.stderr.splitlines():
        if "broken.pdf" in ln:
            assert len(ln.split("broken.pdf", 1)[1].strip(": ")) > 3, \
                "the failure line should say why: %r" % ln
    assert "a.md" not in res.stderr and "c.txt" not in res.stderr, res.stderr
    for w in ("cligoodone", "cligoodtwo", "cligoodthree"):
        assert search(d, w)["results"], w
    d.assert_serving()


def test_ingest_no_wait_prints_job_ids(served, tmp_path):
    d = served
    root = tmp_path / "docs"
    write(root / "a.md", "# A\n\nclinowaitone\n")
    write(root / "b.md", "# B\n\nclinowaittwo\n")
    res = run_cc(["ingest", str(root), "--no-wait"], env=cli_env(d), timeout=60)
    assert res.returncode == 0, res
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    assert len(lines) == 2, res.stdout
    for ln in lines:
        m = re.match(r"^(\d+) (.+)$", ln)
        assert m, ln
        assert m.group(2).endswith((".md",)), ln
        assert wait_job(d, int(m.group(1)))["state"] == "succeeded"


def test_ingest_json_output_parses(served, tmp_path):
    d = served
    root = tmp_path / "docs"
    write(root / "a.md", "# A\n\nclijsonone\n")
    write(root / "bad.docx", b"PK\x03\x04not a zip")
    res = run_cc(["ingest", str(root), "--json"], env=cli_env(d), timeout=60)
    assert res.returncode == 1, res
    json.loads(res.stdout)   # --json: the whole stdout is one JSON document


def test_ingest_usage_errors(served, tmp_path):
    d = served
    env = cli_env(d)
    for args in (["ingest", "https://example.com/doc.md"],
                 ["ingest", "http://example.com/"],
                 ["ingest"],
                 ["ingest", str(tmp_path / "missing")],
                 ["ingest", "--bogus", str(tmp_path)]):
        res = run_cc(args, env=env)
        assert res.returncode == 2, res
        assert res.stderr.strip(), res
    f = tmp_path / "x.xyz"
    f.write_text("unsupported")
    res = run_cc(["ingest", str(f)], env=env)
    assert res.returncode == 2 and "unsupported" in res.stderr, res
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_cc(["ingest", str(empty)], env=env)
    assert res.returncode != 0 and "no supported files" in res.stderr, res
    assert sum(job_counts(d).values()) == 0, "a usage error uploaded something"
    # a read token cannot ingest
    tok = d.create_token("reader", "read")["token"]
    write(tmp_path / "ok" / "a.md", "# a\n\nx\n")
    res = run_cc(["ingest", str(tmp_path / "ok")], env=cli_env(d, tok), timeout=60)
    assert res.returncode == 1, res
    # the daemon is not there
    res = run_cc(["ingest", str(tmp_path / "ok"), "--server", "http://127.0.0.1:9"],
                 env=env, timeout=60)
    assert res.returncode == 1, res


def test_search_cli(served):
    d = served
    ingest_text(d, "# Overview\n\nThe clisearchword explains <things> & more.\n",
                title="Search Handbook", url="https://example.test/handbook")
    ingest_text(d, "Another clisearchword mention.\n", title="Second Title", tags=["t2"])
    env = cli_env(d)
    res = run_cc(["search", "clisearchword"], env=env)
    assert res.returncode == 0, res
    out = res.stdout
    assert "Search Handbook" in out and "Second Title" in out, out
    assert re.search(r"^1\. ", out, re.M) and re.search(r"^2\. ", out, re.M), out
    assert "https://example.test/handbook" in out, out
    assert "<mark>" not in out and "&lt;" not in out and "&amp;" not in out, \
        "snippets should be shown as plain text: %r" % out
    assert "<things> & more" in out, out

    res = run_cc(["search", "clisearchword", "-k", "1", "--json"], env=env)
    assert res.returncode == 0, res
    j = res.json
    assert j["mode"] == "bm25" and len(j["results"]) == 1, j

    res = run_cc(["search", "clisearchword", "--tag", "t2", "--json"], env=env)
    assert res.returncode == 0 and [r["title"] for r in res.json["results"]] == ["Second Title"], res
    res = run_cc(["search", "clisearchword", "--source", "manual", "--json"], env=env)
    assert res.returncode == 0 and len(res.json["results"]) == 2, res

    res = run_cc(["search", "nothingmatcheszzz"], env=env)
    assert res.returncode == 0 and "no results" in res.stdout, res

    # read tokens may search
    tok = d.create_token("reader", "read")["token"]
    res = run_cc(["search", "clisearchword"], env=cli_env(d, tok))
    assert res.returncode == 0 and "Search Handbook" in res.stdout, res

    res = run_cc(["search", "clisearchword", "-k", "0"], env=env)
    assert res.returncode == 1 and res.stderr.strip(), res
    res = run_cc(["search", "clisearchword", "--source", "nosuch"], env=env)
    assert res.returncode == 1 and "nosuch" in res.stderr, res
    res = run_cc(["search"], env=env)
    assert res.returncode == 2, res
    res = run_cc(["search", "two", "words"], env=env)
    assert res.returncode == 2, res
    res = run_cc(["search", "--help"])
    assert res.returncode == 0 and "search" in res.stdout, res


def test_ingest_reports_what_the_daemon_did_under_its_rate_limit(daemon, tmp_path):
    """A strict rate limit answers some of the CLI's requests 429: those are
    waited out, so the summary says what the daemon did (all ingested) instead
    of counting refused polls as failures."""
    d = daemon(config="http:\n  rate_limit_rps: 20\n  rate_limit_burst: 10\n")
    root = tmp_path / "many"
    root.mkdir()
    for i in range(60):
        (root / ("n%02d.md" % i)).write_text("# Note %d\n\nratelimitword%d body\n" % (i, i))
    res = run_cc(["ingest", str(root)], env=cli_env(d), timeout=300)
    assert res.returncode == 0, res
    assert "60 files: 60 ingested, 0 failed" in res.stdout, res.stdout
