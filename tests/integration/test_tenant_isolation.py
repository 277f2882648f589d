"""Tenants are isolated (issue 13, item 3): one tenant's broken config, failing adapter or held
lock never stops another tenant; a config error is that tenant's, reported, while the rest run.
Problems of the file itself still stop everything."""

import asyncio
import json
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from fjordsync import Connector
from fjordsync.config import ConfigFileError, load_config
from fjordsync.errors import ConfigError
from fjordsync.ledger import Ledger
from fjordsync.plugins import PluginInfo, RegisteredConnector, connectors, get_plugin_manager
from fjordsync.runtime import scheduler as embedded
from fjordsync.runtime.distributed import scheduler as distributed
from fjordsync.runtime.distributed.keys import RunKey
from fjordsync.testing.memory import InMemorySystem, MemorySettings

from .conftest import fjordsync
from .test_config import write  # the config tests' own: a config file from a text

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
MISSING = (
    "tenants.broken.connections.time.settings.api_token",
    "environment variable NOT_SET_ANYWHERE is not set, nor is it in the secrets file",
)

TWO_TENANTS = """
    [ledger]
    url = "sqlite:///ledger.db"

    [tenants.acme.connections.src]
    plugin = "memory"
    settings = { projects = [{ key = "P-1", name = "Kaia" }] }
    [tenants.acme.connections.dst]
    plugin = "memory"
    [tenants.acme.flows.projects]
    source = "src"
    target = "dst"
    schedule = { days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], time = "07:00" }

    [tenants.broken.connections.src]
    plugin = "memory"
    [tenants.broken.connections.time]
    plugin = "smartdok"
    settings = { base_url = "http://127.0.0.1:9", api_token = "${NOT_SET_ANYWHERE}" }
    [tenants.broken.flows.projects]
    source = "src"
    target = "time"
    schedule = { days = ["mon"], time = "07:00" }
"""


@pytest.fixture(scope="module")
def registered():
    return connectors(get_plugin_manager())


def test_a_broken_tenant_is_marked_with_its_problems_and_the_others_load(tmp_path, registered):
    config = load_config(write(tmp_path, TWO_TENANTS), connectors=registered, environ={})
    assert list(config.tenants) == ["acme"]
    assert dict(config.broken) == {"broken": (MISSING,)}
    assert config.tenant("acme")[0] == "acme"
    with pytest.raises(ConfigFileError) as raised:
        config.tenant("broken")
    assert raised.value.problems == [MISSING]
    assert str(raised.value) == f"{tmp_path / 'fjordsync.toml'}:19: {': '.join(MISSING)}"
    with pytest.raises(
        ConfigError, match=r"has 2 tenants: choose one with --tenant \(acme, broken\)"
    ):
        config.tenant(None)
    assert config.broken_summary() == [
        f"tenant 'broken' is not run: its config has 1 problem "
        f"(fjordsync config check {tmp_path / 'fjordsync.toml'})"
    ]
    assert config.broken_summary()[0] in config.warnings
    error = config.broken_error()
    assert error is not None and error.problems == [MISSING]


def test_a_tenant_with_a_structural_mistake_is_broken_alone(tmp_path, registered):
    body = TWO_TENANTS.replace('schedule = { days = ["mon"], time = "07:00" }', 'colour = "red"')
    config = load_config(write(tmp_path, body), connectors=registered, environ={})
    assert list(config.tenants) == ["acme"]
    # The structural mistake does not hide the tenant's other problems (one pass shows all).
    assert config.broken["broken"] == (
        ("tenants.broken.flows.projects.colour", "is not a known setting"),
        MISSING,
    )


def test_when_every_tenant_is_broken_the_config_fails_with_every_problem(tmp_path, registered):
    body = TWO_TENANTS.replace(
        'plugin = "memory"\n    settings = { projects', 'plugin = "nope"\n    settings = { projects'
    )
    with pytest.raises(ConfigFileError) as raised:
        load_config(write(tmp_path, body), connectors=registered, environ={})
    assert [path for path, _ in raised.value.problems] == [
        "tenants.acme.connections.src.plugin",
        MISSING[0],
    ]


def test_problems_of_the_file_itself_still_stop_every_tenant(tmp_path, registered):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('NOT_SET_ANYWHERE = "x"\n')
    secrets.chmod(0o644)
    body = 'secrets_file = "secrets.toml"\n' + textwrap.dedent(TWO_TENANTS)
    with pytest.raises(ConfigFileError) as raised:
        load_config(write(tmp_path, body), connectors=registered, environ={})
    # (a refused secrets file resolves nothing: the refusal says it all)
    assert [path for path, _ in raised.value.problems] == ["secrets_file"]
    with pytest.raises(ConfigFileError) as raised:
        body = TWO_TENANTS.replace('url = "sqlite:///ledger.db"', "colour = 1")
        load_config(write(tmp_path, body), environ={})
    assert raised.value.problems[0] == ("ledger.colour", "is not a known setting")


def test_the_distributed_section_takes_urls_and_never_a_password_in_the_file(tmp_path, registered):
    body = textwrap.dedent(TWO_TENANTS) + textwrap.dedent("""
        [distributed]
        broker_url = "redis://:${REDIS_PW}@redis.internal:6379/0"
        budget_redis_url = "redis://redis.internal:6379/1"
    """)
    environ = {"REDIS_PW": "redis-secret-pw"}
    config = load_config(write(tmp_path, body), connectors=registered, environ=environ)
    assert config.distributed.broker_url == "redis://:redis-secret-pw@redis.internal:6379/0"
    assert config.distributed.budget_redis_url == "redis://redis.internal:6379/1"
    assert "redis-secret-pw" in config.secret_values()

    literal = body.replace("${REDIS_PW}", "redis-secret-pw")
    with pytest.raises(ConfigFileError) as raised:
        load_config(write(tmp_path, literal), connectors=registered, environ=environ)
    assert [path for path, _ in raised.value.problems] == ["distributed.broker_url", MISSING[0]]
    assert "redis-secret-pw" not in str(raised.value)


def test_run_of_another_tenant_works_and_of_the_broken_one_says_why(tmp_path):
    file = write(tmp_path, TWO_TENANTS)
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    ran = fjordsync("run", "projects", "--tenant", "acme", "--config", str(file), "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["counts"] == {"written": 1}

    refused = fjordsync("run", "projects", "--tenant", "broken", "--config", str(file), env=env)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert f"{file}:19: {': '.join(MISSING)}" in refused.stderr
    assert "Traceback" not in refused.stderr

    # The file is not valid while one tenant is broken, though the others run.
    checked = fjordsync("config", "check", str(file), "--json", env=env)
    assert checked.returncode == 2
    document = json.loads(checked.stdout)
    assert document["valid"] is False
    assert document["problems"] == [{"path": MISSING[0], "problem": MISSING[1], "line": 19}]


class Boom(InMemorySystem):
    async def read_projects(self, query):
        raise RuntimeError("a bug in one tenant's adapter")


BOOM = RegisteredConnector(
    Connector(name="boom", title="Raises", settings=MemorySettings, adapter=Boom),
    PluginInfo("boom", "x", "boom-dist", "1.0"),
)


def _due_now(ledger, config, tenant, flow="projects"):
    schedule = config.tenants[tenant].flows[flow].schedule
    ledger.set_schedule(
        tenant, flow, spec=embedded.signature(schedule), next_due=NOW - timedelta(minutes=1)
    )


def test_serve_runs_the_healthy_tenants_and_reports_the_broken_one(tmp_path, registered):
    """A broken config, a bug in another tenant's adapter: the healthy tenant still runs."""
    body = textwrap.dedent(TWO_TENANTS) + textwrap.dedent("""
        [tenants.buggy.connections.src]
        plugin = "boom"
        [tenants.buggy.connections.dst]
        plugin = "memory"
        [tenants.buggy.flows.projects]
        source = "src"
        target = "dst"
        schedule = { days = ["mon"], time = "07:00" }
    """)
    known = {**registered, "boom": BOOM}
    config = load_config(write(tmp_path, body), connectors=known, environ={})
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        for tenant in ("acme", "buggy"):
            _due_now(ledger, config, tenant)
        lines: list[str] = []
        asyncio.run(
            embedded.serve(config, known, ledger, lambda: NOW, once=True, report=lines.append)
        )
        assert lines == [
            "2026-12-01 06:00:00 UTC  " + config.broken_summary()[0],
            "2026-12-01 06:00:00 UTC  acme  projects: succeeded",
            "2026-12-01 06:00:00 UTC  buggy  projects: failed",
        ]
        assert [run.status for run in ledger.runs(tenant="acme", flow="projects")] == ["succeeded"]
        assert ledger.schedule("broken", "projects") is None  # never looked at
    finally:
        ledger.close()


def test_the_distributed_scheduler_enqueues_the_healthy_tenants_and_reports_the_broken(
    tmp_path, registered
):
    config = load_config(write(tmp_path, TWO_TENANTS), connectors=registered, environ={})
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    sent: list[str] = []

    def enqueue(key: RunKey, period):
        sent.append(key.text)
        return distributed.task_id_of(key)

    try:
        _due_now(ledger, config, "acme")
        lines: list[str] = []
        asyncio.run(
            distributed.serve(
                config, ledger, lambda: NOW, once=True, report=lines.append, enqueue=enqueue
            )
        )
        key = "acme/projects/2026-12-01T05:59:00.000000Z"
        assert sent == [key]
        assert lines == [
            "2026-12-01 06:00:00 UTC  " + config.broken_summary()[0],
            f"2026-12-01 06:00:00 UTC  acme  projects: enqueued {key}",
        ]
    finally:
        ledger.close()
