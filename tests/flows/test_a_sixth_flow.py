"""Issue 11 §4: a new flow is one function and one ``Flow`` value. A toy sixth flow copies the
active activities of one system's code list into another system as projects; registered in the
registry, it is validated by the config, run by the runner like the five, and refused at config
load on a connection that cannot serve it."""

from __future__ import annotations

import asyncio
import textwrap
from typing import Protocol

import pytest

from fjordsync.config import ConfigFileError, load_config
from fjordsync.connectors import Connector
from fjordsync.domain.diff import FieldSpec, Record, plan
from fjordsync.domain.model import CodeItem, Project
from fjordsync.flows import registry
from fjordsync.flows.common import FlowContext, RunResult, apply_plan
from fjordsync.ledger import Ledger
from fjordsync.plugins import PluginInfo, RegisteredConnector, connectors, get_plugin_manager
from fjordsync.ports import CodeListReader, ProjectReader, ProjectWriter, Query
from fjordsync.testing.memory import InMemorySystem, MemorySettings

from .conftest import NOW


# --- the sixth flow: what it needs of each side, one function, one Flow value ----------------
class CodesSource(CodeListReader, Protocol): ...


class CodesTarget(ProjectReader, ProjectWriter, Protocol): ...


async def copy_codes(context: FlowContext, source: CodesSource, target: CodesTarget) -> RunResult:
    wanted = {c.code: c for c in await source.read_codes("activities") if c.active}
    have = [
        Record(p.key, {"name": p.name}, p.target_key) for p in await target.read_projects(Query())
    ]
    the_plan = plan(
        [Record(code, {"name": c.name}) for code, c in wanted.items()], have, FieldSpec({"name"})
    )

    async def write(action):
        return await target.create_project(Project(action.key, wanted[action.key].name))

    return await apply_plan(context, the_plan, "code", write)


CODES = registry.Flow(
    "codes", "activities as projects (a toy)", CodesSource, CodesTarget, copy_codes
)
# ---------------------------------------------------------------------------------------------


class WithCodes(InMemorySystem):
    @classmethod
    def from_settings(cls, settings):
        system = super().from_settings(settings)
        system.codes["activities"] = [CodeItem("A1", "Graving"), CodeItem("A2", "Muring")]
        return system


@pytest.fixture
def sixth_flow():
    registry.register(CODES)
    yield CODES
    registry.FLOWS.pop("codes")


@pytest.fixture
def registered():
    toy = RegisteredConnector(
        Connector("toy", "Memory with codes", MemorySettings, WithCodes),
        PluginInfo("toy", "x", "toy-dist", "1.0"),
    )
    return {**connectors(get_plugin_manager()), "toy": toy}


def config_file(tmp_path, target_plugin):
    path = tmp_path / "fjordsync.toml"
    path.write_text(
        textwrap.dedent(f"""
            [ledger]
            url = "sqlite:///ledger.db"
            [tenants.acme.connections.codes]
            plugin = "toy"
            [tenants.acme.connections.projects]
            plugin = "{target_plugin}"
            [tenants.acme.flows.codes]
            source = "codes"
            target = "projects"
        """),
        encoding="utf-8",
    )
    return path


def test_a_sixth_flow_is_one_function_and_one_flow_value(
    sixth_flow, registered, tmp_path, monkeypatch
):
    monkeypatch.setenv("FJORDSYNC_LEDGER_KEY", "k" * 32)
    config = load_config(config_file(tmp_path, "memory"), connectors=registered)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", clock=lambda: NOW)
    try:
        from fjordsync.runtime import runner

        result = asyncio.run(runner.run_flow(config, registered, ledger, "codes", now=lambda: NOW))
        assert [(i.key, i.action, i.outcome) for i in result.items] == [
            ("A1", "create", "written"),
            ("A2", "create", "written"),
        ]
        assert result.status == "succeeded"
        assert sorted(ledger.links("acme", "codes", "code")) == ["A1", "A2"]
        # `fjordsync plugins` shows it beside the five, for the connectors that can serve it.
        served = registry.flows_served(registered["alexis"].connector.capabilities)
        assert "codes" not in served and "payroll-employees" in served
        assert registry.flows_served(registered["toy"].connector.capabilities)["codes"] == (
            "source",
            "target",
        )
    finally:
        ledger.close()


def test_a_connection_that_cannot_serve_the_sixth_flow_is_refused_at_config_load(
    sixth_flow, registered, tmp_path
):
    # (alexis also wants its token: that problem comes first; the flow's is the one shown here)
    with pytest.raises(ConfigFileError) as refused:
        load_config(config_file(tmp_path, "alexis"), connectors=registered)
    assert refused.value.problems[-1:] == [
        (
            "tenants.acme.flows.codes.target",
            "flow 'codes' writes to connection 'projects', which is an AlexisHR connection "
            "(alexis): it cannot read projects or write projects; connections that can: "
            "codes (toy)",
        )
    ]
