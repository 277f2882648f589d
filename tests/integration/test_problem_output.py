"""Issue 14 §1 through the installed command, against the real sandboxes with dirty data: a run's
problems are grouped by cause (count, the one fix, sample records by what a clerk recognises
them by) in its output, in ``--json`` and in ``runs show`` (``--outcome`` filters), and their
counts add up to the invalid, conflict and failed items; the ledger keeps each item's label
(masked) and problem on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.ledger import Ledger
from fjordsync.ports import SavedOutcome
from fjordsync_smartdok.sandbox import SmartDokSandbox
from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox

from .conftest import erp_and_smartdok_config, erp_smartdok_env, fjordsync
from .test_flow_hours import erp_state, hour, smartdok_state

ENV = {**erp_smartdok_env(), "COLUMNS": "260"}  # wide enough that no cell wraps
PERIOD = ("--from", "2026-10-01", "--to", "2026-10-31")
PROBLEM_OUTCOMES = ("invalid", "conflict", "failed")

ACTIVITY = (
    "activity code 01.1 has no Work Type ID 01.1 in 24SevenOffice: set Kode under "
    "Firmaopplysninger -> Aktiviteter"
)
EMPLOYEE = (
    "employee number 2999 has no Contact id 2999 in 24SevenOffice: set Ansattnummer under "
    "Firmaopplysninger -> Brukeroversikt in SmartDok"
)
PROJECT = (
    "project number 7777 has no Project id 7777 in 24SevenOffice: set the prosjektnummer "
    "(Pro.Nr) of the project in SmartDok"
)
WAGE = (
    "wage code 120 has no Salary Type ID 120 in 24SevenOffice: set Kode under "
    "Firmaopplysninger -> Lønnsarter"
)
SHARED = "2 source records share key …: none is written until one is left"


@pytest.fixture
def dirty_hours(tmp_path):
    """3 good hours; 8 without the activity code, 4 of an employee 24SevenOffice does not have,
    one of an unknown project, one of an unknown wage code (four causes of invalid hours), and
    two pairs of hours sharing a WorkHourID (one cause of conflicts)."""
    state = smartdok_state(3)
    state["WorkHours"] += [
        hour(8100 + n, "2002", f"2026-10-{12 + n}", code="01.1") for n in range(7)
    ]
    state["WorkHours"] += [hour(8200 + n, "2999", f"2026-10-{20 + n}") for n in range(3)]
    state["WorkHours"] += [hour(8300, "2003", "2026-10-27"), hour(8300, "2003", "2026-10-28")]
    state["WorkHours"] += [hour(8301, "2004", "2026-10-27"), hour(8301, "2004", "2026-10-29")]
    with TwentyFourSevenSandbox(erp_state()) as erp, SmartDokSandbox(state) as sd:
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            erp_and_smartdok_config(erp.url, sd.url, ledger=tmp_path / "ledger.db")
            + '[tenants.acme.flows.hours]\nsource = "time"\ntarget = "erp"\n',
            encoding="utf-8",
        )
        yield erp, sd, config


def rows_of(output: str, heading: str) -> list[list[str]]:
    """The rows of the table under ``heading`` as their cells: a cell a row continues on the
    next lines (a group's sample records, one a line) is their lines joined by newlines."""
    lines = output.splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == heading)
    rows: list[list[str]] = []
    for line in lines[start + 4 :]:  # the heading, the top border, the column names, a rule
        if not line.startswith("│"):
            break
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if cells[0]:
            rows.append(cells)
        else:  # the row goes on: each non-empty cell a line more
            for number, cell in enumerate(cells):
                if cell:
                    rows[-1][number] += "\n" + cell
    return rows


def labelled(document: dict, keys: list[str]) -> list[str]:
    """What a group names each of these records by: its label, else its key."""
    by_key = {item["key"]: item for item in document["items"]}
    return [by_key[key]["label"] or key for key in keys]


def test_a_runs_problems_are_grouped_by_cause_in_its_output_json_and_history(dirty_hours):
    erp, _, config = dirty_hours
    plan = fjordsync(
        "run", "hours", "--config", str(config), *PERIOD, "--dry-run", "--json", env=ENV
    )
    document = json.loads(plan.stdout)
    assert document["summary"] == "3 to create, 16 problems (14 invalid, 2 conflict)"

    # The table: the summary line, the writes, then the problems by cause (none one by one).
    table = fjordsync("run", "hours", "--config", str(config), *PERIOD, env=ENV)
    assert table.returncode == 1, table.stderr
    run_id = document["run_id"] + 1
    lines = table.stdout.splitlines()
    assert lines[:2] == [
        f"Run {run_id}: hours for acme",
        "3 created, 16 problems (14 invalid, 2 conflict). Status: partial",
    ]
    assert rows_of(table.stdout, "Problems: 16 records, 5 causes") == [
        [
            "8",
            "invalid",
            ACTIVITY,
            "\n".join(labelled(document, ["8001", "8100", "8101", "8102", "8103"]))
            + "\nand 3 more",
        ],
        ["4", "invalid", EMPLOYEE, "\n".join(labelled(document, ["8003", "8200", "8201", "8202"]))],
        ["2", "conflict", SHARED, "\n".join(labelled(document, ["8300", "8301"]))],
        ["1", "invalid", PROJECT, labelled(document, ["8002"])[0]],
        ["1", "invalid", WAGE, labelled(document, ["8004"])[0]],
    ]
    assert f"Every record: `fjordsync runs show {run_id} --outcome invalid,conflict`" in lines
    written = [line.split("│")[1].strip() for line in lines if "│ create │ written │" in line]
    assert written == [
        f"{label} ({key})"
        for label, key in zip(
            labelled(document, ["9000", "9001", "9002"]), ["9000", "9001", "9002"], strict=True
        )
    ]
    problem_keys = [i["key"] for i in document["items"] if i["outcome"] in PROBLEM_OUTCOMES]
    assert len(problem_keys) == 16
    assert not [key for key in problem_keys if f"({key})" in table.stdout]  # never one by one

    # --json: the head's groups, whose counts add up to the invalid, conflict and failed items.
    again = json.loads(
        fjordsync("run", "hours", "--config", str(config), *PERIOD, "--json", env=ENV).stdout
    )
    assert again["summary"] == "3 unchanged, 16 problems (14 invalid, 2 conflict)"
    problems = again["problems"]
    assert (
        sum(group["count"] for group in problems)
        == 16
        == sum(1 for item in again["items"] if item["outcome"] in PROBLEM_OUTCOMES)
    )
    assert [(g["kind"], g["outcome"], g["count"], g["field"], g["codes"]) for g in problems] == [
        ("missing_reference", "invalid", 8, "activity", ["01.1"]),
        ("missing_reference", "invalid", 4, "employee", ["2999"]),
        ("duplicate_key", "conflict", 2, None, []),
        ("missing_reference", "invalid", 1, "project", ["7777"]),
        ("missing_reference", "invalid", 1, "wage", ["120"]),
    ]
    assert problems[0] == {
        "kind": "missing_reference",
        "outcome": "invalid",
        "message": ACTIVITY,
        "count": 8,
        "records": labelled(again, ["8001", "8100", "8101", "8102", "8103"]),
        "field": "activity",
        "codes": ["01.1"],
    }
    item = next(i for i in again["items"] if i["key"] == "8002")
    assert item["problem"] == {"kind": "missing_reference", "field": "project", "codes": ["7777"]}
    assert "7777" in item["label"]
    assert len(erp.state["Hour"]) == 3  # only the good hours were sent

    # runs show: the same groups from the ledger; --outcome keeps those items and their groups.
    def shown(*args):
        result = fjordsync("runs", "show", str(run_id), *args, "--config", str(config), env=ENV)
        assert result.returncode == 0, result.stderr
        return result.stdout

    history = json.loads(shown("--json"))
    assert history["problems"] == problems
    by_key = {i["key"]: i for i in history["items"]}
    assert (by_key["8002"]["label"], by_key["8002"]["problem"]) == (item["label"], item["problem"])
    assert by_key["9000"]["problem"] is None and by_key["9000"]["outcome"] == "written"
    conflicts = json.loads(shown("--outcome", "conflict", "--json"))
    assert sorted((i["key"], i["outcome"]) for i in conflicts["items"]) == [
        ("8300", "conflict"),
        ("8301", "conflict"),
    ]
    assert conflicts["problems"] == [problems[2]]
    both = json.loads(shown("--outcome", "conflict", "--outcome", "invalid,written", "--json"))
    assert both["problems"] == problems
    assert {i["outcome"] for i in both["items"]} == {"conflict", "invalid", "written"}

    listed = shown("--outcome", "invalid")
    assert "Only its invalid items (--outcome)." in listed.splitlines()
    assert [row[:2] for row in rows_of(listed, "Problems: 14 records, 4 causes")] == [
        ["8", "invalid"],
        ["4", "invalid"],
        ["1", "invalid"],
        ["1", "invalid"],
    ]
    assert sum(1 for line in listed.splitlines() if "│ invalid │ invalid │" in line) == 14

    wrong = fjordsync("runs", "show", str(run_id), "--outcome", "broken", "--config", str(config))
    assert (wrong.returncode, wrong.stderr.strip()) == (
        2,
        "error: --outcome 'broken' is not an outcome: written, planned, unchanged, skipped, "
        "deferred, invalid, conflict, failed",
    )


def test_writes_the_target_refused_are_one_cause_whose_message_names_no_record(tmp_path):
    from .test_flows_erp_to_smartdok import erp_state as erp_people
    from .test_flows_erp_to_smartdok import smartdok_state as smartdok_people

    people = smartdok_people()
    people["LicenseInfo"] = {"AvailableLicenses": 10, "TotalLicenses": 11}
    # Users of another company's employee numbers holding the user names (mobile numbers) that
    # Ola's and Ida's new users would get: SmartDok refuses both creates.
    for number, mobile in (("9001", "93456789"), ("9002", "97700222")):
        people["Users"].append(
            dict(
                people["Users"][0],
                Id=f"2222222{number[-1]}-1111-4111-8111-111111111111",
                UserName=mobile,
                EmployeeNo=number,
                Email=f"{number}@other.no",
            )
        )
    with TwentyFourSevenSandbox(erp_people()) as erp, SmartDokSandbox(people) as sd:
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            erp_and_smartdok_config(erp.url, sd.url, ledger=tmp_path / "ledger.db")
            + '[tenants.acme.flows.employees]\nsource = "erp"\ntarget = "time"\n',
            encoding="utf-8",
        )
        result = fjordsync("run", "employees", "--config", str(config), "--json", env=ENV)
        document = json.loads(result.stdout)
    outcomes = {i["key"]: i["outcome"] for i in document["items"]}
    failed = sorted(key for key, outcome in outcomes.items() if outcome == "failed")
    assert failed == ["2002", "2004"], outcomes
    refused = [g for g in document["problems"] if g["outcome"] == "failed"]
    assert len(refused) == 1
    [group] = refused
    assert (group["kind"], group["count"], group["records"]) == (
        "write_failed",
        2,
        labelled(document, failed),
    )
    assert "(record" not in group["message"] and "2002" not in group["message"]
    messages = {i["message"] for i in document["items"] if i["outcome"] == "failed"}
    assert {m.replace(" (record 2002)", "").replace(" (record 2004)", "") for m in messages} == {
        group["message"]
    }
    assert sum(g["count"] for g in document["problems"]) == sum(
        1 for i in document["items"] if i["outcome"] in PROBLEM_OUTCOMES
    )


def test_the_ledger_keeps_each_items_label_masked_and_its_problem(ledger_url):
    ledger = Ledger(ledger_url)
    try:
        run_id = ledger.start_run("acme", "payroll-employees", trigger="manual", dry_run=False)
        missing = Problem(ProblemKind.MISSING_REFERENCE, "leave.type", ("Sabbatical", "Permisjon"))
        ledger.save_outcomes(
            run_id,
            tenant="acme",
            flow="payroll-employees",
            entity="employee",
            outcomes=[
                SavedOutcome(
                    "7",
                    "invalid",
                    "invalid",
                    "leave type 'Sabbatical' has no payroll code",
                    label="employee 7 Kari Nordmann",
                    problem=missing,
                ),
                SavedOutcome(
                    "8",
                    "create",
                    "written",
                    None,
                    ("firstname",),
                    "t-8",
                    "fp",
                    label="employee 8 Ola, personnummer 15108695088",  # a flow's mistake
                ),
            ],
        )
        ledger.record_item(
            run_id,
            entity="employee",
            key="9",
            action="create",
            outcome="failed",
            message="24SevenOffice POST /employee (record 9): refused",
            label="employee 9 Per",
        )
        ledger.finish_run(
            run_id, status="partial", counts={"invalid": 1, "written": 1, "failed": 1}
        )
        run = ledger.run(run_id)
    finally:
        ledger.close()
    assert run is not None
    assert [(i.record_key, i.label, i.problem) for i in run.items] == [
        ("7", "employee 7 Kari Nordmann", missing),
        ("8", "employee 8 Ola, personnummer ***", None),
        ("9", "employee 9 Per", None),
    ]
    document = run.as_dict()
    assert document["problems"] == [
        {
            "kind": "write_failed",
            "outcome": "failed",
            "message": "24SevenOffice POST /employee: refused",
            "count": 1,
            "records": ["employee 9 Per"],
            "field": None,
            "codes": [],
        },
        {
            "kind": "missing_reference",
            "outcome": "invalid",
            "message": "leave type 'Sabbatical' has no payroll code",
            "count": 1,
            "records": ["employee 7 Kari Nordmann"],
            "field": "leave.type",
            "codes": ["Sabbatical", "Permisjon"],
        },
    ]
    assert document["items"][0] == {
        "entity": "employee",
        "key": "7",
        "label": "employee 7 Kari Nordmann",
        "action": "invalid",
        "outcome": "invalid",
        "message": "leave type 'Sabbatical' has no payroll code",
        "problem": {
            "kind": "missing_reference",
            "field": "leave.type",
            "codes": ["Sabbatical", "Permisjon"],
        },
        "changed_fields": [],
    }
