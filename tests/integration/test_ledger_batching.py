"""The ledger's batched recording (issue 12): markers committed ahead of their creates, outcomes
saved in batches, and what a kill between a write and its batch's commit leaves (its marker, so
the next run links it instead of sending it again)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from fjordsync.domain.diff import Action, ActionKind, Plan
from fjordsync.domain.model import Project
from fjordsync.domain.values import DateRange
from fjordsync.errors import RateLimited
from fjordsync.flows import hours, projects
from fjordsync.flows.common import FlowContext, Outcome, apply_plan
from fjordsync.ledger import Ledger, state
from fjordsync.ports import SavedOutcome
from fjordsync.testing.memory import InMemorySystem, SimulatedKill
from tests.flows.test_hours import entry as hour
from tests.flows.test_hours import systems as hour_flow_systems

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
PERIOD = DateRange(date(2026, 10, 1), date(2026, 10, 31))


@pytest.fixture
def ledger(ledger_url, tmp_path):
    # On SQLite and, when FJORDSYNC_TEST_POSTGRES_URL is set, PostgreSQL: the batches' upserts
    # are spelt per dialect.
    store = Ledger(ledger_url, clock=lambda: NOW, key_file=tmp_path / "ledger.key")
    yield store
    store.close()


def context(ledger: Ledger, flow: str, *, concurrency: int = 1) -> FlowContext:
    run_id = ledger.start_run("acme", flow, trigger="manual", dry_run=False)
    return FlowContext("acme", flow, run_id, ledger, NOW, concurrency=concurrency)


def hour_systems(*keys: str) -> tuple[InMemorySystem, InMemorySystem]:
    """The flow tests' SmartDok with an hour per key and the 24SevenOffice it goes to."""
    return hour_flow_systems(*(hour(key) for key in keys))


def run_hours(ledger, source, target):
    return asyncio.run(hours.run(context(ledger, "hours"), source, target, period=PERIOD))


def outcomes(result):
    return {item.key: (item.action, item.outcome, item.message) for item in result.items}


def kill_at_the_first_commit_of_a_write(ledger, monkeypatch):
    """The process dies while the batch holding the run's writes is being committed: nothing of
    that batch reaches the ledger."""
    real = ledger.save_outcomes

    def dies(run_id, **kwargs):
        if any(o.target_key is not None for o in kwargs["outcomes"]):
            raise SimulatedKill("killed before the batch was committed")
        return real(run_id, **kwargs)

    monkeypatch.setattr(ledger, "save_outcomes", dies)


def test_hours_a_kill_before_their_batch_is_committed_are_linked_by_marker_not_sent_again(
    ledger, monkeypatch
):
    source, target = hour_systems("1", "2", "3")
    kill_at_the_first_commit_of_a_write(ledger, monkeypatch)
    with pytest.raises(SimulatedKill):
        run_hours(ledger, source, target)
    assert target.calls["save_time_entry"] == 3  # all three reached the ERP
    assert ledger.links("acme", "hours", "hour") == {}  # their batch never was committed
    assert ledger.pending_writes("acme", "hours", "hour") == {
        "1": "fjordsync:acme:1",
        "2": "fjordsync:acme:2",
        "3": "fjordsync:acme:3",
    }
    monkeypatch.undo()
    second = run_hours(ledger, source, target)
    found = (
        "create",
        "written",
        "found in the target by its marker after an answer was lost: linked, not sent again",
    )
    assert outcomes(second) == {"1": found, "2": found, "3": found}
    assert target.calls["save_time_entry"] == 3  # none sent twice
    assert sorted(e.key for e in target.time_entries.values()) == ["1", "2", "3"]
    assert ledger.pending_writes("acme", "hours", "hour") == {}
    assert sorted(ledger.links("acme", "hours", "hour")) == ["1", "2", "3"]
    assert source.exported == {"1", "2", "3"}
    assert ledger.owed_marks("acme", "hours") == {}
    third = run_hours(ledger, source, target)
    assert {item.outcome for item in third.items} == {Outcome.UNCHANGED}


def test_projects_a_kill_before_their_batch_is_committed_are_linked_not_created_again(
    ledger, monkeypatch
):
    erp = InMemorySystem("erp", projects={k: Project(k, f"Prosjekt {k}") for k in ("1", "2")})
    smartdok = InMemorySystem("smartdok")
    kill_at_the_first_commit_of_a_write(ledger, monkeypatch)
    with pytest.raises(SimulatedKill):
        asyncio.run(projects.run(context(ledger, "projects"), erp, smartdok))
    assert ledger.pending_writes("acme", "projects", "project") == {
        "1": "fjordsync:acme:1",
        "2": "fjordsync:acme:2",
    }
    monkeypatch.undo()
    second = asyncio.run(projects.run(context(ledger, "projects"), erp, smartdok))
    found = (
        "create",
        "written",
        "found in the target after an answer was lost: linked, not sent again",
    )
    assert outcomes(second) == {"1": found, "2": found}
    assert smartdok.calls["create_project"] == 2
    assert ledger.pending_writes("acme", "projects", "project") == {}
    links = ledger.links("acme", "projects", "project")
    assert {key: link.target_key for key, link in links.items()} == {
        "1": "smartdok-1",
        "2": "smartdok-2",
    }


def test_a_kill_by_the_target_keeps_the_writes_before_it_and_the_marker_of_its_own(ledger):
    source, target = hour_systems("1", "2", "3")
    target.kill_after.add("save_time_entry:3")
    with pytest.raises(SimulatedKill):
        run_hours(ledger, source, target)
    assert sorted(ledger.links("acme", "hours", "hour")) == ["1", "2"]  # their batch was saved
    assert ledger.pending_writes("acme", "hours", "hour") == {"3": "fjordsync:acme:3"}
    second = run_hours(ledger, source, target)
    assert outcomes(second)["3"] == (
        "create",
        "written",
        "found in the target by its marker after an answer was lost: linked, not sent again",
    )
    assert target.calls["save_time_entry"] == 3
    assert sorted(e.key for e in target.time_entries.values()) == ["1", "2", "3"]


def test_every_item_of_a_run_of_1000_unchanged_projects_is_in_its_history(ledger):
    keys = [f"{n:04d}" for n in range(1000)]
    erp = InMemorySystem("erp", projects={k: Project(k, f"Prosjekt {k}") for k in keys})
    smartdok = InMemorySystem("smartdok")
    first = asyncio.run(projects.run(context(ledger, "projects", concurrency=8), erp, smartdok))
    assert {item.outcome for item in first.items} == {Outcome.WRITTEN}
    assert len(ledger.links("acme", "projects", "project")) == 1000
    assert ledger.pending_writes("acme", "projects", "project") == {}
    written = ledger.run(first.run_id)
    assert sorted(i.record_key for i in written.items) == keys
    assert {(i.action, i.outcome) for i in written.items} == {("create", "written")}
    second = asyncio.run(projects.run(context(ledger, "projects"), erp, smartdok))
    recorded = ledger.run(second.run_id)
    assert [(i.entity, i.record_key, i.action, i.outcome) for i in recorded.items] == [
        ("project", key, "unchanged", "unchanged") for key in keys
    ]
    assert smartdok.calls["create_project"] == 1000


def test_creates_a_rate_limit_left_unsent_keep_no_marker(ledger):
    sent: list[str] = []
    marked_when_sent: dict[str, bool] = {}

    async def write(action: Action) -> str:
        marked_when_sent[action.key] = action.key in ledger.pending_writes(
            "acme", "projects", "project"
        )
        if action.key == "3":
            raise RateLimited("budget spent", system="erp", operation="create")
        sent.append(action.key)
        return f"t-{action.key}"

    the_plan = Plan(
        tuple(Action(ActionKind.CREATE, key, {"name": key}) for key in ("1", "2", "3", "4", "5"))
    )
    result = asyncio.run(
        apply_plan(context(ledger, "projects"), the_plan, "project", write, exactly_once=True)
    )
    assert marked_when_sent == {"1": True, "2": True, "3": True}  # committed before each send
    assert sent == ["1", "2"]
    assert [(i.key, i.outcome) for i in result.items] == [
        ("1", Outcome.WRITTEN),
        ("2", Outcome.WRITTEN),
        ("3", Outcome.DEFERRED),
        ("4", Outcome.DEFERRED),
        ("5", Outcome.DEFERRED),
    ]
    # 3's create may have gone out before the limit answered: its marker stays; 4 and 5 were
    # never sent, so the markers written ahead for them are gone.
    assert ledger.pending_writes("acme", "projects", "project") == {"3": "fjordsync:acme:3"}
    assert sorted(ledger.links("acme", "projects", "project")) == ["1", "2"]


def test_begin_writes_keeps_markers_already_there_and_save_outcomes_ends_the_unsent(ledger):
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    ledger.begin_write(
        run_id, tenant="acme", flow="hours", entity="hour", source_key="1", marker="old"
    )
    ledger.begin_writes(
        run_id,
        tenant="acme",
        flow="hours",
        entity="hour",
        markers={"1": "new", "2": "m2", "3": "m3"},
    )
    assert ledger.pending_writes("acme", "hours", "hour") == {"1": "old", "2": "m2", "3": "m3"}
    ledger.save_outcomes(
        run_id,
        tenant="acme",
        flow="hours",
        entity="hour",
        outcomes=[
            SavedOutcome("9", "unchanged", "unchanged"),
            SavedOutcome("1", "create", "written", "a note", ("hours",), "t-1", "fp", "exp-1"),
        ],
        unsent=["3"],
    )
    assert ledger.pending_writes("acme", "hours", "hour") == {"2": "m2"}
    [link] = ledger.links("acme", "hours", "hour").values()
    assert (link.source_key, link.target_key, link.fingerprint) == ("1", "t-1", "fp")
    assert ledger.owed_marks("acme", "hours") == {"1": "exp-1"}
    ledger.record_write(
        run_id,
        tenant="acme",
        flow="hours",
        entity="hour",
        source_key="1",
        target_key="t-1",
        fingerprint="fp2",
        action="update",
        owed_mark="exp-2",
    )
    assert ledger.links("acme", "hours", "hour")["1"].fingerprint == "fp2"
    assert ledger.owed_marks("acme", "hours") == {"1": "exp-2"}
    recorded = ledger.run(run_id)
    assert [
        (i.record_key, i.action, i.outcome, i.message, i.changed_fields) for i in recorded.items
    ] == [
        ("9", "unchanged", "unchanged", None, ()),
        ("1", "create", "written", "a note", ("hours",)),
        ("1", "update", "written", None, ()),
    ]


def test_settling_marks_in_several_statements_settles_each_one_asked(ledger, monkeypatch):
    # A first pass of 100,000 hours settles them at once: more than SQLite binds in a statement.
    monkeypatch.setattr(state, "_KEYS_PER_STATEMENT", 2)
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    keys = [str(n) for n in range(6)]
    written = [
        SavedOutcome(k, "create", "written", None, (), f"t-{k}", "fp", "exp-1") for k in keys
    ]
    ledger.save_outcomes(run_id, tenant="acme", flow="hours", entity="hour", outcomes=written)
    ledger.settle_marks("acme", "hours", keys[:5])
    assert ledger.owed_marks("acme", "hours") == {"5": "exp-1"}
