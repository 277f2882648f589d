"""Flow 4, payroll-employees: HR (AlexisHR) -> payroll (24SevenOffice Lønn).

Key: the HR employee number = payroll's empId. Owned (compared and overwritten): names, contact
e-mail (work, else private), personal number and nationality, home address, bank account (number
or IBAN, BIC, clearing) and the current salary (latest compensation, converted to monthly or
hourly). Defaults (vacation days, the international id's type, working times, employment type)
are written on create only, so a clerk's later change stands. Employments follow their employee:
linked by the ledger (HR employment id -> payroll employment_id), created or updated.

Never guessed: HR employees sharing an employee number are all ``conflict`` (none is written:
one's bank account must never reach the other's payroll record), and so is an empId several
payroll employees share; likewise employments sharing an id. A compensation HR could not read
(an ``InvalidRecord`` of entity ``compensation``; its ``owner``, else the key before "/", is
the employee) makes the employee's current salary unknown: the employee is ``invalid``, never
paid an older salary, even when the unreadable one looks older: its date may be what could not
be read, so that it is older cannot be proved, and one rule holds for every unreadable row. A
latest salary of zero or less is invalid too (``rules.payroll_salary``). A payroll employee
that cannot be read makes the HR employee with its empId a ``conflict`` (a create would make a
second one); a payroll employment that cannot be read (its ``owner`` the empId) holds back that
employee's employment creates and the employment linked to it as ``conflict``: it may be the
one a create would make again.

Text rules (payroll takes JSON, which carries every character but a lone surrogate):
``firstname``, ``lastname``, ``postaddress``, ``zipcode`` and ``city`` lose their lone
surrogates (``rules.carriable_text(json=True)``), said in the item's message; control
characters arrive as they are. A first or last name empty after that (or only whitespace) is
``invalid`` ("first name is empty" / "last name is empty"), never sent for payroll to refuse.
The e-mail is never cleaned: an address without one of its characters is another address, so
an e-mail holding a character the target cannot carry makes the employee ``invalid``.

Exactly once, employees: a pending write is recorded before each create; reconcile rule:
payroll's employee list shows a created employee by its empId, so the next plan for it is
``unchanged`` (linked, not sent again) or ``update``.

Exactly once, employments: a pending write is recorded before each create; reconcile rule: a
pending employment is looked for among the employee's payroll employments that no link claims,
by its start date, before anything is sent: exactly one is linked (then updated if it differs);
none means the create never landed, so it is sent again; several is a ``conflict`` (a person
removes the extra one in Lønn), never a second create.
"""

from __future__ import annotations

from collections import defaultdict
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
from fjordsync.domain.matching import normalise_key
from fjordsync.domain.model import Compensation, Employee, Employment, InvalidRecord
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.rules import (
    carriable_text,
    contact_email,
    current_compensation,
    payroll_salary,
)
from fjordsync.errors import InvalidValue
from fjordsync.flows.common import (
    FlowContext,
    Outcome,
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
from fjordsync.flows.labels import employee_labels, names_of, person, unreadable
from fjordsync.ports import PayrollEmployeesSource, PayrollEmployeesTarget, Query

EMPLOYEE_FIELDS = (
    "firstname",
    "lastname",
    "email",
    "personnr",
    "nationality",
    "postaddress",
    "zipcode",
    "city",
    "countryCode",
    "account",
    "bic",
    "clearingno",
    "salary_type",
    "salary",
    "salary_valid_from",
)
EMPLOYEE_SPEC = FieldSpec(owned=EMPLOYEE_FIELDS)
EMPLOYMENT_FIELDS = (
    "startdate",
    "enddate",
    "enddate_reason",
    "employment_form",
    "employment_rate",
    "profession_code",
)
EMPLOYMENT_SPEC = FieldSpec(owned=EMPLOYMENT_FIELDS)
# The kind of problem each field a projection refuses stands for (``_sendable``, the salary
# rules); any other is an ``unreadable_value``.
PROBLEM_KINDS = {
    "workEmail": ProblemKind.CANNOT_CARRY,
    "privateEmail": ProblemKind.CANNOT_CARRY,
    "firstName": ProblemKind.CANNOT_CARRY,
    "lastName": ProblemKind.CANNOT_CARRY,
    "compensation.amount": ProblemKind.IMPLAUSIBLE_VALUE,
    "compensation.payoutPeriod": ProblemKind.CANNOT_CARRY,
    "compensation.effectiveDate": ProblemKind.AMBIGUOUS,
}


def employee_view(employee: Employee) -> Record:
    address = employee.home_address
    bank = employee.bank_account
    salary = employee.salary
    email = contact_email(employee.work_email, employee.private_email)
    return Record(
        employee.key.strip(),
        {
            "firstname": employee.first_name,
            "lastname": employee.last_name,
            "email": email.key if email else None,
            "personnr": str(employee.national_id) if employee.national_id else None,
            "nationality": employee.nationality,
            "postaddress": address.street if address else None,
            "zipcode": address.postal_code if address else None,
            "city": address.city if address else None,
            "countryCode": address.country if address else None,
            "account": bank.number if bank else None,
            "bic": bank.bic if bank else None,
            "clearingno": bank.clearing if bank else None,
            "salary_type": salary.salary_type.value if salary else None,
            "salary": salary.amount if salary else None,
            "salary_valid_from": salary.valid_from if salary else None,
        },
        employee.target_key,
    )


def employment_view(employment: Employment, key: str) -> Record:
    return Record(
        key,
        {
            "startdate": employment.period.start,
            "enddate": employment.period.end,
            "enddate_reason": employment.end_reason,
            "employment_form": employment.form,
            "employment_rate": employment.rate,
            "profession_code": employment.profession_code,
        },
        employment.target_key,
    )


def _with_salary(employee: Employee, compensations: list[Compensation], source: str) -> Employee:
    current = current_compensation(compensations)
    if current is None:
        return employee
    return replace(employee, salary=payroll_salary(current, source))


def _sendable(employee: Employee, source: str) -> tuple[Employee, str]:
    """The employee as payroll's JSON can carry them, and the item's note (module docstring's
    text rules); raises ``InvalidValue`` for what cannot be sent at all."""
    for field_name, email in (
        ("workEmail", employee.work_email),
        ("privateEmail", employee.private_email),
    ):
        if email is not None and carriable_text(str(email), json=True)[1]:
            raise InvalidValue(
                field_name,
                "holds a character that cannot be sent, and the address without it would be "
                f"another address: correct it in {source}",
            )
    notes = []
    first, note = carried("firstname", employee.first_name, json=True)
    notes.append(note)
    last, note = carried("lastname", employee.last_name, json=True)
    notes.append(note)
    for field_name, text, label in (("firstName", first, "first"), ("lastName", last, "last")):
        if not (text or "").strip():
            raise InvalidValue(field_name, f"is empty: add the {label} name in {source}")
    address = employee.home_address
    if address is not None:
        street, note = carried("postaddress", address.street, json=True)
        notes.append(note)
        postal_code, note = carried("zipcode", address.postal_code, json=True)
        notes.append(note)
        city, note = carried("city", address.city, json=True)
        notes.append(note)
        address = replace(address, street=street, postal_code=postal_code, city=city)
    cleaned = replace(employee, first_name=first or "", last_name=last or "", home_address=address)
    return cleaned, "; ".join(n for n in notes if n)


async def run(
    context: FlowContext, source: PayrollEmployeesSource, target: PayrollEmployeesTarget
) -> RunResult:
    source_system = context.source_wording.system
    query = Query(scope=context.scope)
    read = await source.read_employees(query)
    compensations: dict[str, list[Compensation]] = defaultdict(list)
    unreadable: dict[str, InvalidRecord] = {}  # employee -> a compensation of theirs unread
    for row in await source.read_compensations(query):
        if isinstance(row, Compensation):
            compensations[row.employee_key.strip()].append(row)
        elif isinstance(row, InvalidRecord):
            owner = (row.owner or row.key.partition("/")[0]).strip()
            unreadable.setdefault(owner, row)
    unique, decided = unique_by_key(read, lambda r: r.key)
    people: dict[str, Employee] = {}
    notes: dict[str, str] = {}
    for key, record in unique.items():
        if isinstance(record, InvalidRecord):
            decided.append(invalid(key, record))
        elif key in unreadable:
            row = unreadable[key]
            decided.append(
                Decision(
                    key,
                    ActionKind.INVALID,
                    f"{row.message}: the current salary cannot be known",
                    replace(row.problem, codes=(row.key,)),
                )
            )
        else:
            # One employee's bad data (or a bug it meets) never stops the others.
            made = project_safely(
                key,
                "employee",
                lambda r, k: _sendable(
                    _with_salary(replace(r, key=k), compensations[k], source_system),
                    source_system,
                ),
                record,
                key,
                kinds=PROBLEM_KINDS,
            )
            if isinstance(made, Decision):
                decided.append(made)
                continue
            people[key], note = made
            if note:
                notes[key] = note
    current, in_doubt = readable(await target.read_employees(Query()))
    current_views, unviewable = views_of(((e.key, e) for e in current), employee_view, "employee")
    in_doubt = {**unviewable, **in_doubt}
    held = held_by_unreadable(people, in_doubt)
    decided += held
    desired_views, failed = views_of(people.items(), employee_view, "employee")
    decided += invalid_views(failed)
    for decision in [*held, *invalid_views(failed)]:
        people.pop(decision.key, None)  # their employments wait with them
    the_plan = plan(desired_views, current_views, EMPLOYEE_SPEC, decided=decided)
    names = names_of(read)

    async def write_employee(action: Action) -> str:
        employee = people[action.key]
        if action.kind is ActionKind.CREATE:
            return await target.create_employee(employee)
        return await target.update_employee(
            action.target_key or action.key, employee, [c.field for c in action.changes]
        )

    result = await apply_plan(
        context,
        the_plan,
        "employee",
        write_employee,
        notes=notes,
        exactly_once=True,
        target_name=context.target_wording.system,
        labels=employee_labels(read, names),
    )
    # In payroll for their employments: there before, or written now. A dry run writes nothing,
    # so an employee it plans to create counts as written: its employments are planned as the
    # real run will make them (docs/flows.md, "What every flow does"), not skipped.
    there = {Outcome.WRITTEN, Outcome.PLANNED} if context.dry_run else {Outcome.WRITTEN}
    in_payroll = {e.key.strip() for e in current} | {
        i.key for i in result.items if i.entity == "employee" and i.outcome in there
    }
    employments = await _employments(context, source, target, people, in_payroll, names)
    result.items += employments.items
    result.stopped = result.stopped or employments.stopped
    return result


async def _employments(
    context: FlowContext,
    source: PayrollEmployeesSource,
    target: PayrollEmployeesTarget,
    people: dict[str, Employee],
    in_payroll: set[str],
    names: Mapping[str, str],
) -> RunResult:
    read = await source.read_employments(Query(scope=context.scope))
    links = context.state.links(context.tenant, context.flow, "employment")
    rows = await target.read_employments(Query(scope=context.scope))
    in_lonn, unreadable = readable(rows)
    payroll = {e.target_key: e for e in in_lonn}
    # Whose payroll employments cannot all be read: a create for them could make a second one.
    doubted: dict[str, InvalidRecord] = {}
    for row in rows:
        if isinstance(row, InvalidRecord):
            owner = (row.owner or "").strip()
            doubted.setdefault(owner or "*", row)
    desired: dict[str, Employment] = {}
    linked = {link.target_key for link in links.values()}
    unlinked: dict[str, list[Employment]] = defaultdict(list)
    for employment in payroll.values():
        if employment.target_key not in linked:
            unlinked[employment.employee_key].append(employment)
    unique, decided = unique_by_key(read, _employment_key)
    by_employee: dict[str, list[Employment]] = defaultdict(list)
    for record in unique.values():
        if isinstance(record, Employment):
            by_employee[record.employee_key].append(record)
    pending = (
        set()
        if context.dry_run
        else set(context.state.pending_writes(context.tenant, context.flow, "employment"))
    )
    # Pending ones first: the payroll employment a lost create made is theirs to claim.
    ordered = sorted(unique.items(), key=lambda item: item[0] not in pending)
    for key, record in ordered:
        if isinstance(record, InvalidRecord):
            decided.append(invalid(key, record))
            continue
        if record.employee_key not in people or record.employee_key not in in_payroll:
            decided.append(
                Decision(
                    key,
                    ActionKind.SKIP,
                    "the employee is not in payroll (see the employee's item)",
                    Problem(ProblemKind.NOT_IN_TARGET, "employee", (record.employee_key,)),
                )
            )
            continue
        link = links.get(key)
        if link is not None and link.target_key.strip() in unreadable:
            # The payroll employment this one is linked to: an update could not be compared.
            [held] = held_by_unreadable([link.target_key.strip()], unreadable)
            decided.append(replace(held, key=key))
            continue
        if link is None or link.target_key not in payroll:
            why = doubted.get(record.employee_key.strip(), doubted.get("*"))
            if why is not None:
                decided.append(
                    Decision(
                        key,
                        ActionKind.CONFLICT,
                        f"a payroll employment of employee {record.employee_key} cannot be read "
                        f"({why.message}): it may be this one, so none is created until it is "
                        f"corrected in {context.target_wording.system}",
                        Problem(
                            ProblemKind.UNREADABLE_TARGET,
                            why.problem.field,
                            (record.employee_key,),
                        ),
                    )
                )
                continue
        if link is not None:
            target_key = link.target_key
        elif key in pending:
            target_key, problem = _lost_create(
                record, unlinked[record.employee_key], context.target_wording.system
            )
            if problem:
                decided.append(
                    Decision(
                        key,
                        ActionKind.CONFLICT,
                        problem,
                        Problem(
                            ProblemKind.AMBIGUOUS, "employment.startDate", (record.employee_key,)
                        ),
                    )
                )
                continue
        else:
            target_key = _counterpart(
                record, unlinked[record.employee_key], len(by_employee[record.employee_key])
            )
        desired[key] = replace(record, target_key=target_key)
    current, unviewable = views_of(
        (
            (key, (payroll[d.target_key], key))
            for key, d in desired.items()
            if d.target_key in payroll
        ),
        lambda pair: employment_view(*pair),
        "employment",
    )
    decided += held_by_unreadable(unviewable, unviewable)
    wanted, failed = views_of(
        ((k, (e, k)) for k, e in desired.items()), lambda pair: employment_view(*pair), "employment"
    )
    decided += invalid_views(failed)
    the_plan = plan(wanted, current, EMPLOYMENT_SPEC, decided=decided)

    async def write(action: Action) -> str:
        employment = desired[action.key]
        return await target.save_employment(employment)

    return await apply_plan(
        context,
        the_plan,
        "employment",
        write,
        exactly_once=True,
        target_name=context.target_wording.system,
        labels=_employment_labels(read, names),
    )


def _employment_labels(
    read: Sequence[Employment | InvalidRecord], names: Mapping[str, str]
) -> dict[str, str]:
    """Each employment's label, "employee 1020 Eva Berg, employment from 2019-03-01"."""
    labels: dict[str, str] = {}
    for record in read:
        key = normalise_key(_employment_key(record))
        if isinstance(record, InvalidRecord):
            labels.setdefault(key, unreadable(record, "employment", names))
        else:
            labels.setdefault(
                key,
                f"{person(record.employee_key, names)}, employment from {record.period.start}",
            )
    return labels


def _employment_key(record: Employment | InvalidRecord) -> str:
    if isinstance(record, InvalidRecord):
        return record.key
    return f"{record.employee_key.strip()}/{record.key}"


def _lost_create(
    employment: Employment, unlinked: list[Employment], target: str
) -> tuple[str | None, str | None]:
    """The payroll employment an earlier create whose answer was lost made, found by the
    employee and start date among those no link claims: (its key, None); (None, None) when
    there is none, so the create never landed; (None, why) when several could be it."""
    same_start = [e for e in unlinked if e.period.start == employment.period.start]
    if len(same_start) == 1:
        unlinked.remove(same_start[0])
        return same_start[0].target_key, None
    if not same_start:
        return None, None
    return None, (
        f"an earlier create of this employment got no answer, and {len(same_start)} payroll "
        "employments of the employee that no link claims start that day: remove the extra "
        f"one in {target}"
    )


def _counterpart(employment: Employment, unlinked: list[Employment], siblings: int) -> str | None:
    """The payroll employment an HR employment already is, before they were ever linked: the one
    that starts the same day, else the only one when each side has only one. Never a guess among
    several: then a new employment is made."""
    same_start = [e for e in unlinked if e.period.start == employment.period.start]
    if len(same_start) == 1:
        unlinked.remove(same_start[0])
        return same_start[0].target_key
    if siblings == 1 and len(unlinked) == 1:
        return unlinked.pop().target_key
    return None
