"""The measuring half of bench/orchestration.sh (read its header first): run by
it with the private engine up and these in the environment: WORK, CC_BIN,
ROOT, OUT, DOCKER_HOST, DOCKERD_PID, BENCH_*; writes OUT and prints a summary.
"""
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

E = os.environ
WORK = E["WORK"]
CC_BIN = E.get("CC_BIN", "")
ONLY = E["BENCH_ONLY"]
PARTS = E["BENCH_PARTS"].split()
RUNS = int(E["BENCH_RUNS"])
LOG_BYTES = int(E["BENCH_LOG_BYTES"])
IDLE_N = int(E["BENCH_IDLE_SERVICES"])
IDLE_S = float(E["BENCH_IDLE_SECONDS"])
IDLE_MODES = E["BENCH_IDLE_MODES"].split()
DB_IMAGE = E["BENCH_DB_IMAGE"]
DOCKER_SOCK = E["DOCKER_HOST"].split("unix://", 1)[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
POLL_S = 0.05
BUSYBOX = "/bin/busybox"
DOCKERD_PID = int(E.get("DOCKERD_PID") or 0)

DC_PROJECT = "benchdc"      # docker-compose's project
CC_PROJECT = "benchcc"      # CommandCenter's (same file)
LOG_PROJECT = "benchlogs"
IDLE_PROJECT = "benchidle"


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


class BenchError(Exception):
    pass


def mono():
    return time.monotonic()


# ------------------------------------------------------------------ engine API
class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("docker", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


class Engine:
    def __init__(self, sock):
        self.sock = sock
        self.conn = None

    def get(self, path):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = UnixHTTPConnection(self.sock)
            try:
                self.conn.request("GET", "/v1.41" + path)
                r = self.conn.getresponse()
                data = r.read()
                if r.status != 200:
                    raise BenchError("engine GET %s -> %d %s" % (path, r.status, data[:200]))
                return json.loads(data)
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def containers(self, project):
        f = json.dumps({"label": ["com.docker.compose.project=%s" % project]})
        return self.get("/containers/json?all=1&filters=" + quote(f))

    def healthy_count(self, project):
        n = 0
        for c in self.containers(project):
            st = self.get("/containers/%s/json" % c["Id"])["State"]
            if (st.get("Health") or {}).get("Status") == "healthy":
                n += 1
        return n


def quote(s):
    from urllib.parse import quote as q
    return q(s, safe="")


ENGINE = Engine(DOCKER_SOCK)


def run(argv, env=None, timeout=600, check=True):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=env, timeout=timeout)
    if check and r.returncode != 0:
        raise BenchError("%s exited %d: %s%s" % (" ".join(argv), r.returncode,
                                                 r.stdout[-2000:], r.stderr[-2000:]))
    return r


def wait_until(pred, timeout, what, interval=POLL_S):
    deadline = mono() + timeout
    while True:
        v = pred()
        if v:
            return v
        if mono() > deadline:
            raise BenchError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ------------------------------------------------------------------ the daemon
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Daemon:
    """A `commandcenter serve` of its own: fresh data directory, loopback port,
    unlimited default resources (docker-compose sets none either)."""

    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(WORK, "daemon-" + name)
        os.makedirs(os.path.join(self.dir, "data"))
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = {"PATH": E["PATH"], "HOME": self.dir, "CC_DATA_DIR": os.path.join(self.dir, "data"),
               "CC_HTTP_LISTEN": "127.0.0.1:%d" % self.port, "CC_LOG_FORMAT": "json",
               "CC_LOG_LEVEL": E["BENCH_LOG_LEVEL"], "CC_HTTP_RATE_LIMIT_RPS": "0",
               "CC_ORCHESTRATOR_DOCKER_HOST": E["DOCKER_HOST"]}
        for role in ("postgres", "redis", "backend", "frontend", "default"):
            for k in ("cpus", "memory", "pids"):
                env["CC_ORCHESTRATOR_LIMITS_%s_%s" % (role.upper(), k.upper())] = "0"
        self.logf = open(os.path.join(self.dir, "daemon.log"), "w")
        self.proc = subprocess.Popen([CC_BIN, "serve"], env=env, stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        with open(os.path.join(WORK, "pids"), "a") as f:
            f.write("%d\n" % self.proc.pid)
        tok = os.path.join(self.dir, "data", "admin.token")
        deadline = mono() + 20
        while True:
            if self.proc.poll() is not None:
                raise BenchError("daemon %s exited at start (%d); its log:\n%s"
                                 % (name, self.proc.returncode, self.tail_log()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/health")
                ok = c.getresponse().status == 200
                c.close()
                if ok and os.path.exists(tok) and os.path.getsize(tok) > 0:
                    break
            except OSError:
                pass
            if mono() > deadline:
                raise BenchError("daemon %s did not answer within 20 s:\n%s" % (name, self.tail_log()))
            time.sleep(0.1)
        with open(tok) as f:
            self.token = f.read().strip()
        self.cli_env = dict(os.environ, CC_SERVER=self.url, CC_TOKEN=self.token)
        self.conn = None
        self.pid = self.proc.pid

    def tail_log(self, n=30):
        try:
            with open(os.path.join(self.dir, "daemon.log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def api(self, method, path, body=None, want=(200,), timeout=120):
        hdrs = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                out = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                break
            except (http.client.HTTPException, OSError):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise BenchError("%s %s: %s%s" % (method, path, sys.exc_info()[1], self.death()))
        if r.status not in want:
            raise BenchError("%s %s -> %d %s" % (method, path, r.status, out[:500]))
        return json.loads(out) if out else None

    def register(self, compose_file, name):
        self.api("POST", "/api/v1/projects", {"compose_file": compose_file, "name": name},
                 want=(201,))

    def health(self, project):
        return self.api("GET", "/api/v1/projects/%s/health" % project)

    def down(self, project):
        self.api("POST", "/api/v1/projects/%s/down" % project, timeout=300)

    def cli(self, *args, timeout=600, check=True):
        try:
            return run([CC_BIN] + list(args), env=self.cli_env, timeout=timeout, check=check)
        except BenchError as ex:
            raise BenchError("%s%s" % (ex, self.death()))

    def death(self):
        """Why the daemon is gone, if it is."""
        rc = self.proc.poll()
        if rc is None:
            return ""
        how = "killed by signal %d" % -rc if rc < 0 else "exited with status %d" % rc
        return "\nthe daemon %s; the end of its log:\n%s" % (how, self.tail_log())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


# ------------------------------------------------------------------ /proc
def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])      # utime, stime


def status_kb(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith(key + ":"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return None


def children_of(pid):
    """Every descendant of pid (the process driver's shims and services)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
            kids.setdefault(int(s[s.rindex(")") + 2:].split()[1]), []).append(int(d))
        except OSError:
            pass
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


# ------------------------------------------------------------------ figures
def summary(xs):
    if not xs:
        return None
    return {"median": round(statistics.median(xs), 4), "min": round(min(xs), 4),
            "max": round(max(xs), 4), "mean": round(statistics.fmean(xs), 4),
            "stdev": round(statistics.stdev(xs), 4) if len(xs) > 1 else 0.0,
            "runs": [round(x, 4) for x in xs]}


def ratio(a, b):
    if a is None or b is None or not b["median"]:
        return None
    return round(a["median"] / b["median"], 3)


# ------------------------------------------------------------------ (a) up
HC = """      interval: 1s
      timeout: 2s
      retries: 3
"""


def db_service():
    if "postgres" in DB_IMAGE:
        return """  database:
    image: %s
    environment:
      POSTGRES_USER: commandcenter
      POSTGRES_PASSWORD: bench
      POSTGRES_DB: commandcenter
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "commandcenter"]
%s    stop_grace_period: 2s
""" % (DB_IMAGE, HC)
    return """  database:
    image: %s
    command: ["redis-server", "--save", "", "--appendonly", "no"]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
%s    stop_grace_period: 2s
""" % (DB_IMAGE, HC)


def web_command(page, body):
    return ('["sh", "-c", "mkdir -p /tmp/www && echo %s > /tmp/www/%s && '
            'exec httpd -f -p 8080 -h /tmp/www"]' % (body, page))


def seeds_stack():
    return ("""# The seeds' four tiers; the same file for docker-compose and CommandCenter.
services:
%s  cache:
    image: cc-test/redis:1
    command: ["redis-server", "--save", "", "--appendonly", "no"]
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
%s    stop_grace_period: 2s
  backend:
    image: cc-test/busybox:1
    command: %s
    depends_on:
      database: {condition: service_healthy}
      cache: {condition: service_healthy}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
%s    stop_grace_period: 1s
  frontend:
    image: cc-test/busybox:1
    command: %s
    depends_on:
      backend: {condition: service_healthy}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
%s    stop_grace_period: 1s
""" % (db_service(), HC, web_command("health", "ok"), HC, web_command("index.html", "hi"), HC))


def write_project(dirname, text):
    d = os.path.join(WORK, dirname)
    os.makedirs(d, exist_ok=True)
    f = os.path.join(d, "compose.yaml")
    with open(f, "w") as fh:
        fh.write(text)
    return f


def assert_gone(project):
    left = ENGINE.containers(project)
    if left:
        raise BenchError("%d containers of %s left after down" % (len(left), project))


def up_compose(f):
    argv = ["docker-compose", "-p", DC_PROJECT, "-f", f]
    t0 = mono()
    run(argv + ["up", "-d"], timeout=300)
    t_ret = mono() - t0
    wait_until(lambda: ENGINE.healthy_count(DC_PROJECT) == 4, 300, "docker-compose's stack healthy")
    t = mono() - t0
    run(argv + ["down"], timeout=300)
    assert_gone(DC_PROJECT)
    return t, t_ret


def up_cc_cli(d):
    t0 = mono()
    d.cli("up", CC_PROJECT, "--wait", "--wait-timeout", "300s", timeout=330)
    t = mono() - t0
    h = d.health(CC_PROJECT)
    if not h.get("overall_healthy"):
        raise BenchError("up --wait returned but the stack is not healthy: %s" % json.dumps(h)[:800])
    d.cli("down", CC_PROJECT, timeout=300)
    assert_gone(CC_PROJECT)
    return t


def up_cc_api(d):
    t0 = mono()
    d.api("POST", "/api/v1/projects/%s/up" % CC_PROJECT, want=(202,))

    def ready():
        h = d.health(CC_PROJECT)
        for name, s in h["services"].items():
            if s.get("status") == "failed":
                raise BenchError("service %s failed: %s" % (name, json.dumps(s)[:800]))
        return h.get("ready") and h.get("overall_healthy")
    wait_until(ready, 300, "CommandCenter's stack healthy")
    t = mono() - t0
    d.down(CC_PROJECT)
    assert_gone(CC_PROJECT)
    return t


def part_up(res):
    f = write_project("stack", seeds_stack())
    d = None
    if ONLY != "peers":
        d = Daemon("up")
        t0 = mono()
        d.register(f, CC_PROJECT)
        res["register_s"] = round(mono() - t0, 4)
    dc, dc_ret, cli, api = [], [], [], []
    tools = []
    if ONLY != "daemon":
        tools.append("docker-compose")
    if d:
        tools += ["cc-cli", "cc-api"]
    try:
        for i in range(RUNS):
            # rotate the order so that no tool always runs first after a down
            order = tools[i % len(tools):] + tools[:i % len(tools)]
            for tool in order:
                time.sleep(1)
                if tool == "docker-compose":
                    t, tr = up_compose(f)
                    dc.append(t)
                    dc_ret.append(tr)
                elif tool == "cc-cli":
                    cli.append(up_cc_cli(d))
                else:
                    api.append(up_cc_api(d))
                log("up run %d/%d %-15s %.3f s" % (i + 1, RUNS, tool,
                                                  {"docker-compose": dc, "cc-cli": cli,
                                                   "cc-api": api}[tool][-1]))
    finally:
        if d:
            res["daemon_exit_status"] = d.stop()
    res.update({
        "stack": {"services": ["database", "cache", "backend", "frontend"],
                  "database_image": DB_IMAGE,
                  "gates": "database+cache healthy -> backend; backend healthy -> frontend",
                  "healthcheck": "interval 1s, timeout 2s, retries 3 (exec probes)",
                  "compose_file": open(f).read()},
        "docker_compose": summary(dc),
        "docker_compose_up_d_returned": summary(dc_ret),
        "commandcenter_cli": summary(cli),
        "commandcenter_api": summary(api),
    })
    res["ratio_cli_vs_compose"] = ratio(res["commandcenter_cli"], res["docker_compose"])
    res["ratio_api_vs_compose"] = ratio(res["commandcenter_api"], res["docker_compose"])


# ------------------------------------------------------------------ (b) logs
LINE = "line of the benchmark log: the quick brown fox jumps over the lazy dog 0123456789 abcdefghij"


def logger_stack():
    # json-file stores about 1.7 bytes per byte written (the JSON wrapping and
    # a timestamp), so writing 0.65 x the target gives a file just over it
    raw = int(LOG_BYTES * 0.65) + 1
    return """services:
  logger:
    image: cc-test/busybox:1
    command: ["sh", "-c", "yes '%s' | head -c %d; echo done; exec sleep 2147483647"]
    stop_grace_period: 1s
""" % (LINE, raw)


def log_path(cid):
    return ENGINE.get("/containers/%s/json" % cid)["LogPath"]


def wait_log(cid):
    """Waits until the log has stopped growing; returns its size."""
    p = log_path(cid)
    last, still, t0 = -1, 0, mono()
    while True:
        size = os.path.getsize(p) if os.path.exists(p) else 0
        if size == last:
            still += 1
            if still >= 4 and size >= LOG_BYTES:
                return p, size
            if still >= 40:
                raise BenchError("the log stopped at %d bytes, below %d" % (size, LOG_BYTES))
        else:
            still = 0
        last = size
        if mono() - t0 > 1200:
            raise BenchError("the log did not reach %d bytes in 20 minutes" % LOG_BYTES)
        time.sleep(0.5)


def time_cmds(cmds):
    """{name: summary in ms}: hyperfine when installed, else a loop."""
    out = {}
    hf = shutil.which("hyperfine")
    if hf:
        j = os.path.join(WORK, "hyperfine.json")
        argv = [hf, "-N", "--warmup", "3", "--runs", "30", "--export-json", j]
        for name, c in cmds:
            argv += ["-n", name, c]
        r = run(argv, timeout=900)
        with open(os.path.join(WORK, "hyperfine.txt"), "w") as fh:
            fh.write(r.stdout)
        for x in json.load(open(j))["results"]:
            out[x["command"]] = summary([t * 1000 for t in x["times"]])
        return out, "hyperfine -N --warmup 3 --runs 30"
    for name, c in cmds:
        argv = c.split()
        for _ in range(3):
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts = []
        for _ in range(30):
            t0 = mono()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ts.append((mono() - t0) * 1000)
        out[name] = summary(ts)
    return out, "a loop of 30 runs after 3 warm-ups"


def part_logs(res):
    f = write_project("logs", logger_stack())
    d = None
    if ONLY != "peers":
        d = Daemon("logs")
        d.register(f, LOG_PROJECT)
        d.api("POST", "/api/v1/projects/%s/up" % LOG_PROJECT, want=(202,))
        cs = wait_until(lambda: ENGINE.containers(LOG_PROJECT), 120, "the logger container")
    else:
        run(["docker-compose", "-p", LOG_PROJECT, "-f", f, "up", "-d"], timeout=300)
        cs = wait_until(lambda: ENGINE.containers(LOG_PROJECT), 120, "the logger container")
    cid = cs[0]["Id"]
    try:
        t0 = mono()
        path, size = wait_log(cid)
        log("logger's log: %d bytes (written in %.0f s)" % (size, mono() - t0))
        hdr = os.path.join(WORK, "auth.hdr")
        cmds = [("docker logs", "docker logs --tail 100 %s" % cid),
                ("engine API (curl)",
                 "curl -sf -o /dev/null --unix-socket %s http://docker/v1.41/containers/%s/logs"
                 "?stdout=1&stderr=1&tail=100" % (DOCKER_SOCK, cid))]
        if d:
            with open(hdr, "w") as fh:
                fh.write("Authorization: Bearer %s\n" % d.token)
            os.chmod(hdr, 0o600)
            os.environ["CC_SERVER"] = d.url
            os.environ["CC_TOKEN"] = d.token
            cmds += [("commandcenter logs", "%s logs %s logger --tail 100" % (CC_BIN, LOG_PROJECT)),
                     ("commandcenter API (curl)",
                      "curl -sf -o /dev/null -H @%s %s/api/v1/projects/%s/logs/logger?tail=100"
                      % (hdr, d.url, LOG_PROJECT))]
            # the same 100 lines as docker's, before anything is timed
            mine = d.cli("logs", LOG_PROJECT, "logger", "--tail", "100").stdout.splitlines()
            theirs = run(["docker", "logs", "--tail", "100", cid]).stdout.splitlines()
            if len(mine) != 100 or not mine[-1].endswith(theirs[-1]):
                raise BenchError("commandcenter logs --tail 100 gave %d lines ending %r; docker "
                                 "logs ends %r" % (len(mine), mine[-1:] , theirs[-1:]))
        times, how = time_cmds(cmds)
        res.update({"log_bytes": size, "log_driver": "json-file", "timing": how,
                    "docker_logs_ms": times.get("docker logs"),
                    "engine_api_ms": times.get("engine API (curl)"),
                    "commandcenter_cli_ms": times.get("commandcenter logs"),
                    "commandcenter_api_ms": times.get("commandcenter API (curl)")})
        res["ratio_cli_vs_docker_logs"] = ratio(res["commandcenter_cli_ms"], res["docker_logs_ms"])
        res["ratio_api_vs_docker_logs"] = ratio(res["commandcenter_api_ms"], res["docker_logs_ms"])
    finally:
        if d:
            d.down(LOG_PROJECT)
            res["daemon_exit_status"] = d.stop()
        else:
            run(["docker-compose", "-p", LOG_PROJECT, "-f", f, "down"], timeout=300, check=False)


# ------------------------------------------------------------------ (c) idle
def idle_stack(mode):
    parts = ["name: %s\n" % IDLE_PROJECT]
    if mode == "process-http":
        parts.append("x-commandcenter: {driver: process}\n")
    parts.append("services:\n")
    ports = []
    for i in range(1, IDLE_N + 1):
        name = "s%02d" % i
        if mode == "process-http":
            port = free_port()
            ports.append(port)
            parts.append("""  %s:
    command: ["%s", "httpd", "-f", "-p", "127.0.0.1:%d", "-h", "%s"]
    stop_grace_period: 1s
    x-commandcenter:
      probe: {http: {port: %d, path: /}, interval: 2s, timeout: 2s, retries: 3}
""" % (name, BUSYBOX, port, os.path.join(WORK, "www"), port))
        elif mode == "docker-http":
            parts.append("""  %s:
    image: cc-test/busybox:1
    command: %s
    stop_grace_period: 1s
    x-commandcenter:
      probe: {http: {port: 8080, path: /}, interval: 2s, timeout: 2s, retries: 3}
""" % (name, web_command("index.html", "hi")))
        else:
            parts.append("""  %s:
    image: cc-test/busybox:1
    command: %s
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 2s
      timeout: 2s
      retries: 3
""" % (name, web_command("index.html", "hi")))
    return "".join(parts)


def part_idle_mode(mode):
    os.makedirs(os.path.join(WORK, "www"), exist_ok=True)
    with open(os.path.join(WORK, "www", "index.html"), "w") as fh:
        fh.write("hi\n")
    f = write_project("idle-" + mode, idle_stack(mode))
    d = Daemon("idle-" + mode)
    out = {"services": IDLE_N, "probe": {"docker-exec": "exec (healthcheck, exec API)",
                                         "docker-http": "HTTP (x-commandcenter.probe)",
                                         "process-http": "HTTP (x-commandcenter.probe)"}[mode],
           "interval_s": 2, "window_s": IDLE_S}
    try:
        d.register(f, IDLE_PROJECT)
        t0 = mono()
        d.cli("up", IDLE_PROJECT, "--wait", "--wait-timeout", "300s", timeout=330)
        out["up_s"] = round(mono() - t0, 3)
        time.sleep(2)
        pid = d.pid
        others = [DOCKERD_PID] if mode.startswith("docker") and DOCKERD_PID else []
        kids = children_of(pid) if mode == "process-http" else []
        rss_peak = 0
        rss_kids_peak = 0
        c0, w0 = cpu_ticks(pid), mono()
        o0 = {p: cpu_ticks(p) for p in others}
        k0 = {}
        for k in kids:
            try:
                k0[k] = cpu_ticks(k)
            except OSError:
                pass
        end = w0 + IDLE_S
        while mono() < end:
            rss_peak = max(rss_peak, status_kb(pid, "VmRSS") or 0)
            if kids:
                rss_kids_peak = max(rss_kids_peak, sum(status_kb(k, "VmRSS") or 0 for k in kids
                                                       if comm(k) != "busybox"))
            time.sleep(min(0.5, max(0.0, end - mono())))
        c1, w1 = cpu_ticks(pid), mono()
        rss_end = status_kb(pid, "VmRSS")
        rss_peak = max(rss_peak, rss_end or 0)
        secs = w1 - w0
        out["cpu_percent"] = round((c1 - c0) / CLK_TCK / secs * 100, 3)
        out["cpu_seconds"] = round((c1 - c0) / CLK_TCK, 3)
        out["rss_peak_bytes"] = rss_peak * 1024
        out["rss_end_bytes"] = (rss_end or 0) * 1024
        out["vmhwm_bytes"] = (status_kb(pid, "VmHWM") or 0) * 1024
        out["threads"] = status_kb(pid, "Threads")
        for p in others:
            out["dockerd_cpu_percent"] = round((cpu_ticks(p) - o0[p]) / CLK_TCK / secs * 100, 3)
        if kids:
            shim = [k for k in k0 if comm(k) != "busybox"]
            svc = [k for k in k0 if comm(k) == "busybox"]

            def cpu_of(ps):
                t = 0
                for k in ps:
                    try:
                        t += cpu_ticks(k) - k0[k]
                    except OSError:
                        pass
                return round(t / CLK_TCK / secs * 100, 3)
            out["shims"] = {"count": len(shim), "cpu_percent": cpu_of(shim),
                            "rss_peak_bytes_total": rss_kids_peak * 1024}
            out["services_cpu_percent"] = cpu_of(svc)
        # the probes kept running through the window
        h = d.health(IDLE_PROJECT)
        stale = ["%s is %s" % (name, s.get("status")) for name, s in h["services"].items()
                 if s.get("status") != "healthy"]
        out["all_healthy_at_end"] = not stale and bool(h.get("overall_healthy"))
        out["checked_at_end"] = sorted({str(s.get("checked_at")) for s in h["services"].values()})[-1:]
        if stale:
            out["not_healthy_at_end"] = stale
    except BaseException:
        try:
            d.down(IDLE_PROJECT)
        except BenchError:
            pass
        d.stop()
        raise
    d.down(IDLE_PROJECT)
    out["daemon_exit_status"] = d.stop()
    return out


def part_idle(res):
    for mode in IDLE_MODES:
        if mode == "process-http" and not os.access(BUSYBOX, os.X_OK):
            res[mode] = {"skipped": "%s not found (apt-get install busybox-static)" % BUSYBOX}
            continue
        log("supervision: %d services, %s, %.0f s" % (IDLE_N, mode, IDLE_S))
        res[mode] = part_idle_mode(mode)
        r = res[mode]
        log("  daemon CPU %.3f %% of a core, RSS peak %.1f MB, end %.1f MB"
            % (r["cpu_percent"], r["rss_peak_bytes"] / 1e6, r["rss_end_bytes"] / 1e6))


# ------------------------------------------------------------------ main
def versions():
    v = {}
    for k, argv in (("docker_compose", ["docker-compose", "version", "--short"]),
                    ("docker_engine", ["docker", "version", "-f", "{{.Server.Version}}"]),
                    ("hyperfine", ["hyperfine", "--version"]),
                    ("commandcenter", [CC_BIN, "version"])):
        try:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               timeout=30)
            v[k] = r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else None
        except (OSError, subprocess.TimeoutExpired):
            v[k] = None
    return v


def main():
    t_start = mono()
    res = {"up": None, "logs": None, "supervision": None}
    if "up" in PARTS:
        res["up"] = {}
        part_up(res["up"])
    if "logs" in PARTS:
        res["logs"] = {}
        part_logs(res["logs"])
    if "idle" in PARTS and ONLY != "peers":
        res["supervision"] = {}
        part_idle(res["supervision"])

    up, lg, sv = res["up"] or {}, res["logs"] or {}, res["supervision"] or {}

    def idle_t(mode, key, limit, desc):
        m = sv.get(mode) or {}
        v = m.get(key)
        met = None if v is None else v < limit
        return {"target": desc, "value": v, "met": met}
    targets = {
        "up_cli_vs_compose": {"target": "CLI up --wait median <= 0.8x docker-compose's",
                              "value": up.get("ratio_cli_vs_compose"),
                              "met": None if up.get("ratio_cli_vs_compose") is None
                              else up["ratio_cli_vs_compose"] <= 0.8},
        "logs_cli_vs_docker": {"target": "commandcenter logs --tail 100 median <= 1.2x docker logs'",
                               "value": lg.get("ratio_cli_vs_docker_logs"),
                               "met": None if lg.get("ratio_cli_vs_docker_logs") is None
                               else lg["ratio_cli_vs_docker_logs"] <= 1.2},
        "logs_api_vs_docker": {"target": "GET .../logs?tail=100 (curl) median <= 1.2x docker logs'",
                               "value": lg.get("ratio_api_vs_docker_logs"),
                               "met": None if lg.get("ratio_api_vs_docker_logs") is None
                               else lg["ratio_api_vs_docker_logs"] <= 1.2},
    }
    for mode in ("docker-exec", "docker-http"):
        targets["idle_cpu_" + mode] = idle_t(mode, "cpu_percent", 1.0,
                                             "daemon CPU < 1%% of a core, %d services, %s"
                                             % (IDLE_N, mode))
        targets["idle_rss_" + mode] = idle_t(mode, "rss_peak_bytes", 20 * 1000 * 1000,
                                             "daemon peak RSS < 20 MB (20,000,000 bytes), %s" % mode)
    checked = [t["met"] for t in targets.values() if t["met"] is not None]
    doc = {
        "benchmark": "orchestration",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "loadavg_1m_before": float(E["LOADAVG_BEFORE"]),
                    "loadavg_1m_after": float(open("/proc/loadavg").read().split()[0])},
        "settings": {"only": ONLY, "parts": PARTS, "runs": RUNS, "poll_interval_s": POLL_S,
                     "engine": "private dockerd (scripts/dockerd.sh), json-file logs",
                     "versions": versions(), "daemon_log_level": E["BENCH_LOG_LEVEL"],
                     "daemon_default_limits": "0 (unlimited, as docker-compose)",
                     "elapsed_s": round(mono() - t_start, 1)},
        "up": res["up"], "logs": res["logs"], "supervision": res["supervision"],
        "targets": targets,
        "all_targets_met": (all(checked) if len(checked) == len(targets) else None),
    }
    out = E["OUT"]
    with open(out + ".tmp", "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    os.replace(out + ".tmp", out)

    print("Orchestration benchmark, %d CPUs, private engine %s" % (os.cpu_count(),
                                                                   doc["settings"]["versions"]["docker_engine"]))
    if res["up"]:
        print("  up -> all healthy (%d runs, 4 services, database: %s)" % (RUNS, DB_IMAGE))
        for k, label in (("docker_compose", "docker-compose up -d + poll"),
                         ("commandcenter_cli", "commandcenter up --wait"),
                         ("commandcenter_api", "POST up + poll /health")):
            s = up.get(k)
            if s:
                print("    %-30s median %6.3f s  (min %.3f, max %.3f)" % (label, s["median"], s["min"], s["max"]))
    if res["logs"]:
        print("  logs --tail 100 on a %.2f GB log (%s)" % (lg.get("log_bytes", 0) / 1e9, lg.get("timing")))
        for k, label in (("docker_logs_ms", "docker logs"), ("engine_api_ms", "engine API (curl)"),
                         ("commandcenter_cli_ms", "commandcenter logs"),
                         ("commandcenter_api_ms", "commandcenter API (curl)")):
            s = lg.get(k)
            if s:
                print("    %-30s median %7.2f ms (min %.2f, max %.2f)" % (label, s["median"], s["min"], s["max"]))
    for mode, m in sv.items():
        if "skipped" in m:
            print("  supervision %s: skipped: %s" % (mode, m["skipped"]))
            continue
        extra = ""
        if "dockerd_cpu_percent" in m:
            extra = "; dockerd %.2f %%" % m["dockerd_cpu_percent"]
        if "shims" in m:
            extra = "; %d shims %.2f %%, %.1f MB" % (m["shims"]["count"], m["shims"]["cpu_percent"],
                                                     m["shims"]["rss_peak_bytes_total"] / 1e6)
        print("  supervision %-13s %d services, %ss probes, %.0f s: daemon CPU %.3f %%, RSS peak %.1f MB, "
              "end %.1f MB%s" % (mode, m["services"], m["interval_s"], m["window_s"], m["cpu_percent"],
                                 m["rss_peak_bytes"] / 1e6, m["rss_end_bytes"] / 1e6, extra))
    for k, t in targets.items():
        state = {True: "MET", False: "MISSED", None: "not measured"}[t["met"]]
        print("  %-12s %-24s %s (value: %s)" % (state, k, t["target"], t["value"]))
    if float(E["LOADAVG_BEFORE"]) > 0.5 * (os.cpu_count() or 1):
        print("  note: load average was %s before the run: other work on this machine skews the figures"
              % E["LOADAVG_BEFORE"])
    print("results: %s" % out)


if __name__ == "__main__":
    try:
        main()
    except BenchError as ex:
        log("error: %s" % ex)
        sys.exit(1)
