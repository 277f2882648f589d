"""What the command shows: personal values masked by the domain's declaration, and the demo
wired from the flow registry and the connectors' ports, with no vendor named in the CLI."""

import io
import json

import pytest

from fjordsync.cli import render
from fjordsync.cli.demo import wiring
from fjordsync.domain.diff import ActionKind
from fjordsync.domain.model import PERSONAL_FIELDS, Employee
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.errors import FjordsyncError
from fjordsync.flows.common import ItemOutcome, Outcome, RunResult
from fjordsync.flows.payroll_employees import employee_view
from fjordsync.plugins import connectors, get_plugin_manager


def test_every_personal_value_a_plan_shows_is_masked():
    # The names the payroll plan gives the employee's personal data, and the domain's own.
    for name in ("personnr", "postaddress", "zipcode", "city", "account", "salary"):
        assert name in PERSONAL_FIELDS, name
    for name in ("national_id", "home_address", "bank_account"):
        assert name in PERSONAL_FIELDS, name
    view = employee_view(Employee("7", "Kari", "Nordmann"))
    assert set(view.fields) - PERSONAL_FIELDS == {
        "firstname",
        "lastname",
        "email",
        "nationality",
        "countryCode",
        "bic",
        "clearingno",
        "salary_type",
        "salary_valid_from",
    }


def test_the_json_document_masks_personal_values_unless_asked():
    item = ItemOutcome(
        "employee",
        "7",
        ActionKind.UPDATE,
        Outcome.PLANNED,
        changes=(("personnr", None, "15108695088"), ("firstname", "Kari", "Karin")),
    )
    result = RunResult(1, "payroll-employees", "acme", True, [item])
    masked = render.result_document(result, show_personal=False)["items"][0]["changes"]
    assert masked == [
        {"field": "personnr", "old": "(none)", "new": "***"},
        {"field": "firstname", "old": "Kari", "new": "Karin"},
    ]
    shown = render.result_document(result, show_personal=True)["items"][0]["changes"]
    assert shown[0]["new"] == "15108695088"


def test_the_demo_is_wired_by_the_flows_roles():
    registered = connectors(get_plugin_manager())
    ports = {
        name: registered[name].connector.capabilities
        for name in ("alexis", "smartdok", "twentyfourseven", "twentyfourseven-payroll")
    }
    connections, flows = wiring(ports)
    assert connections == {
        "erp": "twentyfourseven",
        "time": "smartdok",
        "hr": "alexis",
        "payroll": "twentyfourseven-payroll",
    }
    assert flows == {
        "projects": ("erp", "time"),
        "employees": ("erp", "time"),
        "hours": ("time", "erp"),
        "payroll-employees": ("hr", "payroll"),
        "absences": ("hr", "payroll"),
    }


def test_a_role_two_connectors_could_take_is_an_error_not_a_guess():
    registered = connectors(get_plugin_manager())
    ports = {name: registered[name].connector.capabilities for name in ("memory", "smartdok")}
    with pytest.raises(FjordsyncError, match="could be any of memory, smartdok"):
        wiring(ports)


@pytest.mark.parametrize("count", [0, 1, 3])
@pytest.mark.parametrize("show_personal", [False, True])
def test_the_json_document_written_item_by_item_is_the_document_json_dumps_prints(
    count, show_personal
):
    items = [
        ItemOutcome(
            "hour",
            f"900{number}",
            ActionKind.UPDATE,
            Outcome.WRITTEN,
            'comment: "ÆØÅ" \x1b kept',
            (("personnr", None, "15108695088"), ("comment", "Før", "Etter\n")),
            label=f"employee 2001, 2026-10-0{number + 1}",
        )
        for number in range(count)
    ]
    items += [  # with a problem beside the writes, when there are items at all
        ItemOutcome(
            "hour",
            "8001",
            ActionKind.INVALID,
            Outcome.INVALID,
            "activity code 01.1 has no Work Type ID 01.1",
            problem=Problem(ProblemKind.MISSING_REFERENCE, "activity", ("01.1",)),
        )
    ][:count]
    result = RunResult(
        7, "hours", "acme", False, items, notes=["2 hour(s) are not yet marked exported"]
    )
    result.new_problems, result.known_problems = 1, 0
    out = io.StringIO()
    render.write_result_document(out, result, show_personal)
    expected = json.dumps(render.result_document(result, show_personal), indent=2) + "\n"
    assert out.getvalue() == expected


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "-"),
        (0.42, "0.4 s"),
        (9.94, "9.9 s"),
        (12.4, "12 s"),
        (185, "3 min 05 s"),
        (3725, "1 h 02 min"),
    ],
)
def test_a_runs_duration_reads_as_a_clerk_says_it(seconds, shown):
    assert render.duration(seconds) == shown


def _items(outcome, action, count, **extra):
    return [ItemOutcome("hour", f"{outcome}-{n}", action, outcome, **extra) for n in range(count)]


def test_the_summary_line_says_what_a_plan_will_do_and_a_run_did():
    items = (
        _items(Outcome.PLANNED, ActionKind.CREATE, 3)
        + _items(Outcome.PLANNED, ActionKind.UPDATE, 12)
        + _items(Outcome.UNCHANGED, ActionKind.UNCHANGED, 1287)
        + _items(Outcome.INVALID, ActionKind.INVALID, 4)
    )
    assert render.summary(items, dry_run=True) == (
        "3 to create, 12 to update, 1,287 unchanged, 4 problems"
    )
    done = (
        _items(Outcome.WRITTEN, ActionKind.CREATE, 3)
        + _items(Outcome.WRITTEN, ActionKind.UPDATE, 1)
        + _items(Outcome.SKIPPED, ActionKind.SKIP, 2)
        + _items(Outcome.DEFERRED, ActionKind.CREATE, 5)
        + _items(Outcome.INVALID, ActionKind.INVALID, 1344)
        + _items(Outcome.FAILED, ActionKind.CREATE, 2)
    )
    assert render.summary(done, dry_run=False) == (
        "3 created, 1 updated, 2 skipped, 5 deferred to the next run, "
        "1,346 problems (1,344 invalid, 2 failed)"
    )
    assert render.summary([], dry_run=False) == "nothing to do"


def test_a_runs_output_lists_its_writes_and_groups_its_problems():
    from rich.console import Console

    missing = Problem(ProblemKind.MISSING_REFERENCE, "activity", ("01.1",))
    items = [
        ItemOutcome(
            "employee",
            "7",
            ActionKind.CREATE,
            Outcome.WRITTEN,
            changes=(("firstname", None, "Kari"), ("personnr", None, "15108695088")),
            label="employee 7 Kari",
        ),
        *(
            ItemOutcome(
                "hour",
                f"80{n}",
                ActionKind.INVALID,
                Outcome.INVALID,
                "activity code 01.1 has no Work Type ID 01.1",
                problem=missing,
                label=f"employee 7 Kari, 2026-10-0{n}",
            )
            for n in range(1, 8)
        ),
        ItemOutcome("hour", "9", ActionKind.UNCHANGED, Outcome.UNCHANGED),
    ]
    result = RunResult(4, "hours", "acme", False, items, notes=["a note"])
    result.new_problems, result.known_problems = 2, 5
    console = Console(file=io.StringIO(), width=120, color_system=None)
    render.print_result(console, result, show_personal=False)
    assert shown_lines(console.file.getvalue()) == [
        "Run 4: hours for acme",
        "1 created, 1 unchanged, 7 problems. Status: partial",
        ["record", "action", "outcome", "details"],
        ["employee 7 Kari (7)", "create", "written", "firstname: Kari"],
        ["", "", "", "personnr: ***"],
        "Problems: 7 records, 1 cause",
        ["count", "outcome", "problem and fix", "records"],
        [
            "7",
            "invalid",
            "activity code 01.1 has no Work Type ID 01.1",
            "employee 7 Kari, 2026-10-01",
        ],
        *(["", "", "", f"employee 7 Kari, 2026-10-0{n}"] for n in range(2, 6)),
        ["", "", "", "and 2 more"],
        "Every record: `fjordsync runs show 4 --outcome invalid`",
        "2 new problems, 5 known",
        "note: a note",
    ]


def shown_lines(output: str) -> list[str | list[str]]:
    """A console's lines as a reader takes them: a table row as its cells, the borders left
    out, other lines stripped."""
    lines: list[str | list[str]] = []
    for line in output.splitlines():
        text = line.strip()
        if text[:1] in ("┏", "┡", "└"):
            continue
        if text[:1] in ("│", "┃"):
            lines.append([cell.strip() for cell in text[1:-1].replace("┃", "│").split("│")])
        else:
            lines.append(text)
    return lines
