"""The command-line client against a running daemon: output, JSON mode, exit
statuses (0 ok, 1 server/network error, 2 usage) and helpful errors."""

import json
import re

import pytest

from conftest import TOKEN_RE, free_port, run_cc

HELP_COMMANDS = [
    [],
    ["serve"],
    ["version"],
    ["status"],
    ["tokens"],
    ["tokens", "list"],
    ["tokens", "create"],
    ["tokens", "rm"],
    ["events"],
]


def client(d, token=None):
    """Environment for a client talking to daemon d."""
    return {"CC_SERVER": d.url, "CC_TOKEN": token if token is not None else d.admin_token}


def test_version_prints_a_version():
    res = run_cc(["version"])
    assert res.returncode == 0, res
    m = re.search(r"\b(\d+\.\d+\.\d+)\b", res.stdout)
    assert m, res.stdout
    j = run_cc(["version", "--json"])
    assert j.returncode == 0, j
    doc = j.json
    assert doc["version"] == m.group(1), (doc, res.stdout)


@pytest.mark.parametrize("cmd", HELP_COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_for_every_command(cmd):
    res = run_cc(cmd + ["--help"])
    assert res.returncode == 0, res
    assert re.search(r"usage", res.stdout, re.I), res
    assert "commandcenter" in res.stdout
    if cmd:
        assert cmd[-1] in res.stdout, "help of %s does not name it: %r" % (cmd, res.stdout)


@pytest.mark.parametrize("args", [
    ["no-such-command"],
    ["status", "--no-such-flag"],
    ["tokens", "frobnicate"],
    ["tokens", "create"],                       # NAME missing
    ["tokens", "create", "x", "--scope"],       # value missing
    ["tokens", "rm"],                           # ID missing
    ["events", "--limit"],
])
def test_usage_errors_exit_2(args, tmp_path):
    res = run_cc(args, env={"CC_SERVER": "http://127.0.0.1:%d" % free_port(),
                            "CC_TOKEN": "cc_" + "A" * 43})
    assert res.returncode == 2, res
    assert res.stderr.strip(), "usage error without a message"


@pytest.mark.parametrize("args, said", [
    (["stauts"], "did you mean 'status'"),
    (["lgos", "p", "s"], "did you mean 'logs'"),
    (["up", "p", "--bogus"], "unknown option '--bogus'"),
    (["logs", "p", "s", "--tail"], "'--tail' needs a value"),
    (["up", "p", "--tail", "5"], "'--tail' does not apply"),
    (["up"], "missing argument"),
    (["down", "p", "extra"], "unexpected argument 'extra'"),
])
def test_usage_errors_name_the_problem(args, said):
    """A mistyped command gets a suggestion and a bad flag is named, as git
    and docker compose do."""
    res = run_cc(args, env={"CC_SERVER": "http://127.0.0.1:%d" % free_port(),
                            "CC_TOKEN": "cc_" + "A" * 43})
    assert res.returncode == 2, res
    assert said in res.stderr, res


def test_up_detach_is_accepted(tmp_path):
    """`up -d` (docker compose habit) is accepted: the failure is the daemon
    being unreachable, not a usage error."""
    res = run_cc(["up", "-d", "p"], env={"CC_SERVER": "http://127.0.0.1:%d" % free_port(),
                                         "CC_TOKEN": "cc_" + "A" * 43})
    assert res.returncode == 1 and "cannot reach the daemon" in res.stderr, res


def test_tokens_create_list_rm(served):
    env = client(served)
    res = run_cc(["tokens", "create", "cli-human", "--scope", "read"], env=env)
    assert res.returncode == 0, res
    found = re.findall(r"cc_[A-Za-z0-9_-]{43}", res.stdout)
    assert found, "the new token must be shown once: %r" % res.stdout
    human_token = found[0]
    assert served.get("/api/v1/status", token=human_token).status == 200

    res = run_cc(["tokens", "create", "cli-json", "--scope", "admin", "--json"], env=env)
    assert res.returncode == 0, res
    t = res.json
    assert t["name"] == "cli-json" and t["scope"] == "admin" and TOKEN_RE.match(t["token"])

    res = run_cc(["tokens", "list"], env=env)
    assert res.returncode == 0, res
    assert "cli-human" in res.stdout and "cli-json" in res.stdout
    assert human_token not in res.stdout and t["token"] not in res.stdout

    res = run_cc(["tokens", "list", "--json"], env=env)
    assert res.returncode == 0, res
    byname = {x["name"]: x for x in res.json["tokens"]}
    assert byname["cli-json"]["id"] == t["id"]
    assert byname["cli-human"]["scope"] == "read"

    res = run_cc(["tokens", "rm", str(t["id"])], env=env)
    assert res.returncode == 0, res
    names = [x["name"] for x in run_cc(["tokens", "list", "--json"], env=env).json["tokens"]]
    assert "cli-json" not in names and "cli-human" in names
    assert served.get("/api/v1/status", token=t["token"]).status == 401

    # removing it again: the server says 404 -> exit 1 with a message
    res = run_cc(["tokens", "rm", str(t["id"])], env=env)
    assert res.returncode == 1, res
    assert res.stderr.strip()

    # a duplicate name -> exit 1
    res = run_cc(["tokens", "create", "cli-human"], env=env)
    assert res.returncode == 1, res
    assert res.stderr.strip()


def test_tokens_create_defaults_to_read_scope(served):
    res = run_cc(["tokens", "create", "default-scope", "--json"], env=client(served))
    assert res.returncode == 0, res
    assert res.json["scope"] == "read"


def test_read_token_cannot_create_tokens(served):
    reader = served.create_token("cli-reader")["token"]
    res = run_cc(["tokens", "create", "nope"], env=client(served, reader))
    assert res.returncode == 1, res
    assert res.stderr.strip()


def test_status(served):
    res = run_cc(["status"], env=client(served))
    assert res.returncode == 0, res
    ver = run_cc(["version", "--json"]).json["version"]
    assert ver in res.stdout, res.stdout
    res = run_cc(["status", "--json"], env=client(served))
    assert res.returncode == 0, res
    assert res.json["version"] == ver


def test_server_flag_wins_over_env(served):
    env = {"CC_SERVER": "http://127.0.0.1:%d" % free_port(), "CC_TOKEN": served.admin_token}
    res = run_cc(["status", "--server", served.url, "--json"], env=env)
    assert res.returncode == 0, res


def test_token_file(served, tmp_path):
    f = tmp_path / "tok"
    f.write_text(served.admin_token + "\n")
    f.chmod(0o600)
    res = run_cc(["status", "--json"], env={"CC_SERVER": served.url, "CC_TOKEN_FILE": str(f)})
    assert res.returncode == 0, res


def test_events(daemon):
    """Newest first, paged back with --before; says on stderr when older ones
    exist; --after pages forward, oldest first."""
    first = daemon()
    assert first.stop() == 0                 # started, stopped, started: three events
    served = daemon(data_dir=first.data_dir)
    res = run_cc(["events"], env=client(served))
    assert res.returncode == 0, res
    res = run_cc(["events", "--limit", "1"], env=client(served))
    assert res.returncode == 0 and "older events: commandcenter events --before" in res.stderr, res
    res = run_cc(["events", "--json", "--limit", "2"], env=client(served))
    assert res.returncode == 0, res
    doc = res.json
    ids = [e["id"] for e in doc["events"]]
    assert len(ids) == 2 and ids == sorted(ids, reverse=True), doc
    assert doc["more"] is True and doc["next_before"] == ids[-1], doc
    res = run_cc(["events", "--json", "--before", str(doc["next_before"])], env=client(served))
    assert res.returncode == 0, res
    assert res.json["events"] and all(e["id"] < ids[-1] for e in res.json["events"]), res.json
    res = run_cc(["events", "--json", "--after", str(ids[-1])], env=client(served))
    assert res.returncode == 0, res
    later = [e["id"] for e in res.json["events"]]
    assert later == sorted(later) and ids[0] in later and ids[-1] not in later, res.json
    res = run_cc(["events", "--after", "1", "--before", "5"], env=client(served))
    assert res.returncode == 2, res


def test_unreachable_server_exits_1_with_hint():
    port = free_port()
    res = run_cc(["status"], env={"CC_SERVER": "http://127.0.0.1:%d" % port,
                                  "CC_TOKEN": "cc_" + "A" * 43})
    assert res.returncode == 1, res
    assert "127.0.0.1:%d" % port in res.stderr, res.stderr
    assert re.search(r"hint|serve|running|--server|CC_SERVER", res.stderr, re.I), \
        "no hint on how to fix it: %r" % res.stderr


def test_missing_token_exits_1_and_names_cc_token(served):
    res = run_cc(["status"], env={"CC_SERVER": served.url})
    assert res.returncode == 1, res
    assert "CC_TOKEN" in res.stderr, res.stderr


def test_bad_token_exits_1(served):
    res = run_cc(["status"], env=client(served, "cc_" + "B" * 43))
    assert res.returncode == 1, res
    assert re.search(r"401|token|auth", res.stderr, re.I), res.stderr


def test_errors_go_to_stderr_not_stdout(served):
    res = run_cc(["tokens", "rm", "999999"], env=client(served))
    assert res.returncode == 1, res
    assert res.stderr.strip()
    assert not res.stdout.strip(), res.stdout


def test_client_commands_wait_out_the_rate_limit(daemon):
    """Every client command retries a 429 after the server's Retry-After
    (bounded), so a script's second call in a row does not fail."""
    d = daemon(config="http:\n  rate_limit_rps: 0.5\n  rate_limit_burst: 1\n")
    env = client(d)
    for _ in range(3):
        res = run_cc(["status"], env=env, timeout=120)
        assert res.returncode == 0, res


def test_json_errors_are_json(served):
    """Under --json an error from the server is JSON on stderr, with the API's
    code and the HTTP status, and the exit status is still 1."""
    res = run_cc(["sources", "show", "nosuch", "--json"], env=client(served))
    assert res.returncode == 1, res
    err = json.loads(res.stderr.strip().splitlines()[-1])["error"]
    assert err["code"] == "ENOTFOUND" and err["status"] == 404 and err["message"], err


def test_hints_name_commands_not_routes(served):
    res = run_cc(["sources", "run", "nosuch"], env=client(served))
    assert res.returncode == 1, res
    assert "commandcenter sources list" in res.stderr and "/api/v1" not in res.stderr, res
