"""Flow 3, hours: approved hours from time registration (SmartDok) to the ERP (24SevenOffice),
each exactly once.

Every reference is resolved by the codes the customer aligned (seed 000): the employee number
must be a Contact id, the project number a Project id, the activity code a Work Type ID and the
wage code a Salary Type ID in the ERP; a reference that does not resolve makes the hour
``invalid``, saying which code is missing and where to fix it.

Exactly once: each hour's link (SmartDok id -> ERP hour id, fingerprint) is kept in the ledger.
Before a new hour is sent, a pending write with a marker is recorded; the marker goes into the
ERP hour. If the answer is lost or the process dies, the next run finds the pending write,
looks for the marker in the ERP, and links the hour it finds instead of sending it again. An hour
edited after transfer updates the same ERP hour, unless it is locked or approved there
(``conflict``). Transferred hours are marked exported in SmartDok.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from fjordsync.domain.diff import Action, ActionKind, Decision, FieldSpec, Record, fingerprint, plan
from fjordsync.domain.model import CodeItem, Employee, InvalidRecord, Project, TimeEntry
from fjordsync.domain.values import DateRange
from fjordsync.flows.common import FlowContext, ItemOutcome, RunResult, apply_plan
from fjordsync.ports import (
    CodeListReader,
    EmployeeReader,
    ExportMarker,
    ProjectReader,
    Query,
    TimeEntryReader,
    TimeEntryWriter,
)

ENTITY = "hour"
MAX_HOURS = 255
SPEC = FieldSpec(owned={"fingerprint"})


def marker_for(context: FlowContext, source_key: str) -> str:
    return f"fjordsync:{context.tenant}:{source_key}"


def _values(entry: TimeEntry) -> dict[str, object]:
    return {
        "contact": entry.employee_key,
        "project": entry.project_key,
        "work_type": entry.work_type_code,
        "salary_type": entry.salary_type_code,
        "start": entry.start,
        "stop": entry.stop,
        "hours": entry.hours,
        "comment": entry.comment,
    }


def _missing_reference(
    entry: TimeEntry,
    contacts: set[str],
    projects: set[str],
    work_types: set[str],
    salary_types: set[str],
) -> str | None:
    if entry.employee_key not in contacts:
        return (
            f"employee number {entry.employee_key} has no Contact id {entry.employee_key} "
            "in 24SevenOffice: set Ansattnummer under Firmaopplysninger -> Brukeroversikt "
            "in SmartDok"
        )
    if entry.project_key not in projects:
        return (
            f"project number {entry.project_key} has no Project id {entry.project_key} in "
            "24SevenOffice: set the prosjektnummer (Pro.Nr) of the project in SmartDok"
        )
    if entry.work_type_code not in work_types:
        return (
            f"activity code {entry.work_type_code} has no Work Type ID "
            f"{entry.work_type_code} in 24SevenOffice: set Kode under Firmaopplysninger -> "
            "Aktiviteter"
        )
    if entry.salary_type_code not in salary_types:
        return (
            f"wage code {entry.salary_type_code} has no Salary Type ID "
            f"{entry.salary_type_code} in 24SevenOffice: set Kode under Firmaopplysninger "
            "-> Lønnsarter"
        )
    if entry.hours > MAX_HOURS:
        return f"{entry.hours} hours is more than 24SevenOffice takes ({MAX_HOURS})"
    return None


async def run(
    context: FlowContext, source: TimeEntryReader, target: TimeEntryWriter, *, period: DateRange
) -> RunResult:
    assert isinstance(source, ExportMarker) and isinstance(target, CodeListReader)
    assert isinstance(target, EmployeeReader) and isinstance(target, ProjectReader)
    assert isinstance(target, TimeEntryReader)
    read = await source.read_time_entries(Query(scope=context.scope, period=period))
    entries = {e.key: e for e in read if isinstance(e, TimeEntry) and e.approved}
    decided = [
        Decision(r.key, ActionKind.INVALID, r.message) for r in read if isinstance(r, InvalidRecord)
    ]
    contacts = {
        e.key.strip() for e in await target.read_employees(Query()) if isinstance(e, Employee)
    }
    projects = {
        p.key.strip() for p in await target.read_projects(Query()) if isinstance(p, Project)
    }
    work_types = {
        c.code
        for c in await target.read_codes("work_types")
        if isinstance(c, CodeItem) and c.active
    }
    salary_types = {
        c.code
        for c in await target.read_codes("salary_types")
        if isinstance(c, CodeItem) and c.active
    }
    for key, entry in entries.items():
        problem = _missing_reference(entry, contacts, projects, work_types, salary_types)
        if problem:
            decided.append(Decision(key, ActionKind.INVALID, problem))

    reconciled = await _reconcile_pending(context, target, entries)
    for source_key in reconciled:  # linked now: nothing more to plan for them
        entries.pop(source_key)
    links = context.state.links(context.tenant, context.flow, ENTITY)
    target_hours = {
        t.target_key: t
        for t in await target.read_time_entries(Query(period=period))
        if isinstance(t, TimeEntry)
    }
    key = context.state.fingerprint_key
    desired, current = [], []
    for source_key, entry in entries.items():
        desired.append(Record(source_key, {"fingerprint": fingerprint(_values(entry), key)}))
        link = links.get(source_key)
        if link is None:
            continue
        current.append(Record(source_key, {"fingerprint": link.fingerprint}, link.target_key))
        in_erp = target_hours.get(link.target_key)
        changed = link.fingerprint != desired[-1].fields["fingerprint"]
        if changed and in_erp is not None and (in_erp.locked or in_erp.approved):
            state = "approved" if in_erp.approved else "locked"
            decided.append(
                Decision(
                    source_key,
                    ActionKind.CONFLICT,
                    f"the hour was changed in SmartDok after transfer, but it is "
                    f"{state} in 24SevenOffice: change it there by hand",
                )
            )
    the_plan = plan(desired, current, SPEC, decided=decided)

    async def write(action: Action) -> str:
        entry = entries[action.key]
        marker = marker_for(context, action.key)
        if action.kind is ActionKind.CREATE:
            context.state.begin_write(
                context.run_id,
                tenant=context.tenant,
                flow=context.flow,
                entity=ENTITY,
                source_key=action.key,
                marker=marker,
            )
            return await target.save_time_entry(entry, marker)
        return await target.save_time_entry(replace(entry, target_key=action.target_key), marker)

    result = await apply_plan(
        context,
        the_plan,
        ENTITY,
        write,
        fingerprints={record.key: record.fields["fingerprint"] for record in desired},
    )
    for source_key in reconciled:
        result.items.append(
            ItemOutcome(
                ENTITY,
                source_key,
                "create",
                "written",
                "found in 24SevenOffice by its marker after an answer "
                "was lost: linked, not sent again",
            )
        )
    if not context.dry_run:
        transferred = sorted(i.key for i in result.items if i.outcome == "written")
        if transferred:
            await source.mark_exported(transferred, f"fjordsync-{context.tenant}")
    return result


async def _reconcile_pending(
    context: FlowContext, target: TimeEntryWriter, entries: dict[str, TimeEntry]
) -> dict[str, str]:
    """Writes whose outcome a previous run never learnt: found in the ERP by their marker are
    linked now (and not sent again); not found may be sent again."""
    found: dict[str, str] = {}
    pending = context.state.pending_writes(context.tenant, context.flow, ENTITY)
    for source_key, marker in pending.items():
        entry = entries.get(source_key)
        if entry is None:
            continue
        target_key = await target.find_time_entry(entry, marker)
        if context.dry_run:
            if target_key is not None:
                found[source_key] = target_key
            continue
        if target_key is None:
            context.state.forget_pending(
                tenant=context.tenant, flow=context.flow, entity=ENTITY, source_key=source_key
            )
            continue
        context.state.record_write(
            context.run_id,
            tenant=context.tenant,
            flow=context.flow,
            entity=ENTITY,
            source_key=source_key,
            target_key=target_key,
            fingerprint=fingerprint(_values(entry), context.state.fingerprint_key),
            action="create",
            message="reconciled: found by its marker",
        )
        found[source_key] = target_key
    return found


def default_period(now: datetime) -> DateRange:
    """Without --from/--to: from the first day of the previous month to today."""
    today = now.date()
    first_of_month = today.replace(day=1)
    previous = (
        first_of_month.replace(year=first_of_month.year - 1, month=12)
        if first_of_month.month == 1
        else first_of_month.replace(month=first_of_month.month - 1)
    )
    return DateRange(previous, today)
