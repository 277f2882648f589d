"""The 24SevenOffice hourly request budget holds across runs on one machine without a server: a
run that spends it stops cleanly and says when the work goes on; the next run started in the
same hour sends nothing (the vendor would quarantine the login) and says the same."""

from __future__ import annotations

import json
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from fjordsync_smartdok.sandbox import SmartDokSandbox
from fjordsync_twentyfourseven.sandbox import DEFAULT_IDENTITIES, TwentyFourSevenSandbox

from .conftest import erp_and_smartdok_config, erp_smartdok_env
from .test_flow_hours import erp_state, fjordsync_hours, smartdok_state

BUDGET = 60
HOURS = 100  # each a SaveHour: far more than the hour's budget


@pytest.fixture
def same_clock_hour():
    """The sandbox counts per clock hour, as the service: both runs must fall in one."""
    now = datetime.now(UTC)
    left = (now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1) - now).seconds
    if left < 120:
        time.sleep(left + 1)
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def systems(tmp_path):
    erp = TwentyFourSevenSandbox(erp_state(), requests_per_hour=BUDGET).start()
    sd = SmartDokSandbox(smartdok_state(HOURS)).start()
    identity = f'identity_id = "{DEFAULT_IDENTITIES[0]["Id"]}"'
    config = tmp_path / "fjordsync.toml"
    text = erp_and_smartdok_config(erp.url, sd.url, ledger=tmp_path / "ledger.db")
    assert identity in text
    config.write_text(
        text.replace(identity, f"{identity}\nrequests_per_hour = {BUDGET}")
        + textwrap.dedent("""
        [tenants.acme.flows.hours]
        source = "time"
        target = "erp"
        """),
        encoding="utf-8",
    )
    yield erp, config
    erp.stop()
    sd.stop()


def run_hours(config, state):
    result = fjordsync_hours(config, env={**erp_smartdok_env(), "XDG_STATE_HOME": str(state)})
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def used(erp):
    return sum(erp.usage.values())


@pytest.fixture
def two_runs(systems, tmp_path, same_clock_hour):
    """Run 1 until the budget is spent, then run 2 in the same hour, on the same machine (one
    state directory); what the sandbox counted after each."""
    erp, config = systems
    state = tmp_path / "state"
    first = run_hours(config, state)
    after_first = (
        used(erp),
        dict(erp.requests),
        Counter(h["InternalNote"] for h in erp.state["Hour"]),
    )
    second = run_hours(config, state)
    after_second = (
        used(erp),
        dict(erp.requests),
        Counter(h["InternalNote"] for h in erp.state["Hour"]),
    )
    expected = (
        f"the budget of {BUDGET} requests an hour is spent; the rest of the work goes on after "
        f"{same_clock_hour + timedelta(hours=1):%H:%M} UTC"
    )
    return expected, (first, after_first), (second, after_second)


def test_a_second_run_in_the_same_hour_sends_nothing_and_says_when_it_goes_on(two_runs):
    expected, ((code, first, stderr), (spent, _, written)), (second_run, after_second) = two_runs
    assert code == 1, stderr
    assert first["status"] == "partial"
    assert expected in json.dumps(first)
    assert BUDGET * 0.95 <= spent <= BUDGET  # never over it: never quarantined
    assert written and set(written.values()) == {1}  # each hour written once
    _, second, stderr = second_run
    assert expected in json.dumps(second), stderr
    # Not even a Login: the sandbox counted nothing more, and nothing more was written.
    assert after_second == (spent, two_runs[1][1][1], written)
    assert "Limit exceeded" not in json.dumps(first) + json.dumps(second)


def test_a_second_run_in_the_same_hour_exits_as_deferred_work(two_runs):
    expected, _, ((code, second, stderr), _) = two_runs
    assert code == 1, (stderr, second)
    assert (second["status"], second["counts"], second["items"]) == ("partial", {}, [])
    assert second["notes"] == [f"24SevenOffice Authenticate.Login: {expected}"]
