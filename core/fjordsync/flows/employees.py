"""Flow 2, employees: ERP (24SevenOffice CRM persons) -> time registration (SmartDok users).

Key: the ERP's Contact id = SmartDok's employee number ("Ansattnummer"). Owned: the name
(first + last, cut to 50), the e-mail (required on create: without one the person is
``invalid``), the mobile number (as prefix and number). The user name is written on create
only. Before creating, the free SmartDok licences are counted: creates that do not fit are
``invalid`` with that reason, and the run says how many licences are missing.
"""

from __future__ import annotations

from dataclasses import replace

from fjordsync.domain.diff import Action, ActionKind, Decision, FieldSpec, Record, plan
from fjordsync.domain.model import Employee, InvalidRecord
from fjordsync.domain.rules import truncate
from fjordsync.flows.common import FlowContext, RunResult, apply_plan
from fjordsync.ports import EmployeeReader, EmployeeWriter, LicenseReader, Query

NAME_LIMIT = 50
SPEC = FieldSpec(owned={"name", "email", "mobile"})


def _view(employee: Employee) -> Record:
    name, _ = truncate(employee.full_name, NAME_LIMIT)
    email = employee.work_email or employee.private_email
    fields = {"name": name, "mobile": str(employee.mobile) if employee.mobile else None}
    # SmartDok requires an e-mail: a contact without one leaves the user's e-mail as it is.
    if email is not None:
        fields["email"] = email.key
    return Record(employee.key.strip(), fields, employee.target_key)


async def run(context: FlowContext, source: EmployeeReader, target: EmployeeReader) -> RunResult:
    assert isinstance(target, EmployeeWriter) and isinstance(target, LicenseReader)
    read = await source.read_employees(Query(scope=context.scope))
    people = {e.key.strip(): replace(e, key=e.key.strip()) for e in read if isinstance(e, Employee)}
    decided = [
        Decision(r.key, ActionKind.INVALID, r.message) for r in read if isinstance(r, InvalidRecord)
    ]
    current = [e for e in await target.read_employees(Query()) if isinstance(e, Employee)]
    known = {e.key.strip() for e in current}
    new = sorted(key for key in people if key not in known)
    for key in new:
        if people[key].work_email is None and people[key].private_email is None:
            decided.append(
                Decision(
                    key,
                    ActionKind.INVALID,
                    "has no e-mail address, which SmartDok needs to create a "
                    "user: add a primary e-mail to the contact in 24SevenOffice",
                )
            )
    creatable = [k for k in new if k not in {d.key for d in decided}]
    notes: list[str] = []
    if creatable:
        free = await target.free_licenses()
        if len(creatable) > free:
            missing = len(creatable) - free
            notes.append(
                f"{missing} SmartDok licence(s) missing: {len(creatable)} new users, {free} free"
            )
            for key in creatable[free:]:
                decided.append(
                    Decision(
                        key,
                        ActionKind.INVALID,
                        f"no free SmartDok licence ({missing} missing): buy "
                        "more or end users who have left",
                    )
                )
    the_plan = plan(
        [_view(e) for e in people.values()], [_view(e) for e in current], SPEC, decided=decided
    )
    fields = {"name": ("first_name", "last_name"), "email": ("work_email",), "mobile": ("mobile",)}

    async def write(action: Action) -> str:
        employee = people[action.key]
        if action.kind is ActionKind.CREATE:
            return await target.create_employee(employee)
        changed = [name for change in action.changes for name in fields[change.field]]
        return await target.update_employee(action.target_key or "", employee, changed)

    result = await apply_plan(context, the_plan, "employee", write)
    result.notes += notes
    return result
