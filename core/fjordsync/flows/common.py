"""What every flow does the same way: apply a plan within a concurrency limit, record each
record's outcome, and end with a status and counts.

Flows are plain async functions over ports; the ledger is seen through ``SyncState``. A write
that fails is recorded as ``failed`` with the error's message (which names system, operation and
record, never personal data) and the run goes on; a rate limit stops the writes that have not
started, and they are left for the next run. An error that is not a ``ConnectorError`` (a bug, a
value an adapter could not handle) is that record's ``failed`` too, named by its class only: its
text may hold the values; the trace goes to the log under the record's key.

Exactly once (``exactly_once=True``): before a create is sent, a pending write is recorded. If
the answer is lost or the process dies, the next run finds the pending write and, because the
target read shows what was created by its key, the plan for that key is no longer a create: an
``unchanged`` one is linked (and not sent again), an ``update`` is sent, and a ``create`` means
the target never got the first one, so it is sent again. A pending key the flow decided to skip,
hold invalid or in conflict stays pending until it is planned again.

What a run records is batched (one ledger transaction per batch, not per record):

- the pending markers of the creates are written ahead, ``MARKED_AHEAD`` creates at a time in one
  transaction, before the first of them is sent (a marker says "maybe sent", never "sent");
  those a run ends without sending (a rate limit stopped it) are ended with its last batch, so
  only a killed run leaves markers of writes never sent (each is looked up in the target next
  run, found absent and sent);
- outcomes are saved in batches (every ``WRITES_PER_BATCH`` writes or ``ITEMS_PER_BATCH`` items,
  ``BATCH_SECONDS`` after the oldest unsaved write, and always before ``apply_plan`` returns or an
  error leaves it): a write's link, item, the end of its marker and its owed mark are still one
  transaction. A kill loses what the last batch held: a create's link (its marker is there, so the
  next run links it by the marker and does not send it again), an update's link (sent again next
  run: updates are full replaces by the target's key), and the ``unchanged``, ``skipped`` and
  other items of records nothing was sent for (the run history of a killed run may miss them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, TypeVarTuple

from fjordsync.domain.diff import Action, ActionKind, Decision, Plan, Record, fingerprint
from fjordsync.domain.matching import normalise_key
from fjordsync.domain.model import InvalidRecord
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.domain.rules import carriable_text
from fjordsync.errors import ConnectorError, InvalidValue, RateLimited
from fjordsync.ports import SavedOutcome, Scope, SyncState, Wording

__all__ = [
    "FlowContext",
    "ItemOutcome",
    "Outcome",
    "RunResult",
    "apply_plan",
    "carried",
    "changes_of",
    "held_by_unreadable",
    "invalid",
    "invalid_views",
    "marker_for",
    "project_safely",
    "readable",
    "status_of",
    "unexpected",
    "unexpected_problem",
    "views_of",
]

LOG = logging.getLogger("fjordsync.flows")

# How a run batches what it records (module docstring): creates marked ahead per transaction
# (also the most markers of creates never sent a kill can leave: each costs the next run a look
# in the target, and a marker makes a flow treat its record as maybe sent), and when a batch of
# outcomes is saved.
MARKED_AHEAD = 100
WRITES_PER_BATCH = 200
ITEMS_PER_BATCH = 500
BATCH_SECONDS = 0.5

R = TypeVar("R")
Ts = TypeVarTuple("Ts")


def marker_for(context: FlowContext, source_key: str) -> str:
    """The pending-write marker of one record (also written into ERP hours to find them)."""
    return f"fjordsync:{context.tenant}:{source_key}"


def unexpected(error: BaseException, doing: str) -> str:
    """The message of an error that is not one of fjordsync's: its class only, since its text
    may carry the record's values."""
    return f"unexpected error ({type(error).__name__}) {doing}; the details are in the log"


def readable(
    records: Iterable[Any], key_of: Callable[[InvalidRecord], str] = lambda r: r.key
) -> tuple[list[Any], dict[str, InvalidRecord]]:
    """A target read split into the records that could be read and, by (normalised) key, each
    that could not (its message and problem). A target record that cannot be read is never
    treated as absent: that would create a second record beside it (see
    ``held_by_unreadable``)."""
    kept: list[Any] = []
    unreadable: dict[str, InvalidRecord] = {}
    for record in records:
        if isinstance(record, InvalidRecord):
            key = normalise_key(key_of(record))
            if key:
                unreadable.setdefault(key, record)
        else:
            kept.append(record)
    return kept, unreadable


def unexpected_problem(field: str | None = None) -> Problem:
    return Problem(ProblemKind.UNEXPECTED, field)


def held_by_unreadable(
    keys: Iterable[str], unreadable: Mapping[str, InvalidRecord]
) -> list[Decision]:
    """A ``conflict`` for each source key whose target record cannot be read: neither a create
    (a second record) nor an update (of fields never compared) can be right until a person
    corrects it in the target. Its problem: ``unreadable_target``, the field the target's
    record could not be read by, and the key."""
    decisions = []
    for key in keys:
        record = unreadable.get(normalise_key(key))
        if record is None:
            continue
        problem = Problem(ProblemKind.UNREADABLE_TARGET, record.problem.field, (key,))
        message = render_unreadable(problem, record)
        decisions.append(Decision(key, ActionKind.CONFLICT, message, problem))
    return decisions


def render_unreadable(problem: Problem, record: InvalidRecord) -> str:
    """The clerk's text of an ``unreadable_target`` problem about ``record``."""
    [key] = problem.codes
    return (
        f"the target's record for key {key!r} cannot be read ({record.message}): correct it "
        "there first"
    )


def carried(label: str, text: str | None, *, json: bool = False) -> tuple[str | None, str]:
    """``text`` without what the target cannot carry (``rules.carriable_text``) and the item's
    note saying how many characters went (never which text), or "" when none did."""
    if not text:
        return text, ""
    kept, removed = carriable_text(text, json=json)
    if not removed:
        return text, ""
    what = "lone surrogates" if json else "control characters"
    return kept, f"{label}: {removed} character(s) that cannot be sent ({what}) were removed"


def views_of(
    records: Iterable[tuple[str, Any]], view: Callable[[Any], Record], entity: str
) -> tuple[list[Record], dict[str, InvalidRecord]]:
    """Each (key, record)'s plan view, and by key each whose view could not be made (a bug or a
    value it meets), as an ``InvalidRecord``: that record alone is held back, the run goes on.
    A source record so held is ``invalid``; a target record so held counts as unreadable
    (``held_by_unreadable``)."""
    made: list[Record] = []
    failed: dict[str, InvalidRecord] = {}
    for key, record in records:
        try:
            made.append(view(record))
        except InvalidValue as error:
            failed[normalise_key(key)] = InvalidRecord.from_error(entity, key, error)
        except Exception as error:
            LOG.exception("the view of %s %s failed", entity, key)
            failed[normalise_key(key)] = InvalidRecord(
                entity, key, unexpected(error, f"reading this {entity}"), None, unexpected_problem()
            )
    return made, failed


def invalid_views(failed: Mapping[str, InvalidRecord]) -> list[Decision]:
    return [invalid(key, record) for key, record in failed.items()]


def invalid(key: str, record: InvalidRecord) -> Decision:
    """The ``invalid`` decision of a record that could not be read: its message and problem."""
    return Decision(key, ActionKind.INVALID, record.message, record.problem)


def project_safely(
    key: str,
    entity: str,
    project: Callable[[*Ts], R],
    *args: *Ts,
    kinds: Mapping[str, ProblemKind] | None = None,
) -> R | Decision:
    """``project(*args)``, or, when it raises, that record's ``invalid`` decision: one record's bad
    value (or a bug it meets) never stops the run. An ``InvalidValue`` names its field (its
    problem's kind by ``kinds``, field -> kind, else ``unreadable_value``); any other error is
    named by its class only (its text may carry the values)."""
    try:
        return project(*args)
    except InvalidValue as error:
        kind = (kinds or {}).get(error.field, ProblemKind.UNREADABLE_VALUE)
        return Decision(key, ActionKind.INVALID, str(error), Problem(kind, error.field))
    except Exception as error:
        LOG.exception("projecting %s %s failed", entity, key)
        return Decision(
            key,
            ActionKind.INVALID,
            unexpected(error, f"reading this {entity}"),
            unexpected_problem(),
        )


@dataclass
class FlowContext:
    """One run of one flow for one tenant."""

    tenant: str
    flow: str
    run_id: int
    state: SyncState
    now: datetime
    scope: Scope = field(default_factory=Scope)
    options: Mapping[str, Any] = field(default_factory=dict)
    mapping: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    dry_run: bool = False
    concurrency: int = 4
    progress: Callable[[int, int], None] | None = None  # (writes done, writes planned)
    # How the source and the target name themselves, their codes and limits (their connectors'
    # ``Wording``): the flow's messages are rendered with it.
    source_wording: Wording = field(default_factory=lambda: Wording("the source"))
    target_wording: Wording = field(default_factory=lambda: Wording("the target"))
    # Asked before each write of a real run (``fjordsync apply``: only the writes of a reviewed
    # plan, unchanged since): (entity, action, its changes) -> None to write it, or why it is
    # held back (the record's outcome is then ``skipped`` with that message).
    gate: Callable[[str, Action, tuple[tuple[str, Any, Any], ...]], str | None] | None = None


class Outcome(StrEnum):
    """What became of one record in a run (a str: JSON and the ledger keep the word)."""

    WRITTEN = "written"
    FAILED = "failed"
    PLANNED = "planned"  # a dry run's create or update
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    INVALID = "invalid"
    CONFLICT = "conflict"
    DEFERRED = "deferred"  # a write a rate limit left for the next run

    @property
    def settled(self) -> bool:
        """Nothing is left to do for the record (a cursor may pass it)."""
        return self not in (Outcome.FAILED, Outcome.DEFERRED, Outcome.CONFLICT, Outcome.INVALID)


@dataclass(frozen=True)
class ItemOutcome:
    entity: str
    key: str
    action: ActionKind  # create, update, unchanged, skip, invalid, conflict
    outcome: Outcome
    message: str = ""
    changes: tuple[tuple[str, Any, Any], ...] = ()  # field, old, new (masked when shown)
    # What is wrong, as a value (invalid, conflict, skip; a failure's when it is known); not
    # compared: an item is what it says.
    problem: Problem | None = field(default=None, compare=False)
    # What a clerk recognises the record by (employee number and name, date, project), from
    # the flow; never a personal number, an account or a salary.
    label: str = field(default="", compare=False)


@dataclass
class RunResult:
    run_id: int
    flow: str
    tenant: str
    dry_run: bool
    items: list[ItemOutcome]
    notes: list[str] = field(default_factory=list)
    stopped: str | None = None  # why writes stopped early (a rate limit), if they did
    # Of this run's problems, how many were seen before and how many are new (the ledger's
    # memory of problems), once the runner has compared them; None in a dry run.
    known_problems: int | None = None
    new_problems: int | None = None
    # When the rate limit that stopped it allows work again, if the vendor's budget said: a
    # distributed run is enqueued again for then instead of guessing.
    resume_at: datetime | None = None

    @property
    def counts(self) -> dict[str, int]:
        tally = Counter(item.outcome for item in self.items)
        return dict(sorted(tally.items()))

    @property
    def status(self) -> str:
        return status_of(self.items, self.stopped)


def status_of(items: list[ItemOutcome], stopped: str | None = None) -> str:
    """succeeded: nothing invalid, in conflict or failed; failed: writes were needed and none
    got through; partial otherwise. (A run whose process died is closed by the ledger as
    ``interrupted``; the runner closes one stopped by a cancel the same way.)"""
    outcomes = Counter(item.outcome for item in items)
    bad = (
        outcomes[Outcome.FAILED]
        + outcomes[Outcome.INVALID]
        + outcomes[Outcome.CONFLICT]
        + outcomes[Outcome.DEFERRED]
    )
    if not bad and not stopped:
        return "succeeded"
    if (
        outcomes[Outcome.FAILED] + outcomes[Outcome.DEFERRED]
        and not outcomes[Outcome.WRITTEN]
        and not (outcomes[Outcome.UNCHANGED] or outcomes[Outcome.PLANNED])
    ):
        return "failed"
    return "partial"


def changes_of(action: Action) -> tuple[tuple[str, Any, Any], ...]:
    """What a write changes, as (field, old, new): an update's changed fields; a create's every
    field it sends, from nothing (so a plan shows what a create will write)."""
    if action.kind is ActionKind.CREATE:
        return tuple((name, None, value) for name, value in sorted(action.values.items()))
    return tuple((c.field, c.old, c.new) for c in action.changes)


def _outcome_of_decision(action: Action) -> Outcome:
    return {
        ActionKind.UNCHANGED: Outcome.UNCHANGED,
        ActionKind.SKIP: Outcome.SKIPPED,
        ActionKind.INVALID: Outcome.INVALID,
        ActionKind.CONFLICT: Outcome.CONFLICT,
    }[action.kind]


async def apply_plan(
    context: FlowContext,
    the_plan: Plan,
    entity: str,
    write: Callable[[Action], Awaitable[str]],
    *,
    notes: Mapping[str, str] | None = None,
    fingerprints: Mapping[str, str] | None = None,
    exactly_once: bool = False,
    target_name: str = "the target",
    owe_mark: str | None = None,
    labels: Mapping[str, str] | None = None,
    describe: Callable[[Action], tuple[tuple[str, Any, Any], ...]] | None = None,
) -> RunResult:
    """Carry out the plan's writes (none in a dry run) and record every record's outcome.

    ``write(action)`` performs one create or update and returns the target's key; the link and
    the item are then saved together. ``notes`` adds a message to a record's item (e.g. "name cut
    to 70 characters"). ``fingerprints`` gives, per key, the fingerprint of all a record's
    fields as written (default: of the fields the write sent). ``exactly_once`` records a pending
    write before each create and reconciles the pending writes of earlier runs (module
    docstring). ``owe_mark`` records, with each write's link, that the source is owed an
    "exported" mark with that export id (hours: see ``SyncState.owed_marks``). ``labels`` gives,
    per key, what a clerk recognises the record by (``ItemOutcome.label``). ``describe`` gives
    a write's changes as a clerk reads them when the plan compares something else (hours are
    planned by a fingerprint of what was sent); default ``changes_of``.
    """
    labels = labels or {}
    notes = dict(notes or {})
    items: list[ItemOutcome] = []
    stopped: list[str] = []
    resumes: list[datetime] = []  # the resume times the rate limits said, if any
    limit = asyncio.Semaphore(max(1, context.concurrency))
    key = context.state.fingerprint_key
    batch = _Batch(context, entity)

    def made(
        key: str,
        kind: ActionKind,
        outcome: Outcome,
        message: str = "",
        changes: tuple[tuple[str, Any, Any], ...] = (),
        problem: Problem | None = None,
    ) -> ItemOutcome:
        """One record's item, with its label (built once: a run can have 100,000)."""
        return ItemOutcome(
            entity, key, kind, outcome, message, changes, problem, labels.get(key, "")
        )

    def record(item: ItemOutcome) -> None:
        items.append(item)
        batch.add(
            SavedOutcome(
                item.key,
                item.action,
                item.outcome,
                item.message or None,
                tuple(name for name, _, _ in item.changes),
                label=item.label or None,
                problem=item.problem,
            )
        )

    def save(action: Action, target_key: str, message: str, changes: tuple[Any, ...]) -> None:
        batch.add(
            SavedOutcome(
                action.key,
                action.kind.value if action.kind.writes else ActionKind.CREATE.value,
                Outcome.WRITTEN,
                message or None,
                tuple(name for name, _, _ in changes),
                target_key,
                (fingerprints or {}).get(action.key) or fingerprint(dict(action.values), key),
                owe_mark,
                label=labels.get(action.key) or None,
            )
        )

    if context.scope.record_keys:  # a retry: only the records named
        the_plan = Plan(tuple(a for a in the_plan.actions if a.key in context.scope.record_keys))
    pending: set[str] = set()
    if exactly_once:
        # A dry run reads them too, to show what the real run will do with them (link them).
        pending = set(context.state.pending_writes(context.tenant, context.flow, entity))
        if not context.dry_run:
            batch.mark_ahead_of(
                [a.key for a in the_plan.writes if a.kind is ActionKind.CREATE], pending
            )
    try:
        for action in the_plan.actions:
            if action.kind is ActionKind.UNCHANGED and action.key in pending and action.target_key:
                # Created by an earlier run whose answer was lost: the target has it as planned.
                if context.dry_run:
                    message = (
                        f"found in {target_name} after an answer was lost: it will be linked, "
                        "not sent again"
                    )
                    record(made(action.key, ActionKind.CREATE, Outcome.PLANNED, message))
                    continue
                message = f"found in {target_name} after an answer was lost: linked, not sent again"
                save(action, action.target_key, message, ())
                items.append(made(action.key, ActionKind.CREATE, Outcome.WRITTEN, message))
                continue
            if action.key in pending and action.kind.writes:
                lost = (
                    f"found in {target_name} after an answer was lost; the fields that differ "
                    "were updated"
                    if action.kind is ActionKind.UPDATE
                    else f"an earlier create got no answer and is not in {target_name}: sent again"
                )
                notes[action.key] = "; ".join(filter(None, (notes.get(action.key), lost)))
            if not action.kind.writes:
                record(
                    made(
                        action.key,
                        action.kind,
                        _outcome_of_decision(action),
                        action.message,
                        problem=action.problem,
                    )
                )

        async def one(action: Action) -> None:
            changes = (describe or changes_of)(action)
            message = notes.get(action.key, "")
            if context.dry_run:  # the plan is recorded; the target is not touched
                record(made(action.key, action.kind, Outcome.PLANNED, message, changes))
                return
            held = context.gate(entity, action, changes) if context.gate else None
            if held is not None:
                record(made(action.key, action.kind, Outcome.SKIPPED, held, changes))
                return
            async with limit:
                if stopped:
                    record(made(action.key, action.kind, Outcome.DEFERRED, stopped[0], changes))
                    return
                try:
                    if exactly_once and action.kind is ActionKind.CREATE:
                        batch.sending(action.key)  # its marker is committed before it is sent
                    target_key = await write(action)
                except RateLimited as limited:
                    stopped.append(str(limited))
                    if limited.resume_at is not None:
                        resumes.append(limited.resume_at)
                    record(made(action.key, action.kind, Outcome.DEFERRED, str(limited), changes))
                    return
                except ConnectorError as error:
                    record(made(action.key, action.kind, Outcome.FAILED, str(error), changes))
                    return
                except Exception as error:  # one record's bug or bad value never stops the run
                    LOG.exception(
                        "%s %s of %s %s failed", context.flow, action.kind, entity, action.key
                    )
                    failed = unexpected(error, f"in the {action.kind.value} of this {entity}")
                    record(
                        made(
                            action.key,
                            action.kind,
                            Outcome.FAILED,
                            failed,
                            changes,
                            unexpected_problem(),
                        )
                    )
                    return
            save(action, target_key, message, changes)
            items.append(made(action.key, action.kind, Outcome.WRITTEN, message, changes))

        writes = the_plan.writes
        done = 0

        async def counted(action: Action) -> None:
            nonlocal done
            await one(action)
            done += 1
            if context.progress is not None:
                context.progress(done, len(writes))

        await asyncio.gather(*(counted(action) for action in writes))
        items.sort(key=lambda item: (item.entity, item.key))
        return RunResult(
            context.run_id,
            context.flow,
            context.tenant,
            context.dry_run,
            items,
            stopped=stopped[0] if stopped else None,
            # The latest: before it, some budget that stopped a write is still spent.
            resume_at=max(resumes) if resumes else None,
        )
    finally:
        batch.flush(final=True)  # before the run's end is recorded, or when an error leaves


class _Batch:
    """What ``apply_plan`` has still to save, and the creates it marked ahead (module
    docstring)."""

    def __init__(self, context: FlowContext, entity: str) -> None:
        self.context = context
        self.entity = entity
        self.outcomes: list[SavedOutcome] = []
        self.writes = 0
        self.oldest_write = 0.0
        self.creates: list[str] = []
        self.place: dict[str, int] = {}
        self.marked: set[str] = set()  # creates whose marker is in the ledger
        self.pending_before: set[str] = set()
        self.sent: set[str] = set()

    def mark_ahead_of(self, creates: list[str], pending: set[str]) -> None:
        """The creates to mark ahead, in the order they are sent; a key already ``pending`` keeps
        the marker it has (never ended as unsent: an earlier run may have sent it)."""
        self.creates = creates
        self.place = {key: i for i, key in enumerate(creates)}
        self.marked = set(pending) & set(creates)
        self.pending_before = set(pending)

    def sending(self, key: str) -> None:
        """``key``'s create is about to be sent: its marker is committed first (with those of
        the next creates, in one transaction)."""
        self.sent.add(key)
        if key in self.marked:
            return
        start = self.place[key]
        ahead = {
            k: marker_for(self.context, k)
            for k in self.creates[start : start + MARKED_AHEAD]
            if k not in self.marked
        }
        self.context.state.begin_writes(
            self.context.run_id,
            tenant=self.context.tenant,
            flow=self.context.flow,
            entity=self.entity,
            markers=ahead,
        )
        self.marked.update(ahead)

    def add(self, outcome: SavedOutcome) -> None:
        self.outcomes.append(outcome)
        now = time.monotonic()
        if outcome.target_key is not None:
            if not self.writes:
                self.oldest_write = now
            self.writes += 1
        if (
            self.writes >= WRITES_PER_BATCH
            or len(self.outcomes) >= ITEMS_PER_BATCH
            or (self.writes and now - self.oldest_write >= BATCH_SECONDS)
        ):
            self.flush()

    def flush(self, *, final: bool = False) -> None:
        """Save the outcomes held in one transaction; the ``final`` one also ends the markers of
        creates marked ahead and never sent."""
        unsent = sorted(self.marked - self.sent - self.pending_before) if final else []
        if not self.outcomes and not unsent:
            return
        outcomes, self.outcomes, self.writes = self.outcomes, [], 0
        self.context.state.save_outcomes(
            self.context.run_id,
            tenant=self.context.tenant,
            flow=self.context.flow,
            entity=self.entity,
            outcomes=outcomes,
            unsent=unsent,
        )
        if final:
            self.marked -= set(unsent)
