"""``fjordsync serve --metrics-port``: Prometheus metrics after a scheduled run against the
sandboxes, scraped over HTTP as Prometheus would, with exact sample values: the runs and records
of the ledger, the requests this process sent by system, method and status class (the
sandboxes' own counts), and what is left of the 24SevenOffice budget."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fjordsync.budget import credential_hash
from fjordsync.ledger import Ledger
from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS

from .conftest import fjordsync
from .test_flows_erp_to_smartdok import ENV, systems  # noqa: F401  (the fixture)

FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, of a /metrics page."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(port: int, deadline: float) -> str:
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def due_projects(systems, tmp_path):  # noqa: F811
    """The sandboxes and a config whose projects flow is on a schedule that is due now."""
    erp, sd, config = systems
    config.write_text(
        config.read_text().replace(
            '[tenants.acme.flows.projects]\nsource = "erp"\ntarget = "time"',
            '[tenants.acme.flows.projects]\nsource = "erp"\ntarget = "time"\n'
            'schedule = { days = ["mon", "wed", "fri"], time = "06:30" }',
        )
    )
    queued = fjordsync("serve", "--config", str(config), "--once", env=ENV)
    assert queued.returncode == 0, queued.stderr
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    spec = ledger.schedule("acme", "projects").spec
    ledger.set_schedule("acme", "projects", spec=spec, next_due=datetime(2026, 1, 1, tzinfo=UTC))
    yield erp, sd, config, ledger
    ledger.close()


def test_serve_exposes_runs_records_requests_and_budget_after_a_scheduled_run(due_projects):
    erp, sd, config, ledger = due_projects
    port = free_port()
    for sandbox in (erp, sd):
        httpx.delete(f"{sandbox.url}/_sandbox/stats")
    serve = subprocess.Popen(
        [FJORDSYNC, "serve", "--config", str(config), "--tick", "1", "--metrics-port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **ENV},
    )
    try:
        deadline = time.monotonic() + 90
        while not [run for run in ledger.runs() if run.finished_at is not None]:
            assert serve.poll() is None, serve.communicate()
            assert time.monotonic() < deadline, "the scheduled run did not finish"
            time.sleep(0.3)
        found = samples(scrape(port, deadline))
    finally:
        serve.terminate()
        _, stderr = serve.communicate(timeout=30)
    assert f"metrics on http://127.0.0.1:{port}/metrics" in stderr
    [run] = ledger.runs()
    assert (run.status, run.counts) == ("succeeded", {"written": 3})
    flow = (("flow", "projects"), ("tenant", "acme"))
    assert found[("fjordsync_ledger_up", ())] == 1.0
    assert found[("fjordsync_runs_total", (*flow[:1], ("status", "succeeded"), flow[1]))] == 1.0
    assert found[("fjordsync_records_total", (flow[0], ("outcome", "written"), flow[1]))] == 3.0
    assert not [name for name, _ in found if name == "fjordsync_runs_running"]  # none going on
    ledger_samples = {
        name for name, _ in found if name.startswith(("fjordsync_runs", "fjordsync_records"))
    }
    assert ledger_samples == {"fjordsync_runs_total", "fjordsync_records_total"}
    assert found[("fjordsync_last_run_timestamp_seconds", flow)] == run.finished_at.timestamp()
    assert found[("fjordsync_last_success_timestamp_seconds", flow)] == (
        run.finished_at.timestamp()
    )

    requests = {
        labels: value
        for (name, labels), value in found.items()
        if name == "fjordsync_http_requests_total"
    }
    answered = {
        name: httpx.get(f"{sandbox.url}/_sandbox/stats").json()["total_requests"]
        for name, sandbox in (("erp", erp), ("smartdok", sd))
    }
    smartdok = sum(v for labels, v in requests.items() if ("system", "SmartDok") in labels)
    assert smartdok == answered["smartdok"]
    assert sum(requests.values()) == answered["erp"] + answered["smartdok"]
    assert {dict(labels)["status_class"] for labels in requests} == {"2xx"}

    credential = credential_hash(erp.url, DEFAULT_CREDENTIALS["Username"])
    budget = (("credential", credential), ("system", "24SevenOffice"))
    per_hour = found[("fjordsync_budget_per_hour", budget)]
    assert per_hour == 7200.0
    assert found[("fjordsync_budget_remaining", budget)] == per_hour - answered["erp"]
