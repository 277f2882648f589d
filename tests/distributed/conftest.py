"""Fixtures for the distributed runtime's tests: a real redis-server, a ledger on PostgreSQL
when FJORDSYNC_TEST_POSTGRES_URL names one (else a SQLite file the processes share), real
Celery worker processes, and configs of several tenants against the sandboxes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The integration tests' fixture (a ledger on SQLite, and on PostgreSQL when one is given), the
# same here: a fixture pytest finds in this conftest because it is imported into it.
from tests.integration.conftest import ledger_url

from .processes import (
    ROOT,
    empty_ledger,
    empty_redis,
    free_port,
    kill_group,
    ledger_section,
    secrets_env,
    start_redis,
    stop_group,
    tenant_section,
    wait_for,
    worker_env,
)
from .processes import (
    start_worker as start_worker_process,
)

__all__ = ["free_port", "ledger_url", "secrets_env", "wait_for", "worker_env"]

REDIS_URL_ENV = "FJORDSYNC_TEST_REDIS_URL"
POSTGRES_URL = os.environ.get("FJORDSYNC_TEST_POSTGRES_URL")
LEDGER_KEY = "distributed-tests-fingerprint-key"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    """A Redis URL: FJORDSYNC_TEST_REDIS_URL (CI's server), else a redis-server of our own on a
    free port, killed at the end."""
    given = os.environ.get(REDIS_URL_ENV)
    if given:
        yield given
        return
    started = start_redis(tmp_path_factory.mktemp("redis"))
    if started is None:
        pytest.skip(
            f"no redis-server on PATH and no {REDIS_URL_ENV}: install the Debian package "
            "redis-server (.ci/run does) to run the distributed tests"
        )
    server, url = started
    try:
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def redis_url(redis_server) -> str:
    """The server, emptied for this test (queues, unacknowledged tasks, budgets)."""
    empty_redis(redis_server)
    return redis_server


@pytest.fixture
def shared_ledger_url(tmp_path) -> str:
    """The ledger every process of a test shares: PostgreSQL when one is given."""
    if POSTGRES_URL:
        return empty_ledger(POSTGRES_URL)
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(autouse=True)
def _ledger_key(monkeypatch):
    monkeypatch.setenv("FJORDSYNC_LEDGER_KEY", LEDGER_KEY)


def tenants_config(
    ledger_url: str,
    erp_url: str,
    smartdok_urls: dict[str, str],
    *,
    schedule: str | None = None,
    erp_settings: str = "",
) -> str:
    """A config with one tenant per SmartDok sandbox, each syncing the 24SevenOffice sandbox's
    projects into its own SmartDok (secrets as references, as in the integration tests)."""
    flow_settings = f"schedule = {schedule}" if schedule else ""
    return ledger_section(ledger_url) + "".join(
        tenant_section(
            tenant, erp_url, smartdok_url, erp_settings=erp_settings, flow_settings=flow_settings
        )
        for tenant, smartdok_url in smartdok_urls.items()
    )


class Worker:
    """A real ``celery worker`` process (its own session, so a kill takes its pool too)."""

    def __init__(self, env: dict[str, str], name: str, logfile: Path) -> None:
        self.logfile = logfile
        self.process = start_worker_process(env, name, logfile)

    def kill(self) -> None:
        """SIGKILL to the worker and its pool: nothing acknowledged, nothing cleaned up."""
        kill_group(self.process)

    def stop(self) -> None:
        stop_group(self.process)


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., Worker]]:
    """Start workers with ``start_worker(env)``; all are stopped at the end."""
    started: list[Worker] = []

    def start(env: dict[str, str], name: str | None = None) -> Worker:
        worker = Worker(
            {**os.environ, **env},
            name or f"w{len(started) + 1}",
            tmp_path / f"worker-{len(started) + 1}.log",
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# -- many tenants (test_many_tenants.py): scheduler processes ---------------------------------


class SchedulerProcess:
    """A real distributed scheduler process (``commands.scheduler``, as ``fjordsync scheduler``
    will call it), ticking every ``tick`` seconds until stopped."""

    def __init__(self, env: dict[str, str], config: Path, tick: float, logfile: Path) -> None:
        code = (
            "from fjordsync.runtime.distributed.commands import scheduler; "
            f"scheduler({str(config)!r}, tick={tick!r})"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdout=logfile.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        stop_group(self.process)


@pytest.fixture
def start_scheduler(tmp_path) -> Iterator[Callable[..., SchedulerProcess]]:
    """Start schedulers with ``start_scheduler(env, config, tick)``; all stopped at the end."""
    started: list[SchedulerProcess] = []

    def start(env: dict[str, str], config: Path, tick: float = 0.5) -> SchedulerProcess:
        logfile = tmp_path / f"scheduler-{len(started) + 1}.log"
        scheduler = SchedulerProcess({**os.environ, **env}, config, tick, logfile)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.stop()
