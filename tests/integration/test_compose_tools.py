"""`commandcenter config` and `commandcenter lint`: offline tools over Compose files.

Where Debian's docker-compose 1.29 is installed, selected normalized fields are
compared with its `config` output (it prints YAML in the v1 shape, so the
comparison is semantic, not textual)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cc

DATA = Path(__file__).resolve().parent / "data" / "compose"
BROKEN = {
    "cycle.yaml": (10, 18, "dependency cycle: a -> b -> c -> a"),
    "unknown_dep.yaml": (4, 18, "unknown service 'nope'"),
    "undefined_network.yaml": (4, 16, "network 'missing' is not defined"),
    "undefined_secret.yaml": (4, 15, "secret 'missing' is not defined"),
    "undefined_volume.yaml": (2, 3, "volume 'data' is not defined"),
    "no_image.yaml": (2, 3, "set 'image:' or 'build:' (or, for the process driver, 'command:')"),
    "bad_port.yaml": (4, 13, "invalid port"),
    "bad_restart.yaml": (4, 14, "is not a restart policy"),
    "bad_duration.yaml": (5, 17, "1m30s"),
    "bad_memory.yaml": (7, 19, "512m"),
    "required_var.yaml": (3, 12, "required variable MUST is missing: please set MUST"),
    "bad_yaml.yaml": (4, 1, "invalid YAML"),
}


def config(path, env=None):
    res = run_cc(["config", path], env=env)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_four_service_stack_is_normalized():
    d = config(DATA / "stack" / "compose.yaml")
    assert d["name"] == "ccstack"
    assert set(d["services"]) == {"postgres", "redis", "backend", "frontend"}
    be = d["services"]["backend"]
    assert be["depends_on"]["postgres"] == {"condition": "service_healthy", "required": True}
    assert be["healthcheck"]["interval"] == "1m30s"
    assert be["stop_grace_period"] == "1m30s"
    assert be["ports"] == [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 8000,
                            "published": "8000", "protocol": "tcp"}]
    assert be["deploy"]["resources"]["limits"]["memory"] == "1073741824"
    assert d["services"]["redis"]["healthcheck"]["test"] == ["CMD-SHELL", "redis-cli ping"]
    assert d["services"]["frontend"]["depends_on"]["backend"]["condition"] == "service_started"
    assert d["networks"]["data"]["internal"] is True
    assert d["secrets"]["db_password"]["file"].endswith("/stack/secrets/db_password.txt")


def test_interpolation_env_overrides_dotenv():
    d = config(DATA / "interp" / "compose.yaml", env={"OVERRIDE_ME": "from-env", "PORT": "9090"})
    web = d["services"]["web"]
    assert web["image"] == "docker.io/library/nginx:1.25"
    env = web["environment"]
    assert env["PRICE"] == "$5"
    assert env["NESTED"] == "deep"
    assert env["FROM_DOTENV"] == "from dotenv"
    assert env["OVERRIDDEN"] == "from-env"
    assert env["GREETING"] == "hello"          # environment wins over env_file
    assert env["FROM_ENV_FILE"] == "yes"
    assert web["ports"][0]["published"] == "9090"
    assert d["name"] == "interp"


def test_anchors_and_merge_keys():
    d = config(DATA / "anchors" / "compose.yaml")
    api, worker = d["services"]["api"], d["services"]["worker"]
    assert api["restart"] == "always" and worker["restart"] == "no"
    assert api["labels"] == {"team": "core"}
    assert api["healthcheck"]["interval"] == "30s"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_name_the_place(name):
    line, col, text = BROKEN[name]
    res = run_cc(["config", DATA / "broken" / name])
    assert res.returncode == 1
    assert "%s:%d:%d:" % (name, line, col) in res.stderr
    assert text in res.stderr


def test_unsupported_keys_are_warned():
    res = run_cc(["config", DATA / "unsupported.yaml"])
    assert res.returncode == 0
    assert "unsupported key 'ulimits'" in res.stderr
    assert "unsupported key 'mem_swappiness'" in res.stderr


def test_usage_errors_exit_2():
    assert run_cc(["config"]).returncode == 2
    assert run_cc(["lint"]).returncode == 2


def test_lint_hardened_passes_unhardened_fails():
    ok = run_cc(["lint", DATA / "stack" / "compose.yaml", "--json"])
    assert ok.returncode == 0, ok.stdout
    rep = json.loads(ok.stdout)
    assert rep["summary"]["fail"] == 0
    bad = run_cc(["lint", DATA / "unhardened" / "compose.yaml", "--json"])
    assert bad.returncode == 1
    rep = json.loads(bad.stdout)
    status = {c["id"]: c["status"] for c in rep["services"]["app"]["checks"]}
    for cid in ("privileged", "host-network", "docker-socket", "cap-add", "env-secrets"):
        assert status[cid] == "FAIL"
    assert status["image-tag"] == "WARN" and status["root-user"] == "WARN"
    table = run_cc(["lint", DATA / "unhardened" / "compose.yaml"])
    assert table.returncode == 1 and "FAIL" in table.stdout


def test_lint_counts_an_own_probe_as_a_healthcheck():
    """The demo's backend has no Compose healthcheck test, only an
    x-commandcenter HTTP probe: CommandCenter does check its health."""
    demo = DATA.parents[3] / "deploy" / "demo" / "compose.yaml"
    rep = json.loads(run_cc(["lint", demo, "--json"]).stdout)
    checks = {c["id"]: c for c in rep["services"]["backend"]["checks"]}
    assert checks["healthcheck"]["status"] == "PASS"
    assert "x-commandcenter http probe" in checks["healthcheck"]["message"]


@pytest.mark.parametrize("path", [DATA / "anchors" / "compose.yaml",
                                  DATA / "unhardened" / "compose.yaml"])
def test_agrees_with_docker_compose(path):
    """docker-compose 1.29 knows no top-level `name`, so the stack fixture is not compared."""
    # Both come from scripts/deps.sh (test): a missing one is a failure, not a skip.
    assert shutil.which("docker-compose"), "docker-compose is not installed (scripts/deps.sh test)"
    import yaml
    p = subprocess.run(["docker-compose", "-f", str(path), "config"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, "docker-compose config failed: %s" % p.stderr[-300:]
    ref = yaml.safe_load(p.stdout)
    ours = config(path)
    assert set(ref["services"]) == set(ours["services"])
    for name, svc in ref["services"].items():
        mine = ours["services"][name]
        assert svc.get("image") == mine.get("image")
        assert set(svc.get("depends_on", {})) == set(mine.get("depends_on", {}))
        # v1 leaves the implicit "default" network out; v2 (our model) lists it
        assert set(svc.get("networks", {})) == set(mine.get("networks", {})) - {"default"}
        if "environment" in svc:
            assert {k: str(v) for k, v in svc["environment"].items()} == mine["environment"]


def test_config_reads_stdin_and_refuses_fifos(tmp_path):
    """`config -` reads standard input (docker compose -f -); a FIFO is
    refused at once instead of waiting for a writer."""
    import os
    import subprocess
    from conftest import CC_BIN, clean_env
    res = subprocess.run([CC_BIN, "config", "-"], input=b"services:\n  a: {image: x}\n",
                         capture_output=True, timeout=60, env=clean_env(), cwd=str(tmp_path))
    assert res.returncode == 0, res
    assert b'"a"' in res.stdout, res
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(str(fifo))
    res = subprocess.run([CC_BIN, "config", str(fifo)], capture_output=True,
                         timeout=60, env=clean_env())
    assert res.returncode == 1 and b"not a regular file" in res.stderr, res
