"""Business rules of docs/flows.md, each stated once.

Every function is pure: the clock, the tenant's mapping tables and the time zone come in as
arguments. Failures are ``InvalidValue`` naming the field, so a flow can turn them into an
``invalid`` plan item that a payroll clerk understands.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import holidays

from fjordsync.domain.codes import PayoutPeriod, SalaryType
from fjordsync.domain.model import Compensation, Salary
from fjordsync.domain.values import DateRange, Email
from fjordsync.errors import InvalidValue

__all__ = [
    "NORWAY",
    "Salary",
    "carriable_text",
    "clock_time_problem",
    "contact_email",
    "current_compensation",
    "local_to_utc",
    "norwegian_working_days",
    "payroll_salary",
    "truncate",
]

NORWAY = ZoneInfo("Europe/Oslo")
CENT = Decimal("0.01")


def current_compensation(compensations: Iterable[Compensation]) -> Compensation | None:
    """The compensation with the latest ``effective_date`` (seed 001).

    Two different rows taking effect on the same latest date cannot be told apart: that is an
    error for a person to resolve, never a guess.
    """
    rows = list(compensations)
    if not rows:
        return None
    latest = max(row.effective_date for row in rows)
    candidates = {(row.payout_period, row.amount) for row in rows if row.effective_date == latest}
    if len(candidates) > 1:
        raise InvalidValue(
            "compensation.effectiveDate",
            "two different compensations take effect on the same latest date",
        )
    return next(row for row in rows if row.effective_date == latest)


def contact_email(work: Email | None, private: Email | None) -> Email | None:
    """The work e-mail, else the private one (seed 001)."""
    return work or private


_MONTHLY_DIVISOR = {PayoutPeriod.ANNUAL: Decimal(12), PayoutPeriod.QUARTERLY: Decimal(3)}


def payroll_salary(compensation: Compensation, source: str = "the source") -> Salary:
    """docs/flows.md flow 4: MONTHLY -> monthly, HOURLY -> hourly, ANNUAL/QUARTERLY -> monthly with
    the amount divided by 12 or 3 (two decimals, half up); other periods cannot be expressed.
    A salary of zero or less is not a salary payroll can pay: invalid, never dropped in favour
    of an older one. ``source`` names the system the compensations are corrected in."""
    period = compensation.payout_period
    if compensation.amount <= 0:
        raise InvalidValue(
            "compensation.amount",
            "is not more than 0: the current salary cannot be known; correct the latest "
            f"compensation in {source}",
        )
    if period is PayoutPeriod.MONTHLY:
        return Salary(
            SalaryType.MONTHLY,
            compensation.amount.quantize(CENT, ROUND_HALF_UP),
            compensation.effective_date,
        )
    if period is PayoutPeriod.HOURLY:
        return Salary(
            SalaryType.HOURLY,
            compensation.amount.quantize(CENT, ROUND_HALF_UP),
            compensation.effective_date,
        )
    if period in _MONTHLY_DIVISOR:
        monthly = (compensation.amount / _MONTHLY_DIVISOR[period]).quantize(CENT, ROUND_HALF_UP)
        return Salary(SalaryType.MONTHLY, monthly, compensation.effective_date, period)
    raise InvalidValue(
        "compensation.payoutPeriod",
        f"{period.value} pay cannot be expressed in payroll, which takes monthly or hourly "
        f"salaries: change the compensation's payout period in {source}",
    )


def norwegian_working_days(period: DateRange) -> int:
    """Working days (Monday to Friday, less Norwegian public holidays) in a closed period."""
    if period.end is None:
        raise InvalidValue("period", "is open-ended")
    years = range(period.start.year, period.end.year + 1)
    public_holidays = holidays.country_holidays("NO", years=years)
    count = 0
    day = period.start
    while day <= period.end:
        if day.weekday() < 5 and day not in public_holidays:
            count += 1
        day += timedelta(days=1)
    return count


def local_to_utc(day: date, clock_time: time, zone: ZoneInfo = NORWAY) -> datetime:
    """A wall-clock time on a day in ``zone`` (default Norway) as an aware UTC datetime."""
    return datetime.combine(day, clock_time, tzinfo=zone).astimezone(UTC)


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit], True


def _forbidden_in_xml(character: str) -> bool:
    point = ord(character)
    return (
        (point < 0x20 and character not in "\t\n\r")
        or 0xD800 <= point <= 0xDFFF
        or point in (0xFFFE, 0xFFFF)
    )


def _not_in_utf8(character: str) -> bool:
    return 0xD800 <= ord(character) <= 0xDFFF


def carriable_text(text: str, *, json: bool = False) -> tuple[str, int]:
    """``text`` without the characters the target cannot carry, and how many were removed.

    The one rule for free text (comments, names, address lines) sent to a target: what its
    wire format cannot carry is removed, because the target refuses (or the client cannot even
    encode) the whole request for one such character, and the rest of the text is still worth
    sending. XML 1.0 (SOAP and SmartDok targets, the default) cannot carry C0 control
    characters other than tab, line feed and carriage return, lone surrogates (U+D800-U+DFFF)
    and U+FFFE/U+FFFF. JSON sent as UTF-8 (``json=True``, payroll) carries every character
    except lone surrogates, so only those go: a control character arrives as it is. Nothing
    else is changed; the caller reports the count (never the text) on the record's item.
    Identifiers (e-mail addresses) are never cleaned this way: without the character they
    would be another address, so the caller makes the record invalid instead.
    """
    forbidden = _not_in_utf8 if json else _forbidden_in_xml
    kept = "".join(character for character in text if not forbidden(character))
    return kept, len(text) - len(kept)


def clock_time_problem(
    day: date, start: datetime | None, stop: datetime | None, zone: ZoneInfo = NORWAY
) -> str | None:
    """Why an entry's clock times cannot be the times of its day, or None when they can.

    Clock times are wall-clock times of the entry's day (in Norway): from 00:00 to 24:00 of that
    day, stop not before start. A time outside the day (a source's "30.0" hours) is not moved
    into it: that would be a guess, so the entry is invalid.
    """
    day_start = datetime.combine(day, time(0), tzinfo=zone)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    for name, moment in (("start", start), ("stop", stop)):
        if moment is not None and not day_start <= moment <= day_end:
            return f"time_entry.{name}: the clock time is not within the entry's day (00-24)"
    if start is not None and stop is not None and stop < start:
        return "time_entry.stop: is before the start"
    return None
