"""GET /metrics: valid Prometheus text (checked by the real promtool), RED metrics
per route template, process metrics, OpenMetrics on request, optional auth."""

import os
import re
import shutil
import subprocess
import time

from conftest import assert_error

PROMTOOL = "/usr/bin/promtool"


def promtool():
    path = PROMTOOL if os.access(PROMTOOL, os.X_OK) else shutil.which("promtool")
    assert path, ("promtool is missing: install Debian's `prometheus` package "
                  "(apt-get install prometheus) to run the metrics tests")
    return path


def some_traffic(d):
    tok = d.admin_token
    assert d.get("/health").status == 200
    assert d.get("/ready").status == 200
    assert d.get("/no/such/path").status == 404
    assert d.get("/api/v1/status").status == 401
    assert d.get("/api/v1/status", token=tok).status == 200
    assert d.request("DELETE", "/api/v1/tokens/31337", token=tok).status == 404
    r = d.request("POST", "/api/v1/tokens", token=tok, json_body={"name": "m", "scope": "read"})
    assert r.status == 201
    assert d.request("DELETE", "/api/v1/tokens/%s" % r.json["id"], token=tok).status == 204


def metrics_when(d, pred, timeout=3.0, headers=None):
    """GET /metrics until pred(text) holds (or the timeout passes); the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        r = d.get("/metrics", headers=headers)
        if (r.status == 200 and pred(r.text)) or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def samples(text, name):
    """[(labels dict, value)] for every sample of metric `name` (exact name)."""
    out = []
    for ln in text.splitlines():
        if ln.startswith("#") or not ln.strip():
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", ln)
        if not m or m.group(1) != name:
            continue
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out.append((labels, float(m.group(4))))
    return out


def test_metrics_pass_promtool_and_carry_red_metrics(served):
    some_traffic(served)
    # requests are counted when they complete, just after the answer went out
    wanted = ("/health", "/api/v1/tokens/{id}", "/api/v1/tokens", "/api/v1/status", "unmatched")
    r = metrics_when(served, lambda t: 'code="204"' in t and
                     all('route="%s"' % w in t for w in wanted))
    assert r.status == 200, r
    ctype = r.header("Content-Type") or ""
    assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
    text = r.text

    p = subprocess.run([promtool(), "check", "metrics"], input=r.body,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, "promtool check metrics failed (%d):\n%s%s" % (
        p.returncode, p.stdout.decode(), p.stderr.decode())

    reqs = samples(text, "cc_http_requests_total")
    assert reqs, "cc_http_requests_total missing:\n" + text[:3000]
    assert "# TYPE cc_http_requests_total counter" in text
    routes = {lab.get("route") for lab, _ in reqs}
    for want in wanted:
        assert want in routes, "route=%r missing from cc_http_requests_total (have %s)" % (want, routes)
    # raw paths never become labels
    assert not any(r_ and re.search(r"/\d+$", r_) for r_ in routes), routes
    assert "/no/such/path" not in text

    def count(route, status):
        return sum(v for lab, v in reqs
                   if lab.get("route") == route and str(lab.get("status", lab.get("code"))) == status)
    assert count("unmatched", "404") >= 1, [x for x in reqs if x[0].get("route") == "unmatched"]
    assert count("/api/v1/tokens/{id}", "404") >= 1
    assert count("/api/v1/tokens/{id}", "204") >= 1
    assert count("/api/v1/status", "401") >= 1

    assert "# TYPE cc_http_request_duration_seconds histogram" in text
    buckets = samples(text, "cc_http_request_duration_seconds_bucket")
    assert any(lab.get("le") == "+Inf" for lab, _ in buckets), "no +Inf bucket"
    assert {lab.get("route") for lab, _ in buckets} >= {"/health", "unmatched"}
    assert samples(text, "cc_http_request_duration_seconds_sum")
    health_count = [v for lab, v in samples(text, "cc_http_request_duration_seconds_count")
                    if lab.get("route") == "/health"]
    assert health_count and sum(health_count) >= 1

    rss = samples(text, "process_resident_memory_bytes")
    assert rss and rss[0][1] > 1024 * 1024, rss
    assert samples(text, "process_start_time_seconds"), "process_start_time_seconds missing"


def test_metrics_count_every_request(served):
    def health_total(text):
        return sum(v for lab, v in samples(text, "cc_http_requests_total")
                   if lab.get("route") == "/health")
    before = health_total(served.get("/metrics").text)
    for _ in range(5):
        assert served.get("/health").status == 200
    # the counter may be bumped just after the response went out: poll briefly
    deadline = time.monotonic() + 3
    while True:
        after = health_total(served.get("/metrics").text)
        if after - before >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert after - before == 5, (before, after)


def test_openmetrics_when_asked(served):
    some_traffic(served)
    r = metrics_when(served, lambda t: 'route="unmatched"' in t, headers={
        "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"})
    assert r.status == 200, r
    ctype = r.header("Content-Type") or ""
    assert ctype.startswith("application/openmetrics-text"), ctype
    assert r.text.endswith("# EOF\n") or r.text.endswith("# EOF"), r.text[-200:]
    assert r.text.count("# EOF") == 1
    # counters are declared without _total in OpenMetrics, samples keep it
    assert "# TYPE cc_http_requests counter" in r.text, r.text[:2000]
    assert re.search(r"^cc_http_requests_total\{", r.text, re.M)

    # plain Prometheus text does not carry the OpenMetrics terminator
    plain = served.get("/metrics").text
    assert "# EOF" not in plain


def test_private_metrics_need_a_token(daemon):
    d = daemon(env={"CC_HTTP_PUBLIC_METRICS": "false"})
    r = d.get("/metrics")
    assert_error(r, 401, "EAUTH")
    assert (r.header("WWW-Authenticate") or "").startswith("Bearer")
    r = d.get("/metrics", token=d.admin_token)
    assert r.status == 200 and "cc_http_requests_total" in r.text
    reader = d.create_token("scraper", scope="read")["token"]
    r = d.get("/metrics", token=reader)
    assert r.status == 200, r
    # health stays public
    assert d.get("/health").status == 200


def test_public_metrics_need_no_token(served):
    r = served.get("/metrics")
    assert r.status == 200
    assert "cc_http_requests_total" in r.text or "cc_http_request" in r.text
