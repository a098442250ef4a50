"""The knowledge store through the HTTP API (issue 4, docs/KNOWLEDGE.md, docs/API.md):
documents posted to a manual source go through the job queue (extract, chunk,
index) and become searchable; ranking is BM25 times the bounded priority
factor; re-posting is idempotent; bad input is refused clearly and the daemon
keeps serving; the knowledge metrics pass promtool."""

import base64
import math
import re
import subprocess

import pytest

from conftest import (DOCX_MIME, PDF_MIME, assert_error, create_source, db_query,
                      get_document, ingest_text, make_docx, make_pdf, pdftotext_of,
                      post_document, search, wait_job)
from test_metrics import metrics_when, promtool, samples

MARKDOWN = """# Flumbergast Guide

The flumbergast is a small tool for grooming yaks.

## Install

### From source

Run make to build the flumbergast binary from a checkout.

## Configure

Set the zorblat option in the configuration file.
"""

# A few unrelated documents so that BM25's IDF is positive for the query terms
# (FTS5 clamps the IDF of a term found in most rows to almost nothing).
FILLER_WORDS = ("apple banana cherry delta echo foxtrot garden harbor island jungle kettle "
                "lemon meadow nectar orchard pepper quartz river saddle timber umbrella "
                "valley walnut yonder zephyr anchor bridge castle dragon ember").split()


def filler(i, words=60):
    w = [FILLER_WORDS[(i * 7 + j * 3) % len(FILLER_WORDS)] for j in range(words)]
    return "# Filler %d\n\n%s.\n" % (i, " ".join(w))


def add_filler(d, n=20, source=None):
    jobs = []
    for i in range(n):
        f = {"content": filler(i), "external_id": "filler-%d" % i, "title": "Filler %d" % i}
        if source:
            f["source"] = source
        jobs.append(post_document(d, **f).json["job_id"])
    for j in jobs:
        assert wait_job(d, j)["state"] == "succeeded"


def only_doc(d, term, **params):
    """The id of the one document whose passages match `term`."""
    res = search(d, term, **params)["results"]
    ids = {r["doc_id"] for r in res}
    assert len(ids) == 1, "want exactly one document for %r, got %r" % (term, res)
    return ids.pop()


def priority_factor(p):
    return 0.5 * 4 ** ((p - 1) / 9.0)


# --------------------------------------------------------------------------
# ingestion and the document view

def test_markdown_document_is_chunked_by_headings_and_searchable(served):
    d = served
    r = post_document(d, content=MARKDOWN, title="Flumbergast Guide", external_id="guide.md",
                      content_type="text/markdown", url="https://example.test/guide",
                      tags=["tools", "yaks"], version="1.2")
    ans = r.json
    assert ans["state"] == "queued" and ans["external_id"] == "guide.md", ans
    assert isinstance(ans["job_id"], int), ans
    assert ans["status_url"] == "/api/v1/jobs/%d" % ans["job_id"], ans
    job = wait_job(d, ans["job_id"])
    assert job["state"] == "succeeded", job
    assert job["kind"] == "ingest.document" and job["attempts"] == 1, job
    assert job["finished_at"], job

    doc_id = only_doc(d, "zorblat")
    doc = get_document(d, doc_id)
    assert doc["id"] == doc_id and doc["external_id"] == "guide.md", doc
    assert doc["title"] == "Flumbergast Guide", doc
    assert doc["url"] == "https://example.test/guide", doc
    assert sorted(doc["tags"]) == ["tools", "yaks"], doc
    assert doc["version"] == "1.2", doc
    assert re.match(r"^[0-9a-f]{64}$", doc["content_hash"]), doc
    chunks = doc["chunks"]
    assert len(chunks) >= 3, "a document with four headed sections gave %r" % chunks
    headings = [c.get("heading") for c in chunks]
    assert "Flumbergast Guide › Install › From source" in headings, headings
    assert "Flumbergast Guide › Configure" in headings, headings
    by_heading = {c.get("heading"): c["text"] for c in chunks}
    assert "make" in by_heading["Flumbergast Guide › Install › From source"], chunks
    assert "zorblat" in by_heading["Flumbergast Guide › Configure"], chunks
    assert "zorblat" not in by_heading["Flumbergast Guide › Install › From source"], chunks
    assert [c["ord"] for c in chunks] == sorted(c["ord"] for c in chunks), chunks

    ans = search(d, "zorblat")
    assert ans["mode"] == "bm25" and ans["query"] == "zorblat", ans
    assert ans["k"] == 10 and isinstance(ans["took_ms"], (int, float)), ans
    hit = ans["results"][0]
    assert hit["doc_id"] == doc_id and hit["title"] == "Flumbergast Guide", hit
    assert hit["heading"] == "Flumbergast Guide › Configure", hit
    assert hit["source"] == "manual" and hit["priority"] == 5, hit
    assert hit["url"] == "https://example.test/guide" and hit["version"] == "1.2", hit
    assert hit["chunk_id"] in [c["id"] for c in chunks], hit
    assert "<mark>zorblat</mark>" in hit["snippet"], hit
    assert hit["score"] > 0 and hit["relevance"] > 0, hit


def test_markdown_table_reads_as_text_in_chunks_and_snippets(served):
    """A Markdown table is indexed row by row as words ("Header: value — ..."),
    under its heading; a search hit on a cell shows the row, not pipes."""
    d = served
    md = ("# Tuning\n\n## Limits\n\n"
          "| Setting | Default | Meaning |\n"
          "|---------|:-------:|---------|\n"
          "| `plonkwidth` | 42 | width of the **plonk** buffer |\n"
          "| retries | 3 | attempts before giving up |\n")
    ingest_text(d, md, content_type="text/markdown", title="Tuning", external_id="tuning.md")
    doc = get_document(d, only_doc(d, "plonkwidth"))
    chunks = doc["chunks"]
    assert [c.get("heading") for c in chunks] == ["Tuning › Limits"], chunks
    text = chunks[0]["text"]
    assert "Setting: plonkwidth — Default: 42 — Meaning: width of the plonk buffer" in text, text
    assert "Setting: retries — Default: 3 — Meaning: attempts before giving up" in text, text
    assert "|" not in text and "---" not in text, "table markup in the chunk: %r" % text

    hit = search(d, "plonkwidth")["results"][0]
    assert hit["heading"] == "Tuning › Limits", hit
    snip = hit["snippet"]
    assert "Setting: <mark>plonkwidth</mark> — Default: 42" in snip, snip
    assert "|" not in snip, "pipes in the snippet: %r" % snip


def test_manual_source_exists_at_start(served):
    r = served.admin("GET", "/api/v1/sources/manual")
    assert r.status == 200, r
    s = r.json
    assert s["name"] == "manual" and s["type"] == "manual" and s["priority"] == 5, s
    assert s["enabled"] is True, s


def test_plain_text_and_html_documents(served):
    d = served
    ingest_text(d, "Plain notes about the quibblefrotz engine.\n\nA second paragraph.",
                content_type="text/plain", title="Plain notes")
    html = ("<!DOCTYPE html><html><head><title>Widget page</title>"
            "<style>.x{color:red}</style><script>var scriptonlyword = 1;</script></head>"
            "<body><nav>menu</nav><h1>Widgets</h1><p>The glorbnax widget &amp; its friends.</p>"
            "<h2>Setup</h2><p>Install the glorbnax <b>carefully</b>.</p>"
            "<pre><code>glorbnax --init</code></pre></body></html>")
    ingest_text(d, html, content_type="text/html", title="Widget page", external_id="w.html")

    hit = search(d, "quibblefrotz")["results"][0]
    assert hit["title"] == "Plain notes", hit
    assert "<mark>quibblefrotz</mark>" in hit["snippet"], hit

    doc = get_document(d, only_doc(d, "glorbnax"))
    text = "\n".join(c["text"] for c in doc["chunks"])
    assert "<p>" not in text and "<h2>" not in text and "<b>" not in text, \
        "HTML tags left in the extracted text: %r" % doc["chunks"]
    assert "glorbnax widget & its friends" in text, \
        "entities not decoded / text lost: %r" % doc["chunks"]
    assert "glorbnax --init" in text, "code block lost: %r" % doc["chunks"]
    headings = [c.get("heading") or "" for c in doc["chunks"]]
    assert any(h.endswith("Setup") for h in headings), headings
    assert search(d, "scriptonlyword")["results"] == [], "script text was indexed"


def test_snippet_is_html_escaped(served):
    d = served
    ingest_text(d, "Use <script>alert(1)</script> & \"quotes\" near the snorkelwump setting.",
                content_type="text/plain", title="Escaping <b>title</b>")
    hit = search(d, "snorkelwump")["results"][0]
    snip = hit["snippet"]
    assert "<mark>snorkelwump</mark>" in snip, hit
    without_marks = snip.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks and ">" not in without_marks, \
        "snippet is not HTML-escaped: %r" % snip
    assert "&lt;script&gt;" in snip, snip
    assert "&amp;" in snip, snip


def test_pdf_and_docx_documents_are_searchable(served, tmp_path):
    d = served
    pdf = make_pdf(["Quarterly pdfquokka report", "The pdfquokka numbers went up."])
    assert "pdfquokka" in pdftotext_of(pdf, tmp_path), "the PDF fixture itself is broken"
    r = post_document(d, content_base64=base64.b64encode(pdf).decode(), content_type=PDF_MIME,
                      title="Quokka report", external_id="report.pdf")
    job = wait_job(d, r.json["job_id"])
    assert job["state"] == "succeeded", job
    hit = search(d, "pdfquokka")["results"][0]
    assert hit["title"] == "Quokka report" and "<mark>pdfquokka</mark>" in hit["snippet"], hit

    docx = make_docx([("Heading1", "Wombat handbook"),
                      (None, "The docxwombat burrows at night."),
                      ("Heading2", "Feeding"),
                      (None, "Give the docxwombat grass.")])
    r = post_document(d, content_base64=base64.b64encode(docx).decode(), content_type=DOCX_MIME,
                      title="Wombat", external_id="wombat.docx")
    job = wait_job(d, r.json["job_id"])
    assert job["state"] == "succeeded", job
    res = search(d, "docxwombat")["results"]
    assert res and res[0]["title"] == "Wombat", res
    doc = get_document(d, res[0]["doc_id"])
    text = " ".join(c["text"] for c in doc["chunks"])
    assert "burrows at night" in text and "grass" in text, doc
    assert "<w:" not in text, "XML left in the DOCX text: %r" % text
    headings = [c.get("heading") or "" for c in doc["chunks"]]
    assert any("Wombat handbook" in h for h in headings), \
        "DOCX Heading1 not used as a heading: %r" % headings


# --------------------------------------------------------------------------
# search parameters

def test_search_filters(served):
    d = served
    create_source(d, name="other", type="manual", priority=5)
    docs = [
        dict(external_id="a", title="Alpha", tags=["red"], version="1.0",
             published="2024-01-10T00:00:00Z"),
        dict(external_id="b", title="Beta", tags=["blue"], version="2.0",
             published="2026-06-01T12:00:00Z"),
        dict(external_id="c", title="Gamma", tags=["red", "blue"], version="2.0",
             published="2025-03-01T00:00:00Z", source="other"),
    ]
    for f in docs:
        ingest_text(d, "All about the filtertarget widget, %s edition." % f["title"], **f)

    def titles(**params):
        return sorted({r["title"] for r in search(d, "filtertarget", k=100, **params)["results"]})

    assert titles() == ["Alpha", "Beta", "Gamma"]
    assert titles(source="other") == ["Gamma"]
    assert titles(source="manual") == ["Alpha", "Beta"]
    assert titles(tag="red") == ["Alpha", "Gamma"]
    assert titles(tag="blue") == ["Beta", "Gamma"]
    assert titles(tag="green") == []
    assert titles(version="2.0") == ["Beta", "Gamma"]
    assert titles(version="1.0") == ["Alpha"]
    assert titles(since="2025-01-01T00:00:00Z") == ["Beta", "Gamma"]
    assert titles(since="2026-06-01T12:00:00Z") == ["Beta"], "since is 'at or after'"
    assert titles(since="2025-01-01") == ["Beta", "Gamma"], "a date is a valid since"
    assert titles(since="2030-01-01T00:00:00Z") == []
    assert titles(tag="red", version="2.0") == ["Gamma"]
    assert titles(source="other", tag="blue", since="2025-01-01T00:00:00Z") == ["Gamma"]
    hit = [r for r in search(d, "filtertarget", source="other")["results"]][0]
    assert hit["source"] == "other" and hit["published_at"].startswith("2025-03-01T00:00:00"), hit

    err = assert_error(search(d, "filtertarget", expect=404, source="nosuchsource"), 404)
    assert "nosuchsource" in err["message"], err
    assert_error(search(d, "filtertarget", expect=400, since="last tuesday"), 400)


def test_search_k_and_q_bounds(served):
    d = served
    for i in range(15):
        ingest_text(d, "Entry %d about the kbound topic.\n" % i, external_id="k%d" % i)
    assert len(search(d, "kbound")["results"]) == 10, "default k is 10"
    assert len(search(d, "kbound", k=1)["results"]) == 1
    assert len(search(d, "kbound", k=3)["results"]) == 3
    ans = search(d, "kbound", k=100)
    assert ans["k"] == 100 and len(ans["results"]) == 15, ans
    for bad_k in ("0", "101", "-1", "abc", "1.5", ""):
        r = search(d, "kbound", expect=400, k=bad_k)
        assert_error(r, 400)
    assert_error(search(d, None, expect=400), 400)          # q missing
    assert_error(search(d, "", expect=400), 400)            # q empty
    assert_error(search(d, "x" * 1100, expect=400), 400)    # q too long


def test_search_k_default_from_config(daemon):
    d = daemon(env={"CC_KNOWLEDGE_SEARCH_K_DEFAULT": "3"})
    for i in range(6):
        ingest_text(d, "Item %d on the kdefaulttopic.\n" % i, external_id="i%d" % i)
    ans = search(d, "kdefaulttopic")
    assert ans["k"] == 3 and len(ans["results"]) == 3, ans


QUERIES = ['"unbalanced', "AND OR NOT", "col:umn", "a*", "(((", "NEAR(a b)", "^start", "-minus",
           "ünïcödé wörds", "'; DROP TABLE chunks; --", "{title}: x", "***", "\"\"", "a OR",
           "title:unicode", "ab\x00cd"]


def test_any_query_text_is_valid(served):
    from urllib.parse import urlencode
    d = served
    ingest_text(d, "Some text with unicode words: unicode wörds and start minus column.\n")
    for q in QUERIES:
        r = d.request("GET", "/api/v1/knowledge/search?" + urlencode({"q": q}),
                      token=d.admin_token)
        # a query is never FTS5 syntax: any text with a letter or digit is a
        # valid query (200); only one without any may be refused (400, "no
        # searchable words"); a NUL byte is a malformed query (400)
        if "\x00" in q:
            assert_error(r, 400)
        elif re.search(r"\w", q):
            assert r.status == 200, "query %r: %r" % (q, r)
            assert isinstance(r.json["results"], list), r
        else:
            assert r.status in (200, 400), "query %r: %r" % (q, r)
            if r.status == 400:
                assert_error(r, 400)
    assert search(d, "wörds")["results"], "a non-ASCII word must match"
    d.assert_serving()


def test_search_matches_accents_and_stems(served):
    d = served
    ingest_text(d, "The café serves crêpes while the runners were running quickly.\n",
                title="Cafe notes")
    assert search(d, "cafe")["results"], "remove_diacritics: cafe should match café"
    assert search(d, "crepe")["results"], "crepe should match crêpes (diacritics + stem)"
    assert search(d, "run")["results"], "porter stemming: run should match running"


# --------------------------------------------------------------------------
# ranking

def test_priority_breaks_ties(served):
    d = served
    create_source(d, name="low", type="manual", priority=3)
    create_source(d, name="high", type="manual", priority=9)
    add_filler(d)
    text = "# Tie breaking\n\nThe tiebreaker passage explains the ranking rule.\n"
    # Post to the low-priority source first so that insertion order cannot explain a win.
    ingest_text(d, text, title="Same", external_id="same", source="low")
    ingest_text(d, text, title="Same", external_id="same", source="high")
    res = search(d, "tiebreaker ranking")["results"]
    assert len(res) == 2, res
    assert [r["source"] for r in res] == ["high", "low"], res
    assert [r["priority"] for r in res] == [9, 3], res
    hi, lo = res
    assert math.isclose(hi["relevance"], lo["relevance"], rel_tol=1e-6), res
    assert hi["relevance"] > 0, res
    for r in res:
        assert math.isclose(r["score"], r["relevance"] * priority_factor(r["priority"]),
                            rel_tol=1e-3), "score != relevance x factor: %r" % r
    assert math.isclose(hi["score"] / lo["score"], 4 ** (6 / 9.0), rel_tol=1e-3), res


def test_strong_relevance_beats_priority(served):
    d = served
    create_source(d, name="weakprio", type="manual", priority=2)
    create_source(d, name="topprio", type="manual", priority=10)
    add_filler(d)
    strong = ("# Quasar tuning\n\nQuasar tuning: tune the quasar. Quasar tuning makes the quasar "
              "fast; quasar tuning guide for every quasar.\n")
    # one passage (under chunk_max_chars) that mentions the term once, mid-text
    sentences = ["The %s %s ships with small changes." % (FILLER_WORDS[i % 30],
                                                          FILLER_WORDS[(i * 7) % 30])
                 for i in range(36)]
    sentences.insert(18, "One entry mentions a quasar in passing.")
    weak = "# Release notes\n\n" + " ".join(sentences) + "\n"
    assert len(weak) < 1800
    ingest_text(d, weak, title="Release notes", external_id="weak", source="topprio")
    ingest_text(d, strong, title="Quasar tuning", external_id="strong", source="weakprio")
    res = search(d, "quasar tuning")["results"]
    assert len(res) == 2, res
    assert res[0]["title"] == "Quasar tuning" and res[0]["source"] == "weakprio", res
    assert res[1]["source"] == "topprio", res
    assert res[0]["relevance"] > 3.5 * res[1]["relevance"], res
    for r in res:
        assert math.isclose(r["score"], r["relevance"] * priority_factor(r["priority"]),
                            rel_tol=1e-3), r


def test_title_outweighs_body(served):
    d = served
    add_filler(d)
    ingest_text(d, "Nothing about it here, just general text.\n", title="Hoverboard maintenance",
                external_id="t")
    ingest_text(d, "General text. Hoverboard maintenance is mentioned here once.\n",
                title="Misc", external_id="b")
    res = search(d, "hoverboard")["results"]
    assert [r["title"] for r in res] == ["Hoverboard maintenance", "Misc"], res


# --------------------------------------------------------------------------
# idempotency, updates, deletes

def test_same_content_twice_is_a_no_op(served):
    d = served
    text = "# Idem\n\nThe idempotentword appears here.\n\n## More\n\nAnd more text.\n"
    ingest_text(d, text, external_id="idem-1", title="Idem")
    doc_id = only_doc(d, "idempotentword")
    before = get_document(d, doc_id)
    ingest_text(d, text, external_id="idem-1", title="Idem")
    after = get_document(d, doc_id)
    assert only_doc(d, "idempotentword") == doc_id
    assert [c["id"] for c in after["chunks"]] == [c["id"] for c in before["chunks"]], \
        "unchanged content must not rewrite the chunks"
    assert after["content_hash"] == before["content_hash"], (before, after)
    assert len(search(d, "idempotentword")["results"]) == 1

    # without an external_id, the same content is the same document too
    text2 = "Anonymous content with the anonword marker.\n"
    ingest_text(d, text2)
    ingest_text(d, text2)
    res = search(d, "anonword")["results"]
    assert len(res) == 1, res
    n = db_query(d, "SELECT count(*) FROM documents WHERE external_id LIKE 'sha256:%'")[0][0]
    assert n == 1, n


def test_changed_content_replaces_the_document(served):
    d = served
    ingest_text(d, "# V1\n\nThe oldmarker text.\n", external_id="upd", title="Version one")
    doc_id = only_doc(d, "oldmarker")
    ingest_text(d, "# V2\n\nThe newmarker text.\n", external_id="upd", title="Version two")
    assert search(d, "oldmarker")["results"] == [], "old chunks survived the update"
    assert only_doc(d, "newmarker") == doc_id, "the document id must survive an update"
    doc = get_document(d, doc_id)
    assert doc["title"] == "Version two", doc
    assert all("oldmarker" not in c["text"] for c in doc["chunks"]), doc
    rows = db_query(d, "SELECT count(*) FROM chunks WHERE document_id = ?", (doc_id,))
    assert rows[0][0] == len(doc["chunks"]), rows


def test_delete_removes_from_search(served):
    d = served
    ingest_text(d, "The deletable doomedword document.\n", external_id="del")
    ingest_text(d, "A survivor with the doomedword too.\n", external_id="keep")
    res = search(d, "doomedword")["results"]
    assert len(res) == 2, res
    doc_id = only_doc(d, "deletable")
    r = d.admin("DELETE", "/api/v1/knowledge/documents/%d" % doc_id)
    assert r.status == 204 and r.body == b"", r
    res = search(d, "doomedword")["results"]
    assert [x["doc_id"] for x in res] != [] and all(x["doc_id"] != doc_id for x in res), res
    assert search(d, "deletable")["results"] == []
    assert_error(get_document(d, doc_id, expect=404), 404)
    assert_error(d.admin("DELETE", "/api/v1/knowledge/documents/%d" % doc_id), 404)
    assert_error(d.admin("GET", "/api/v1/knowledge/documents/abc"), 400)
    assert db_query(d, "SELECT count(*) FROM chunks WHERE document_id = ?", (doc_id,))[0][0] == 0


def test_read_token_can_search_but_not_post(served):
    d = served
    ingest_text(d, "Scoped readable scopeword.\n")
    tok = d.create_token("reader", "read")["token"]
    assert search(d, "scopeword", token=tok)["results"]
    r = d.request("POST", "/api/v1/knowledge/documents", token=tok,
                  json_body={"content": "nope"})
    assert_error(r, 403)
    assert_error(d.request("GET", "/api/v1/knowledge/search?q=x"), 401)


# --------------------------------------------------------------------------
# bad input

def test_bad_documents_are_refused(served):
    d = served
    url = "/api/v1/knowledge/documents"
    assert_error(d.admin("POST", url, body=b'{"content": "x",', content_type="application/json"), 400)
    assert_error(d.admin("POST", url, body=b'[1,2]', content_type="application/json"), 400)
    assert_error(post_document(d, expect=400, content=""), 400)
    assert_error(post_document(d, expect=400, title="no content"), 400)
    assert_error(post_document(d, expect=400, content=42), 400)
    assert_error(post_document(d, expect=400, content="x", tags="notalist"), 400)
    assert_error(post_document(d, expect=400, content="x", published="yesterday"), 400)
    assert_error(post_document(d, expect=400, content="x", nosuchfield=1), 400)
    assert_error(post_document(d, expect=400, content="x", content_base64="eA=="), 400)
    assert_error(post_document(d, expect=400, content_base64="!!!not base64!!!",
                               content_type=PDF_MIME), 400)
    err = assert_error(post_document(d, expect=404, content="x", source="nosuch"), 404)
    assert "nosuch" in err["message"], err
    assert_error(post_document(d, expect=415, content="x", content_type="application/x-foo"), 415)
    assert_error(post_document(d, expect=415, content="x", content_type="image/png"), 415)
    # a JSON route with a non-JSON body
    assert_error(d.admin("POST", url, body=b"content=x", content_type="text/plain"), 415)
    d.assert_serving()
    assert job_total(d) == 0, "a refused document must not queue a job"


def job_total(d):
    c = d.admin("GET", "/api/v1/jobs").json["counts"]
    return sum(c.values())


def test_posting_to_a_file_source_is_refused(served, tmp_path):
    d = served
    folder = tmp_path / "docs"
    folder.mkdir()
    create_source(d, name="folder", type="file", path=str(folder))
    err = assert_error(post_document(d, expect=409, content="x", source="folder"), 409)
    assert err["message"], err


def test_oversize_documents(daemon):
    d = daemon(env={"CC_KNOWLEDGE_MAX_DOCUMENT_BYTES": "4KiB"})
    # a body far over any upload limit derived from 4 KiB: refused before it is read
    r = post_document(d, expect=None, content="oversize " * 30000)   # 270 KB
    assert_error(r, 413)
    # 20 KB of text: over the 4 KiB document limit; refused at once (413) or
    # by its job (dead, with a reason), never stored
    r = post_document(d, expect=None, content="toolarge words " * 1400, external_id="big")
    if r.status == 202:
        job = wait_job(d, r.json["job_id"])
        assert job["state"] == "dead", "a 20 KB document passed a 4 KiB limit: %r" % job
        assert job["attempts"] == 1, "an oversize document is bad input, not retried: %r" % job
        assert job["last_error"] and re.search(r"large|size|limit|bytes", job["last_error"], re.I), job
    else:
        assert_error(r, 413)
    assert search(d, "toolarge")["results"] == []
    # a small one still goes through
    ingest_text(d, "A small smallenough document.\n")
    assert search(d, "smallenough")["results"]


@pytest.mark.parametrize("kind", ["pdf-garbage", "pdf-truncated", "docx-garbage",
                                  "docx-no-document", "docx-bad-xml"])
def test_corrupt_binary_documents_die_with_a_reason(served, kind):
    import io
    import zipfile
    d = served
    if kind == "pdf-garbage":
        data, ctype = b"%PDF-1.4\n" + bytes(range(256)) * 8, PDF_MIME
    elif kind == "pdf-truncated":
        data, ctype = make_pdf(["truncated corruptpdfword"])[:150], PDF_MIME
    elif kind == "docx-garbage":
        data, ctype = b"PK\x03\x04" + bytes(range(256)) * 8, DOCX_MIME
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            if kind == "docx-bad-xml":
                z.writestr("word/document.xml", "<w:document><w:body><w:p>unclosed corruptdocxword")
            else:
                z.writestr("word/other.xml", "<x/>")
        data, ctype = buf.getvalue(), DOCX_MIME
    r = post_document(d, content_base64=base64.b64encode(data).decode(), content_type=ctype,
                      external_id="corrupt-" + kind, title="Corrupt")
    job = wait_job(d, r.json["job_id"], timeout=30)
    assert job["state"] == "dead", "corrupt input must end dead: %r" % job
    assert job["attempts"] == 1, "bad input is not retried: %r" % job
    assert isinstance(job["last_error"], str) and len(job["last_error"]) > 5, job
    assert job["finished_at"], job
    d.assert_serving()
    assert db_query(d, "SELECT count(*) FROM documents WHERE external_id = ?",
                    ("corrupt-" + kind,))[0][0] == 0
    # the daemon and its workers carry on
    ingest_text(d, "After the corrupt one, the stillworking document.\n")
    assert search(d, "stillworking")["results"]


def test_text_with_invalid_utf8_is_ingested(served):
    d = served
    raw = "Latin-1 text: caf\xe9 with the brokenutf marker.\n".encode("latin-1")
    r = post_document(d, content_base64=base64.b64encode(raw).decode(), content_type="text/plain")
    job = wait_job(d, r.json["job_id"])
    assert job["state"] == "succeeded", job
    hit = search(d, "brokenutf")["results"][0]
    hit["snippet"].encode("utf-8")   # valid text came back
    d.assert_serving()


# --------------------------------------------------------------------------
# metrics

def test_knowledge_metrics_pass_promtool(served, tmp_path):
    d = served
    for i in range(3):
        ingest_text(d, "# Metric doc %d\n\nmetricword text %d.\n" % (i, i), external_id="m%d" % i)
    r = post_document(d, content_base64=base64.b64encode(b"%PDF-1.4 junk").decode(),
                      content_type=PDF_MIME, external_id="bad.pdf")
    assert wait_job(d, r.json["job_id"])["state"] == "dead"
    for q in ("metricword", "nothingmatchesthis"):
        search(d, q)

    def ready(t):
        return (sum(v for l, v in samples(t, "cc_search_duration_seconds_count")) >= 2 and
                any(l.get("state") == "succeeded" and v >= 3
                    for l, v in samples(t, "cc_job_queue_depth")))
    r = metrics_when(d, ready, timeout=10)
    assert r.status == 200, r
    text = r.text
    p = subprocess.run([promtool(), "check", "metrics"], input=r.body, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    out = (p.stdout + p.stderr).decode()
    assert p.returncode == 0, "promtool check metrics failed:\n%s" % out

    # the queue gauge by state (named cc_job_queue_depth: a gauge "cc_jobs" would
    # clash with the counter cc_jobs_total in OpenMetrics)
    jobs = {l.get("state"): v for l, v in samples(text, "cc_job_queue_depth")}
    assert set(jobs) >= {"queued", "running", "succeeded", "failed", "dead"}, jobs
    assert jobs["succeeded"] >= 3 and jobs["dead"] >= 1, jobs
    totals = samples(text, "cc_jobs_total")
    ingest = [(l, v) for l, v in totals if l.get("kind") == "ingest.document"]
    assert sum(v for l, v in ingest) >= 4, totals
    assert len({l.get("outcome") for l, v in ingest if v > 0}) >= 2, \
        "successes and the dead job should have different outcomes: %r" % ingest
    stages = {l.get("stage") for l, v in samples(text, "cc_job_stage_duration_seconds_count") if v > 0}
    assert {"extract", "chunk", "index"} <= stages, stages
    docs = samples(text, "cc_ingest_documents_total")
    assert sum(v for l, v in docs if l.get("source") == "manual") >= 3, docs
    assert all("result" in l for l, v in docs), docs
    assert sum(v for l, v in samples(text, "cc_search_duration_seconds_count")) >= 2
    assert sum(v for l, v in samples(text, "cc_search_results_count")) >= 2
    assert samples(text, "cc_search_results_bucket"), "cc_search_results is not a histogram"
