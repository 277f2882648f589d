"""Flow 1, projects: ERP (24SevenOffice) -> time registration (SmartDok).

Key: the ERP's project id = SmartDok's project number (trimmed). Owned: name (cut to SmartDok's
70 characters, reported), active (deactivated in the ERP -> inactive), start and end dates,
customer name. The number is written on create only. Read incrementally from the ERP by the
time of the last run that settled everything: the cursor does not move while any record was
invalid, failed, was deferred or is in conflict (an invalid project must be read again once it
is corrected, and an unchanged corrected project is read only if the cursor waited for it), nor
while a create's outcome is still unknown, nor after a ``--retry-failed`` run (it planned only
some of the records read).

Never guessed: ERP projects sharing an id are all ``conflict`` (none is written), and so is a
number several SmartDok projects share, and a number whose SmartDok project cannot be read
(``conflict``: creating it would make a second project). Text rules: the name and the customer
name lose the characters XML cannot carry (``rules.carriable_text``), said in the item's
message; a name that is empty after that (or only whitespace) is ``invalid`` ("name is empty"),
never sent for SmartDok to refuse.

Exactly once: a pending write is recorded before each create. Reconcile rule: SmartDok's project
list shows a created project by its number, so on the next run the plan for a pending number is
``unchanged`` (linked, not sent again) or ``update``; only a number SmartDok does not list is
created again. A pending number the ERP read no longer returns (it was read incrementally) is
reconciled against SmartDok by its number alone: listed there is linked, not listed is
forgotten (nothing was made; the create happens when the project is read again), so a pending
write never holds the cursor for ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

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
from fjordsync.domain.model import InvalidRecord, Project
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.rules import truncate
from fjordsync.flows.common import (
    FlowContext,
    ItemOutcome,
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
from fjordsync.flows.labels import text, unreadable
from fjordsync.ports import ProjectsSource, ProjectsTarget, Query

SPEC = FieldSpec(owned={"name", "active", "start", "end", "customer_name"})
CURSOR = "changed_after"
ENTITY = "project"


def _view(project: Project) -> Record:
    return Record(
        project.key.strip(),
        {
            "name": project.name,
            "active": project.active,
            "start": project.start,
            "end": project.end,
            "customer_name": project.customer_name or None,
        },
        project.target_key,
    )


def _sendable(context: FlowContext, project: Project) -> tuple[Project, str] | Decision:
    """The project as the target can take it (its ``project.name`` limit), and what had to
    change, for its item; or its ``invalid`` decision when what is left cannot be sent."""
    name, name_note = carried("name", project.name)
    if not (name or "").strip():
        return Decision(
            project.key.strip(),
            ActionKind.INVALID,
            f"name is empty: give the project a name in {context.source_wording.system}",
            Problem(ProblemKind.CANNOT_CARRY, "name"),
        )
    name = name or ""
    customer, customer_note = carried("customer name", project.customer_name)
    said = [note for note in (name_note, customer_note) if note]
    limit = context.target_wording.limit("project.name")
    cut_name, cut = truncate(name, limit) if limit is not None else (name, False)
    if cut:
        said.append(
            f"the name is {len(name)} characters; {context.target_wording.system} takes "
            f"{limit}, so it was cut"
        )
    sendable = replace(
        project,
        key=project.key.strip(),
        name=cut_name,
        customer_name=customer,
    )
    return sendable, "; ".join(said)


async def run(context: FlowContext, source: ProjectsSource, target: ProjectsTarget) -> RunResult:
    since_text = context.state.cursor(context.tenant, context.flow, CURSOR)
    since = datetime.fromisoformat(since_text) if since_text else None
    read = await source.read_projects(Query(scope=context.scope, changed_since=since))
    unique, decided = unique_by_key(read, lambda r: r.key)
    notes: dict[str, str] = {}
    desired: dict[str, Project] = {}
    for key, record in unique.items():
        if isinstance(record, InvalidRecord):
            decided.append(invalid(key, record))
            continue
        made = project_safely(key, ENTITY, _sendable, context, record)
        if isinstance(made, Decision):
            decided.append(made)
            continue
        desired[key], note = made
        if note:
            notes[key] = note
    current, unreadable = readable(await target.read_projects(Query()))
    current_views, unviewable = views_of(((p.key, p) for p in current), _view, ENTITY)
    unreadable = {**unviewable, **unreadable}
    decided += held_by_unreadable(desired, unreadable)
    desired_views, failed = views_of(desired.items(), _view, ENTITY)
    decided += invalid_views(failed)
    early = _reconcile_unread(context, current, set(unreadable), read=set(unique))
    the_plan = plan(desired_views, current_views, SPEC, decided=decided)
    labels = _labels(read, desired)

    async def write(action: Action) -> str:
        project = desired[action.key]
        if action.kind is ActionKind.CREATE:
            return await target.create_project(project)
        return await target.update_project(
            action.target_key or "", project, [c.field for c in action.changes]
        )

    result = await apply_plan(
        context,
        the_plan,
        ENTITY,
        write,
        notes=notes,
        exactly_once=True,
        target_name=context.target_wording.system,
        labels=labels,
    )
    result.items = sorted([*early, *result.items], key=lambda item: (item.entity, item.key))
    settled = all(i.outcome.settled for i in result.items)
    retry = bool(context.scope.record_keys)
    if not context.dry_run and settled and not retry and not _unconfirmed(context):
        context.state.advance_cursor(context.tenant, context.flow, CURSOR, context.now.isoformat())
    return result


def _labels(
    read: Sequence[Project | InvalidRecord], sendable: Mapping[str, Project]
) -> dict[str, str]:
    """Each project's label, "project 1004 Gang- og sykkelvei" (the name as it is sent, when
    it can be); one that could not be read, or several sharing a number, by what was read
    first."""
    labels = {key: f"project {key} {text(project.name)}" for key, project in sendable.items()}
    for record in read:
        key = normalise_key(record.key)
        if key in labels:
            continue
        if isinstance(record, InvalidRecord):
            labels[key] = unreadable(record, ENTITY, {})
        else:
            labels[key] = f"project {key} {text(record.name)}".rstrip()
    return labels


def _reconcile_unread(
    context: FlowContext, current: list[Project], unreadable: set[str], read: set[str]
) -> list[ItemOutcome]:
    """Pending creates of projects this run did not read (the read is incremental), settled by
    SmartDok's list alone: a number it lists once is linked; a number it does not list is
    forgotten, since nothing was made and the project is created when it is read again. A
    number listed several times (or unreadable) stays pending: a person decides first. A dry
    run changes nothing: it shows each link the real run will make as ``planned``."""
    pending = context.state.pending_writes(context.tenant, context.flow, ENTITY)
    by_number: dict[str, list[Project]] = {}
    for project in current:
        by_number.setdefault(project.key.strip(), []).append(project)
    items = []
    for key in sorted(pending):
        if key in read or key in unreadable:
            # Read this run: apply_plan reconciles it with its plan. Unreadable in SmartDok: it
            # may be the project that was made, so it stays pending until a person corrects it.
            continue
        held = by_number.get(key, [])
        if not held and not context.dry_run:
            context.state.forget_pending(
                tenant=context.tenant, flow=context.flow, entity=ENTITY, source_key=key
            )
            continue
        if len(held) != 1 or not held[0].target_key:
            continue
        label = f"project {key} {text(held[0].name)}"
        if context.dry_run:
            message = (
                f"found in {context.target_wording.system} after an answer was lost: it will "
                "be linked, not sent again"
            )
            items.append(
                ItemOutcome(ENTITY, key, ActionKind.CREATE, Outcome.PLANNED, message, label=label)
            )
            continue
        message = (
            f"found in {context.target_wording.system} after an answer was lost: linked, not "
            "sent again"
        )
        context.state.record_write(
            context.run_id,
            tenant=context.tenant,
            flow=context.flow,
            entity=ENTITY,
            source_key=key,
            target_key=held[0].target_key,
            fingerprint=fingerprint(dict(_view(held[0]).fields), context.state.fingerprint_key),
            action=ActionKind.CREATE.value,
            message=message,
        )
        items.append(
            ItemOutcome(ENTITY, key, ActionKind.CREATE, Outcome.WRITTEN, message, label=label)
        )
    return items


def _unconfirmed(context: FlowContext) -> bool:
    """Creates whose outcome is still unknown: the cursor must not pass them."""
    return bool(context.state.pending_writes(context.tenant, context.flow, ENTITY))
