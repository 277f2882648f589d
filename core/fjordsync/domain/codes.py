"""Canonical code lists named in docs/flows.md, with the values the vendors use for them.

Enum values are the vendors' own spellings where one vendor owns the code (payroll's
``employment_form``, ``enddate_reason``, ``salary_type``; Alexis' ``payoutPeriod``, leave
``status`` and ``kind``), so a mapping is a lookup, not a translation table kept elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ABSENCE_TYPES",
    "AbsenceCategory",
    "AbsenceCode",
    "AbsenceType",
    "EmploymentForm",
    "EmploymentKind",
    "EndDateReason",
    "LeaveKind",
    "LeaveStatus",
    "PayoutPeriod",
    "SalaryType",
    "WorkingTimes",
]


class AbsenceCategory(StrEnum):
    """Payroll's coarse grouping of absence codes (``GET /absencetypes/v2``)."""

    SICKNESS = "sickness"
    SICK_CHILD = "sick_child"
    SELF_REPORT = "self_report"
    VACATION = "vacation"
    LEAVE_OF_ABSENCE = "leave_of_absence"


class AbsenceCode(StrEnum):
    """Payroll absence codes 01..21 (seed 001; there is no 08 or 09)."""

    SICK_LEAVE = "01"
    SICK_CHILD = "02"
    SELF_CERTIFIED_SICK_LEAVE = "03"
    VACATION = "04"
    LAY_OFF = "05"
    PARENTAL_BENEFIT = "06"
    MILITARY_SERVICE = "07"
    EDUCATIONAL_LEAVE_STATUTORY = "10"
    EDUCATIONAL_LEAVE_NON_STATUTORY = "11"
    OTHER_LEAVE_STATUTORY = "12"
    OTHER_LEAVE_NON_STATUTORY = "13"
    PALLIATIVE_CARE_BENEFIT = "14"
    CARE_BENEFIT_SICK_CHILD = "15"
    CHILDCARE_SICKNESS_DAYS = "16"
    TRAINING_BENEFIT = "17"
    PREGNANCY_BENEFIT = "18"
    MATERNITY_LEAVE = "19"
    CARE_LEAVE = "20"
    OTHER_ABSENCE = "21"

    @property
    def type(self) -> AbsenceType:
        return ABSENCE_TYPES[self]


@dataclass(frozen=True, slots=True)
class AbsenceType:
    code: AbsenceCode
    payroll_name: str  # as payroll names it
    category: AbsenceCategory


_C = AbsenceCategory
_ABSENCE_ROWS = [
    ("01", "Sykmelding", _C.SICKNESS),
    ("02", "Sykt barn", _C.SICK_CHILD),
    ("03", "Egenmelding", _C.SELF_REPORT),
    ("04", "Ferie", _C.VACATION),
    ("05", "Permittering", _C.LEAVE_OF_ABSENCE),
    ("06", "Foreldrepenger", _C.LEAVE_OF_ABSENCE),
    ("07", "Militærtjeneste", _C.LEAVE_OF_ABSENCE),
    ("10", "Utdanningspermisjon - lovfestet", _C.LEAVE_OF_ABSENCE),
    ("11", "Utdanningspermisjon - ikke lovfestet", _C.LEAVE_OF_ABSENCE),
    ("12", "Andre permisjoner - lovfestet", _C.LEAVE_OF_ABSENCE),
    ("13", "Andre permisjoner - ikke lovfestet", _C.LEAVE_OF_ABSENCE),
    ("14", "Pleiepenger livets siste faser", _C.LEAVE_OF_ABSENCE),
    ("15", "Pleiepenger sykt barn", _C.LEAVE_OF_ABSENCE),
    ("16", "Omsorgspenger (sykt barn dager)", _C.LEAVE_OF_ABSENCE),
    ("17", "Opplæringspenger", _C.LEAVE_OF_ABSENCE),
    ("18", "Svangerskapspenger", _C.LEAVE_OF_ABSENCE),
    ("19", "Svangerskapspermisjon (foreldrepenger)", _C.LEAVE_OF_ABSENCE),
    ("20", "Omsorgspermisjon", _C.LEAVE_OF_ABSENCE),
    ("21", "Annet fravær", _C.LEAVE_OF_ABSENCE),
]
ABSENCE_TYPES: dict[AbsenceCode, AbsenceType] = {
    AbsenceCode(code): AbsenceType(AbsenceCode(code), payroll, category)
    for code, payroll, category in _ABSENCE_ROWS
}


class LeaveKind(StrEnum):
    """Alexis' global leave type ``kind``."""

    SICK_LEAVE = "SICK_LEAVE"
    PARENTAL_LEAVE = "PARENTAL_LEAVE"
    VACATION = "VACATION"
    OFF_DUTY = "OFF_DUTY"
    CHILDCARE = "CHILDCARE"


class LeaveStatus(StrEnum):
    """Alexis leave ``status``. Only APPROVED and CONFIRMED leaves are exported."""

    PENDING = "PENDING"
    DENIED = "DENIED"
    CANCELLED = "CANCELLED"
    APPROVED = "APPROVED"
    CONFIRMED = "CONFIRMED"

    @property
    def is_exportable(self) -> bool:
        return self in (LeaveStatus.APPROVED, LeaveStatus.CONFIRMED)

    @property
    def is_withdrawn(self) -> bool:
        return self in (LeaveStatus.DENIED, LeaveStatus.CANCELLED)


class EmploymentForm(StrEnum):
    """Payroll ``employment_form`` (ansatt type) for Norwegian clients."""

    PERMANENT = "fast"
    PERMANENT_LEASED = "fastAnsattUtleid"
    TEMPORARY = "midlertidig"
    TEMPORARY_LEASED = "midlertidigAnsattUtleid"
    TEMPORARY_ON_CALL = "midlertidigAnsattSomTilkallingsvikar"


class EndDateReason(StrEnum):
    """Payroll ``enddate_reason``; ``EndDateReason.from_note_code("2")`` reads the note's code."""

    NEVER_SHOULD_HAVE_BEEN_REPORTED = "arbeidsforholdetSkulleAldriVaertRapportert"
    DISMISSED_BY_EMPLOYER = "arbeidsgiverHarSagtOppArbeidstaker"
    RESIGNED = "arbeidstakerHarSagtOppSelv"
    CHANGED_PAYROLL_SYSTEM_OR_ACCOUNTANT = "byttetLoenssystemEllerRegnskapsfoerer"
    REORGANISATION_OR_INTERNAL_MOVE = "endringIOrganisasjonsstrukturEllerByttetJobbInternt"
    CONTRACT_EXPIRED = "kontraktEngasjementEllerVikariatErUtloept"

    @classmethod
    def from_note_code(cls, code: str) -> EndDateReason | None:
        """The reason numbered 1..6 in seed 001, or None for any other text."""
        members = list(cls)
        text = code.strip()
        if text.isdigit() and 1 <= int(text) <= len(members):
            return members[int(text) - 1]
        return None


class WorkingTimes(StrEnum):
    """Payroll ``working_times`` (arbeidstidsordning)."""

    NO_SHIFTS = "ikkeSkift"
    OFFSHORE_336 = "offshore336"
    CONTINUOUS_SHIFTS_355 = "doegnkontinuerligSkiftOgTurnus355"
    FULLY_CONTINUOUS_SHIFTS_336 = "helkontinuerligSkiftOgAndreOrdninger336"
    SHIFTS_365 = "skift365"
    OTHER_SHIFTS = "andreSkift"


class EmploymentKind(StrEnum):
    """Payroll ``employment_type`` (arbeidsforhold)."""

    ORDINARY = "ordinaertArbeidsforhold"
    MARITIME = "maritimtArbeidsforhold"
    FREELANCE = "frilanserOppdragstakerHonorarPersonerMm"
    PENSION_WITHOUT_EMPLOYMENT = "pensjonOgAndreTyperYtelserUtenAnsettelsesforhold"


class PayoutPeriod(StrEnum):
    """Alexis compensation ``payoutPeriod``."""

    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    BI_WEEKLY = "BI_WEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    ANNUAL = "ANNUAL"


class SalaryType(StrEnum):
    """Payroll ``salary_type``."""

    MONTHLY = "monthly"
    HOURLY = "hourly"
