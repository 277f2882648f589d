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
