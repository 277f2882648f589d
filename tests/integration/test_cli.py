"""The fjordsync command as a user runs it."""

import json

from fjordsync.ledger import Ledger

from .conftest import fjordsync

DEMO_ENV = {
    "TFSO_APPLICATION_ID": "app-id",
    "TFSO_PASSWORD": "pw-value-xyz",
    "TFSO_PAYROLL_TOKEN": "payroll-token",
    "SMARTDOK_API_TOKEN": "sd-token",
    "ALEXIS_TOKEN": "alexis-token",
}


def test_help_documents_exit_codes_and_version_prints():
    result = fjordsync("--help")
    assert result.returncode == 0
    assert "Exit codes: 0 success; 1 partial" in " ".join(result.stdout.split())
    assert fjordsync("--version").stdout.strip() == "fjordsync 0.1.0"


def test_plugins_table_lists_every_connector():
    result = fjordsync("plugins")
    assert result.returncode == 0
    for name in ("alexis", "smartdok", "twentyfourseven", "memory", "fjordsync-24sevenoffice"):
        assert name in result.stdout


def test_config_check_of_the_example_config(tmp_path):
    result = fjordsync("config", "check", "examples/config.toml", "--json", env=DEMO_ENV)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["valid"] is True
    flows = summary["tenants"]["demo"]["flows"]
    assert list(flows) == ["projects", "employees", "hours", "payroll-employees", "absences"]
    assert flows["hours"] == {
        "source": "time",
        "target": "erp",
        "enabled": True,
        "schedule": "mon 07:00 Europe/Oslo",
    }
    assert flows["absences"]["enabled"] is False
    assert "pw-value-xyz" not in result.stdout
    table = fjordsync("config", "check", "examples/config.toml", env=DEMO_ENV)
    assert table.returncode == 0 and "examples/config.toml: valid" in table.stdout


def test_a_bad_config_names_file_path_and_problem_and_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[tenants.acme.flows.projects]\nsource = "erp"\ntarget = "time"\n'
        '[tenants.acme.connections.time]\nplugin = "smartdok"\n'
    )
    result = fjordsync("config", "check", str(bad))
    assert result.returncode == 2
    assert f"{bad}: tenants.acme.connections.time.settings.api_token: is required" in result.stderr
    assert (
        f"{bad}: tenants.acme.flows.projects.source: connection 'erp' is not defined "
        "(defined: time)"
    ) in result.stderr
    as_json = json.loads(fjordsync("config", "check", str(bad), "--json").stdout)
    assert as_json["valid"] is False
    assert {
        "path": "tenants.acme.connections.time.settings.api_token",
        "problem": "is required",
    } in as_json["problems"]


def test_missing_secret_is_named_without_any_value(tmp_path):
    result = fjordsync(
        "config",
        "check",
        "examples/config.toml",
        env={**DEMO_ENV, "ALEXIS_TOKEN": ""} | {"TFSO_PASSWORD": "x"},
    )
    assert result.returncode == 0  # empty is set; it is the plugin's model that decides
    env = {k: v for k, v in DEMO_ENV.items() if k != "SMARTDOK_API_TOKEN"}
    result = fjordsync("config", "check", "examples/config.toml", env=env)
    assert result.returncode == 2
    assert (
        "tenants.demo.connections.time.settings.api_token: environment variable "
        "SMARTDOK_API_TOKEN is not set, nor is it in the secrets file"
    ) in result.stderr


def test_runs_list_and_show(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url)
    first = ledger.start_run("acme", "projects", trigger="manual", dry_run=True)
    ledger.finish_run(first, status="succeeded", counts={"create": 0, "unchanged": 4})
    second = ledger.start_run("acme", "hours", trigger="scheduled", dry_run=False)
    ledger.record_write(
        second,
        tenant="acme",
        flow="hours",
        entity="hour",
        source_key="h-1",
        target_key="77",
        fingerprint="f",
        action="create",
    )
    ledger.record_item(
        second,
        entity="hour",
        key="h-2",
        action="invalid",
        outcome="invalid",
        message="wage code 120 has no Salary Type ID 120 in 24SevenOffice",
    )
    ledger.finish_run(second, status="partial", counts={"create": 1, "invalid": 1})
    ledger.close()

    listing = json.loads(fjordsync("runs", "list", "--ledger", url, "--json").stdout)
    assert [(r["id"], r["flow"], r["status"], r["dry_run"]) for r in listing["runs"]] == [
        (second, "hours", "partial", False),
        (first, "projects", "succeeded", True),
    ]
    only_hours = json.loads(
        fjordsync("runs", "list", "--ledger", url, "--flow", "hours", "--json").stdout
    )
    assert [r["id"] for r in only_hours["runs"]] == [second]

    shown = json.loads(fjordsync("runs", "show", str(second), "--ledger", url, "--json").stdout)
    assert shown["counts"] == {"create": 1, "invalid": 1}
    assert [(i["key"], i["action"], i["outcome"]) for i in shown["items"]] == [
        ("h-1", "create", "written"),
        ("h-2", "invalid", "invalid"),
    ]
    table = fjordsync("runs", "show", str(second), "--ledger", url)
    assert table.returncode == 0 and "wage code 120 has no Salary Type ID" in table.stdout

    missing = fjordsync("runs", "show", "999", "--ledger", url)
    assert missing.returncode == 2 and "no run 999 in the ledger" in missing.stderr


def test_runs_list_without_a_ledger_creates_nothing(tmp_path):
    result = fjordsync("runs", "list", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "No runs yet."
    assert list(tmp_path.iterdir()) == []


def test_runs_list_uses_the_config_files_ledger(tmp_path):
    (tmp_path / "c.toml").write_text(
        '[ledger]\nurl = "sqlite:///state.db"\n[tenants.a.connections.m]\nplugin = "memory"\n'
    )
    ledger = Ledger(f"sqlite:///{tmp_path / 'state.db'}")
    ledger.start_run("a", "projects", trigger="manual", dry_run=False)
    ledger.close()
    result = fjordsync("runs", "list", "--config", str(tmp_path / "c.toml"), "--json")
    assert [r["tenant"] for r in json.loads(result.stdout)["runs"]] == ["a"]
