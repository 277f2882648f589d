"""The distributed scheduler's tick on a real ledger: each due run claimed and enqueued once,
whatever a second scheduler does at the same moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from fjordsync.runtime.distributed.keys import RunKey
from fjordsync.runtime.distributed.ledger import load_runtime
from fjordsync.runtime.distributed.scheduler import STALE_CLAIM, submit, task_id_of, tick
from fjordsync.runtime.scheduler import signature

from .conftest import secrets_env, tenants_config

TENANTS = ("acme", "bygg", "fjord", "nord")
DUE = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 5, 31, tzinfo=UTC)
SCHEDULE = '{ days = ["mon", "tue", "wed", "thu", "fri"], time = "06:30" }'


@pytest.fixture
def config_file(tmp_path, ledger_url, monkeypatch):
    for name, value in secrets_env().items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "fjordsync.toml"
    urls = {tenant: f"http://127.0.0.1:9/{tenant}" for tenant in TENANTS}
    path.write_text(
        tenants_config(ledger_url, "http://127.0.0.1:9", urls, schedule=SCHEDULE), "utf-8"
    )
    env = load_runtime(str(path))
    for tenant in TENANTS:  # every tenant's projects due at 05:30 UTC (06:30 Oslo)
        schedule = env.config.tenants[tenant].flows["projects"].schedule
        env.ledger.set_schedule(tenant, "projects", spec=signature(schedule), next_due=DUE)
    env.ledger.close()
    return str(path)


def test_run_keys_read_back_from_their_text():
    key = RunKey("a/b", "payroll-employees", DUE)
    assert key.text == "a/b/payroll-employees/2026-12-01T05:30:00.000000Z"
    assert RunKey.parse(key.text) == key
    with pytest.raises(ValueError, match="time zone"):
        RunKey("acme", "hours", datetime(2026, 12, 1, 5, 30))


def test_two_schedulers_ticking_at_once_enqueue_each_due_run_once(config_file):
    sent: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)
    reports: dict[str, list[tuple[str, str, str]]] = {}

    def enqueue(key: RunKey, period: list[str] | None) -> str:
        with lock:
            sent.append(key.text)
        return task_id_of(key)

    def scheduler(name: str) -> None:
        env = load_runtime(config_file)  # its own engine and connections, as a process has
        barrier.wait()
        reports[name] = tick(env.config, env.ledger, lambda: NOW, enqueue=enqueue)
        env.ledger.close()

    threads = [threading.Thread(target=scheduler, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    keys = [RunKey("x", "projects", DUE).text.replace("x/", f"{t}/", 1) for t in TENANTS]
    assert sorted(sent) == sorted(keys)  # each once, by one scheduler or the other
    outcomes = [what for report in reports.values() for _, _, what in report]
    assert sorted(o for o in outcomes if o.startswith("enqueued")) == sorted(
        f"enqueued {key}" for key in keys
    )
    assert not [o for o in outcomes if o.startswith("error")]

    env = load_runtime(config_file)
    dispatched = env.ledger.dispatches()
    assert [(d.tenant, d.status, d.trigger, d.due_at) for d in dispatched] == [
        (tenant, "queued", "scheduled", DUE) for tenant in TENANTS
    ]
    assert [d.task_id for d in dispatched] == [
        task_id_of(RunKey(t, "projects", DUE)) for t in TENANTS
    ]
    # The next tick finds nothing due: the schedules moved on to the next weekday's 06:30 Oslo.
    assert tick(env.config, env.ledger, lambda: NOW + timedelta(minutes=1), enqueue=enqueue) == []
    assert env.ledger.schedule("acme", "projects").next_due == datetime(
        2026, 12, 2, 5, 30, tzinfo=UTC
    )
    assert len(sent) == len(TENANTS)
    env.ledger.close()


def test_a_key_claimed_once_is_never_enqueued_again(config_file):
    env = load_runtime(config_file)
    sent: list[str] = []

    def enqueue(key: RunKey, period: list[str] | None) -> str:
        sent.append(key.text)
        return "task-1"

    key = RunKey("acme", "projects", DUE)
    assert submit(env.ledger, key, trigger="manual", enqueue=enqueue) is True
    assert submit(env.ledger, key, trigger="manual", enqueue=enqueue) is False
    assert sent == [key.text]
    env.ledger.close()


def test_a_claim_whose_scheduler_died_before_enqueueing_is_enqueued_by_the_next(config_file):
    env = load_runtime(config_file)
    key = RunKey("bygg", "projects", DUE)
    # A scheduler claimed it and died before the enqueue (its clock: the ledger's, now).
    assert env.ledger.claim(key.text, tenant="bygg", flow="projects", due_at=DUE, trigger="x")
    sent: list[str] = []

    def enqueue(k: RunKey, period: list[str] | None) -> str:
        sent.append(k.text)
        return "task-2"

    later = datetime.now(UTC) + STALE_CLAIM + timedelta(seconds=5)
    report = tick(env.config, env.ledger, lambda: later, enqueue=enqueue)
    assert ("bygg", "projects", f"enqueued {key.text} (stale claim)") in report
    assert sent.count(key.text) == 1
    assert env.ledger.dispatch(key.text).status == "queued"
    env.ledger.close()
