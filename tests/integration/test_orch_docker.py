"""Orchestration end to end on a REAL Docker engine: the private dockerd that
scripts/test.sh starts (CC_TEST_DOCKER_HOST) with the images of
tests/images/build.sh (cc-test/busybox:1, cc-test/redis:1,
cc-test/postgres:15), driven through the HTTP API and the CLI, checked with
the docker CLI against the engine itself.

What it proves (SPEC section 3): a four-service stack shaped like the seeds'
comes up in dependency order gated on health (default probes by role for
postgres and redis, HTTP probes from x-commandcenter); limits by role and
from deploy.resources reach the engine; the internal network keeps the
frontend away from the database; a killed container is restarted; a failing
probe restarts a service and repeated failure trips the breaker; logs follow
across a restart and --tail on a very large log answers exactly N lines; an
OOM kill is reported; hardening settings hold inside the container; a daemon
killed with SIGKILL re-adopts the running stack; bad input, an unreachable
engine, a missing image and a taken port answer clearly.

Every project gets a unique name; at the end of each test its projects are
taken down and anything left labelled with them is removed from the engine."""

import json
import os
import re
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import free_port, http_request, run_cc
from orch_helpers import Orch, Streamer, wait_for  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
DOCKERD_SH = REPO / "scripts" / "dockerd.sh"
BUSYBOX_IMG = "cc-test/busybox:1"
REDIS_IMG = "cc-test/redis:1"
POSTGRES_IMG = "cc-test/postgres:15"


def engine_host():
    host = os.environ.get("CC_TEST_DOCKER_HOST")
    if not host:
        pytest.fail("CC_TEST_DOCKER_HOST is not set: these tests need the private Docker "
                    "engine. Run `make test` (scripts/test.sh starts it), or start one with "
                    "`scripts/dockerd.sh start DIR`, build the images with "
                    "`DOCKER_HOST=... tests/images/build.sh` and export "
                    "CC_TEST_DOCKER_HOST=<the printed DOCKER_HOST>.")
    return host


class Docker:
    """The docker CLI against one engine."""

    def __init__(self, host):
        self.host = host

    def run(self, args, check=True, timeout=120, stdin=None):
        env = dict(os.environ, DOCKER_HOST=self.host)
        p = subprocess.run(["docker"] + list(args), env=env, input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if check:
            assert p.returncode == 0, "docker %s: exit %d\n%s%s" % (
                " ".join(args), p.returncode, out[-2000:], err[-2000:])
        return p.returncode, out, err

    def inspect(self, name):
        _, out, _ = self.run(["inspect", "--type", "container", name])
        return json.loads(out)[0]

    def exec(self, name, *cmd):
        """(exit code, stdout + stderr) of a command run in the container."""
        rc, out, err = self.run(["exec", name] + list(cmd), check=False, timeout=60)
        return rc, out + err

    def ids(self, kind, label):
        fmt = "{{.ID}}"
        args = ["ps", "-aq", "--filter", "label=" + label] if kind == "container" else \
               ["network", "ls", "-q", "--filter", "label=" + label] if kind == "network" else \
               ["volume", "ls", "-q", "--filter", "label=" + label]
        _, out, _ = self.run(args + ([] if kind == "container" else ["--format", fmt]),
                             check=False)
        return out.split()

    def sweep(self, project):
        """Removes whatever is left labelled with the project; returns what it found."""
        label = "com.docker.compose.project=" + project
        found = []
        for kind in ("container", "network", "volume"):
            ids = self.ids(kind, label)
            if not ids:
                continue
            found.append((kind, ids))
            if kind == "container":
                self.run(["rm", "-f", "-v"] + ids, check=False)
            else:
                self.run([kind, "rm"] + ids, check=False)
        # networks made without the project label still carry the project prefix
        _, out, _ = self.run(["network", "ls", "--format", "{{.Name}}",
                              "--filter", "name=" + project + "_"], check=False)
        nets = [n for n in out.split() if n.startswith(project + "_")]
        if nets:
            found.append(("network", nets))
            self.run(["network", "rm"] + nets, check=False)
        return found


def unique(prefix):
    return "cct%s%s" % (prefix, uuid.uuid4().hex[:6])


@pytest.fixture
def dk():
    return Docker(engine_host())


@pytest.fixture
def dorch(daemon, tmp_path, dk):
    """orch(config=..., host=...) -> Orch whose daemon orchestrates on the engine;
    every project is taken down at the end and the engine swept of its traces."""
    made = []
    sweeps = []

    def make(config=None, host=None, env=None, data_dir=None):
        e = {"CC_ORCHESTRATOR_DOCKER_HOST": host or dk.host}
        e.update(env or {})
        kw = {"env": e}
        if config is not None:
            kw["config"] = config
        if data_dir is not None:
            kw["data_dir"] = data_dir
        o = Orch(daemon(**kw), tmp_path)
        made.append(o)
        return o

    make.sweep_on = sweeps.append      # extra (Docker, project) pairs to sweep
    yield make
    left = []
    died = []
    for o in made:
        if o.d.alive():
            o.cleanup()
        else:
            o.d.kill()
            died.append("%s exited (status %s) during the test; stderr tail:\n%s"
                        % (o.d.name, o.d.proc.returncode, o.d.stderr_text()[-6000:]))
        for p in o.projects:
            found = dk.sweep(p)
            if found:
                left.append((p, found))
    for d, p in sweeps:
        d.sweep(p)
    assert not died, "\n\n".join(died)
    assert not left, "containers/networks left on the engine after down: %r" % left


def cli_env(o):
    return {"CC_SERVER": o.d.url, "CC_TOKEN": o.d.admin_token}


def event_id(events, kind, service, after=0):
    for e in events:
        if e["id"] > after and e["kind"] == kind and e.get("service") == service:
            return e["id"]
    return None


def kinds_of(events, service):
    return [e["kind"] for e in events if e.get("service") == service]


def fail_text(o, project, service):
    """Everything the daemon says about a failed service: its health message and
    the messages of its events."""
    s = o.health(project)["services"][service]
    msgs = [s.get("message") or ""]
    msgs += [e.get("message") or "" for e in o.events(project) if e.get("service") == service]
    return s, "\n".join(msgs)


# A service that stops at once on SIGTERM (sh as PID 1 traps it).
SLEEPER = """["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]"""

# busybox httpd serving /tmp/www made at start (so a restart repairs it).
HTTPD = ("[\"sh\", \"-c\", \"mkdir -p /tmp/www && echo ok > /tmp/www/health && "
         "echo '<p>%s</p>' > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www\"]")

FAST_PROBE = "interval: 1s, timeout: 2s, retries: 2, start_period: 20s, start_interval: 250ms"


def seeds_stack(name, fe_port):
    return """
name: %(name)s
x-commandcenter: {driver: docker}
networks:
  data: {internal: true}
  web: {}
services:
  database:
    image: %(pg)s
    tmpfs: ["/var/run/postgresql:uid=999,gid=999,mode=0775"]
    networks: [data]
    stop_grace_period: 5s
  cache:
    image: %(redis)s
    networks: [data]
    restart: always
  backend:
    image: %(bb)s
    command: %(be_cmd)s
    init: true
    networks: [data, web]
    depends_on:
      database: {condition: service_healthy}
      cache: {condition: service_healthy}
    x-commandcenter:
      probe: {http: {port: 8080, path: /health}, %(fast)s}
  frontend:
    image: %(bb)s
    command: %(fe_cmd)s
    init: true
    networks: [web]
    ports: ["127.0.0.1:%(fe_port)d:8080"]
    depends_on:
      backend: {condition: service_healthy}
    x-commandcenter:
      probe: {http: {port: 8080, path: /}, %(fast)s}
""" % dict(name=name, pg=POSTGRES_IMG, redis=REDIS_IMG, bb=BUSYBOX_IMG,
           be_cmd=HTTPD % "backend", fe_cmd=HTTPD % "frontend", fast=FAST_PROBE,
           fe_port=fe_port)


def isolation_rules(dk, network):
    """The iptables rules that make a network internal, for a failure message:
    every dockerd on a host shares the DOCKER-ISOLATION chains, and a dockerd
    that starts flushes them, so another engine started meanwhile (another
    checkout's test run) removes the isolation of networks made before it."""
    _, out, _ = dk.run(["network", "inspect", "--format", "{{.Id}}", network], check=False)
    bridge = "br-" + out.strip()[:12]
    p = subprocess.run(["iptables", "-S"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    rules = [ln for ln in p.stdout.decode("utf-8", "replace").splitlines() if bridge in ln]
    return "iptables rules naming %s (none: another dockerd flushed them):\n%s" % (
        bridge, "\n".join(rules) or "(none)")


def container_ip(info, network):
    return info["NetworkSettings"]["Networks"][network]["IPAddress"]


def test_seeds_stack_up_in_order_with_limits_and_isolation(dorch, dk):
    o = dorch()
    name = unique("seeds")
    fe_port = free_port()
    o.register(o.write(name, seeds_stack(name, fe_port)))
    env = cli_env(o)
    t0 = time.monotonic()
    res = run_cc(["up", name, "--wait", "--wait-timeout", "120s"], env=env, timeout=180)
    took = time.monotonic() - t0
    assert res.returncode == 0, res
    print("seeds stack up and healthy in %.1fs" % took)

    h = o.health(name)
    assert h["overall_healthy"] is True and h["ready"] is True, h
    assert set(h["services"]) == {"database", "cache", "backend", "frontend"}, h
    for svc, s in h["services"].items():
        assert s["healthy"] is True and s["status"] == "healthy", (svc, s)
        assert s["checked_at"] and s["last_outputs"], (svc, s)
    # the default probes by role ran inside the containers
    db_out = json.dumps(h["services"]["database"]["last_outputs"])
    assert "accepting connections" in db_out, db_out
    assert "PONG" in json.dumps(h["services"]["cache"]["last_outputs"]), h["services"]["cache"]
    res = run_cc(["health", name], env=env)
    assert res.returncode == 0 and "overall: healthy" in res.stdout, res

    ev = o.events(name)
    for svc in ("database", "cache", "backend", "frontend"):
        assert event_id(ev, "service.started", svc), (svc, ev)
        assert event_id(ev, "service.healthy", svc), (svc, ev)
    assert event_id(ev, "service.healthy", "database") < event_id(ev, "service.started", "backend")
    assert event_id(ev, "service.healthy", "cache") < event_id(ev, "service.started", "backend")
    assert event_id(ev, "service.healthy", "backend") < event_id(ev, "service.started", "frontend")
    # independent services start together: the cache does not wait for the database
    assert event_id(ev, "service.started", "cache") < event_id(ev, "service.healthy", "database")

    # the containers, as the engine sees them
    info = {s: dk.inspect("%s-%s-1" % (name, s)) for s in ("database", "cache", "backend", "frontend")}
    for s, i in info.items():
        assert i["State"]["Running"] is True, (s, i["State"])
        labels = i["Config"]["Labels"]
        assert labels["com.docker.compose.project"] == name and \
            labels["com.docker.compose.service"] == s, labels
        assert i["HostConfig"]["RestartPolicy"]["Name"] in ("", "no"), i["HostConfig"]["RestartPolicy"]
    # defaults by role (orchestrator.limits.*): postgres 1 CPU / 2 GiB / 512 pids,
    # redis 0.5 / 512 MiB / 256 pids
    hc = info["database"]["HostConfig"]
    assert (hc["NanoCpus"], hc["Memory"], hc["PidsLimit"]) == (10**9, 2 << 30, 512), hc
    hc = info["cache"]["HostConfig"]
    assert (hc["NanoCpus"], hc["Memory"], hc["PidsLimit"]) == (5 * 10**8, 512 << 20, 256), hc
    assert info["database"]["Config"]["User"] in ("999", "999:999"), info["database"]["Config"]

    # the published port is on 127.0.0.1 only, and it serves
    binds = info["frontend"]["HostConfig"]["PortBindings"]["8080/tcp"]
    assert binds == [{"HostIp": "127.0.0.1", "HostPort": str(fe_port)}], binds
    r = http_request("http://127.0.0.1:%d" % fe_port, "GET", "/index.html")
    assert r.status == 200 and "<p>frontend</p>" in r.text, r
    ps = o.ps(name)
    assert ps["frontend"]["status"] == "healthy" and str(fe_port) in json.dumps(ps["frontend"]["ports"]), ps

    # the data tier is on an internal network: the frontend (web only) cannot
    # reach the database, the backend (on both) can
    db_ip = container_ip(info["database"], "%s_data" % name)
    rc, out = dk.exec("%s-backend-1" % name, "nc", "-w", "3", db_ip, "5432")
    assert rc == 0, "backend cannot reach the database at %s:5432: %s" % (db_ip, out)
    rc, out = dk.exec("%s-frontend-1" % name, "nc", "-w", "3", db_ip, "5432")
    assert rc != 0, "frontend reached the database at %s:5432: %s\n%s" % (
        db_ip, out, isolation_rules(dk, "%s_data" % name))
    rc, out = dk.exec("%s-frontend-1" % name, "nc", "-w", "3", "database", "5432")
    assert rc != 0, "frontend reached the database by name: %s" % out
    nets = info["database"]["NetworkSettings"]["Networks"]
    assert set(nets) == {"%s_data" % name}, nets
    _, out, _ = dk.run(["network", "inspect", "%s_data" % name])
    assert json.loads(out)[0]["Internal"] is True

    # down: reverse order, nothing left on the engine
    o.down(name)
    ev = o.events(name)
    stops = [e["service"] for e in ev if e["kind"] == "service.stopped"]
    assert stops.index("frontend") < stops.index("backend") < stops.index("database"), stops
    assert stops.index("backend") < stops.index("cache"), stops
    assert dk.ids("container", "com.docker.compose.project=" + name) == []
    rc, _, _ = dk.run(["network", "inspect", "%s_data" % name], check=False)
    assert rc != 0, "network %s_data still exists after down" % name


def test_killed_container_is_restarted(dorch, dk):
    o = dorch()
    name = unique("kill")
    o.register(o.write(name, """
name: %s
x-commandcenter: {driver: docker}
services:
  cache:
    image: %s
    restart: always
""" % (name, REDIS_IMG)))
    o.up(name)
    o.wait_ready(name, timeout=60)
    cname = "%s-cache-1" % name
    before = dk.inspect(cname)
    mark = max([e["id"] for e in o.events(name)] or [0])
    dk.run(["kill", cname])
    wait_for(lambda: event_id(o.events(name), "service.restarted", "cache", mark), 30,
             "a service.restarted event after docker kill")
    o.wait_status(name, "cache", "healthy", timeout=30)
    after = dk.inspect(cname)
    assert after["State"]["Running"] is True
    assert after["State"]["StartedAt"] != before["State"]["StartedAt"], after["State"]
    assert o.ps(name)["cache"]["restarts"] >= 1, o.ps(name)
    ev = [e for e in o.events(name) if e["id"] > mark and e.get("service") == "cache"]
    exited = [e for e in ev if e["kind"] == "service.exited"]
    assert exited and "137" in exited[0]["message"], ev


def test_unhealthy_restart_then_breaker(dorch, dk):
    o = dorch(config="orchestrator:\n  breaker_restarts: 2\n  breaker_window: 5m\n"
                     "  restart_backoff_max: 2s\n")
    name = unique("flaky")
    o.register(o.write(name, """
name: %(name)s
x-commandcenter: {driver: docker}
services:
  web:
    image: %(bb)s
    command: %(cmd)s
    init: true
    restart: unless-stopped
    x-commandcenter:
      probe: {http: {port: 8080, path: /health}, interval: 300ms, timeout: 1s, retries: 1,
              start_period: 0s, start_interval: 200ms}
      restart_on_unhealthy: {limit: 1, grace: 0s}
  broken:
    image: %(bb)s
    command: %(cmd)s
    init: true
    restart: unless-stopped
    x-commandcenter:
      probe: {http: {port: 8080, path: /missing}, interval: 300ms, timeout: 1s, retries: 1,
              start_period: 0s, start_interval: 200ms}
      restart_on_unhealthy: {limit: 1, grace: 0s}
""" % dict(name=name, bb=BUSYBOX_IMG, cmd=HTTPD % "flaky")))
    o.up(name)
    o.wait_status(name, "web", "healthy", timeout=60)
    cname = "%s-web-1" % name
    started = dk.inspect(cname)["State"]["StartedAt"]
    mark = max(e["id"] for e in o.events(name))
    # the probe starts failing (404): restarted on unhealthy, and the restart
    # (its command makes the file again) makes it healthy
    rc, out = dk.exec(cname, "rm", "/tmp/www/health")
    assert rc == 0, out
    wait_for(lambda: event_id(o.events(name), "service.restarted", "web", mark), 30,
             "web restarted on unhealthy")
    ev = o.events(name)
    assert event_id(ev, "service.unhealthy", "web", mark) < event_id(ev, "service.restarted", "web", mark)
    o.wait_status(name, "web", "healthy", timeout=30)
    assert dk.inspect(cname)["State"]["StartedAt"] != started
    rc, out = dk.exec(cname, "cat", "/tmp/www/health")
    assert rc == 0 and out.strip() == "ok", out

    # the one whose probe never passes trips the breaker and is left alone
    s = o.wait_status(name, "broken", "failed", timeout=90)
    assert s["healthy"] is False and s["message"], s
    ev = o.events(name)
    assert event_id(ev, "service.failed", "broken"), kinds_of(ev, "broken")
    assert len([k for k in kinds_of(ev, "broken") if k == "service.restarted"]) == 2, kinds_of(ev, "broken")
    assert "404" in json.dumps(s["last_outputs"]), s
    n = len(o.events(name))
    time.sleep(2)
    assert [e["kind"] for e in o.events(name)[n:] if e.get("service") == "broken"] == []
    assert o.health(name)["services"]["broken"]["status"] == "failed"
    assert o.health(name)["services"]["web"]["status"] == "healthy"
    assert o.health(name)["overall_healthy"] is False


def test_logs_follow_across_restart_and_tail_of_a_large_log(dorch, dk):
    o = dorch()
    name = unique("logs")
    # ~200 MB in lines of 4000 bytes (docker's json-file log keeps each line as
    # one record), then a last line
    o.register(o.write(name, """
name: %(name)s
x-commandcenter: {driver: docker}
services:
  talker:
    image: %(bb)s
    command: ["sh", "-c", "trap 'exit 0' TERM; echo started $$$$; i=0; while true; do i=$$((i+1)); echo line $$i; sleep 0.1; done"]
    restart: always
  writer:
    image: %(bb)s
    command: ["sh", "-c", "yes $$(head -c 3999 /dev/zero | tr '\\\\0' x) | head -c 200000000; echo last-line; exec sleep 3600"]
    init: true
    stop_grace_period: 1s
""" % dict(name=name, bb=BUSYBOX_IMG)))
    o.up(name)
    o.wait_ready(name, timeout=60)
    s = Streamer(o.d.url, "/api/v1/projects/%s/logs/talker?follow=1&tail=0" % name, o.d.admin_token)
    try:
        assert s.status == 200
        wait_for(lambda: len([x for x in s.snapshot() if x.startswith("line ")]) >= 3, 20,
                 "followed lines")
        dk.run(["kill", "%s-talker-1" % name])
        wait_for(lambda: any(x.startswith("started") for x in s.snapshot()), 40,
                 "the restarted instance's first line in the same stream")
        wait_for(lambda: s.snapshot()[-1].startswith("line "), 10, "lines after the restart")
        lines = s.snapshot()
    finally:
        s.close()
    first = lines.index(next(x for x in lines if x.startswith("started")))
    before = [int(x.split()[1]) for x in lines[:first] if x.startswith("line ")]
    after = [int(x.split()[1]) for x in lines[first:] if x.startswith("line ")]
    assert before == list(range(before[0], before[0] + len(before))), before   # nothing lost
    assert after and after == list(range(1, len(after) + 1)), lines[first:first + 10]
    assert o.ps(name)["talker"]["restarts"] >= 1

    # --tail on the large log: exactly the last 100 lines
    wait_for(lambda: (lambda r: r.text.strip().endswith("last-line"))(
        o.d.admin("GET", "/api/v1/projects/%s/logs/writer?tail=1" % name, timeout=60)),
        180, "the writer's last line", interval=1.0)
    t0 = time.monotonic()
    res = run_cc(["logs", name, "writer", "--tail", "100"], env=cli_env(o), timeout=60)
    took = time.monotonic() - t0
    assert res.returncode == 0, res
    tail = res.stdout.rstrip("\n").split("\n")
    assert len(tail) == 100 and tail[-1] == "last-line", (len(tail), [x[:40] for x in tail[-3:]])
    assert all(x == "x" * 3999 for x in tail[:-1]), [x[:40] for x in tail[:3]]
    r = o.d.admin("GET", "/api/v1/projects/%s/logs/writer?tail=100&format=json" % name)
    rows = [json.loads(x) for x in r.text.strip("\n").split("\n")]
    assert len(rows) == 100 and rows[-1]["line"] == "last-line" and rows[-1]["stream"] == "stdout", rows[-1]
    _, out, _ = dk.run(["inspect", "--format", "{{.LogPath}}", "%s-writer-1" % name])
    size = os.path.getsize(out.strip()) if os.path.exists(out.strip()) else None
    print("tail 100 of the writer's log (%s bytes on the engine) took %.3fs" % (size, took))


def test_limits_applied_and_oom_reported(dorch, dk):
    o = dorch()
    name = unique("lim")
    o.register(o.write(name, """
name: %(name)s
x-commandcenter: {driver: docker}
services:
  limited:
    image: %(bb)s
    command: %(sleeper)s
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 64M, pids: 100}
        reservations: {memory: 16M}
  hog:
    image: %(bb)s
    command: ["sh", "-c", "sleep 1; x=$$(head -c 300000000 /dev/zero | tr '\\\\0' x); echo survived $${#x}"]
    restart: "no"
    deploy:
      resources:
        limits: {memory: 32M}
""" % dict(name=name, bb=BUSYBOX_IMG, sleeper=SLEEPER)))
    o.up(name)
    wait_for(lambda: o.health(name)["services"]["limited"]["status"] == "running", 60, "limited running")
    hc = dk.inspect("%s-limited-1" % name)["HostConfig"]
    assert hc["Memory"] == 64 << 20 and hc["MemorySwap"] == 64 << 20, hc
    assert hc["NanoCpus"] == 5 * 10**8 and hc["PidsLimit"] == 100, hc
    assert hc["MemoryReservation"] == 16 << 20, hc
    r = o.d.admin("GET", "/api/v1/projects/%s/resources" % name)
    assert r.status == 200, r
    lim = r.json["services"]["limited"]
    assert lim["limits"]["memory"] == 64 << 20 and lim["limits"]["pids"] == 100, lim
    assert abs(lim["limits"]["cpus"] - 0.5) < 1e-9 and lim["enforced"] is True, lim
    assert lim["usage"]["memory_limit"] == 64 << 20, lim
    # the pids limit holds inside the container
    rc, out = dk.exec("%s-limited-1" % name, "cat", "/sys/fs/cgroup/pids.max")
    if rc != 0:
        rc, out = dk.exec("%s-limited-1" % name, "cat", "/sys/fs/cgroup/pids/pids.max")
    assert rc == 0 and out.strip() == "100", out

    # the hog is OOM-killed and that is reported
    wait_for(lambda: event_id(o.events(name), "service.oom", "hog"), 60, "a service.oom event")
    st = dk.inspect("%s-hog-1" % name)["State"]
    assert st["OOMKilled"] is True and st["ExitCode"] == 137, st
    ps = wait_for(lambda: (lambda p: p if p["hog"]["exit_code"] == 137 else None)(o.ps(name)), 30,
                  "ps showing the hog's exit 137")
    assert ps["hog"]["status"] in ("exited", "failed"), ps["hog"]
    ev = o.events(name)
    assert event_id(ev, "service.oom", "hog") < event_id(ev, "service.exited", "hog"), kinds_of(ev, "hog")
    r = o.d.admin("GET", "/api/v1/projects/%s/logs/hog?tail=all" % name)
    assert "survived" not in r.text, r.text


def test_hardening_holds_inside_the_container(dorch, dk):
    o = dorch()
    name = unique("hard")
    secret = "s3cr3t-%s" % uuid.uuid4().hex
    f = o.write(name, """
name: %(name)s
x-commandcenter: {driver: docker}
secrets:
  dbpass: {file: ./dbpass.txt}
services:
  app:
    image: %(bb)s
    command: %(sleeper)s
    user: "1000"
    read_only: true
    tmpfs: [/tmp]
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    secrets: [dbpass]
    environment:
      GREETING: hello
""" % dict(name=name, bb=BUSYBOX_IMG, sleeper=SLEEPER), {"dbpass.txt": secret + "\n"})
    os.chmod(f.parent / "dbpass.txt", 0o600)            # root-only on the host
    o.register(f)
    o.up(name)
    o.wait_ready(name, timeout=60)
    c = "%s-app-1" % name
    rc, out = dk.exec(c, "id", "-u")
    assert rc == 0 and out.strip() == "1000", out
    rc, out = dk.exec(c, "sh", "-c", "echo x > /written")
    assert rc != 0 and "Read-only file system" in out, (rc, out)
    rc, out = dk.exec(c, "sh", "-c", "echo x > /tmp/written && cat /tmp/written")
    assert rc == 0 and out.strip() == "x", (rc, out)
    rc, out = dk.exec(c, "sh", "-c", "test -f /run/secrets/dbpass && cat /run/secrets/dbpass")
    assert rc == 0 and out.strip() == secret, (rc, out)
    rc, out = dk.exec(c, "env")
    assert rc == 0 and "GREETING=hello" in out, out
    assert secret not in out and "dbpass" not in out.lower(), out
    rc, out = dk.exec(c, "cat", "/proc/1/status")
    assert rc == 0, out
    status = dict(ln.split(":", 1) for ln in out.splitlines() if ":" in ln)
    assert status["NoNewPrivs"].strip() == "1", status
    assert int(status["CapEff"].strip(), 16) == 0 and int(status["CapBnd"].strip(), 16) == 0, status
    info = dk.inspect(c)
    hc = info["HostConfig"]
    assert hc["ReadonlyRootfs"] is True and hc["CapDrop"] == ["ALL"], hc
    assert any(x.startswith("no-new-privileges") for x in hc["SecurityOpt"]), hc["SecurityOpt"]
    assert "/tmp" in (hc.get("Tmpfs") or {}), hc.get("Tmpfs")
    assert not any(secret in x for x in info["Config"]["Env"]), info["Config"]["Env"]


def test_daemon_killed_readopts_running_stack(dorch, dk, daemon):
    o = dorch()
    name = unique("adopt")
    o.register(o.write(name, """
name: %(name)s
x-commandcenter: {driver: docker}
services:
  cache:
    image: %(redis)s
    restart: always
  web:
    image: %(bb)s
    command: %(cmd)s
    init: true
    restart: always
    depends_on:
      cache: {condition: service_healthy}
    x-commandcenter:
      probe: {http: {port: 8080, path: /health}, %(fast)s}
""" % dict(name=name, redis=REDIS_IMG, bb=BUSYBOX_IMG, cmd=HTTPD % "adopt", fast=FAST_PROBE)))
    o.up(name)
    o.wait_ready(name, timeout=60)
    before = {s: dk.inspect("%s-%s-1" % (name, s)) for s in ("cache", "web")}
    started = len([e for e in o.events(name) if e["kind"] == "service.started"])
    assert started == 2
    last = max(e["id"] for e in o.events(name))
    o.d.kill()                                          # SIGKILL: no clean shutdown
    for s, i in before.items():
        assert dk.inspect(i["Id"])["State"]["Running"] is True, "%s died with the daemon" % s
    o.d = daemon(data_dir=o.d.data_dir, env={"CC_ORCHESTRATOR_DOCKER_HOST": dk.host})
    h = o.wait_ready(name, timeout=60)
    assert h["services"]["web"]["status"] == "healthy", h
    for s, i in before.items():
        now = dk.inspect("%s-%s-1" % (name, s))
        assert now["Id"] == i["Id"], "%s was recreated" % s
        assert now["State"]["StartedAt"] == i["State"]["StartedAt"], "%s was restarted" % s
    new = [e for e in o.events(name) if e["id"] > last]
    assert not [e for e in new if e["kind"] in ("service.started", "service.restarted",
                                                "service.created")], new
    # still supervised: a kill is noticed and repaired
    dk.run(["kill", "%s-cache-1" % name])
    wait_for(lambda: event_id(o.events(name), "service.restarted", "cache", last), 30,
             "a restart of the re-adopted cache")
    o.wait_status(name, "cache", "healthy", timeout=30)


def test_bad_input_answers_clearly(dorch, dk):
    o = dorch()
    bad = o.write(unique("bad"), "name: bad\nx-commandcenter: {driver: docker}\nservices:\n"
                                 "  web:\n    image: %s\n    deploy:\n      resources:\n"
                                 "        limits: {memory: lots}\n" % BUSYBOX_IMG)
    r = o.register(bad, expect=400)
    err = r.json["error"]
    assert err["code"] == "EINVAL" and re.search(r"compose\.yaml:8:\d+", err["message"]), err
    bad2 = o.write(unique("bad2"), "services:\n  web:\n    image: x\n    ports: [\"abc\"]\n")
    r = o.register(bad2, expect=400)
    assert re.search(r"compose\.yaml:4:\d+", r.json["error"]["message"]), r.json
    bad3 = o.write(unique("bad3"), "services:\n  web: [unclosed\n")
    r = o.register(bad3, expect=400)
    assert re.search(r"compose\.yaml:\d+:\d+", r.json["error"]["message"]), r.json
    for path in ("/api/v1/projects/nope", "/api/v1/projects/nope/health",
                 "/api/v1/projects/nope/logs/web", "/api/v1/projects/nope/resources"):
        r = o.d.admin("GET", path)
        assert r.status == 404 and r.json["error"]["code"] == "ENOTFOUND", (path, r)
        assert "nope" in r.json["error"]["message"], (path, r.json)
    name = unique("ok")
    o.register(o.write(name, "name: %s\nx-commandcenter: {driver: docker}\nservices:\n"
                             "  s: {image: %s, command: %s}\n" % (name, BUSYBOX_IMG, SLEEPER)))
    r = o.d.admin("GET", "/api/v1/projects/%s/logs/nosuch" % name)
    assert r.status == 404 and "nosuch" in r.json["error"]["message"], r
    r = o.d.admin("POST", "/api/v1/projects/%s/services/nosuch/restart" % name)
    assert r.status == 404 and "nosuch" in r.json["error"]["message"], r
    o.d.assert_serving()


def test_missing_image_and_taken_port(dorch, dk):
    o = dorch()
    name = unique("img")
    missing = "cc-test/missing-%s:1" % uuid.uuid4().hex[:6]
    o.register(o.write(name, "name: %s\nx-commandcenter: {driver: docker}\nservices:\n"
                             "  ghost: {image: \"%s\"}\n" % (name, missing)))
    o.up(name)
    s = o.wait_status(name, "ghost", "failed", timeout=60)
    s, text = fail_text(o, name, "ghost")
    assert missing in text, text
    assert re.search(r"not found", text) and re.search(r"docker (load|import)|build", text), text
    o.down(name)

    # a published port that something else holds
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        name2 = unique("port")
        o.register(o.write(name2, """
name: %s
x-commandcenter: {driver: docker}
services:
  web:
    image: %s
    command: %s
    init: true
    ports: ["127.0.0.1:%d:8080"]
""" % (name2, BUSYBOX_IMG, HTTPD % "port", port)))
        o.up(name2)
        s = o.wait_status(name2, "web", "failed", timeout=60)
        s, text = fail_text(o, name2, "web")
        assert str(port) in text and "in use" in text, text
        o.d.assert_serving()
    finally:
        holder.close()


def dockerd_sh(cmd, d):
    p = subprocess.run(["bash", str(DOCKERD_SH), cmd, str(d)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, "scripts/dockerd.sh %s %s: %s" % (
        cmd, d, p.stderr.decode("utf-8", "replace")[-2000:])
    return p.stdout.decode().strip()


def point_link(link, host):
    """Points the stable socket path link at the engine's current socket."""
    assert host.startswith("unix://"), host
    tmp = link + ".new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(host[len("unix://"):], tmp)
    os.replace(tmp, link)


def test_engine_stopped_answers_503_then_recovers(dorch, dk, tmp_path):
    # A second private engine of our own, so stopping it disturbs nothing else.
    # Its socket path changes with every start, so the daemon is given a stable
    # symlink to it.
    edir = tmp_path / "engine2"
    link_dir = tempfile.mkdtemp(prefix="ccl.", dir="/tmp")
    link = os.path.join(link_dir, "docker.sock")
    host2 = dockerd_sh("start", edir)
    d2 = Docker(host2)
    name = unique("eng")
    dorch.sweep_on((d2, name))
    try:
        # the test image, copied from the main engine
        save = subprocess.run(["docker", "save", BUSYBOX_IMG], env=dict(os.environ, DOCKER_HOST=dk.host),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert save.returncode == 0, save.stderr
        d2.run(["load"], stdin=save.stdout)
        point_link(link, host2)
        o = dorch(host="unix://" + link)
        o.register(o.write(name, """
name: %s
x-commandcenter: {driver: docker}
services:
  web:
    image: %s
    command: %s
    init: true
    restart: always
    x-commandcenter:
      probe: {http: {port: 8080, path: /health}, %s}
""" % (name, BUSYBOX_IMG, HTTPD % "eng", FAST_PROBE)))
        o.up(name)
        o.wait_ready(name, timeout=60)

        dockerd_sh("stop", edir)
        # the first calls find out (retries, then the breaker opens) ...
        r = wait_for(lambda: (lambda r: r if r.status == 503 else None)(
            o.d.admin("GET", "/api/v1/projects/%s/resources" % name, timeout=60)),
            60, "503 from resources while the engine is down", interval=0.5)
        # ... then every call that needs the engine answers at once
        for method, path in (("GET", "/api/v1/projects/%s/resources" % name),
                             ("POST", "/api/v1/projects/%s/up" % name),
                             ("GET", "/api/v1/projects/%s/logs/web?tail=5" % name)):
            t0 = time.monotonic()
            r = o.d.admin(method, path, timeout=60)
            took = time.monotonic() - t0
            assert r.status == 503, (method, path, r)
            err = r.json["error"]
            assert err["code"] == "EUPSTREAM" and "engine unavailable" in err["message"], err
            assert err.get("hint"), err
            assert took < 1.0, "%s %s took %.2fs while the engine is down" % (method, path, took)
        assert r.header("Retry-After"), r.headers
        o.d.assert_serving()
        # reads that need no engine still answer
        h = o.health(name)
        assert "web" in h["services"], h

        # the engine comes back (at a new socket; the link follows): the project works again
        host2 = dockerd_sh("start", edir)
        d2.host = host2
        point_link(link, host2)
        wait_for(lambda: o.d.admin("GET", "/api/v1/projects/%s/resources" % name).status == 200,
                 60, "resources answering again")
        # the engine stopped the container with itself: the supervisor notices
        # and starts it again
        wait_for(lambda: d2.inspect("%s-web-1" % name)["State"]["Running"], 60,
                 "the container running again")
        h = o.wait_ready(name, timeout=60)
        assert h["services"]["web"]["status"] == "healthy", h
        assert d2.inspect("%s-web-1" % name)["State"]["Running"] is True
        r = o.d.admin("GET", "/api/v1/projects/%s/logs/web?tail=5" % name)
        assert r.status == 200, r
        o.down(name)
        assert d2.ids("container", "com.docker.compose.project=" + name) == []
    finally:
        try:
            if os.path.exists(link):
                d2.sweep(name)
        finally:
            subprocess.run(["bash", str(DOCKERD_SH), "stop", str(edir)], timeout=120)
            for p in (link, link + ".new"):
                if os.path.lexists(p):
                    os.unlink(p)
            os.rmdir(link_dir)
