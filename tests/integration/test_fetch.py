"""Outbound HTTP(S) through the daemon's fetcher, driven by `commandcenter fetch`
(the same code sources and the embedding client use) against loopback servers.

Every server here listens on 127.0.0.1; addresses the SSRF guard must refuse
(10.0.0.1, 169.254.169.254) are refused before connect(), so no packet leaves
the machine: the refusal message comes from the guard, never from a network
error, and arrives at once.
"""

import json
import time

import pytest

from conftest import run_cc
from fetch_helpers import Reply, Server, make_ca

ALLOW = {"CC_FETCH_ALLOW_NETWORKS": "127.0.0.1/32"}


def fetch(*args, env=None, timeout=60.0):
    """Runs `commandcenter fetch ARGS`; returns (exit code, [JSON line per URL], stderr)."""
    res = run_cc(["fetch"] + list(args), env=env, timeout=timeout)
    lines = [json.loads(ln) for ln in res.stdout.splitlines() if ln.strip()]
    return res.returncode, lines, res.stderr


@pytest.fixture
def servers():
    made = []

    def start(handler, **kw):
        s = Server(handler, **kw)
        made.append(s)
        return s

    yield start
    for s in made:
        s.close()


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("ca"))


def page(req, srv):
    return Reply(200, "<p>hello</p>", [("Content-Type", "text/html; charset=ISO-8859-1"),
                                       ("ETag", '"v1"'),
                                       ("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT")])


def test_a_plain_get_reports_the_answer(servers):
    s = servers(page)
    rc, out, err = fetch(s.url("/doc"), env=ALLOW)
    assert rc == 0, err
    a = out[0]
    assert a["status"] == 200 and a["not_modified"] is False
    assert a["content_type"] == "text/html" and a["charset"] == "iso-8859-1"
    assert a["etag"] == '"v1"' and a["last_modified"] == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert a["bytes"] == len("<p>hello</p>") and a["final_url"] == s.url("/doc")
    assert a["retry_after_ms"] is None
    ua = s.requests[0].headers["User-Agent"]
    assert ua.startswith("CommandCenter/") and "FETCH.md" in ua, ua
    assert "gzip" in s.requests[0].headers.get("Accept-Encoding", "")


def test_loopback_is_refused_unless_allowed(servers):
    s = servers(page)
    started = time.monotonic()
    for url in (s.url("/"), s.url("/", host="localhost"), s.url("/", host="[::ffff:127.0.0.1]"),
                s.url("/", host="[::1]")):
        rc, out, err = fetch(url)
        assert rc == 1, out
        assert out[0]["error"] == "EPERM", out
        msg = out[0]["message"]
        assert "refused to connect" in msg and "loopback" in msg, msg
        assert "fetch.allow_networks" in msg and "hint:" in err
    assert s.requests == []
    assert time.monotonic() - started < 30


def test_private_and_metadata_addresses_are_refused_before_connect(servers):
    # a name resolving to 10.0.0.1 (libcurl's own --resolve, no DNS, no /etc/hosts)
    rc, out, _ = fetch("--resolve", "intranet.test:80:10.0.0.1", "http://intranet.test/")
    assert rc == 1 and out[0]["error"] == "EPERM", out
    assert "10.0.0.1" in out[0]["message"] and "private" in out[0]["message"]
    # literals, including the metadata address behind an IPv6 form
    for url, says in (("http://169.254.169.254/latest/meta-data/", "metadata"),
                      ("http://[::ffff:169.254.169.254]/", "metadata"),
                      ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
                      ("http://192.168.1.1/", "private"),
                      ("http://100.64.0.1/", "CGNAT")):
        rc, out, _ = fetch(url)
        assert rc == 1 and out[0]["error"] == "EPERM", (url, out)
        assert says in out[0]["message"], (url, out)


def test_a_redirect_to_the_metadata_address_is_refused(servers):
    def handler(req, srv):
        if req.path == "/meta":
            return Reply(302, "", [("Location", "http://169.254.169.254/latest/meta-data/")])
        if req.path == "/named":  # a name that resolves to the metadata address
            return Reply(301, "", [("Location", "http://metadata.test/computeMetadata/v1/")])
        return Reply(404)
    s = servers(handler)
    rc, out, _ = fetch(s.url("/meta"), env=ALLOW)
    assert rc == 1 and out[0]["error"] == "EPERM", out
    assert "169.254.169.254" in out[0]["message"], out
    rc, out, _ = fetch("--resolve", "metadata.test:80:169.254.169.254", s.url("/named"),
                       env=ALLOW)
    assert rc == 1 and out[0]["error"] == "EPERM", out
    assert "169.254.169.254" in out[0]["message"] and "metadata" in out[0]["message"], out
    assert [r.path for r in s.requests] == ["/meta", "/named"]


def test_redirects_are_followed_up_to_the_limit(servers):
    def handler(req, srv):
        if req.path.startswith("/hop/"):
            n = int(req.path.split("/")[2])
            return Reply(302, "", [("Location", "/hop/%d" % (n + 1) if n < 3 else "/end")])
        if req.path == "/loop":
            return Reply(301, "", [("Location", "/loop")])
        if req.path == "/ftp":
            return Reply(302, "", [("Location", "ftp://127.0.0.1/x")])
        return Reply(200, "end")
    s = servers(handler)
    rc, out, _ = fetch(s.url("/hop/0"), env=ALLOW)
    assert rc == 0 and out[0]["status"] == 200 and out[0]["final_url"] == s.url("/end"), out
    rc, out, _ = fetch(s.url("/loop"), env=dict(ALLOW, CC_FETCH_MAX_REDIRECTS="3"))
    assert rc == 1 and "more than 3 redirects" in out[0]["message"], out
    assert len([r for r in s.requests if r.path == "/loop"]) == 4
    rc, out, _ = fetch(s.url("/ftp"), env=ALLOW)
    assert rc == 1 and "not an http(s) URL" in out[0]["message"], out


def test_conditional_get_returns_304(servers):
    def handler(req, srv):
        if req.headers.get("If-None-Match") == '"v1"' or \
           req.headers.get("If-Modified-Since") == "Sun, 06 Nov 1994 08:49:37 GMT":
            return Reply(304, "", [("ETag", '"v1"')])
        return page(req, srv)
    s = servers(handler)
    rc, out, _ = fetch("--etag", '"v1"', s.url("/"), env=ALLOW)
    assert rc == 0 and out[0]["status"] == 304 and out[0]["not_modified"] is True, out
    assert out[0]["bytes"] == 0
    rc, out, _ = fetch("--last-modified", "Sun, 06 Nov 1994 08:49:37 GMT", s.url("/"), env=ALLOW)
    assert rc == 0 and out[0]["not_modified"] is True, out
    rc, out, _ = fetch("--etag", '"old"', s.url("/"), env=ALLOW)
    assert rc == 0 and out[0]["status"] == 200 and out[0]["etag"] == '"v1"', out
    # a validator cannot smuggle a header in
    rc, out, _ = fetch("--etag", '"v1"\r\nX-Evil: 1', s.url("/"), env=ALLOW)
    assert rc == 1 and out[0]["error"] == "EINVAL", out


def test_retry_after_makes_the_next_request_to_the_host_wait(servers):
    def handler(req, srv):
        if len(srv.requests) == 1:
            return Reply(429, "slow down", [("Retry-After", "2")])
        return Reply(200, "ok")
    s = servers(handler)
    rc, out, _ = fetch(s.url("/a"), s.url("/b"), env=ALLOW)
    assert rc == 0, out
    assert out[0]["status"] == 429 and out[0]["retry_after_ms"] == 2000, out
    assert out[1]["status"] == 200, out
    gap = s.requests[1].at - s.requests[0].at
    assert gap >= 1.9, gap


def test_retry_after_beyond_the_cap_fails_saying_when(servers):
    def handler(req, srv):
        return Reply(503, "maintenance", [("Retry-After", "3600")])
    s = servers(handler)
    started = time.monotonic()
    rc, out, _ = fetch(s.url("/a"), s.url("/b"), env=dict(ALLOW, CC_FETCH_RETRY_AFTER_MAX="1m"))
    assert time.monotonic() - started < 30
    assert out[0]["status"] == 503 and out[0]["retry_after_ms"] == 3600000, out
    assert rc == 1 and out[1]["error"] == "EUPSTREAM", out
    msg = out[1]["message"]
    assert "Retry-After" in msg and "retry after" in msg and "fetch.retry_after_max" in msg, msg
    assert len(s.requests) == 1  # the second request never left


def test_size_cap_by_content_length_and_while_reading(servers):
    big = b"x" * 200000

    def handler(req, srv):
        if req.path == "/length":
            return Reply(200, big)
        if req.path == "/chunked":
            return Reply(200, big, chunked=True)
        if req.path == "/lies":  # announces little, sends more: read no further than told
            return Reply(200, b"y" * 100)
        return Reply(200, b"small")
    s = servers(handler)
    for path in ("/length", "/chunked"):
        rc, out, _ = fetch("--max-bytes", "1000", s.url(path), env=ALLOW)
        assert rc == 1 and out[0]["error"] == "ELIMIT", (path, out)
        assert "larger than 1000 bytes" in out[0]["message"], out
    rc, out, _ = fetch("--max-bytes", "1000", s.url("/small"), env=ALLOW)
    assert rc == 0 and out[0]["bytes"] == 5
    # the configured cap applies when the request sets none
    rc, out, _ = fetch(s.url("/chunked"), env=dict(ALLOW, CC_FETCH_MAX_BYTES="64KiB"))
    assert rc == 1 and out[0]["error"] == "ELIMIT", out


def test_a_server_that_never_answers_times_out(servers):
    s = servers(lambda req, srv: None)
    started = time.monotonic()
    rc, out, _ = fetch(s.url("/"), env=dict(ALLOW, CC_FETCH_TIMEOUT="1s"))
    assert rc == 1 and out[0]["error"] == "EUPSTREAM", out
    assert "timed out" in out[0]["message"], out
    assert time.monotonic() - started < 20


def test_auth_reaches_the_server_and_stays_on_its_origin(servers, tmp_path):
    (tmp_path / "pw").write_text("s3cret\n")
    (tmp_path / "tok").write_text("tok-123\n")
    (tmp_path / "key").write_text("k-9")
    other = servers(lambda req, srv: Reply(200, "other"))

    def handler(req, srv):
        if req.path == "/away":
            return Reply(302, "", [("Location", other.url("/landed"))])
        return Reply(200, "ok")
    s = servers(handler)
    cases = [
        ({"type": "basic", "username": "ann", "password_file": str(tmp_path / "pw")},
         "Authorization", "Basic YW5uOnMzY3JldA=="),
        ({"type": "bearer", "token_file": str(tmp_path / "tok")},
         "Authorization", "Bearer tok-123"),
        ({"type": "header", "name": "X-Api-Key", "value_file": str(tmp_path / "key")},
         "X-Api-Key", "k-9"),
        ({"type": "bearer", "token": "inline"}, "Authorization", "Bearer inline"),
    ]
    for auth, header, value in cases:
        rc, out, err = fetch("--auth", json.dumps(auth), s.url("/"), env=ALLOW)
        assert rc == 0, err
        assert s.requests[-1].headers.get(header) == value, (auth, dict(s.requests[-1].headers))
    # a redirect to another origin drops the credentials
    rc, out, _ = fetch("--auth", json.dumps(cases[1][0]), s.url("/away"), env=ALLOW)
    assert rc == 0 and out[0]["final_url"] == other.url("/landed"), out
    assert other.requests[-1].headers.get("Authorization") is None
    # an unreadable secret file is a clear error; nothing is sent
    before = len(s.requests)
    rc, out, _ = fetch("--auth", json.dumps({"type": "bearer",
                                             "token_file": str(tmp_path / "missing")}),
                       s.url("/"), env=ALLOW)
    assert rc == 1 and out[0]["error"] == "EIO" and "missing" in out[0]["message"], out
    rc, out, _ = fetch("--auth", '{"type":"bearer","token":"a","token_file":"/b"}', s.url("/"),
                       env=ALLOW)
    assert rc == 1 and out[0]["error"] == "EINVAL" and "not both" in out[0]["message"], out
    assert len(s.requests) == before


def test_https_verifies_against_the_configured_ca(servers, ca, tmp_path):
    good = servers(page, certfile=str(ca / "good.pem"), keyfile=str(ca / "good.key"))
    wrong = servers(page, certfile=str(ca / "wrong.pem"), keyfile=str(ca / "wrong.key"))
    with_ca = dict(ALLOW, CC_FETCH_CA_FILE=str(ca / "ca.pem"))
    rc, out, err = fetch(good.url("/"), env=with_ca)
    assert rc == 0 and out[0]["status"] == 200, (out, err)
    # unknown CA: the system bundle does not know the test CA
    rc, out, _ = fetch(good.url("/"), env=ALLOW)
    assert rc == 1 and out[0]["error"] == "EUPSTREAM", out
    assert "TLS" in out[0]["message"], out
    # the CA is known but the certificate names another host
    rc, out, _ = fetch(wrong.url("/"), env=with_ca)
    assert rc == 1 and "TLS" in out[0]["message"], out
    assert "other.example" in out[0]["message"] or "name" in out[0]["message"], out
    # the configuration file works like the environment
    cfg = tmp_path / "cc.yml"
    cfg.write_text("fetch:\n  ca_file: %s\n  allow_networks: 127.0.0.1/32\n" % (ca / "ca.pem"))
    rc, out, _ = fetch("--config", str(cfg), good.url("/"))
    assert rc == 0 and out[0]["status"] == 200, out


def test_a_proxy_from_the_environment_is_used_and_not_refused(servers):
    def proxy(req, srv):  # answers as the origin would, through the proxy
        return Reply(200, "via proxy for " + req.path)
    p = servers(proxy)
    rc, out, err = fetch("--body", "http://origin.example/page",
                         env={"http_proxy": p.url("")})
    assert rc == 0, (out, err)
    assert out[0]["body"] == "via proxy for http://origin.example/page", out
    # fetch.proxy overrides the environment
    rc, out, err = fetch("http://origin.example/x",
                         env={"CC_FETCH_PROXY": p.url(""), "http_proxy": "http://127.0.0.1:9"})
    assert rc == 0, (out, err)
    # a literal private target is still refused, proxy or not
    rc, out, _ = fetch("http://10.1.2.3/", env={"http_proxy": p.url("")})
    assert rc == 1 and out[0]["error"] == "EPERM", out
    assert [r.path for r in p.requests] == ["http://origin.example/page",
                                            "http://origin.example/x"]
    # no_proxy sends a name straight to its address, which the guard judges: the
    # proxy's address opens the proxy's port only, not the rest of 127.0.0.1
    target = servers(page)
    rc, out, _ = fetch(target.url("/", host="localhost"),
                       env={"http_proxy": p.url(""), "no_proxy": "localhost"})
    assert rc == 1 and out[0]["error"] == "EPERM", out
    assert target.requests == []


def test_bad_urls_and_configuration_are_usage_errors():
    rc, out, _ = fetch("ftp://127.0.0.1/x")
    assert rc == 1 and out[0]["error"] == "EINVAL", out
    rc, out, _ = fetch("not a url")
    assert rc == 1 and out[0]["error"] == "EINVAL", out
    res = run_cc(["fetch", "http://127.0.0.1/"], env={"CC_FETCH_ALLOW_NETWORKS": "10.0.0.0/33"})
    assert res.returncode == 2 and "CC_FETCH_ALLOW_NETWORKS" in res.stderr, res.stderr
    res = run_cc(["fetch"])
    assert res.returncode == 2 and "missing the URL" in res.stderr


def test_an_idle_daemon_does_not_load_libcurl(daemon, tmp_path):
    """libcurl (with OpenSSL and friends, ~5.5 MB resident) is loaded on the first
    outbound request, not at start."""
    d = daemon()
    maps = open("/proc/%d/maps" % d.proc.pid).read()
    assert "libcurl" not in maps
