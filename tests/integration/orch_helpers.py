"""Helpers shared by the orchestration suites (test_orch_process.py,
test_orch_docker.py): projects registered through the API, waiting on health,
reading events and streams, and cleaning up every project a test started."""

import http.client
import json
import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from conftest import free_port, http_request, run_cc

BUSYBOX = "/bin/busybox"


def wait_for(pred, timeout, what, interval=0.1):
    """Polls pred() until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))


class Orch:
    """Projects of one daemon; every project still up at teardown is taken down."""

    def __init__(self, d, tmp_path):
        self.d = d
        self.tmp = Path(tmp_path)
        self.projects = []

    def write(self, name, text, files=None):
        """Writes compose.yaml (and extra files) into tmp/<name>/ and returns its path."""
        root = self.tmp / name
        root.mkdir(parents=True, exist_ok=True)
        for rel, content in (files or {}).items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)
        f = root / "compose.yaml"
        f.write_text(text)
        return f

    def register(self, compose_file, name=None, expect=201):
        body = {"compose_file": str(compose_file)}
        if name:
            body["name"] = name
        r = self.d.admin("POST", "/api/v1/projects", json_body=body)
        assert r.status == expect, "registering %s: %r" % (compose_file, r)
        if r.status == 201:
            self.projects.append(r.json["project"]["name"])
        return r

    def up(self, name):
        r = self.d.admin("POST", "/api/v1/projects/%s/up" % name)
        assert r.status == 202, "up %s: %r" % (name, r)
        return r.json

    def down(self, name, timeout=60):
        r = self.d.admin("POST", "/api/v1/projects/%s/down" % name, timeout=timeout)
        assert r.status == 200, "down %s: %r" % (name, r)
        return r.json

    def health(self, name):
        r = self.d.admin("GET", "/api/v1/projects/%s/health" % name)
        assert r.status == 200, "health %s: %r" % (name, r)
        return r.json

    def ps(self, name):
        r = self.d.admin("GET", "/api/v1/projects/%s/ps" % name)
        assert r.status == 200, "ps %s: %r" % (name, r)
        return {s["service"]: s for s in r.json["services"]}

    def wait_ready(self, name, timeout=60):
        return wait_for(lambda: (lambda h: h if h.get("ready") else None)(self.health(name)),
                        timeout, "project %s ready" % name)

    def wait_status(self, name, service, statuses, timeout=60):
        if isinstance(statuses, str):
            statuses = (statuses,)
        return wait_for(lambda: (lambda s: s if s["status"] in statuses else None)(
            self.health(name)["services"][service]), timeout,
            "%s/%s in %s" % (name, service, statuses))

    def events(self, project=None, after=0):
        out = []
        while True:
            r = self.d.admin("GET", "/api/v1/events?after=%d&limit=1000" % after)
            assert r.status == 200, r
            ev = r.json["events"]
            out.extend(e for e in ev if project is None or e.get("project") == project)
            if len(ev) < 1000:
                return out
            after = ev[-1]["id"]

    def cleanup(self):
        for name in self.projects:
            try:
                self.d.admin("POST", "/api/v1/projects/%s/down" % name, timeout=120)
            except OSError:
                pass


@pytest.fixture
def orch(daemon, tmp_path):
    """(daemon, Orch) with projects taken down at the end."""
    made = []

    def make(**kw):
        d = daemon(**kw)
        o = Orch(d, tmp_path)
        made.append(o)
        return o

    yield make
    for o in made:
        if o.d.alive():
            o.cleanup()


def stream_lines(base_url, path, token, until, timeout=30.0):
    """Reads a streamed answer line by line until until(lines) is true; returns
    the lines. Fails on timeout."""
    m = re.match(r"^http://([^:/]+):(\d+)", base_url)
    conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=timeout)
    conn.request("GET", path, headers={"Authorization": "Bearer " + token})
    resp = conn.getresponse()
    assert resp.status == 200, "stream %s: %s %r" % (path, resp.status, resp.read()[:500])
    lines = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            raw = resp.readline()
            if not raw:
                break
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
            if until(lines):
                return lines
    finally:
        conn.close()
    raise AssertionError("stream %s ended or timed out before the condition; lines: %r"
                         % (path, lines[-20:]))


class Streamer(threading.Thread):
    """Reads a streamed answer in the background into .lines."""

    def __init__(self, base_url, path, token, headers=None):
        super().__init__(daemon=True)
        m = re.match(r"^http://([^:/]+):(\d+)", base_url)
        self.conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=120)
        hdrs = {"Authorization": "Bearer " + token}
        hdrs.update(headers or {})
        self.conn.request("GET", path, headers=hdrs)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.lines = []
        self.lock = threading.Lock()
        self.start()

    def run(self):
        try:
            for raw in iter(self.resp.readline, b""):
                with self.lock:
                    self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        self.conn.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
