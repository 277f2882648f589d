"""What AlexisHR's data means, as docs/flows.md flows 4 and 5 read it: the names of its leave
types (seed 001), its employment note "profession:reason", its employment type names and the
chain that resolves a company's leave type to a payroll absence code. It lived in the core's
domain; it is AlexisHR's knowledge, so it is here, beside the mapping that uses it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from fjordsync.domain.codes import (
    ABSENCE_TYPES,
    AbsenceCode,
    EmploymentForm,
    EndDateReason,
    LeaveKind,
)
from fjordsync.errors import InvalidValue

__all__ = [
    "LEAVE_TYPE_NAMES",
    "EmploymentNote",
    "employment_form_from_type_name",
    "parse_employment_note",
    "resolve_absence_code",
]

# How seed 001 names the AlexisHR leave type of each payroll absence code.
LEAVE_TYPE_NAMES: dict[AbsenceCode, str] = {
    AbsenceCode("01"): "Sick leave",
    AbsenceCode("02"): "Care of sick child",
    AbsenceCode("03"): "Self-certified sick leave",
    AbsenceCode("04"): "Vacation",
    AbsenceCode("05"): "Off duty",
    AbsenceCode("06"): "Parental leave",
    AbsenceCode("07"): "Military service",
    AbsenceCode("10"): "Educational leave statutory",
    AbsenceCode("11"): "Educational leave non statutory",
    AbsenceCode("12"): "Other leaves statutory",
    AbsenceCode("13"): "Other leaves non statutory",
    AbsenceCode("14"): "Palliative care benefit",
    AbsenceCode("15"): "Care benefit sick child",
    AbsenceCode("16"): "Childcare sickness days",
    AbsenceCode("17"): "Training benefit",
    AbsenceCode("18"): "Pregnancy benefit",
    AbsenceCode("19"): "Maternity leave parental benefit",
    AbsenceCode("20"): "Care leave",
    AbsenceCode("21"): "Other absences",
}


@dataclass(frozen=True, slots=True)
class EmploymentNote:
    """What an Alexis employment note "profession:reason" carries."""

    profession_code: str | None
    end_reason: EndDateReason | None
    reason_text: str | None  # the text after the colon, when it named no known reason


def parse_employment_note(note: str | None, end_date: date | None) -> EmploymentNote:
    """Split an employment note "0111101:7" into profession code and end-date reason.

    The text before the colon is the profession code (all of it when there is no colon). The
    text after it is a reason 1..6. An unknown reason is an error only when the employment has an
    end date, because payroll requires a reason with an end date; otherwise it is ignored.
    An end date with no reason at all is the same error.
    """
    text = (note or "").strip()
    code, _, reason_text = text.partition(":")
    profession = code.strip() or None
    reason_text = reason_text.strip()
    reason = EndDateReason.from_note_code(reason_text) if reason_text else None
    if end_date is not None and reason is None:
        problem = (
            f"reason {reason_text!r} after the colon is not one of 1..6"
            if reason_text
            else 'has no end-date reason after a colon (e.g. "0111101:3")'
        )
        raise InvalidValue(
            "employment.note",
            f"{problem}; payroll requires a reason when the employment has an end date",
        )
    unknown_reason = reason_text if reason_text and reason is None else None
    return EmploymentNote(profession, reason, unknown_reason)


def employment_form_from_type_name(type_name: str | None) -> EmploymentForm:
    """A type whose name contains "temporary" (any case) is temporary, else permanent."""
    if type_name and "temporary" in type_name.casefold():
        return EmploymentForm.TEMPORARY
    return EmploymentForm.PERMANENT


_CODES_BY_NAME = {name.casefold(): code for code, name in LEAVE_TYPE_NAMES.items()}
_CODES_BY_NAME.update({t.payroll_name.casefold(): code for code, t in ABSENCE_TYPES.items()})
_CODES_BY_KIND = {
    LeaveKind.SICK_LEAVE: AbsenceCode.SICK_LEAVE,
    LeaveKind.CHILDCARE: AbsenceCode.SICK_CHILD,
    LeaveKind.VACATION: AbsenceCode.VACATION,
    LeaveKind.OFF_DUTY: AbsenceCode.LAY_OFF,
    LeaveKind.PARENTAL_LEAVE: AbsenceCode.PARENTAL_BENEFIT,
}


def _as_code(text: str | None) -> AbsenceCode | None:
    cleaned = (text or "").strip()
    if cleaned.isdigit() and len(cleaned) <= 2:
        cleaned = cleaned.zfill(2)
    try:
        return AbsenceCode(cleaned)
    except ValueError:
        return None


def resolve_absence_code(
    *,
    type_id: str,
    name: str,
    user_code: str | None,
    kind: LeaveKind | None,
    tenant_mapping: Mapping[str, str] | None = None,
) -> AbsenceCode:
    """The payroll code of a company's leave type, by docs/flows.md flow 5's chain:
    the tenant's mapping (by type id, then name), the user-given code, the name, the kind.
    A type that resolves to nothing is an error, never a guess. The kind is not used for a
    type whose user-given code is not a payroll code (see below)."""
    mapping = {str(k).strip().casefold(): v for k, v in (tenant_mapping or {}).items()}
    for lookup in (type_id, name):
        mapped = mapping.get(str(lookup).strip().casefold())
        if mapped is not None:
            code = _as_code(mapped)
            if code is None:
                raise InvalidValue(
                    "mapping.absence_types",
                    f"maps leave type {name!r} to {mapped!r}, which is not a payroll absence code",
                )
            return code
    code = _as_code(user_code) or _CODES_BY_NAME.get(name.strip().casefold())
    if code is not None:
        return code
    if user_code and user_code.strip():
        # The company coded this type deliberately, with a code payroll does not know: falling
        # back to the coarse kind would override that choice, so a person must map it.
        raise InvalidValue(
            "leave.type",
            f"leave type {name!r} has code {user_code.strip()!r}, which is not a payroll absence "
            "code: add the type to the flow's mapping",
        )
    if kind is not None and kind in _CODES_BY_KIND:
        return _CODES_BY_KIND[kind]
    raise InvalidValue(
        "leave.type",
        f"leave type {name!r} has no payroll absence code: add it to the flow's mapping",
    )
