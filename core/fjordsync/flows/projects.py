"""Flow 1, projects: ERP (24SevenOffice) -> time registration (SmartDok).

Key: the ERP's project id = SmartDok's project number (trimmed). Owned: name (cut to SmartDok's
70 characters, reported), active (deactivated in the ERP -> inactive), start and end dates,
customer name. The number is written on create only. Read incrementally from the ERP by the
time of the last run whose writes all got through: the cursor does not move while anything
failed, was deferred or is in conflict, nor while a create's outcome is still unknown.

Never guessed: ERP projects sharing an id are all ``conflict`` (none is written), and so is a
number several SmartDok projects share. Names lose the characters XML cannot carry
(``rules.carriable_text``), said in the item's message.

Exactly once: a pending write is recorded before each create. Reconcile rule: SmartDok's project
list shows a created project by its number, so on the next run the plan for a pending number is
``unchanged`` (linked, not sent again) or ``update``; only a number SmartDok does not list is
created again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from fjordsync.domain.diff import (
    Action,
    ActionKind,
    Decision,
    FieldSpec,
    Record,
    plan,
    unique_by_key,
)
from fjordsync.domain.model import InvalidRecord, Project
from fjordsync.domain.rules import carriable_text, truncate
from fjordsync.flows.common import FlowContext, RunResult, apply_plan
from fjordsync.ports import ProjectReader, ProjectWriter, Query

NAME_LIMIT = 70
SPEC = FieldSpec(owned={"name", "active", "start", "end", "customer_name"})
CURSOR = "changed_after"
ENTITY = "project"
UNSETTLED = ("failed", "deferred", "conflict")


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


def _sendable(project: Project) -> tuple[Project, str]:
    """The project as SmartDok can take it, and what had to change, for its item."""
    said = []
    name, removed = carriable_text(project.name)
    if removed:
        said.append(
            f"name: {removed} character(s) that cannot be sent (control characters) were removed"
        )
    customer, removed_customer = carriable_text(project.customer_name or "")
    if removed_customer:
        said.append(
            f"customer name: {removed_customer} character(s) that cannot be sent (control "
            "characters) were removed"
        )
    cut_name, cut = truncate(name, NAME_LIMIT)
    if cut:
        said.append(
            f"the name is {len(name)} characters; SmartDok takes {NAME_LIMIT}, so it was cut"
        )
    sendable = replace(
        project,
        key=project.key.strip(),
        name=cut_name,
        customer_name=customer if project.customer_name is not None else None,
    )
    return sendable, "; ".join(said)


async def run(context: FlowContext, source: ProjectReader, target: ProjectReader) -> RunResult:
    assert isinstance(target, ProjectWriter)
    since_text = context.state.cursor(context.tenant, context.flow, CURSOR)
    since = datetime.fromisoformat(since_text) if since_text else None
    read = await source.read_projects(Query(scope=context.scope, changed_since=since))
    unique, decided = unique_by_key(read, lambda r: r.key)
    notes: dict[str, str] = {}
    desired: dict[str, Project] = {}
    for key, record in unique.items():
        if isinstance(record, InvalidRecord):
            decided.append(Decision(key, ActionKind.INVALID, record.message))
            continue
        desired[key], note = _sendable(record)
        if note:
            notes[key] = note
    current = [p for p in await target.read_projects(Query()) if isinstance(p, Project)]
    the_plan = plan(
        [_view(p) for p in desired.values()],
        [_view(p) for p in current],
        SPEC,
        decided=decided,
    )

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
        target_name="SmartDok",
    )
    settled = not any(i.outcome in UNSETTLED for i in result.items)
    if not context.dry_run and settled and not _unconfirmed(context):
        context.state.advance_cursor(context.tenant, context.flow, CURSOR, context.now.isoformat())
    return result


def _unconfirmed(context: FlowContext) -> bool:
    """Creates whose outcome is still unknown: the cursor must not pass them."""
    return bool(context.state.pending_writes(context.tenant, context.flow, ENTITY))
