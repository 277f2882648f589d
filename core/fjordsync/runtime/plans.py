"""Plans a person reviews, then applies: ``fjordsync plan`` saves a dry run's writes to a file,
``fjordsync apply`` carries out exactly those writes, or refuses.

A saved plan holds every write the dry run planned (entity, key, the label a clerk recognises,
create or update, the fields it changes as old -> new) and, per write, a fingerprint: a keyed
digest (the ledger's ``fingerprint_key``, as ``fjordsync.domain.diff.fingerprint`` makes the
ledger's own) of the entity, key, action and changes. The fingerprint is made of the real
values, so a plan file whose personal values are masked (the default) is still checked
exactly, and the key keeps a salary from being recovered from the file by hashing guesses.
``computed_from`` says what the plan was computed from: tenant, flow, period, scope, the config
file (path and sha256), the ledger (password hidden), the two connections with their plugins'
versions, the dry run's id and fjordsync's version.

Applying a plan, in this order:

1. A plan of another format, or for a tenant, flow or ledger the config does not have, is
   refused (``PlanError``).
2. A fresh dry run (nothing written) is compared with the plan: a planned write whose fresh
   fingerprint differs (the source or the target changed in a way that touches it) or that is
   no longer planned at all refuses the whole plan (``PlanChanged``, naming those records);
   nothing is written. Changes that touch records the plan does not write do not matter.
3. The real run writes through a gate (``FlowContext.gate``): a write of the plan whose
   fingerprint still matches is sent; one that changed between the check and the write is
   held back (``skipped``, "changed since the plan was reviewed"), and so is a write the plan
   does not have ("not in the reviewed plan: make a new plan"). The run's notes say how many.

The period is fixed when the plan is made (a flow's default period depends on the day), and so
is the scope: applying next week writes what was reviewed, not next week's period.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from fjordsync.config import Config
from fjordsync.domain.diff import Action, fingerprint
from fjordsync.domain.model import masked as domain_masked
from fjordsync.domain.problems import group_problems
from fjordsync.domain.values import MASK, DateRange
from fjordsync.errors import FjordsyncError
from fjordsync.flows.common import ItemOutcome, Outcome, RunResult
from fjordsync.flows.registry import FLOWS
from fjordsync.ledger import Ledger
from fjordsync.runtime.runner import run_flow

__all__ = [
    "MASK",
    "PLAN_FORMAT",
    "PlanChanged",
    "PlanError",
    "PlannedAction",
    "SavedPlan",
    "action_fingerprint",
    "apply_saved_plan",
    "make_plan",
    "masked",
    "read_plan",
    "write_plan",
]

PLAN_FORMAT = "fjordsync-plan/1"

# The messages of writes the gate holds back (the items' messages, ``skipped``).
CHANGED_SINCE_REVIEW = "changed since the plan was reviewed: make a new plan"
NOT_IN_PLAN = "not in the reviewed plan: make a new plan"

# The trigger of the dry run ``apply`` makes first (the run history's "trigger" column).
CHECK_TRIGGER = "apply-check"

# What a plan document holds, in this order; ``from_document`` wants exactly these.
DOCUMENT_KEYS = (
    "format",
    "tenant",
    "flow",
    "created_at",
    "run_id",
    "personal_data",
    "computed_from",
    "summary",
    "actions",
    "problems",
)
ACTION_KEYS = ("entity", "key", "label", "action", "changes", "fingerprint")


class PlanError(FjordsyncError):
    """A plan file cannot be used: unreadable, not a fjordsync plan, or made for another
    tenant, flow or ledger than the config given."""


class PlanChanged(FjordsyncError):
    """The source or the target changed since the plan was made in a way that touches planned
    writes; nothing was written. ``records``: those records ("entity key (label)");
    ``details``: one line per record, with what changed."""

    def __init__(self, records: list[str], details: list[str]) -> None:
        self.records = records
        self.details = details
        count = len(records)
        super().__init__(
            f"the plan no longer holds for {count} planned record{'s' if count != 1 else ''} "
            f"({', '.join(records)}): the source or the target changed since it was made. "
            "Nothing was written: make a new plan and review it"
        )


def masked(field: str, value: Any, show_personal: bool) -> Any:
    """A plan's value as a plan file keeps it: a personal field's value (the domain's
    ``PERSONAL_FIELDS``) is ``***`` unless the user asked for personal data; empty stays
    empty (``None``)."""
    if value is None:
        return None
    return _json_value(domain_masked(field, value, show_personal))


def _json_value(value: Any) -> Any:
    """A value as JSON carries it: text, numbers and booleans as they are, anything else
    (amounts, dates, codes) as its text, as a fingerprint reads it."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def action_fingerprint(
    entity: str,
    key: str,
    action: str,
    changes: Iterable[tuple[str, Any, Any]],
    secret: bytes,
) -> str:
    """The keyed digest of one write: its entity, key, action and each change (field, old,
    new), values read as their text (``diff.fingerprint``'s rule)."""
    canonical = json.dumps(
        [[name, _text(old), _text(new)] for name, old, new in changes],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return fingerprint(
        {"entity": entity, "key": key, "action": action, "changes": canonical}, secret
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class PlannedAction:
    """One write of a plan: ``action`` is create or update; ``changes`` (field, old, new), a
    create's from nothing; ``fingerprint`` of the real values (``action_fingerprint``)."""

    entity: str
    key: str
    label: str
    action: str
    changes: tuple[tuple[str, Any, Any], ...]
    fingerprint: str

    @property
    def record(self) -> str:
        """How a message names the record: its label and key, as the run's output does
        ("employee 1002 Ingrid Berg (1002)"), else the entity and key."""
        if not self.label:
            return f"{self.entity} {self.key}"
        return f"{self.label} ({self.key})"

    def as_document(self, *, show_personal: bool = False) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "key": self.key,
            "label": self.label,
            "action": self.action,
            "changes": [
                {
                    "field": name,
                    "old": masked(name, old, show_personal),
                    "new": masked(name, new, show_personal),
                }
                for name, old, new in self.changes
            ],
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class SavedPlan:
    """A plan as ``fjordsync plan`` saves it and ``fjordsync apply`` reads it back."""

    tenant: str
    flow: str
    created_at: datetime
    computed_from: dict[str, Any]
    actions: tuple[PlannedAction, ...]
    summary: dict[str, int]
    problems: list[dict[str, Any]]
    run_id: int

    def as_document(self, *, show_personal: bool = False) -> dict[str, Any]:
        """The plan file's JSON document (``DOCUMENT_KEYS``); personal values masked unless
        ``show_personal``."""
        return {
            "format": PLAN_FORMAT,
            "tenant": self.tenant,
            "flow": self.flow,
            "created_at": self.created_at.isoformat(),
            "run_id": self.run_id,
            "personal_data": "shown" if show_personal else "masked",
            "computed_from": self.computed_from,
            "summary": self.summary,
            "actions": [a.as_document(show_personal=show_personal) for a in self.actions],
            "problems": self.problems,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> SavedPlan:
        """The plan of a document ``as_document`` made; ``PlanError`` naming what is wrong
        (never a value: a plan may hold personal data)."""
        if not isinstance(document, dict):
            raise PlanError("not a fjordsync plan: the file holds no JSON object")
        found = document.get("format")
        if found != PLAN_FORMAT:
            what = f"format {found!r}" if isinstance(found, str) else "no format"
            raise PlanError(f"not a fjordsync plan ({what}; this version reads {PLAN_FORMAT!r})")
        missing = [key for key in DOCUMENT_KEYS if key not in document]
        if missing:
            raise PlanError(f"the plan lacks {', '.join(missing)}")
        tenant = _required(document, "tenant", str)
        flow = _required(document, "flow", str)
        run_id = _required(document, "run_id", int)
        computed_from = _required(document, "computed_from", dict)
        summary = _required(document, "summary", dict)
        problems = _required(document, "problems", list)
        actions = _required(document, "actions", list)
        try:
            created_at = datetime.fromisoformat(_required(document, "created_at", str))
        except ValueError:
            raise PlanError("the plan's created_at is not a date and time") from None
        if not all(isinstance(v, int) for v in summary.values()):
            raise PlanError("the plan's summary holds something other than counts")
        return cls(
            tenant=tenant,
            flow=flow,
            created_at=created_at,
            computed_from=computed_from,
            actions=tuple(_action_of(number, entry) for number, entry in enumerate(actions, 1)),
            summary=dict(summary),
            problems=problems,
            run_id=run_id,
        )


def _required(document: Mapping[str, Any], key: str, kind: type, where: str = "the plan") -> Any:
    value = document.get(key)
    # A bool is an int to Python, never a run id or a count.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PlanError(f"{where}'s {key} is not {_kind_name(kind)}")
    return value


def _kind_name(kind: type) -> str:
    return {str: "a text", int: "a number", dict: "an object", list: "a list"}[kind]


def _action_of(number: int, entry: Any) -> PlannedAction:
    where = f"the plan's action {number}"
    if not isinstance(entry, dict):
        raise PlanError(f"{where} is not an object")
    missing = [key for key in ACTION_KEYS if key not in entry]
    if missing:
        raise PlanError(f"{where} lacks {', '.join(missing)}")
    action = _required(entry, "action", str, where)
    if action not in ("create", "update"):
        raise PlanError(f"{where}'s action is {action!r}, not create or update")
    changes = []
    for change in _required(entry, "changes", list, where):
        if not isinstance(change, dict) or not isinstance(change.get("field"), str):
            raise PlanError(f"{where} has a change without a field name")
        changes.append((change["field"], change.get("old"), change.get("new")))
    return PlannedAction(
        entity=_required(entry, "entity", str, where),
        key=_required(entry, "key", str, where),
        label=_required(entry, "label", str, where),
        action=action,
        changes=tuple(changes),
        fingerprint=_required(entry, "fingerprint", str, where),
    )


# --- files ---------------------------------------------------------------------------------


def write_plan(plan: SavedPlan, path: Path, *, show_personal: bool = False) -> None:
    """Save ``plan`` at ``path``: created 0600 (it names employees, and may hold personal
    values), written whole or not at all (a temporary file beside it, then renamed)."""
    path = Path(path)
    text = json.dumps(plan.as_document(show_personal=show_personal), indent=2, ensure_ascii=False)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise PlanError(f"cannot write the plan to {path}: {exc.strerror}") from None
    try:
        # mkstemp creates the file 0600; said again so no umask or platform can widen it.
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise PlanError(f"cannot write the plan to {path}: {exc.strerror}") from None


def read_plan(path: Path) -> SavedPlan:
    """The plan saved at ``path``; ``PlanError`` saying why it cannot be used."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanError(f"{path} is not a fjordsync plan: it is not text") from None
    except OSError as exc:
        raise PlanError(f"cannot read the plan {path}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{path} is not a fjordsync plan: not JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from None
    try:
        return SavedPlan.from_document(document)
    except PlanError as exc:
        raise PlanError(f"{path}: {exc}") from None


# --- making and applying ------------------------------------------------------------------


def ledger_identity(url: str) -> str:
    """The ledger's URL as a plan names it: the password hidden, a SQLite file by its absolute
    path (``sqlite:///ledger.db`` means another file in another directory)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if (
        parsed.get_backend_name() == "sqlite"
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    ):
        parsed = parsed.set(database=os.path.abspath(database))
    return parsed.render_as_string(hide_password=True)


def key_id(secret: bytes) -> str:
    """Which fingerprint key a plan's fingerprints were made with, without telling the key: a
    digest of a fixed text under it. Another key (another ledger, another
    ``FJORDSYNC_LEDGER_KEY``) would make every fingerprint differ, which is no change in the
    systems."""
    return fingerprint({"purpose": "which key made a fjordsync plan"}, secret)[:16]


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _connection(
    config: Config, connectors: Mapping[str, Any], tenant: str, name: str
) -> dict[str, Any]:
    plugin = config.tenants[tenant].connections[name].plugin
    registered = connectors.get(plugin)
    info = getattr(registered, "plugin", None)
    return {
        "connection": name,
        "plugin": plugin,
        "distribution": getattr(info, "distribution", None),
        "version": getattr(info, "version", None),
    }


def _period_document(period: DateRange | None) -> dict[str, str | None] | None:
    if period is None:
        return None
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat() if period.end is not None else None,
    }


def _period_of(plan: SavedPlan) -> DateRange | None:
    saved = plan.computed_from.get("period")
    if saved is None:
        return None
    try:
        end = saved["to"]
        return DateRange(
            date.fromisoformat(saved["from"]),
            date.fromisoformat(end) if end is not None else None,
            field="period",
        )
    except (TypeError, KeyError, ValueError):
        raise PlanError("the plan's computed_from.period is not a from and to date") from None


def _codes_of(plan: SavedPlan, key: str) -> frozenset[str] | None:
    saved = plan.computed_from.get(key)
    if saved is None:
        return None
    if not isinstance(saved, list) or not all(isinstance(code, str) for code in saved):
        raise PlanError(f"the plan's computed_from.{key} is not a list of codes")
    return frozenset(saved)


def _summary(items: list[ItemOutcome]) -> dict[str, int]:
    """A plan's counts: what it creates and updates, what is left alone, and the problems
    (invalid, in conflict, failed: those ``problems`` groups) that keep records out of it."""
    planned = Counter(item.action.value for item in items if item.outcome is Outcome.PLANNED)
    outcomes = Counter(item.outcome for item in items)
    return {
        "create": planned.get("create", 0),
        "update": planned.get("update", 0),
        "unchanged": outcomes[Outcome.UNCHANGED],
        "skipped": outcomes[Outcome.SKIPPED],
        "problems": outcomes[Outcome.INVALID]
        + outcomes[Outcome.CONFLICT]
        + outcomes[Outcome.FAILED],
    }


def _problems(items: list[ItemOutcome]) -> list[dict[str, Any]]:
    """The dry run's problems grouped by cause (count, the fix, a few sample records by label;
    never a value), as the run's output and ``--json`` group them."""
    return [group.as_dict() for group in group_problems(items)]


def _planned_actions(items: Iterable[ItemOutcome], secret: bytes) -> tuple[PlannedAction, ...]:
    return tuple(
        PlannedAction(
            entity=item.entity,
            key=item.key,
            label=item.label,
            action=item.action.value,
            changes=tuple(item.changes),
            fingerprint=action_fingerprint(
                item.entity, item.key, item.action.value, item.changes, secret
            ),
        )
        for item in items
        if item.outcome is Outcome.PLANNED
    )


async def make_plan(
    config: Config,
    connectors: Mapping[str, Any],
    ledger: Ledger,
    flow: str,
    *,
    tenant: str | None = None,
    period: DateRange | None = None,
    employees_scope: frozenset[str] | None = None,
    absence_codes: frozenset[str] | None = None,
    now: Callable[[], datetime],
    trigger: str = "plan",
) -> tuple[RunResult, SavedPlan]:
    """A dry run of ``flow`` (nothing written) and the plan of its writes, to save and review."""
    tenant_name, tenant_config = config.tenant(tenant)
    created_at = now()
    definition = FLOWS.get(flow)
    if period is None and definition is not None and definition.default_period is not None:
        # Fixed now: a flow's default period moves with the day the plan is applied on.
        period = definition.default_period(created_at)
    result = await run_flow(
        config,
        connectors,
        ledger,
        flow,
        tenant=tenant_name,
        dry_run=True,
        trigger=trigger,
        employees_scope=employees_scope,
        absence_codes=absence_codes,
        period=period,
        now=now,
    )
    flow_config = tenant_config.flows[flow]  # run_flow refused a flow the tenant does not have
    computed_from = {
        "tenant": tenant_name,
        "flow": flow,
        "period": _period_document(period if definition and definition.takes_period else None),
        "employees": sorted(employees_scope) if employees_scope else None,
        "absence_types": sorted(absence_codes) if absence_codes else None,
        "config": {
            "path": str(Path(config.path).resolve()),
            "sha256": _file_sha256(config.path),
        },
        "ledger": ledger_identity(ledger.url),
        "fingerprint_key": key_id(ledger.fingerprint_key),
        "source": _connection(config, connectors, tenant_name, flow_config.source),
        "target": _connection(config, connectors, tenant_name, flow_config.target),
        "dry_run": result.run_id,
        "fjordsync_version": _version("fjordsync"),
        "created_at": created_at.isoformat(),
    }
    plan = SavedPlan(
        tenant=tenant_name,
        flow=flow,
        created_at=created_at,
        computed_from=computed_from,
        actions=_planned_actions(result.items, ledger.fingerprint_key),
        summary=_summary(result.items),
        problems=_problems(result.items),
        run_id=result.run_id,
    )
    return result, plan


def _refuse_foreign(config: Config, ledger: Ledger, plan: SavedPlan) -> None:
    """``PlanError`` when the plan was made for a tenant, flow or ledger this config does not
    have: its fingerprints and records mean nothing there."""
    if plan.tenant not in config.tenants:
        has = ", ".join(sorted(config.tenants)) or "none"
        raise PlanError(
            f"the plan is for tenant {plan.tenant!r}, which {config.path} does not have "
            f"(its tenants: {has}): apply it with the config it was made with"
        )
    if plan.flow not in config.tenants[plan.tenant].flows:
        raise PlanError(
            f"the plan is for flow {plan.flow!r}, which tenant {plan.tenant!r} does not have "
            f"in {config.path}"
        )
    made_with = plan.computed_from.get("ledger")
    here = ledger_identity(ledger.url)
    if made_with != here:
        raise PlanError(
            f"the plan was made with the ledger {made_with}, not this config's ({here}): apply "
            "it with the config it was made with"
        )
    if plan.computed_from.get("fingerprint_key") != key_id(ledger.fingerprint_key):
        raise PlanError(
            "the plan's fingerprints were made with another fingerprint key than this ledger's "
            "(FJORDSYNC_LEDGER_KEY or the ledger's key file differs): apply it where it was made"
        )


def _changed_records(saved: SavedPlan, fresh: SavedPlan) -> tuple[list[str], list[str]]:
    """The planned writes a fresh plan does not make the same way: their records, and one line
    each saying how."""
    now_planned = {(a.entity, a.key): a for a in fresh.actions}
    records: list[str] = []
    details: list[str] = []
    for action in saved.actions:
        current = now_planned.get((action.entity, action.key))
        if current is not None and current.fingerprint == action.fingerprint:
            continue
        if current is None:
            why = f"its {action.action} is no longer planned"
        elif current.action != action.action:
            why = f"now a {current.action}, not the reviewed {action.action}"
        else:
            fields = ", ".join(name for name, _, _ in current.changes) or "no field"
            why = f"its {action.action} differs from the reviewed one (now: {fields})"
        records.append(action.record)
        details.append(f"{action.record}: {why}")
    return records, details


async def apply_saved_plan(
    config: Config,
    connectors: Mapping[str, Any],
    ledger: Ledger,
    plan: SavedPlan,
    *,
    now: Callable[[], datetime],
    progress: Callable[[int, int], None] | None = None,
    trigger: str = "apply",
) -> RunResult:
    """Carry out exactly the writes of ``plan`` (module docstring): ``PlanError`` for a plan of
    another tenant, flow or ledger; ``PlanChanged`` when a fresh dry run no longer plans a
    write of it the same way (nothing written)."""
    _refuse_foreign(config, ledger, plan)
    period = _period_of(plan)
    employees_scope = _codes_of(plan, "employees")
    absence_codes = _codes_of(plan, "absence_types")
    _, fresh = await make_plan(
        config,
        connectors,
        ledger,
        plan.flow,
        tenant=plan.tenant,
        period=period,
        employees_scope=employees_scope,
        absence_codes=absence_codes,
        now=now,
        trigger=CHECK_TRIGGER,
    )
    records, details = _changed_records(plan, fresh)
    if records:
        raise PlanChanged(records, details)

    secret = ledger.fingerprint_key
    reviewed = {(a.entity, a.key): a.fingerprint for a in plan.actions}
    sent: set[tuple[str, str]] = set()
    held: Counter[str] = Counter()

    def gate(entity: str, action: Action, changes: tuple[tuple[str, Any, Any], ...]) -> str | None:
        planned = reviewed.get((entity, action.key))
        if planned is None:
            held[NOT_IN_PLAN] += 1
            return NOT_IN_PLAN
        if action_fingerprint(entity, action.key, action.kind.value, changes, secret) != planned:
            held[CHANGED_SINCE_REVIEW] += 1
            return CHANGED_SINCE_REVIEW
        sent.add((entity, action.key))
        return None

    result = await run_flow(
        config,
        connectors,
        ledger,
        plan.flow,
        tenant=plan.tenant,
        trigger=trigger,
        employees_scope=employees_scope,
        absence_codes=absence_codes,
        period=period,
        progress=progress,
        now=now,
        gate=gate,
    )
    notes = _apply_notes(config, plan, held, len(reviewed) - len(sent))
    if notes:
        result.notes.extend(notes)
        _add_to_history(ledger, result, notes)
    return result


def _apply_notes(config: Config, plan: SavedPlan, held: Counter[str], not_sent: int) -> list[str]:
    notes = []
    if held[NOT_IN_PLAN]:
        notes.append(
            f"{held[NOT_IN_PLAN]} write(s) not in the reviewed plan were held back: make a new "
            "plan to review them"
        )
    if held[CHANGED_SINCE_REVIEW]:
        notes.append(
            f"{held[CHANGED_SINCE_REVIEW]} write(s) of the plan changed after the check and "
            "were held back: make a new plan to review them"
        )
    others = not_sent - held[CHANGED_SINCE_REVIEW]
    if others > 0:
        notes.append(
            f"{others} write(s) of the plan were not sent: the run did not plan them (see its "
            "items)"
        )
    saved = plan.computed_from.get("config")
    sha = saved.get("sha256") if isinstance(saved, dict) else None
    if sha is not None and sha != _file_sha256(config.path):
        notes.append(
            f"the config {config.path} changed since the plan was made; the plan was checked "
            "against the systems as they are now"
        )
    return notes


def _add_to_history(ledger: Ledger, result: RunResult, notes: list[str]) -> None:
    """The run's message in the history gains the apply's notes (the run closed without
    them: its writes' gate counts them as it goes)."""
    ledger.add_run_notes(result.run_id, notes)
