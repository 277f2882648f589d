"""The fjordsync command as a user runs it."""

import json
from datetime import UTC, datetime

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
    result = fjordsync("plugins", "--all")
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
    # each problem with the line of its key (a key the file lacks: its table's line)
    assert (
        f"{bad}:4: tenants.acme.connections.time.settings.api_token: is required" in result.stderr
    )
    assert (
        f"{bad}:2: tenants.acme.flows.projects.source: connection 'erp' is not defined "
        "(defined: time)"
    ) in result.stderr
    as_json = json.loads(fjordsync("config", "check", str(bad), "--json").stdout)
    assert as_json["valid"] is False
    assert {
        "path": "tenants.acme.connections.time.settings.api_token",
        "problem": "is required",
        "line": 4,
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


def test_empty_selections_and_unknown_codes_are_usage_errors(tmp_path):
    config = str(tmp_path / "never-read.toml")  # options are checked before the config is read
    valid = "01, 02, 03, 04, 05, 06, 07, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21"
    for args, message in [
        (
            ["payroll-employees", "--employees", ""],
            "error: --employees: no employee number given; write N,N,... or leave the option "
            "out to sync every employee in the flow's scope\n",
        ),
        (
            ["payroll-employees", "--employees", " , "],
            "error: --employees: no employee number given; write N,N,... or leave the option "
            "out to sync every employee in the flow's scope\n",
        ),
        (
            ["absences", "--absence-types", "zz"],
            f"error: --absence-types: unknown absence code 'zz' (valid: {valid})\n",
        ),
        (
            ["absences", "--absence-types", "4,8,zz"],
            f"error: --absence-types: unknown absence codes '08', 'zz' (valid: {valid})\n",
        ),
        (
            ["absences", "--absence-types", ","],
            f"error: --absence-types: no absence code given (valid: {valid})\n",
        ),
    ]:
        result = fjordsync("run", *args, "--config", config)
        assert (result.returncode, result.stderr, result.stdout) == (2, message, ""), args
    as_json = fjordsync("run", "absences", "--absence-types", "zz", "--config", config, "--json")
    assert json.loads(as_json.stdout) == {
        "error": "UsageError",
        "message": f"--absence-types: unknown absence code 'zz' (valid: {valid})",
    }


BOOM_PLUGIN = """
from fjordsync import Connector, hookimpl
from fjordsync.testing.memory import InMemorySystem, MemorySettings


class Boom(InMemorySystem):
    async def read_projects(self, query):
        raise RuntimeError("a bug in the adapter, password=hunter2-in-the-trace")


@hookimpl
def fjordsync_register_connectors(register):
    register(Connector(name="boom", title="Raises", settings=MemorySettings, adapter=Boom))
"""


def test_an_unexpected_error_is_one_line_and_its_trace_goes_to_the_log_file(tmp_path):
    site = tmp_path / "site"
    info = site / "boom_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: boom-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[fjordsync]\nboom = boom_plugin\n")
    (site / "boom_plugin.py").write_text(BOOM_PLUGIN)
    (tmp_path / "c.toml").write_text(
        '[ledger]\nurl = "sqlite:///l.db"\n'
        '[tenants.acme.connections.src]\nplugin = "boom"\n'
        '[tenants.acme.connections.dst]\nplugin = "memory"\n'
        '[tenants.acme.flows.projects]\nsource = "src"\ntarget = "dst"\n'
    )
    env = {"PYTHONPATH": str(site), "XDG_STATE_HOME": str(tmp_path / "state")}
    log_file = tmp_path / "f.log"
    args = ["run", "projects", "--config", str(tmp_path / "c.toml")]
    result = fjordsync(*args, "--log-file", str(log_file), env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"fjordsync: unexpected error (RuntimeError) in run 1 — details in {log_file}\n"
    )
    trace = log_file.read_text()
    assert "ERROR fjordsync: unexpected error (RuntimeError) in run 1\nTraceback" in trace
    assert trace.endswith("RuntimeError: a bug in the adapter, password=***\n")
    run = json.loads(fjordsync("runs", "show", "1", "--config", args[-1], "--json", env=env).stdout)
    assert run["status"] == "failed" and "hunter2" not in json.dumps(run)

    # Without --log-file the trace goes to fjordsync.log in the user's state directory.
    default = fjordsync(*args, env=env)
    expected = tmp_path / "state" / "fjordsync" / "fjordsync.log"
    assert default.stderr == (
        f"fjordsync: unexpected error (RuntimeError) in run 2 — details in {expected}\n"
    )
    assert "Traceback" in expected.read_text() and oct(expected.stat().st_mode)[-3:] == "600"
    as_json = json.loads(fjordsync(*args, "--json", env=env).stdout)
    assert as_json == {
        "error": "RuntimeError",
        "message": f"fjordsync: unexpected error (RuntimeError) in run 3 — details in {expected}",
        "run_id": 3,
        "log_file": str(expected),
    }


def test_control_characters_and_markup_in_data_are_shown_escaped(tmp_path):
    (tmp_path / "c.toml").write_text(
        '[ledger]\nurl = "sqlite:///l.db"\n'
        '[tenants.acme.connections.src]\nplugin = "memory"\n'
        'settings = { projects = [{ key = "P-\\u001b[31m1[bold]", name = "Kaia" }] }\n'
        '[tenants.acme.connections.dst]\nplugin = "memory"\n'
        '[tenants.acme.flows.projects]\nsource = "src"\ntarget = "dst"\n'
    )
    args = ["run", "projects", "--config", str(tmp_path / "c.toml"), "--dry-run"]
    table = fjordsync(*args)
    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout
    # The record column shows the project's key (after its label, if the flow gives one).
    [row] = [line for line in table.stdout.splitlines() if "│ create │ planned │" in line]
    assert "P-\\x1b[31m1[bold]" in row.split("│")[1]
    as_json = fjordsync(*args, "--json")
    assert json.loads(as_json.stdout)["items"][0]["key"] == "P-\x1b[31m1[bold]"
    assert "\x1b" not in as_json.stdout  # JSON escapes it: \u001b
    shown = fjordsync("runs", "show", "2", "--config", str(tmp_path / "c.toml"))
    assert "\x1b" not in shown.stdout and "P-\\x1b[31m1[bold]" in shown.stdout


def test_sandbox_up_writes_its_config_and_secrets_0600(tmp_path):
    import os

    from fjordsync.cli import write_demo_config

    connections = {
        "alexis": {"alexis": {"token": "t-1"}},
        "twentyfourseven": {
            "twentyfourseven": {"application_id": "a-1", "password": "p-1", "username": "u"},
            "twentyfourseven-payroll": {"access_token": "x-1"},
        },
        "smartdok": {"smartdok": {"api_token": "s-1"}},
    }
    old = os.umask(0o022)
    try:
        write_demo_config(str(tmp_path / "demo.toml"), {}, connections)
    finally:
        os.umask(old)
    for name in ("demo.toml", "demo.toml.secrets"):
        assert oct((tmp_path / name).stat().st_mode)[-3:] == "600", name
    assert 'DEMO_PAYROLL_ACCESS_TOKEN = "x-1"' in (tmp_path / "demo.toml.secrets").read_text()
    assert "x-1" not in (tmp_path / "demo.toml").read_text()


def test_the_sqlite_ledger_is_created_0600_and_refused_when_shared(tmp_path):
    import os

    old = os.umask(0)
    try:
        Ledger(f"sqlite:///{tmp_path / 'ledger.db'}").close()
    finally:
        os.umask(old)
    assert oct((tmp_path / "ledger.db").stat().st_mode)[-3:] == "600"
    (tmp_path / "ledger.db").chmod(0o644)
    result = fjordsync("runs", "list", "--ledger", f"sqlite:///{tmp_path / 'ledger.db'}")
    assert (result.returncode, result.stderr) == (
        2,
        f"error: the ledger file {tmp_path / 'ledger.db'} can be read or written by others "
        f"(mode 0644): chmod 600 {tmp_path / 'ledger.db'}\n",
    )


def test_runs_list_filters_by_status_and_start_and_shows_how_long_each_took(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    moments = iter(
        [
            datetime(2026, 11, 30, 6, 0, 0, tzinfo=UTC),  # run 1 starts
            datetime(2026, 11, 30, 6, 3, 5, tzinfo=UTC),  # and ends
            datetime(2026, 12, 1, 6, 0, 0, tzinfo=UTC),  # run 2 starts
            datetime(2026, 12, 1, 6, 0, 12, tzinfo=UTC),  # and ends
            datetime(2026, 12, 1, 7, 0, 0, tzinfo=UTC),  # run 3 starts
            datetime(2026, 12, 1, 7, 0, 0, 400000, tzinfo=UTC),  # and fails
        ]
    )
    ledger = Ledger(url, clock=lambda: next(moments))
    first = ledger.start_run("acme", "hours", trigger="scheduled", dry_run=False)
    ledger.finish_run(first, status="partial", counts={"written": 3, "invalid": 1})
    second = ledger.start_run("acme", "hours", trigger="scheduled", dry_run=False)
    ledger.finish_run(second, status="succeeded", counts={"unchanged": 4})
    third = ledger.start_run("acme", "projects", trigger="manual", dry_run=False)
    ledger.finish_run(third, status="failed", counts={})
    ledger.close()

    def listed(*args):
        result = fjordsync("runs", "list", "--ledger", url, "--json", *args)
        assert result.returncode == 0, result.stderr
        return [(r["id"], r["status"], r["duration_s"]) for r in json.loads(result.stdout)["runs"]]

    assert listed("--status", "partial") == [(first, "partial", 185.0)]
    assert listed("--since", "2026-12-01") == [
        (third, "failed", 0.4),
        (second, "succeeded", 12.0),
    ]
    assert listed("--since", "2026-12-01T06:30", "--flow", "hours") == []
    assert listed("--since", "2026-12-01T06:00+00:00", "--limit", "1") == [(third, "failed", 0.4)]

    table = fjordsync("runs", "list", "--ledger", url)
    cells = [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in table.stdout.splitlines()
        if line.startswith("│")
    ]
    took = {row[0]: row[5] for row in cells}
    assert took == {str(first): "3 min 05 s", str(second): "12 s", str(third): "0.4 s"}

    for args, message in [
        (
            ("--status", "done"),
            "--status 'done' is not one of running, succeeded, partial, failed, interrupted",
        ),
        (
            ("--since", "yesterday"),
            "--since 'yesterday' is not a date (YYYY-MM-DD) or an ISO time (YYYY-MM-DDTHH:MM)",
        ),
    ]:
        refused = fjordsync("runs", "list", "--ledger", url, *args)
        assert (refused.returncode, refused.stderr.strip()) == (2, f"error: {message}")
