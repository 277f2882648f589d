"""The runner closes every run it starts: failed on an unexpected error (its class, never its
text), interrupted when cancelled, and a run whose process died before it is closed first."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from fjordsync.config import load_config
from fjordsync.flows import registry
from fjordsync.ledger import Ledger
from fjordsync.ledger.store import lock_holder
from fjordsync.plugins import connectors, get_plugin_manager
from fjordsync.runtime import runner

from .conftest import NOW


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("FJORDSYNC_LEDGER_KEY", "k" * 32)
    config_file = tmp_path / "fjordsync.toml"
    config_file.write_text(
        textwrap.dedent("""
            [ledger]
            url = "sqlite:///ledger.db"
            [tenants.acme.connections.erp]
            plugin = "memory"
            [tenants.acme.connections.time]
            plugin = "memory"
            [tenants.acme.flows.projects]
            source = "erp"
            target = "time"
        """),
        encoding="utf-8",
    )
    registered = connectors(get_plugin_manager())
    config = load_config(config_file, connectors=registered)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", clock=lambda: NOW)
    yield config, registered, ledger
    ledger.close()


def run(config, registered, ledger):
    return asyncio.run(runner.run_flow(config, registered, ledger, "projects", now=lambda: NOW))


def test_an_unexpected_error_closes_the_run_as_failed_naming_only_its_class(setup, monkeypatch):
    config, registered, ledger = setup

    async def broken(context, source, target):
        raise KeyError("15108695088")  # the text of an unknown error may be a value

    monkeypatch.setitem(registry.FLOWS, "projects", replace(registry.FLOWS["projects"], run=broken))
    with pytest.raises(KeyError):
        run(config, registered, ledger)
    [record] = ledger.runs()
    assert (record.status, record.message) == (
        "failed",
        "the run stopped on an unexpected error (KeyError)",
    )


def test_a_cancelled_run_is_closed_as_interrupted(setup, monkeypatch):
    config, registered, ledger = setup

    async def cancelled(context, source, target):
        raise asyncio.CancelledError

    monkeypatch.setitem(
        registry.FLOWS, "projects", replace(registry.FLOWS["projects"], run=cancelled)
    )
    with pytest.raises(asyncio.CancelledError):
        run(config, registered, ledger)
    [record] = ledger.runs()
    assert (record.status, record.message) == (
        "interrupted",
        "the run was stopped (CancelledError) before it finished",
    )


def test_the_next_run_closes_a_run_whose_process_died(setup):
    config, registered, ledger = setup
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    host = lock_holder("manual").split(":", 1)[0]
    dead = f"{host}:{gone}:manual"
    ledger.lock("acme", "projects", dead).__enter__()  # killed with its lock held
    killed = ledger.start_run("acme", "projects", trigger="manual", dry_run=False, holder=dead)
    result = run(config, registered, ledger)
    assert result.status == "succeeded"
    record = ledger.run(killed)
    assert (record.status, record.message) == (
        "interrupted",
        f"the process running it (pid {gone} on host {host}) is gone",
    )
