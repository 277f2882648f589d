"""Fixtures for the distributed runtime's tests: a real redis-server, a ledger on PostgreSQL
when FJORDSYNC_TEST_POSTGRES_URL names one (else a SQLite file the processes share), real
Celery worker processes, and configs of several tenants against the sandboxes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL_ENV = "FJORDSYNC_TEST_REDIS_URL"
POSTGRES_URL = os.environ.get("FJORDSYNC_TEST_POSTGRES_URL")
LEDGER_KEY = "distributed-tests-fingerprint-key"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    """A Redis URL: FJORDSYNC_TEST_REDIS_URL (CI's server), else a redis-server of our own on a
    free port, killed at the end."""
    given = os.environ.get(REDIS_URL_ENV)
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            f"no redis-server on PATH and no {REDIS_URL_ENV}: install the Debian package "
            "redis-server (.ci/run does) to run the distributed tests"
        )
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def redis_url(redis_server) -> str:
    """The server, emptied for this test (queues, unacknowledged tasks, budgets)."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server


def _empty_postgres(url: str) -> str:
    import fjordsync.ledger.dispatch  # noqa: F401  (its table too)
    from fjordsync.ledger.schema import Base

    engine = create_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


@pytest.fixture
def shared_ledger_url(tmp_path) -> str:
    """The ledger every process of a test shares: PostgreSQL when one is given."""
    if POSTGRES_URL:
        return _empty_postgres(POSTGRES_URL)
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    if not POSTGRES_URL:
        pytest.skip(
            "set FJORDSYNC_TEST_POSTGRES_URL to run the PostgreSQL ledger tests "
            "(.ci/run starts a server and sets it)"
        )
    return _empty_postgres(POSTGRES_URL)


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
    from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS, DEFAULT_IDENTITIES

    parts = [f'[ledger]\nurl = "{ledger_url}"\n']
    for tenant, smartdok_url in smartdok_urls.items():
        parts.append(
            textwrap.dedent(f"""
            [tenants.{tenant}.connections.erp]
            plugin = "twentyfourseven"
            [tenants.{tenant}.connections.erp.settings]
            api_url = "{erp_url}"
            webservices_url = "{erp_url}"
            application_id = "${{TFSO_APP}}"
            username = "{DEFAULT_CREDENTIALS["Username"]}"
            password = "${{TFSO_PW}}"
            identity_id = "{DEFAULT_IDENTITIES[0]["Id"]}"
            {erp_settings}
            [tenants.{tenant}.connections.time]
            plugin = "smartdok"
            settings = {{ base_url = "{smartdok_url}", api_token = "${{SD_TOKEN}}" }}
            [tenants.{tenant}.flows.projects]
            source = "erp"
            target = "time"
            """)
        )
        if schedule:
            parts.append(f"schedule = {schedule}\n")
    return "".join(parts)


def secrets_env() -> dict[str, str]:
    from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN
    from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS

    return {
        "TFSO_APP": DEFAULT_CREDENTIALS["ApplicationId"],
        "TFSO_PW": DEFAULT_CREDENTIALS["Password"],
        "SD_TOKEN": DEFAULT_API_TOKEN,
    }


class Worker:
    """A real ``celery worker`` process (its own session, so a kill takes its pool too)."""

    def __init__(self, env: dict[str, str], name: str, logfile: Path) -> None:
        self.logfile = logfile
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "fjordsync.runtime.distributed.app",
                "worker",
                "--concurrency=1",
                "--pool=prefork",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--hostname={name}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=logfile.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the worker and its pool: nothing acknowledged, nothing cleaned up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


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


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


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
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


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
