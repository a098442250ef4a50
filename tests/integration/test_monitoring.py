"""deploy/monitoring/ checked by the real tools: Prometheus' config and rules
(promtool check), every rule's unit tests (promtool test rules), Alertmanager's
config (amtool check-config); every rule has a runbook that says what it means,
how to check and how to fix; and every CommandCenter metric a rule uses is one
the binary really exports."""

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO

MON = REPO / "deploy" / "monitoring"
RULES = MON / "rules" / "commandcenter.yml"


def tool(name, package):
    path = shutil.which(name) or ("/usr/bin/" + name)
    assert Path(path).exists(), "%s is missing: apt-get install %s (scripts/deps.sh test)" % (
        name, package)
    return path


def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def rules():
    doc = yaml.safe_load(RULES.read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def test_prometheus_config_and_rules_pass_promtool():
    promtool = tool("promtool", "prometheus")
    r = run([promtool, "check", "config", str(MON / "prometheus.yml")])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout and "1 rule files found" in r.stdout, r.stdout
    r = run([promtool, "check", "rules", str(RULES)])
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = {j["job_name"] for j in yaml.safe_load((MON / "prometheus.yml").read_text())
            ["scrape_configs"]}
    assert {"commandcenter", "node", "cadvisor", "postgres", "redis"} <= jobs, jobs


def test_every_rule_has_promtool_unit_tests_that_pass():
    promtool = tool("promtool", "prometheus")
    tests = MON / "tests" / "rules_test.yml"
    r = run([promtool, "test", "rules", str(tests)])
    assert r.returncode == 0, r.stdout + r.stderr
    doc = yaml.safe_load(tests.read_text())
    firing, quiet = set(), set()
    for t in doc["tests"]:
        for a in t.get("alert_rule_test", []):
            (firing if a.get("exp_alerts") else quiet).add(a["alertname"])
    names = {r["alert"] for r in rules()}
    assert names - firing == set(), "rules never shown firing: %s" % sorted(names - firing)
    assert names - quiet == set(), "rules never shown not firing: %s" % sorted(names - quiet)


def test_at_least_twelve_rules_each_with_a_runbook():
    rs = rules()
    assert len(rs) >= 12, len(rs)
    for r in rs:
        name = r["alert"]
        assert r["labels"]["severity"] in ("critical", "warning"), r
        url = r["annotations"]["runbook_url"]
        assert url == "docs/runbooks/%s.md" % name, (name, url)
        text = (REPO / url).read_text()
        assert text.startswith("# %s\n" % name), url
        for section in ("## What it means", "## How to check", "## How to fix"):
            assert section in text, "%s lacks %r" % (url, section)
        assert r["annotations"]["summary"] and r["annotations"]["description"], r


def test_alertmanager_config_passes_amtool():
    amtool = tool("amtool", "prometheus-alertmanager")
    r = run([amtool, "check-config", str(MON / "alertmanager.yml")])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout, r.stdout
    doc = yaml.safe_load((MON / "alertmanager.yml").read_text())
    kinds = {k for rc in doc["receivers"] for k in rc if k.endswith("_configs")}
    assert {"email_configs", "slack_configs", "pagerduty_configs", "webhook_configs"} <= kinds
    assert doc["inhibit_rules"] and doc["route"]["group_by"]
    # secrets come from files, never inline
    text = (MON / "alertmanager.yml").read_text()
    for inline in ("smtp_auth_password:", "slack_api_url:", "routing_key:", "credentials:",
                   "service_key:"):
        assert inline not in text, inline
    hook = [rc for rc in doc["receivers"] if rc["name"] == "commandcenter"][0]
    cfg = hook["webhook_configs"][0]
    assert cfg["url"].endswith("/api/v1/alerts") and cfg["send_resolved"] is True
    assert cfg["http_config"]["authorization"]["credentials_file"]


def exported_families(d):
    """Metric names the daemon's /metrics declares (# TYPE), with the sample
    names a histogram adds."""
    text = d.get("/metrics").text
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names.add(name)
        if kind == "histogram":
            names |= {name + "_bucket", name + "_sum", name + "_count"}
    return names


def test_rules_use_only_metrics_the_binary_exports(served):
    exported = exported_families(served)
    used = set()
    for r in rules():
        used |= set(re.findall(r"\b(cc_[a-z0-9_]+|process_[a-z0-9_]+)\b", r["expr"]))
    assert used, "no CommandCenter metric in the rules?"
    missing = sorted(used - exported)
    assert not missing, "rules use metrics /metrics does not declare: %s" % missing


def metric_value(d, series):
    """The value of one exact series line of /metrics, or None."""
    for ln in d.get("/metrics").text.splitlines():
        name, _, value = ln.rpartition(" ")
        if name == series:
            return float(value)
    return None


def test_source_freshness_and_outcomes(daemon, tmp_path):
    """What SourceFailing and SourceStale read: runs by result, the time of the
    last success, and the failures since, per source."""
    from conftest import create_source
    from orch_helpers import wait_for
    d = daemon(config="jobs:\n  max_attempts: 1\n")
    good, gone = tmp_path / "good", tmp_path / "gone"
    good.mkdir()
    gone.mkdir()
    (good / "a.md").write_text("# A\n\nsome text\n")
    create_source(d, name="good", type="file", path=str(good))
    create_source(d, name="gone", type="file", path=str(gone))
    gone.rmdir()
    assert metric_value(d, 'cc_source_last_success_timestamp_seconds{source="good"}') == 0
    before = time.time()
    for name in ("good", "gone", "gone"):
        r = d.admin("POST", "/api/v1/sources/%s/run" % name)
        assert r.status == 202, r
        job = r.json["job_id"]
        wait_for(lambda: d.admin("GET", "/api/v1/jobs/%s" % job).json["state"]
                 in ("succeeded", "dead"), 60, "source.run job %s to finish" % job)
    wait_for(lambda: metric_value(d, 'cc_source_runs_total{source="gone",result="failed"}') == 2,
             30, "two failed runs of gone counted")
    assert metric_value(d, 'cc_source_runs_total{source="good",result="ok"}') == 1
    assert metric_value(d, 'cc_source_runs_total{source="good",result="failed"}') is None
    ok_at = metric_value(d, 'cc_source_last_success_timestamp_seconds{source="good"}')
    assert before - 1 <= ok_at <= time.time() + 1, ok_at
    assert metric_value(d, 'cc_source_last_success_timestamp_seconds{source="gone"}') == 0
    assert metric_value(d, 'cc_source_consecutive_failures{source="gone"}') == 2
    assert metric_value(d, 'cc_source_consecutive_failures{source="good"}') == 0
    # the freshness comes from the store: a restarted daemon still knows it
    d.stop()
    d2 = daemon(config="jobs:\n  max_attempts: 1\n", data_dir=d.data_dir)
    assert metric_value(d2, 'cc_source_last_success_timestamp_seconds{source="good"}') == \
        pytest.approx(ok_at, abs=0.002)
    assert metric_value(d2, 'cc_source_consecutive_failures{source="gone"}') == 2
