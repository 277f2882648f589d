"""Real Celery workers over a real Redis run queued runs against the sandboxes: every run
once, a done key never again, and a worker killed mid-run loses no run and duplicates nothing
in the target."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime

import pytest

from fjordsync.testing.sandbox import FaultSpec
from fjordsync_smartdok.sandbox import SmartDokSandbox
from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox

from .conftest import LEDGER_KEY, free_port, tenants_config, wait_for, worker_env
from .processes import erp_project

TENANTS = ("acme", "bygg", "fjord")


def erp_state() -> dict:
    return {
        "Project": [erp_project(1000 + n, f"Prosjekt {n}") for n in range(1, 7)],
        "PersonItem": [],
    }


@pytest.fixture
def systems(tmp_path, redis_url, shared_ledger_url, monkeypatch):
    with TwentyFourSevenSandbox(erp_state()) as erp:
        smartdoks = {tenant: SmartDokSandbox().start() for tenant in TENANTS}
        try:
            config = tmp_path / "fjordsync.toml"
            urls = {tenant: sd.url for tenant, sd in smartdoks.items()}
            config.write_text(tenants_config(shared_ledger_url, erp.url, urls), "utf-8")
            # A vanished worker's run goes to another worker after 2 s (not 3 hours).
            env = worker_env(redis_url, config, LEDGER_KEY, FJORDSYNC_VISIBILITY_TIMEOUT="2")
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            yield config, smartdoks, env
        finally:
            for sd in smartdoks.values():
                sd.stop()


def _celery_enqueue():
    """Send to the test's Redis: the app reads the broker URL on import, after the fixture."""
    from fjordsync.runtime.distributed import app as app_module

    app_module.app.conf.broker_url = os.environ["FJORDSYNC_BROKER_URL"]
    app_module.app.conf.broker_transport_options = {"visibility_timeout": 2}
    from fjordsync.runtime.distributed.scheduler import enqueue_with_celery

    return enqueue_with_celery


def _runtime(config):
    from fjordsync.runtime.distributed.ledger import load_runtime

    return load_runtime(str(config))


def _project_numbers(sd: SmartDokSandbox) -> Counter:
    return Counter(p["ProjectNumber"].strip() for p in sd.state["Projects"])


EXPECTED = Counter({str(1000 + n): 1 for n in range(1, 7)})


def test_every_queued_run_runs_once_and_a_done_key_never_again(systems, start_worker):
    from fjordsync.runtime.distributed.keys import RunKey
    from fjordsync.runtime.distributed.scheduler import submit

    config, smartdoks, env = systems
    enqueue = _celery_enqueue()
    runtime = _runtime(config)
    ledger = runtime.ledger
    due = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)
    keys = [RunKey(tenant, "projects", due) for tenant in TENANTS]
    for key in keys:
        assert submit(ledger, key, trigger="scheduled", enqueue=enqueue)
        assert not submit(ledger, key, trigger="scheduled", enqueue=enqueue)
    start_worker(env)
    wait_for(lambda: all(ledger.dispatch(k.text).status == "done" for k in keys), 60, "the runs")
    for tenant, sd in smartdoks.items():
        assert _project_numbers(sd) == EXPECTED, tenant
        runs = ledger.runs(tenant=tenant, flow="projects")
        assert [(r.status, r.trigger) for r in runs] == [("succeeded", "scheduled")]
    states = [ledger.dispatch(k.text) for k in keys]
    assert [(s.status, s.attempts, s.message) for s in states] == [
        ("done", 1, f"run {s.run_id}: succeeded") for s in states
    ]
    # The same task delivered again (a worker died before acknowledging it): nothing runs.
    writes = {tenant: sum(sd.writes.values()) for tenant, sd in smartdoks.items()}
    from fjordsync.runtime.distributed.tasks import run

    run.apply_async(args=[keys[0].text, None])
    submit(ledger, RunKey("acme", "projects", datetime.now(UTC)), trigger="manual", enqueue=enqueue)
    wait_for(
        lambda: (
            len(ledger.runs(tenant="acme", flow="projects")) == 2
            and all(d.final for d in ledger.dispatches(tenant="acme"))
        ),
        60,
        "the manual run",
    )
    assert [r.trigger for r in ledger.runs(tenant="acme", flow="projects")] == [
        "manual",
        "scheduled",
    ]  # one new run: the manual one; the repeated key ran nothing
    assert ledger.dispatch(keys[0].text).attempts == 1
    assert {t: sum(sd.writes.values()) for t, sd in smartdoks.items()} == writes
    ledger.close()


def test_a_worker_killed_mid_run_loses_no_run_and_duplicates_nothing(systems, start_worker):
    from fjordsync.runtime.distributed.keys import RunKey
    from fjordsync.runtime.distributed.scheduler import submit

    config, smartdoks, env = systems
    slow = smartdoks["bygg"]
    slow.set_faults(FaultSpec(latency=400))  # its run takes a few seconds: time to kill it
    enqueue = _celery_enqueue()
    ledger = _runtime(config).ledger
    key = RunKey("bygg", "projects", datetime(2026, 12, 1, 5, 30, tzinfo=UTC))
    first = start_worker(env, "first")
    submit(ledger, key, trigger="scheduled", enqueue=enqueue)
    wait_for(lambda: sum(slow.writes.values()) >= 2, 60, "the run's first writes")
    first.kill()
    written_before = sum(slow.writes.values())
    assert written_before < len(EXPECTED)  # killed mid-run
    assert ledger.dispatch(key.text).status == "running"
    start_worker(env, "second")
    wait_for(lambda: ledger.dispatch(key.text).status == "done", 90, "the redelivered run")
    assert _project_numbers(slow) == EXPECTED  # every project once: none lost, none twice
    runs = ledger.runs(tenant="bygg", flow="projects")
    assert [r.status for r in runs] == ["succeeded", "interrupted"]
    assert ledger.dispatch(key.text).attempts == 2
    ledger.close()


def _submit_acme_run(config, redis_url, monkeypatch, start_worker):
    """A worker started on ``config`` and acme's scheduled projects run of 05:30 submitted to
    it: the ledger (this process's, to watch the run) and the run's key."""
    from fjordsync.runtime.distributed.keys import RunKey
    from fjordsync.runtime.distributed.scheduler import submit

    env = worker_env(redis_url, config, LEDGER_KEY)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    enqueue = _celery_enqueue()
    ledger = _runtime(config).ledger
    key = RunKey("acme", "projects", datetime(2026, 12, 1, 5, 30, tzinfo=UTC))
    start_worker(env)
    submit(ledger, key, trigger="scheduled", enqueue=enqueue)
    return ledger, key


def test_a_run_stopped_by_the_rate_budget_is_enqueued_again_for_when_it_resets(
    tmp_path, redis_url, shared_ledger_url, monkeypatch, start_worker
):
    from fjordsync.runtime.distributed.app import app

    with TwentyFourSevenSandbox(erp_state()) as erp, SmartDokSandbox() as sd:
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            tenants_config(
                shared_ledger_url, erp.url, {"acme": sd.url}, erp_settings="requests_per_hour = 1"
            ),
            "utf-8",
        )
        ledger, key = _submit_acme_run(config, redis_url, monkeypatch, start_worker)
        wait_for(lambda: ledger.dispatch(key.text).status == "deferred", 60, "the deferral")
        # Held by the worker as a task with an ETA, not slept on: the worker answers at once.
        etas: list[tuple[str, datetime]] = []

        def scheduled() -> bool:
            replies = app.control.inspect(timeout=2).scheduled() or {}
            etas[:] = [
                (entry["request"]["args"][0], datetime.fromisoformat(entry["eta"]))
                for entries in replies.values()
                for entry in entries
            ]
            return bool(etas)

        wait_for(scheduled, 30, "the deferred task at the worker")
        state = ledger.dispatch(key.text)
        assert etas == [(key.text, state.resume_at)]
        # When the budget resets: the next clock hour.
        assert (state.resume_at.minute, state.resume_at.second) == (0, 0)
        assert 0 < (state.resume_at - datetime.now(UTC)).total_seconds() <= 3600
        assert "budget of 1 requests an hour is spent" in state.message
        assert sd.writes == Counter()  # nothing written; the run goes on after the reset
        ledger.close()


def test_a_transient_failure_is_retried_with_backoff_until_the_run_goes_through(
    tmp_path, redis_url, shared_ledger_url, monkeypatch, start_worker
):
    port = free_port()  # SmartDok is down: nothing listens here yet
    with TwentyFourSevenSandbox(erp_state()) as erp:
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            tenants_config(shared_ledger_url, erp.url, {"acme": f"http://127.0.0.1:{port}"}),
            "utf-8",
        )
        ledger, key = _submit_acme_run(config, redis_url, monkeypatch, start_worker)
        wait_for(lambda: ledger.dispatch(key.text).status == "retrying", 60, "a retry")
        assert "SmartDok" in ledger.dispatch(key.text).message
        sd = SmartDokSandbox().start(port=port)  # back up
        try:
            wait_for(lambda: ledger.dispatch(key.text).status == "done", 60, "the retried run")
            assert _project_numbers(sd) == EXPECTED
        finally:
            sd.stop()
        state = ledger.dispatch(key.text)
        assert state.attempts >= 2
        runs = ledger.runs(tenant="acme", flow="projects")
        # Each attempt before is a failed run in the history, the last one went through.
        assert [r.status for r in runs] == ["succeeded"] + ["failed"] * (state.attempts - 1)
        ledger.close()
