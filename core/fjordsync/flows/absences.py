"""Flow 5, absences: HR (AlexisHR) -> payroll (24SevenOffice Lønn), for a chosen period,
employees and absence types.

Each approved or confirmed leave becomes one payroll absence keyed by the HR leave id
(``externalId``), so a re-run updates it instead of making another. Vacation (04) carries its
number of Norwegian working days. Sick child (02) needs the payroll id of the child: the
employee's only child in payroll; none, or several to choose between, is ``invalid``. A leave
cancelled or denied after it was exported cannot be deleted through the payroll API: it is a
``conflict`` asking the clerk to remove it in Lønn.

Never guessed: a leave without an end date is ``invalid`` ("the leave has no end date; payroll
needs one", raised by ``Absence`` and reported by the source as an ``InvalidRecord``): payroll
absences are closed periods. Leaves sharing an id are all ``conflict``, and so is an
``externalId`` several payroll absences share, and one whose payroll absence cannot be read (a
create would make a second absence). A payroll absence whose ``externalId`` itself cannot be
read (the adapter keys it ``payroll:<serialNo>``, with its employee as ``owner``) may be any of
that employee's leaves: their creates are held back as ``conflict`` until it is corrected. An
employee whose payroll record cannot be read holds back their leaves the same way. Looking up
a sick child's payroll id, or working out a leave's days, that fails makes that leave alone
``failed``/``invalid``; the run goes on.

A leave type that resolves to no payroll absence code (the reader's ``missing_reference`` of
``leave.type``, the type's name first among its codes) is ``invalid`` with the fix: the TOML lines
to add to this tenant's config and the valid codes (``unmapped_leave_type``; the preflight check
proposes the same). Its problem is the reader's, one per leave type, so problems group by type.

Text: an absence carries no free text (codes, dates, numbers and ids only), so no text rule
applies.

Exactly once: a pending write is recorded before each absence is created. Reconcile rule:
payroll lists each absence with its ``externalId`` (the HR leave id) and the adapter's save
looks it up by that id before creating, so on the next run a pending leave payroll already has
is ``unchanged`` (linked, not sent again) or ``update``; only one payroll does not list is sent
again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from fjordsync.domain.codes import AbsenceCode, LeaveStatus
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
from fjordsync.domain.model import Absence, Employee, InvalidRecord
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.rules import norwegian_working_days
from fjordsync.domain.values import DateRange
from fjordsync.errors import ConnectorError
from fjordsync.flows.common import (
    LOG,
    FlowContext,
    ItemOutcome,
    Outcome,
    RunResult,
    apply_plan,
    held_by_unreadable,
    invalid,
    invalid_views,
    readable,
    unexpected,
    views_of,
)
from fjordsync.flows.labels import names_of, person, text, unreadable
from fjordsync.ports import AbsencesSource, AbsencesTarget, Query

__all__ = ["LEAVE_TYPE", "run", "unmapped_leave_type"]

SPEC = FieldSpec(owned={"employee", "code", "start", "end", "percent", "days", "child"})
# The field of a leave whose type resolves to no payroll code (``missing_reference``, with the
# type's name first among its codes): the flow and the check say what to add to the config.
LEAVE_TYPE = "leave.type"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _view(absence: Absence, days: int | None) -> Record:
    return Record(
        absence.key,
        {
            "employee": absence.employee_key,
            "code": absence.code.value,
            "start": absence.period.start,
            "end": absence.period.end,
            "percent": absence.percent,
            "days": days,
            "child": absence.child_id,
        },
        absence.target_key,
    )


def _days(absence: Absence) -> int | None:
    if absence.code is AbsenceCode.VACATION:
        return norwegian_working_days(absence.period)
    return None


async def run(
    context: FlowContext, source: AbsencesSource, target: AbsencesTarget, *, period: DateRange
) -> RunResult:
    read = await source.read_absences(
        Query(scope=context.scope, period=period, mapping=context.mapping)
    )
    rows = await target.read_absences(Query(period=period))
    current_read, unreadable = readable(rows)
    # Payroll absences whose externalId could not be read: whose they are is all that is known.
    unkeyed = {
        (row.owner or "").strip(): row
        for row in rows
        if isinstance(row, InvalidRecord) and row.key.startswith("payroll:")
    }
    current, in_doubt = unique_by_key(current_read, lambda a: a.key, side="target")
    staff, staff_unreadable = readable(await target.read_employees(Query()))
    in_payroll = {e.key.strip() for e in staff if isinstance(e, Employee)}
    labels = _labels(read, names_of(staff))
    unique, decided = unique_by_key(read, lambda r: r.key)
    doubtful = {d.key for d in in_doubt}
    decided += [d for d in in_doubt if d.key in unique]
    held = held_by_unreadable(
        [k for k, r in unique.items() if not isinstance(r, InvalidRecord)], unreadable
    )
    decided += held
    doubtful |= {d.key for d in held}
    failed: list[ItemOutcome] = []
    desired: dict[str, Absence] = {}
    for key, record in unique.items():
        if isinstance(record, InvalidRecord):
            decided.append(_unmapped(context, key, record) or invalid(key, record))
            continue
        if key in doubtful:
            continue
        if record.status.is_withdrawn:
            if key in current:
                decided.append(
                    Decision(
                        key,
                        ActionKind.CONFLICT,
                        f"{record.status.value.lower()} in {context.source_wording.system} after "
                        "it was exported; absences cannot be deleted through the "
                        f"API: remove it in {context.target_wording.system}",
                        Problem(ProblemKind.WITHDRAWN, "absence.status", (key,)),
                    )
                )
            continue
        if record.status not in (LeaveStatus.APPROVED, LeaveStatus.CONFIRMED):
            continue
        if record.employee_key.strip() in staff_unreadable:
            staff_row = staff_unreadable[record.employee_key.strip()]
            decided.append(
                Decision(
                    key,
                    ActionKind.CONFLICT,
                    f"employee {record.employee_key}'s payroll record cannot be read "
                    f"({staff_row.message}): correct it in "
                    f"{context.target_wording.system} first",
                    Problem(
                        ProblemKind.UNREADABLE_TARGET,
                        staff_row.problem.field,
                        (record.employee_key,),
                    ),
                )
            )
            continue
        if key not in current and record.employee_key.strip() in unkeyed:
            unkeyed_row = unkeyed[record.employee_key.strip()]
            decided.append(
                Decision(
                    key,
                    ActionKind.CONFLICT,
                    f"a payroll absence of employee {record.employee_key} cannot be read "
                    f"({unkeyed_row.message}): it may be this leave, so none "
                    f"is created until it is corrected in {context.target_wording.system}",
                    Problem(
                        ProblemKind.UNREADABLE_TARGET,
                        unkeyed_row.problem.field,
                        (record.employee_key,),
                    ),
                )
            )
            continue
        if record.employee_key not in in_payroll:
            decided.append(
                Decision(
                    key,
                    ActionKind.INVALID,
                    f"employee {record.employee_key} is not in payroll yet: "
                    "run payroll-employees first",
                    Problem(ProblemKind.NOT_IN_TARGET, "employee", (record.employee_key,)),
                )
            )
            continue
        absence = replace(record, target_key=current[key].target_key if key in current else None)
        if absence.code is AbsenceCode.SICK_CHILD:
            try:
                children = await target.read_child_ids(absence.employee_key)
            except Exception as error:  # this leave alone cannot be planned; the run goes on
                if not isinstance(error, ConnectorError):
                    LOG.exception("reading the children of leave %s's employee failed", key)
                why = (
                    str(error)
                    if isinstance(error, ConnectorError)
                    else unexpected(error, "reading the employee's children")
                )
                failed.append(
                    ItemOutcome(
                        "absence",
                        key,
                        ActionKind.CREATE if key not in current else ActionKind.UPDATE,
                        Outcome.FAILED,
                        f"sick child (02) needs the child's payroll id, which could not be read "
                        f"({why})",
                        problem=None
                        if isinstance(error, ConnectorError)
                        else Problem(ProblemKind.UNEXPECTED, "child"),
                        label=labels.get(key, ""),
                    )
                )
                continue
            if len(children) != 1:
                payroll = context.target_wording.short_name
                why = (
                    f"no child registered in payroll: add the child in {payroll}"
                    if not children
                    else f"{len(children)} children in payroll: register this one in {payroll}"
                )
                decided.append(
                    Decision(
                        key,
                        ActionKind.INVALID,
                        f"sick child (02) needs the child's payroll id, and the employee has {why}",
                        Problem(
                            ProblemKind.MISSING_REFERENCE
                            if not children
                            else ProblemKind.AMBIGUOUS,
                            "child",
                        ),
                    )
                )
                continue
            absence = replace(absence, child_id=children[0])
        desired[key] = absence
    have, unviewable = views_of(current.items(), lambda a: _view(a, _days(a)), "absence")
    decided += held_by_unreadable([k for k in desired if k in unviewable], unviewable)
    want, unplannable = views_of(desired.items(), lambda a: _view(a, _days(a)), "absence")
    decided += invalid_views(unplannable)
    the_plan = plan(want, have, SPEC, decided=decided)

    async def write(action: Action) -> str:
        absence = desired[action.key]
        return await target.save_absence(absence, _days(absence))

    result = await apply_plan(
        context,
        the_plan,
        "absence",
        write,
        exactly_once=True,
        target_name=context.target_wording.system,
        labels=labels,
    )
    for item in failed:  # kept in the history like every item apply_plan records
        if context.scope.record_keys and item.key not in context.scope.record_keys:
            continue  # a retry plans only the records it names
        context.state.record_item(
            context.run_id,
            entity=item.entity,
            key=item.key,
            action=item.action,
            outcome=item.outcome,
            message=item.message,
            label=item.label or None,
            problem=item.problem,
        )
        result.items.append(item)
    result.items.sort(key=lambda item: (item.entity, item.key))
    return result


def _labels(read: Sequence[Absence | InvalidRecord], names: Mapping[str, str]) -> dict[str, str]:
    """Each leave's label, "employee 1003 Ingrid Lund, Sykmelding 2026-02-03..2026-02-07": the
    employee's number and name (as payroll has it), the source's name for the leave type (else
    payroll's name for its code) and the period."""
    labels: dict[str, str] = {}
    for record in read:
        key = normalise_key(record.key)
        if key in labels:
            continue
        if isinstance(record, InvalidRecord):
            labels[key] = unreadable(record, "leave", names)
            continue
        kind = text(record.leave_type) or record.code.type.payroll_name
        period = f"{record.period.start}..{record.period.end}"
        labels[key] = f"{person(record.employee_key, names)}, {kind} {period}"
    return labels


def _unmapped(context: FlowContext, key: str, record: InvalidRecord) -> Decision | None:
    """The ``invalid`` decision of a leave whose type resolves to no payroll absence code
    (``missing_reference`` of ``leave.type``, the type's name first among its codes), saying
    what to paste into this tenant's config and which codes there are; None for any other
    unreadable leave. Its problem stays the reader's: one problem per leave type."""
    problem = record.problem
    if problem.kind is not ProblemKind.MISSING_REFERENCE or problem.field != LEAVE_TYPE:
        return None
    if not problem.codes:
        return None
    what, fix = unmapped_leave_type(problem.codes, context.tenant, context.flow)
    return Decision(key, ActionKind.INVALID, f"{what}: {fix}", problem)


def unmapped_leave_type(codes: Sequence[str], tenant: str, flow: str) -> tuple[str, str]:
    """What is wrong with a leave type that has no payroll absence code, and the fix: the TOML
    lines to add to the config (``[tenants.T.flows.F.mapping.absence_types]``, the type's name =
    a code) and the valid codes. ``codes`` is its problem's: the type's name, then, when the
    reader gives it, the company's own code for it."""
    name = codes[0]
    own = f" (code {codes[1]})" if len(codes) > 1 and codes[1] else ""
    table = ".".join(_toml_key(part) for part in ("tenants", tenant, "flows", flow, "mapping"))
    valid = ", ".join(f"{code.value} {code.type.payroll_name}" for code in AbsenceCode)
    return (
        f"leave type {name!r}{own} has no payroll absence code",
        f"add it to the config:\n    [{table}.absence_types]\n    {_toml_string(name)} = "
        f'"<code>"\nvalid codes: {valid}',
    )


def _toml_key(text: str) -> str:
    """A TOML key: bare when it may be, else quoted."""
    return text if text and _BARE_KEY.fullmatch(text) else _toml_string(text)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's): letters such as "ø" stay as they are;
    a text with a character that cannot be printed is escaped whole."""
    return json.dumps(text, ensure_ascii=not text.isprintable())
