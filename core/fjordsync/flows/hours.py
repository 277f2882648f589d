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
(``conflict``). Reconcile rule: a pending hour is looked up by its marker (``find_time_entry``)
before anything is sent; found is linked, not found is sent again with the same marker, and a
lookup that fails leaves the hour ``failed`` and still pending: it is never sent blind.

Transferred hours are marked exported in SmartDok. The mark is owed from the moment the hour's
link is saved (same transaction), so a kill or a failing ``mark_exported`` loses nothing: the
next run sends the owed marks first, and a mark that fails stays owed and is named in a note.

Never guessed: hours sharing a WorkHourID are all ``conflict``; clock times outside the entry's
day (00-24) or a stop before the start are ``invalid``. Two or more ERP hours carrying one
SmartDok hour's marker (``TimeEntry.marker``, read from ``InternalNote``) make that hour a
``conflict`` ("N hours in <the target> carry the marker of hour K: remove all but one by
hand"): nothing is sent, linked or reconciled for it, since either could be the transfer. A
linked hour whose ERP hour cannot be read is a ``conflict`` too: whether it is locked or
approved there cannot be seen. Text rules: the comment (``Description``) loses the characters
XML cannot carry (``rules.carriable_text``), said in the item's message; the marker is
fjordsync's own text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from fjordsync.domain.diff import (
    Action,
    ActionKind,
    Decision,
    FieldSpec,
    Record,
    fingerprint,
    plan,
    unique_by_key,
)
from fjordsync.domain.matching import normalise_key
from fjordsync.domain.model import CodeItem, InvalidRecord, Project, TimeEntry
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.rules import carriable_text, clock_time_problem
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
    marker_for,
    project_safely,
    readable,
    unexpected,
)
from fjordsync.flows.labels import names_of, person, unreadable
from fjordsync.ports import HoursSource, HoursTarget, Query

ENTITY = "hour"
SPEC = FieldSpec(owned={"fingerprint"})


__all__ = ["default_period", "marker_for", "run"]


def export_id(context: FlowContext) -> str:
    return f"fjordsync-{context.tenant}"


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


# An update's old values: the ledger keeps a fingerprint of what was sent, never the values.
NOT_KEPT = "(not kept)"


def _described(action: Action, entry: TimeEntry) -> tuple[tuple[str, object, object], ...]:
    """What a write of ``entry`` sends, as (field, old, new): the plan compares fingerprints,
    a clerk reads the hour's fields (old ones are not kept)."""
    old = None if action.kind is ActionKind.CREATE else NOT_KEPT
    return tuple((name, old, value) for name, value in _values(entry).items() if value is not None)


def _not_sendable(
    context: FlowContext,
    key: str,
    entry: TimeEntry,
    contacts: set[str],
    projects: set[str],
    work_types: set[str],
    salary_types: set[str],
) -> Decision | None:
    """The hour's ``invalid`` decision when its clock times are not of its day, a reference
    resolves to nothing in the target (``missing_reference``: the subject and the code) or it
    holds more hours than the target takes; None when it can be sent."""
    # Without clock times there is nothing to check (most hours): no day built for them.
    no_clock = entry.start is None and entry.stop is None
    clock = None if no_clock else clock_time_problem(entry.day, entry.start, entry.stop)
    if clock:
        problem = Problem.of_message(clock, ProblemKind.IMPLAUSIBLE_VALUE)
        return Decision(key, ActionKind.INVALID, clock, problem)
    for subject, code, known in (
        ("employee", entry.employee_key, contacts),
        ("project", entry.project_key, projects),
        ("activity", entry.work_type_code, work_types),
        ("wage", entry.salary_type_code, salary_types),
    ):
        if code not in known:
            codes = (code,) if code is not None else ()
            problem = Problem(ProblemKind.MISSING_REFERENCE, subject, codes)
            return Decision(key, ActionKind.INVALID, _missing(context, problem), problem)
    limit = context.target_wording.limit("time_entry.hours")
    if limit is not None and entry.hours > limit:
        return Decision(
            key,
            ActionKind.INVALID,
            f"{entry.hours} hours is more than {context.target_wording.system} takes ({limit})",
            Problem(ProblemKind.IMPLAUSIBLE_VALUE, "time_entry.hours"),
        )
    return None


def _missing(context: FlowContext, problem: Problem) -> str:
    """The text of a ``missing_reference``: the source's code, the target's field it should be
    and where the source's is set, in the systems' own words."""
    source, target = context.source_wording, context.target_wording
    subject = problem.field or ""
    code = problem.codes[0] if problem.codes else None
    return (
        f"{source.code(subject).noun} {code} has no {target.code(subject).name} {code} "
        f"in {target.system}: {source.code(subject).fix}"
    )


def _marker_twice(context: FlowContext, problem: Problem, carriers: int) -> str:
    """The text of a marker ``carriers`` target hours carry (``duplicate_key`` of the marker)."""
    [key] = problem.codes
    return (
        f"{carriers} hours in {context.target_wording.system} carry the marker of hour {key}: "
        "remove all but one by hand"
    )


async def run(
    context: FlowContext, source: HoursSource, target: HoursTarget, *, period: DateRange
) -> RunResult:
    notes: list[str] = []
    if not context.dry_run:  # marks owed by earlier runs first, before anything new is sent
        notes += await _send_owed_marks(context, source)
    read = await source.read_time_entries(Query(scope=context.scope, period=period))
    unique, decided = unique_by_key(read, lambda r: r.key)
    entries: dict[str, TimeEntry] = {}
    item_notes: dict[str, str] = {}
    for source_key, record in unique.items():
        if isinstance(record, InvalidRecord):
            decided.append(invalid(source_key, record))
        elif record.approved:
            made = project_safely(source_key, ENTITY, _sendable, record)
            if isinstance(made, Decision):
                decided.append(made)
                continue
            entries[source_key], note = made
            if note:
                item_notes[source_key] = note
    # The ERP's contacts: the employee numbers an hour may name, and their names for the labels.
    names = names_of(await target.read_employees(Query()))
    contacts = set(names)
    labels = _labels(read, unique, entries, decided, names)
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
        refused = project_safely(
            key,
            ENTITY,
            _not_sendable,
            context,
            key,
            entry,
            contacts,
            projects,
            work_types,
            salary_types,
        )
        if refused is not None:
            decided.append(refused)
    links = context.state.links(context.tenant, context.flow, ENTITY)
    in_erp_read, unreadable = readable(await target.read_time_entries(Query(period=period)))
    target_hours = {t.target_key: t for t in in_erp_read if isinstance(t, TimeEntry)}
    carrying: dict[str, int] = {}  # marker -> how many ERP hours carry it
    for hour in target_hours.values():
        if hour.marker:
            carrying[hour.marker.strip()] = carrying.get(hour.marker.strip(), 0) + 1
    for source_key in entries:
        twice = carrying.get(marker_for(context, source_key), 0)
        if twice > 1:
            problem = Problem(ProblemKind.DUPLICATE_KEY, "time_entry.marker", (source_key,))
            decided.append(
                Decision(
                    source_key, ActionKind.CONFLICT, _marker_twice(context, problem, twice), problem
                )
            )
        link = links.get(source_key)
        if link is not None and link.target_key.strip() in unreadable:
            # Whether the ERP hour is locked or approved cannot be seen: nothing is sent.
            [held_back] = held_by_unreadable([link.target_key.strip()], unreadable)
            decided.append(replace(held_back, key=source_key))
    held = {d.key for d in decided}
    entries = {k: e for k, e in entries.items() if k not in held}

    reconciled, unresolved = await _reconcile_pending(context, target, entries, labels)
    for source_key in [*reconciled, *unresolved]:  # nothing more to plan for them
        entries.pop(source_key)
    secret = context.state.fingerprint_key
    digests: dict[str, str] = {}  # source key -> fingerprint of the hour as it would be sent
    for source_key, entry in list(entries.items()):
        digest = project_safely(
            source_key, ENTITY, lambda e: fingerprint(_values(e), secret), entry
        )
        if isinstance(digest, Decision):
            decided.append(digest)
            entries.pop(source_key)
            continue
        digests[source_key] = digest
        link = links.get(source_key)
        if link is None:
            continue
        in_erp = target_hours.get(link.target_key)
        changed = link.fingerprint != digest
        if changed and in_erp is not None and (in_erp.locked or in_erp.approved):
            state = "approved" if in_erp.approved else "locked"
            decided.append(
                Decision(
                    source_key,
                    ActionKind.CONFLICT,
                    f"the hour was changed in {context.source_wording.system} after transfer, "
                    f"but it is {state} in {context.target_wording.system}: change it there by "
                    "hand",
                    Problem(ProblemKind.TARGET_LOCKED, codes=(link.target_key,)),
                )
            )
    # The plan's records are made as it reads them and let go once planned: 100,000 hours are
    # not held as records as well as entries, digests and links.
    desired = (Record(key, {"fingerprint": digest}) for key, digest in digests.items())
    current = (
        Record(key, {"fingerprint": links[key].fingerprint}, links[key].target_key)
        for key in digests
        if key in links
    )
    the_plan = plan(desired, current, SPEC, decided=decided)

    async def write(action: Action) -> str:
        entry = entries[action.key]
        marker = marker_for(context, action.key)
        if action.kind is ActionKind.CREATE:
            return await target.save_time_entry(entry, marker)
        return await target.save_time_entry(replace(entry, target_key=action.target_key), marker)

    result = await apply_plan(
        context,
        the_plan,
        ENTITY,
        write,
        notes=item_notes,
        fingerprints=digests,
        exactly_once=True,
        target_name=context.target_wording.system,
        owe_mark=export_id(context),
        labels=labels,
        describe=lambda action: _described(action, entries[action.key]),
    )
    result.items += unresolved.values()
    for source_key in reconciled:
        # A dry run links nothing: it shows the link the real run will make.
        result.items.append(
            ItemOutcome(
                ENTITY,
                source_key,
                ActionKind.CREATE,
                Outcome.PLANNED if context.dry_run else Outcome.WRITTEN,
                f"found in {context.target_wording.system} by its marker after an answer "
                f"was lost: {'it will be ' if context.dry_run else ''}linked, not sent again",
                label=labels.get(source_key, ""),
            )
        )
    result.items.sort(key=lambda item: (item.entity, item.key))
    if not context.dry_run:  # this run's transfers were saved as owed with their links
        notes += await _send_owed_marks(context, source)
    result.notes += notes
    return result


def _label(record: TimeEntry | InvalidRecord, names: Mapping[str, str]) -> str:
    """An hour's label: employee number and name, day, project ("employee 1001 Nora Larsen,
    2026-10-05, project 1004"; ``flows.labels``)."""
    if isinstance(record, InvalidRecord):
        return unreadable(record, ENTITY, names)
    project = record.project_key.strip()
    return f"{person(record.employee_key, names)}, {record.day}, project {project}"


def _labels(
    read: Sequence[TimeEntry | InvalidRecord],
    unique: Mapping[str, TimeEntry | InvalidRecord],
    entries: Mapping[str, TimeEntry],
    decided: list[Decision],
    names: Mapping[str, str],
) -> dict[str, str]:
    """The label of every hour the plan holds: those to send and those already decided (not
    read, not sendable, sharing a key); hours not approved are never planned, so never
    labelled."""
    # 100,000 hours name a few hundred employees and days: each one's text is made once.
    people: dict[str, str] = {}
    days: dict[date, str] = {}
    labels: dict[str, str] = {}
    for key, entry in entries.items():
        who = people.get(entry.employee_key)
        if who is None:
            who = people[entry.employee_key] = person(entry.employee_key, names)
        day = days.get(entry.day)
        if day is None:
            day = days[entry.day] = str(entry.day)
        labels[key] = f"{who}, {day}, project {entry.project_key.strip()}"
    shared: set[str] = set()
    for decision in decided:
        record = unique.get(decision.key)
        if record is None:
            shared.add(decision.key)
        elif decision.key not in labels:
            labels[decision.key] = _label(record, names)
    if shared:  # hours sharing a key: labelled by the first read (rare: only then a second pass)
        for record in read:
            key = normalise_key(record.key)
            if key in shared and key not in labels:
                labels[key] = _label(record, names)
    return labels


def _sendable(entry: TimeEntry) -> tuple[TimeEntry, str]:
    """The entry as it can be sent, and a note when its comment had to lose characters."""
    if not entry.comment or entry.comment.isprintable():
        # A printable text holds no control character, surrogate or U+FFFE/U+FFFF: nothing to
        # remove, known without carriable_text's look at each character (most comments).
        return entry, ""
    comment, removed = carriable_text(entry.comment)
    if not removed:
        return entry, ""
    return replace(entry, comment=comment), (
        f"comment: {removed} character(s) that cannot be sent (control characters) were removed"
    )


async def _send_owed_marks(context: FlowContext, source: HoursSource) -> list[str]:
    """Tell the source about every transferred hour it has not been told about, then settle those
    marks; a failure keeps them owed (for the next run) and says so in a note."""
    by_export: dict[str, list[str]] = {}
    for source_key, export in context.state.owed_marks(context.tenant, context.flow).items():
        if source_key.strip():  # an hour without its id can never be marked: never sent
            by_export.setdefault(export, []).append(source_key)
    notes = []
    for export, keys in sorted(by_export.items()):
        try:
            await source.mark_exported(sorted(keys), export)
        except Exception as error:
            if not isinstance(error, ConnectorError):
                LOG.exception("marking %d hours exported failed", len(keys))
            why = str(error) if isinstance(error, ConnectorError) else unexpected(error, "")
            notes.append(
                f"{len(keys)} hour(s) transferred to {context.target_wording.system} are not yet "
                f"marked exported in {context.source_wording.system} ({why}); they stay owed and "
                "are marked first next run"
            )
            continue
        context.state.settle_marks(context.tenant, context.flow, keys)
    return notes


async def _reconcile_pending(
    context: FlowContext,
    target: HoursTarget,
    entries: dict[str, TimeEntry],
    labels: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, ItemOutcome]]:
    """Writes whose outcome a previous run never learnt: found in the ERP by their marker are
    linked now (and not sent again); not found may be sent again; a lookup that fails leaves
    the hour pending and ``failed`` (returned second), never sent blind."""
    found: dict[str, str] = {}
    unresolved: dict[str, ItemOutcome] = {}
    pending = context.state.pending_writes(context.tenant, context.flow, ENTITY)
    for source_key, marker in pending.items():
        entry = entries.get(source_key)
        if entry is None:
            continue
        try:
            target_key = await target.find_time_entry(entry, marker)
        except Exception as error:
            if not isinstance(error, ConnectorError):
                LOG.exception("looking up pending hour %s failed", source_key)
            why = (
                str(error)
                if isinstance(error, ConnectorError)
                else unexpected(error, "looking it up")
            )
            unresolved[source_key] = ItemOutcome(
                ENTITY,
                source_key,
                ActionKind.CREATE,
                Outcome.FAILED,
                f"an earlier transfer got no answer and it could not be checked ({why}): "
                "not sent again until it can",
                label=labels.get(source_key, ""),
            )
            if not context.dry_run:
                context.state.record_item(
                    context.run_id,
                    entity=ENTITY,
                    key=source_key,
                    action=ActionKind.CREATE,
                    outcome=Outcome.FAILED,
                    message=unresolved[source_key].message,
                    label=unresolved[source_key].label or None,
                )
            continue
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
            action=ActionKind.CREATE,
            message="reconciled: found by its marker",
            owed_mark=export_id(context),
        )
        found[source_key] = target_key
    return found, unresolved


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
