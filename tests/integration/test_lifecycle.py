"""Start, stop and restart: bootstrap token, graceful shutdown, persistence,
store integrity, and a clear failure when the port is taken."""

import os
import signal
import socket
import sqlite3
import stat
import time

from conftest import TOKEN_RE, http_request, parse_raw_response


def test_bootstrap_admin_token_file(daemon):
    d = daemon()
    path = d.data_dir / "admin.token"
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    text = path.read_text()
    assert text.endswith("\n") and text.count("\n") == 1, repr(text)
    assert TOKEN_RE.match(text.strip()), repr(text)
    entry = d.wait_log(lambda e: e.get("msg") == "bootstrap admin token written",
                       what="bootstrap log line")
    assert entry.get("path") and os.path.samefile(entry["path"], path), entry
    # the token itself is never logged
    assert text.strip() not in d.stderr_text()
    r = d.get("/api/v1/tokens", token=d.admin_token)
    assert r.status == 200, r
    assert [t["scope"] for t in r.json["tokens"]] == ["admin"], r.json


def test_sigterm_with_idle_keepalive_connections_exits_0_quickly(daemon):
    d = daemon(env={"CC_HTTP_SHUTDOWN_TIMEOUT": "3s"})
    conns = []
    for _ in range(32):
        s = socket.create_connection((d.host, d.port), timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        conns.append(s)
    for s in conns:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            assert chunk, "connection closed before a response"
            data += chunk
        assert parse_raw_response(data)[0] == 200
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, timeout=20)
    took = time.monotonic() - t0
    for s in conns:
        s.close()
    assert rc == 0, "exit status %s after SIGTERM; stderr:\n%s" % (rc, d.stderr_text()[-3000:])
    # idle keep-alive connections must not hold the shutdown past its timeout
    assert took < 3 + 4, "shutdown took %.1fs with shutdown_timeout 3s" % took


def test_sigterm_finishes_in_flight_request(daemon):
    d = daemon(env={"CC_HTTP_SHUTDOWN_TIMEOUT": "10s", "CC_HTTP_READ_TIMEOUT": "30s"})
    body = b'{"name":"in-flight","scope":"read"}'
    s = socket.create_connection((d.host, d.port), timeout=15)
    s.sendall(b"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Authorization: Bearer " + d.admin_token.encode() + b"\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
    time.sleep(0.5)                      # the request is now in flight
    d.proc.send_signal(signal.SIGTERM)
    time.sleep(1.0)
    assert d.alive(), "daemon exited with a request in flight (status %s)" % d.proc.poll()

    # it no longer accepts new connections
    try:
        r = http_request(d.url, "GET", "/health", timeout=3)
        refused = False
        got = r.status
    except OSError:
        refused = True
        got = None
    assert refused, "daemon accepted a new request (%s) after SIGTERM" % got

    # the in-flight request completes
    s.sendall(body[10:])
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    status, _, _ = parse_raw_response(data)
    assert status == 201, data[:500]
    rc = d.stop(timeout=20)
    assert rc == 0, "exit status %s; stderr:\n%s" % (rc, d.stderr_text()[-3000:])


def test_slow_request_is_cut_at_shutdown_timeout(daemon):
    d = daemon(env={"CC_HTTP_SHUTDOWN_TIMEOUT": "2s", "CC_HTTP_READ_TIMEOUT": "60s"})
    s = socket.create_connection((d.host, d.port), timeout=30)
    s.sendall(b"POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + d.admin_token.encode() + b"\r\n"
              b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"na")
    time.sleep(0.3)
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, timeout=20)
    took = time.monotonic() - t0
    s.close()
    assert rc == 0, "exit status %s; stderr:\n%s" % (rc, d.stderr_text()[-3000:])
    assert took < 2 + 4, "shutdown took %.1fs with shutdown_timeout 2s" % took


def test_sigint_also_exits_0(daemon):
    d = daemon()
    d.assert_serving()
    assert d.stop(signal.SIGINT) == 0


def test_restart_keeps_tokens_and_admin_token_file(daemon, tmp_path):
    data = tmp_path / "persist"
    d1 = daemon(data_dir=data)
    admin = d1.admin_token
    token_file = data / "admin.token"
    before = os.stat(token_file)
    content = token_file.read_text()
    reader = d1.create_token("survivor")
    assert d1.stop() == 0

    d2 = daemon(data_dir=data)
    assert token_file.read_text() == content
    after = os.stat(token_file)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), \
        "admin.token was rewritten on restart"
    assert not any(e.get("msg") == "bootstrap admin token written" for e in d2.logs())
    assert d2.get("/api/v1/status", token=reader["token"]).status == 200
    assert d2.get("/api/v1/tokens", token=admin).status == 200
    names = [t["name"] for t in d2.get("/api/v1/tokens", token=admin).json["tokens"]]
    assert "survivor" in names
    assert d2.stop() == 0


def test_deleted_admin_token_file_is_not_recreated_when_store_has_tokens(daemon, tmp_path):
    data = tmp_path / "persist2"
    d1 = daemon(data_dir=data)
    admin = d1.admin_token
    assert d1.stop() == 0
    (data / "admin.token").unlink()
    d2 = daemon(data_dir=data)
    assert not (data / "admin.token").exists(), "a new admin token was written for a non-empty store"
    assert d2.get("/api/v1/tokens", token=admin).status == 200


def test_store_integrity_after_sigterm(daemon):
    d = daemon()
    for i in range(20):
        d.create_token("t%d" % i)
    for t in d.get("/api/v1/tokens", token=d.admin_token).json["tokens"][:5]:
        if t["scope"] == "read":
            assert d.request("DELETE", "/api/v1/tokens/%s" % t["id"],
                             token=d.admin_token).status == 204
    assert d.stop() == 0
    db = d.data_dir / "commandcenter.db"
    assert db.exists()
    c = sqlite3.connect(str(db))
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        c.close()


def test_second_daemon_on_same_port_fails_clearly(daemon, tmp_path):
    d1 = daemon()
    d2 = daemon(env={"CC_HTTP_LISTEN": "127.0.0.1:%d" % d1.port}, wait=False)
    rc = d2.wait_exit(timeout=15)
    assert rc is not None, "second daemon on a taken port kept running"
    assert rc != 0
    err = d2.stderr_text()
    assert "in use" in err.lower(), "no 'address in use' message: %r" % err[-2000:]
    assert str(d1.port) in err, "message does not name the port: %r" % err[-2000:]
    d1.assert_serving()
