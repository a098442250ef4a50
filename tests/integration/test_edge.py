"""The HTTP edge under attack (issue 13): slow clients, password guessing, the
HTTP library's own errors and request smuggling, bad bytes, secrets in
children. Everything runs against the real binary on loopback; held sockets
come from several 127.0.0.x source addresses so that per-address limits can
be told apart from the global ones."""

import json
import re
import select
import socket
import time

import pytest

from orch_helpers import orch  # noqa: F401
from conftest import (assert_error, assert_security_headers, http_request,
                      parse_raw_response)

DEADLINE = 30.0     # generous: a busy 2-core machine, maybe an ASan build


def connect_from(d, src, timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((d.host, d.port))
    return s


def closed_by_server(s, timeout):
    """True once the server has closed (EOF or reset) within timeout seconds;
    bytes the server sends before closing are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([s], [], [], min(left, 1.0))
        if not r:
            continue
        try:
            if s.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True


def read_response(s, timeout=DEADLINE):
    """One HTTP/1.1 response with Content-Length read from a kept-alive
    socket: (status, headers, body)."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data:
        assert time.monotonic() < deadline, "no response head: %r" % data
        b = s.recv(65536)
        assert b, "connection closed before a response: %r" % data
        data += b
    head, _, rest = data.partition(b"\r\n\r\n")
    status, hdrs, _ = parse_raw_response(head + b"\r\n\r\n")
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        assert time.monotonic() < deadline, "short body"
        b = s.recv(65536)
        assert b, "connection closed inside a body"
        rest += b
    return status, hdrs, rest[:n]


def trickle_until_cut(s, piece, limit=DEADLINE):
    """Sends `piece` every half second until the server closes the socket;
    returns the seconds it took, or None if it never did within `limit`."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        try:
            s.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start
        if closed_by_server(s, 0.5):
            return time.monotonic() - start
    return None


def timed_health(d):
    t = time.monotonic()
    r = http_request(d.url, "GET", "/health", timeout=DEADLINE)
    return r, time.monotonic() - t


# --------------------------------------------------------------------------
# 1. slow clients

def raise_nofile(need):
    """This process holds many sockets: lift its soft descriptor limit (1024 on a
    fresh machine) towards the hard one."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard == resource.RLIM_INFINITY
                                                    else min(hard, max(need, soft)), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft == resource.RLIM_INFINITY or soft >= need, \
        "need %d descriptors, the hard limit allows %d" % (need, soft)


def test_health_answers_while_1100_idle_connections_are_held(daemon):
    raise_nofile(1400)
    d = daemon()
    held = []
    try:
        # 5 addresses x 220: under the per-address limit (256), over the old
        # global limit of 1024 that made /health time out.
        for i in range(1100):
            held.append(connect_from(d, "127.0.0.%d" % (2 + i // 220)))
        for _ in range(5):
            r, secs = timed_health(d)
            assert r.status == 200 and r.json == {"status": "ok"}, r
            assert secs < 5.0, "/health took %.2fs with 1100 idle connections" % secs
        r = http_request(d.url, "GET", "/ready", timeout=DEADLINE)
        assert r.status == 200, r
    finally:
        for s in held:
            s.close()


def test_connections_over_the_per_address_limit_are_closed(daemon):
    d = daemon(env={"CC_HTTP_MAX_CONNECTIONS_PER_CLIENT": "8"})
    held = [connect_from(d, "127.0.0.2") for _ in range(8)]
    try:
        extra = connect_from(d, "127.0.0.2")
        assert closed_by_server(extra, DEADLINE), "the 9th connection of one address was kept"
        extra.close()
        # the eight are still served, and another address is not affected
        held[0].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = read_response(held[0])
        assert status == 200 and json.loads(body) == {"status": "ok"}
        r, _ = timed_health(d)
        assert r.status == 200
    finally:
        for s in held:
            s.close()


def test_header_trickle_is_cut_at_request_timeout(daemon):
    # read_timeout (idle) is far above the trickle's interval, so only the
    # cap on the whole request can end it.
    d = daemon(env={"CC_HTTP_REQUEST_TIMEOUT": "3s", "CC_HTTP_READ_TIMEOUT": "30s"})
    s = connect_from(d, "127.0.0.2")
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        took = trickle_until_cut(s, b"X-Slow: 1\r\n")
    finally:
        s.close()
    assert took is not None, "a client trickling header lines kept its connection"
    assert 2.5 <= took < 15.0, "header trickle cut after %.1fs; the cap is 3s" % took
    m = http_request(d.url, "GET", "/metrics").text
    assert re.search(r"^cc_http_request_timeouts_total [1-9]", m, re.M), m[-2000:]
    d.assert_serving()


def test_body_trickle_is_cut_at_request_timeout(daemon):
    d = daemon(env={"CC_HTTP_REQUEST_TIMEOUT": "3s", "CC_HTTP_READ_TIMEOUT": "30s"})
    tok = d.admin_token
    s = connect_from(d, "127.0.0.2")
    try:
        s.sendall(("POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: 8000\r\n\r\n{" % tok).encode())
        took = trickle_until_cut(s, b" ")
    finally:
        s.close()
    assert took is not None, "a client trickling its body kept its connection"
    assert 2.5 <= took < 15.0, "body trickle cut after %.1fs; the cap is 3s" % took
    d.assert_serving()


# --------------------------------------------------------------------------
# 4. errors, keep-alive and smuggling on the wire

@pytest.mark.parametrize("path,status,hdr", [
    ("/no-such-route", 404, ""),
    ("/api/v1/status", 401, ""),
    ("/api/v1/tokens", 403, "read"),
])
def test_early_refusals_keep_the_connection(daemon, path, status, hdr):
    d = daemon()
    extra = ""
    if hdr == "read":
        extra = "Authorization: Bearer %s\r\n" % d.create_token("edge-read")["token"]
    s = connect_from(d, "127.0.0.1")
    try:
        for _ in range(3):
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, extra)).encode())
            got, hdrs, body = read_response(s)
            assert got == status, (got, body)
            assert "close" not in hdrs.get("connection", "").lower(), hdrs
            assert json.loads(body)["error"]["code"].startswith("E")
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s)[0] == 200
    finally:
        s.close()


def test_refusal_with_an_unread_body_closes(daemon):
    d = daemon()
    s = connect_from(d, "127.0.0.1")
    try:
        s.sendall(b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 2\r\n\r\n{}")
        status, hdrs, _ = read_response(s)
        assert status == 401
        assert closed_by_server(s, DEADLINE)
    finally:
        s.close()


@pytest.mark.parametrize("framing", [
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
])
def test_smuggling_framing_is_400_and_closed(daemon, framing):
    d = daemon()
    s = connect_from(d, "127.0.0.1")
    try:
        s.sendall(b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + d.admin_token.encode() + b"\r\nContent-Type: application/json\r\n" + framing)
        status, hdrs, body = read_response(s)
        assert status == 400, body
        assert json.loads(body)["error"]["code"] == "EINVAL"
        assert "close" in hdrs.get("connection", "").lower(), hdrs
        assert hdrs.get("x-content-type-options") == "nosniff"
        assert closed_by_server(s, DEADLINE)
    finally:
        s.close()
    # nothing was created by the smuggled request
    r = d.admin("GET", "/api/v1/projects")
    assert r.status == 200 and not r.json.get("projects"), r


# --------------------------------------------------------------------------
# 2. password guessing

def send_get(s, path, token):
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
               % (path, token)).encode())
    return read_response(s)


def test_wrong_token_flood_is_throttled_per_address(daemon):
    from conftest import new_token
    d = daemon(env={"CC_AUTH_FAILURE_BURST": "20", "CC_AUTH_FAILURE_RATE": "1"})
    good = d.admin_token
    s = connect_from(d, "127.0.0.2")
    statuses = []
    try:
        for _ in range(300):
            status, hdrs, body = send_get(s, "/api/v1/status", new_token())
            statuses.append(status)
            if status == 429:
                retry = hdrs.get("retry-after")
                assert retry and int(retry) >= 1, hdrs
                assert json.loads(body)["error"]["code"] == "ELIMIT"
        assert statuses[:20] == [401] * 20, statuses[:25]
        assert set(statuses[20:]) == {429}, statuses[20:40]
        # while blocked, even the right token gets 429 (and says nothing)
        status, hdrs, _ = send_get(s, "/api/v1/status", good)
        assert status == 429 and int(hdrs["retry-after"]) >= 1
    finally:
        s.close()
    # another address is not blocked
    other = connect_from(d, "127.0.0.3")
    try:
        assert send_get(other, "/api/v1/status", good)[0] == 200
    finally:
        other.close()
    # public routes still answer the blocked address
    s = connect_from(d, "127.0.0.2")
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s)[0] == 200
        # the block ends once a failure has been earned back (1/s here)
        deadline = time.monotonic() + DEADLINE
        while True:
            status = send_get(s, "/api/v1/status", good)[0]
            if status == 200:
                break
            assert status == 429 and time.monotonic() < deadline, status
            time.sleep(0.25)
    finally:
        s.close()
    m = http_request(d.url, "GET", "/metrics").text
    rejected = re.search(r'^cc_http_auth_failures_total\{result="rejected"\} (\d+)', m, re.M)
    blocked = re.search(r'^cc_http_auth_failures_total\{result="blocked"\} (\d+)', m, re.M)
    assert rejected and int(rejected.group(1)) >= 20, m[-3000:]
    assert blocked and int(blocked.group(1)) >= 281, m[-3000:]
    # logged, but not once per failure
    lines = [e for e in d.logs() if e.get("msg") == "authentication failures"]
    assert 1 <= len(lines) <= 5, lines
    assert lines[0].get("client") == "127.0.0.2", lines[0]


def test_missing_token_is_not_counted_as_a_guess(daemon):
    d = daemon(env={"CC_AUTH_FAILURE_BURST": "3"})
    for _ in range(10):
        assert_error(d.get("/api/v1/status"), 401, "EAUTH")
    assert d.get("/api/v1/status", token=d.admin_token).status == 200


@pytest.mark.parametrize("token", [
    "short-token-123",
    "passwordpasswordpasswordpassword",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
])
def test_weak_configured_admin_token_refuses_to_start(tmp_path, token):
    from conftest import run_cc, daemon_env
    env = daemon_env(tmp_path / "data", {"CC_AUTH_ADMIN_TOKEN": token})
    (tmp_path / "data").mkdir()
    res = run_cc(["serve"], env=env, timeout=15)
    assert res.returncode == 2, res
    assert "auth.admin_token" in res.stderr and "allow_weak_tokens" in res.stderr, res.stderr
    assert token not in res.stderr


def test_weak_admin_token_allowed_explicitly(daemon):
    d = daemon(env={"CC_AUTH_ADMIN_TOKEN": "short-but-allowed",
                    "CC_AUTH_ALLOW_WEAK_TOKENS": "true"})
    assert d.get("/api/v1/status", token="short-but-allowed").status == 200


# --------------------------------------------------------------------------
# 6. secrets in child processes

def test_process_shim_and_service_do_not_inherit_daemon_secrets(orch):
    import os
    import subprocess
    from conftest import new_token
    from orch_helpers import BUSYBOX, wait_for
    assert os.access(BUSYBOX, os.X_OK), "scripts/deps.sh test installs busybox-static"
    tok = new_token()
    o = orch(env={"CC_AUTH_ADMIN_TOKEN": tok, "CC_EDGE_MARKER": "leak-me"})
    o.d._admin_token = tok
    f = o.write("envleak", """
name: envleak
x-commandcenter: {driver: process}
services:
  sleeper:
    command: ["%s", "sleep", "300"]
    environment:
      SERVICE_OWN: "kept"
""" % BUSYBOX)
    o.register(f)
    o.up("envleak")
    o.wait_status("envleak", "sleeper", ("running", "healthy"), timeout=30)

    def shims():
        out = subprocess.run(["pgrep", "-f", "--", " shim %s" % o.d.data_dir],
                             stdout=subprocess.PIPE, text=True).stdout
        return [int(x) for x in out.split()]
    wait_for(lambda: shims(), 30, "the shim process")
    shim = shims()[0]
    kids = subprocess.run(["pgrep", "-P", str(shim)], stdout=subprocess.PIPE,
                          text=True).stdout.split()
    assert kids, "the shim has no service child"
    for pid in [shim] + [int(k) for k in kids]:
        env = open("/proc/%d/environ" % pid, "rb").read().split(b"\0")
        names = [e.split(b"=", 1)[0] for e in env if e]
        assert tok.encode() not in b"\0".join(env), "pid %d has the admin token" % pid
        assert not [n for n in names if n.startswith(b"CC_") and n != b"CC_SECRETS_DIR"], \
            (pid, names)
    service_env = open("/proc/%s/environ" % kids[0], "rb").read()
    assert b"SERVICE_OWN=kept" in service_env


def test_pdftotext_gets_a_minimal_environment(daemon, tmp_path):
    import base64
    import os
    from conftest import PDF_MIME, make_pdf, post_document, search, wait_job
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "pdftotext"
    # stands in for poppler's tool: prints its own environment as the text
    fake.write_text("#!/bin/sh\ncat >/dev/null\necho envprobe\nenv\n")
    fake.chmod(0o755)
    d = daemon(env={"PATH": "%s:%s" % (bindir, os.environ.get("PATH", "/usr/bin:/bin")),
                    "CC_EDGE_MARKER": "zorblaxsecret", "OTHER_MARKER": "quuxsecret"})
    pdf = make_pdf(["anything"])
    r = post_document(d, content_base64=base64.b64encode(pdf).decode(), content_type=PDF_MIME,
                      title="env probe", external_id="env.pdf")
    job = wait_job(d, r.json["job_id"])
    assert job["state"] == "succeeded", job
    assert search(d, "envprobe")["results"], "the stand-in pdftotext did not run"
    assert search(d, "zorblaxsecret")["results"] == []
    assert search(d, "quuxsecret")["results"] == []


# --------------------------------------------------------------------------
# 5. memory per request: uploads are spooled to a file while they arrive

def spool_fds(d):
    import os
    out = []
    for fd in os.listdir("/proc/%d/fd" % d.proc.pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (d.proc.pid, fd))
        except OSError:
            continue
        if "/spool/upload-" in target:
            out.append(target)
    return out


def test_upload_is_spooled_to_an_unlinked_file_while_it_arrives(daemon):
    from conftest import wait_job
    d = daemon()
    text = ("# Spooled\n\n" + "spoolwombat grazes quietly. " * 40000 + "\n")
    body = json.dumps({"content": text, "content_type": "text/markdown",
                       "title": "spooled", "external_id": "spooled.md"}).encode()
    s = connect_from(d, "127.0.0.1")
    try:
        s.sendall(("POST /api/v1/knowledge/documents HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n" % (d.admin_token, len(body))).encode())
        half = len(body) // 2
        s.sendall(body[:half])
        deadline = time.monotonic() + DEADLINE
        while not spool_fds(d):
            assert time.monotonic() < deadline, "no spool file open while the upload arrives"
            time.sleep(0.05)
        assert all(t.endswith("(deleted)") for t in spool_fds(d)), spool_fds(d)
        s.sendall(body[half:])
        status, _, answer = read_response(s)
        assert status == 202, answer
        job = wait_job(d, json.loads(answer)["job_id"])
        assert job["state"] == "succeeded", job
    finally:
        s.close()
    deadline = time.monotonic() + DEADLINE
    while spool_fds(d):
        assert time.monotonic() < deadline, "the spool file stayed open: %r" % spool_fds(d)
        time.sleep(0.05)
    assert list((d.data_dir / "spool").iterdir()) == []
    r = d.admin("GET", "/api/v1/knowledge/search?q=spoolwombat")
    assert r.status == 200 and r.json["results"], r
