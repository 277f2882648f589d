"""``fjordsync status``: the exact table and JSON for a ledger in a known state at a fixed moment
(the container's clock fixed): each reason a flow is or is not due, live and stale locks, open
problems and the new ones of the last run, a broken tenant; and the status command reads without
writing (no ledger created, no schedule state stored)."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from typer.testing import CliRunner

from fjordsync.cli import app
from fjordsync.cli import status as status_command
from fjordsync.container import SystemClock
from fjordsync.domain.diff import ActionKind
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.flows.common import ItemOutcome, Outcome
from fjordsync.ledger import Ledger
from fjordsync.runtime.scheduler import signature

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Oslo

CONFIG = """
    [ledger]
    url = "sqlite:///ledger.db"
    [tenants.acme.connections.erp]
    plugin = "memory"
    [tenants.acme.connections.time]
    plugin = "memory"
    [tenants.acme.flows.projects]
    source = "erp"
    target = "time"
    schedule = { days = ["mon", "thu"], time = "06:30" }
    [tenants.acme.flows.employees]
    source = "erp"
    target = "time"
    schedule = { days = ["mon"], time = "07:00" }
    [tenants.acme.flows.hours]
    source = "time"
    target = "erp"
    schedule = { days = ["mon", "tue", "wed", "thu", "fri"], time = "05:00", timezone = "UTC" }
    [tenants.acme.flows.absences]
    source = "erp"
    target = "time"
    enabled = false
    schedule = { days = ["fri"], time = "08:00" }
    [tenants.acme.flows.payroll-employees]
    source = "erp"
    target = "time"
    [tenants.bygg.connections.erp]
    plugin = "memory"
    [tenants.bygg.flows.projects]
    source = "erp"
    target = "nowhere"
"""


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FJORDSYNC_LEDGER_KEY", "k" * 32)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "fjordsync.toml"
    path.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    return path


def status(config_file, *args: str, monkeypatch) -> tuple[int, str]:
    """``fjordsync status`` in this process, its clock fixed at NOW, on a console 140 wide."""
    monkeypatch.setattr(SystemClock, "now", lambda self: NOW)
    monkeypatch.setattr(status_command, "out", Console(width=140, color_system=None))
    result = CliRunner().invoke(app, ["status", "--config", str(config_file), *args])
    return result.exit_code, result.stdout


def cells(table: str) -> list[list[str]]:
    """The header and rows of a rich table, cell by cell (a wrapped cell's next line is a row)."""
    return [
        [cell.strip() for cell in line.strip("│┃").split("│" if line[0] == "│" else "┃")]
        for line in table.splitlines()
        if line.startswith(("│", "┃"))
    ]


def problem(key: str, outcome: str = "invalid") -> ItemOutcome:
    return ItemOutcome(
        "employee",
        key,
        ActionKind.INVALID,
        Outcome(outcome),
        "has no e-mail address",
        problem=Problem(ProblemKind.CANNOT_CARRY, "email"),
        label=f"{key} Kari Nordmann",
    )


def fill(ledger: Ledger, clock: Clock, config_file) -> dict[str, int]:
    """Runs, schedule states, locks and problems as a week of use would leave them."""
    from fjordsync.config import load_config
    from fjordsync.plugins import connectors, get_plugin_manager

    config = load_config(config_file, connectors=connectors(get_plugin_manager()))
    acme = config.tenants["acme"].flows
    runs = {}

    def run(flow, started, took_s, status, counts, *, items=(), dry_run=False):
        clock.moment = started
        run_id = ledger.start_run("acme", flow, trigger="scheduled", dry_run=dry_run)
        clock.moment = started + timedelta(seconds=took_s)
        ledger.finish_run(run_id, status=status, counts=counts)
        if items:
            ledger.remember_problems("acme", flow, run_id, items, complete=True)
        return run_id

    runs["projects"] = run(
        "projects", datetime(2026, 11, 30, 5, 30, tzinfo=UTC), 12, "succeeded", {"written": 3}
    )
    run(
        "employees",
        datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        40,
        "partial",
        {},
        items=[
            problem("2003"),
        ],
    )
    runs["employees"] = run(
        "employees",
        datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
        185,
        "partial",
        {"invalid": 2, "written": 4},
        items=[problem("2003"), problem("2005")],
    )
    runs["hours"] = run(
        "hours", datetime(2026, 12, 1, 9, 58, tzinfo=UTC), 1.5, "failed", {}, dry_run=True
    )
    clock.moment = NOW - timedelta(minutes=1)
    # projects: due by its schedule, Thursday 06:30 Oslo (05:30 UTC).
    ledger.set_schedule(
        "acme",
        "projects",
        spec=signature(acme["projects"].schedule),
        next_due=datetime(2026, 12, 3, 5, 30, tzinfo=UTC),
    )
    # employees: never seen by a scheduler (first-run rule). hours: due an hour ago.
    ledger.set_schedule(
        "acme",
        "hours",
        spec=signature(acme["hours"].schedule),
        next_due=datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
    )
    # absences: disabled, though a scheduler once saw it. payroll-employees: a schedule since
    # removed from the config.
    ledger.set_schedule("acme", "payroll-employees", spec="mon 06:00:00 Europe/Oslo", next_due=NOW)
    # A live lock on another machine, and one that expired.
    ledger._acquire("acme", "projects", "worker-2:4242:scheduled", timedelta(hours=2))
    clock.moment = NOW - timedelta(hours=3)
    ledger._acquire("acme", "hours", "worker-1:77:manual", timedelta(hours=2))
    return runs


def test_status_shows_each_flow_as_it_stands(config_file, monkeypatch):
    clock = Clock(NOW)
    ledger = Ledger(f"sqlite:///{config_file.parent / 'ledger.db'}", clock=clock)
    runs = fill(ledger, clock, config_file)
    ledger.close()

    code, table = status(config_file, monkeypatch=monkeypatch)
    assert code == 0
    assert [(runs["projects"], runs["employees"], runs["hours"])] == [(1, 3, 4)]
    assert cells(table) == [
        ["tenant", "flow", "last run", "counts", "next due (local)", "lock", "problems"],
        [
            "acme",
            "projects",
            "1 succeeded",
            "written 3",
            "Thu 2026-12-03 06:30",
            "pid 4242 on host",
            "none",
        ],
        ["", "", "2026-11-30 05:30", "", "CET", "worker-2 (scheduled)", ""],
        ["", "", "UTC, took 12 s", "", "by the schedule", "", ""],
        [
            "acme",
            "employees",
            "3 partial",
            "invalid 2, written 4",
            "Wed 2026-12-02 06:05",
            "-",
            "2 open, 1 new",
        ],
        ["", "", "2026-11-30 06:00", "", "CET", "", ""],
        ["", "", "UTC, took 3 min 05 s", "", "first-run rule: the", "", ""],
        ["", "", "", "", "day after a", "", ""],
        ["", "", "", "", "scheduler first sees", "", ""],
        ["", "", "", "", "it, 06:05 Oslo time", "", ""],
        [
            "acme",
            "hours",
            "4 failed (dry run)",
            "-",
            "Tue 2026-12-01 05:00",
            "pid 77 on host",
            "none",
        ],
        ["", "", "2026-12-01 09:58", "", "UTC", "worker-1 (manual)", ""],
        ["", "", "UTC, took 1.5 s", "", "due now: a running", "(stale)", ""],
        ["", "", "", "", "scheduler starts it", "", ""],
        ["", "", "", "", "at its next tick", "", ""],
        ["acme", "absences (disabled)", "never", "-", "the flow is disabled", "-", "none"],
        ["acme", "payroll-employees", "never", "-", "manual only: no", "-", "none"],
        ["", "", "", "", "schedule", "", ""],
        ["bygg", "-", "-", "-", "broken: its config", "-", "-"],
        ["", "", "", "", "has 1 problem:", "", ""],
        ["", "", "", "", "fjordsync config", "", ""],
        ["", "", "", "", "check", "", ""],
    ]


def test_status_json_and_one_tenant(config_file, monkeypatch):
    clock = Clock(NOW)
    ledger = Ledger(f"sqlite:///{config_file.parent / 'ledger.db'}", clock=clock)
    runs = fill(ledger, clock, config_file)
    ledger.close()

    code, text = status(config_file, "--json", "--tenant", "acme", monkeypatch=monkeypatch)
    assert code == 0
    flows = {flow["flow"]: flow for flow in json.loads(text)["flows"]}
    assert list(flows) == ["projects", "employees", "hours", "absences", "payroll-employees"]
    assert flows["employees"] == {
        "tenant": "acme",
        "flow": "employees",
        "enabled": True,
        "schedule": "mon 07:00 Europe/Oslo",
        "last_run": {
            "id": runs["employees"],
            "trigger": "scheduled",
            "dry_run": False,
            "status": "partial",
            "started_at": "2026-11-30T06:00:00+00:00",
            "finished_at": "2026-11-30T06:03:05+00:00",
            "duration_s": 185.0,
            "counts": {"invalid": 2, "written": 4},
        },
        "next_due": "2026-12-02T06:05:00+01:00",
        "next_due_reason": "first-run rule: the day after a scheduler first sees it, "
        "06:05 Oslo time",
        "lock": None,
        "open_problems": 2,
        "new_problems": 1,
        "broken": None,
    }
    assert flows["projects"]["lock"] == {
        "holder": "pid 4242 on host worker-2 (scheduled)",
        "stale": False,
    }
    assert flows["hours"]["lock"] == {"holder": "pid 77 on host worker-1 (manual)", "stale": True}
    assert (flows["hours"]["next_due"], flows["hours"]["next_due_reason"]) == (
        "2026-12-01T05:00:00+00:00",
        "due now: a running scheduler starts it at its next tick",
    )


def test_status_creates_no_ledger_and_stores_no_schedule(config_file, monkeypatch):
    code, text = status(config_file, "--json", monkeypatch=monkeypatch)
    assert code == 0
    assert not (config_file.parent / "ledger.db").exists()
    flows = json.loads(text)["flows"]
    assert [(f["tenant"], f["flow"], f["next_due"], f["broken"]) for f in flows] == [
        ("acme", "projects", "2026-12-02T06:05:00+01:00", None),
        ("acme", "employees", "2026-12-02T06:05:00+01:00", None),
        ("acme", "hours", "2026-12-02T05:05:00+00:00", None),
        ("acme", "absences", None, None),
        ("acme", "payroll-employees", None, None),
        ("bygg", "", None, "its config has 1 problem: fjordsync config check"),
    ]


def test_status_of_an_unknown_tenant_is_an_error_naming_it(config_file, monkeypatch):
    code, text = status(config_file, "--tenant", "akme", monkeypatch=monkeypatch)
    assert (code, text) == (2, "")  # the error goes to stderr
