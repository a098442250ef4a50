"""Operations: one daemon per data directory, systemd readiness and watchdog
(sd_notify), the systemd unit, `make install`, backup and restore."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CC_BIN, REPO, run_cc, clean_env


def test_second_daemon_on_same_data_dir_is_refused_naming_the_first(daemon, tmp_path):
    data = tmp_path / "shared"
    d1 = daemon(data_dir=data)
    d2 = daemon(data_dir=data, wait=False)
    rc = d2.wait_exit(timeout=30)
    assert rc is not None, "a second daemon on the same data directory kept running"
    assert rc == 1, d2.stderr_text()
    err = d2.stderr_text()
    assert "another daemon (pid %d)" % d1.proc.pid in err, err[-2000:]
    assert str(data) in err, err[-2000:]
    assert "hint:" in err
    d1.assert_serving()
    # The lock goes with its holder: once the first stops, a new one starts.
    assert d1.stop() == 0
    d3 = daemon(data_dir=data)
    d3.assert_serving()


def test_lock_is_released_when_the_holder_is_killed(daemon, tmp_path):
    data = tmp_path / "killed"
    d1 = daemon(data_dir=data)
    d1.kill()
    d2 = daemon(data_dir=data)
    d2.assert_serving()


# --------------------------------------------------------------------------
# systemd: sd_notify readiness, watchdog and stopping

class NotifySocket:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages:
                if pred(m):
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.0fs; got %r" % (what, timeout, self.messages))
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass

    def close(self):
        self.sock.close()


def lines_of(msg):
    return msg.split("\n")


def test_sd_notify_ready_watchdog_and_stopping(daemon, tmp_path):
    ns = NotifySocket(tmp_path / "notify.sock")
    try:
        d = daemon(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "400000"}, wait=False)
        ready = ns.wait_for(lambda m: "READY=1" in lines_of(m), 60, "READY=1")
        # READY=1 is sent once the store and HTTP are up: /ready answers now.
        d.wait_listening()
        assert "STATUS=serving on %s" % d.url in lines_of(ready), ready
        r = d.get("/ready")
        assert r.status == 200, r
        before = len(ns.messages)
        ns.wait_for(lambda m: m == "WATCHDOG=1" and ns.messages.index(m) >= before, 30,
                    "WATCHDOG=1 after READY=1")
        # Pings keep coming at about WATCHDOG_USEC/2.
        n = ns.messages.count("WATCHDOG=1")
        ns.wait_for(lambda m: ns.messages.count("WATCHDOG=1") > n, 30, "a second WATCHDOG=1")
        d.proc.send_signal(signal.SIGTERM)
        ns.wait_for(lambda m: "STOPPING=1" in lines_of(m), 30, "STOPPING=1")
        assert d.stop() == 0
        assert any(e.get("msg") == "systemd watchdog on" and e.get("interval_ms") == 200
                   for e in d.logs()), d.stderr_text()[-2000:]
    finally:
        ns.close()


def test_no_watchdog_pings_without_watchdog_usec(daemon, tmp_path):
    ns = NotifySocket(tmp_path / "notify.sock")
    try:
        d = daemon(env={"NOTIFY_SOCKET": ns.path})
        ns.wait_for(lambda m: "READY=1" in lines_of(m), 60, "READY=1")
        # Ask /health twice: had a watchdog thread been started at READY, its
        # first ping would come with or before the daemon's first answers.
        d.assert_serving()
        d.proc.send_signal(signal.SIGTERM)
        ns.wait_for(lambda m: "STOPPING=1" in lines_of(m), 30, "STOPPING=1")
        assert d.stop() == 0
        assert "WATCHDOG=1" not in ns.messages, ns.messages
        assert not any(e.get("msg") == "systemd watchdog on" for e in d.logs())
    finally:
        ns.close()


def test_watchdog_pid_of_another_process_is_ignored(daemon, tmp_path):
    ns = NotifySocket(tmp_path / "notify.sock")
    try:
        d = daemon(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "100000",
                        "WATCHDOG_PID": str(os.getpid())})
        ns.wait_for(lambda m: "READY=1" in lines_of(m), 60, "READY=1")
        d.assert_serving()
        d.proc.send_signal(signal.SIGTERM)
        ns.wait_for(lambda m: "STOPPING=1" in lines_of(m), 30, "STOPPING=1")
        assert d.stop() == 0
        assert "WATCHDOG=1" not in ns.messages, ns.messages
        assert not any(e.get("msg") == "systemd watchdog on" for e in d.logs())
    finally:
        ns.close()


UNIT = REPO / "deploy" / "systemd" / "commandcenter.service"


def systemd_analyze():
    exe = shutil.which("systemd-analyze")
    if not exe:
        pytest.skip("systemd-analyze is not installed (scripts/deps.sh test installs systemd)")
    return exe


def unit_settings(text):
    out = {}
    for ln in text.splitlines():
        if "=" in ln and not ln.startswith(("#", "[")):
            k, v = ln.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_systemd_unit_verifies_and_is_hardened(tmp_path):
    exe = systemd_analyze()
    unit = tmp_path / "commandcenter.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/commandcenter", CC_BIN))
    p = subprocess.run([exe, "verify", "--man=no", str(unit)], cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert p.returncode == 0 and not p.stdout.strip(), p.stdout.decode()
    s = unit_settings(UNIT.read_text())
    for key, want in (("Type", "notify"), ("User", "commandcenter"), ("ProtectSystem", "strict"),
                      ("StateDirectory", "commandcenter"), ("Delegate", "yes"),
                      ("NoNewPrivileges", "yes"), ("CapabilityBoundingSet", "")):
        assert s.get(key) == [want], "%s=%r, want %r" % (key, s.get(key), want)
    p = subprocess.run([exe, "security", "--offline=yes", str(unit)], cwd=str(tmp_path),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", p.stdout.decode())
    assert m, p.stdout.decode()[-2000:]
    # 10 is an unhardened service; systemd calls below 2 "OK".
    assert float(m.group(1)) < 2.0, p.stdout.decode()[-4000:]


# --------------------------------------------------------------------------
# make install

def listed_commands():
    out = run_cc(["--help"]).stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [ln.split()[0] for ln in block.splitlines() if ln.strip()]
    assert "serve" in names and "version" in names and len(names) >= 20, names
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`make install DESTDIR=... PREFIX=/usr` from the build CC_BIN belongs to
    (-o build: use that build as it is, do not reconfigure it)."""
    dest = tmp_path_factory.mktemp("destdir")
    build = str(Path(CC_BIN).parent)
    p = subprocess.run(["make", "-o", "build", "install", "BUILD=" + build,
                        "DESTDIR=" + str(dest), "PREFIX=/usr"], cwd=str(REPO),
                       env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    assert p.returncode == 0, p.stdout.decode()[-4000:]
    return dest


def test_install_lays_out_binary_unit_config_and_man_pages(installed):
    dest = installed
    exe = dest / "usr/bin/commandcenter"
    assert os.access(str(exe), os.X_OK)
    p = subprocess.run([str(exe), "version"], stdout=subprocess.PIPE, env=clean_env(),
                       timeout=60)
    assert p.returncode == 0 and p.stdout.startswith(b"commandcenter "), p
    sections = subprocess.run(["readelf", "-S", str(exe)], stdout=subprocess.PIPE,
                              timeout=60).stdout.decode()
    assert ".symtab" not in sections and ".debug_info" not in sections, "binary not stripped"
    unit = (dest / "usr/lib/systemd/system/commandcenter.service").read_text()
    assert unit_settings(unit)["ExecStart"] == [
        "/usr/bin/commandcenter serve --config /etc/commandcenter/commandcenter.yml"]
    assert (dest / "usr/lib/sysusers.d/commandcenter.conf").read_text().startswith("#")
    example = (dest / "usr/share/doc/commandcenter/commandcenter.example.yml").read_text()
    assert example == run_cc(["config-example"]).stdout
    assert example == (REPO / "deploy/commandcenter.example.yml").read_text()
    etc = dest / "etc/commandcenter/commandcenter.yml"
    assert etc.read_text() == example
    r = run_cc(["serve", "--check-config", "--config", str(etc)])
    assert r.returncode == 0 and "valid" in r.stdout, r
    man = dest / "usr/share/man/man1"
    want = {"commandcenter.1"} | {"commandcenter-%s.1" % c for c in listed_commands()}
    assert {p.name for p in man.iterdir()} == want


def test_every_man_page_renders_without_warnings(installed):
    groff = shutil.which("groff")
    if not groff:
        pytest.skip("groff is not installed (scripts/deps.sh test installs groff-base)")
    man = installed / "usr/share/man/man1"
    for page in sorted(man.iterdir()):
        p = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", str(page)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert p.returncode == 0 and not p.stderr, "%s: %s" % (page.name, p.stderr.decode())
        text = subprocess.run([groff, "-man", "-Tutf8", "-P-c", str(page)],
                              stdout=subprocess.PIPE, timeout=60).stdout.decode()
        text = re.sub(r".\x08", "", text)
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
            assert "\n" + section in text, "%s lacks %s:\n%s" % (page.name, section, text)
    # A command's page says what its --help says.
    text = subprocess.run([groff, "-man", "-Tutf8", "-P-cbou",
                           str(man / "commandcenter-cron.1")],
                          stdout=subprocess.PIPE, timeout=60).stdout.decode()
    assert "commandcenter cron next 'EXPR'" in text, text
    assert "--tz ZONE" in text and "evaluate in this IANA time zone" in text, text


def test_installed_unit_verifies_with_its_man_pages(installed, tmp_path):
    exe = systemd_analyze()
    unit = (installed / "usr/lib/systemd/system/commandcenter.service").read_text()
    # The binary is under DESTDIR, not yet at /usr/bin; the man pages are
    # looked up where install put them (Documentation=man:... is checked).
    local = tmp_path / "commandcenter.service"
    local.write_text(unit.replace("/usr/bin/commandcenter",
                                  str(installed / "usr/bin/commandcenter")))
    env = clean_env({"MANPATH": str(installed / "usr/share/man")})
    p = subprocess.run([exe, "verify", str(local)], cwd=str(tmp_path), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert p.returncode == 0 and not p.stdout.strip(), p.stdout.decode()
