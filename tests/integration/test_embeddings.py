"""Optional vectors (issue 4 item 3, docs/KNOWLEDGE.md "Vectors"): with an
embedding endpoint configured, the pipeline stores one vector per chunk and
search fuses the BM25 and vector rankings by reciprocal rank fusion, answering
"mode": "hybrid"; when the endpoint fails at query time search falls back to
BM25 and says so; an endpoint answering garbage fails the ingestion job, which
is retried and then dead with a clear message.

The endpoint is a small local HTTP server speaking both protocols (OpenAI
/v1/embeddings and Ollama /api/embeddings). Its vectors are deterministic: a
bag of words hashed into 64 dimensions and normalized, where a synonym table
maps "car" and "cars" to the bucket of "automobile", so a query can be close
to a document without sharing a word with it."""

import json
import math
import re
import ssl
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import db_query, ingest_text, post_document, search, wait_job
from fetch_helpers import make_ca

DIMS = 64
SYNONYMS = {"car": "automobile", "cars": "automobile", "automobiles": "automobile"}


def embed(text):
    v = [0.0] * DIMS
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        w = SYNONYMS.get(w, w)
        v[zlib.crc32(w.encode()) % DIMS] += 1.0
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


class EmbedServer:
    """Answers both protocols; `garbage` makes every answer invalid. Records
    the requests it saw."""

    def __init__(self, certfile=None, keyfile=None):
        self.garbage = False
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                if outer.garbage:
                    answer = {"data": [{"embedding": [1, "x"]}], "embedding": "nope"}
                elif self.path == "/api/embeddings":
                    answer = {"embedding": embed(body["prompt"])}
                else:
                    answer = {"data": [{"index": i, "embedding": embed(t)}
                                       for i, t in enumerate(body["input"])],
                              "model": body["model"]}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@pytest.fixture
def embed_server():
    s = EmbedServer()
    yield s
    s.stop()


def embed_env(server, api="openai", **extra):
    path = "/api/embeddings" if api == "ollama" else "/v1/embeddings"
    env = {"CC_KNOWLEDGE_EMBED_URL": "http://127.0.0.1:%d%s" % (server.port, path),
           "CC_KNOWLEDGE_EMBED_API": api, "CC_KNOWLEDGE_EMBED_MODEL": "bow-64"}
    env.update(extra)
    return env


DOCS = {
    "auto": "# Automobile care\n\nChange the oil of your automobile every year.\n",
    "garden": "# Gardening\n\nWater the tomatoes and turn the compost weekly.\n",
    "bread": "# Baking\n\nKnead the dough and let the bread rise overnight.\n",
    "stars": "# Astronomy\n\nThe telescope shows the rings of Saturn on clear nights.\n",
}


def ingest_all(d):
    for ext, text in DOCS.items():
        ingest_text(d, text, external_id=ext, content_type="text/markdown")


def assert_vectors_complete(d, model="bow-64"):
    chunks = db_query(d, "SELECT COUNT(*) FROM chunks")[0][0]
    vecs = db_query(d, "SELECT COUNT(*) FROM chunk_vectors WHERE model = ? AND dims = ?",
                    (model, DIMS))[0][0]
    assert chunks > 0 and vecs == chunks, (chunks, vecs)


@pytest.mark.parametrize("api", ["openai", "ollama"])
def test_documents_get_vectors_and_hybrid_search_finds_synonyms(daemon, embed_server, api):
    d = daemon(env=embed_env(embed_server, api, CC_KNOWLEDGE_EMBED_API_KEY="sekrit"))
    ingest_all(d)
    assert_vectors_complete(d)
    paths = {p for p, _, _ in embed_server.requests}
    assert paths == {"/api/embeddings" if api == "ollama" else "/v1/embeddings"}, paths
    assert all(h.get("Authorization") == "Bearer sekrit" for _, h, _ in embed_server.requests)
    assert all(b["model"] == "bow-64" for _, _, b in embed_server.requests)

    # "car" appears in no document: BM25 alone finds nothing, the vectors do.
    r = search(d, "car")
    assert r["mode"] == "hybrid" and "degraded" not in r, r
    assert r["results"], r
    top = r["results"][0]
    assert top["title"] == "Automobile care", r["results"]
    # a vector-only hit still has a snippet: the passage's start, unmarked
    assert "Change the oil" in top["snippet"] and "<mark>" not in top["snippet"], top

    # A word match ranks first and keeps its marked snippet.
    r = search(d, "telescope")
    assert r["mode"] == "hybrid", r
    assert r["results"][0]["title"] == "Astronomy", r["results"]
    assert "<mark>telescope</mark>" in r["results"][0]["snippet"], r["results"][0]


def test_unchanged_document_is_not_embedded_again(daemon, embed_server):
    d = daemon(env=embed_env(embed_server))
    ingest_text(d, DOCS["auto"], external_id="auto", content_type="text/markdown")
    n = len(embed_server.requests)
    ingest_text(d, DOCS["auto"], external_id="auto", content_type="text/markdown")
    assert len(embed_server.requests) == n
    assert_vectors_complete(d)


def test_without_endpoint_search_is_bm25(daemon):
    d = daemon()
    ingest_text(d, DOCS["stars"], external_id="stars", content_type="text/markdown")
    r = search(d, "telescope")
    assert r["mode"] == "bm25" and "degraded" not in r, r
    assert db_query(d, "SELECT COUNT(*) FROM chunk_vectors")[0][0] == 0


def test_endpoint_down_at_query_time_falls_back_to_bm25(daemon, embed_server):
    d = daemon(env=embed_env(embed_server))
    ingest_all(d)
    embed_server.stop()
    r = search(d, "telescope")
    assert r["mode"] == "bm25", r
    assert r["degraded"].startswith("embedding endpoint failed: "), r
    assert r["results"][0]["title"] == "Astronomy", r


def test_garbage_answers_make_the_job_dead_after_retries(daemon, embed_server):
    embed_server.garbage = True
    d = daemon(env=embed_env(embed_server, CC_JOBS_MAX_ATTEMPTS="2",
                             CC_JOBS_BACKOFF_INITIAL="50ms", CC_JOBS_BACKOFF_MAX="100ms"))
    r = post_document(d, content=DOCS["bread"], external_id="bread",
                      content_type="text/markdown")
    job = wait_job(d, r.json["job_id"], timeout=30)
    assert job["state"] == "dead", job
    assert job["attempts"] == 2, job
    assert "cannot embed the document" in job["last_error"], job
    assert "invalid" in job["last_error"], job
    assert len(embed_server.requests) == 2
    assert db_query(d, "SELECT COUNT(*) FROM chunk_vectors")[0][0] == 0


def test_https_endpoint_verified_against_the_configured_ca(daemon, tmp_path):
    """The endpoint is reached through the fetcher: https works when the
    certificate verifies (fetch.ca_file), and a loopback endpoint is not refused
    by the SSRF guard because the operator configured it."""
    ca = make_ca(tmp_path)
    server = EmbedServer(certfile=str(ca / "good.pem"), keyfile=str(ca / "good.key"))
    try:
        env = embed_env(server, CC_FETCH_CA_FILE=str(ca / "ca.pem"))
        env["CC_KNOWLEDGE_EMBED_URL"] = env["CC_KNOWLEDGE_EMBED_URL"].replace("http:", "https:")
        d = daemon(env=env)
        ingest_all(d)
        assert_vectors_complete(d)
        metrics = d.admin("GET", "/metrics").text
        ok = [ln for ln in metrics.splitlines()
              if ln.startswith('cc_fetch_requests_total{result="ok"}')]
        assert ok and float(ok[0].split()[-1]) >= 1, ok
        assert "cc_fetch_duration_seconds_count" in metrics
        # loaded on the first request (an idle daemon does not carry it: test_fetch.py)
        assert "libcurl" in open("/proc/%d/maps" % d.proc.pid).read()
    finally:
        server.stop()


def test_https_endpoint_with_an_unknown_ca_fails_the_job(daemon, tmp_path):
    ca = make_ca(tmp_path)
    server = EmbedServer(certfile=str(ca / "good.pem"), keyfile=str(ca / "good.key"))
    try:
        env = embed_env(server, CC_JOBS_MAX_ATTEMPTS="1")
        env["CC_KNOWLEDGE_EMBED_URL"] = env["CC_KNOWLEDGE_EMBED_URL"].replace("http:", "https:")
        d = daemon(env=env)
        r = post_document(d, content="# T\n\nsome text\n", external_id="t",
                          content_type="text/markdown")
        job = wait_job(d, r.json["job_id"], timeout=30)
        assert job["state"] == "dead", job
        assert "TLS" in job["last_error"], job
        assert server.requests == []
    finally:
        server.stop()


def test_non_http_endpoint_is_refused_at_start(daemon):
    d = daemon(env={"CC_KNOWLEDGE_EMBED_URL": "ftp://api.example.com/v1/embeddings",
                    "CC_KNOWLEDGE_EMBED_MODEL": "m"}, wait=False)
    rc = d.wait_exit()
    assert rc != 0
    err = d.stderr_text()
    assert "CC_KNOWLEDGE_EMBED_URL" in err and "https://" in err, err


def test_url_without_model_is_refused_at_start(daemon):
    d = daemon(env={"CC_KNOWLEDGE_EMBED_URL": "http://127.0.0.1:9/v1/embeddings"}, wait=False)
    assert d.wait_exit() != 0
    assert "knowledge.embed_model must be set" in d.stderr_text(), d.stderr_text()
