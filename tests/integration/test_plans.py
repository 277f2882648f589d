"""Plans reviewed, then applied: `fjordsync plan` and `fjordsync apply` as a user runs them,
against the AlexisHR and 24SevenOffice payroll sandboxes over HTTP. Changes between plan and
apply are made through the sandboxes' control endpoints (``/_sandbox/state``), as another
person's edit in the vendor's system would arrive; what lands is read back the same way."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import httpx
import pytest

from fjordsync_alexis.sandbox import AlexisSandbox
from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox

from .conftest import fjordsync, hr_and_payroll_config
from .test_flows_hr_to_payroll import ENV, alexis_state, payroll_state

# What the reviewed plan of the two sandboxes' states writes (test_flows_hr_to_payroll has why:
# 1003, 1004 and 1005's employment are invalid).
PLANNED = [
    ["employee", "1001", "update"],
    ["employee", "1002", "create"],
    ["employee", "1005", "create"],
    ["employment", "1001/m1", "update"],
    ["employment", "1002/m2", "create"],
]
# Personal values of the sandboxes' employees, which a masked plan never holds.
PERSONAL_VALUES = (
    "15108695088",  # personal numbers
    "41018036736",
    "86011117947",  # accounts
    "SE4550000000058398257466",
    "54166.67",  # salaries
    "312.50",
    "50000.00",
    "Storgata",  # address
)


@pytest.fixture
def systems(tmp_path):
    with AlexisSandbox(alexis_state()) as hr, TwentyFourSevenSandbox(payroll_state()) as erp:
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            hr_and_payroll_config(hr.url, erp.url, ledger=tmp_path / "ledger.db"),
            encoding="utf-8",
        )
        yield hr, erp, config


def state_of(sandbox) -> dict:
    return httpx.get(f"{sandbox.url}/_sandbox/state").raise_for_status().json()


def change_state(sandbox, change) -> None:
    """Another person's edit in the vendor's system: the state read, changed, put back."""
    state = state_of(sandbox)
    change(state)
    httpx.put(f"{sandbox.url}/_sandbox/state", json=state).raise_for_status()


def writes_at(sandbox) -> int:
    return httpx.get(f"{sandbox.url}/_sandbox/stats").raise_for_status().json()["total_writes"]


def employee(state: dict, collection: str, key_field: str, key: str) -> dict:
    [record] = [r for r in state[collection] if r[key_field] == key]
    return record


def make_plan(config, path, *extra):
    result = fjordsync(
        "plan", "payroll-employees", "--config", str(config), "--out", str(path), *extra, env=ENV
    )
    assert "Traceback" not in result.stderr
    return result


def apply(path, *extra):
    return fjordsync("apply", str(path), *extra, env=ENV)


def test_a_plan_is_saved_private_masked_and_says_what_it_was_computed_from(systems, tmp_path):
    _, erp, config = systems
    path = tmp_path / "plan.json"
    result = make_plan(config, path, "--json")
    assert result.returncode == 1  # three records are invalid: the plan says so
    printed = json.loads(result.stdout)
    assert printed["saved_to"] == str(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert [value for value in PERSONAL_VALUES if value in text] == []
    document = json.loads(text)
    assert document == printed["plan"]
    assert list(document) == [
        "format",
        "tenant",
        "flow",
        "created_at",
        "run_id",
        "personal_data",
        "computed_from",
        "summary",
        "actions",
        "problems",
    ]
    assert (document["format"], document["tenant"], document["flow"]) == (
        "fjordsync-plan/1",
        "acme",
        "payroll-employees",
    )
    assert document["personal_data"] == "masked"
    computed = document["computed_from"]
    assert list(computed) == [
        "tenant",
        "flow",
        "period",
        "employees",
        "absence_types",
        "config",
        "ledger",
        "fingerprint_key",
        "source",
        "target",
        "dry_run",
        "fjordsync_version",
        "created_at",
    ]
    assert computed["config"]["path"] == str(config.resolve())
    assert len(computed["config"]["sha256"]) == 64
    assert computed["ledger"] == f"sqlite:///{tmp_path / 'ledger.db'}"
    assert computed["dry_run"] == document["run_id"]
    assert len(computed["fingerprint_key"]) == 16
    assert (computed["source"]["connection"], computed["source"]["plugin"]) == ("hr", "alexis")
    assert (computed["target"]["connection"], computed["target"]["plugin"]) == (
        "payroll",
        "twentyfourseven-payroll",
    )
    assert document["summary"] == {
        "create": 3,
        "update": 2,
        "unchanged": 0,
        "skipped": 0,
        "problems": 3,
    }
    actions = document["actions"]
    assert [[a["entity"], a["key"], a["action"]] for a in actions] == PLANNED
    assert [list(a) for a in actions] == [
        ["entity", "key", "label", "action", "changes", "fingerprint"]
    ] * len(PLANNED)
    kari = actions[0]
    assert kari["label"] == "employee 1001 Kari Nordmann"
    assert kari["changes"] == [
        {"field": "email", "old": "old@firma.no", "new": "e1001@firma.no"},
        {"field": "postaddress", "old": "***", "new": "***"},
        {"field": "salary", "old": "***", "new": "***"},
        {"field": "salary_valid_from", "old": "2025-01-01", "new": "2026-01-01"},
    ]
    ingrid = {c["field"]: c["new"] for c in actions[1]["changes"]}
    assert (ingrid["personnr"], ingrid["account"], ingrid["salary"], ingrid["bic"]) == (
        "***",
        "***",
        "***",
        "ESSESESS",
    )
    assert {c["old"] for c in actions[1]["changes"]} == {None}  # a create, from nothing
    assert sum(group["count"] for group in document["problems"]) == 3
    assert writes_at(erp) == 0  # a plan writes nothing


def test_a_plan_keeps_personal_values_only_when_asked(systems, tmp_path):
    _, _, config = systems
    path = tmp_path / "plan.json"
    result = make_plan(config, path, "--show-personal-data")
    assert result.returncode == 1
    assert f"plan saved to {path}: apply it with `fjordsync apply {path}`" in result.stdout
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["personal_data"] == "shown"
    ingrid = {c["field"]: c["new"] for c in document["actions"][1]["changes"]}
    assert (ingrid["personnr"], ingrid["account"], ingrid["salary"]) == (
        "41018036736",
        "SE4550000000058398257466",
        "312.50",
    )
    masked_path = tmp_path / "masked.json"
    make_plan(config, masked_path)
    masked = json.loads(masked_path.read_text(encoding="utf-8"))
    # The same writes, the same fingerprints: the masked file is checked as exactly.
    assert [a["fingerprint"] for a in masked["actions"]] == [
        a["fingerprint"] for a in document["actions"]
    ]


def test_apply_carries_out_exactly_the_planned_writes(systems, tmp_path):
    _, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)
    before = state_of(erp)
    result = apply(path, "--json")
    assert result.returncode == 1, result.stderr  # the invalid records are still invalid
    document = json.loads(result.stdout)
    written = [
        [i["entity"], i["key"], i["action"]] for i in document["items"] if i["outcome"] == "written"
    ]
    assert written == PLANNED
    assert document["notes"] == []
    after = state_of(erp)
    assert sorted(e["empId"] for e in after["payroll/employee"]) == ["1001", "1002", "1005"]
    kari = employee(after, "payroll/employee", "empId", "1001")
    assert (kari["email"], kari["postaddress"], kari["salary"], kari["salary_valid_from"]) == (
        "e1001@firma.no",
        "Storgata 1",
        "54166.67",
        "2026-01-01",
    )
    ingrid = employee(after, "payroll/employee", "empId", "1002")
    assert (ingrid["personnr"], ingrid["account"], ingrid["salary"]) == (
        "41018036736",
        "SE4550000000058398257466",
        "312.50",
    )
    assert sorted(e["employment_id"] for e in after["payroll/employment"]) == ["1001-1", "1002-1"]
    # Nothing the plan did not name was touched.
    assert after["payroll/child"] == before["payroll/child"]
    again = make_plan(config, tmp_path / "again.json", "--json")
    assert json.loads(again.stdout)["plan"]["actions"] == []


def test_apply_refuses_when_the_source_changed_a_planned_record(systems, tmp_path):
    hr, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)

    def new_account(state):
        ingrid = employee(state, "employee", "employeeNumber", "1002")
        ingrid["bankAccount"] = {**ingrid["bankAccount"], "iban": "SE7280000810340009783242"}

    change_state(hr, new_account)
    result = apply(path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: the plan no longer holds: the source or the target changed since it was made. "
        "Nothing was written: make a new plan and review it. Changed:",
        "  employee 1002 Ingrid Berg (1002): its create differs from the reviewed one (now: "
        "account, bic, city, clearingno, countryCode, email, firstname, lastname, nationality, "
        "personnr, postaddress, salary, salary_type, salary_valid_from, zipcode)",
    ]
    assert "SE7280000810340009783242" not in result.stderr + result.stdout
    assert writes_at(erp) == 0
    refused = apply(path, "--json")
    assert json.loads(refused.stdout)["records"] == ["employee 1002 Ingrid Berg (1002)"]


def test_apply_refuses_when_the_target_changed_a_planned_record(systems, tmp_path):
    _, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)

    def clerk_edits_email(state):
        employee(state, "payroll/employee", "empId", "1001")["email"] = "kari@firma.no"

    change_state(erp, clerk_edits_email)
    result = apply(path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[1:] == [
        "  employee 1001 Kari Nordmann (1001): its update differs from the reviewed one (now: "
        "email, postaddress, salary, salary_valid_from)"
    ]
    assert writes_at(erp) == 0
    assert employee(state_of(erp), "payroll/employee", "empId", "1001")["email"] == (
        "kari@firma.no"
    )


def test_a_change_to_a_record_the_plan_does_not_write_is_held_back_not_refused(systems, tmp_path):
    hr, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)

    def correct_personal_number(state):
        # 1003 was invalid (a wrong check digit): now it would be created, but nobody reviewed it.
        employee(state, "employee", "employeeNumber", "1003")["ssn"] = "15108695088"

    change_state(hr, correct_personal_number)
    result = apply(path, "--json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    outcomes = {(i["entity"], i["key"]): (i["outcome"], i["message"]) for i in document["items"]}
    assert outcomes[("employee", "1003")] == (
        "skipped",
        "not in the reviewed plan: make a new plan",
    )
    written = [
        [i["entity"], i["key"], i["action"]] for i in document["items"] if i["outcome"] == "written"
    ]
    assert written == PLANNED
    assert document["notes"] == [
        "1 write(s) not in the reviewed plan were held back: make a new plan to review them"
    ]
    assert sorted(e["empId"] for e in state_of(erp)["payroll/employee"]) == ["1001", "1002", "1005"]
    shown = fjordsync("runs", "show", str(document["run_id"]), "--config", str(config), env=ENV)
    assert "1 write(s) not in the reviewed plan were held back" in shown.stdout


def test_a_write_that_changes_between_the_check_and_the_write_is_held_back(systems, tmp_path):
    """The fresh dry run finds the plan intact; then, before the real run reads, payroll's
    1001 changes: its write is held back, the others are written."""
    from fjordsync.cli.app import container, loaded_config
    from fjordsync.runtime.plans import apply_saved_plan, read_plan

    _, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)
    built = container(config=str(config))
    os.environ.update(ENV)
    try:
        loaded = loaded_config(built)
        clock = built.clock()
        calls = []

        def now():
            # apply reads the clock twice for its check (the plan, the dry run), then once as
            # the real run starts: the edit lands between the two.
            calls.append(None)
            if len(calls) == 3:
                change_state(
                    erp,
                    lambda s: employee(s, "payroll/employee", "empId", "1001").update(
                        city="Bergen"
                    ),
                )
            return clock.now()

        result = asyncio.run(
            apply_saved_plan(loaded, built.connectors(), built.ledger(), read_plan(path), now=now)
        )
    finally:
        for name in ENV:
            os.environ.pop(name, None)
        built.ledger().close()
    outcomes = {(i.entity, i.key): (i.outcome.value, i.message) for i in result.items}
    assert outcomes[("employee", "1001")] == (
        "skipped",
        "changed since the plan was reviewed: make a new plan",
    )
    assert [k for k, (outcome, _) in outcomes.items() if outcome == "written"] == [
        ("employee", "1002"),
        ("employee", "1005"),
        ("employment", "1001/m1"),
        ("employment", "1002/m2"),
    ]
    assert result.notes == [
        "1 write(s) of the plan changed after the check and were held back: make a new plan "
        "to review them"
    ]
    assert employee(state_of(erp), "payroll/employee", "empId", "1001")["email"] == "old@firma.no"


def test_a_plan_of_another_tenant_is_refused(systems, tmp_path):
    _, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)
    other = tmp_path / "beta.toml"
    other.write_text(
        config.read_text(encoding="utf-8").replace("tenants.acme.", "tenants.beta."),
        encoding="utf-8",
    )
    result = apply(path, "--config", str(other))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: the plan is for tenant 'acme', which {other} does not have (its tenants: "
        "beta): apply it with the config it was made with"
    ]
    assert writes_at(erp) == 0


def test_a_plan_of_another_ledger_is_refused(systems, tmp_path):
    _, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)
    moved = tmp_path / "moved.toml"
    moved.write_text(
        config.read_text(encoding="utf-8").replace("ledger.db", "other-ledger.db"),
        encoding="utf-8",
    )
    result = apply(path, "--config", str(moved))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: the plan was made with the ledger sqlite:///{tmp_path / 'ledger.db'}, not this "
        f"config's (sqlite:///{tmp_path / 'other-ledger.db'}): apply it with the config it was "
        "made with"
    ]
    assert writes_at(erp) == 0


def test_a_plan_checked_with_another_fingerprint_key_is_refused(systems, tmp_path):
    _, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)
    result = fjordsync("apply", str(path), env={**ENV, "FJORDSYNC_LEDGER_KEY": "another key"})
    assert result.stderr.splitlines() == [
        "error: the plan's fingerprints were made with another fingerprint key than this "
        "ledger's (FJORDSYNC_LEDGER_KEY or the ledger's key file differs): apply it where it "
        "was made"
    ]
    assert writes_at(erp) == 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            '{"format": "fjordsync-plan/1", "tenant": ',
            " is not a fjordsync plan: not JSON (line 1, column 42: Expecting value)",
        ),
        ("[1, 2]", ": not a fjordsync plan: the file holds no JSON object"),
        (
            '{"format": "terraform-plan/4"}',
            ": not a fjordsync plan (format 'terraform-plan/4'; this version reads "
            "'fjordsync-plan/1')",
        ),
        (
            '{"format": "fjordsync-plan/1", "tenant": "acme"}',
            ": the plan lacks flow, created_at, run_id, personal_data, computed_from, summary, "
            "actions, problems",
        ),
    ],
)
def test_a_garbled_plan_is_refused_in_one_line(tmp_path, content, reason):
    path = tmp_path / "plan.json"
    path.write_text(content, encoding="utf-8")
    result = apply(path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [f"error: {path}{reason}"]


def test_a_plan_whose_action_was_edited_by_hand_is_refused(systems, tmp_path):
    _, erp, config = systems
    path = tmp_path / "plan.json"
    make_plan(config, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["actions"][0]["action"] = "delete"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = apply(path)
    assert result.stderr.splitlines() == [
        f"error: {path}: the plan's action 1's action is 'delete', not create or update"
    ]
    assert writes_at(erp) == 0


def test_a_plan_to_a_missing_folder_is_refused_before_the_dry_run(systems, tmp_path):
    _, _, config = systems
    nowhere = tmp_path / "nowhere"
    result = make_plan(config, nowhere / "plan.json")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [f"error: --out: the folder {nowhere} does not exist"]
    assert not (tmp_path / "ledger.db").exists()  # no dry run was started
