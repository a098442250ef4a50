"""Fixtures for the integration suite: they drive the real `commandcenter` binary.

The binary comes from $CC_BIN (default: <repo>/build/commandcenter). `make test`
runs this suite twice, once against the normal build and once against the
ASan+UBSan build, so every daemon and every CLI run is checked for sanitizer
reports, and every daemon must exit 0 after SIGTERM.

Main pieces:
  daemon(...)      fixture factory: starts `commandcenter serve`, waits for the
                   "listening" log line, returns a Daemon (.url, .admin_token,
                   .stderr_lines, .logs(), .request(), .stop()).
  run_cc(...)      runs a CLI command to completion (sanitizer-checked).
  http_request()   one HTTP request with http.client -> Response.
  raw_request()    bytes over a socket, for requests http.client will not send.
"""

import base64
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CC_BIN = os.environ.get("CC_BIN") or str(REPO / "build" / "commandcenter")

START_TIMEOUT = 10.0          # seconds until the "listening" line must appear
STOP_TIMEOUT = 30.0           # generous: the ASan build is slow to exit

TOKEN_RE = re.compile(r"^cc_[A-Za-z0-9_-]{43}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")


# --------------------------------------------------------------------------
# plain helpers

def sanitizer_findings(text):
    """The lines of `text` that report a sanitizer finding."""
    return [ln for ln in text.splitlines() if any(m in ln for m in SANITIZER_MARKERS)]


def assert_no_sanitizer_findings(text, what):
    found = sanitizer_findings(text)
    assert not found, "%s reported sanitizer findings:\n%s\n--- full stderr ---\n%s" % (
        what, "\n".join(found[:20]), text[-20000:])


def new_token():
    """A well-formed token: cc_ + 43 base64url characters (32 random bytes)."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    assert len(raw) == 43
    return "cc_" + raw


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra=None):
    """The caller's environment without any CC_* variable (so CC_BIN, CC_TOKEN
    or a developer's own settings never leak into a daemon or CLI run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
    return env


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # http.client.HTTPMessage: case-insensitive
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError("response body is not JSON (%s): %r" % (e, self.body[:500]))

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return "<Response %s %r>" % (self.status, self.body[:300])


def http_request(base_url, method, path, body=None, headers=None, token=None,
                 json_body=None, content_type=None, timeout=15.0):
    """One request on a fresh connection. `path` is sent as given (no quoting),
    so malformed paths reach the server untouched."""
    m = re.match(r"^http://([^:/]+):(\d+)", base_url)
    assert m, "bad base url %r" % base_url
    host, port = m.group(1), int(m.group(2))
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    if json_body is not None:
        body = json.dumps(json_body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    if content_type is not None:
        hdrs["Content-Type"] = content_type
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.headers, data)
    finally:
        conn.close()


def parse_raw_response(data):
    """(status, {lower-name: value}, body) from raw HTTP/1.1 response bytes."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"^HTTP/1\.[01] (\d{3})", lines[0]) if lines else None
    assert m, "not an HTTP response: %r" % data[:300]
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return int(m.group(1)), hdrs, body


def raw_request(host, port, payload, timeout=10.0, half_close=False):
    """Sends raw bytes, reads until the server closes (or timeout) and returns the
    raw response bytes. The request should carry `Connection: close`."""
    chunks = []
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(payload)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks)


def assert_security_headers(resp, api=True):
    for k, v in SECURITY_HEADERS.items():
        assert resp.header(k) == v, "header %s: want %r, got %r (%r)" % (k, v, resp.header(k), resp)
    assert resp.header("Content-Security-Policy"), "Content-Security-Policy missing (%r)" % resp
    rid = resp.header("X-Request-Id")
    assert rid and rid.strip(), "X-Request-Id missing (%r)" % resp
    if api:
        cc = resp.header("Cache-Control") or ""
        assert "no-store" in cc, "Cache-Control: no-store missing on an API answer (%r)" % resp


def assert_error(resp, status, code=None):
    """The documented error shape {"error":{"code","message"[,"hint"]}}."""
    assert resp.status == status, "want status %d, got %r" % (status, resp)
    ctype = resp.header("Content-Type") or ""
    assert ctype.startswith("application/json"), "error Content-Type %r (%r)" % (ctype, resp)
    j = resp.json
    assert isinstance(j, dict) and isinstance(j.get("error"), dict), "no error object: %r" % j
    err = j["error"]
    assert isinstance(err.get("code"), str) and re.match(r"^E[A-Z]+$", err["code"]), \
        "bad error code in %r" % j
    assert isinstance(err.get("message"), str) and err["message"], "empty message in %r" % j
    if "hint" in err:
        assert isinstance(err["hint"], str) and err["hint"], "hint present but empty in %r" % j
    assert set(err) <= {"code", "message", "hint"}, "unexpected fields in error: %r" % j
    if code is not None:
        assert err["code"] == code, "want code %s, got %r" % (code, j)
    assert_security_headers(resp, api=True)
    return err


# --------------------------------------------------------------------------
# the daemon

class Daemon:
    def __init__(self, env, args, data_dir, name):
        self.env = env
        self.args = list(args)
        self.data_dir = Path(data_dir)
        self.name = name
        self.proc = None
        self.url = None
        self.host = None
        self.port = None
        self.stderr_lines = []
        self.stdout_lines = []
        self.returncode = None
        self._cond = threading.Condition()
        self._threads = []
        self._admin_token = None

    # -- process ------------------------------------------------------------
    def start(self, wait=True):
        self.proc = subprocess.Popen(
            [CC_BIN, "serve"] + self.args, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(self.data_dir.parent))
        for stream, sink in ((self.proc.stderr, self.stderr_lines),
                             (self.proc.stdout, self.stdout_lines)):
            t = threading.Thread(target=self._reader, args=(stream, sink), daemon=True)
            t.start()
            self._threads.append(t)
        if wait:
            self.wait_listening()
        return self

    def _reader(self, stream, sink):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                sink.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_listening(self, timeout=START_TIMEOUT):
        entry = self.wait_log(lambda e: e.get("msg") == "listening", timeout=timeout,
                              what='"msg":"listening" log line')
        url = entry.get("url")
        m = re.match(r"^http://([^/:]+):(\d+)/?$", url or "")
        assert m, "listening line has no usable url: %r" % entry
        self.url = "http://%s:%s" % (m.group(1), m.group(2))
        self.host, self.port = m.group(1), int(m.group(2))
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends `sig`, waits for the exit and returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._join()
            raise AssertionError("%s did not exit within %.0fs of signal %s; stderr tail:\n%s"
                                 % (self.name, timeout, sig, self.stderr_text()[-4000:]))
        self._join()
        self.returncode = self.proc.returncode
        return self.returncode

    def wait_exit(self, timeout=START_TIMEOUT):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._join()
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._join()

    def _join(self):
        for t in self._threads:
            t.join(timeout=5)

    # -- logs ---------------------------------------------------------------
    def stderr_text(self):
        with self._cond:
            return "\n".join(self.stderr_lines)

    def logs(self):
        """Every stderr line that is a JSON object, parsed."""
        out = []
        with self._cond:
            lines = list(self.stderr_lines)
        for ln in lines:
            ln = ln.strip()
            if ln.startswith("{"):
                try:
                    j = json.loads(ln)
                except ValueError:
                    continue
                if isinstance(j, dict):
                    out.append(j)
        return out

    def wait_log(self, pred, timeout=5.0, what="log line"):
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            with self._cond:
                lines = list(self.stderr_lines[seen:])
            for ln in lines:
                seen += 1
                s = ln.strip()
                if not s.startswith("{"):
                    continue
                try:
                    j = json.loads(s)
                except ValueError:
                    continue
                if isinstance(j, dict) and pred(j):
                    return j
            if self.proc.poll() is not None:
                self._join()
                # reread what the reader threads flushed at exit
                with self._cond:
                    rest = list(self.stderr_lines[seen:])
                if not rest:
                    raise AssertionError("%s exited with status %s before the %s; stderr:\n%s"
                                         % (self.name, self.proc.returncode, what,
                                            self.stderr_text()[-4000:]))
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.1fs; stderr so far:\n%s"
                                     % (what, timeout, self.stderr_text()[-4000:]))
            with self._cond:
                if len(self.stderr_lines) == seen:
                    self._cond.wait(min(left, 0.2))

    def request_log(self, request_id, timeout=5.0):
        """The access-log lines of one request id (waits for the first one)."""
        self.wait_log(lambda e: e.get("msg") == "request" and e.get("request_id") == request_id,
                      timeout=timeout, what="access-log line for request %s" % request_id)
        time.sleep(0.2)   # a duplicate line would follow immediately
        return [e for e in self.logs()
                if e.get("msg") == "request" and e.get("request_id") == request_id]

    # -- HTTP ---------------------------------------------------------------
    @property
    def admin_token(self):
        if self._admin_token is None:
            path = self.data_dir / "admin.token"
            assert path.exists(), "%s does not exist" % path
            self._admin_token = path.read_text().strip()
        return self._admin_token

    def request(self, method, path, **kw):
        return http_request(self.url, method, path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def admin(self, method, path, **kw):
        return self.request(method, path, token=self.admin_token, **kw)

    def create_token(self, name, scope="read"):
        r = self.admin("POST", "/api/v1/tokens", json_body={"name": name, "scope": scope})
        assert r.status == 201, "creating token %s: %r" % (name, r)
        return r.json

    def assert_serving(self):
        r = self.get("/health")
        assert r.status == 200 and r.json == {"status": "ok"}, \
            "daemon stopped serving: /health -> %r" % r


def daemon_env(data_dir, env=None):
    base = {
        "CC_DATA_DIR": str(data_dir),
        "CC_HTTP_LISTEN": "127.0.0.1:0",
        "CC_LOG_FORMAT": "json",
        "CC_LOG_LEVEL": "info",
        "CC_LOG_REQUESTS": "info",      # request_log() reads the request lines
        "XDG_DATA_HOME": str(Path(data_dir).parent / "xdg"),
        # file sources may read the test's own temporary folder (the
        # default, no roots, refuses every file source)
        "CC_SOURCES_ALLOWED_ROOTS": str(Path(data_dir).parent),
    }
    base.update({k: v for k, v in (env or {}).items()})
    return clean_env(base)


@pytest.fixture
def daemon(tmp_path):
    """Factory: daemon(env={...}, config="yaml text", args=[...], data_dir=path,
    wait=True). Every daemon still running at teardown must answer /health,
    then gets SIGTERM and must exit 0; every daemon's stderr must be free of
    sanitizer reports."""
    started = []
    counter = [0]

    def start(env=None, config=None, args=(), data_dir=None, wait=True):
        counter[0] += 1
        n = counter[0]
        if data_dir is None:
            data_dir = tmp_path / ("data%d" % n)
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        args = list(args)
        if config is not None:
            cfg = tmp_path / ("commandcenter%d.yml" % n)
            cfg.write_text(config)
            args = ["--config", str(cfg)] + args
        d = Daemon(daemon_env(data_dir, env), args, data_dir, "daemon #%d" % n)
        started.append(d)
        d.start(wait=wait)
        return d

    yield start

    problems = []
    for d in started:
        if d.proc is None:
            continue
        if d.proc.poll() is None:
            # whatever the test threw at it, the daemon must still be serving
            if d.url:
                try:
                    r = d.get("/health", timeout=10)
                    if r.status != 200:
                        problems.append("%s: /health answered %r at teardown" % (d.name, r))
                except OSError as e:
                    problems.append("%s: /health failed at teardown: %s" % (d.name, e))
            try:
                rc = d.stop()
                if rc != 0:
                    problems.append("%s exited with status %s after SIGTERM (want 0); "
                                    "stderr tail:\n%s" % (d.name, rc, d.stderr_text()[-3000:]))
            except AssertionError as e:
                problems.append(str(e))
        else:
            d._join()
        found = sanitizer_findings(d.stderr_text())
        if found:
            problems.append("%s: sanitizer findings:\n%s\n--- stderr ---\n%s"
                            % (d.name, "\n".join(found[:20]), d.stderr_text()[-20000:]))
    assert not problems, "\n\n".join(problems)


@pytest.fixture
def served(daemon):
    """One daemon with default settings."""
    return daemon()


# --------------------------------------------------------------------------
# the CLI

class CliResult:
    def __init__(self, args, returncode, stdout, stderr):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as e:
            raise AssertionError("stdout of %s is not JSON (%s): %r" % (self.args, e, self.stdout[:1000]))

    def __repr__(self):
        return "<commandcenter %s: exit %s\nstdout: %s\nstderr: %s>" % (
            " ".join(self.args), self.returncode, self.stdout[-2000:], self.stderr[-2000:])


def run_cc(args, env=None, timeout=30.0, cwd=None):
    """Runs `commandcenter ARGS...` to completion with a clean environment plus
    `env`. The run must not report sanitizer findings."""
    args = [str(a) for a in args]
    try:
        p = subprocess.run([CC_BIN] + args, env=clean_env(env), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("commandcenter %s did not finish within %ss; stderr: %r"
                             % (" ".join(args), timeout, (e.stderr or b"")[-2000:]))
    res = CliResult(args, p.returncode, p.stdout.decode("utf-8", "replace"),
                    p.stderr.decode("utf-8", "replace"))
    assert_no_sanitizer_findings(res.stderr, "commandcenter %s" % " ".join(args))
    return res


@pytest.fixture(scope="session", autouse=True)
def _binary_present():
    assert os.path.isfile(CC_BIN) and os.access(CC_BIN, os.X_OK), \
        "commandcenter binary not found at %s (build it, or set CC_BIN)" % CC_BIN


# --------------------------------------------------------------------------
# knowledge, sources and jobs (issue 4): helpers shared by test_knowledge.py,
# test_sources.py, test_jobs.py and test_ingest_cli.py

FINISHED_JOB_STATES = ("succeeded", "dead")
JOB_FIELDS = {"id", "kind", "source_id", "state", "attempts", "max_attempts", "stage",
              "last_error", "created_at", "updated_at", "next_run", "finished_at"}


def cli_env(d, token=None):
    """Environment for a CLI run against daemon d (admin token by default)."""
    return {"CC_SERVER": d.url, "CC_TOKEN": token if token is not None else d.admin_token}


def post_document(d, expect=202, **fields):
    """POST /api/v1/knowledge/documents with `fields` as the JSON body; asserts
    the status (default 202) and returns the Response."""
    r = d.admin("POST", "/api/v1/knowledge/documents", json_body=fields, timeout=60)
    if expect is not None:
        assert r.status == expect, "posting document %r: want %s, got %r" % (
            {k: (v if k not in ("content", "content_base64") else "...") for k, v in fields.items()},
            expect, r)
    return r


def get_job(d, job_id):
    r = d.admin("GET", "/api/v1/jobs/%s" % job_id)
    assert r.status == 200, "GET job %s: %r" % (job_id, r)
    return r.json


def wait_job(d, job_id, timeout=30.0, states=FINISHED_JOB_STATES):
    """Polls GET /api/v1/jobs/{id} until its state is one of `states`; the JOB."""
    deadline = time.monotonic() + timeout
    job = None
    while True:
        job = get_job(d, job_id)
        if job.get("state") in states:
            return job
        if time.monotonic() > deadline:
            raise AssertionError("job %s not in %s within %.0fs: %r" % (job_id, states, timeout, job))
        time.sleep(0.05)


def ingest_text(d, content, timeout=30.0, **fields):
    """Posts one document and waits for its job, which must succeed; the JOB."""
    r = post_document(d, content=content, **fields)
    job = wait_job(d, r.json["job_id"], timeout=timeout)
    assert job["state"] == "succeeded", "ingestion job did not succeed: %r" % job
    return job


def job_counts(d):
    r = d.admin("GET", "/api/v1/jobs?limit=1")
    assert r.status == 200, r
    return r.json["counts"]


def wait_queue_idle(d, timeout=60.0, allow_failed=False):
    """Waits until no job is queued or running (nor failed-and-waiting unless
    allow_failed); returns the counts."""
    deadline = time.monotonic() + timeout
    while True:
        c = job_counts(d)
        busy = c["queued"] + c["running"] + (0 if allow_failed else c["failed"])
        if busy == 0:
            return c
        if time.monotonic() > deadline:
            raise AssertionError("job queue not idle within %.0fs: %r" % (timeout, c))
        time.sleep(0.1)


def search(d, q, expect=200, token=None, **params):
    """GET /api/v1/knowledge/search; returns the parsed answer (expect=200) or
    the Response (any other expected status)."""
    from urllib.parse import urlencode
    qs = dict(params)
    if q is not None:
        qs["q"] = q
    r = d.request("GET", "/api/v1/knowledge/search?" + urlencode(qs),
                  token=token if token is not None else d.admin_token)
    assert r.status == expect, "search %r %r: want %s, got %r" % (q, params, expect, r)
    return r.json if expect == 200 else r


def create_source(d, expect=201, **fields):
    r = d.admin("POST", "/api/v1/sources", json_body=fields)
    assert r.status == expect, "creating source %r: want %s, got %r" % (fields, expect, r)
    return r.json if expect == 201 else r


def get_source(d, ref):
    r = d.admin("GET", "/api/v1/sources/%s" % ref)
    assert r.status == 200, "GET source %s: %r" % (ref, r)
    return r.json


def run_source(d, ref, timeout=60.0):
    """POST /sources/{ref}/run, waits for the source.run job and then for the
    queue to drain; returns the source.run JOB."""
    r = d.admin("POST", "/api/v1/sources/%s/run" % ref)
    assert r.status == 202, "running source %s: %r" % (ref, r)
    job = wait_job(d, r.json["job_id"], timeout=timeout)
    assert job["state"] == "succeeded", "source.run job did not succeed: %r" % job
    wait_queue_idle(d, timeout=timeout, allow_failed=True)
    return job


def get_document(d, doc_id, expect=200):
    r = d.admin("GET", "/api/v1/knowledge/documents/%s" % doc_id)
    assert r.status == expect, "GET document %s: want %s, got %r" % (doc_id, expect, r)
    return r.json if expect == 200 else r


def db_path(d):
    return d.data_dir / "commandcenter.db"


def db_query(d, sql, args=()):
    """A read-only query on the daemon's SQLite database (it may be running)."""
    import sqlite3
    conn = sqlite3.connect("file:%s?mode=ro" % db_path(d), uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def make_pdf(lines):
    """A minimal one-page PDF (Helvetica, one text object per line) with a
    correct xref table, as bytes."""
    def esc(s):
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    ops = ["BT", "/F1 14 Tf", "72 720 Td", "18 TL"]
    for ln in lines:
        ops.append("(%s) Tj T*" % esc(ln))
    ops.append("ET")
    stream = ("\n".join(ops) + "\n").encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objs) + 1)
    out += b"0000000000 65535 f \n"
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def make_docx(paragraphs):
    """A minimal DOCX as bytes. paragraphs: [(style or None, text)], e.g.
    [("Heading1", "Title"), (None, "Body text")]."""
    import io
    import zipfile
    from xml.sax.saxutils import escape
    W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = []
    for style, text in paragraphs:
        ppr = '<w:pPr><w:pStyle w:val="%s"/></w:pPr>' % style if style else ""
        body.append('<w:p>%s<w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>'
                    % (ppr, escape(text)))
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<w:document xmlns:w="%s"><w:body>%s<w:sectPr/></w:body></w:document>'
                % (W, "".join(body)))
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", document)
    return buf.getvalue()


def pdftotext_of(data, tmpdir):
    """What poppler's pdftotext extracts from PDF bytes (the fixture check)."""
    p = Path(tmpdir) / ("fixture-%s.pdf" % secrets.token_hex(4))
    p.write_bytes(data)
    out = subprocess.run(["pdftotext", "-q", str(p), "-"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=30)
    return out.stdout.decode("utf-8", "replace")


PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
