"""Hypothesis strategies for fjordsync's domain, for the core's tests and plugin authors' own.

Needs the ``testing`` extra (``pip install fjordsync[testing]``).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from stdnum.no import fodselsnummer, kontonr

from fjordsync.domain.codes import PayoutPeriod
from fjordsync.domain.diff import FieldSpec, Record
from fjordsync.domain.model import Compensation
from fjordsync.domain.values import DateRange

__all__ = [
    "compensations",
    "date_ranges",
    "field_specs",
    "fodselsnummer_values",
    "keys",
    "kontonummer_values",
    "record_sets",
    "records",
]

FIELD_NAMES = ("name", "email", "active", "start", "rate", "city", "note")
field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text("abcæøå ", max_size=4),
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False),
)
# Keys as systems give them: digits, letters, stray spaces (SmartDok keeps trailing spaces).
keys = st.builds(
    lambda core, pad: core + pad,
    st.text("0123456789AB", min_size=1, max_size=3),
    st.sampled_from(["", " ", "  "]),
)


@st.composite
def records(draw: st.DrawFn, key: st.SearchStrategy[str] = keys) -> Record:
    names = draw(st.sets(st.sampled_from(FIELD_NAMES), min_size=1))
    fields = {name: draw(field_values) for name in sorted(names)}
    return Record(draw(key), fields, target_key=draw(st.none() | st.text("xyz", min_size=1)))


@st.composite
def record_sets(draw: st.DrawFn, unique: bool = False) -> list[Record]:
    """A list of records; with ``unique`` no two share a (trimmed) key."""
    items = draw(st.lists(records(), max_size=8))
    if unique:
        seen: dict[str, Record] = {}
        for item in items:
            seen.setdefault(item.key.strip(), item)
        items = list(seen.values())
    return items


field_specs = st.builds(
    FieldSpec,
    owned=st.sets(st.sampled_from(FIELD_NAMES), min_size=1),
    create_only=st.sets(st.sampled_from(FIELD_NAMES)),
    compare_create_only=st.booleans(),
)


@st.composite
def fodselsnummer_values(draw: st.DrawFn, d_number: bool = False) -> str:
    """Valid fødselsnummer (or D-number) strings for people born 1900-1999."""
    born = draw(st.dates(date(1900, 1, 1), date(1999, 12, 31)))
    day = born.day + (40 if d_number else 0)
    while True:
        individual = draw(st.integers(0, 499))
        stem = f"{day:02d}{born.month:02d}{born.year % 100:02d}{individual:03d}"
        # A remainder of 10 gives no check digit: such stems are never issued.
        first = fodselsnummer.calc_check_digit1(stem)
        if len(first) != 1:
            continue
        second = fodselsnummer.calc_check_digit2(stem + first)
        if len(second) == 1:
            return stem + first + second


@st.composite
def kontonummer_values(draw: st.DrawFn) -> str:
    """Valid Norwegian kontonummer strings (MOD11)."""
    stem = draw(st.integers(min_value=1_000_000, max_value=9_999_999_989))
    # At most one check digit makes a stem valid, and about one stem in eleven has none:
    # the next stems up always include one that has.
    for candidate in range(stem, stem + 11):
        for digit in "0123456789":
            if kontonr.is_valid(f"{candidate:010d}{digit}"):
                return f"{candidate:010d}{digit}"
    raise AssertionError("no valid kontonummer near the drawn stem")  # pragma: no cover


@st.composite
def date_ranges(draw: st.DrawFn, open_ended: bool = True) -> DateRange:
    start = draw(st.dates(date(2000, 1, 1), date(2035, 12, 31)))
    if open_ended and draw(st.booleans()):
        return DateRange(start)
    return DateRange(start, start + timedelta(days=draw(st.integers(0, 400))))


compensations = st.builds(
    Compensation,
    employee_key=st.just("1001"),
    effective_date=st.dates(date(2015, 1, 1), date(2030, 12, 31)),
    payout_period=st.sampled_from(list(PayoutPeriod)),
    amount=st.decimals(min_value=0, max_value=Decimal("5000000"), places=2),
    key=st.none(),
)
