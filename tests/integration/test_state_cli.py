"""``fjordsync state show|clear FLOW`` through the installed command: what the ledger keeps
between runs of a flow, shown exactly, and cleared only after asking, never a live lock, and
never a pending write without its key shown and what clearing it gives up said."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fjordsync.ledger import Ledger
from fjordsync.ports import SavedOutcome

from .conftest import erp_and_smartdok_config, erp_smartdok_env

ENV = erp_smartdok_env()
FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")
WHEN = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
# A holder on another machine: only its lock's time to live says whether it is stale.
ELSEWHERE = "build-07:4242:schedule"


def state(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FJORDSYNC, "state", *args],
        capture_output=stdin is not None and True,
        stdin=stdin,
        text=True,
        env={**os.environ, "COLUMNS": "200", **ENV},
        timeout=60,
        check=False,
    )


@pytest.fixture
def config(tmp_path):
    """A config with the hours and projects flows (the sandboxes are not asked: these commands
    read the ledger only) and a ledger holding a cursor, two pending writes and an owed mark."""
    path = tmp_path / "fjordsync.toml"
    path.write_text(
        erp_and_smartdok_config(
            "http://127.0.0.1:9", "http://127.0.0.1:9", ledger=tmp_path / "ledger.db"
        )
        + textwrap.dedent("""
            [tenants.acme.flows.hours]
            source = "time"
            target = "erp"
            [tenants.acme.flows.projects]
            source = "erp"
            target = "time"
        """),
        encoding="utf-8",
    )
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", clock=lambda: WHEN)
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    ledger.advance_cursor("acme", "hours", "modified_since", "2026-11-01T00:00:00+00:00")
    ledger.begin_writes(
        run_id,
        tenant="acme",
        flow="hours",
        entity="hour",
        markers={"9001": "fjordsync:acme:9001", "9002": "fjordsync:acme:9002"},
    )
    ledger.save_outcomes(
        run_id,
        tenant="acme",
        flow="hours",
        entity="hour",
        outcomes=[
            SavedOutcome("9000", "create", "written", None, (), "55", "f" * 16, "fjordsync-acme")
        ],
    )
    ledger.close()
    return path, tmp_path / "ledger.db"


def _lock(ledger_file: Path, ttl: timedelta) -> None:
    ledger = Ledger(f"sqlite:///{ledger_file}", clock=lambda: WHEN)
    ledger._acquire("acme", "hours", ELSEWHERE, ttl)
    ledger.close()


SHOWN = [
    "acme / hours",
    "cursors: 1",
    "  modified_since = 2026-11-01T00:00:00+00:00 (set 2026-11-02 08:00:00 UTC)",
    "pending writes: 2",
    "  hour 9001 (marker fjordsync:acme:9001, since 2026-11-02 08:00:00 UTC, run 1)",
    "  hour 9002 (marker fjordsync:acme:9002, since 2026-11-02 08:00:00 UTC, run 1)",
    "owed export marks: 1",
    "  9000 (export fjordsync-acme, since 2026-11-02 08:00:00 UTC, run 1)",
]


def test_show_lists_cursors_pending_writes_owed_marks_and_a_live_lock(config):
    path, ledger_file = config
    _lock(ledger_file, timedelta(days=3650))
    shown = state("show", "hours", "--config", str(path))
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout.splitlines() == [
        *SHOWN,
        "run lock: live, held by pid 4242 on host build-07 since 2026-11-02 08:00:00 UTC, "
        "expires 2036-10-30 08:00:00 UTC",
    ]
    document = json.loads(state("show", "hours", "--config", str(path), "--json").stdout)
    assert document == {
        "tenant": "acme",
        "flow": "hours",
        "cursors": [
            {
                "name": "modified_since",
                "value": "2026-11-01T00:00:00+00:00",
                "updated_at": "2026-11-02T08:00:00+00:00",
            }
        ],
        "pending_writes": {
            "count": 2,
            "writes": [
                {
                    "entity": "hour",
                    "key": key,
                    "marker": f"fjordsync:acme:{key}",
                    "created_at": "2026-11-02T08:00:00+00:00",
                    "run_id": 1,
                }
                for key in ("9001", "9002")
            ],
        },
        "owed_marks": {
            "count": 1,
            "marks": [
                {
                    "key": "9000",
                    "export_id": "fjordsync-acme",
                    "created_at": "2026-11-02T08:00:00+00:00",
                    "run_id": 1,
                }
            ],
        },
        "lock": {
            "holder": ELSEWHERE,
            "acquired_at": "2026-11-02T08:00:00+00:00",
            "expires_at": "2036-10-30T08:00:00+00:00",
            "state": "live",
            "why": "held",
        },
    }


def test_a_flow_with_nothing_kept_and_an_unknown_flow(config):
    path, _ = config
    shown = state("show", "projects", "--config", str(path))
    assert shown.stdout.splitlines() == [
        "acme / projects",
        "cursors: none",
        "pending writes: none",
        "owed export marks: none",
        "run lock: none",
    ]
    unknown = state("show", "absences", "--config", str(path))
    assert unknown.returncode == 2
    assert "tenant 'acme' has no flow 'absences' (its flows: hours, projects)" in unknown.stderr


def test_clear_refuses_a_live_lock_and_clears_nothing(config):
    path, ledger_file = config
    _lock(ledger_file, timedelta(days=3650))
    refused = state("clear", "hours", "--config", str(path), "--locks", "--cursors", "--yes")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: the run lock of acme/hours is live (held by pid 4242 on host build-07 until "
        "2036-10-30 08:00:00 UTC): a run is going on; nothing cleared"
    )
    assert state("show", "hours", "--config", str(path)).stdout.splitlines()[1] == "cursors: 1"


def test_clear_without_a_terminal_and_without_yes_refuses(config):
    path, _ = config
    refused = state("clear", "hours", "--config", str(path), "--cursors")
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(
        "error: state clear asks before it clears, and there is no terminal to ask on: run it "
        "on a terminal, or give --yes after reading `fjordsync state show`"
    )
    assert state("show", "hours", "--config", str(path)).stdout.splitlines()[1] == "cursors: 1"
    nothing = state("clear", "hours", "--config", str(path), "--yes")
    assert (nothing.returncode, nothing.stderr.strip()) == (
        2,
        "error: name what to clear: --cursors, --pending, --marks or --locks",
    )


def test_clear_lists_the_pending_keys_says_what_it_gives_up_then_clears(config):
    path, ledger_file = config
    _lock(ledger_file, timedelta(minutes=5))  # expired long ago
    cleared = state(
        "clear", "hours", "--config", str(path), "--pending", "--locks", "--marks", "--yes"
    )
    assert (cleared.returncode, cleared.stderr) == (0, "")
    assert cleared.stdout.splitlines() == [
        "acme / hours: to clear",
        "pending writes: 2",
        "  hour 9001",
        "  hour 9002",
        "A pending write is a write that was sent (or about to be) whose outcome is not known. "
        "The next run looks each one up in the target before sending it again: that is what "
        "makes it exactly once. Clearing one gives that up for its record: the next run may "
        "send it again and the target may then hold it twice. Look each key up in the target "
        "first.",
        "owed export marks: 1; the source is not told these records were exported",
        "  9000",
        "run lock: stale (expired), held by pid 4242 on host build-07 since 2026-11-02 08:00:00 "
        "UTC, expires 2026-11-02 08:05:00 UTC",
        "cleared 2 pending writes, 1 owed export marks, the stale run lock",
    ]
    assert state("show", "hours", "--config", str(path)).stdout.splitlines() == [
        *SHOWN[:3],
        "pending writes: none",
        "owed export marks: none",
        "run lock: none",
    ]


def test_on_a_terminal_clear_asks_and_no_keeps_everything(config):
    path, _ = config
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"n\n")
        asked = subprocess.run(
            [FJORDSYNC, "state", "clear", "hours", "--config", str(path), "--cursors"],
            stdin=terminal,
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200", **ENV},
            timeout=60,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert asked.returncode == 1
    assert asked.stdout.splitlines() == [
        "acme / hours: to clear",
        "cursors: 1 (modified_since); the next run reads its whole window again",
        "Clear these? [y/N]: nothing cleared",
    ]
    assert state("show", "hours", "--config", str(path)).stdout.splitlines()[1] == "cursors: 1"


def complete(words: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash completion offers for the last of ``words`` (typer's completion protocol)."""
    done = subprocess.run(
        [FJORDSYNC],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            **(env or {}),
            "_FJORDSYNC_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        },
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_flow_and_tenant_names_complete_from_the_config(config):
    path, _ = config
    assert complete(f"fjordsync state show --config {path} ") == ["hours", "projects"]
    assert complete("fjordsync state clear p", {"FJORDSYNC_CONFIG": str(path)}) == ["projects"]
    assert complete(f"fjordsync state show hours -c {path} --tenant ") == ["acme"]
    assert complete("fjordsync state show ") == []  # no config named: nothing to offer
