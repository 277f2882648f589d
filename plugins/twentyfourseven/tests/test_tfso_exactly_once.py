"""Writing 500 hours with 30% of SaveHour answers lost leaves exactly 500 hours."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tfso_fixtures import small_company, soap_settings

from fjordsync.domain.model import TimeEntry
from fjordsync.testing.sandbox import FaultSpec
from fjordsync_twentyfourseven.adapter import TwentyFourSevenAdapter
from fjordsync_twentyfourseven.client import SoapClient
from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox


def hours(count):
    first = date(2026, 9, 1)
    for n in range(count):
        day = first + timedelta(days=n % 60)
        start = datetime(day.year, day.month, day.day, 5 + n % 3, tzinfo=UTC)
        yield TimeEntry(
            key=f"sd-{n}",
            employee_key=("2001", "2002")[n % 2],
            project_key=("1001", "1002")[n % 2],
            day=day,
            hours=Decimal("7.5"),
            work_type_code="10",
            salary_type_code="100",
            start=start,
            stop=start + timedelta(hours=8),
            comment=f"Time {n}",
        )


def test_500_hours_exactly_once_with_30_percent_of_answers_lost():
    with TwentyFourSevenSandbox(small_company(), FaultSpec(lost=0.3, seed=21)) as sandbox:
        adapter = TwentyFourSevenAdapter(SoapClient(**soap_settings(sandbox.url)))

        async def write_all():
            try:
                return await asyncio.gather(
                    *(
                        adapter.save_time_entry(entry, f"fjordsync:{entry.key}")
                        for entry in hours(500)
                    )
                )
            finally:
                await adapter.aclose()

        ids = asyncio.run(write_all())
        saved = sandbox.state["Hour"]
        assert len(saved) == 500
        assert sorted(h["InternalNote"] for h in saved) == sorted(
            f"fjordsync:sd-{n}" for n in range(500)
        )
        assert sorted(ids) == sorted(str(h["Id"]) for h in saved)
        assert sandbox.writes["SOAP TimeService.SaveHour"] == 500
        # every lost answer was looked up by its marker, found, and not sent again
        assert sandbox.requests["SOAP TimeService.SaveHour"] == 500
        assert 100 < sandbox.requests["SOAP TimeService.GetHours"] < 200
