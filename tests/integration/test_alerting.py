"""Alerting end to end with the real Prometheus and Alertmanager on loopback.

The shipped configs (deploy/monitoring/) are loaded and only what cannot work
here is rewritten: addresses and ports (CommandCenter, Prometheus and
Alertmanager on free loopback ports; the exporter jobs, which this machine does
not run, are left out), the intervals (1 s scrapes and evaluations, every
rule's `for` cut to 2 s, Alertmanager's group timers to a second or two), and
the receivers' destinations: Slack, PagerDuty and the incident webhook post to
a recording sink on loopback and mail goes to a closed loopback port, so
nothing leaves the machine. The secrets stay files, as shipped.

Then a real failure: a service of a process-driver stack is killed (restart
policy "no"), ServiceDown fires in Prometheus, Alertmanager delivers it to
POST /api/v1/alerts (and to the sink's Slack and PagerDuty endpoints), the
daemon lists it as firing and records an alert.firing event; after an
operator restart it resolves everywhere."""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from conftest import REPO, free_port, run_cc
from orch_helpers import BUSYBOX, orch, wait_for  # noqa: F401

MON = REPO / "deploy" / "monitoring"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def need_tools():
    for tool, pkg in ((PROMETHEUS, "prometheus"), (ALERTMANAGER, "prometheus-alertmanager"),
                      (BUSYBOX, "busybox-static")):
        assert os.access(tool, os.X_OK), "%s is missing: apt-get install %s" % (tool, pkg)


# --------------------------------------------------------------------------
# a recording sink for the receivers that would leave the machine

class Sink:
    def __init__(self):
        self.posts = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with sink.lock:
                    sink.posts.append((self.path, body.decode("utf-8", "replace")))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status":"success","message":"Event processed"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self, path):
        with self.lock:
            return [b for p, b in self.posts if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------
# the shipped configs, rewritten for loopback

def write_secret(path, value):
    path.write_text(value + "\n")
    path.chmod(0o600)
    return str(path)


def prometheus_config(tmp, prom_port, am_port, cc_addr):
    cfg = yaml.safe_load((MON / "prometheus.yml").read_text())
    cfg["global"]["scrape_interval"] = "1s"
    cfg["global"]["scrape_timeout"] = "1s"
    cfg["global"]["evaluation_interval"] = "1s"
    cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [
        "127.0.0.1:%d" % am_port]
    jobs = []
    for job in cfg["scrape_configs"]:
        if job["job_name"] == "prometheus":
            job["static_configs"][0]["targets"] = ["127.0.0.1:%d" % prom_port]
        elif job["job_name"] == "commandcenter":
            job["static_configs"][0]["targets"] = [cc_addr]
            job["scrape_interval"] = "1s"
        else:
            continue          # exporters this machine does not run
        jobs.append(job)
    cfg["scrape_configs"] = jobs
    rules_dir = tmp / "rules"
    rules_dir.mkdir()
    for f in (MON / "rules").glob("*.yml"):
        doc = yaml.safe_load(f.read_text())
        for g in doc["groups"]:
            g["interval"] = "1s"
            for r in g["rules"]:
                if "for" in r:
                    r["for"] = "2s"
        (rules_dir / f.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    cfg["rule_files"] = [str(rules_dir / "*.yml")]
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def alertmanager_config(tmp, cc_url, token, sink):
    secrets = tmp / "secrets"
    secrets.mkdir()
    cfg = yaml.safe_load((MON / "alertmanager.yml").read_text())
    g = cfg["global"]
    g["smtp_smarthost"] = "127.0.0.1:%d" % free_port()     # nobody listens: mail fails here
    g["smtp_require_tls"] = False
    g["smtp_auth_password_file"] = write_secret(secrets / "smtp_password", "unused")
    g["slack_api_url_file"] = write_secret(secrets / "slack_webhook_url", sink.url + "/slack")

    def fast(route):
        route["group_wait"] = "1s"
        route["group_interval"] = "2s"
        route["repeat_interval"] = "1m"
        for child in route.get("routes", []):
            fast(child)
    fast(cfg["route"])
    for rc in cfg["receivers"]:
        for hook in rc.get("webhook_configs", []):
            if rc["name"] == "commandcenter":
                hook["url"] = cc_url + "/api/v1/alerts"
                hook["http_config"]["authorization"]["credentials_file"] = write_secret(
                    secrets / "commandcenter_token", token)
            else:
                hook["url"] = sink.url + "/incident"
                hook["http_config"]["authorization"]["credentials_file"] = write_secret(
                    secrets / "incident_token", "incident-secret")
        for pd in rc.get("pagerduty_configs", []):
            pd["routing_key_file"] = write_secret(secrets / "pagerduty_key", "0" * 32)
            pd["url"] = sink.url + "/pagerduty"
    path = tmp / "alertmanager.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


class Proc:
    def __init__(self, args, log_path):
        self.log = open(log_path, "wb")
        self.log_path = log_path
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True)

    def tail(self):
        return Path(self.log_path).read_text(errors="replace")[-4000:]

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


def answers(url):
    try:
        get_json(url, timeout=2)
        return True
    except OSError:
        return False


@pytest.fixture
def monitoring(tmp_path):
    """Starts Prometheus and Alertmanager for a daemon: start(cc_url, token)."""
    need_tools()
    procs, sinks = [], []

    def start(cc_url, token):
        sink = Sink()
        sinks.append(sink)
        prom_port, am_port = free_port(), free_port()
        cc_addr = urllib.parse.urlparse(cc_url).netloc
        pcfg = prometheus_config(tmp_path, prom_port, am_port, cc_addr)
        r = subprocess.run([PROMTOOL, "check", "config", str(pcfg)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        acfg = alertmanager_config(tmp_path, cc_url, token, sink)
        am = Proc([ALERTMANAGER, "--config.file=%s" % acfg,
                   "--storage.path=%s" % (tmp_path / "am-data"),
                   "--web.listen-address=127.0.0.1:%d" % am_port,
                   "--cluster.listen-address=",          # no gossip port
                   "--log.level=debug"], tmp_path / "alertmanager.log")
        procs.append(am)
        prom = Proc([PROMETHEUS, "--config.file=%s" % pcfg,
                     "--storage.tsdb.path=%s" % (tmp_path / "prom-data"),
                     "--web.listen-address=127.0.0.1:%d" % prom_port,
                     "--log.level=info"], tmp_path / "prometheus.log")
        procs.append(prom)
        prom_url, am_url = "http://127.0.0.1:%d" % prom_port, "http://127.0.0.1:%d" % am_port
        wait_for(lambda: answers(am_url + "/api/v2/status"), 60,
                 "Alertmanager to answer (log: %s)" % am.log_path)
        wait_for(lambda: answers(prom_url + "/api/v1/status/buildinfo"), 60,
                 "Prometheus to answer (log: %s)" % prom.log_path)
        return prom_url, am_url, sink, prom, am

    yield start
    for p in reversed(procs):
        p.stop()
    for s in sinks:
        s.close()


# --------------------------------------------------------------------------

def targets_up(prom_url):
    t = get_json(prom_url + "/api/v1/targets?state=active")["data"]["activeTargets"]
    return {x["labels"]["job"]: x["health"] for x in t}


def query(prom_url, expr):
    q = urllib.parse.urlencode({"query": expr})
    return get_json(prom_url + "/api/v1/query?" + q)["data"]["result"]


def prom_alerts(prom_url, name, state):
    out = get_json(prom_url + "/api/v1/alerts")["data"]["alerts"]
    return [a for a in out if a["labels"]["alertname"] == name and a["state"] == state]


def cc_alerts(d, state):
    r = d.admin("GET", "/api/v1/alerts?state=%s" % state)
    assert r.status == 200, r
    return r.json["alerts"]


def pid_listening_on(port):
    """The pid of the process whose command line names 127.0.0.1:<port>."""
    needle = "127.0.0.1:%d" % port
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in cmd and "httpd" in cmd:
            return int(p.name)
    return None


def test_a_stopped_service_fires_is_delivered_and_resolves(orch, monitoring):
    o = orch()
    d = o.d
    port = free_port()
    f = o.write("mon", """
name: mon
x-commandcenter: {driver: process}
services:
  web:
    command: ["%s", "httpd", "-f", "-p", "127.0.0.1:%d", "-h", "www"]
    restart: "no"
    x-commandcenter:
      probe: {http: {port: %d, path: /health}}
    healthcheck:
      interval: 500ms
      timeout: 2s
      retries: 2
      start_period: 10s
""" % (BUSYBOX, port, port), {"www/health": "ok\n"})
    o.register(f)
    o.up("mon")
    o.wait_ready("mon")

    prom_url, am_url, sink, prom, am = monitoring(d.url, d.admin_token)

    # the targets are up, and the service's series arrive
    wait_for(lambda: (lambda t: t if t.get("commandcenter") == "up" and
                      t.get("prometheus") == "up" else None)(targets_up(prom_url)),
             90, "the commandcenter and prometheus targets up (log: %s)" % prom.log_path)
    wait_for(lambda: query(prom_url, 'cc_service_up{project="mon",service="web"} == 1'), 60,
             "cc_service_up of mon/web in Prometheus")
    assert not cc_alerts(d, "firing")

    # a real failure: the process dies and, with restart "no", stays down
    pid = pid_listening_on(port)
    assert pid, "no httpd process for port %d" % port
    os.kill(pid, signal.SIGKILL)
    o.wait_status("mon", "web", ("exited", "failed"), timeout=60)

    def firing_in_prometheus():
        return [a for a in prom_alerts(prom_url, "ServiceDown", "firing")
                if a["labels"].get("project") == "mon" and a["labels"].get("service") == "web"]
    wait_for(firing_in_prometheus, 90, "ServiceDown firing in Prometheus")

    def firing_in_cc():
        return [a for a in cc_alerts(d, "firing")
                if a["name"] == "ServiceDown" and a["labels"].get("service") == "web"]
    got = wait_for(firing_in_cc, 90,
                   "ServiceDown delivered to /api/v1/alerts (Alertmanager log: %s)" % am.log_path)
    a = got[0]
    assert a["severity"] == "critical"
    assert a["labels"]["project"] == "mon" and a["labels"]["job"] == "commandcenter"
    assert a["annotations"]["summary"] == "mon/web is not running"
    assert a["annotations"]["runbook_url"] == "docs/runbooks/ServiceDown.md"
    assert len(a["fingerprint"]) == 16 and a["ends_at"] is None and a["starts_at"]
    assert any(e["kind"] == "alert.firing" and e["service"] == "web" and
               "ServiceDown" in e["message"] for e in o.events("mon"))

    # and the CLI shows it
    env = {"CC_SERVER": d.url, "CC_TOKEN": d.admin_token}
    res = run_cc(["alerts", "--state", "firing"], env=env)
    assert res.returncode == 0, res
    line = [ln for ln in res.stdout.splitlines() if "ServiceDown" in ln]
    assert line and "mon/web" in line[0] and "critical" in line[0], res.stdout
    res = run_cc(["alerts", "--state", "firing", "--json"], env=env)
    assert res.returncode == 0 and json.loads(res.stdout)["alerts"][0]["name"] == "ServiceDown"
    res = run_cc(["alerts", "--state", "open"], env=env)
    assert res.returncode != 0 and "firing or resolved" in res.stderr, res

    # the same alert went the shipped routes: critical pages and chats
    wait_for(lambda: any("ServiceDown" in b for b in sink.bodies("/pagerduty")), 60,
             "the PagerDuty notification at the loopback sink")
    wait_for(lambda: any("ServiceDown" in b for b in sink.bodies("/slack")), 60,
             "the Slack notification at the loopback sink")
    wait_for(lambda: any("ServiceDown" in b for b in sink.bodies("/incident")), 60,
             "the incident webhook notification at the loopback sink")

    # recovery: the operator restarts the service; the alert resolves everywhere
    r = d.admin("POST", "/api/v1/projects/mon/services/web/restart", timeout=60)
    assert r.status in (200, 202), r
    o.wait_status("mon", "web", "healthy", timeout=60)

    def resolved_in_cc():
        return [x for x in cc_alerts(d, "resolved")
                if x["name"] == "ServiceDown" and x["labels"].get("service") == "web"]
    res = wait_for(resolved_in_cc, 120,
                   "ServiceDown resolved at /api/v1/alerts (Alertmanager log: %s)" % am.log_path)
    assert res[0]["fingerprint"] == a["fingerprint"] and res[0]["ends_at"]
    assert not [x for x in cc_alerts(d, "firing") if x["name"] == "ServiceDown"]
    assert any(e["kind"] == "alert.resolved" and e["service"] == "web"
               for e in o.events("mon"))
    assert not prom_alerts(prom_url, "ServiceDown", "firing")

    # the daemon's /metrics with a stack running is still promtool-clean
    text = d.get("/metrics").text
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'cc_service_restarted_total{project="mon",service="web"}' in text
    assert 'cc_service_breaker_state{project="mon",service="web"} 0' in text


def test_the_webhook_needs_an_admin_token(served):
    body = {"version": "4", "alerts": []}
    r = served.request("POST", "/api/v1/alerts", json_body=body)
    assert r.status == 401, r
    tok = served.admin("POST", "/api/v1/tokens", json_body={"name": "ro", "scope": "read"})
    assert tok.status == 201, tok
    read = tok.json["token"]
    r = served.request("POST", "/api/v1/alerts", token=read, json_body=body)
    assert r.status == 403, r
    assert served.request("GET", "/api/v1/alerts", token=read).status == 200
    r = served.request("GET", "/api/v1/alerts?state=pending", token=read)
    assert r.status == 400 and "firing or resolved" in r.text, r
    r = served.admin("POST", "/api/v1/alerts", json_body={"version": "4", "alerts": [{}]})
    assert r.status == 400 and "alerts[0].status" in r.text, r


def test_stored_alerts_are_bounded(daemon):
    """alerts.max_stored caps the table whatever a sender posts; a resolved
    notification for a fingerprint the daemon never saw is kept as resolved."""
    d = daemon(config="alerts:\n  max_stored: 100\n")

    def alert(i, status="firing"):
        return {"status": status, "labels": {"alertname": "Load%d" % i, "severity": "warning"},
                "annotations": {}, "startsAt": "2026-12-07T20:00:00Z",
                "endsAt": "2026-12-07T20:05:00Z" if status == "resolved" else
                "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "%016x" % i}
    for start in (0, 75):
        r = d.admin("POST", "/api/v1/alerts",
                    json_body={"version": "4", "status": "firing",
                               "alerts": [alert(i) for i in range(start, start + 75)]})
        assert r.status == 200 and r.json["new"] == 75, r
    r = d.admin("GET", "/api/v1/alerts?limit=1000")
    assert r.status == 200 and len(r.json["alerts"]) == 100, len(r.json["alerts"])
    r = d.admin("POST", "/api/v1/alerts",
                json_body={"version": "4", "alerts": [alert(999, "resolved")]})
    assert r.status == 200 and r.json["new"] == 1, r
    res = d.admin("GET", "/api/v1/alerts?state=resolved").json["alerts"]
    assert [a["name"] for a in res] == ["Load999"], res
    assert res[0]["ends_at"] == "2026-12-07T20:05:00.000Z", res
