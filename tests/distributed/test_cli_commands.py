"""The distributed engine through the installed command, as an operator runs it:
``fjordsync run FLOW --queue`` puts a run on the queue and ``fjordsync worker`` runs it
(``fjordsync scheduler`` calls the ``commands.scheduler`` that test_many_tenants runs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from . import test_worker
from .conftest import wait_for
from .test_worker import EXPECTED, _project_numbers, _runtime

systems = test_worker.systems  # the same three tenants and sandboxes

FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")


def fjordsync(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FJORDSYNC, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )


def queue_for_acme(flow: str, config: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``fjordsync run FLOW --tenant acme --queue --json``: one run put on the queue."""
    return fjordsync(
        "run", flow, "--config", str(config), "--tenant", "acme", "--queue", "--json", env=env
    )


def test_a_run_queued_from_the_command_line_is_run_by_a_worker_started_by_it(systems, tmp_path):
    config, smartdoks, env = systems
    queued = queue_for_acme("projects", config, env)
    assert queued.returncode == 0, queued.stderr
    document = json.loads(queued.stdout)
    assert (document["tenant"], document["flow"]) == ("acme", "projects")
    assert document["queued"].startswith("acme/projects/")
    ledger = _runtime(config).ledger
    assert ledger.dispatch(document["queued"]).status in {"queued", "claimed"}
    log = (tmp_path / "worker.log").open("ab")
    worker = subprocess.Popen(
        [FJORDSYNC, "worker", "--config", str(config), "--pool", "solo"],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: ledger.dispatch(document["queued"]).status == "done", 60, "the run")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    assert _project_numbers(smartdoks["acme"]) == EXPECTED
    assert [(r.status, r.trigger) for r in ledger.runs(tenant="acme", flow="projects")] == [
        ("succeeded", "manual")
    ]
    for other in ("bygg", "fjord"):  # only the tenant asked for
        assert ledger.runs(tenant=other, flow="projects") == []
    ledger.close()


def test_queue_refuses_a_scoped_run_and_an_unknown_flow_in_one_line(systems):
    config, _, env = systems
    scoped = fjordsync("run", "projects", "--config", str(config), "--queue", "--dry-run", env=env)
    assert scoped.returncode == 2
    assert scoped.stderr.strip().splitlines() == [
        "error: --queue takes a whole run: not --dry-run, --employees, --absence-types or "
        "--retry-failed"
    ]
    unknown = queue_for_acme("absences", config, env)
    assert unknown.returncode == 2
    answer = json.loads(unknown.stdout)
    assert answer["error"] == "ConfigError"
    assert "tenant 'acme' has no flow 'absences'" in answer["message"]
    assert "Traceback" not in unknown.stdout + unknown.stderr
