"""`commandcenter cron next`: offline, stable JSON a script can rely on, DST
handled as the scheduler does, and usage errors that say what to fix (exit 2)."""

import pytest

from conftest import run_cc


def cron_next(*args, env=None):
    res = run_cc(["cron", "next"] + list(args), env=env)
    assert res.returncode == 0, res
    return res.json


def test_prints_the_documented_shape():
    doc = cron_next("30 2 * * *", "--from", "2026-03-29T00:30:00Z", "--tz", "Europe/Paris",
                    "--count", "3")
    assert list(doc) == ["expression", "tz", "from", "next"]
    assert doc == {
        "expression": "30 2 * * *",
        "tz": "Europe/Paris",
        "from": "2026-03-29T00:30:00Z",
        # 02:30 does not exist that day: it runs at 03:00 CEST, once
        "next": ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"],
    }


def test_fall_back_runs_once_and_offsets_are_accepted():
    doc = cron_next("30 1 * * *", "--from", "2026-10-31T20:00:00.75-04:00", "--tz",
                    "America/New_York", "--count", "2")
    assert doc["from"] == "2026-11-01T00:00:00Z"
    assert doc["next"] == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]


def test_defaults_are_utc_now_and_five():
    doc = cron_next("@hourly")
    assert doc["tz"] == "UTC" and len(doc["next"]) == 5
    assert doc["from"] < doc["next"][0] < doc["next"][1]


def test_help():
    res = run_cc(["cron", "--help"])
    assert res.returncode == 0 and "cron next" in res.stdout and "--tz" in res.stdout


@pytest.mark.parametrize("args, needle", [
    (["0 24 * * *"], "field 2 (hour): 24 is out of range 0-23"),
    (["@daily", "--from", "yesterday"], "RFC 3339"),
    (["@daily", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["@daily", "--tz", "../../etc/passwd"], "must not contain '..'"),
    (["@daily", "--count", "0"], "--count must be a number from 1 to 1000"),
    ([], "missing the cron expression"),
])
def test_usage_errors_exit_2(args, needle):
    res = run_cc(["cron", "next"] + args)
    assert res.returncode == 2, res
    assert needle in res.stderr and "hint:" in res.stderr, res.stderr
    assert res.stdout == ""


def test_never_matching_expression_fails():
    res = run_cc(["cron", "next", "0 0 30 2 *", "--from", "2026-01-01T00:00:00Z"])
    assert res.returncode == 1, res
    assert "no run time within 9 years" in res.stderr
