"""When scheduled runs are due: days of the week and a time of day in a time zone.

Pure and DST-correct: times are wall-clock times in the schedule's zone, turned into UTC day by
day, so "06:30 Europe/Oslo" is 05:30 UTC in winter and 04:30 UTC in summer. A wall-clock time
that does not exist on a spring-forward day (02:30 when clocks jump from 02:00 to 03:00) runs as
far after the jump as it was into the gap (03:30), as the wall clock would read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["FIRST_RUN_DELAY", "WEEKDAYS", "first_run", "next_run"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Seed 001: a newly enabled schedule is queued for shortly after 06:00 CET the next day.
FIRST_RUN_ZONE = ZoneInfo("Europe/Oslo")
FIRST_RUN_TIME = time(6, 0)
FIRST_RUN_DELAY = timedelta(minutes=5)


def _at(day: datetime, clock: time, zone: ZoneInfo) -> datetime:
    # fold=0 puts a time in the spring-forward gap after the jump, by as much as it was into it.
    return datetime.combine(day.date(), clock, tzinfo=zone).astimezone(UTC)


def next_run(days: Iterable[str], clock: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first scheduled moment strictly after ``after`` (aware), in UTC."""
    if after.tzinfo is None:
        raise ValueError("after must carry a time zone")
    wanted = {WEEKDAYS.index(day) for day in days}
    local_after = after.astimezone(zone)
    for offset in range(0, 8):
        day = local_after + timedelta(days=offset)
        if day.weekday() not in wanted:
            continue
        moment = _at(day, clock, zone)
        if moment > after:
            return moment
    raise ValueError("a schedule needs at least one day")  # pragma: no cover


def first_run(enabled_at: datetime) -> datetime:
    """When a schedule enabled at ``enabled_at`` first runs: shortly after 06:00 CET the
    following day (seed 001), whatever its own days and time."""
    local = enabled_at.astimezone(FIRST_RUN_ZONE) + timedelta(days=1)
    return _at(local, FIRST_RUN_TIME, FIRST_RUN_ZONE) + FIRST_RUN_DELAY
