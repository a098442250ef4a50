"""Orchestration end to end on the process driver: real processes (Debian's
redis-server and busybox httpd), CommandCenter's own probes and supervisor,
driven through the HTTP API and the CLI.

Scenarios of the orchestration issue that apply to local processes: a
four-service stack shaped like the seeds' comes up in dependency order gated on
health; a killed service is restarted; a failing probe restarts the service on
unhealthy and repeated failure trips the breaker; logs follow across a restart;
--tail on a large log; the daemon killed with SIGKILL re-adopts the running
stack; bad input answers clearly."""

import json
from datetime import datetime, timezone
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import free_port, run_cc
from orch_helpers import BUSYBOX, Streamer, orch, pid_alive, stream_lines, wait_for  # noqa: F401

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"

FAST = """
    healthcheck:
      interval: 1s
      timeout: 2s
      retries: 2
      start_period: 20s
      start_interval: 200ms
"""


def need_tools():
    for tool in (REDIS, REDIS_CLI, BUSYBOX):
        assert os.access(tool, os.X_OK), \
            "%s is missing: scripts/deps.sh test installs redis-server and busybox-static" % tool


def seeds_stack(ports):
    """database and cache (redis), backend and frontend (busybox httpd)."""
    return """
name: seeds
x-commandcenter:
  driver: process
services:
  database:
    command: ["%(redis)s", "--port", "%(db)d", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    x-commandcenter:
      probe: {tcp: {port: %(db)d}}
%(fast)s
  cache:
    command: ["%(redis)s", "--port", "%(cache)d", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    healthcheck:
      test: ["CMD", "%(cli)s", "-p", "%(cache)d", "ping"]
      interval: 1s
      timeout: 2s
      retries: 2
      start_period: 20s
      start_interval: 200ms
    restart: always
  backend:
    command: ["%(bb)s", "httpd", "-f", "-p", "127.0.0.1:%(be)d", "-h", "www"]
    depends_on:
      database: {condition: service_healthy}
      cache: {condition: service_healthy}
    x-commandcenter:
      probe: {http: {port: %(be)d, path: /health}}
%(fast)s
  frontend:
    command: ["%(bb)s", "httpd", "-f", "-p", "127.0.0.1:%(fe)d", "-h", "www"]
    depends_on:
      backend: {condition: service_healthy}
    x-commandcenter:
      probe: {http: {port: %(fe)d, path: /}}
%(fast)s
""" % dict(redis=REDIS, cli=REDIS_CLI, bb=BUSYBOX, fast=FAST, **ports)


def ports4():
    return dict(db=free_port(), cache=free_port(), be=free_port(), fe=free_port())


def first_event(events, kind, service):
    for e in events:
        if e["kind"] == kind and e.get("service") == service:
            return e["id"]
    return None


def pids_of(pattern):
    """Pids whose command line contains pattern (redis-server rewrites its
    title to "redis-server 127.0.0.1:PORT")."""
    out = subprocess.run(["pgrep", "-f", "--", pattern], stdout=subprocess.PIPE, text=True).stdout
    return [int(x) for x in out.split()]


def test_four_service_stack_in_dependency_order(orch):
    need_tools()
    o = orch()
    p = ports4()
    f = o.write("seeds", seeds_stack(p), {"www/health": "ok\n", "www/index.html": "<p>hi</p>\n"})
    r = o.register(f)
    assert r.json["project"]["name"] == "seeds"
    env = {"CC_SERVER": o.d.url, "CC_TOKEN": o.d.admin_token}
    res = run_cc(["up", "seeds", "--wait", "--wait-timeout", "60s"], env=env, timeout=90)
    assert res.returncode == 0, res
    h = o.health("seeds")
    assert h["overall_healthy"] is True and h["ready"] is True, h
    assert set(h["services"]) == {"database", "cache", "backend", "frontend"}
    for name, s in h["services"].items():
        assert s["healthy"] is True and s["status"] == "healthy", (name, s)
        assert s["failing_streak"] == 0 and s["checked_at"], (name, s)
    ev = o.events("seeds")
    # each dependant starts only after its dependencies are healthy
    assert first_event(ev, "service.healthy", "database") < first_event(ev, "service.started", "backend")
    assert first_event(ev, "service.healthy", "cache") < first_event(ev, "service.started", "backend")
    assert first_event(ev, "service.healthy", "backend") < first_event(ev, "service.started", "frontend")
    # independent services start together: cache starts before database is healthy
    assert first_event(ev, "service.started", "cache") < first_event(ev, "service.healthy", "database")
    # the CLI views
    res = run_cc(["health", "seeds"], env=env)
    assert res.returncode == 0 and "overall: healthy" in res.stdout, res
    res = run_cc(["ps", "seeds"], env=env)
    assert res.returncode == 0 and "frontend" in res.stdout and "healthy" in res.stdout, res
    res = run_cc(["projects"], env=env)
    assert res.returncode == 0 and "seeds" in res.stdout and "process" in res.stdout, res
    # down: reverse order, processes gone
    o.down("seeds")
    ev = o.events("seeds")
    stops = [e["service"] for e in ev if e["kind"] == "service.stopped"]
    assert stops.index("frontend") < stops.index("backend") < stops.index("database"), stops
    assert stops.index("backend") < stops.index("cache"), stops
    assert not pids_of("redis-server 127.0.0.1:%d" % p["db"]), "database still running after down"
    assert not pids_of("127.0.0.1:%d" % p["fe"]), "frontend still running after down"


def test_killed_service_is_restarted(orch):
    need_tools()
    o = orch()
    port = free_port()
    f = o.write("kill", """
name: kill
x-commandcenter: {driver: process}
services:
  cache:
    command: ["%s", "--port", "%d", "--bind", "127.0.0.1", "--save", ""]
    restart: always
    x-commandcenter:
      probe: {tcp: {port: %d}}
%s""" % (REDIS, port, port, FAST))
    o.register(f)
    o.up("kill")
    o.wait_ready("kill")
    pids = pids_of("redis-server 127.0.0.1:%d" % port)
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    wait_for(lambda: any(e["kind"] == "service.restarted" for e in o.events("kill")), 30,
             "a service.restarted event")
    o.wait_status("kill", "cache", "healthy", timeout=30)
    new = pids_of("redis-server 127.0.0.1:%d" % port)
    assert len(new) == 1 and new[0] != pids[0], (pids, new)
    assert o.ps("kill")["cache"]["restarts"] >= 1


def test_unhealthy_restart_then_breaker_then_operator_restart(orch, tmp_path):
    need_tools()
    o = orch(config="orchestrator:\n  breaker_restarts: 2\n  breaker_window: 5m\n"
                    "  restart_backoff_max: 2s\n")
    port = free_port()
    f = o.write("flaky", """
name: flaky
x-commandcenter: {driver: process}
services:
  web:
    command: ["%s", "httpd", "-f", "-p", "127.0.0.1:%d", "-h", "www"]
    restart: unless-stopped
    x-commandcenter:
      probe: {http: {port: %d, path: /health}}
      restart_on_unhealthy: {limit: 2, grace: 0s}
    healthcheck:
      interval: 300ms
      timeout: 1s
      retries: 1
      start_period: 0s
""" % (BUSYBOX, port, port), {"www/health": "ok\n"})
    o.register(f)
    o.up("flaky")
    o.wait_ready("flaky")
    (f.parent / "www" / "health").unlink()        # the probe now gets 404
    wait_for(lambda: any(e["kind"] == "service.restarted" and e["service"] == "web"
                         for e in o.events("flaky")), 30, "a restart on unhealthy")
    s = o.wait_status("flaky", "web", "failed", timeout=60)
    assert any(e["kind"] == "service.failed" for e in o.events("flaky"))
    assert s["healthy"] is False and s["message"], s
    # the breaker stays open: no restart while failed
    n = len([e for e in o.events("flaky") if e["kind"] == "service.restarted"])
    time.sleep(2)
    assert len([e for e in o.events("flaky") if e["kind"] == "service.restarted"]) == n
    assert o.health("flaky")["services"]["web"]["status"] == "failed"
    # the operator fixes it and restarts: healthy again
    (f.parent / "www" / "health").write_text("ok\n")
    env = {"CC_SERVER": o.d.url, "CC_TOKEN": o.d.admin_token}
    res = run_cc(["restart", "flaky", "web"], env=env)
    assert res.returncode == 0, res
    o.wait_status("flaky", "web", "healthy", timeout=30)


def test_logs_follow_across_restart_and_tail(orch):
    need_tools()
    o = orch()
    f = o.write("talk", """
name: talk
x-commandcenter: {driver: process}
services:
  talker:
    command: ["/bin/sh", "-c", "echo started $$$$; i=0; while true; do i=$$((i+1)); echo line $$i; sleep 0.1; done"]
    restart: always
    stop_grace_period: 1s
""")
    o.register(f)
    o.up("talk")
    o.wait_ready("talk")
    s = Streamer(o.d.url, "/api/v1/projects/talk/logs/talker?follow=1&tail=0", o.d.admin_token)
    assert s.status == 200
    wait_for(lambda: len(s.snapshot()) >= 3, 15, "followed lines")
    r = o.d.admin("POST", "/api/v1/projects/talk/services/talker/restart", timeout=30)
    assert r.status == 200, r
    wait_for(lambda: sum(1 for ln in s.snapshot() if ln.startswith("started")) >= 1, 30,
             "the restarted instance's first line in the same stream")
    s.close()
    # tail: exactly the last N lines, in order
    r = o.d.admin("GET", "/api/v1/projects/talk/logs/talker?tail=5&timestamps=1")
    assert r.status == 200, r
    lines = r.text.strip("\n").split("\n")
    assert len(lines) == 5, lines
    for ln in lines:
        ts, _, text = ln.partition(" ")
        assert ts.endswith("Z") and "T" in ts, ln
    r = o.d.admin("GET", "/api/v1/projects/talk/logs/talker?tail=3&format=json")
    rows = [json.loads(x) for x in r.text.strip("\n").split("\n")]
    assert len(rows) == 3 and all(x["stream"] == "stdout" and x["ts"] for x in rows), rows
    # CLI prefixes lines with the service when there are several (or on a TTY)
    env = {"CC_SERVER": o.d.url, "CC_TOKEN": o.d.admin_token}
    res = run_cc(["logs", "talk", "talker", "--tail", "2"], env=env)
    assert res.returncode == 0 and len(res.stdout.strip().split("\n")) == 2, res


def test_large_log_tail_is_bounded(orch):
    o = orch()
    f = o.write("big", """
name: big
x-commandcenter: {driver: process}
services:
  writer:
    command: ["/bin/sh", "-c", "yes $$(printf '%0199d' 0) | head -n 750000; echo last-line; sleep 3600"]
    restart: "no"
    stop_grace_period: 1s
""")
    o.register(f)
    o.up("big")
    r = wait_for(lambda: (lambda r: r if r.text.strip().endswith("last-line") else None)(
        o.d.admin("GET", "/api/v1/projects/big/logs/writer?tail=1")), 120, "the last line")
    t0 = time.monotonic()
    r = o.d.admin("GET", "/api/v1/projects/big/logs/writer?tail=100")
    took = time.monotonic() - t0
    lines = r.text.strip("\n").split("\n")
    assert len(lines) == 100 and lines[-1] == "last-line", (len(lines), lines[-2:])
    assert all(x == "0" * 199 for x in lines[:-1])
    print("tail 100 of a ~150 MB log took %.3fs" % took)


def test_daemon_killed_readopts_without_restart(orch, daemon, tmp_path):
    need_tools()
    o = orch()
    port = free_port()
    f = o.write("adopt", """
name: adopt
x-commandcenter: {driver: process}
services:
  cache:
    command: ["%s", "--port", "%d", "--bind", "127.0.0.1", "--save", ""]
    restart: always
    x-commandcenter:
      probe: {tcp: {port: %d}}
%s""" % (REDIS, port, port, FAST))
    o.register(f)
    o.up("adopt")
    o.wait_ready("adopt")
    before = pids_of("redis-server 127.0.0.1:%d" % port)
    assert len(before) == 1
    started_before = len([e for e in o.events("adopt") if e["kind"] == "service.started"])
    o.d.kill()                                      # SIGKILL: no clean shutdown
    assert pid_alive(before[0]), "the service died with the daemon"
    d2 = daemon(data_dir=o.d.data_dir)
    o.d = d2
    o.wait_ready("adopt", timeout=30)
    assert pids_of("redis-server 127.0.0.1:%d" % port) == before, "the service was restarted, not re-adopted"
    assert len([e for e in o.events("adopt") if e["kind"] == "service.started"]) == started_before
    # and it is still supervised: a kill is noticed and repaired
    os.kill(before[0], signal.SIGKILL)
    wait_for(lambda: (lambda p: p and p != before)(pids_of("redis-server 127.0.0.1:%d" % port)), 30,
             "a restart after the re-adopted service died")


def test_events_stream_shows_service_changes(orch):
    need_tools()
    o = orch()
    port = free_port()
    f = o.write("sse", """
name: sse
x-commandcenter: {driver: process}
services:
  cache:
    command: ["%s", "--port", "%d", "--bind", "127.0.0.1", "--save", ""]
    x-commandcenter:
      probe: {tcp: {port: %d}}
%s""" % (REDIS, port, port, FAST))
    o.register(f)
    s = Streamer(o.d.url, "/api/v1/events?project=sse", o.d.admin_token,
                 headers={"Accept": "text/event-stream"})
    assert s.status == 200
    assert s.resp.getheader("Content-Type").startswith("text/event-stream")
    o.up("sse")
    wait_for(lambda: any(ln == "event: service.healthy" for ln in s.snapshot()), 30,
             "service.healthy over SSE")
    lines = s.snapshot()
    data = [json.loads(ln[6:]) for ln in lines if ln.startswith("data: ")]
    assert all(d["project"] == "sse" for d in data), data
    assert any(d["kind"] == "service.started" and d["service"] == "cache" for d in data), data
    s.close()


def test_bad_input(orch):
    o = orch()
    bad = o.write("bad", "name: bad\nservices:\n  web:\n    image: x\n    ports: [\"abc\"]\n")
    r = o.register(bad, expect=400)
    err = r.json["error"]
    assert err["code"] == "EINVAL" and "compose.yaml:5" in err["message"], err
    cyc = o.write("cyc", "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n")
    r = o.register(cyc, expect=400)
    assert "cycle" in r.json["error"]["message"], r.json
    r = o.d.admin("POST", "/api/v1/projects", json_body={"compose_file": "relative.yaml"})
    assert r.status == 400, r
    r = o.d.admin("POST", "/api/v1/projects", json_body={"compose_file": "/nonexistent/c.yaml"})
    assert r.status in (400, 404), r
    # A FIFO (or any non-regular file) is refused at once: the open must not
    # wait for a writer, which would hold an HTTP worker for good.
    fifo = o.write("fifo-dir", "services: {}\n").parent / "pipe.yaml"
    os.mkfifo(str(fifo))
    for _ in range(3):
        r = o.d.admin("POST", "/api/v1/projects", json_body={"compose_file": str(fifo)},
                      timeout=30)
        assert r.status == 400 and "not a regular file" in r.json["error"]["message"], r
    assert o.d.get("/health").status == 200
    for path in ("/api/v1/projects/nope", "/api/v1/projects/nope/health",
                 "/api/v1/projects/nope/logs/web"):
        r = o.d.admin("GET", path)
        assert r.status == 404 and r.json["error"]["code"] == "ENOTFOUND", (path, r)
    r = o.d.admin("POST", "/api/v1/projects/nope/up")
    assert r.status == 404, r
    ok = o.write("okp", "name: okp\nx-commandcenter: {driver: process}\nservices:\n"
                        "  s: {command: [\"/bin/sleep\", \"3600\"]}\n")
    o.register(ok)
    r = o.register(ok, expect=409)
    r = o.d.admin("GET", "/api/v1/projects/okp/logs/nosuch")
    assert r.status == 404, r
    r = o.d.admin("POST", "/api/v1/projects/okp/services/nosuch/restart")
    assert r.status == 404, r
    # a service the process driver cannot run: no command
    nocmd = o.write("nocmd", "name: nocmd\nx-commandcenter: {driver: process}\nservices:\n"
                             "  s: {image: busybox}\n")
    o.register(nocmd)
    o.d.admin("POST", "/api/v1/projects/nocmd/up")
    s = wait_for(lambda: (lambda s: s if s["status"] in ("failed", "exited") else None)(
        o.health("nocmd")["services"]["s"]), 30, "nocmd failing")
    assert "command" in s["message"], s
    o.d.assert_serving()
    # the up project cannot be removed; down then remove works
    o.up("okp")
    r = o.d.admin("DELETE", "/api/v1/projects/okp")
    assert r.status == 409, r
    o.down("okp")
    r = o.d.admin("DELETE", "/api/v1/projects/okp")
    assert r.status == 204, r


def test_caller_environment_reaches_the_stack_and_survives_a_restart(orch, daemon):
    """`GREETING=x commandcenter up FILE` reads ${GREETING} from the caller's
    shell (before the project's .env, as Compose does); the daemon keeps
    the variables with the project, so a restarted daemon loads the same
    stack; `up FILE` again with another value replaces them."""
    from conftest import cli_env
    o = orch()
    f = o.write("envp", """
name: envp
x-commandcenter: {driver: process}
services:
  say:
    command: ["/bin/sh", "-c", "echo greeting=$$G; sleep 3600"]
    environment:
      G: "${GREETING:-from-default}"
""", files={".env": "GREETING=from-dotenv\n"})
    o.projects.append("envp")

    def said(since=None):
        q = "?tail=50" + ("&since=%s" % since if since else "")
        r = o.d.admin("GET", "/api/v1/projects/envp/logs/say" + q)
        return r.text if r.status == 200 and "greeting=" in r.text else None

    env = dict(cli_env(o.d), GREETING="from-shell")
    res = run_cc(["up", str(f)], env=env)
    assert res.returncode == 0, res
    assert "greeting=from-shell" in wait_for(said, 60, "the service's greeting")

    # a restarted daemon keeps the variables: down, then up by name (no
    # environment sent) starts the service with them again
    o.d.stop()
    d2 = daemon(data_dir=o.d.data_dir)
    o.d = d2
    o.down("envp")
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    res = run_cc(["up", "envp"], env=cli_env(d2))
    assert res.returncode == 0, res
    text = wait_for(lambda: said(since), 60, "the greeting after a restart")
    assert "greeting=from-shell" in text, text

    # without the variable in the shell, .env applies
    o.down("envp")
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    res = run_cc(["up", str(f)], env=cli_env(d2))
    assert res.returncode == 0, res
    assert "greeting=from-dotenv" in wait_for(lambda: said(since), 60, "the greeting from .env")

    # bad variables are refused with the name
    r = d2.admin("POST", "/api/v1/projects/envp/up", json_body={"env": {"1BAD": "x"}})
    assert r.status == 400 and "1BAD" in r.json["error"]["message"], r
    r = d2.admin("POST", "/api/v1/projects/envp/up", json_body={"env": ["x"]})
    assert r.status == 400, r


def test_restart_every_service_or_several(orch):
    """restart PROJECT restarts every service (docker compose restart); several
    services may be named; an unknown one fails with exit 1."""
    from conftest import cli_env
    o = orch()
    f = o.write("rall", """
name: rall
x-commandcenter: {driver: process}
services:
  a: {command: ["/bin/sleep", "3600"]}
  b: {command: ["/bin/sleep", "3600"]}
  c: {command: ["/bin/sleep", "3600"]}
""")
    o.register(f)
    o.up("rall")
    o.wait_ready("rall")
    before = {k: v["restarts"] for k, v in o.ps("rall").items()}
    env = cli_env(o.d)
    res = run_cc(["restart", "rall"], env=env, timeout=120)
    assert res.returncode == 0, res
    assert sorted(ln for ln in res.stdout.splitlines()) == \
        ["restarted rall/a", "restarted rall/b", "restarted rall/c"], res.stdout
    wait_for(lambda: all(v["restarts"] > before[k] for k, v in o.ps("rall").items()), 60,
             "every service restarted")
    res = run_cc(["restart", "rall", "a", "c", "--json"], env=env, timeout=120)
    assert res.returncode == 0 and len(json.loads(res.stdout)) == 2, res
    res = run_cc(["restart", "rall", "nosuch"], env=env, timeout=120)
    assert res.returncode == 1, res
