"""The Hub, driven in Debian's headless Chromium through playwright-core.

scripts/deps.sh installs chromium and `npm install`s tests/hub; a missing
piece fails the test with what to install, it is never skipped.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

from conftest import free_port
from orch_helpers import BUSYBOX, orch  # noqa: F401

HUB_DIR = Path(__file__).resolve().parent.parent / "hub"


def test_hub_login_sources_jobs_search(daemon, tmp_path):
    assert shutil.which("node"), "node is missing: run scripts/deps.sh test"
    assert Path("/usr/bin/chromium").exists(), "chromium is missing: apt-get install chromium"
    assert (HUB_DIR / "node_modules" / "playwright-core").exists(), \
        "playwright-core is missing: run scripts/deps.sh test (npm install in tests/hub)"
    d = daemon()
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "airship.md").write_text("# Airships\n\nA zeppelin is a rigid airship.\n")
    (folder / "trains.md").write_text("# Trains\n\nSteam engines pull carriages.\n")
    # an alert as Alertmanager delivers it: the Hub lists it as firing
    firing = (Path(__file__).parent.parent / "fuzz" / "corpus" / "fuzz_alerts" /
              "firing.json").read_text()
    r = d.admin("POST", "/api/v1/alerts", json_body=json.loads(firing))
    assert r.status == 200, r
    shot = tmp_path / "hub.png"
    token_file = Path(d.data_dir) / "admin.token"
    r = subprocess.run(["node", str(HUB_DIR / "hub.test.js"), d.url + "/", str(token_file),
                        str(folder), str(shot)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "hub ok" in r.stdout
    assert shot.stat().st_size > 10000


def hub_stack(port):
    """A busybox web server with an HTTP probe and resource limits, a talker
    writing a line every 200 ms (every fifth to stderr), and a burst of 500
    lines a second."""
    return """
name: hubdemo
x-commandcenter: {driver: process}
services:
  web:
    command: ["%(bb)s", "httpd", "-f", "-p", "127.0.0.1:%(port)d", "-h", "www"]
    stop_grace_period: 1s
    x-commandcenter:
      probe: {http: {port: %(port)d, path: /health}}
    healthcheck:
      interval: 1s
      timeout: 2s
      retries: 2
      start_period: 20s
      start_interval: 200ms
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 64M, pids: 32}
  talker:
    command: ["/bin/sh", "-c", "echo started $$$$; i=0; while true; do i=$$((i+1)); if [ $$((i %% 5)) = 0 ]; then echo warn $$i >&2; else echo tick $$i; fi; sleep 0.2; done"]
    restart: always
    stop_grace_period: 1s
  burst:
    command:
      - /bin/sh
      - -c
      - 'n=0; while true; do n=$$((n+1)); seq -f "burst $$n.%%g" 1 500; sleep 1; done'
    stop_grace_period: 1s
""" % dict(bb=BUSYBOX, port=port)


def test_hub_projects_logs_restart_events(orch, tmp_path):
    """Up from the Hub, services turn healthy with resource bars, the log
    viewer follows across a restart pressed in the Hub, and the restart shows
    up live in the events table; Down from the Hub."""
    assert shutil.which("node"), "node is missing: run scripts/deps.sh test"
    assert Path("/usr/bin/chromium").exists(), "chromium is missing: apt-get install chromium"
    assert (HUB_DIR / "node_modules" / "playwright-core").exists(), \
        "playwright-core is missing: run scripts/deps.sh test (npm install in tests/hub)"
    assert os.access(BUSYBOX, os.X_OK), "busybox is missing: scripts/deps.sh test installs busybox-static"
    o = orch()
    f = o.write("hubdemo", hub_stack(free_port()), {"www/health": "ok\n"})
    o.register(f)
    r = o.d.admin("POST", "/api/v1/tokens", json_body={"name": "hub-reader", "scope": "read"})
    assert r.status == 201, r
    read_token = r.json["token"]
    shot = tmp_path / "hub-projects.png"
    token_file = Path(o.d.data_dir) / "admin.token"
    r = subprocess.run(["node", str(HUB_DIR / "hub_projects.test.js"), o.d.url + "/", str(token_file),
                        "hubdemo", str(shot), read_token],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    print(r.stdout)
    assert "hub projects ok" in r.stdout
    assert shot.stat().st_size > 10000
    # The Hub's Up and Down reached the engine: the project is down again.
    r = o.d.admin("GET", "/api/v1/projects/hubdemo")
    assert r.status == 200 and r.json["state"] == "down", r
    kinds = [(e["kind"], e.get("service")) for e in o.events("hubdemo")]
    assert ("service.restarted", "talker") in kinds, kinds
    assert ("service.stopped", "web") in kinds, kinds
