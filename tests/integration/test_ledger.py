"""The ledger on SQLite and PostgreSQL: runs, links, pending writes, cursors and locks."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from fjordsync.errors import LedgerError, RunLocked
from fjordsync.ledger import Ledger, ScheduleState
from fjordsync.ledger.schema import Base


class FakeClock:
    def __init__(self):
        self.now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def ledger(ledger_url, clock):
    store = Ledger(ledger_url, clock=clock)
    yield store
    store.close()


def write(ledger, run_id, key, target="T1", fp="f1"):
    ledger.record_write(
        run_id,
        tenant="acme",
        flow="hours",
        entity="hour",
        source_key=key,
        target_key=target,
        fingerprint=fp,
        action="create",
    )


def test_migrations_create_exactly_the_schema_of_the_models(ledger):
    with ledger.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    tables = set(inspect(ledger.engine).get_table_names())
    assert {"links", "runs", "run_items", "cursors", "pending_writes", "run_locks"} <= tables
    assert {"schedules", "owed_marks"} <= tables


def test_reopening_a_migrated_ledger_keeps_its_data(ledger_url, clock):
    first = Ledger(ledger_url, clock=clock)
    run_id = first.start_run("acme", "hours", trigger="manual", dry_run=False)
    first.close()
    second = Ledger(ledger_url, clock=clock)
    assert second.run(run_id).flow == "hours"
    second.close()


def test_run_lifecycle_with_items_and_counts(ledger, clock):
    run_id = ledger.start_run("acme", "hours", trigger="scheduled", dry_run=False)
    assert ledger.run(run_id).status == "running"
    write(ledger, run_id, "h1")
    ledger.record_item(
        run_id,
        entity="hour",
        key="h2",
        action="invalid",
        outcome="invalid",
        message="activity code 01.1 has no Work Type ID 01.1",
    )
    clock.now += timedelta(minutes=3)
    ledger.finish_run(run_id, status="partial", counts={"create": 1, "invalid": 1})
    run = ledger.run(run_id)
    assert (run.status, run.trigger, run.dry_run) == ("partial", "scheduled", False)
    assert run.counts == {"create": 1, "invalid": 1}
    assert run.finished_at - run.started_at == timedelta(minutes=3)
    assert [(i.record_key, i.action, i.outcome) for i in run.items] == [
        ("h1", "create", "written"),
        ("h2", "invalid", "invalid"),
    ]
    assert ledger.failed_keys(run_id) == {"hour": {"h2"}}
    assert [r.id for r in ledger.runs(tenant="acme")] == [run_id]
    assert ledger.runs(flow="projects") == []


def test_link_and_pending_marker_are_saved_in_one_transaction(ledger):
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    ledger.begin_write(
        run_id, tenant="acme", flow="hours", entity="hour", source_key="h1", marker="fjs-1"
    )
    assert ledger.pending_writes("acme", "hours", "hour") == {"h1": "fjs-1"}
    # A write recorded against a run that does not exist fails as a whole:
    # no link, no item, and the pending marker stays for reconciliation.
    with pytest.raises(LedgerError):
        write(ledger, 999_999, "h1")
    assert ledger.links("acme", "hours", "hour") == {}
    assert ledger.pending_writes("acme", "hours", "hour") == {"h1": "fjs-1"}
    write(ledger, run_id, "h1", target="4711")
    assert ledger.pending_writes("acme", "hours", "hour") == {}
    link = ledger.links("acme", "hours", "hour")["h1"]
    assert (link.target_key, link.fingerprint) == ("4711", "f1")


def test_a_second_write_updates_the_link(ledger):
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    write(ledger, run_id, "h1", fp="f1")
    write(ledger, run_id, "h1", fp="f2")
    assert ledger.links("acme", "hours", "hour")["h1"].fingerprint == "f2"
    assert len(ledger.run(run_id).items) == 2


def test_begin_write_keeps_the_first_marker_and_forget_clears_it(ledger):
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    for marker in ("m1", "m2"):
        ledger.begin_write(
            run_id, tenant="acme", flow="hours", entity="hour", source_key="h1", marker=marker
        )
    assert ledger.pending_writes("acme", "hours", "hour") == {"h1": "m1"}
    ledger.forget_pending(tenant="acme", flow="hours", entity="hour", source_key="h1")
    assert ledger.pending_writes("acme", "hours", "hour") == {}


def test_cursors_advance_per_tenant_and_flow(ledger):
    assert ledger.cursor("acme", "projects", "changed_after") is None
    ledger.advance_cursor("acme", "projects", "changed_after", "2026-11-01T00:00:00Z")
    ledger.advance_cursor("acme", "projects", "changed_after", "2026-11-24T06:00:00Z")
    assert ledger.cursor("acme", "projects", "changed_after") == "2026-11-24T06:00:00Z"
    assert ledger.cursor("other", "projects", "changed_after") is None


def test_lock_keeps_two_runs_of_one_flow_apart(ledger, clock):
    with ledger.lock("acme", "hours", "run 1"):
        with pytest.raises(RunLocked) as caught, ledger.lock("acme", "hours", "run 2"):
            pass
        assert str(caught.value) == (
            "flow 'hours' for tenant 'acme' is already running (run 1); wait for it to finish"
        )
        with ledger.lock("acme", "projects", "run 3"), ledger.lock("other", "hours", "run 4"):
            pass
    with ledger.lock("acme", "hours", "run 5"):
        pass


def test_an_expired_lock_is_taken_over(ledger, clock):
    held = ledger.lock("acme", "hours", "crashed run", ttl=timedelta(minutes=10))
    held.__enter__()  # never released: its process died
    clock.now += timedelta(minutes=11)
    with (
        ledger.lock("acme", "hours", "next run"),
        pytest.raises(RunLocked, match="next run"),
        ledger.lock("acme", "hours", "third"),
    ):
        pass


def test_only_one_of_many_concurrent_runs_gets_the_lock(ledger_url, clock):
    ledgers = [Ledger(ledger_url, clock=clock) for _ in range(4)]
    outcomes, barrier = [], threading.Barrier(len(ledgers))

    def attempt(store, name):
        barrier.wait()
        try:
            store._acquire("acme", "hours", name, timedelta(hours=1))
            outcomes.append("got")
        except RunLocked:
            outcomes.append("locked")

    threads = [threading.Thread(target=attempt, args=(s, f"r{i}")) for i, s in enumerate(ledgers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["got", "locked", "locked", "locked"]
    for store in ledgers:
        store.close()


def test_fingerprint_key_is_generated_once_and_kept(ledger_url, clock, monkeypatch, tmp_path):
    monkeypatch.delenv("FJORDSYNC_LEDGER_KEY", raising=False)
    # The key lives outside the database; PostgreSQL has no file to put it beside.
    monkeypatch.setenv("FJORDSYNC_LEDGER_KEY_FILE", str(tmp_path / "fingerprint.key"))
    first = Ledger(ledger_url, clock=clock)
    key = first.fingerprint_key
    assert len(key) == 32
    first.close()
    assert Ledger(ledger_url, clock=clock).fingerprint_key == key
    monkeypatch.setenv("FJORDSYNC_LEDGER_KEY", "kept-outside-the-database")
    assert Ledger(ledger_url, clock=clock).fingerprint_key == b"kept-outside-the-database"


def test_unreachable_database_is_a_ledger_error():
    with pytest.raises(LedgerError, match=r"^cannot open the ledger at sqlite:.*unable to open"):
        Ledger("sqlite:////nonexistent-dir/for/sure/ledger.db")


def test_a_lock_whose_process_died_on_this_machine_is_taken_over(ledger):
    import subprocess
    import sys

    from fjordsync.ledger.store import lock_holder

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_holder = lock_holder("manual").rsplit(":", 2)[0] + f":{gone.stdout.strip()}:manual"
    held = ledger.lock("acme", "hours", dead_holder)
    held.__enter__()  # its process is gone, the lock is still there
    with ledger.lock("acme", "hours", lock_holder("manual")):
        pass
    alive = ledger.lock("acme", "hours", lock_holder("scheduled"))  # this process: alive
    alive.__enter__()
    with pytest.raises(RunLocked), ledger.lock("acme", "hours", "other:1:manual"):
        pass


def test_a_mark_owed_is_saved_with_the_link_and_settled_once_sent(ledger):
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    for key in ("1", "2"):
        ledger.record_write(
            run_id,
            tenant="acme",
            flow="hours",
            entity="hour",
            source_key=key,
            target_key=f"T{key}",
            fingerprint="f",
            action="create",
            owed_mark="fjordsync-acme",
        )
    write(ledger, run_id, "3")  # a write that owes nothing
    assert ledger.owed_marks("acme", "hours") == {"1": "fjordsync-acme", "2": "fjordsync-acme"}
    assert ledger.owed_marks("acme", "projects") == {}
    ledger.settle_marks("acme", "hours", ["1"])
    assert ledger.owed_marks("acme", "hours") == {"2": "fjordsync-acme"}


def _dead_holder():
    import subprocess
    import sys

    from fjordsync.ledger.store import lock_holder

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = lock_holder("manual").split(":", 1)[0]
    return host, gone.stdout.strip(), f"{host}:{gone.stdout.strip()}:manual"


def test_a_run_whose_process_died_is_closed_as_interrupted_with_the_reason(ledger, clock):
    from fjordsync.ledger.store import lock_holder

    host, pid, dead = _dead_holder()
    held = ledger.lock("acme", "hours", dead)
    held.__enter__()  # killed: its lock and its run stay behind
    dead_run = ledger.start_run("acme", "hours", trigger="manual", dry_run=False, holder=dead)
    live = lock_holder("manual")
    with ledger.lock("acme", "projects", live):
        live_run = ledger.start_run(
            "acme", "projects", trigger="manual", dry_run=False, holder=live
        )
        clock.now += timedelta(minutes=1)
        assert ledger.close_dead_runs() == [dead_run]
        assert ledger.run(live_run).status == "running"
    record = ledger.run(dead_run)
    assert (record.status, record.message) == (
        "interrupted",
        f"the process running it (pid {pid} on host {host}) is gone",
    )
    assert record.finished_at == clock.now
    assert ledger.close_dead_runs() == [live_run]  # its lock is gone now: nothing runs it
    assert ledger.run(live_run).message == (
        f"the process running it (pid {live.split(':')[1]} on host {host}) is gone: "
        "its run lock was released"
    )


def test_a_run_on_another_machine_is_trusted_until_its_lock_expires(ledger, clock):
    elsewhere = "other-host:4242:scheduled"
    with ledger.lock("acme", "hours", elsewhere, ttl=timedelta(hours=2)):
        run_id = ledger.start_run(
            "acme", "hours", trigger="scheduled", dry_run=False, holder=elsewhere
        )
        assert ledger.close_dead_runs(tenant="acme", flow="hours") == []
        clock.now += timedelta(hours=3)
        assert ledger.close_dead_runs(tenant="acme", flow="hours") == [run_id]
        assert ledger.run(run_id).message == (
            "the process running it (pid 4242 on host other-host) is gone: its run lock expired"
        )


def test_schedule_state_is_kept_per_tenant_and_flow_in_utc(ledger):
    from zoneinfo import ZoneInfo

    assert ledger.schedule("acme", "projects") is None
    oslo = datetime(2026, 11, 25, 6, 5, tzinfo=ZoneInfo("Europe/Oslo"))
    ledger.set_schedule("acme", "projects", spec="mon 06:30:00 Europe/Oslo", next_due=oslo)
    state = ledger.schedule("acme", "projects")
    assert (state.spec, state.next_due) == ("mon 06:30:00 Europe/Oslo", oslo)
    assert state.next_due.tzinfo == UTC
    later = datetime(2026, 11, 30, 5, 30, tzinfo=UTC)
    ledger.set_schedule("acme", "projects", spec="mon,thu 06:30:00 Europe/Oslo", next_due=later)
    assert ledger.schedule("acme", "projects").next_due == later
    assert ledger.schedule("other", "projects") is None
    assert ledger.cursor("acme", "projects", "schedule") is None  # not in the cursors any more


def test_migration_0003_moves_schedule_state_out_of_the_cursors_and_back(ledger_url, clock):
    import json

    from alembic import command
    from sqlalchemy import text

    from fjordsync.ledger import migrate

    store = Ledger(ledger_url, clock=clock, upgrade=False)
    migrate.upgrade(store.engine, "0002")
    rows = {
        ("acme", "projects", "schedule"): json.dumps(
            {"next_due": "2026-11-25T05:05:00+00:00", "signature": "mon 06:30:00 Europe/Oslo"}
        ),
        ("acme", "hours", "schedule"): "not json",  # unreadable: stays, treated as never seen
        ("acme", "projects", "changed_after"): "2026-11-01T00:00:00Z",
    }
    with store.engine.begin() as connection:
        for (tenant, flow, name), value in rows.items():
            connection.execute(
                text(
                    "INSERT INTO cursors (tenant, flow, name, value, updated_at) "
                    "VALUES (:tenant, :flow, :name, :value, :at)"
                ),
                {"tenant": tenant, "flow": flow, "name": name, "value": value, "at": clock.now},
            )
    migrate.upgrade(store.engine)
    assert store.schedule("acme", "projects") == ScheduleState(
        "mon 06:30:00 Europe/Oslo", datetime(2026, 11, 25, 5, 5, tzinfo=UTC)
    )
    assert store.cursor("acme", "projects", "schedule") is None
    assert store.cursor("acme", "hours", "schedule") == "not json"
    assert store.schedule("acme", "hours") is None
    assert store.cursor("acme", "projects", "changed_after") == "2026-11-01T00:00:00Z"
    store.set_schedule(
        "acme",
        "hours",
        spec="fri 07:00:00 Europe/Oslo",
        next_due=datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
    )
    command.downgrade(migrate.alembic_config(store.engine), "0002")
    assert "schedules" not in inspect(store.engine).get_table_names()
    assert json.loads(store.cursor("acme", "projects", "schedule")) == {
        "next_due": "2026-11-25T05:05:00+00:00",
        "signature": "mon 06:30:00 Europe/Oslo",
    }
    assert json.loads(store.cursor("acme", "hours", "schedule")) == {
        "next_due": "2026-11-27T06:00:00+00:00",
        "signature": "fri 07:00:00 Europe/Oslo",
    }
    assert store.cursor("acme", "projects", "changed_after") == "2026-11-01T00:00:00Z"
    store.close()


def test_the_core_container_provides_the_sync_state_port(tmp_path):
    from dependency_injector.errors import Error

    from fjordsync.container import AppContainer, CoreContainer, SystemClock

    app = AppContainer()
    app.settings.from_dict({"config_path": None, "ledger_url": f"sqlite:///{tmp_path / 'l.db'}"})
    assert app.core.state() is app.ledger()
    assert not (tmp_path / "l.db.key").exists()  # checking the port does not make the key
    with pytest.raises(Error, match="is not an instance of"):
        CoreContainer(clock=SystemClock(), state=object()).state()
    app.ledger().close()
