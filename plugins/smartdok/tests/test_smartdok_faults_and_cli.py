"""Reading 20,000 hours gives the same records with and without faults; the generated company;
the sandbox as `fjordsync sandbox` serves it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest
from smartdok_fixtures import FAST_RETRIES

from fjordsync.domain.values import DateRange
from fjordsync.ports import Query
from fjordsync.testing.company import SALARY_TYPES, WORK_TYPES
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_smartdok.adapter import SmartDokAdapter
from fjordsync_smartdok.client import SmartDokClient
from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN, SmartDokSandbox, generate

TODAY = date(2026, 11, 24)
FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")


@pytest.fixture(scope="module")
def twenty_thousand_hours():
    state = generate(employees=210, seed=11, today=TODAY, months=5)
    state["WorkHours"] = state["WorkHours"][:20_000]
    for hour in state["WorkHours"]:
        hour["AdminAttested"] = True  # all 20,000 are read
    assert len(state["WorkHours"]) == 20_000
    return state


def read_hours(state, faults):
    with SmartDokSandbox(state, FaultSpec.parse(faults)) as server:
        adapter = SmartDokAdapter(
            SmartDokClient(server.url, DEFAULT_API_TOKEN, retry=FAST_RETRIES, max_concurrency=8)
        )

        async def run():
            try:
                return await adapter.read_time_entries(
                    Query(period=DateRange(date(2026, 6, 1), TODAY))
                )
            finally:
                await adapter.aclose()

        return asyncio.run(run()), adapter.client.requests


def test_20000_hours_are_the_same_under_20_percent_faults(twenty_thousand_hours):
    clean, clean_requests = read_hours(twenty_thousand_hours, "")
    faulty, faulty_requests = read_hours(
        twenty_thousand_hours, "5xx=0.1,429=0.1,retry-after=0.05,seed=4"
    )
    assert len(clean) == 20_000
    assert sorted(faulty, key=lambda e: e.key) == sorted(clean, key=lambda e: e.key)
    assert faulty_requests > clean_requests


def test_generated_company():
    state = generate(employees=30, seed=2, today=TODAY)
    assert generate(employees=30, seed=2, today=TODAY) == state
    assert [u["EmployeeNo"] for u in state["Users"]] == [str(2001 + n) for n in range(30)]
    assert any(
        p["ProjectNumber"].endswith(" ")
        for p in generate(employees=60, seed=1, today=TODAY)["Projects"]
    )
    assert [a["Number"] for a in state["WorkDescriptions"]] == [str(w[0]) for w in WORK_TYPES]
    assert [w["Number"] for w in state["Wages"]] == [str(s[0]) for s in SALARY_TYPES]
    hours = state["WorkHours"]
    assert all(date.fromisoformat(h["Date"][:10]).weekday() < 5 for h in hours)
    levels = {(h["ForemanAttested"], h["ProjectAdminAttested"], h["AdminAttested"]) for h in hours}
    assert {
        (True, True, True),
        (True, True, False),
        (True, False, False),
        (False, False, False),
    } <= levels
    assert any(h["Exported"] for h in hours)
    assert any("ø" in h["Comment"] or "å" in h["Comment"] for h in hours)


def test_serve_a_generated_company(tmp_path):
    seed = tmp_path / "smartdok.json"
    subprocess.run(
        [FJORDSYNC, "sandbox", "generate", "smartdok", "--employees", "5", "--out", str(seed)],
        check=True,
        timeout=60,
    )
    server = subprocess.Popen(
        [FJORDSYNC, "sandbox", "serve", "smartdok", "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = json.loads(server.stdout.readline())
        settings = announced["connections"]["smartdok"]
        token = httpx.post(
            f"{settings['base_url']}/Authorize/ApiToken", json={"Token": settings["api_token"]}
        ).json()
        users = httpx.get(
            f"{settings['base_url']}/Users", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert users["TotalCount"] == 5
    finally:
        server.terminate()
        server.wait(timeout=10)
