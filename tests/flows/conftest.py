"""Fast flow tests: the flows on in-memory systems, with a real (SQLite) ledger, so outcomes,
links, pending writes and owed marks are what a run leaves behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from fjordsync.flows.common import FlowContext
from fjordsync.ledger import Ledger

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


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
            **extra,
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
