"""Flow 2, employees: ERP (24SevenOffice CRM persons) -> time registration (SmartDok users).

Key: the ERP's Contact id = SmartDok's employee number ("Ansattnummer"). Owned: the name
(first + last, cut to 50), the e-mail (required on create: without one the person is
``invalid``), the mobile number (as prefix and number). The user name is written on create
only. Before creating, the free SmartDok licences are counted: creates that do not fit are
``invalid`` with that reason, and the run says how many licences are missing.

Never guessed: CRM persons sharing a Contact id are all ``conflict`` (none is written), and so
is an employee number several SmartDok users share, and a number whose SmartDok user cannot be
read (``conflict``: creating it would make a second user). Text rules: the first and last name
lose the characters XML cannot carry (``rules.carriable_text``), said in the item's message; a
name empty after that (or only whitespace) is ``invalid`` ("name is empty"), never sent for
SmartDok to refuse. E-mail addresses and phone numbers are value objects that cannot hold such
characters (an address without one would be another address).

Exactly once: a pending write is recorded before each user is created. Reconcile rule: SmartDok's
user list shows a created user by its employee number, so on the next run the plan for a pending
number is ``unchanged`` (linked, not sent again) or ``update``; only a number SmartDok does not
list is created again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from fjordsync.domain.diff import (
    Action,
    ActionKind,
    Decision,
    FieldSpec,
    Record,
    plan,
    unique_by_key,
)
from fjordsync.domain.model import Employee, InvalidRecord
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.rules import truncate
from fjordsync.flows.common import (
    FlowContext,
    RunResult,
    apply_plan,
    carried,
    held_by_unreadable,
    invalid,
    invalid_views,
    project_safely,
    readable,
    views_of,
)
from fjordsync.flows.labels import employee_labels, names_of, text
from fjordsync.ports import EmployeesSource, EmployeesTarget, Query

SPEC = FieldSpec(owned={"name", "email", "mobile"})


def _view(employee: Employee, limit: int | None = None) -> Record:
    name, _ = (
        truncate(employee.full_name, limit) if limit is not None else (employee.full_name, False)
    )
    email = employee.work_email or employee.private_email
    fields = {"name": name, "mobile": str(employee.mobile) if employee.mobile else None}
    # The target requires an e-mail: a contact without one leaves the user's e-mail as it is.
    if email is not None:
        fields["email"] = email.key
    return Record(employee.key.strip(), fields, employee.target_key)


def _sendable(context: FlowContext, employee: Employee) -> tuple[Employee, str] | Decision:
    """The person as the target can take them and the item's note, or their ``invalid``
    decision: the target's one name is first and last name, so it is empty only when both
    are."""
    first, _ = carried("name", employee.first_name)
    last, _ = carried("name", employee.last_name)
    first, last = first or "", last or ""
    if not (first.strip() or last.strip()):
        return Decision(
            employee.key,
            ActionKind.INVALID,
            "name is empty: give the contact a first or last name in "
            f"{context.source_wording.system}",
            Problem(ProblemKind.CANNOT_CARRY, "name"),
        )
    removed = len(employee.first_name or "") + len(employee.last_name or "") - len(first + last)
    if not removed:
        return employee, ""
    note = f"name: {removed} character(s) that cannot be sent (control characters) were removed"
    return replace(employee, first_name=first, last_name=last), note


def _labels(
    read: Sequence[Employee | InvalidRecord], people: Mapping[str, Employee]
) -> dict[str, str]:
    """Each person's label, "employee 1001 Nora Larsen" (the name as it is sent, when it can
    be); one that could not be read, or several sharing a number, by what was read first."""
    names = {key: text(employee.full_name) for key, employee in people.items()}
    return employee_labels(read, {**names_of(read), **names})


async def run(context: FlowContext, source: EmployeesSource, target: EmployeesTarget) -> RunResult:
    read = await source.read_employees(Query(scope=context.scope))
    unique, decided = unique_by_key(read, lambda r: r.key)
    people: dict[str, Employee] = {}
    item_notes: dict[str, str] = {}
    for key, record in unique.items():
        if isinstance(record, InvalidRecord):
            decided.append(invalid(key, record))
            continue
        made = project_safely(
            key, "employee", lambda r, k: _sendable(context, replace(r, key=k)), record, key
        )
        if isinstance(made, Decision):
            decided.append(made)
            continue
        people[key], note = made
        if note:
            item_notes[key] = note
    current, unreadable = readable(await target.read_employees(Query()))
    source_system, target_system = context.source_wording.system, context.target_wording.system
    limit = context.target_wording.limit("employee.name")

    def view(employee: Employee) -> Record:
        return _view(employee, limit)

    current_views, unviewable = views_of(((e.key, e) for e in current), view, "employee")
    unreadable = {**unviewable, **unreadable}
    decided += held_by_unreadable(people, unreadable)
    desired_views, failed = views_of(people.items(), view, "employee")
    decided += invalid_views(failed)
    # A number the target holds but cannot read is not new: never a create, nor a licence.
    known = {e.key.strip() for e in current} | set(unreadable)
    new = sorted(key for key in people if key not in known)
    for key in new:
        if people[key].work_email is None and people[key].private_email is None:
            decided.append(
                Decision(
                    key,
                    ActionKind.INVALID,
                    f"has no e-mail address, which {target_system} needs to create a "
                    f"user: add a primary e-mail to the contact in {source_system}",
                    Problem(ProblemKind.CANNOT_CARRY, "email"),
                )
            )
    creatable = [k for k in new if k not in {d.key for d in decided}]
    notes: list[str] = []
    if creatable:
        free = await target.free_licenses()
        if len(creatable) > free:
            missing = len(creatable) - free
            notes.append(
                f"{missing} {target_system} licence(s) missing: {len(creatable)} new users, "
                f"{free} free"
            )
            for key in creatable[free:]:
                decided.append(
                    Decision(
                        key,
                        ActionKind.INVALID,
                        f"no free {target_system} licence ({missing} missing): buy "
                        "more or end users who have left",
                        Problem(ProblemKind.NO_CAPACITY),
                    )
                )
    the_plan = plan(desired_views, current_views, SPEC, decided=decided)
    labels = _labels(read, people)
    fields = {"name": ("first_name", "last_name"), "email": ("work_email",), "mobile": ("mobile",)}

    async def write(action: Action) -> str:
        employee = people[action.key]
        if action.kind is ActionKind.CREATE:
            return await target.create_employee(employee)
        changed = [name for change in action.changes for name in fields[change.field]]
        return await target.update_employee(action.target_key or "", employee, changed)

    result = await apply_plan(
        context,
        the_plan,
        "employee",
        write,
        notes=item_notes,
        exactly_once=True,
        target_name=target_system,
        labels=labels,
    )
    result.notes += notes
    return result
