"""What the distributed tests and benchmarks/distributed.py both start and stop: a redis-server,
Celery worker processes, an emptied ledger, a tenant's config and the environment a worker
reads. One place, so the benchmark measures the very set-up the tests prove correct.

Plain Python, no pytest: the benchmark imports it as ``tests.distributed.processes``."""

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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """A redis-server of our own on a free port, answering; None when none is on PATH."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
    finally:
        client.close()
    return server, url


def empty_redis(url: str) -> None:
    """Queues, unacknowledged tasks and budgets of an earlier test or scenario gone."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def empty_ledger(url: str) -> str:
    """The ledger's tables dropped (the next process to open it makes them again)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return url
    from sqlalchemy import create_engine, text

    import fjordsync.ledger.dispatch  # noqa: F401  (its table too)
    from fjordsync.ledger.schema import Base

    engine = create_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


def erp_project(project_id: int, name: str) -> dict[str, object]:
    """A 24SevenOffice sandbox project that the projects flow writes to SmartDok."""
    return {
        "Id": project_id,
        "Name": name,
        "NameDisplay": "Plain",
        "TimeReg": "WorkType",
        "DateChanged": "2026-11-01T00:00:00",
        "DateStart": "2026-01-05T00:00:00",
    }


def connections_section(
    tenant: str,
    erp_url: str,
    smartdok_url: str,
    *,
    erp_settings: str = "",
    smartdok_settings: str = "",
) -> str:
    """A tenant's connections ``erp`` (a 24SevenOffice sandbox) and ``time`` (a SmartDok one),
    secrets as references (their values come from ``secrets_env``, never from the file)."""
    from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS, DEFAULT_IDENTITIES

    smartdok_extra = f", {smartdok_settings}" if smartdok_settings else ""
    return textwrap.dedent(f"""
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
        settings = {{ base_url = "{smartdok_url}", api_token = "${{SD_TOKEN}}"{smartdok_extra} }}
        """)


def tenant_section(
    tenant: str,
    erp_url: str,
    smartdok_url: str,
    *,
    erp_settings: str = "",
    smartdok_settings: str = "",
    flow_settings: str = "",
) -> str:
    """One tenant syncing a 24SevenOffice sandbox's projects into its SmartDok."""
    connections = connections_section(
        tenant,
        erp_url,
        smartdok_url,
        erp_settings=erp_settings,
        smartdok_settings=smartdok_settings,
    )
    return connections + textwrap.dedent(f"""
        [tenants.{tenant}.flows.projects]
        source = "erp"
        target = "time"
        {flow_settings}
        """)


def ledger_section(ledger_url: str) -> str:
    return f'[ledger]\nurl = "{ledger_url}"\n'


def secrets_env() -> dict[str, str]:
    from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN
    from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS

    return {
        "TFSO_APP": DEFAULT_CREDENTIALS["ApplicationId"],
        "TFSO_PW": DEFAULT_CREDENTIALS["Password"],
        "SD_TOKEN": DEFAULT_API_TOKEN,
    }


def worker_env(redis_url: str, config: Path, ledger_key: str, **extra: str) -> dict[str, str]:
    """What a worker (and the process that queues its runs) reads: the secrets, the broker, the
    config and the ledger's fingerprint key, plus ``extra`` (e.g. FJORDSYNC_VISIBILITY_TIMEOUT)."""
    return {
        **secrets_env(),
        "FJORDSYNC_BROKER_URL": redis_url,
        "FJORDSYNC_CONFIG": str(config),
        "FJORDSYNC_LEDGER_KEY": ledger_key,
        **extra,
    }


def start_worker(
    env: dict[str, str], name: str, logfile: Path, loglevel: str = "INFO"
) -> subprocess.Popen[bytes]:
    """A real ``celery worker`` process, concurrency 1, in its own session so that a kill or a
    stop reaches its pool process too."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "fjordsync.runtime.distributed.app",
            "worker",
            "--concurrency=1",
            "--pool=prefork",
            f"--loglevel={loglevel}",
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


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the process and its session: nothing acknowledged, nothing cleaned up."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process and its session (a worker finishes its task), SIGKILL after 20 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            kill_group(process)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
