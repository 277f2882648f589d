"""Schedules are DST-correct, and a newly enabled one first runs after 06:00 CET next day."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from fjordsync.domain.schedule import WEEKDAYS, first_run, next_run

OSLO = ZoneInfo("Europe/Oslo")


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def test_same_wall_clock_time_across_daylight_saving():
    # Monday 06:30 in Oslo: 05:30 UTC in winter, 04:30 UTC in summer
    assert next_run(["mon"], time(6, 30), OSLO, utc(2026, 3, 20)) == utc(2026, 3, 23, 5, 30)
    assert next_run(["mon"], time(6, 30), OSLO, utc(2026, 3, 27)) == utc(2026, 3, 30, 4, 30)
    assert next_run(["mon"], time(6, 30), OSLO, utc(2026, 10, 23)) == utc(2026, 10, 26, 5, 30)


def test_strictly_after_and_the_next_listed_day():
    assert next_run(["mon", "thu"], time(7), OSLO, utc(2026, 11, 23, 6, 0)) == utc(
        2026, 11, 26, 6, 0
    )  # Monday 07:00 local is 06:00 UTC: already passed -> Thursday
    assert next_run(["mon", "thu"], time(7), OSLO, utc(2026, 11, 23, 5, 59)) == utc(
        2026, 11, 23, 6, 0
    )


def test_a_time_in_the_spring_forward_gap_runs_as_far_after_the_jump():
    # 29 March 2026: clocks in Oslo go from 02:00 to 03:00; 02:30 runs at 03:30 (01:30 UTC)
    assert next_run(["sun"], time(2, 30), OSLO, utc(2026, 3, 28)) == utc(2026, 3, 29, 1, 30)


def test_first_run_is_shortly_after_six_cet_the_next_day():
    assert first_run(utc(2026, 11, 24, 14, 0)) == utc(2026, 11, 25, 5, 5)  # winter: UTC+1
    assert first_run(utc(2026, 6, 10, 23, 30)) == utc(2026, 6, 12, 4, 5)  # 01:30 local on 11th


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    st.sets(st.sampled_from(WEEKDAYS), min_size=1),
    st.times(),
)
def test_next_run_is_after_on_a_listed_day_at_the_wall_clock_time(after, days, clock):
    moment = next_run(sorted(days), clock.replace(microsecond=0), OSLO, after)
    local = moment.astimezone(OSLO)
    assert moment > after
    assert WEEKDAYS[local.weekday()] in days
    assert moment - after <= timedelta(days=8)
