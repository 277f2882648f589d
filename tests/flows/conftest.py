"""Fast flow tests: the flows on in-memory systems, with a real (SQLite) ledger, so outcomes,
links, pending writes and owed marks are what a run leaves behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from fjordsync.flows.common import FlowContext
from fjordsync.ledger import Ledger
from fjordsync.plugins import connectors, get_plugin_manager

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
# The in-memory systems stand in for the real ones: each flow's messages are worded with the
# registered wording of the connectors its two sides stand for, as the runner does.
SIDES = {
    "projects": ("twentyfourseven", "smartdok"),
    "employees": ("twentyfourseven", "smartdok"),
    "hours": ("smartdok", "twentyfourseven"),
    "payroll-employees": ("alexis", "twentyfourseven-payroll"),
    "absences": ("alexis", "twentyfourseven-payroll"),
}


def wording_of(flow: str) -> dict:
    registered = connectors(get_plugin_manager())
    source, target = SIDES[flow]
    return {
        "source_wording": registered[source].connector.wording,
        "target_wording": registered[target].connector.wording,
    }


@pytest.fixture
def ledger(tmp_path):
    store = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", clock=lambda: NOW)
    yield store
    store.close()


class Runs:
    """Start runs of one flow the way the runner does, one event loop per run (so a simulated
    kill ends everything that run had in flight)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def context(self, flow: str, *, dry_run: bool = False, **extra) -> FlowContext:
        run_id = self.ledger.start_run("acme", flow, trigger="manual", dry_run=dry_run)
        return FlowContext(
            tenant="acme",
            flow=flow,
            run_id=run_id,
            state=self.ledger,
            now=NOW,
            dry_run=dry_run,
            concurrency=1,
            **{**wording_of(flow), **extra},
        )

    def run(self, flow_run, flow: str, *args, **kwargs):
        context = self.context(flow)
        return asyncio.run(flow_run(context, *args, **kwargs))


@pytest.fixture
def runs(ledger):
    return Runs(ledger)


def by_key(result):
    return {
        (item.entity, item.key): (item.action, item.outcome, item.message) for item in result.items
    }
